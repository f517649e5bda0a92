//! Spreadsheet imports (issue 4): members and orgs from `.xlsx`, `.xls`, `.ods` and `.csv` files.
//!
//! Columns are found by their header text wherever they stand (a title row or two above is
//! skipped); each row is checked by the same rules as the API (`MemberRecord::check`), plus what
//! only a file can get wrong (a duplicate inside it, an unknown org code). A dry run reports what
//! would happen; a commit writes every valid row in one transaction — and, unless
//! `skip_invalid=true`, nothing at all when any row is invalid (blocking is the safe default).
//! Rows match stored records by 外部编号, else by citizen ID number (members) or org code
//! (orgs); a row equal to the stored record writes nothing, so running a file twice changes
//! nothing the second time. Every import is recorded (`imports`, with the uploaded bytes in
//! `import_files`, encrypted and kept for a time: [`files`]) with its report; every record it
//! creates or changes is audited with action `import` and the import's id in the audit entry's
//! `after`. The annotated workbook shows ID numbers and phones as the roster would show them to
//! whoever downloads it, and each download is audited.
//!
//! [`run_import`] is a plain async function over a connection, so a background job can run it.

pub mod annotate;
pub mod files;
pub mod job;
pub mod members;
pub mod orgs;
pub mod read;
pub mod template;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::audit::By;
use crate::auth::{Actor, Scope};
use crate::crypto::DataKey;
use crate::error::{AppError, AppResult, Problem};
use crate::http::{ApiQuery, Page, PageParams};
use crate::schema::{accounts, imports, org_closure};
use crate::{AppState, db};

/// Files from this size on run as a background job unless the caller says otherwise (about
/// 10,000 rows of XLSX: a few seconds of work).
pub const BACKGROUND_BYTES: usize = 1024 * 1024;
/// The largest file accepted.
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;
/// The most data rows one import takes.
pub const MAX_ROWS: usize = 200_000;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_template).service(list_imports).service(upload).service(get_import).service(get_annotated);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportKind {
    Members,
    Orgs,
}

impl ImportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::Members => "members",
            ImportKind::Orgs => "orgs",
        }
    }
    pub fn parse(s: &str) -> Option<ImportKind> {
        match s {
            "members" => Some(ImportKind::Members),
            "orgs" => Some(ImportKind::Orgs),
            _ => None,
        }
    }
    fn from_path(s: &str) -> Result<ImportKind, AppError> {
        Self::parse(s).ok_or_else(|| AppError::field("kind", "invalid_kind", "kind is members or orgs", "导入类型须为 members 或 orgs"))
    }
}

/// One problem of one row (or, for `unknown_column`, of the header row).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportProblem {
    /// The row number the spreadsheet program shows (0: the whole file, for an import that failed).
    #[schema(example = 5)]
    pub row: u32,
    /// The column's header text (none for a problem of the whole row).
    #[schema(example = "公民身份号码")]
    pub column: Option<String>,
    /// Stable code: the API's validation codes (`id_number_checksum`, `before_18th_birthday`, …)
    /// plus `required`, `invalid_date`, `invalid_value`, `id_number_as_number`, `unknown_org`,
    /// `ambiguous_org`, `duplicate_in_file`, `out_of_scope`, `unknown_column`, ….
    #[schema(example = "id_number_checksum")]
    pub code: String,
    #[schema(example = "公民身份号码校验位错误")]
    pub message: String,
}

/// What an import did (or, in a dry run, would do).
///
/// Stored on the import's row. Rows written before the report was stored with the upload (an
/// upload that ran as a job and failed, or had not finished) hold `{}`: [`stored_report`] reads
/// those too.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "import_id": 12, "kind": "members", "dry_run": true, "committed": false, "rows_read": 3,
    "created": 1, "updated": 1, "unchanged": 0, "invalid": 1,
    "problems": [{"row": 4, "column": "公民身份号码", "code": "id_number_checksum", "message": "公民身份号码校验位错误"}]
}))]
pub struct ImportReport {
    pub import_id: i64,
    #[schema(value_type = ImportKind)]
    pub kind: String,
    pub dry_run: bool,
    /// Whether rows were written (false for a dry run, and for a commit blocked by invalid rows).
    pub committed: bool,
    /// Data rows read (blank rows not counted).
    pub rows_read: i32,
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    /// Rows with at least one problem (never written).
    pub invalid: i32,
    pub problems: Vec<ImportProblem>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    pub dry_run: bool,
    pub skip_invalid: bool,
}

