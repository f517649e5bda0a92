//! Reports (党内统计报表): the annual and half-year party statistical report as one XLSX
//! workbook or as JSON tables, built from the `stats` queries (docs/domain.md, Party statistics: the
//! annual report 年报 and a half-year report are sets of such tables).
//!
//! The previous date the report compares against is the year end before `as_of`
//! (`as_of` 2026-12-31 → 2025-12-31) for both kinds: a half-year report (as of 30 June) also
//! compares against the start of the year, so that its 增加/减少 are those of the year so far.

pub mod changes;
pub mod tables;
pub mod units;
pub mod workbook;

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::{Datelike, NaiveDate};

use crate::clock::Clock;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use self::changes::Changes;
use self::tables::{Context, Figures, Table, Unit};
use crate::AppState;
use crate::audit::{self, By};
use crate::auth::Actor;
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiJson;
use crate::http::{XLSX_TYPE, attachment};
use crate::schema::people;
use crate::stats::queries as stats_q;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(party_statistics);
}

/// The watermark's fixed part (docs/domain.md, Confidentiality).
pub const CONFIDENTIAL: &str = "内部资料 注意保密";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// 年报
    Annual,
    /// 半年报
    HalfYear,
}

/// What to report on.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"org_id": 1, "as_of": "2026-06-30", "kind": "half_year"}))]
pub struct ReportRequest {
    /// The organization (with its whole subtree). Default: your scope's root when you have one.
    #[schema(example = 1)]
    pub org_id: Option<i64>,
    /// The report date (统计截止日期), not in the future; usually a year end (annual) or 30 June (half year).
    #[schema(value_type = String, format = Date, example = "2026-06-30")]
    pub as_of: NaiveDate,
    pub kind: ReportKind,
}

/// The report as JSON: the same tables as the workbook's sheets.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Report {
    #[schema(example = 1)]
    pub org_id: i64,
    #[schema(example = "机关党委")]
    pub org_name: String,
    #[schema(value_type = String, format = Date, example = "2026-06-30")]
    pub as_of: NaiveDate,
    /// The year end before `as_of`, which 上年底 and the changes are counted from.
    #[schema(value_type = String, format = Date, example = "2025-12-31")]
    pub previous_as_of: NaiveDate,
    pub kind: ReportKind,
    /// Who asked for it: the account's person's name, or the user name.
    #[schema(example = "张三")]
    pub generated_by: String,
    #[schema(value_type = String, format = DateTime, example = "2026-11-30T10:00:00+08:00")]
    pub generated_at: chrono::DateTime<chrono::FixedOffset>,
    pub tables: Vec<Table>,
}

impl Report {
    /// "张三 2026-11-30 10:00 生成"
    pub fn generated_mark(&self) -> String {
        format!("{} {} 生成", self.generated_by, self.generated_at.format("%Y-%m-%d %H:%M"))
    }

    /// "内部资料 注意保密 · 张三 2026-11-30 10:00 生成"
    pub fn watermark(&self) -> String {
        format!("{CONFIDENTIAL} · {}", self.generated_mark())
    }

    /// 年报 or 半年报.
    pub fn kind_zh(&self) -> &'static str {
        match self.kind {
            ReportKind::Annual => "年报",
            ReportKind::HalfYear => "半年报",
        }
    }

    /// "机关党委党内统计年报（2026-12-31）"
    pub fn title(&self) -> String {
        format!("{}党内统计{}（{}）", self.org_name, self.kind_zh(), self.as_of)
    }
}

/// The year end before `as_of`, for both kinds (see the module's comment).
pub fn previous_year_end(as_of: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(as_of.year() - 1, 12, 31).unwrap_or(as_of)
}

enum Format {
    Xlsx,
    Json,
}

/// The workbook unless the client asks for JSON (and not the workbook); neither → 406.
fn negotiate(req: &HttpRequest) -> Result<Format, AppError> {
    let Some(accept) = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()) else { return Ok(Format::Xlsx) };
    let ranges: Vec<&str> = accept
        .split(',')
        .filter(|r| !r.split(';').skip(1).any(|p| p.trim().replace(' ', "") == "q=0"))
        .map(|r| r.split(';').next().unwrap_or("").trim())
        .collect();
    if ranges.iter().any(|r| r.eq_ignore_ascii_case(XLSX_TYPE)) {
        return Ok(Format::Xlsx);
    }
    if ranges.iter().any(|r| r.eq_ignore_ascii_case("application/json")) {
        return Ok(Format::Json);
    }
    if accept.trim().is_empty() || ranges.iter().any(|r| *r == "*/*" || r.eq_ignore_ascii_case("application/*")) {
        return Ok(Format::Xlsx);
    }
    Err(AppError::new(actix_web::http::StatusCode::NOT_ACCEPTABLE, "not_acceptable", "Not acceptable", "不支持的响应格式")
        .with_detail(format!("the report is available as {XLSX_TYPE} or application/json"), "报表可导出为 Excel 工作簿或 JSON"))
}

