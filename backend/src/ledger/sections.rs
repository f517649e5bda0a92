//! What the ledger says, composed once for both formats: the title and subtitle, the watermark's
//! texts, and five sections — 基本情况 (label | value facts), 组织生活开展情况 (a table and notes),
//! 会议记录, 党员名册 and 党员变动 (tables with their totals) — each a table of typed cells with
//! its column headers and width hints. `workbook` writes them as sheets, `pdf` lays them out on
//! pages; neither composes text of its own, so the two cannot drift.

use chrono::NaiveDate;

use super::data::{CONFIDENTIAL, Ledger, Meeting};

/// How a column's cells sit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Wrapped text, from the top left.
    Left,
    /// Short values, centred.
    Center,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub header: &'static str,
    /// The width in characters of a spreadsheet column (the PDF takes the proportions).
    pub width: f64,
    pub align: Align,
    /// Said in the row's caption: a layout showing each row as a record leaves it out of the
    /// record's lines.
    pub caption: bool,
    /// Left out of a record's lines when empty.
    pub optional: bool,
}

const fn col(header: &'static str, width: f64, align: Align) -> Column {
    Column { header, width, align, caption: false, optional: false }
}

const fn caption(c: Column) -> Column {
    Column { caption: true, ..c }
}

const fn optional(c: Column) -> Column {
    Column { optional: true, ..c }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(i64),
    Date(NaiveDate),
    Blank,
}

impl Cell {
    /// The cell as text ("" when blank).
    pub fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Number(n) => n.to_string(),
            Cell::Date(d) => d.to_string(),
            Cell::Blank => String::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Text(s) => s.trim().is_empty(),
            Cell::Blank => true,
            _ => false,
        }
    }
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The row as one line ("1. 2026-03-12　支部党员大会　主题") for a layout that shows rows as
    /// records; empty otherwise.
    pub caption: String,
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    /// Said instead of the rows when there are none.
    pub empty: &'static str,
    /// Rows shown as records (a caption and label | value lines) where the page is too narrow
    /// for the columns.
    pub records: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// 一, 二, …
    pub number: &'static str,
    pub title: String,
    /// Label | value lines before the table.
    pub facts: Vec<(String, String)>,
    pub table: Option<Table>,
    /// Totals after the table.
    pub summary: Vec<String>,
    /// Remarks ("注：…").
    pub notes: Vec<String>,
}

impl Section {
    /// "一、基本情况"
    pub fn heading(&self) -> String {
        format!("{}、{}", self.number, self.title)
    }
}

/// The confidentiality marks (docs/domain.md, Confidentiality).
#[derive(Debug, Clone, PartialEq)]
pub struct Watermark {
    /// "内部资料 注意保密"
    pub confidential: &'static str,
    /// "张三 导出于 2026-11-30 10:00"
    pub exported: String,
    /// "内部资料 注意保密 · 张三 导出于 2026-11-30 10:00"
    pub line: String,
    /// Across a page: "内部资料 注意保密　张三"
    pub across: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sections {
    pub org_name: String,
    /// "支部工作台账（2026年）"
    pub title: String,
    /// "机关第一党支部支部工作台账（2026年）": the document's title and running head.
    pub full_title: String,
    /// "年度：2026年　　统计至：2026-11-30　　内部资料 注意保密 · 张三 导出于 …"
    pub subtitle: String,
    pub watermark: Watermark,
    pub overview: Section,
    pub activity: Section,
    pub meetings: Section,
    pub roster: Section,
    pub changes: Section,
}

impl Sections {
    pub fn of(ledger: &Ledger) -> Sections {
        let watermark = Watermark {
            confidential: CONFIDENTIAL,
            exported: ledger.exported_mark(),
            line: ledger.watermark(),
            across: format!("{CONFIDENTIAL}　{}", ledger.generated_by),
        };
        Sections {
            org_name: ledger.org_name.clone(),
            title: ledger.title(),
            full_title: format!("{}{}", ledger.org_name, ledger.title()),
            subtitle: format!("年度：{}年　　统计至：{}　　{}", ledger.year, ledger.as_of, watermark.line),
            watermark,
            overview: overview(ledger),
            activity: activity(ledger),
            meetings: meetings(ledger),
            roster: roster(ledger),
            changes: changes(ledger),
        }
    }

