//! The report's tables (党内统计报表), as data: the JSON answer carries them as they are and the
//! workbook lays each out on a sheet. One row per table: the subtree of the report's org, with
//! every total beside its parts, so that each total cell equals the sum of its parts and the
//! tables agree with each other (the year-end count of 党员总数及增减 = 基本情况's total = each
//! dimension table's total = 上年底 + 增加 − 减少).

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
    /// A total row (合计): the whole subtree.
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

/// One bucket of a dimension: what `stats` counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub label: String,
    pub count: i64,
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
        let parts = |v: &[crate::stats::types::Bucket]| v.iter().map(|b| Part { label: b.label.clone(), count: b.count }).collect::<Vec<_>>();
        let d = &s.dimensions;
        Figures {
            total: s.total,
            gender: parts(&d.gender),
            ethnicity: parts(&d.ethnicity),
            category: parts(&d.category),
            joined_period: parts(&d.joined_period),
            education: parts(&d.education),
            college_or_above: s.college_or_above,
            age: parts(&d.age_band),
            job_category: parts(&d.job_category),
            orgs_total: s.orgs.total,
            orgs_by_kind: parts(&s.orgs.by_kind),
            term_expired: s.alerts.term_expired.len(),
            below_three_full: Some(s.alerts.below_three_full.len()),
        }
    }
}

/// What the tables are about.
pub struct Context<'a> {
    pub org_name: &'a str,
    pub as_of: NaiveDate,
    pub previous: NaiveDate,
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

/// A table of one row: 单位 | 合计 | for each group, its parts under the group's title.
fn dimension_table(key: &str, title: &str, ctx: &Context, total: i64, groups: &[(&str, &[Part])], notes: Vec<String>) -> Table {
    let mut top = vec![cell("单位", 1, 2), cell("党员总数", 1, 2)];
    let mut second = Vec::new();
    let mut values = vec![total];
    for (name, parts) in groups {
        top.push(cell(name, span(parts.len()), 1));
        for p in *parts {
            second.push(cell(&p.label, 1, 1));
            values.push(p.count);
        }
    }
    Table {
        key: key.into(),
        title: title.into(),
        header: vec![top, second],
        rows: vec![TableRow { label: ctx.org_name.to_string(), values, total: true }],
        notes,
    }
}

/// The eight tables, in the report's order.
pub fn build(ctx: &Context, f: &Figures, c: &Changes) -> Vec<Table> {
    let prev = zh_date(ctx.previous);
    let now = zh_date(ctx.as_of);
    let totals = Table {
        key: "totals".into(),
        title: "党员总数及增减情况".into(),
        header: vec![
            vec![cell("单位", 1, 2), cell(&format!("上年底党员数（{prev}）"), 3, 1), cell("本期增加", 1, 2), cell("本期减少", 1, 2), cell(&format!("本期末党员数（{now}）"), 3, 1)],
            vec![cell("合计", 1, 1), cell("正式党员", 1, 1), cell("预备党员", 1, 1), cell("合计", 1, 1), cell("正式党员", 1, 1), cell("预备党员", 1, 1)],
        ],
        rows: vec![TableRow {
            label: ctx.org_name.to_string(),
            values: vec![
                c.previous.total,
                c.previous.full,
                c.previous.probationary,
                c.gained_total(),
                c.lost_total(),
                c.current.total,
                c.current.full,
                c.current.probationary,
            ],
            total: true,
        }],
        notes: vec![
            format!("本期末党员数 = 上年底党员数 + 本期增加 − 本期减少；本期为 {prev}（不含）至 {now}（含）。"),
            "党员数为党籍状态“正常”、组织关系在本组织及所属组织的党员，按当日的党员历史记录统计。".into(),
        ],
    };
    let basic = dimension_table(
        "basic",
        "党员基本情况",
        ctx,
        f.total,
        &[("性别", &f.gender), ("民族", &f.ethnicity), ("党员类别", &f.category)],
        vec![format!("其中大专及以上学历 {} 人。", f.college_or_above)],
    );
    let joined = dimension_table("joined_period", "党员入党时间", ctx, f.total, &[("入党时间", &f.joined_period)], vec![]);
    let education = dimension_table(
        "education",
        "党员学历",
        ctx,
        f.total,
        &[("学历", &f.education)],
        vec![format!("大专及以上（研究生、大学本科、大学专科）合计 {} 人。", f.college_or_above)],
    );
    let age = dimension_table("age", "党员年龄", ctx, f.total, &[("年龄", &f.age)], vec![format!("年龄按 {now} 计算。")]);
    let job = dimension_table("job_category", "党员工作岗位", ctx, f.total, &[("工作岗位", &f.job_category)], vec![]);
    let mut orgs_top = vec![cell("单位", 1, 2), cell("党组织总数", 1, 2), cell("按类别", span(f.orgs_by_kind.len()), 1)];
    if f.orgs_by_kind.is_empty() {
        orgs_top.pop();
    }
    let orgs = Table {
        key: "orgs".into(),
        title: "党组织情况".into(),
        header: vec![orgs_top, f.orgs_by_kind.iter().map(|p| cell(&p.label, 1, 1)).collect()],
        rows: vec![TableRow {
            label: ctx.org_name.to_string(),
            values: std::iter::once(f.orgs_total).chain(f.orgs_by_kind.iter().map(|p| p.count)).collect(),
            total: true,
        }],
        notes: vec![
            "党组织数含本组织及所属各级党组织。".into(),
            match f.below_three_full {
                Some(n) => format!("届满未换届的党组织 {} 个；正式党员不足 3 人的党支部 {n} 个。", f.term_expired),
                None => format!("届满未换届的党组织 {} 个。", f.term_expired),
            },
        ],
    };
    let top = vec![cell("单位", 1, 2), cell("上年底党员数", 1, 2), cell("本期增加", span(GAINED.len() + 1), 1), cell("本期减少", span(LOST.len() + 1), 1), cell("本期末党员数", 1, 2)];
    let mut second = vec![cell("合计", 1, 1)];
    second.extend(GAINED.iter().map(|(_, l)| cell(l, 1, 1)));
    second.push(cell("合计", 1, 1));
    second.extend(LOST.iter().map(|(_, l)| cell(l, 1, 1)));
    let mut values = vec![c.previous.total, c.gained_total()];
    values.extend(&c.gained);
    values.push(c.lost_total());
    values.extend(&c.lost);
    values.push(c.current.total);
    let changes = Table {
        key: "changes".into(),
        title: "党员增减变化情况".into(),
        header: vec![top, second],
        rows: vec![TableRow { label: ctx.org_name.to_string(), values, total: true }],
        notes: vec![
            format!("统计期间：{prev}（不含）至 {now}（含）。每名党员每个方向只计一次，原因取其在期间内最后一次使其计入（或不再计入）本组织党员数的变动。"),
            "发展党员：期间内入党；转入/转出组织关系：组织关系由本组织以外转入或转到本组织以外；恢复党籍：由停止党籍等状态恢复为正常；出党：含开除党籍、退党除名等。".into(),
        ],
    };
    vec![totals, basic, joined, education, age, job, orgs, changes]
}

/// The number of columns a header spans (its first row's colspans).
pub fn width(t: &Table) -> usize {
    t.header.first().map_or(1, |r| r.iter().map(|c| usize::from(c.colspan)).sum())
}
