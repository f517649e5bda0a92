//! The member import: each row becomes a [`MemberRecord`] (merged into the stored one when it
//! matches by 外部编号 or citizen ID number), checked by the API's rules.
//!
//! A blank cell leaves the stored value as it is (a clerk's blank means "not given", not "erase").

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::read;
use super::read::{Cell, normalize_text, parse_date};
use super::{ImportOptions, ImportProblem, ImportReport, Importer, Located, MAX_ROWS, Progress};
use crate::crypto::DataKey;
use crate::error::AppError;
use crate::members::bulk::{self, Matches, Sealed, Writer};
use crate::members::id_number;
use crate::members::queries::{self, MemberRow};
use crate::members::rules::MemberRecord;
use crate::members::types::{Category, Gender, Status};
use crate::orgs::types::OrgKind;
use crate::schema::{code_lists, org_closure, orgs};

/// Header text → field. The first name of each field is the template's.
pub const COLUMNS: &[(&str, &str)] = &[
    ("外部编号", "external_id"),
    ("姓名", "name"),
    ("性别", "gender"),
    ("公民身份号码", "id_number"),
    ("身份证号码", "id_number"),
    ("身份证号", "id_number"),
    ("民族", "ethnicity"),
    ("出生日期", "birth_date"),
    ("学历", "education"),
    ("工作岗位", "job_category"),
    ("人员类别", "category"),
    ("党组织编码", "org_code"),
    ("所在党组织", "org_name"),
    ("入党日期", "joined_at"),
    ("转正日期", "full_member_at"),
    ("手机号码", "phone"),
    ("手机号", "phone"),
    ("党籍状态", "status"),
];

/// The template's header for a field (the API's field names, as `MemberRecord::check` reports them).
pub fn header_of(field: &str) -> &'static str {
    match field {
        "org_id" | "org_code" => "党组织编码",
        f => COLUMNS.iter().find(|(_, x)| *x == f).map_or("", |(h, _)| *h),
    }
}

pub const STATUSES: [&str; 5] = ["正常", "停止党籍", "出党", "死亡", "失联"];

struct OrgInfo {
    code: String,
    name: String,
    kind: OrgKind,
}

/// What the rows are checked against, loaded once.
struct Context {
    orgs: HashMap<i64, OrgInfo>,
    by_code: HashMap<String, i64>,
    by_name: HashMap<String, Vec<i64>>,
    /// None: every org.
    managed: Option<HashSet<i64>>,
    codes: HashSet<(String, String)>,
}

impl Context {
    async fn load(conn: &mut AsyncPgConnection, by: &Importer) -> Result<Self, AppError> {
        let rows: Vec<(i64, String, String, String)> = orgs::table.select((orgs::id, orgs::code, orgs::name, orgs::kind)).load(conn).await?;
        let mut ctx = Context { orgs: HashMap::new(), by_code: HashMap::new(), by_name: HashMap::new(), managed: None, codes: HashSet::new() };
        for (id, code, name, kind) in rows {
            ctx.by_code.insert(code.clone(), id);
            ctx.by_name.entry(name.clone()).or_default().push(id);
            ctx.orgs.insert(id, OrgInfo { code, name, kind: OrgKind::parse(&kind).unwrap_or(OrgKind::Branch) });
        }
        if !by.scope.all {
            let ids: Vec<i64> =
                org_closure::table.filter(org_closure::ancestor_id.eq_any(&by.scope.org_roots)).select(org_closure::descendant_id).load(conn).await?;
            ctx.managed = Some(ids.into_iter().collect());
        }
        let codes: Vec<(String, String)> = code_lists::table.select((code_lists::list, code_lists::name)).load(conn).await?;
        ctx.codes = codes.into_iter().collect();
        Ok(ctx)
    }

    fn manages(&self, org: i64) -> bool {
        self.managed.as_ref().is_none_or(|m| m.contains(&org))
    }
}

/// The fields a row gives (None: the column is absent or the cell blank).
#[derive(Default)]
struct Given {
    external_id: Option<String>,
    name: Option<String>,
    gender: Option<Gender>,
    id_number: Option<String>,
    ethnicity: Option<String>,
    birth_date: Option<NaiveDate>,
    education: Option<String>,
    job_category: Option<String>,
    category: Option<Category>,
    org_id: Option<i64>,
    joined_at: Option<NaiveDate>,
    full_member_at: Option<NaiveDate>,
    phone: Option<String>,
    status: Option<(Status, bool)>,
}

