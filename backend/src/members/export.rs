//! The roster as a workbook (党员花名册): the list's filters, the columns the caller picks,
//! streamed (see `crate::exports`). ID numbers and phones are masked unless the role may see
//! them (the rule of GET /members/{id}, decided once for the whole export from the requested org
//! and the grants); the export is audited (docs/domain.md, Confidentiality: every read of personal
//! data in bulk is in the audit log, and exports carry who exported them and when).

use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use diesel_async::AsyncPgConnection;
use serde::Deserialize;
use utoipa::IntoParams;

use super::queries::{MemberRow, Reveal, Selection};
use super::types::{Category, Gender, Status};
use super::{MemberListQuery, covered_by};
use crate::auth::{Actor, Role};
use crate::crypto::DataKey;
use crate::error::{AppError, AppResult, Problem};
use crate::exports::{self, Cell, Column, Export, ExportColumn, Outcome, SheetSpec, attachment, yes_no};
use crate::http::ApiQuery;
use crate::orgs::queries as orgs_q;
use crate::{AppState, db};

/// The roster's columns, in the national member information system's order (docs/domain.md, Members).
pub const COLUMNS: [Column; 22] = [
    Column { key: "name", label: "姓名", width: 10.0 },
    Column { key: "gender", label: "性别", width: 6.0 },
    Column { key: "id_number", label: "公民身份号码", width: 21.0 },
    Column { key: "ethnicity", label: "民族", width: 8.0 },
    Column { key: "birth_date", label: "出生日期", width: 12.0 },
    Column { key: "native_place", label: "籍贯", width: 12.0 },
    Column { key: "education", label: "学历", width: 10.0 },
    Column { key: "degree", label: "学位", width: 8.0 },
    Column { key: "job_category", label: "工作岗位", width: 18.0 },
    Column { key: "post", label: "职务", width: 12.0 },
    Column { key: "title", label: "职称", width: 12.0 },
    Column { key: "phone", label: "手机号码", width: 14.0 },
    Column { key: "work_started_on", label: "参加工作日期", width: 13.0 },
    Column { key: "category", label: "人员类别", width: 10.0 },
    Column { key: "org_name", label: "所在党组织", width: 24.0 },
    Column { key: "joined_at", label: "入党日期", width: 12.0 },
    Column { key: "full_member_at", label: "转正日期", width: 12.0 },
    Column { key: "standing_years", label: "党龄", width: 6.0 },
    Column { key: "status", label: "党籍状态", width: 10.0 },
    Column { key: "is_flowing", label: "流动党员", width: 9.0 },
    Column { key: "lost_contact", label: "失联党员", width: 9.0 },
    Column { key: "external_id", label: "外部编号", width: 14.0 },
];

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ColumnsQuery {
    /// Column keys, comma-separated, in the order wanted (default: all; the list is at
    /// `…/export/columns`). An unknown key answers 422 naming `columns`.
    #[param(example = "name,gender,org_name,joined_at,phone")]
    pub columns: Option<String>,
}

/// The columns of the roster export, for a column chooser.
#[utoipa::path(
    tag = "members",
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses((status = 200, description = "Every column, in the default order", body = Vec<ExportColumn>))
)]
#[get("/members/export/columns")]
pub async fn member_export_columns() -> HttpResponse {
    HttpResponse::Ok().json(exports::describe(&COLUMNS))
}

