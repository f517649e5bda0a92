//! The report's tables (党内统计报表), as data: the JSON answer carries them as they are and the
//! workbook lays each out on a sheet. As in the 年报's own tables, the rows are the units below
//! the report's org: first the total (合计: the org's whole subtree, labelled with its name,
//! `total: true`), then the members the org holds itself (本级) when it holds any, then each
//! direct child org with its whole subtree, by org code. An org without child orgs has the one
//! total row. Every total cell equals the sum of its parts across the row (a total column beside
//! its parts) and down the column (the total row = the sum of the unit rows, checked by
//! [`check_sums`]), and the tables agree with each other row by row (the year-end count of
//! 党员总数及增减 = 基本情况's total = each dimension table's total = 上年底 + 增加 − 减少).

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::changes::{Changes, GAINED, LOST};

/// One header cell; a cell spanning columns or rows is merged in the workbook.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct HeaderCell {
    #[schema(example = "性别")]
    pub text: String,
    #[schema(example = 2)]
    pub colspan: u16,
    #[schema(example = 1)]
    pub rowspan: u16,
}

/// A data row: its label (the first column) and one figure per remaining column.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct TableRow {
    #[schema(example = "机关党委")]
    pub label: String,
    #[schema(example = json!([5, 3, 2]))]
    pub values: Vec<i64>,
    /// The total row (合计, the first): the whole subtree, the sum of the rows below it.
    pub total: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct Table {
    /// totals, basic, joined_period, education, age, job_category, orgs, changes
    #[schema(example = "basic")]
    pub key: String,
    #[schema(example = "党员基本情况")]
    pub title: String,
    /// Header rows, laid out as an HTML table's: a cell takes the next column free of cells
    /// spanning down from the rows above.
    pub header: Vec<Vec<HeaderCell>>,
    pub rows: Vec<TableRow>,
    pub notes: Vec<String>,
}

/// One bucket of a dimension: what `stats` counts, under its stable key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub key: String,
    pub label: String,
    pub count: i64,
}

/// The count of the bucket `key` (0 when the unit has none).
fn count_of(parts: &[Part], key: &str) -> i64 {
    parts.iter().find(|p| p.key == key).map_or(0, |p| p.count)
}

/// The figures of the subtree on the report date that the dimension tables show (from
/// `stats::queries::structure`).
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub total: i64,
    pub gender: Vec<Part>,
    pub ethnicity: Vec<Part>,
    pub category: Vec<Part>,
    pub joined_period: Vec<Part>,
    pub education: Vec<Part>,
    pub college_or_above: i64,
    pub age: Vec<Part>,
    pub job_category: Vec<Part>,
    pub orgs_total: i64,
    pub orgs_by_kind: Vec<Part>,
    pub term_expired: usize,
    /// Branches with fewer than 3 full members, when known.
    pub below_three_full: Option<usize>,
}

impl Figures {
    pub fn from_structure(s: &crate::stats::types::Structure) -> Figures {
        Figures {
            orgs_total: s.orgs.total,
            orgs_by_kind: parts(&s.orgs.by_kind),
            term_expired: s.alerts.term_expired.len(),
            below_three_full: Some(s.alerts.below_three_full.len()),
            ..Figures::of_members(s.total, s.college_or_above, &s.dimensions)
        }
    }

    /// A unit's figures: its members' dimensions (from `stats::queries::structure_by_child`) and
    /// its orgs by kind; the alerts stay with the total.
    pub fn from_child(c: &crate::stats::queries::ChildStructure, orgs_by_kind: Vec<Part>) -> Figures {
        Figures {
            orgs_total: orgs_by_kind.iter().map(|p| p.count).sum(),
            orgs_by_kind,
            term_expired: 0,
            below_three_full: None,
            ..Figures::of_members(c.total, c.college_or_above, &c.dimensions)
        }
    }