struct RowProblems<'a> {
    row: u32,
    list: &'a mut Vec<ImportProblem>,
    count: usize,
}

impl RowProblems<'_> {
    fn push(&mut self, column: &str, code: &str, message: impl Into<String>) {
        self.count += 1;
        self.list.push(ImportProblem { row: self.row, column: (!column.is_empty()).then(|| column.to_string()), code: code.into(), message: message.into() });
    }
}

fn list_zh(list: &str) -> &'static str {
    match list {
        "ethnicity" => "民族",
        "education" => "学历",
        _ => "工作岗位",
    }
}

/// Reads the row's cells into fields, reporting what cannot be read.
fn read_row(cells: &[Cell], loc: &Located, ctx: &Context, p: &mut RowProblems<'_>) -> Given {
    let mut g = Given::default();
    for &(ci, field) in &loc.columns {
        let cell = cells.get(ci).unwrap_or(&Cell::Empty);
        if cell.is_empty() {
            continue;
        }
        let col = header_of(field);
        let text = cell.text();
        match field {
            "external_id" => g.external_id = Some(text),
            "name" => g.name = Some(text),
            "gender" => match text.as_str() {
                "男" | "男性" => g.gender = Some(Gender::Male),
                "女" | "女性" => g.gender = Some(Gender::Female),
                _ => p.push(col, "invalid_value", format!("性别须为“男”或“女”，而不是“{text}”")),
            },
            "id_number" => {
                let looks_numeric =
                    matches!(cell, Cell::Number(_)) || text.contains(['E', 'e', '+']) && text.chars().all(|c| c.is_ascii_digit() || "Ee+.".contains(c));
                if looks_numeric {
                    p.push(col, "id_number_as_number", "公民身份号码被存成了数字，末几位已丢失，无法还原；请把该列设为“文本”格式后重新填写号码");
                } else {
                    g.id_number = Some(text.to_uppercase());
                }
            }
            "ethnicity" | "education" | "job_category" => {
                if ctx.codes.contains(&(field.to_string(), text.clone())) {
                    match field {
                        "ethnicity" => g.ethnicity = Some(text),
                        "education" => g.education = Some(text),
                        _ => g.job_category = Some(text),
                    }
                } else {
                    p.push(col, "not_in_code_list", format!("“{text}”不在{}代码表中", list_zh(field)));
                }
            }
            "birth_date" | "joined_at" | "full_member_at" => match parse_date(cell) {
                Ok(d) => match field {
                    "birth_date" => g.birth_date = d,
                    "joined_at" => g.joined_at = d,
                    _ => g.full_member_at = d,
                },
                Err(_) => p.push(col, "invalid_date", format!("“{text}”不是有效日期（可写作 2001-07-01、2001.07.01、2001年7月1日 或 20010701）")),
            },
            "category" => match text.as_str() {
                "正式党员" | "正式" => g.category = Some(Category::Full),
                "预备党员" | "预备" => g.category = Some(Category::Probationary),
                _ => p.push(col, "invalid_value", format!("人员类别须为“正式党员”或“预备党员”，而不是“{text}”")),
            },
            "org_code" => match ctx.by_code.get(&text) {
                Some(id) => g.org_id = Some(*id),
                None => p.push(col, "unknown_org", format!("党组织编码“{text}”不存在")),
            },
            "org_name" if g.org_id.is_none() => match ctx.by_name.get(&text).map(Vec::as_slice) {
                Some([id]) => g.org_id = Some(*id),
                Some(_) => p.push("所在党组织", "ambiguous_org", format!("名为“{text}”的党组织不止一个，请改填党组织编码")),
                None => p.push("所在党组织", "unknown_org", format!("党组织“{text}”不存在")),
            },
            "phone" => g.phone = Some(text),
            "status" => match text.as_str() {
                "正常" => g.status = Some((Status::Normal, false)),
                "停止党籍" => g.status = Some((Status::Suspended, false)),
                "出党" => g.status = Some((Status::Left, false)),
                "死亡" => g.status = Some((Status::Deceased, false)),
                "失联" => g.status = Some((Status::Normal, true)),
                _ => p.push(col, "invalid_value", format!("党籍状态须为{}之一，而不是“{text}”", STATUSES.join("、"))),
            },
            _ => {}
        }
    }
    g
}