/// The name the watermark shows: the account's person, or its user name.
async fn generated_by(conn: &mut AsyncPgConnection, actor: &Actor) -> Result<String, AppError> {
    let Some(pid) = actor.person_id else { return Ok(actor.username.clone()) };
    let name: Option<String> = people::table.find(pid).select(people::name).first(conn).await.optional()?;
    Ok(name.unwrap_or_else(|| actor.username.clone()))
}

/// The dimension figures on `as_of`, from the statistics module (its configured band sets).
async fn figures(conn: &mut AsyncPgConnection, org_id: i64, as_of: NaiveDate, today: NaiveDate) -> Result<Figures, AppError> {
    Ok(Figures::from_structure(&stats_q::structure(conn, org_id, as_of, today).await?))
}

/// At most this many unit rows; the units after them (by org code) are folded into one row, so
/// that the sums still hold. Hundreds of rows read well enough in a sheet.
pub const MAX_UNIT_ROWS: usize = 500;

/// What the statements of one snapshot found.
struct Found {
    changes: changes::Breakdown,
    figures: Figures,
    children: Vec<units::Child>,
    by_child: HashMap<i64, Figures>,
}

/// The rows of the tables: the total, then the org's own members (本级) when it holds any,
/// then each direct child (tables.rs says why).
fn rows(org_id: i64, org_name: &str, mut found: Found) -> Vec<Unit> {
    let mut take = |id: i64, label: String| {
        let figures = found.by_child.remove(&id).unwrap_or_default();
        let changes = found.changes.units.remove(&id).unwrap_or_else(Changes::zero);
        let has_members = figures.total > 0 || changes.any();
        Unit { label, total: false, figures, changes, has_members }
    };
    let mut out = vec![Unit { label: org_name.to_string(), total: true, figures: found.figures, changes: found.changes.total, has_members: true }];
    if found.children.is_empty() {
        return out;
    }
    let own = take(org_id, format!("{org_name}（本级）"));
    out.push(own);
    let mut rest: Option<(usize, Unit)> = None;
    for child in std::mem::take(&mut found.children) {
        let label = if child.existing { child.name } else { format!("{}（已撤销）", child.name) };
        let unit = take(child.id, label);
        if !child.existing && !unit.has_members && unit.figures.orgs_total == 0 {
            continue;
        }
        if out.len() - 2 < MAX_UNIT_ROWS {
            out.push(unit);
            continue;
        }
        let (n, folded) = rest
            .get_or_insert_with(|| (0, Unit { label: String::new(), total: false, figures: Figures::default(), changes: Changes::zero(), has_members: false }));
        *n += 1;
        folded.figures.add(&unit.figures);
        folded.changes.add(&unit.changes);
        folded.has_members |= unit.has_members;
    }
    if let Some((n, mut folded)) = rest {
        folded.label = format!("其余 {n} 个单位");
        out.push(folded);
    }
    out
}