/// Export the roster (党员花名册) as XLSX: the members the list shows for the same filters, in
/// its order, the columns chosen. Streamed (memory stays flat at any size); the header row in
/// Chinese, dates as date cells, the watermark (who, when, 内部资料) in the page header and
/// footer. Citizen ID numbers are shown in full only to committee and political_dept roles
/// over the requested org (or over the whole scope without `org_id`), phones also to branch
/// roles; otherwise masked. Audited (action `export`) when the download ends, with the filters,
/// the columns, what was shown in full and the row count; an aborted download is audited too.
#[utoipa::path(
    tag = "members",
    params(MemberListQuery, ColumnsQuery),
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "The workbook, streamed; `Content-Disposition: attachment` with the Chinese file name in `filename*` (RFC 5987)",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>,
            headers(("Content-Disposition" = String, description = "attachment; filename=\"members-20261130.xlsx\"; filename*=UTF-8''%E5%85%9A%E5%91%98…"))),
        (status = 403, description = "org_id is outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An invalid filter, or an unknown column (`columns`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/members/export.xlsx")]
pub async fn export_members(
    state: web::Data<AppState>,
    actor: Actor,
    query: ApiQuery<MemberListQuery>,
    columns: ApiQuery<ColumnsQuery>,
) -> AppResult<HttpResponse> {
    let filter = query.0.into_filter()?;
    let columns = exports::choose(&COLUMNS, columns.columns.as_deref())?;
    let mut conn = db::conn(&state.pool).await?;
    let org_name = match filter.org_id {
        Some(id) => Some(
            orgs_q::get_row(&mut conn, id).await?.ok_or_else(|| AppError::field("org_id", "not_found", "no organization has this id", "该组织不存在"))?.name,
        ),
        None => None,
    };
    let selection = Selection::new(&mut conn, &actor.scope(), filter).await?;
    let reveal = export_reveal(&mut conn, &actor, selection.filter().org_id).await?;
    let now = state.config.clock.local_now().fixed_offset();
    let stem = format!("党员花名册-{}-{}", org_name.as_deref().unwrap_or("全部"), now.format("%Y%m%d"));
    let disposition = attachment(&format!("{}.xlsx", file_safe(&stem)), &format!("members-{}.xlsx", now.format("%Y%m%d")));
    let spec = SheetSpec {
        sheet_name: "党员花名册".into(),
        title: format!("{}党员花名册", org_name.as_deref().unwrap_or("")),
        columns: columns.clone(),
        exported_by: actor.username.clone(),
        exported_at: now,
    };
    let key = state.config.data_key.clone();
    let today = state.config.clock.today();
    let (export, body) = Export::start(spec, move |row: MemberRow, cols: &[Column], cells: &mut Vec<Cell>| render(row, cols, cells, &key, reveal, today));
    let state = state.into_inner();
    actix_web::rt::spawn(async move {
        let fetched = fetch(&mut conn, &selection, &export).await;
        // The connection goes back now; the download may go on for a while.
        drop(conn);
        let outcome = match fetched {
            Ok(()) => export.finish().await,
            Err(e) => {
                log::error!("member export by {}: {e}", actor.username);
                export.fail().await
            }
        };
        let reveal_json = serde_json::json!({ "id_number": reveal.id_number, "phone": reveal.phone });
        let filter = selection.filter();
        exports::audit_outcome(&state, &actor, ("member", filter.org_id), filter, &columns, reveal_json, &outcome).await;
        if let Outcome::Aborted { reason, .. } = &outcome {
            log::info!("member export by {} ended early: {reason}", actor.username);
        }
    });
    Ok(exports::respond(disposition, body))
}

/// Reads the selection batch by batch in one read-only snapshot (a member moved meanwhile is
/// neither skipped nor read twice), each batch waiting for room in the writer's channel.
async fn fetch(conn: &mut AsyncPgConnection, selection: &Selection, export: &Export<MemberRow>) -> Result<(), AppError> {
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(async |conn| {
            let mut after = None;
            loop {
                let batch = selection.page_after(conn, after, exports::BATCH_ROWS).await?;
                let Some(last) = batch.last() else { break };
                after = Some((last.org_id, last.id));
                let full = batch.len() as i64 == exports::BATCH_ROWS;
                if !export.send(batch).await || !full {
                    break;
                }
            }
            Ok::<(), AppError>(())
        })
        .await
}