fn apply(rec: &mut MemberRecord, g: Given) {
    macro_rules! set_opt {
        ($($f:ident),*) => { $( if let Some(v) = g.$f { rec.$f = Some(v); } )* };
    }
    set_opt!(external_id, id_number, ethnicity, birth_date, education, job_category, full_member_at, phone);
    if let Some(v) = g.name {
        rec.name = v;
    }
    if let Some(v) = g.gender {
        rec.gender = v;
    }
    if let Some(v) = g.category {
        rec.category = v;
        if v == Category::Probationary && g.full_member_at.is_none() {
            rec.full_member_at = None;
        }
    }
    if let Some(v) = g.org_id {
        rec.org_id = v;
    }
    if let Some(v) = g.joined_at {
        rec.joined_at = v;
    }
    if let Some((s, lost)) = g.status {
        rec.status = s;
        rec.lost_contact = lost;
    }
}

/// The canonical ID number for duplicate detection and the blind index (as the rules store it).
fn normalized_id(id: &str) -> String {
    id_number::normalize(&normalize_text(id))
}

/// Rows read, checked and (a commit) written per step: an import holds a few steps' worth at a
/// time, however long the file; and a step's writes are one statement per table, large enough
/// that per-statement costs vanish, small enough that the bound arrays stay a few megabytes.
const STEP_ROWS: usize = 5_000;

/// A step's rows as read, with the problems found reading them.
#[derive(Default)]
struct Step {
    rows: Vec<(u32, Given)>,
    problems: Vec<ImportProblem>,
    /// Columns already reported unreadable, per row: not reported again as missing or invalid.
    bad_cols: HashMap<u32, Vec<String>>,
    /// The last row number read, and the sheet's declared last row (for progress).
    last_row: u32,
    sheet_rows: u32,
}

/// What the rows checked so far tell about later ones.
#[derive(Default)]
struct Seen {
    /// First row of each ID number, external id and matched person: a second one is a duplicate.
    ids: HashMap<String, u32>,
    ext: HashMap<String, u32>,
    person: HashMap<i64, u32>,
    /// The people this import created: a later step's lookup finds them, but only through a
    /// row that repeats an earlier one (already reported), so they are not matches.
    created: HashSet<i64>,
}

/// A step's valid rows: new records, and changed ones with the stored row they replace.
#[derive(Default)]
struct Plan {
    creates: Vec<MemberRecord>,
    updates: Vec<(MemberRow, MemberRecord)>,
}

/// Reads the file (on a blocking thread), each row into fields as it comes, and sends the rows
/// on in steps; the cells of the whole sheet are never held. Answers the header found.
fn read_steps(bytes: &[u8], file_name: &str, ctx: &Context, tx: tokio::sync::mpsc::Sender<Step>) -> Result<Located, AppError> {
    let stopped = || AppError::internal("the import stopped taking rows");
    let mut step = Step::default();
    let header = read::read_rows(bytes, file_name, MAX_ROWS, COLUMNS, &mut |loc, row, cells| {
        let before = step.problems.len();
        let mut p = RowProblems { row, list: &mut step.problems, count: 0 };
        let g = read_row(&cells, loc, ctx, &mut p);
        if p.count > 0 {
            step.bad_cols.insert(row, step.problems[before..].iter().map(|x| x.column.clone().unwrap_or_default()).collect());
        }
        step.rows.push((row, g));
        (step.last_row, step.sheet_rows) = (row, loc.last_row);
        if step.rows.len() >= STEP_ROWS {
            tx.blocking_send(std::mem::take(&mut step)).map_err(|_| stopped())?;
        }
        Ok(())
    })?;
    if !step.rows.is_empty() {
        tx.blocking_send(step).map_err(|_| stopped())?;
    }
    Ok(header)
}