/// Who runs an import: their account and the scope of their managing grants.
#[derive(Debug, Clone)]
pub struct Importer {
    pub account_id: i64,
    pub ip: Option<String>,
    pub scope: Scope,
    /// The institution's date when the import runs: what the rows' dates are checked against.
    pub today: chrono::NaiveDate,
}

impl Importer {
    pub fn of(actor: &Actor, today: chrono::NaiveDate) -> Self {
        Importer { account_id: actor.account_id, ip: actor.ip.clone(), scope: actor.manage_scope(), today }
    }
    pub fn by(&self) -> By<'_> {
        By { account_id: Some(self.account_id), ip: self.ip.as_deref() }
    }
}

/// Progress: (rows done, rows in all).
pub type Progress<'a> = &'a mut (dyn FnMut(usize, usize) + Send);

/// A data row: its spreadsheet row number and cells.
pub type Row = (u32, Vec<read::Cell>);

/// The header row found in a sheet: where it is and which known column each index holds.
pub struct Located {
    pub sheet: usize,
    pub header_row: u32,
    /// (column index, field) for each known column.
    pub columns: Vec<(usize, &'static str)>,
    pub unknown: Vec<String>,
    /// Headers naming a field an earlier column already gives (ignored).
    pub duplicate: Vec<String>,
    pub rows: Vec<Row>,
    /// The sheet's last row number as the file declares it (0: not declared): how far reading
    /// has got, for progress.
    pub last_row: u32,
}

/// The header row of a sheet: which known field each column index holds.
pub struct Header {
    /// Index of the header row among the rows given to [`find_header`].
    pub index: usize,
    pub columns: Vec<(usize, &'static str)>,
    pub unknown: Vec<String>,
    pub duplicate: Vec<String>,
}

/// The header among a sheet's first rows: the row with the most known headers (at least two)
/// within the first 10.
pub fn find_header(rows: &[Row], known: &[(&'static str, &'static str)]) -> Option<Header> {
    let mut best: Option<(usize, usize)> = None;
    for (i, (_, cells)) in rows.iter().enumerate().take(10) {
        let hits = cells.iter().filter(|c| known.iter().any(|(h, _)| *h == read::header_key(&c.text()))).count();
        if hits >= 2 && best.is_none_or(|(_, b)| hits > b) {
            best = Some((i, hits));
        }
    }
    let (index, _) = best?;
    let mut h = Header { index, columns: Vec::new(), unknown: Vec::new(), duplicate: Vec::new() };
    for (ci, cell) in rows[index].1.iter().enumerate() {
        let key = read::header_key(&cell.text());
        if key.is_empty() {
            continue;
        }
        match known.iter().find(|(k, _)| *k == key) {
            Some((_, field)) if !h.columns.iter().any(|(_, f)| f == field) => h.columns.push((ci, *field)),
            // A second column for the same field: the first one counts.
            Some(_) => h.duplicate.push(cell.text()),
            None => h.unknown.push(cell.text()),
        }
    }
    Some(h)
}

/// Finds the header row (in the first sheet that has one, see [`find_header`]) of sheets read whole.
pub fn locate(sheets: Vec<read::Sheet>, known: &[(&'static str, &'static str)]) -> Result<Located, AppError> {
    for (si, sheet) in sheets.into_iter().enumerate() {
        let Some(h) = find_header(&sheet.rows, known) else { continue };
        let mut rows = sheet.rows;
        let data = rows.split_off(h.index + 1);
        let header_row = rows.last().map_or(0, |r| r.0);
        let rows: Vec<Row> = data.into_iter().filter(|(_, cells)| cells.iter().any(|c| !c.is_empty())).collect();
        let last_row = rows.last().map_or(header_row, |r| r.0);
        return Ok(Located { sheet: si, header_row, columns: h.columns, unknown: h.unknown, duplicate: h.duplicate, rows, last_row });
    }
    Err(no_header_row())
}

pub fn no_header_row() -> AppError {
    AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "no_header_row", "No header row found", "未找到表头").with_detail(
        "no row in the first rows of any sheet holds the template's column headers",
        "表格前 10 行中没有找到模板的列名（如“姓名”“党组织编码”），请使用导入模板",
    )
}

/// Validates the file and, unless a dry run (or blocked by invalid rows), writes it, all in one
/// transaction with the import's record and audit entries.
#[allow(clippy::too_many_arguments)]
pub async fn run_import(
    conn: &mut AsyncPgConnection,
    key: &DataKey,
    by: &Importer,
    kind: ImportKind,
    file_name: &str,
    bytes: &[u8],
    options: ImportOptions,
    existing: Option<i64>,
    progress: Progress<'_>,
) -> Result<ImportReport, AppError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(file_too_large());
    }
    conn.transaction::<_, AppError, _>(async move |conn| {
        let import_id = match existing {
            // A background job's import: its row and file were stored with the upload.
            Some(id) => id,
            None => store_upload(conn, key, by, kind, file_name, bytes, options.dry_run).await?,
        };
        let mut report = ImportReport { import_id, kind: kind.as_str().into(), dry_run: options.dry_run, ..Default::default() };
        match kind {
            // Members are read straight into fields (see members::run); orgs files are small.
            ImportKind::Members => members::run(conn, key, by, import_id, bytes, file_name, options, &mut report, progress).await?,
            ImportKind::Orgs => {
                let located = read_blocking(bytes, file_name, orgs::COLUMNS).await?;
                header_problems(&mut report, &located);
                orgs::run(conn, by, import_id, &located, options, &mut report, progress).await?
            }
        }
        // By row, as a clerk reads them (stable: a row's problems keep their column order).
        report.problems.sort_by_key(|p| p.row);
        diesel::update(imports::table.find(import_id))
            .set((
                imports::committed.eq(report.committed),
                imports::rows_read.eq(report.rows_read),
                imports::created.eq(report.created),
                imports::updated.eq(report.updated),
                imports::unchanged.eq(report.unchanged),
                imports::invalid.eq(report.invalid),
                imports::report.eq(serde_json::to_value(&report).unwrap_or_default()),
            ))
            .execute(conn)
            .await?;
        Ok(report)
    })
    .await
}

