//! 支部工作台账: the branch work ledger of one year (docs/domain.md, Organizational life: the year's
//! record of the meetings, the members and their changes), as an XLSX workbook or a printable PDF.
//!
//! - `data`: what the ledger holds, loaded in one read-only snapshot;
//! - `sections`: what it says — titles, facts, tables with their headers and widths, totals,
//!   notes, the watermark — composed once for both formats;
//! - `workbook`: the sections as XLSX sheets (rust_xlsxwriter);
//! - `pdf`: the sections laid out on A4 pages by the neutral [`crate::pdf`] module (krilla, with
//!   a subset of a CJK font from Debian's packages).
//!
//! The branch's development work (发展党员) is not in the platform yet; the ledger says so.

pub mod data;
pub mod pdf;
pub mod sections;
pub mod workbook;

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use chrono::Datelike;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::audit::{self, By};
use crate::auth::Actor;
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiQuery;
use crate::http::{XLSX_TYPE, attachment};
use crate::orgs::queries as orgs_q;
use crate::schema::people;
use crate::{AppState, db};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(org_ledger);
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LedgerFormat {
    /// The workbook (default).
    #[default]
    Xlsx,
    /// The printable PDF.
    Pdf,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LedgerQuery {
    /// The year (1921 to this year); default this year. The current year's ledger counts up to today.
    #[param(example = 2026, minimum = 1921)]
    pub year: Option<i32>,
    /// `xlsx` (default) or `pdf`.
    #[param(inline)]
    pub format: Option<LedgerFormat>,
}

/// The year asked for, checked: 1921 (the Party's founding) to this year.
pub fn check_year(year: Option<i32>, this_year: i32) -> Result<i32, AppError> {
    let year = year.unwrap_or(this_year);
    if year > this_year {
        return Err(AppError::field("year", "in_future", format!("year cannot be after {this_year}"), format!("年度不能晚于 {this_year} 年")));
    }
    if year < 1921 {
        return Err(AppError::field("year", "too_early", "year must be 1921 or later", "年度不能早于 1921 年"));
    }
    Ok(year)
}

/// The name the watermark shows: the account's person, or its user name.
async fn exported_by(conn: &mut AsyncPgConnection, actor: &Actor) -> Result<String, AppError> {
    let Some(pid) = actor.person_id else {
        return Ok(actor.username.clone());
    };
    let name: Option<String> = people::table.find(pid).select(people::name).first(conn).await.optional()?;
    Ok(name.unwrap_or_else(|| actor.username.clone()))
}

/// A file name without characters that file systems refuse.
fn file_safe(s: &str) -> String {
    s.chars().map(|c| if "/\\:*?\"<>|".contains(c) || c.is_control() { '_' } else { c }).collect()
}

/// 支部工作台账: the work ledger of an organization (usually a branch) for one year, as an XLSX
/// workbook (`format=xlsx`, the default) or a printable A4 PDF (`format=pdf`).
///
/// Contents (docs/api.md, 支部工作台账): 封面概况 — the org, the year, the secretary and committee
/// (org_officers in office during the year), member counts at the year end (today for the current
/// year), held meetings per kind and month against those required by the org's meeting rules
/// (its own and its party groups'); 会议记录 — every meeting of the org and its party groups in the
/// year, in date order: time, kind, topic, place, host, recorder, status, due/present, present
/// names, absent names with reasons (病假/事假/公差/其他), minutes, resolutions, votes with counts and
/// outcome, archived or not, addenda; 党员名册 — the members of the org's subtree at the year end
/// (name, gender, category, joined, full membership, status: no ID numbers or phones); 党员变动 —
/// the dated changes of the year from the membership history (admitted, transferred in/out, full
/// membership, status) with the year's totals. Development work is not in the platform yet and is
/// not included.
///
/// Both formats carry the watermark (内部资料 注意保密, who exported it, when) in each page's footer
/// (and across each PDF page). The PDF embeds a subset of a CJK font from Debian's fonts-noto-cjk
/// (or fonts-wqy-microhei, or `DANGJIAN_PDF_FONT`); without one the answer is 503
/// `pdf_font_missing`. Each export is audited (action `export`, entity `ledger`, the org's id).
#[utoipa::path(
    tag = "ledger",
    params(("id" = i64, Path, description = "Org id", example = 12), LedgerQuery),
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "The ledger, as an attachment named 支部工作台账-{org}-{year}.xlsx or .pdf (RFC 5987 filename*)",
            headers(("Content-Disposition" = String, description = "attachment; filename=\"ledger-12-2026.xlsx\"; filename*=UTF-8''%E6%94%AF…")),
            content(
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                (Vec<u8> = "application/pdf"),
            )),
        (status = 400, description = "A parameter of the wrong type (named), e.g. an unknown format", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The org is outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such org", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`year` before 1921 or after this year", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`pdf_font_missing`: no CJK font for the PDF (install fonts-noto-cjk)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/orgs/{id}/ledger")]
pub async fn org_ledger(state: web::Data<AppState>, actor: Actor, id: web::Path<i64>, query: ApiQuery<LedgerQuery>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let today = state.config.clock.today();
    let year = check_year(query.year, today.year())?;
    let format = query.format.unwrap_or_default();
    let mut conn = db::conn(&state.pool).await?;
    let org = orgs_q::get_row(&mut conn, id).await?.ok_or_else(|| AppError::not_found("organization", "组织"))?;
    if !orgs_q::manageable(&mut conn, &actor.manage_scope(), id, false).await? {
        return Err(AppError::out_of_scope());
    }
    // The font before the data: a missing package is answered (503) without loading the year.
    let font = match format {
        LedgerFormat::Pdf => Some(web::block(crate::pdf::configured_font).await.map_err(|e| AppError::internal(format!("ledger font thread: {e}")))??),
        LedgerFormat::Xlsx => None,
    };
    let by = exported_by(&mut conn, &actor).await?;
    let ledger = Arc::new(data::load(&mut conn, &org, year, state.config.clock, by).await?);
    let (ext, content_type) = match format {
        LedgerFormat::Xlsx => ("xlsx", XLSX_TYPE),
        LedgerFormat::Pdf => ("pdf", "application/pdf"),
    };
    // Written on a blocking thread (a PDF shapes and subsets the font), then audited: the entry
    // says the file was produced.
    let written = ledger.clone();
    let bytes = web::block(move || match font {
        None => workbook::write(&written),
        Some(font) => pdf::write(&written, &font),
    })
    .await
    .map_err(|e| AppError::internal(format!("ledger writer thread: {e}")))??;
    audit::record(
        &mut conn,
        By::from(&actor),
        "export",
        "ledger",
        Some(id),
        None::<&()>,
        Some(&serde_json::json!({
            "org_id": id, "year": year, "format": ext, "as_of": ledger.as_of, "generated_at": ledger.generated_at,
            "meetings": ledger.meetings.len(), "members": ledger.members.len(), "changes": ledger.changes.len(),
            "bytes": bytes.len(),
        })),
    )
    .await?;
    drop(conn);
    let file_name = file_safe(&format!("支部工作台账-{}-{year}.{ext}", org.name));
    let ascii = format!("ledger-{id}-{year}.{ext}");
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CONTENT_DISPOSITION, attachment(&file_name, &ascii)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_from_1921_to_this_year() {
        assert_eq!(check_year(None, 2026).ok(), Some(2026));
        assert_eq!(check_year(Some(1921), 2026).ok(), Some(1921));
        assert_eq!(check_year(Some(2027), 2026).err().map(|e| e.fields[0].field.clone()), Some("year".to_string()));
        assert_eq!(check_year(Some(1900), 2026).err().map(|e| e.status.as_u16()), Some(422));
    }
}