/// Checks a step's rows against the stored records and the rows before; counts each row in the
/// report and answers what the valid ones would write.
#[allow(clippy::too_many_arguments)]
fn check_step(
    ctx: &Context,
    matches: &Matches,
    rows: Vec<(u32, Given)>,
    bad_cols: &HashMap<u32, Vec<String>>,
    seen: &mut Seen,
    report: &mut ImportReport,
    key: &DataKey,
    today: NaiveDate,
) -> Result<Plan, AppError> {
    let mut plan = Plan::default();
    for (row, g) in rows {
        let no_cols = Vec::new();
        let reported = bad_cols.get(&row).unwrap_or(&no_cols);
        let mut p = RowProblems { row, list: &mut report.problems, count: reported.len() };
        let id_key = g.id_number.as_deref().map(normalized_id);
        let repeated_before = p.count;
        if let Some(id) = &id_key {
            if let Some(first) = seen.ids.get(id) {
                p.push("公民身份号码", "duplicate_in_file", format!("与第 {first} 行的公民身份号码重复"));
            } else {
                seen.ids.insert(id.clone(), row);
            }
        }
        if let Some(e) = &g.external_id {
            if let Some(first) = seen.ext.get(e) {
                p.push("外部编号", "duplicate_in_file", format!("与第 {first} 行的外部编号重复"));
            } else {
                seen.ext.insert(e.clone(), row);
            }
        }
        let not_created = |id: &i64| !seen.created.contains(id);
        let via_ext = g.external_id.as_deref().and_then(|e| matches.by_external_id(e)).filter(not_created);
        let via_id = id_key.as_deref().and_then(|i| matches.by_id_number(i)).map(|(id, _)| id).filter(not_created);
        let person = via_ext.or(via_id);
        if let (Some(a), Some(b)) = (via_ext, via_id)
            && a != b
        {
            p.push("公民身份号码", "id_number_taken", "该公民身份号码已登记给另一人");
        }
        if let Some(pid) = person {
            match seen.person.get(&pid) {
                // Not said again when a repeated key already says it.
                Some(first) if p.count == repeated_before => p.push("", "duplicate_in_file", format!("与第 {first} 行是同一人")),
                Some(_) => {}
                None => {
                    seen.person.insert(pid, row);
                }
            }
        }
        let existing = person.and_then(|pid| matches.stored.get(&pid));
        if person.is_some() && existing.is_none() {
            p.push("公民身份号码", "person_not_member", "此人已在系统中登记（非党员），请在系统中办理");
        }
        if let (Some(row_ext), Some(ex)) = (&g.external_id, existing)
            && ex.external_id.as_ref().is_some_and(|e| e != row_ext)
        {
            p.push("外部编号", "external_id_conflict", "按公民身份号码找到的党员已有另一个外部编号");
        }
        if let Some(ex) = existing
            && !ctx.manages(ex.org_id)
        {
            p.push("党组织编码", "out_of_scope", "此党员所在党组织超出您的管理范围");
        }
        let before = match existing {
            Some(ex) => Some(queries::record_of(ex, key)?),
            None => None,
        };
        let mut rec = match &before {
            Some(b) => b.clone(),
            None => {
                let mut missing = false;
                for (present, field) in [
                    (g.name.is_some(), "name"),
                    (g.gender.is_some(), "gender"),
                    (g.category.is_some(), "category"),
                    (g.org_id.is_some(), "org_code"),
                    (g.joined_at.is_some(), "joined_at"),
                ] {
                    // A cell already reported unreadable is not reported missing as well.
                    let col = header_of(field);
                    if !present && !reported.iter().any(|x| x == col || (field == "org_code" && x == "所在党组织")) {
                        p.push(col, "required", format!("新党员须填写“{col}”"));
                    }
                    missing |= !present;
                }
                if missing {
                    report.invalid += 1;
                    continue;
                }
                // The given fields are applied below; these placeholders are all overwritten.
                MemberRecord::new(String::new(), Gender::Male, Category::Full, 0, today)
            }
        };
        let org_given = g.org_id.is_some();
        apply(&mut rec, g);
        for e in rec.check(today) {
            let col = header_of(&e.field);
            // A birth date missing because the ID number or the date cell was unreadable.
            let cause_reported = reported.iter().any(|x| x == col) || (e.field == "birth_date" && reported.iter().any(|x| x == "公民身份号码"));
            if !cause_reported {
                p.push(col, &e.code, e.message_zh);
            }
        }
        if org_given && before.as_ref().is_none_or(|b| b.org_id != rec.org_id) {
            match ctx.orgs.get(&rec.org_id) {
                Some(o) if !ctx.manages(rec.org_id) => p.push("党组织编码", "out_of_scope", format!("党组织“{}”超出您的管理范围", o.code)),
                Some(o) if !o.kind.holds_members() => {
                    p.push("党组织编码", "org_cannot_hold_members", format!("“{}”不是党支部或党小组，不能直接管理党员", o.code))
                }
                _ => {}
            }
        }
        if p.count > 0 {
            report.invalid += 1;
            continue;
        }
        match (existing, before) {
            (Some(ex), Some(b)) => {
                if b == rec {
                    report.unchanged += 1;
                } else {
                    report.updated += 1;
                    plan.updates.push((ex.clone(), rec));
                }
            }
            _ => {
                report.created += 1;
                plan.creates.push(rec);
            }
        }
    }
    Ok(plan)
}

