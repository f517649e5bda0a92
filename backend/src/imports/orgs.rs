//! The org import: rows match stored orgs by 外部编号, else by 党组织编码. A parent is an
//! existing org or one on an earlier row of the file. Moving an org (a changed 上级党组织编码)
//! is left to the move operation, which checks more than a file can show.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::read::{Cell, parse_date};
use super::{ImportOptions, ImportProblem, ImportReport, Importer, Located, Progress};
use crate::audit;
use crate::error::AppError;
use crate::orgs::types::{OrgKind, OrgRow};
use crate::schema::{org_closure, orgs};

pub const COLUMNS: &[(&str, &str)] = &[
    ("外部编号", "external_id"),
    ("党组织编码", "code"),
    ("党组织名称", "name"),
    ("党组织类别", "kind"),
    ("上级党组织编码", "parent_code"),
    ("成立日期", "founded_on"),
    ("本届任期开始", "term_start"),
    ("本届任期届满", "term_end"),
];

pub fn header_of(field: &str) -> &'static str {
    COLUMNS.iter().find(|(_, f)| *f == field).map_or("", |(h, _)| *h)
}

fn problem(row: u32, field: &str, code: &str, message: String) -> ImportProblem {
    ImportProblem { row, column: (!field.is_empty()).then(|| header_of(field).to_string()), code: code.into(), message }
}

pub const KINDS: [&str; 4] = ["党委", "党总支", "党支部", "党小组"];

fn kind_of(text: &str) -> Option<OrgKind> {
    match text {
        "党委" | "基层党委" => Some(OrgKind::Committee),
        "党总支" => Some(OrgKind::GeneralBranch),
        "党支部" => Some(OrgKind::Branch),
        "党小组" => Some(OrgKind::Group),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq)]
struct OrgValues {
    external_id: Option<String>,
    code: String,
    name: String,
    kind: OrgKind,
    parent_id: Option<i64>,
    founded_on: Option<NaiveDate>,
    term_start: Option<NaiveDate>,
    term_end: Option<NaiveDate>,
}

impl OrgValues {
    fn of(r: &OrgRow) -> Self {
        OrgValues {
            external_id: r.external_id.clone(),
            code: r.code.clone(),
            name: r.name.clone(),
            kind: r.kind(),
            parent_id: r.parent_id,
            founded_on: r.founded_on,
            term_start: r.term_start,
            term_end: r.term_end,
        }
    }
}

/// Where a parent comes from: a stored org, or a new one on an earlier row.
#[derive(Clone, Copy)]
enum ParentRef {
    None,
    Stored(i64),
    New(usize),
}

enum Planned {
    Create(OrgValues, ParentRef),
    Update(i64, OrgValues),
}