/// Records an import (who, which file, their scope) with the uploaded bytes (encrypted:
/// [`files::store`]); answers its id.
pub async fn store_upload(
    conn: &mut AsyncPgConnection,
    key: &DataKey,
    by: &Importer,
    kind: ImportKind,
    file_name: &str,
    bytes: &[u8],
    dry_run: bool,
) -> Result<i64, AppError> {
    let id: i64 = diesel::insert_into(imports::table)
        .values((
            imports::kind.eq(kind.as_str()),
            imports::file_name.eq(file_name),
            imports::created_by.eq(by.account_id),
            imports::scope_all.eq(by.scope.all),
            imports::scope_roots.eq(&by.scope.org_roots),
            imports::dry_run.eq(dry_run),
        ))
        .returning(imports::id)
        .get_result(conn)
        .await?;
    files::store(conn, key, id, bytes).await?;
    // A complete (empty) report from the start: an upload that runs as a job has one while it
    // waits, and keeps it if the job fails.
    let report = ImportReport { import_id: id, kind: kind.as_str().into(), dry_run, ..Default::default() };
    let report = serde_json::to_value(&report).map_err(|e| AppError::internal(format!("import report: {e}")))?;
    diesel::update(imports::table.find(id)).set(imports::report.eq(report)).execute(conn).await?;
    Ok(id)
}