/// Builds the report in one read-only snapshot (REPEATABLE READ), so that its statements see the
/// same data and the tables agree even while members are edited.
pub async fn build(
    conn: &mut AsyncPgConnection,
    clock: &Clock,
    actor: &Actor,
    org_id: i64,
    org_name: String,
    as_of: NaiveDate,
    kind: ReportKind,
) -> Result<Report, AppError> {
    let previous = previous_year_end(as_of);
    let found = conn
        .build_transaction()
        .read_only()
        .repeatable_read()
        .run(async |conn| {
            // As in `stats`: at a million members JIT compilation of these plans costs more than
            // running them, and the window and grouping over the period's changes spill to disk
            // with the default work_mem; a cached generic plan would cost the root like an
            // average subtree (nested loops).
            conn.batch_execute("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'; SET LOCAL plan_cache_mode = force_custom_plan").await?;
            let changes = changes::compute(conn, org_id, previous, as_of).await?;
            let figures = figures(conn, org_id, as_of, clock.today()).await?;
            let children = units::children(conn, org_id, as_of).await?;
            let mut by_child = HashMap::new();
            if !children.is_empty() {
                // One more scan of the members, grouped by unit as well: the rows.
                let mut orgs = units::orgs_by_unit(conn, org_id, as_of).await?;
                for c in stats_q::structure_by_child(conn, org_id, as_of, clock.today()).await? {
                    by_child.insert(c.org_id, Figures::from_child(&c, orgs.remove(&c.org_id).unwrap_or_default()));
                }
                for (unit, kinds) in orgs {
                    // Orgs without members on the date.
                    by_child.insert(unit, Figures { orgs_total: kinds.iter().map(|p| p.count).sum(), orgs_by_kind: kinds, ..Figures::default() });
                }
            }
            Ok::<_, AppError>(Found { changes, figures, children, by_child })
        })
        .await?;
    if found.figures.total != found.changes.total.current.total {
        return Err(AppError::internal(format!(
            "party statistics of org {org_id} on {as_of}: stats counts {} members, the changes {}",
            found.figures.total, found.changes.total.current.total
        )));
    }
    let ctx = Context { as_of, previous, internal_moves: found.changes.internal };
    let units = rows(org_id, &org_name, found);
    // The tables agree row by row, and each total is the sum of its rows.
    if let Some(u) = units.iter().find(|u| u.figures.total != u.changes.current.total) {
        return Err(AppError::internal(format!(
            "party statistics of org {org_id} on {as_of}, row {}: stats counts {} members, the changes {}",
            u.label, u.figures.total, u.changes.current.total
        )));
    }
    let tables = tables::build(&ctx, &units);
    for t in &tables {
        tables::check_sums(t).map_err(|e| AppError::internal(format!("party statistics of org {org_id} on {as_of}: {e}")))?;
    }
    Ok(Report {
        org_id,
        org_name,
        as_of,
        previous_as_of: previous,
        kind,
        generated_by: generated_by(conn, actor).await?,
        generated_at: clock.local_now().fixed_offset(),
        tables,
    })
}

/// 党内统计报表 in one click: the annual (年报) or half-year (半年报) report of an organization
/// and its subtree on a date, as one XLSX workbook (the default: `Accept` of the workbook's type,
/// `*/*` or none) or, with `Accept: application/json`, as the same tables in JSON (406 for
/// anything else).
///
/// Eight tables, one sheet each: 党员总数及增减 (against the previous year end), 基本情况
/// (gender, ethnicity, category), 入党时间, 学历, 年龄, 工作岗位, 党组织, 党员增减及原因. Each
/// lists the units below the org: first the total row (`total: true`, bold in the workbook, the
/// org's name: its whole subtree), then `<org>（本级）` for the members the org holds itself, then
/// each direct child org with its whole subtree, by org code (beyond 500, the rest in one row); an
/// org without child orgs has the one total row. A gained member counts in the unit holding them
/// on `as_of`, a lost one where they were held on `previous_as_of`; a move between units is
/// 转出 for one and 转入 for the other (so the total row counts it in both). Members
/// count where their membership is held, with status 正常, as of the date, from the dated
/// history. `previous_as_of` is the year end before `as_of` for both kinds (a half-year report
/// compares against the start of the year). Every total equals the sum of its parts, across the
/// row and down the column, and the tables agree row by row: 本期末 = 上年底 + 增加 − 减少 =
/// 基本情况's total = each dimension's total. Gained
/// and lost: each member once per direction, with the reason of their last change in the period.
/// The workbook carries the watermark (内部资料 注意保密, who, when) under each table and in the
/// page footer. Each generation is audited (action `report`).
#[utoipa::path(
    tag = "reports",
    request_body = ReportRequest,
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "The report: a workbook (Content-Disposition: attachment, with the Chinese file name), or JSON", headers(("Content-Disposition" = String, description = "For the workbook: attachment; filename*=UTF-8''…党内统计年报（2026-12-31）.xlsx")), content(
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (Report = "application/json", example = json!({
                "org_id": 1, "org_name": "机关党委", "as_of": "2026-06-30", "previous_as_of": "2025-12-31", "kind": "half_year",
                "generated_by": "张三", "generated_at": "2026-11-30T10:00:00+08:00",
                "tables": [
                    {"key": "totals", "title": "党员总数及增减情况",
                     "header": [[{"text": "单位", "colspan": 1, "rowspan": 2}, {"text": "上年底党员数（2025年12月31日）", "colspan": 3, "rowspan": 1},
                                 {"text": "本期增加", "colspan": 1, "rowspan": 2}, {"text": "本期减少", "colspan": 1, "rowspan": 2},
                                 {"text": "本期末党员数（2026年6月30日）", "colspan": 3, "rowspan": 1}],
                                [{"text": "合计", "colspan": 1, "rowspan": 1}, {"text": "正式党员", "colspan": 1, "rowspan": 1}, {"text": "预备党员", "colspan": 1, "rowspan": 1},
                                 {"text": "合计", "colspan": 1, "rowspan": 1}, {"text": "正式党员", "colspan": 1, "rowspan": 1}, {"text": "预备党员", "colspan": 1, "rowspan": 1}]],
                     "rows": [{"label": "机关党委", "values": [120, 110, 10, 8, 3, 125, 113, 12], "total": true},
                              {"label": "机关第一党支部", "values": [70, 64, 6, 5, 2, 73, 66, 7], "total": false},
                              {"label": "机关第二党支部", "values": [50, 46, 4, 3, 1, 52, 47, 5], "total": false}],
                     "notes": ["本期末党员数 = 上年底党员数 + 本期增加 − 本期减少"]},
                    {"key": "basic", "title": "党员基本情况",
                     "header": [[{"text": "单位", "colspan": 1, "rowspan": 2}, {"text": "党员总数", "colspan": 1, "rowspan": 2},
                                 {"text": "性别", "colspan": 2, "rowspan": 1}, {"text": "党员类别", "colspan": 2, "rowspan": 1}],
                                [{"text": "男", "colspan": 1, "rowspan": 1}, {"text": "女", "colspan": 1, "rowspan": 1},
                                 {"text": "正式党员", "colspan": 1, "rowspan": 1}, {"text": "预备党员", "colspan": 1, "rowspan": 1}]],
                     "rows": [{"label": "机关党委", "values": [125, 70, 55, 113, 12], "total": true},
                              {"label": "机关第一党支部", "values": [73, 40, 33, 66, 7], "total": false},
                              {"label": "机关第二党支部", "values": [52, 30, 22, 47, 5], "total": false}],
                     "notes": ["其中大专及以上学历 98 人。"]}
                ]
            }))
        )),
        (status = 400, description = "A body field of the wrong type or format (named)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "org_id is outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "Accept names neither the workbook nor JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named (as_of in the future, an unknown org_id, no org_id when your scope has several roots)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/reports/party-statistics")]