    /// The members' part, the same for the whole subtree and for a unit; no orgs, no alerts.
    fn of_members(total: i64, college_or_above: i64, d: &crate::stats::types::Dimensions) -> Figures {
        Figures {
            total,
            gender: parts(&d.gender),
            ethnicity: parts(&d.ethnicity),
            category: parts(&d.category),
            joined_period: parts(&d.joined_period),
            education: parts(&d.education),
            college_or_above,
            age: parts(&d.age_band),
            job_category: parts(&d.job_category),
            ..Figures::default()
        }
    }
}

fn parts(v: &[crate::stats::types::Bucket]) -> Vec<Part> {
    v.iter().map(|b| Part { key: b.key.clone(), label: b.label.clone(), count: b.count }).collect()
}

fn add_parts(into: &mut Vec<Part>, from: &[Part]) {
    for p in from {
        match into.iter_mut().find(|q| q.key == p.key) {
            Some(q) => q.count += p.count,
            None => into.push(p.clone()),
        }
    }
}

impl Figures {
    /// Adds another unit's figures (bucket by bucket, by key), for a row folding several units.
    pub fn add(&mut self, o: &Figures) {
        self.total += o.total;
        self.college_or_above += o.college_or_above;
        self.orgs_total += o.orgs_total;
        for (into, from) in [
            (&mut self.gender, &o.gender),
            (&mut self.ethnicity, &o.ethnicity),
            (&mut self.category, &o.category),
            (&mut self.joined_period, &o.joined_period),
            (&mut self.education, &o.education),
            (&mut self.age, &o.age),
            (&mut self.job_category, &o.job_category),
            (&mut self.orgs_by_kind, &o.orgs_by_kind),
        ] {
            add_parts(into, from);
        }
    }
}

/// One row of every table: the total (the org's subtree) or a unit below it.
#[derive(Debug, Clone)]
pub struct Unit {
    pub label: String,
    pub total: bool,
    pub figures: Figures,
    pub changes: Changes,
    /// Shown in the tables of members (a unit without members at either date and without
    /// changes is left out of them, but may still count orgs).
    pub has_members: bool,
}

/// What the tables are about.
pub struct Context {
    pub as_of: NaiveDate,
    pub previous: NaiveDate,
    /// Members who moved between units in the period (counted as 转入 and 转出 in the total).
    pub internal_moves: i64,
}

fn cell(text: &str, colspan: u16, rowspan: u16) -> HeaderCell {
    HeaderCell { text: text.to_string(), colspan, rowspan }
}

fn span(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

pub fn zh_date(d: NaiveDate) -> String {
    d.format("%Y年%-m月%-d日").to_string()
}

/// The rows of a table of members: the total, then the units holding members.
fn member_rows(units: &[Unit]) -> impl Iterator<Item = &Unit> {
    units.iter().filter(|u| u.total || u.has_members)
}

fn row(u: &Unit, values: Vec<i64>) -> TableRow {
    TableRow { label: u.label.clone(), values, total: u.total }
}

/// A group of columns: its title, and the buckets of a unit's figures under it.
type Group<'a> = (&'a str, fn(&Figures) -> &[Part]);

/// 单位 | 党员总数 | for each group, its parts under the group's title; the columns are the
/// total's buckets (every bucket any unit has), each unit's figures looked up by bucket key.
fn dimension_table(key: &str, title: &str, units: &[Unit], groups: &[Group], notes: Vec<String>) -> Table {
    let Some(total) = units.first() else {
        return Table { key: key.into(), title: title.into(), header: vec![], rows: vec![], notes };
    };
    let mut top = vec![cell("单位", 1, 2), cell("党员总数", 1, 2)];
    let mut second = Vec::new();
    for (name, parts) in groups {
        let parts = parts(&total.figures);
        top.push(cell(name, span(parts.len()), 1));
        second.extend(parts.iter().map(|p| cell(&p.label, 1, 1)));
    }
    let rows = member_rows(units)
        .map(|u| {
            let mut values = vec![u.figures.total];
            for (_, parts) in groups {
                values.extend(parts(&total.figures).iter().map(|p| count_of(parts(&u.figures), &p.key)));
            }
            row(u, values)
        })
        .collect();
    Table { key: key.into(), title: title.into(), header: vec![top, second], rows, notes }
}

