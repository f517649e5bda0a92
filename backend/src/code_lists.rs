//! Code lists (代码表): ethnicity (GB/T 3304), education, degree and job category. They are data,
//! not constants (an institution may adjust them), so forms read them from here and the member
//! rules check values against the same table.

use actix_web::{HttpResponse, get, web};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::schema::code_lists;
use crate::{AppState, db};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_code_lists);
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CodeItem {
    #[schema(example = "01")]
    pub code: String,
    #[schema(example = "汉族")]
    pub name: String,
}

/// Every list in its standard order. A member field takes the `name`.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct CodeLists {
    pub ethnicity: Vec<CodeItem>,
    pub education: Vec<CodeItem>,
    pub degree: Vec<CodeItem>,
    pub job_category: Vec<CodeItem>,
}

pub async fn load(conn: &mut AsyncPgConnection) -> Result<CodeLists, AppError> {
    let rows: Vec<(String, String, String)> = code_lists::table
        .order((code_lists::list, code_lists::sort_order, code_lists::code))
        .select((code_lists::list, code_lists::code, code_lists::name))
        .load(conn)
        .await?;
    let mut lists = CodeLists::default();
    for (list, code, name) in rows {
        let item = CodeItem { code, name };
        match list.as_str() {
            "ethnicity" => lists.ethnicity.push(item),
            "education" => lists.education.push(item),
            "degree" => lists.degree.push(item),
            "job_category" => lists.job_category.push(item),
            _ => {}
        }
    }
    Ok(lists)
}

/// The code lists the member form offers.
#[utoipa::path(
    tag = "code_lists",
    security(("bearer" = ["masses", "member", "branch", "committee", "political_dept"])),
    responses((status = 200, description = "The lists, each in its standard order", body = CodeLists, example = json!({
        "ethnicity": [{"code": "01", "name": "汉族"}, {"code": "02", "name": "蒙古族"}],
        "education": [{"code": "01", "name": "研究生"}, {"code": "02", "name": "大学本科"}],
        "degree": [{"code": "01", "name": "博士"}],
        "job_category": [{"code": "01", "name": "工人"}]
    })))
)]
#[get("/code-lists")]
pub async fn get_code_lists(state: web::Data<AppState>, _actor: Actor) -> AppResult<HttpResponse> {
    let mut conn = db::conn(&state.pool).await?;
    let lists = load(&mut conn).await?;
    // Lists change rarely; a short private cache spares the form a round trip per visit.
    Ok(HttpResponse::Ok().insert_header((actix_web::http::header::CACHE_CONTROL, "private, max-age=300")).json(lists))
}