/// A whole-file problem (row 0) on a stored import whose run failed (a background job that could
/// not read its file): its report says why, as the job's `error` does.
pub async fn record_failure(conn: &mut AsyncPgConnection, import_id: i64, e: &AppError) -> Result<(), AppError> {
    let stored: serde_json::Value = imports::table.find(import_id).select(imports::report).first(conn).await?;
    let mut report = report_with_defaults(stored)?;
    let message = e.detail.as_ref().map_or_else(|| e.title_zh.to_string(), |(_, zh)| zh.clone());
    report.problems.push(ImportProblem { row: 0, column: None, code: e.code.to_string(), message });
    let report = serde_json::to_value(&report).map_err(|e| AppError::internal(format!("import report: {e}")))?;
    diesel::update(imports::table.find(import_id)).set(imports::report.eq(report)).execute(conn).await?;
    Ok(())
}

/// The report stored on an import's row, completed from the row's columns (which the same
/// statement writes, and which rows holding `{}` have too).
fn stored_report(row: &SummaryRow, stored: serde_json::Value) -> Result<ImportReport, AppError> {
    let mut report = report_with_defaults(stored)?;
    report.import_id = row.0;
    report.kind = row.1.clone();
    report.dry_run = row.5;
    report.committed = row.6;
    (report.rows_read, report.created, report.updated, report.unchanged, report.invalid) = (row.7, row.8, row.9, row.10, row.11);
    Ok(report)
}

/// A stored report, its missing fields (all of them in a `{}`) taken from an empty report.
fn report_with_defaults(stored: serde_json::Value) -> Result<ImportReport, AppError> {
    let mut full = serde_json::to_value(ImportReport::default()).map_err(|e| AppError::internal(format!("import report: {e}")))?;
    if let (Some(full), serde_json::Value::Object(stored)) = (full.as_object_mut(), stored) {
        full.extend(stored);
    }
    serde_json::from_value(full).map_err(|e| AppError::internal(format!("stored import report: {e}")))
}

/// Reads a whole upload on a blocking thread (parsing a workbook takes CPU seconds).
async fn read_blocking(bytes: &[u8], file_name: &str, known: &'static [(&'static str, &'static str)]) -> Result<Located, AppError> {
    let (owned, name) = (bytes.to_vec(), file_name.to_string());
    tokio::task::spawn_blocking(move || read::read_located(&owned, &name, MAX_ROWS, known))
        .await
        .map_err(|e| AppError::internal(format!("reading the upload: {e}")))?
}

/// The header row's problems: columns not known, and columns repeating an earlier one.
pub fn header_problems(report: &mut ImportReport, located: &Located) {
    for h in &located.unknown {
        report.problems.push(ImportProblem {
            row: located.header_row,
            column: Some(h.clone()),
            code: "unknown_column".into(),
            message: format!("无法识别的列“{h}”，已跳过"),
        });
    }
    for h in &located.duplicate {
        report.problems.push(ImportProblem {
            row: located.header_row,
            column: Some(h.clone()),
            code: "duplicate_column".into(),
            message: format!("列“{h}”与前面的列重复，已跳过"),
        });
    }
}

fn file_too_large() -> AppError {
    AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "file_too_large", "The file is too large", "文件过大").with_detail(
        format!("files up to {} MB are accepted", MAX_FILE_BYTES / 1024 / 1024),
        format!("文件不能超过 {} MB，请拆分后分批导入", MAX_FILE_BYTES / 1024 / 1024),
    )
}