const UNITS_NOTE: &str = "第一行为合计（本组织及所属各级组织）；其下为本级（本组织直接管理的党员）和各直属组织（含其所属组织），合计等于各行之和。";

/// The eight tables, in the report's order. `units[0]` is the total (the org's whole subtree),
/// the rest the units below it in the order of the rows.
pub fn build(ctx: &Context, units: &[Unit]) -> Vec<Table> {
    let Some(total) = units.first() else { return Vec::new() };
    let f = &total.figures;
    let prev = zh_date(ctx.previous);
    let now = zh_date(ctx.as_of);
    let broken_down = units.len() > 1;
    let with_units = |mut notes: Vec<String>| {
        if broken_down {
            notes.push(UNITS_NOTE.into());
        }
        notes
    };
    let moves_note = (broken_down && ctx.internal_moves > 0)
        .then(|| format!("合计的本期增加、减少各含所属单位之间转移组织关系的党员 {} 人（分别计入转入、转出组织关系，增减相抵）。", ctx.internal_moves));
    let totals = Table {
        key: "totals".into(),
        title: "党员总数及增减情况".into(),
        header: vec![
            vec![
                cell("单位", 1, 2),
                cell(&format!("上年底党员数（{prev}）"), 3, 1),
                cell("本期增加", 1, 2),
                cell("本期减少", 1, 2),
                cell(&format!("本期末党员数（{now}）"), 3, 1),
            ],
            vec![cell("合计", 1, 1), cell("正式党员", 1, 1), cell("预备党员", 1, 1), cell("合计", 1, 1), cell("正式党员", 1, 1), cell("预备党员", 1, 1)],
        ],
        rows: member_rows(units)
            .map(|u| {
                let c = &u.changes;
                row(
                    u,
                    vec![
                        c.previous.total,
                        c.previous.full,
                        c.previous.probationary,
                        c.gained_total(),
                        c.lost_total(),
                        c.current.total,
                        c.current.full,
                        c.current.probationary,
                    ],
                )
            })
            .collect(),
        notes: with_units(
            [
                Some(format!("本期末党员数 = 上年底党员数 + 本期增加 − 本期减少；本期为 {prev}（不含）至 {now}（含）。")),
                Some("党员数为党籍状态“正常”、组织关系在本组织及所属组织的党员，按当日的党员历史记录统计。".into()),
                moves_note.clone(),
            ]
            .into_iter()
            .flatten()
            .collect(),
        ),
    };
    let basic = dimension_table(
        "basic",
        "党员基本情况",
        units,
        &[("性别", |f| &f.gender), ("民族", |f| &f.ethnicity), ("党员类别", |f| &f.category)],
        with_units(vec![format!("其中大专及以上学历 {} 人。", f.college_or_above)]),
    );
    let joined = dimension_table("joined_period", "党员入党时间", units, &[("入党时间", |f| &f.joined_period)], with_units(vec![]));
    let education = dimension_table(
        "education",
        "党员学历",
        units,
        &[("学历", |f| &f.education)],
        with_units(vec![format!("大专及以上（研究生、大学本科、大学专科）合计 {} 人。", f.college_or_above)]),
    );
    let age = dimension_table("age", "党员年龄", units, &[("年龄", |f| &f.age)], with_units(vec![format!("年龄按 {now} 计算。")]));
    let job = dimension_table("job_category", "党员工作岗位", units, &[("工作岗位", |f| &f.job_category)], with_units(vec![]));
    let mut orgs_top = vec![cell("单位", 1, 2), cell("党组织总数", 1, 2), cell("按类别", span(f.orgs_by_kind.len()), 1)];
    if f.orgs_by_kind.is_empty() {
        orgs_top.pop();
    }
    let orgs = Table {
        key: "orgs".into(),
        title: "党组织情况".into(),
        header: vec![orgs_top, f.orgs_by_kind.iter().map(|p| cell(&p.label, 1, 1)).collect()],
        // Every unit: the org itself counts in its 本级 row.
        rows: units
            .iter()
            .filter(|u| u.total || u.figures.orgs_total > 0 || u.has_members)
            .map(|u| row(u, std::iter::once(u.figures.orgs_total).chain(f.orgs_by_kind.iter().map(|p| count_of(&u.figures.orgs_by_kind, &p.key))).collect()))
            .collect(),
        notes: with_units(vec![
            "党组织数含本组织及所属各级党组织。".into(),
            match f.below_three_full {
                Some(n) => format!("届满未换届的党组织 {} 个；正式党员不足 3 人的党支部 {n} 个。", f.term_expired),
                None => format!("届满未换届的党组织 {} 个。", f.term_expired),
            },
        ]),
    };
    let top = vec![
        cell("单位", 1, 2),
        cell("上年底党员数", 1, 2),
        cell("本期增加", span(GAINED.len() + 1), 1),
        cell("本期减少", span(LOST.len() + 1), 1),
        cell("本期末党员数", 1, 2),
    ];
    let mut second = vec![cell("合计", 1, 1)];
    second.extend(GAINED.iter().map(|(_, l)| cell(l, 1, 1)));
    second.push(cell("合计", 1, 1));
    second.extend(LOST.iter().map(|(_, l)| cell(l, 1, 1)));
    let changes_row = |c: &Changes| {
        let mut values = vec![c.previous.total, c.gained_total()];
        values.extend(&c.gained);
        values.push(c.lost_total());
        values.extend(&c.lost);
        values.push(c.current.total);
        values
    };
    let changes = Table {
        key: "changes".into(),
        title: "党员增减变化情况".into(),
        header: vec![top, second],
        rows: member_rows(units).map(|u| row(u, changes_row(&u.changes))).collect(),
        notes: with_units(
            [
                Some(format!("统计期间：{prev}（不含）至 {now}（含）。每名党员每个方向只计一次，原因取其在期间内最后一次使其计入（或不再计入）本组织党员数的变动。")),
                Some("发展党员：期间内入党；转入/转出组织关系：组织关系由本组织以外转入或转到本组织以外；恢复党籍：由停止党籍等状态恢复为正常；出党：含开除党籍、退党除名等。".into()),
                broken_down.then(|| "各单位行：党员计入期末（增加）或上年底（减少）其组织关系所在的单位；在所属单位之间转移组织关系的党员，计入转出单位的转出组织关系和转入单位的转入组织关系。".to_string()),
                moves_note,
            ]
            .into_iter()
            .flatten()
            .collect(),
        ),
    };
    vec![totals, basic, joined, education, age, job, orgs, changes]
}

/// Every total cell equals the sum of its parts down the column: the total row (the first) is
/// the sum of the other rows. A report breaking it must not go out.
pub fn check_sums(t: &Table) -> Result<(), String> {
    let Some((total, parts)) = t.rows.split_first() else { return Ok(()) };
    if parts.is_empty() {
        return Ok(());
    }
    for (j, v) in total.values.iter().enumerate() {
        let sum: i64 = parts.iter().map(|r| r.values.get(j).copied().unwrap_or(0)).sum();
        if sum != *v {
            return Err(format!("table {}: column {} totals {v}, its rows add up to {sum}", t.key, j + 1));
        }
    }
    Ok(())
}

/// The number of columns a header spans (its first row's colspans).
pub fn width(t: &Table) -> usize {
    t.header.first().map_or(1, |r| r.iter().map(|c| usize::from(c.colspan)).sum())
}