/// Writes the sealed step, if any; answers the records written.
async fn write_sealed(conn: &mut AsyncPgConnection, by: &Importer, sealed: Option<Sealed>) -> Result<usize, AppError> {
    let Some(batch) = sealed else { return Ok(0) };
    bulk::write(conn, by.by(), "import", &batch).await?;
    Ok(batch.len())
}

/// Reads, checks and (unless a dry run) writes the file's rows, step by step: a blocking thread
/// reads the next step while this task checks one and writes the one before, so that memory
/// stays bounded by a few steps and reading, checking and writing overlap.
///
/// Invalid rows block a commit (unless `skip_invalid`) but every row is still checked, so the
/// report lists every problem; the rows earlier steps wrote are rolled back to a savepoint, and
/// only the import's record and report remain.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    conn: &mut AsyncPgConnection,
    key: &DataKey,
    by: &Importer,
    import_id: i64,
    bytes: &[u8],
    file_name: &str,
    options: ImportOptions,
    report: &mut ImportReport,
    progress: Progress<'_>,
) -> Result<(), AppError> {
    let started = std::time::Instant::now();
    let phase = |what: &str| log::debug!("import {import_id}: {what} after {:.2} s, resident {} MB", started.elapsed().as_secs_f64(), resident_mb());
    let ctx = Arc::new(Context::load(conn, by).await?);
    let today = by.today;
    let writing = !options.dry_run;
    if writing {
        bulk::serialize_bulk_writers(conn).await?;
        diesel::sql_query("SAVEPOINT import_rows").execute(conn).await?;
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Step>(2);
    let reader = {
        let (owned, name, ctx) = (bytes.to_vec(), file_name.to_string(), ctx.clone());
        tokio::task::spawn_blocking(move || read_steps(&owned, &name, &ctx, tx))
    };
    let org_names = ctx.orgs.iter().map(|(id, o)| (*id, o.name.clone())).collect();
    let writer = Arc::new(Writer::new(key.clone(), Some(import_id), org_names, today));
    let mut seen = Seen::default();
    let mut sealed: Option<Sealed> = None;
    let mut written = 0;
    while let Some(step) = rx.recv().await {
        report.rows_read += step.rows.len() as i32;
        report.problems.extend(step.problems);
        let exts: Vec<String> = step.rows.iter().filter_map(|(_, g)| g.external_id.clone()).collect();
        let ids: Vec<String> = step.rows.iter().filter_map(|(_, g)| g.id_number.as_deref().map(normalized_id)).collect();
        let matches = Matches::find(conn, key, &exts, &ids, writing).await?;
        let plan = check_step(&ctx, &matches, step.rows, &step.bad_cols, &mut seen, report, key, today)?;
        if writing && (report.invalid == 0 || options.skip_invalid) {
            let new_ids = queries::next_person_ids(conn, plan.creates.len()).await?;
            seen.created.extend(&new_ids);
            let creates = new_ids.into_iter().zip(plan.creates).collect();
            // The step before is written while this one is sealed (encrypted, indexed, masked,
            // rendered for the audit log) on a blocking thread.
            let (done, next) = tokio::join!(write_sealed(conn, by, sealed.take()), writer.seal_blocking(creates, plan.updates));
            written += done?;
            sealed = Some(next?);
        }
        progress(step.last_row as usize, step.sheet_rows.max(step.last_row) as usize);
    }
    let header = reader.await.map_err(|e| AppError::internal(format!("reading the upload: {e}")))??;
    super::header_problems(report, &header);
    phase("rows checked");
    report.committed = writing && (report.invalid == 0 || options.skip_invalid);
    if report.committed {
        written += write_sealed(conn, by, sealed.take()).await?;
        diesel::sql_query("RELEASE SAVEPOINT import_rows").execute(conn).await?;
    } else if writing {
        // An invalid row blocked the commit after earlier steps were written: they go back.
        diesel::sql_query("ROLLBACK TO SAVEPOINT import_rows").execute(conn).await?;
    }
    phase(&format!("{written} records written"));
    let rows = report.rows_read.max(1) as usize;
    progress(rows, rows);
    Ok(())
}

/// The process's resident memory (for the debug log of large imports).
fn resident_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()))
        .map_or(0, |kb| kb / 1024)
}