    /// The sections in order.
    pub fn all(&self) -> [&Section; 5] {
        [&self.overview, &self.activity, &self.meetings, &self.roster, &self.changes]
    }
}

fn section(number: &'static str, title: impl Into<String>) -> Section {
    Section { number, title: title.into(), facts: Vec::new(), table: None, summary: Vec::new(), notes: Vec::new() }
}

fn overview(ledger: &Ledger) -> Section {
    let officers = |current: bool| {
        ledger
            .officers
            .iter()
            .filter(|o| o.current == current)
            .map(|o| {
                let term = if current { format!("{}起", o.since) } else { format!("{}至{}", o.since, o.until.map(|u| u.to_string()).unwrap_or_default()) };
                format!("{}（{}，{}）", o.name, o.post_zh(), term)
            })
            .collect::<Vec<_>>()
            .join("、")
    };
    let or = |s: String, none: &str| if s.is_empty() { none.to_string() } else { s };
    let t = &ledger.totals;
    let mut s = section("一", "基本情况");
    s.facts = [
        ("组织名称", ledger.org_name.clone()),
        ("组织类别", ledger.org_kind_zh.to_string()),
        ("年度", format!("{}年（统计至 {}）", ledger.year, ledger.as_of)),
        ("书记", ledger.secretary().map_or_else(|| "未设".to_string(), |s| s.name.clone())),
        ("委员会成员", or(officers(true), "未设")),
        ("本年曾任", or(officers(false), "无")),
        (
            "党员人数",
            format!("共 {} 人（正式党员 {} 人，预备党员 {} 人），{}", ledger.full + ledger.probationary, ledger.full, ledger.probationary, ledger.as_of),
        ),
        (
            "党员增减",
            format!("上年底 {} 人，本年增加 {} 人，减少 {} 人，{} 为 {} 人", t.previous.total, t.gained_total(), t.lost_total(), ledger.as_of, t.current.total),
        ),
        ("组织生活", format!("本年召开会议 {} 次（会议记录 {} 条）", ledger.held_total(), ledger.meetings.len())),
    ]
    .into_iter()
    .map(|(l, v)| (l.to_string(), v))
    .collect();
    s
}

const MONTHS: [&str; 12] = ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"];

fn activity(ledger: &Ledger) -> Section {
    let mut columns = vec![col("会议类型", 16.0, Align::Left)];
    columns.extend(MONTHS.map(|m| col(m, 6.0, Align::Center)));
    columns.extend([col("全年", 10.0, Align::Center), col("应召开", 10.0, Align::Center), col("完成情况", 10.0, Align::Center)]);
    let rows = ledger
        .kinds
        .iter()
        .map(|k| {
            let mut cells = vec![text(&k.name)];
            cells.extend(k.by_month.iter().map(|n| Cell::Number(*n)));
            cells.push(Cell::Number(k.held));
            match k.required {
                Some(req) => {
                    cells.push(Cell::Number(req));
                    cells.push(text(if k.held >= req { "已完成".to_string() } else { format!("差 {} 次", req - k.held) }));
                }
                None => cells.extend([text("—"), text("不作要求")]),
            }
            Row { caption: String::new(), cells }
        })
        .collect();
    let mut s = section("二", "组织生活开展情况（已召开次数）");
    s.table = Some(Table { columns, rows, empty: "本年无会议记录，也无应召开的会议", records: false });
    s.notes = vec![
        "注：应召开：本年已开始的各周期内，按组织生活设置（本组织设置、上级组织设置或会议类型默认频次）应召开的次数之和，含所属党小组。".into(),
        "注：发展党员工作：平台尚未记录发展党员工作，本台账暂不包含该部分。".into(),
    ];
    s
}

/// The meetings' columns, in the workbook's order (序号, 会议类型 and 主题 make a record's caption).
pub const MEETING_COLUMNS: [Column; 19] = [
    caption(col("序号", 5.0, Align::Center)),
    col("时间", 17.0, Align::Left),
    col("组织", 14.0, Align::Left),
    caption(col("会议类型", 11.0, Align::Left)),
    caption(col("主题", 24.0, Align::Left)),
    col("地点", 12.0, Align::Left),
    col("主持人", 8.0, Align::Left),
    col("记录人", 8.0, Align::Left),
    col("状态", 7.0, Align::Center),
    col("应到", 5.0, Align::Center),
    col("实到", 5.0, Align::Center),
    col("出席人员", 24.0, Align::Left),
    col("缺席人员及原因", 24.0, Align::Left),
    col("会议记录", 40.0, Align::Left),
    col("决议", 28.0, Align::Left),
    optional(col("表决", 28.0, Align::Left)),
    col("已归档", 7.0, Align::Center),
    optional(col("补充说明", 24.0, Align::Left)),
    optional(col("未登记出席", 16.0, Align::Left)),
];

fn lines(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join("\n")
}

fn meeting_row(i: usize, m: &Meeting) -> Row {
    let mut minutes = m.minutes.clone().unwrap_or_default();
    if let Some(reason) = m.cancel_reason.as_deref().filter(|_| m.status == "cancelled") {
        minutes = format!("取消原因：{reason}\n{minutes}");
    }
    let cells = vec![
        text((i + 1).to_string()),
        text(m.when()),
        text(&m.org_name),
        text(&m.kind_name),
        text(&m.topic),
        text(m.place.clone().unwrap_or_default()),
        text(m.host.clone().unwrap_or_default()),
        text(m.recorder.clone().unwrap_or_default()),
        text(m.status_zh()),
        text(m.due().to_string()),
        text(m.present.len().to_string()),
        text(m.present.join("、")),
        text(m.absent_text()),
        text(minutes.trim()),
        text(lines(m.resolutions.iter().enumerate().map(|(i, r)| format!("{}. {r}", i + 1)))),
        text(m.votes_text().join("\n")),
        text(if m.archived_at.is_some() { "是" } else { "否" }),
        text(lines(m.addenda.iter().map(|a| a.text()))),
        text(m.pending.join("、")),
    ];
    Row { caption: format!("{}. {}　{}　{}", i + 1, m.starts_at.format("%Y-%m-%d"), m.kind_name, m.topic), cells }
}

fn meetings(ledger: &Ledger) -> Section {
    let mut s = section("三", "会议记录");
    s.table = Some(Table {
        columns: MEETING_COLUMNS.to_vec(),
        rows: ledger.meetings.iter().enumerate().map(|(i, m)| meeting_row(i, m)).collect(),
        empty: "本年无会议记录",
        records: true,
    });
    s
}

fn roster(ledger: &Ledger) -> Section {
    let mut s = section("四", format!("党员名册（{}）", ledger.as_of));
    s.table = Some(Table {
        columns: vec![
            col("序号", 6.0, Align::Center),
            col("姓名", 12.0, Align::Left),
            col("性别", 6.0, Align::Center),
            col("所在组织", 22.0, Align::Left),
            col("党员类别", 10.0, Align::Center),
            col("入党日期", 12.0, Align::Center),
            col("转正日期", 12.0, Align::Center),
            col("党籍状态", 10.0, Align::Center),
        ],
        rows: ledger
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| Row {
                caption: String::new(),
                cells: vec![
                    Cell::Number(i as i64 + 1),
                    text(&m.name),
                    text(m.gender_zh()),
                    text(&m.org_name),
                    text(m.category_zh()),
                    Cell::Date(m.joined_at),
                    m.full_member_at.map_or(Cell::Blank, Cell::Date),
                    text(m.status_zh()),
                ],
            })
            .collect(),
        empty: "无党员",
        records: false,
    });
    s.summary =
        vec![format!("合计 {} 人：正式党员 {} 人，预备党员 {} 人（党籍状态正常者）", ledger.full + ledger.probationary, ledger.full, ledger.probationary)];
    s
}

fn changes(ledger: &Ledger) -> Section {
    let mut s = section("五", "党员变动");
    s.table = Some(Table {
        columns: vec![
            col("序号", 6.0, Align::Center),
            col("日期", 12.0, Align::Center),
            col("姓名", 12.0, Align::Left),
            col("变动", 16.0, Align::Center),
            col("说明", 40.0, Align::Left),
        ],
        rows: ledger
            .changes
            .iter()
            .enumerate()
            .map(|(i, c)| Row {
                caption: String::new(),
                cells: vec![Cell::Number(i as i64 + 1), Cell::Date(c.on), text(&c.name), text(c.change), text(&c.detail)],
            })
            .collect(),
        empty: "本年无党员变动",
        records: false,
    });
    let t = &ledger.totals;
    s.summary = vec![format!(
        "上年底党员 {} 人，本年增加 {} 人，减少 {} 人，{} 党员 {} 人（党内统计口径：党籍状态正常者）",
        t.previous.total,
        t.gained_total(),
        t.lost_total(),
        ledger.as_of,
        t.current.total
    )];
    s
}