pub async fn party_statistics(state: web::Data<AppState>, actor: Actor, req: HttpRequest, body: ApiJson<ReportRequest>) -> AppResult<HttpResponse> {
    let body = body.0;
    let format = negotiate(&req)?;
    stats_q::check_as_of(body.as_of, state.config.clock.today())?;
    if body.as_of.year() < 1921 {
        return Err(AppError::field("as_of", "too_early", "as_of is before 1921", "统计截止日期过早"));
    }
    // The same org resolution and scope rule as the statistics pages.
    let (mut conn, org) = stats_q::target(&state.pool, &actor, body.org_id).await?;
    let (org_id, org_name) = (org.id, org.name);
    let report = build(&mut conn, &state.config.clock, &actor, org_id, org_name, body.as_of, body.kind).await?;
    let format_name = match format {
        Format::Xlsx => "xlsx",
        Format::Json => "json",
    };
    audit::record(
        &mut conn,
        By::from(&actor),
        "report",
        "party_statistics",
        Some(org_id),
        None::<&()>,
        Some(&serde_json::json!({
            "org_id": org_id, "kind": report.kind, "as_of": report.as_of, "previous_as_of": report.previous_as_of,
            "format": format_name, "generated_at": report.generated_at,
            "total": report.tables.iter().find(|t| t.key == "totals").and_then(|t| t.rows.iter().find(|r| r.total)).and_then(|r| r.values.get(5)),
        })),
    )
    .await?;
    drop(conn);
    match format {
        Format::Json => Ok(HttpResponse::Ok().json(&report)),
        Format::Xlsx => {
            let file_name = format!("{}.xlsx", report.title());
            let ascii = format!("party-statistics-{}.xlsx", report.as_of);
            let bytes = web::block(move || workbook::write(&report)).await.map_err(|e| AppError::internal(format!("report workbook thread: {e}")))??;
            Ok(HttpResponse::Ok().content_type(XLSX_TYPE).insert_header((header::CONTENT_DISPOSITION, attachment(&file_name, &ascii))).body(bytes))
        }
    }
}