/// Download the import template: a header row in Chinese, drop-down lists for the closed
/// fields (the org codes of your scope among them), date columns, one example row, and a
/// second sheet 说明 explaining each column.
#[utoipa::path(
    tag = "imports",
    params(("kind" = ImportKind, Path, description = "members or orgs", example = "members")),
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "The template", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
        (status = 422, description = "Unknown kind", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/imports/templates/{kind}")]
pub async fn get_template(state: web::Data<AppState>, actor: Actor, kind: web::Path<String>) -> AppResult<HttpResponse> {
    let kind = ImportKind::from_path(&kind)?;
    let mut conn = db::conn(&state.pool).await?;
    let (bytes, name, ascii) = template::build(&mut conn, &actor.manage_scope(), kind).await?;
    Ok(HttpResponse::Ok()
        .content_type(crate::http::XLSX_TYPE)
        .insert_header((actix_web::http::header::CONTENT_DISPOSITION, crate::http::attachment(name, ascii)))
        .body(bytes))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// Only check and report (the default); `false` writes.
    #[param(example = true)]
    pub dry_run: Option<bool>,
    /// With `dry_run=false`: write the valid rows even when some are invalid (by default any
    /// invalid row blocks the whole commit).
    #[param(example = false)]
    pub skip_invalid: Option<bool>,
    /// Run as a background job and answer 202 `{job_id, import_id}` at once. By default, files
    /// of 1 MB or more do; `false` keeps even a large file in the request (scripts that wait).
    #[param(example = false)]
    pub background: Option<bool>,
}

/// The multipart form of an upload.
#[derive(ToSchema)]
#[schema(example = json!({"file": "党员名册.xlsx"}))]
#[allow(dead_code)]
pub struct ImportUpload {
    /// The spreadsheet: .xlsx, .xls, .ods, or .csv (UTF-8 or GBK).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Import a spreadsheet of members or orgs. With `dry_run=true` (the default) it only checks and
/// reports; with `dry_run=false` it writes in one transaction: every valid row, or — when any
/// row is invalid and `skip_invalid` is not set — nothing. The report is kept (`GET /imports/{id}`).
/// A large file (1 MB or more, or `background=true`) runs as a background job: the answer is
/// 202 `{job_id, import_id}`, and `GET /jobs/{job_id}` shows its progress and, at the end, the
/// report as its `result`.
#[utoipa::path(
    tag = "imports",
    params(("kind" = ImportKind, Path, description = "members or orgs", example = "members"), UploadQuery),
    request_body(content = ImportUpload, content_type = "multipart/form-data"),
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "The report", body = ImportReport),
        (status = 202, description = "Queued as a background job: poll `GET /jobs/{job_id}`", body = job::ImportQueued),
        (status = 400, description = "A malformed multipart form, or a malformed query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file (or what it unpacks to) is too large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a spreadsheet, encrypted, no header row, or too many rows", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/imports/{kind}")]
pub async fn upload(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    kind: web::Path<String>,
    query: ApiQuery<UploadQuery>,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let kind = ImportKind::from_path(&kind)?;
    let options = ImportOptions { dry_run: query.0.dry_run.unwrap_or(true), skip_invalid: query.0.skip_invalid.unwrap_or(false) };
    let (file_name, bytes) = read_upload(&req, payload).await?;
    let importer = Importer::of(&actor, state.config.clock.today());
    let mut conn = db::conn(&state.pool).await?;
    if query.0.background.unwrap_or(bytes.len() >= BACKGROUND_BYTES) {
        // Refuse at once what is plainly not a spreadsheet, rather than in a job.
        read::sniff_upload(&bytes, &file_name)?;
        let queued = job::enqueue(&mut conn, &state.config.data_key, &importer, kind, &file_name, &bytes, options).await?;
        return Ok(HttpResponse::Accepted().json(queued));
    }
    let report = run_import(&mut conn, &state.config.data_key, &importer, kind, &file_name, &bytes, options, None, &mut |_, _| {}).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// The `file` field of a multipart form, refused past [`MAX_FILE_BYTES`] while it streams in.
async fn read_upload(req: &HttpRequest, payload: web::Payload) -> Result<(String, Vec<u8>), AppError> {
    let (name, bytes) = crate::http::read_form_file(req, payload, MAX_FILE_BYTES, file_too_large).await?;
    Ok((name.unwrap_or_else(|| "upload".to_string()), bytes))
}

/// A past import, for the list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportSummary {
    pub id: i64,
    pub kind: ImportKind,
    #[schema(example = "党员名册.xlsx")]
    pub file_name: String,
    /// The username of who ran it.
    pub created_by: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub dry_run: bool,
    pub committed: bool,
    pub rows_read: i32,
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub invalid: i32,
    /// The background job that ran it (large files): `GET /jobs/{job_id}` shows its progress.
    pub job_id: Option<i64>,
}

/// A past import with its report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportDetail {
    #[serde(flatten)]
    pub summary: ImportSummary,
    pub report: ImportReport,
}

type SummaryRow = (i64, String, String, Option<String>, chrono::DateTime<chrono::Utc>, bool, bool, i32, i32, i32, i32, i32, Option<i64>);

fn summary_of(r: SummaryRow) -> ImportSummary {
    ImportSummary {
        id: r.0,
        kind: ImportKind::parse(&r.1).unwrap_or(ImportKind::Members),
        file_name: r.2,
        created_by: r.3,
        created_at: r.4,
        dry_run: r.5,
        committed: r.6,
        rows_read: r.7,
        created: r.8,
        updated: r.9,
        unchanged: r.10,
        invalid: r.11,
        job_id: r.12,
    }
}

macro_rules! summary_columns {
    () => {
        (
            imports::id,
            imports::kind,
            imports::file_name,
            accounts::username.nullable(),
            imports::created_at,
            imports::dry_run,
            imports::committed,
            imports::rows_read,
            imports::created,
            imports::updated,
            imports::unchanged,
            imports::invalid,
            imports::job_id,
        )
    };
}

/// The orgs of the caller's subtrees (None: everything).
async fn visible_orgs(conn: &mut AsyncPgConnection, scope: &Scope) -> Result<Option<Vec<i64>>, AppError> {
    if scope.all {
        return Ok(None);
    }
    let ids: Vec<i64> =
        org_closure::table.filter(org_closure::ancestor_id.eq_any(&scope.org_roots)).select(org_closure::descendant_id).distinct().load(conn).await?;
    Ok(Some(ids))
}

/// Imports a caller sees: their own, and those run by someone whose whole scope lies in theirs.
macro_rules! visible_filter {
    ($q:expr, $actor:expr, $orgs:expr) => {{
        let q = $q;
        match $orgs {
            None => q,
            Some(ids) => q.filter(
                imports::created_by
                    .eq($actor.account_id)
                    .or(imports::scope_all.eq(false).and(imports::scope_roots.is_contained_by(ids.clone())).and(imports::scope_roots.ne(Vec::<i64>::new()))),
            ),
        }
    }};
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportListQuery {
    pub kind: Option<ImportKind>,
    /// 1-based page number, at most 100000.
    #[param(minimum = 1, maximum = 100_000, example = 1)]
    pub page: Option<i64>,
    /// Rows per page, at most 200.
    #[param(minimum = 1, maximum = 200, example = 20)]
    pub page_size: Option<i64>,
}

/// Past imports in your scope (newest first): yours, and those of workers under you.
#[utoipa::path(
    tag = "imports",
    params(ImportListQuery),
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses((status = 200, description = "A page of imports", body = Page<ImportSummary>))
)]
#[get("/imports")]
pub async fn list_imports(state: web::Data<AppState>, actor: Actor, query: ApiQuery<ImportListQuery>) -> AppResult<HttpResponse> {
    let (page, size) = PageParams::resolve(query.0.page, query.0.page_size)?;
    let mut conn = db::conn(&state.pool).await?;
    let orgs = visible_orgs(&mut conn, &actor.manage_scope()).await?;
    let kind = query.0.kind.map(|k| k.as_str());
    let build = || {
        let mut q = imports::table.left_join(accounts::table.on(accounts::id.nullable().eq(imports::created_by))).into_boxed();
        if let Some(k) = kind {
            q = q.filter(imports::kind.eq(k));
        }
        visible_filter!(q, actor, &orgs)
    };
    let total: i64 = build().count().get_result(&mut conn).await?;
    let rows: Vec<SummaryRow> = build()
        .select(summary_columns!())
        .order((imports::created_at.desc(), imports::id.desc()))
        .offset((page - 1) * size)
        .limit(size)
        .load(&mut conn)
        .await?;
    Ok(HttpResponse::Ok().json(Page { items: rows.into_iter().map(summary_of).collect(), total, page, page_size: size }))
}