/// What the export may show in full, decided once: over the requested org, or over every root
/// of the scope when none is named (the rule of GET /members/{id}). The annotated workbook of an
/// import uses it too (imports::get_annotated).
pub async fn export_reveal(conn: &mut AsyncPgConnection, actor: &Actor, org_id: Option<i64>) -> AppResult<Reveal> {
    Ok(Reveal {
        id_number: covers(conn, actor, &[Role::Committee, Role::PoliticalDept], org_id).await?,
        phone: covers(conn, actor, &[Role::Branch, Role::Committee, Role::PoliticalDept], org_id).await?,
    })
}

async fn covers(conn: &mut AsyncPgConnection, actor: &Actor, roles: &[Role], org_id: Option<i64>) -> AppResult<bool> {
    if let Some(org) = org_id {
        return covered_by(conn, actor, roles, org).await;
    }
    if roles.contains(&Role::PoliticalDept) && actor.grants.iter().any(|g| g.role == Role::PoliticalDept && g.org_id.is_none()) {
        return Ok(true);
    }
    let roots = actor.manage_scope().org_roots;
    if roots.is_empty() {
        return Ok(false);
    }
    for root in roots {
        if !covered_by(conn, actor, roles, root).await? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A file name without characters that file systems refuse.
fn file_safe(s: &str) -> String {
    s.chars().map(|c| if "/\\:*?\"<>|".contains(c) || c.is_control() { '_' } else { c }).collect()
}

fn render(row: MemberRow, cols: &[Column], cells: &mut Vec<Cell>, key: &DataKey, reveal: Reveal, today: NaiveDate) {
    let decrypt = |blob: &Option<Vec<u8>>| blob.as_ref().and_then(|b| key.decrypt(b).ok());
    for c in cols {
        cells.push(match c.key {
            "name" => Cell::Text(row.name.clone()),
            "gender" => Cell::Text(if Gender::parse(&row.gender) == Some(Gender::Female) { "女" } else { "男" }.into()),
            "id_number" => {
                Cell::from(if reveal.id_number { decrypt(&row.id_number_enc).or_else(|| row.id_number_masked.clone()) } else { row.id_number_masked.clone() })
            }
            "ethnicity" => Cell::from(row.ethnicity.clone()),
            "birth_date" => Cell::from(row.birth_date),
            "native_place" => Cell::from(row.native_place.clone()),
            "education" => Cell::from(row.education.clone()),
            "degree" => Cell::from(row.degree.clone()),
            "job_category" => Cell::from(row.job_category.clone()),
            "post" => Cell::from(row.post.clone()),
            "title" => Cell::from(row.title.clone()),
            "phone" => Cell::from(if reveal.phone { decrypt(&row.phone_enc).or_else(|| row.phone_masked.clone()) } else { row.phone_masked.clone() }),
            "work_started_on" => Cell::from(row.work_started_on),
            "category" => Cell::Text(
                match Category::parse(&row.category) {
                    Some(Category::Probationary) => "预备党员",
                    _ => "正式党员",
                }
                .into(),
            ),
            "org_name" => Cell::Text(row.org_name.clone()),
            "joined_at" => Cell::Date(row.joined_at),
            "full_member_at" => Cell::from(row.full_member_at),
            "standing_years" => super::rules::standing_years(row.full_member_at, today).map_or(Cell::Empty, |y| Cell::Number(f64::from(y))),
            "status" => Cell::Text(
                match Status::parse(&row.status) {
                    Some(Status::Suspended) => "停止党籍",
                    Some(Status::Left) => "出党",
                    Some(Status::Deceased) => "死亡",
                    _ => "正常",
                }
                .into(),
            ),
            "is_flowing" => yes_no(row.is_flowing),
            "lost_contact" => yes_no(row.lost_contact),
            "external_id" => Cell::from(row.external_id.clone()),
            _ => Cell::Empty,
        });
    }
}
