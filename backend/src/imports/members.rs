//! The member import: each row becomes a [`MemberRecord`] (merged into the stored one when it
//! matches by 外部编号 or citizen ID number), checked by the API's rules.
//!
//! A blank cell leaves the stored value as it is (a clerk's blank means "not given", not "erase").

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::read::{Cell, normalize_text, parse_date};
use super::read;
use super::{ImportOptions, ImportProblem, ImportReport, Importer, Located, MAX_ROWS, Progress};
use crate::audit;
use crate::crypto::DataKey;
use crate::error::AppError;
use crate::members::queries::{self, ID_NUMBER_INDEX, MemberRow, Reveal};
use crate::members::id_number;
use crate::members::rules::{MemberRecord, mask_phone, standing_years};
use crate::members::today;
use crate::members::types::{Category, Gender, Member, Status};
use crate::orgs::types::OrgKind;
use crate::schema::{code_lists, members, org_closure, orgs, people};

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
            let ids: Vec<i64> = org_closure::table
                .filter(org_closure::ancestor_id.eq_any(&by.scope.org_roots))
                .select(org_closure::descendant_id)
                .load(conn)
                .await?;
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
                let looks_numeric = matches!(cell, Cell::Number(_)) || text.contains(['E', 'e', '+']) && text.chars().all(|c| c.is_ascii_digit() || "Ee+.".contains(c));
                if looks_numeric {
                    p.push(
                        col,
                        "id_number_as_number",
                        "公民身份号码被存成了数字，末几位已丢失，无法还原；请把该列设为“文本”格式后重新填写号码",
                    );
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
    normalize_text(id).to_uppercase()
}

/// Records written per batch (and per progress step).
const WRITE_BATCH: usize = 5_000;

enum Planned {
    Create(Box<MemberRecord>),
    Update(i64, Box<MemberRecord>),
}

/// One batch of records prepared for writing, with its audit entries.
struct Batch {
    create: bool,
    rows: queries::Prepared,
    audit: Vec<audit::Entry>,
}

