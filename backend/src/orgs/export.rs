//! The org list as a workbook (党组织名册), streamed like the roster (see `crate::exports`).

use actix_web::{HttpResponse, get, web};
use diesel_async::AsyncPgConnection;
use serde::Deserialize;
use utoipa::IntoParams;

use super::OrgListQuery;
use super::queries::{self, ExportFilter, ExportRow};
use crate::auth::{Actor, Scope};
use crate::error::{AppError, AppResult, Problem};
use crate::exports::{self, Cell, Column, Export, ExportColumn, SheetSpec, attachment};
use crate::http::ApiQuery;
use crate::members::export::ColumnsQuery;
use crate::{AppState, db};

pub const COLUMNS: [Column; 10] = [
    Column { key: "code", label: "组织编码", width: 12.0 },
    Column { key: "name", label: "组织名称", width: 28.0 },
    Column { key: "kind", label: "组织类别", width: 10.0 },
    Column { key: "parent_name", label: "上级组织", width: 28.0 },
    Column { key: "founded_on", label: "成立日期", width: 12.0 },
    Column { key: "dissolved_on", label: "撤销日期", width: 12.0 },
    Column { key: "term_start", label: "届期开始", width: 12.0 },
    Column { key: "term_end", label: "届期结束", width: 12.0 },
    Column { key: "members", label: "党员数", width: 8.0 },
    Column { key: "external_id", label: "外部编号", width: 14.0 },
];

/// Where the export starts; the list's filters ([`OrgListQuery`]) narrow it. Unlike the list,
/// which shows the tops of your scope when nothing narrows it, the export takes the whole scope
/// (or `org_id`'s subtree).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgExportQuery {
    /// The org and its whole subtree (default: your whole scope).
    #[param(example = 3)]
    pub org_id: Option<i64>,
}

/// The columns of the org export, for a column chooser.
#[utoipa::path(
    tag = "orgs",
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses((status = 200, description = "Every column, in the default order", body = Vec<ExportColumn>))
)]
#[get("/orgs/export/columns")]
pub async fn org_export_columns() -> HttpResponse {
    HttpResponse::Ok().json(exports::describe(&COLUMNS))
}

/// Export organizations (党组织名册) as XLSX, in code order, the columns chosen: streamed, the
/// header row in Chinese, dates as date cells, the watermark (who, when, 内部资料) in the page
/// header and footer. Audited (action `export`, entity `org`) when the download ends.
#[utoipa::path(
    tag = "orgs",
    params(OrgExportQuery, OrgListQuery, ColumnsQuery),
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "The workbook, streamed; `Content-Disposition: attachment` with the Chinese file name in `filename*` (RFC 5987)",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>,
            headers(("Content-Disposition" = String, description = "attachment; filename=\"orgs-20261130.xlsx\"; filename*=UTF-8''%E5%85%9A%E7%BB%84%E7%BB%87…"))),
        (status = 403, description = "org_id or parent_id is outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown column (`columns`), or an unknown org", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/orgs/export.xlsx")]
pub async fn export_orgs(
    state: web::Data<AppState>,
    actor: Actor,
    root: ApiQuery<OrgExportQuery>,
    query: ApiQuery<OrgListQuery>,
    columns: ApiQuery<ColumnsQuery>,
) -> AppResult<HttpResponse> {
    let query = query.0;
    let columns = exports::choose(&COLUMNS, columns.columns.as_deref())?;
    let scope = actor.manage_scope();
    let mut conn = db::conn(&state.pool).await?;
    let mut root_name = None;
    for (field, id) in [("org_id", root.org_id), ("parent_id", query.parent_id)] {
        let Some(id) = id else { continue };
        let org = queries::get_row(&mut conn, id).await?.ok_or_else(|| AppError::field(field, "not_found", "no organization has this id", "该组织不存在"))?;
        if !queries::manageable(&mut conn, &scope, id, false).await? {
            return Err(AppError::out_of_scope());
        }
        root_name.get_or_insert(org.name);
    }
    let filter = query.into_export_filter(root.org_id);
    let now = state.config.clock.local_now().fixed_offset();
    let stem = format!("党组织名册-{}-{}", root_name.as_deref().unwrap_or("全部"), now.format("%Y%m%d"));
    let disposition =
        attachment(&format!("{}.xlsx", stem.replace(['/', '\\', ':', '*', '?', '"', '<', '>', '|'], "_")), &format!("orgs-{}.xlsx", now.format("%Y%m%d")));
    let spec = SheetSpec {
        sheet_name: "党组织名册".into(),
        title: format!("{}党组织名册", root_name.as_deref().unwrap_or("")),
        columns: columns.clone(),
        exported_by: actor.username.clone(),
        exported_at: now,
    };
    let (export, body) = Export::start(spec, render);
    let state = state.into_inner();
    actix_web::rt::spawn(async move {
        let fetched = fetch(&mut conn, &scope, &filter, &export).await;
        drop(conn);
        let outcome = match fetched {
            Ok(()) => export.finish().await,
            Err(e) => {
                log::error!("org export by {}: {e}", actor.username);
                export.fail().await
            }
        };
        let entity_id = filter.org_id.or(filter.parent_id);
        exports::audit_outcome(&state, &actor, ("org", entity_id), &filter, &columns, serde_json::Value::Null, &outcome).await;
    });
    Ok(exports::respond(disposition, body))
}

async fn fetch(conn: &mut AsyncPgConnection, scope: &Scope, filter: &ExportFilter, export: &Export<ExportRow>) -> Result<(), AppError> {
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(async |conn| {
            let mut after: Option<String> = None;
            loop {
                let batch = queries::export_page(conn, scope, filter, after.as_deref(), exports::BATCH_ROWS).await?;
                let Some(last) = batch.last() else { break };
                after = Some(last.0.code.clone());
                let full = batch.len() as i64 == exports::BATCH_ROWS;
                if !export.send(batch).await || !full {
                    break;
                }
            }
            Ok::<(), AppError>(())
        })
        .await
}

fn render((org, parent_name, members): ExportRow, cols: &[Column], cells: &mut Vec<Cell>) {
    for c in cols {
        cells.push(match c.key {
            "code" => Cell::Text(org.code.clone()),
            "name" => Cell::Text(org.name.clone()),
            "kind" => Cell::Text(org.kind().zh().into()),
            "parent_name" => Cell::from(parent_name.clone()),
            "founded_on" => Cell::from(org.founded_on),
            "dissolved_on" => Cell::from(org.dissolved_on),
            "term_start" => Cell::from(org.term_start),
            "term_end" => Cell::from(org.term_end),
            "members" => Cell::Number(members as f64),
            "external_id" => Cell::from(org.external_id.clone()),
            _ => Cell::Empty,
        });
    }
}