async fn visible_import(conn: &mut AsyncPgConnection, actor: &Actor, id: i64) -> Result<(SummaryRow, serde_json::Value), AppError> {
    let found: Option<(SummaryRow, serde_json::Value)> = imports::table
        .left_join(accounts::table.on(accounts::id.nullable().eq(imports::created_by)))
        .filter(imports::id.eq(id))
        .select((summary_columns!(), imports::report))
        .first(conn)
        .await
        .optional()?;
    let found = found.ok_or_else(|| AppError::not_found("import", "导入记录"))?;
    let orgs = visible_orgs(conn, &actor.manage_scope()).await?;
    let q = imports::table.filter(imports::id.eq(id)).into_boxed();
    let visible: i64 = visible_filter!(q, actor, &orgs).count().get_result(conn).await?;
    if visible == 0 {
        return Err(AppError::out_of_scope());
    }
    Ok(found)
}

/// One past import with its report.
#[utoipa::path(
    tag = "imports",
    params(("id" = i64, Path, description = "Import id", example = 12)),
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "The import and its report", body = ImportDetail),
        (status = 404, description = "No such import", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/imports/{id}")]
pub async fn get_import(state: web::Data<AppState>, actor: Actor, id: web::Path<i64>) -> AppResult<HttpResponse> {
    let mut conn = db::conn(&state.pool).await?;
    let (row, report) = visible_import(&mut conn, &actor, id.into_inner()).await?;
    let report = stored_report(&row, report)?;
    Ok(HttpResponse::Ok().json(ImportDetail { summary: summary_of(row), report }))
}

/// The uploaded workbook re-written as XLSX with an added 错误说明 column holding each row's
/// problems, those rows highlighted. ID numbers and phones (their columns, and any cell that
/// holds one) are shown as the roster would show them to you: masked unless your roles may see
/// them in full over your whole scope (ID numbers: committee and political_dept; phones: the
/// org-managing roles). Each download is audited (`download`, entity `import`). The uploaded
/// file is kept `DANGJIAN_IMPORT_FILE_DAYS` days (30 by default); after that this answers 410.
#[utoipa::path(
    tag = "imports",
    params(("id" = i64, Path, description = "Import id", example = 12)),
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "The annotated workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
        (status = 404, description = "No such import", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The uploaded file was deleted after the retention time (`import_file_deleted`); the import's report stays", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The stored file cannot be read back as a sheet (an import refused for that, e.g. `too_many_rows`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/imports/{id}/annotated")]
pub async fn get_annotated(state: web::Data<AppState>, actor: Actor, id: web::Path<i64>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let mut conn = db::conn(&state.pool).await?;
    let (row, report) = visible_import(&mut conn, &actor, id).await?;
    let report = stored_report(&row, report)?;
    let content = files::load(&mut conn, &state.config.data_key, id).await?.ok_or_else(|| files::deleted(state.config.import_file_days))?;
    // What the downloader may see in full: the roster's rule over their whole scope.
    let reveal = crate::members::export::export_reveal(&mut conn, &actor, None).await?;
    let file_name = row.2.clone();
    let kind = ImportKind::parse(&row.1).unwrap_or(ImportKind::Members);
    let bytes = web::block(move || annotate::build(&content, &file_name, kind, &report, reveal))
        .await
        .map_err(|e| AppError::internal(format!("annotating: {e}")))??;
    let after = serde_json::json!({"import_id": id, "file_name": row.2, "revealed": {"id_number": reveal.id_number, "phone": reveal.phone}});
    crate::audit::record(&mut conn, By::from(&actor), "download", "import", Some(id), None::<&()>, Some(&after)).await?;
    let stem = row.2.rsplit_once('.').map_or(row.2.as_str(), |(s, _)| s).to_string();
    Ok(HttpResponse::Ok()
        .content_type(crate::http::XLSX_TYPE)
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            crate::http::attachment(&format!("{stem}-错误说明.xlsx"), &format!("import-{id}-annotated.xlsx")),
        ))
        .body(bytes))
}