pub async fn run(
    conn: &mut AsyncPgConnection,
    by: &Importer,
    import_id: i64,
    loc: &Located,
    options: ImportOptions,
    report: &mut ImportReport,
    progress: Progress<'_>,
) -> Result<(), AppError> {
    let stored: Vec<OrgRow> = orgs::table.select(OrgRow::as_select()).load(conn).await?;
    let by_id: HashMap<i64, &OrgRow> = stored.iter().map(|r| (r.id, r)).collect();
    let by_code: HashMap<&str, &OrgRow> = stored.iter().map(|r| (r.code.as_str(), r)).collect();
    let by_ext: HashMap<&str, &OrgRow> = stored.iter().filter_map(|r| r.external_id.as_deref().map(|e| (e, r))).collect();
    // Orgs the importer may place children under (non-strict) and edit (strictly below a root).
    let (under, editable): (Option<HashSet<i64>>, Option<HashSet<i64>>) = if by.scope.all {
        (None, None)
    } else {
        let rows: Vec<(i64, i32)> = org_closure::table
            .filter(org_closure::ancestor_id.eq_any(&by.scope.org_roots))
            .select((org_closure::descendant_id, org_closure::depth))
            .load(conn)
            .await?;
        (Some(rows.iter().map(|r| r.0).collect()), Some(rows.iter().filter(|r| r.1 >= 1).map(|r| r.0).collect()))
    };
    let today = by.today;
    let total = loc.rows.len();
    report.rows_read = total as i32;
    // Progress counts rows checked and then (a commit) records written; until the plan is known,
    // a commit assumes every row writes, so the fraction only grows.
    let check_total = if options.dry_run { total } else { 2 * total };
    // New orgs planned so far, by code: (index in plan, kind).
    let mut new_codes: HashMap<String, (usize, OrgKind)> = HashMap::new();
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut seen_ext: HashMap<String, u32> = HashMap::new();
    let mut plan: Vec<Planned> = Vec::new();
    for (done, (row, cells)) in loc.rows.iter().enumerate() {
        if done % 1000 == 0 {
            progress(done, check_total);
        }
        let mut problems: Vec<ImportProblem> = Vec::new();
        macro_rules! push {
            ($field:expr, $code:expr, $msg:expr) => {
                problems.push(problem(*row, $field, $code, $msg))
            };
        }
        let mut text: HashMap<&str, String> = HashMap::new();
        let mut dates: HashMap<&str, Option<NaiveDate>> = HashMap::new();
        for &(ci, field) in &loc.columns {
            let cell = cells.get(ci).unwrap_or(&Cell::Empty);
            if cell.is_empty() {
                continue;
            }
            if matches!(field, "founded_on" | "term_start" | "term_end") {
                match parse_date(cell) {
                    Ok(d) => {
                        dates.insert(field, d);
                    }
                    Err(_) => push!(field, "invalid_date", format!("“{}”不是有效日期（可写作 2001-07-01、2001.07.01、2001年7月1日 或 20010701）", cell.text())),
                }
            } else {
                text.insert(field, cell.text());
            }
        }
        let code = text.get("code").cloned();
        let ext = text.get("external_id").cloned();
        if let Some(c) = &code {
            if let Some(first) = seen.get(c) {
                push!("code", "duplicate_in_file", format!("与第 {first} 行的党组织编码重复"));
            } else {
                seen.insert(c.clone(), *row);
            }
        }
        let existing = ext.as_deref().and_then(|e| by_ext.get(e)).or_else(|| code.as_deref().and_then(|c| by_code.get(c))).copied();
        let kind = match text.get("kind") {
            Some(k) => match kind_of(k) {
                Some(k) => Some(k),
                None => {
                    push!("kind", "invalid_value", format!("党组织类别须为{}之一，而不是“{k}”", KINDS.join("、")));
                    None
                }
            },
            None => existing.map(OrgRow::kind),
        };
        let parent = match text.get("parent_code") {
            Some(pc) => match (by_code.get(pc.as_str()), new_codes.get(pc)) {
                (Some(p), _) => Some((ParentRef::Stored(p.id), Some(p.kind()))),
                (None, Some((i, k))) => Some((ParentRef::New(*i), Some(*k))),
                (None, None) => {
                    push!("parent_code", "unknown_org", format!("上级党组织编码“{pc}”不存在（上级须已在系统中，或在本文件中更靠前的行）"));
                    None
                }
            },
            None => match existing {
                Some(e) => Some((e.parent_id.map_or(ParentRef::None, ParentRef::Stored), e.parent_id.and_then(|p| by_id.get(&p)).map(|p| p.kind()))),
                None => Some((ParentRef::None, None)),
            },
        };
        for f in ["code", "name"] {
            if !text.contains_key(f) && existing.is_none() {
                push!(f, "required", format!("新党组织须填写“{}”", header_of(f)));
            }
        }
        if existing.is_none() && kind.is_none() && !problems.iter().any(|p| p.column.as_deref() == Some("党组织类别")) {
            push!("kind", "required", "新党组织须填写“党组织类别”".into());
        }
        // The API's rules for a code (orgs::validate): 1-64 letters, digits, '-', '_' or '.'.
        if let Some(c) = &code
            && (c.len() > 64 || !c.chars().all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.')))
        {
            push!("code", "invalid_code", "党组织编码须为 1-64 位字母、数字或 - _ .".into());
        }
        if let Some(e) = &ext {
            if e.chars().count() > 64 {
                push!("external_id", "too_long", "外部编号不超过 64 个字符".into());
            } else if let Some(first) = seen_ext.get(e) {
                push!("external_id", "duplicate_in_file", format!("与第 {first} 行的外部编号重复"));
            } else {
                seen_ext.insert(e.clone(), *row);
            }
        }
        let get_date = |f: &str, old: Option<NaiveDate>| dates.get(f).copied().unwrap_or(old);
        let (Some(kind), Some((parent_ref, parent_kind))) = (kind, parent) else {
            report.problems.extend(problems);
            report.invalid += 1;
            continue;
        };
        let values = OrgValues {
            external_id: ext.or_else(|| existing.and_then(|e| e.external_id.clone())),
            code: code.clone().or_else(|| existing.map(|e| e.code.clone())).unwrap_or_default(),
            name: text.get("name").cloned().or_else(|| existing.map(|e| e.name.clone())).unwrap_or_default(),
            kind,
            parent_id: match parent_ref {
                ParentRef::Stored(id) => Some(id),
                _ => None,
            },
            founded_on: get_date("founded_on", existing.and_then(|e| e.founded_on)),
            term_start: get_date("term_start", existing.and_then(|e| e.term_start)),
            term_end: get_date("term_end", existing.and_then(|e| e.term_end)),
        };
        if values.name.chars().count() > 200 {
            push!("name", "too_long", "党组织名称不超过 200 个字".into());
        }
        if values.founded_on.is_some_and(|d| d > today) {
            push!("founded_on", "in_future", "成立日期不能晚于今天".into());
        }
        if let (Some(s), Some(e)) = (values.term_start, values.term_end)
            && e <= s
        {
            push!("term_end", "before_term_start", "本届任期届满须晚于任期开始".into());
        }
        // (A changed kind of an existing org is reported as such below, not as a misplacement.)
        if existing.is_none_or(|e| e.kind() == kind) && !kind.may_be_under(parent_kind) {
            let msg = match parent_kind {
                None => format!("{}不能作为顶级组织，只有党委可以", kind.zh()),
                Some(p) => format!("{}不能设在{}之下", kind.zh(), p.zh()),
            };
            push!("parent_code", "kind_not_allowed_here", msg);
        }
        match existing {
            Some(e) => {
                if editable.as_ref().is_some_and(|s| !s.contains(&e.id)) {
                    push!("code", "out_of_scope", format!("党组织“{}”超出您的管理范围", e.code));
                }
                if values.parent_id != e.parent_id || matches!(parent_ref, ParentRef::New(_)) {
                    push!("parent_code", "parent_change_not_supported", "导入不能改变上级党组织，请使用“移动”功能".into());
                }
                if values.kind != e.kind() {
                    push!("kind", "kind_change_not_supported", "导入不能改变已有党组织的类别，请在党组织页面修改".into());
                }
                if values.code != e.code && by_code.contains_key(values.code.as_str()) {
                    push!("code", "duplicate", format!("党组织编码“{}”已被其他组织使用", values.code));
                }
            }
            None => match parent_ref {
                ParentRef::Stored(pid) if under.as_ref().is_some_and(|s| !s.contains(&pid)) => {
                    push!("parent_code", "out_of_scope", "上级党组织超出您的管理范围".into());
                }
                ParentRef::None if !by.scope.all => push!("parent_code", "out_of_scope", "只有全单位范围的政工部门可以创建顶级组织".into()),
                _ => {}
            },
        }
        if !problems.is_empty() {
            report.problems.extend(problems);
            report.invalid += 1;
            continue;
        }
        match existing {
            Some(e) if OrgValues::of(e) == values => report.unchanged += 1,
            Some(e) => {
                report.updated += 1;
                plan.push(Planned::Update(e.id, values));
            }
            None => {
                report.created += 1;
                new_codes.insert(values.code.clone(), (plan.len(), kind));
                plan.push(Planned::Create(values, parent_ref));
            }
        }
    }

    report.committed = !options.dry_run && (report.invalid == 0 || options.skip_invalid);
    if !report.committed {
        progress(total, total);
        return Ok(());
    }
    let all = total + plan.len();
    progress(total, all);
    // Ids of the orgs created, by their index in the plan (for children on later rows).
    let mut created: HashMap<usize, i64> = HashMap::new();
    let with_import = |org: Option<crate::orgs::types::Org>| {
        org.map(|o| {
            let mut v = serde_json::to_value(o).unwrap_or_default();
            if let Some(m) = v.as_object_mut() {
                m.insert("import_id".into(), import_id.into());
            }
            v
        })
    };
    for (i, item) in plan.into_iter().enumerate() {
        if i % 500 == 0 && i > 0 {
            progress(total + i, all);
        }
        match item {
            Planned::Create(v, parent_ref) => {
                let parent_id = match parent_ref {
                    ParentRef::None => None,
                    ParentRef::Stored(id) => Some(id),
                    // A parent row skipped as invalid (skip_invalid): this row cannot be placed.
                    ParentRef::New(j) => match created.get(&j) {
                        Some(id) => Some(*id),
                        None => continue,
                    },
                };
                let id: i64 = diesel::insert_into(orgs::table)
                    .values((
                        orgs::external_id.eq(&v.external_id),
                        orgs::code.eq(&v.code),
                        orgs::name.eq(&v.name),
                        orgs::kind.eq(v.kind.as_str()),
                        orgs::parent_id.eq(parent_id),
                        orgs::founded_on.eq(v.founded_on),
                        orgs::term_start.eq(v.term_start),
                        orgs::term_end.eq(v.term_end),
                    ))
                    .returning(orgs::id)
                    .get_result(conn)
                    .await?;
                created.insert(i, id);
                let after = with_import(crate::orgs::queries::get(conn, id).await?);
                audit::record(conn, by.by(), "import", "org", Some(id), None::<&()>, after.as_ref()).await?;
            }
            Planned::Update(id, v) => {
                let before = crate::orgs::queries::get(conn, id).await?;
                diesel::update(orgs::table.find(id))
                    .set((
                        orgs::external_id.eq(&v.external_id),
                        orgs::code.eq(&v.code),
                        orgs::name.eq(&v.name),
                        orgs::founded_on.eq(v.founded_on),
                        orgs::term_start.eq(v.term_start),
                        orgs::term_end.eq(v.term_end),
                        orgs::version.eq(orgs::version + 1),
                        orgs::updated_at.eq(diesel::dsl::now),
                    ))
                    .execute(conn)
                    .await?;
                let after = with_import(crate::orgs::queries::get(conn, id).await?);
                audit::record(conn, by.by(), "import", "org", Some(id), before.as_ref(), after.as_ref()).await?;
            }
        }
    }
    progress(all, all);
    Ok(())
}