/// The audit entry of an imported record: the member as the API shows it (personal data masked),
/// with the import's id.
fn audited_json(id: i64, rec: &MemberRecord, version: i32, org_names: &HashMap<i64, String>, import_id: i64, today: NaiveDate) -> String {
    #[derive(serde::Serialize)]
    struct Audited {
        #[serde(flatten)]
        member: Member,
        import_id: i64,
    }
    let member = Member {
        id,
        external_id: rec.external_id.clone(),
        name: rec.name.clone(),
        gender: rec.gender,
        id_number: rec.id_number.as_deref().map(id_number::mask),
        birth_date: rec.birth_date,
        ethnicity: rec.ethnicity.clone(),
        native_place: rec.native_place.clone(),
        education: rec.education.clone(),
        degree: rec.degree.clone(),
        job_category: rec.job_category.clone(),
        post: rec.post.clone(),
        title: rec.title.clone(),
        phone: rec.phone.as_deref().map(mask_phone),
        work_started_on: rec.work_started_on,
        category: rec.category,
        org_id: rec.org_id,
        org_name: org_names.get(&rec.org_id).cloned().unwrap_or_default(),
        joined_at: rec.joined_at,
        full_member_at: rec.full_member_at,
        status: rec.status,
        is_flowing: rec.is_flowing,
        lost_contact: rec.lost_contact,
        standing_years: standing_years(rec.full_member_at, today),
        version,
    };
    serde_json::to_string(&Audited { member, import_id }).unwrap_or_default()
}

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
    let today = today();

    // Pass 1, on a blocking thread: the file is parsed and each row read into fields as it comes,
    // so the cells of the whole sheet are never held at once (a 100,000-row file stays well under
    // the memory a whole-sheet read takes). Collects the keys to look up in one query each.
    let (owned, name, reader_ctx) = (bytes.to_vec(), file_name.to_string(), ctx.clone());
    let (header, given, problems, bad_cols) = tokio::task::spawn_blocking(move || -> Result<_, AppError> {
        let mut given: Vec<(u32, Given)> = Vec::new();
        let mut problems: Vec<ImportProblem> = Vec::new();
        // Columns already reported unreadable, per row: not reported again as missing or invalid.
        let mut bad_cols: HashMap<u32, Vec<String>> = HashMap::new();
        let header = read::read_rows(&owned, &name, MAX_ROWS, COLUMNS, &mut |loc, row, cells| {
            let before = problems.len();
            let mut p = RowProblems { row, list: &mut problems, count: 0 };
            let g = read_row(&cells, loc, &reader_ctx, &mut p);
            if p.count > 0 {
                bad_cols.insert(row, problems[before..].iter().map(|x| x.column.clone().unwrap_or_default()).collect());
            }
            given.push((row, g));
            Ok(())
        })?;
        Ok((header, given, problems, bad_cols))
    })
    .await
    .map_err(|e| AppError::internal(format!("reading the upload: {e}")))??;
    super::header_problems(report, &header);
    report.problems.extend(problems);
    let total = given.len();
    report.rows_read = total as i32;
    // Progress counts rows checked and then (a commit) records written; until the plan is known,
    // a commit assumes every row writes, so the fraction only grows.
    let check_total = if options.dry_run { total } else { 2 * total };
    phase("file read");
    let ext_ids: Vec<String> = given.iter().filter_map(|(_, g)| g.external_id.clone()).collect();
    let hashes: Vec<Vec<u8>> = given.iter().filter_map(|(_, g)| g.id_number.as_deref().map(|i| key.blind_index(ID_NUMBER_INDEX, &normalized_id(i)))).collect();
    let mut by_ext: HashMap<String, i64> = HashMap::new();
    for chunk in ext_ids.chunks(10_000) {
        let found: Vec<(i64, Option<String>)> = people::table.filter(people::external_id.eq_any(chunk)).select((people::id, people::external_id)).load(conn).await?;
        by_ext.extend(found.into_iter().filter_map(|(id, e)| e.map(|e| (e, id))));
    }
    let mut by_hash: HashMap<Vec<u8>, i64> = HashMap::new();
    for chunk in hashes.chunks(10_000) {
        let found: Vec<(i64, Option<Vec<u8>>)> =
            people::table.filter(people::id_number_hash.eq_any(chunk)).select((people::id, people::id_number_hash)).load(conn).await?;
        by_hash.extend(found.into_iter().filter_map(|(id, h)| h.map(|h| (h, id))));
    }
    let mut matched: Vec<i64> = by_ext.values().chain(by_hash.values()).copied().collect::<HashSet<_>>().into_iter().collect();
    matched.sort_unstable();
    let mut stored: HashMap<i64, MemberRow> = HashMap::new();
    for chunk in matched.chunks(10_000) {
        if !options.dry_run {
            // A commit locks the memberships it may change (in id order, so two imports cannot
            // deadlock): an edit through the API meanwhile waits, then meets the bumped version.
            members::table.filter(members::person_id.eq_any(chunk)).select(members::person_id).order(members::person_id).for_update().load::<i64>(conn).await?;
        }
        let rows: Vec<MemberRow> = crate::members::queries::get_rows(conn, chunk).await?;
        stored.extend(rows.into_iter().map(|r| (r.id, r)));
    }

    phase("stored records loaded");
    // Pass 2: merge, check, and plan.
    let mut seen_ids: HashMap<String, u32> = HashMap::new();
    let mut seen_ext: HashMap<String, u32> = HashMap::new();
    let mut seen_person: HashMap<i64, u32> = HashMap::new();
    let mut plan = Vec::new();
    for (done, (row, g)) in given.into_iter().enumerate() {
        if done % 1000 == 0 {
            progress(done, check_total);
        }
        let no_cols = Vec::new();
        let reported = bad_cols.get(&row).unwrap_or(&no_cols);
        let mut p = RowProblems { row, list: &mut report.problems, count: reported.len() };
        let id_key = g.id_number.as_deref().map(normalized_id);
        if let Some(id) = &id_key {
            if let Some(first) = seen_ids.get(id) {
                p.push("公民身份号码", "duplicate_in_file", format!("与第 {first} 行的公民身份号码重复"));
            } else {
                seen_ids.insert(id.clone(), row);
            }
        }
        if let Some(e) = &g.external_id {
            if let Some(first) = seen_ext.get(e) {
                p.push("外部编号", "duplicate_in_file", format!("与第 {first} 行的外部编号重复"));
            } else {
                seen_ext.insert(e.clone(), row);
            }
        }
        let via_ext = g.external_id.as_ref().and_then(|e| by_ext.get(e)).copied();
        let via_id = id_key.as_ref().and_then(|i| by_hash.get(&key.blind_index(ID_NUMBER_INDEX, i))).copied();
        let person = via_ext.or(via_id);
        if let (Some(a), Some(b)) = (via_ext, via_id)
            && a != b
        {
            p.push("公民身份号码", "id_number_taken", "该公民身份号码已登记给另一人");
        }
        if let Some(pid) = person {
            if let Some(first) = seen_person.get(&pid) {
                p.push("", "duplicate_in_file", format!("与第 {first} 行是同一人"));
            } else {
                seen_person.insert(pid, row);
            }
        }
        let existing = person.and_then(|pid| stored.get(&pid));
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
                Some(o) if !o.kind.holds_members() => p.push("党组织编码", "org_cannot_hold_members", format!("“{}”不是党支部或党小组，不能直接管理党员", o.code)),
                _ => {}
            }
        }
        if p.count > 0 {
            report.invalid += 1;
            continue;
        }
        match (person, before) {
            (Some(pid), Some(b)) => {
                if b == rec {
                    report.unchanged += 1;
                } else {
                    report.updated += 1;
                    plan.push(Planned::Update(pid, Box::new(rec)));
                }
            }
            _ => {
                report.created += 1;
                plan.push(Planned::Create(Box::new(rec)));
            }
        }
    }


    phase("rows checked");
    report.committed = !options.dry_run && (report.invalid == 0 || options.skip_invalid);
    if !report.committed {
        progress(total, total);
        return Ok(());
    }
    let all = total + plan.len();
    progress(total, all);
    // Writing is split in two so that the two cores work at once: a blocking thread prepares
    // each batch (encrypts, indexes, masks, and renders the audit entries: the record as the API
    // shows it, personal data masked, with the import's id) while this task writes the previous
    // batch in set-based statements (members::queries::insert_prepared / update_prepared).
    let mut creates: Vec<MemberRecord> = Vec::new();
    let mut updates: Vec<(i64, MemberRecord)> = Vec::new();
    for item in plan {
        match item {
            Planned::Create(rec) => creates.push(*rec),
            Planned::Update(id, rec) => updates.push((id, *rec)),
        }
    }
    let new_ids = queries::next_person_ids(conn, creates.len()).await?;
    let org_names: HashMap<i64, String> = ctx.orgs.iter().map(|(id, o)| (*id, o.name.clone())).collect();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Batch, AppError>>(1);
    let producer = {
        let key = key.clone();
        tokio::task::spawn_blocking(move || {
            let audited = |id: i64, rec: &MemberRecord, version: i32| audited_json(id, rec, version, &org_names, import_id, today);
            for (chunk, ids) in creates.chunks(WRITE_BATCH).zip(new_ids.chunks(WRITE_BATCH)) {
                let recs: Vec<&MemberRecord> = chunk.iter().collect();
                let batch = queries::Prepared::new(&key, ids.to_vec(), &recs).map(|rows| Batch {
                    create: true,
                    audit: ids.iter().zip(chunk).map(|(id, rec)| (*id, None, audited(*id, rec, 1))).collect(),
                    rows,
                });
                if tx.blocking_send(batch).is_err() {
                    return;
                }
            }
            for chunk in updates.chunks(WRITE_BATCH) {
                let recs: Vec<&MemberRecord> = chunk.iter().map(|(_, r)| r).collect();
                let ids: Vec<i64> = chunk.iter().map(|(id, _)| *id).collect();
                let batch = queries::Prepared::new(&key, ids, &recs).map(|rows| Batch {
                    create: false,
                    audit: chunk
                        .iter()
                        .map(|(id, rec)| {
                            let old = stored.remove(id);
                            let version = old.as_ref().map_or(1, |r| r.version + 1);
                            let before = old.map(|r| serde_json::to_string(&r.into_member(&key, Reveal::default(), today)).unwrap_or_default());
                            (*id, before, audited(*id, rec, version))
                        })
                        .collect(),
                    rows,
                });
                if tx.blocking_send(batch).is_err() {
                    return;
                }
            }
        })
    };
    let mut done = total;
    while let Some(batch) = rx.recv().await {
        let batch = batch?;
        if batch.create {
            queries::insert_prepared(conn, &batch.rows).await?;
        } else {
            queries::update_prepared(conn, &batch.rows).await?;
        }
        audit::record_many(conn, by.by(), "import", "member", &batch.audit).await?;
        done += batch.rows.len();
        progress(done, all);
    }
    producer.await.map_err(|e| AppError::internal(format!("preparing the import's rows: {e}")))?;
    phase("rows written");
    progress(all, all);
    Ok(())
}

/// The process's resident memory (for the debug log of large imports).
fn resident_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()))
        .map_or(0, |kb| kb / 1024)
}
