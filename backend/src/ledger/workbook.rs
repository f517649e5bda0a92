//! The ledger as an XLSX workbook (rust_xlsxwriter): four sheets — 封面概况, 会议记录, 党员名册,
//! 党员变动 — each with its title, a header row repeated on every printed page, wrapped text, and
//! the watermark (docs/domain.md, Confidentiality: 内部资料, who exported it and when) under the table
//! and in the page footer. A year of one branch is small, so the workbook is written in memory,
//! on a blocking thread by the caller.

use rust_xlsxwriter::{Color, DocProperties, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};

use super::data::{Ledger, Meeting};
use crate::error::AppError;

pub const SHEETS: [&str; 4] = ["封面概况", "会议记录", "党员名册", "党员变动"];

/// An Excel cell holds at most 32,767 characters.
const CELL_MAX: usize = 32_000;

fn xerr(e: XlsxError) -> AppError {
    AppError::internal(format!("writing the ledger workbook: {e}"))
}

fn r32(i: usize) -> Result<u32, AppError> {
    u32::try_from(i).map_err(|_| AppError::internal("ledger sheet too long"))
}

fn c16(i: usize) -> Result<u16, AppError> {
    u16::try_from(i).map_err(|_| AppError::internal("ledger sheet too wide"))
}

/// Escapes `&`, the control character of Excel's header and footer codes.
fn footer_text(s: &str) -> String {
    s.replace('&', "&&")
}

fn clip(s: &str) -> String {
    if s.chars().count() <= CELL_MAX { s.to_string() } else { s.chars().take(CELL_MAX).collect::<String>() + "…" }
}

struct Formats {
    title: Format,
    subtitle: Format,
    head: Format,
    text: Format,
    center: Format,
    number: Format,
    date: Format,
    label: Format,
    section: Format,
    note: Format,
    mark: Format,
}

impl Formats {
    fn new() -> Formats {
        let base = || Format::new().set_font_name("宋体").set_font_size(10);
        let cell = || base().set_border(FormatBorder::Thin).set_align(FormatAlign::VerticalCenter);
        Formats {
            title: base().set_bold().set_font_size(16).set_align(FormatAlign::Center).set_align(FormatAlign::VerticalCenter),
            subtitle: base().set_align(FormatAlign::Left).set_align(FormatAlign::VerticalCenter),
            head: cell().set_bold().set_text_wrap().set_align(FormatAlign::Center).set_background_color(Color::RGB(0xF2_F2_F2)),
            text: cell().set_text_wrap().set_align(FormatAlign::Top),
            center: cell().set_align(FormatAlign::Center),
            number: cell().set_align(FormatAlign::Center).set_num_format("0"),
            date: cell().set_align(FormatAlign::Center).set_num_format("yyyy-mm-dd"),
            label: cell().set_bold().set_background_color(Color::RGB(0xF2_F2_F2)),
            section: base().set_bold().set_font_size(12),
            note: base().set_font_size(9).set_text_wrap().set_align(FormatAlign::Top),
            mark: base().set_font_size(9).set_italic().set_font_color(Color::RGB(0x80_80_80)),
        }
    }
}

/// Writes `text` over columns `c0..=c1` of row `r`, merged when that is more than one cell.
fn put(ws: &mut Worksheet, r: usize, c0: usize, c1: usize, text: &str, format: &Format) -> Result<(), AppError> {
    if c0 == c1 {
        ws.write_string_with_format(r32(r)?, c16(c0)?, clip(text), format).map_err(xerr)?;
    } else {
        ws.merge_range(r32(r)?, c16(c0)?, r32(r)?, c16(c1)?, &clip(text), format).map_err(xerr)?;
    }
    Ok(())
}

/// Page setup shared by the sheets: A4, fit to the page width, the title in the page header and
/// the watermark in the footer with the page numbers.
fn page_setup(ws: &mut Worksheet, ledger: &Ledger, landscape: bool) {
    if landscape {
        ws.set_landscape();
    }
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_print_center_horizontally(true);
    ws.set_header(format!("&C{}", footer_text(&format!("{}{}", ledger.org_name, ledger.title()))));
    ws.set_footer(format!("&L{}&C第 &P 页，共 &N 页&R{}", footer_text(super::data::CONFIDENTIAL), footer_text(&ledger.exported_mark())));
}

/// Title (row 0) and subtitle (row 1) over `cols` columns.
fn heading(ws: &mut Worksheet, fm: &Formats, ledger: &Ledger, cols: usize, title: &str) -> Result<(), AppError> {
    let last = cols.saturating_sub(1);
    put(ws, 0, 0, last, &format!("{}{}", ledger.org_name, title), &fm.title)?;
    ws.set_row_height(0, 30).map_err(xerr)?;
    put(ws, 1, 0, last, &format!("年度：{}年　　统计至：{}　　{}", ledger.year, ledger.as_of, ledger.exported_mark()), &fm.subtitle)?;
    Ok(())
}

fn header_row(ws: &mut Worksheet, fm: &Formats, r: usize, columns: &[(&str, f64)]) -> Result<(), AppError> {
    for (i, (label, width)) in columns.iter().enumerate() {
        ws.write_string_with_format(r32(r)?, c16(i)?, *label, &fm.head).map_err(xerr)?;
        ws.set_column_width(c16(i)?, *width).map_err(xerr)?;
    }
    ws.set_repeat_rows(r32(r)?, r32(r)?).map_err(xerr)?;
    ws.set_freeze_panes(r32(r + 1)?, 0).map_err(xerr)?;
    Ok(())
}

fn watermark_row(ws: &mut Worksheet, fm: &Formats, ledger: &Ledger, r: usize, cols: usize) -> Result<(), AppError> {
    put(ws, r, 0, cols.saturating_sub(1), &ledger.watermark(), &fm.mark)
}

fn cover(wb: &mut Workbook, fm: &Formats, ledger: &Ledger) -> Result<(), AppError> {
    let ws = wb.add_worksheet();
    ws.set_name(SHEETS[0]).map_err(xerr)?;
    // A label column, twelve months, then held / required / state.
    let cols = 16;
    heading(ws, fm, ledger, cols, &ledger.title())?;
    ws.set_column_width(0, 16).map_err(xerr)?;
    for c in 1..13u16 {
        ws.set_column_width(c, 6).map_err(xerr)?;
    }
    for c in 13..16u16 {
        ws.set_column_width(c, 10).map_err(xerr)?;
    }
    let mut r = 3;
    put(ws, r, 0, cols - 1, "一、基本情况", &fm.section)?;
    r += 1;
    let names = |current: bool| {
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
    let t = &ledger.totals;
    let info = [
        ("组织名称", ledger.org_name.clone()),
        ("组织类别", ledger.org_kind_zh.to_string()),
        ("年度", format!("{}年（统计至 {}）", ledger.year, ledger.as_of)),
        ("书记", ledger.secretary().map(|s| s.name.clone()).unwrap_or_else(|| "未设".into())),
        ("委员会成员", Some(names(true)).filter(|s| !s.is_empty()).unwrap_or_else(|| "未设".into())),
        ("本年曾任", Some(names(false)).filter(|s| !s.is_empty()).unwrap_or_else(|| "无".into())),
        (
            "党员人数",
            format!("共 {} 人（正式党员 {} 人，预备党员 {} 人），{}", ledger.full + ledger.probationary, ledger.full, ledger.probationary, ledger.as_of),
        ),
        (
            "党员增减",
            format!("上年底 {} 人，本年增加 {} 人，减少 {} 人，{} 为 {} 人", t.previous.total, t.gained_total(), t.lost_total(), ledger.as_of, t.current.total),
        ),
        ("组织生活", format!("本年召开会议 {} 次（会议记录 {} 条）", ledger.held_total(), ledger.meetings.len())),
    ];
    for (label, value) in info {
        ws.write_string_with_format(r32(r)?, 0, label, &fm.label).map_err(xerr)?;
        put(ws, r, 1, cols - 1, &value, &fm.text)?;
        r += 1;
    }
    r += 1;
    put(ws, r, 0, cols - 1, "二、组织生活开展情况（已召开次数）", &fm.section)?;
    r += 1;
    let mut head: Vec<String> = vec!["会议类型".into()];
    head.extend((1..=12).map(|m| format!("{m}月")));
    head.extend(["全年".to_string(), "应召开".to_string(), "完成情况".to_string()]);
    for (i, h) in head.iter().enumerate() {
        ws.write_string_with_format(r32(r)?, c16(i)?, h, &fm.head).map_err(xerr)?;
    }
    r += 1;
    if ledger.kinds.is_empty() {
        put(ws, r, 0, cols - 1, "本年无会议记录，也无应召开的会议", &fm.text)?;
        r += 1;
    }
    for k in &ledger.kinds {
        ws.write_string_with_format(r32(r)?, 0, &k.name, &fm.text).map_err(xerr)?;
        for (m, n) in k.by_month.iter().enumerate() {
            ws.write_number_with_format(r32(r)?, c16(m + 1)?, *n as f64, &fm.number).map_err(xerr)?;
        }
        ws.write_number_with_format(r32(r)?, 13, k.held as f64, &fm.number).map_err(xerr)?;
        match k.required {
            Some(req) => {
                ws.write_number_with_format(r32(r)?, 14, req as f64, &fm.number).map_err(xerr)?;
                let state = if k.held >= req { "已完成".to_string() } else { format!("差 {} 次", req - k.held) };
                ws.write_string_with_format(r32(r)?, 15, state, &fm.center).map_err(xerr)?;
            }
            None => {
                ws.write_string_with_format(r32(r)?, 14, "—", &fm.center).map_err(xerr)?;
                ws.write_string_with_format(r32(r)?, 15, "不作要求", &fm.center).map_err(xerr)?;
            }
        }
        r += 1;
    }
    r += 1;
    let notes = [
        "应召开：本年已开始的各周期内，按组织生活设置（本组织设置、上级组织设置或会议类型默认频次）应召开的次数之和，含所属党小组。",
        "发展党员工作：平台尚未记录发展党员工作，本台账暂不包含该部分。",
    ];
    for note in notes {
        put(ws, r, 0, cols - 1, &format!("注：{note}"), &fm.note)?;
        ws.set_row_height(r32(r)?, 27).map_err(xerr)?;
        r += 1;
    }
    watermark_row(ws, fm, ledger, r, cols)?;
    page_setup(ws, ledger, true);
    Ok(())
}

fn meeting_cells(i: usize, m: &Meeting) -> Vec<String> {
    let mut minutes = m.minutes.clone().unwrap_or_default();
    if let Some(reason) = m.cancel_reason.as_deref().filter(|_| m.status == "cancelled") {
        minutes = format!("取消原因：{reason}\n{minutes}");
    }
    vec![
        (i + 1).to_string(),
        m.when(),
        m.org_name.clone(),
        m.kind_name.clone(),
        m.topic.clone(),
        m.place.clone().unwrap_or_default(),
        m.host.clone().unwrap_or_default(),
        m.recorder.clone().unwrap_or_default(),
        m.status_zh().to_string(),
        m.due().to_string(),
        m.present.len().to_string(),
        m.present.join("、"),
        m.absent_text(),
        minutes.trim().to_string(),
        m.resolutions.iter().enumerate().map(|(i, r)| format!("{}. {r}", i + 1)).collect::<Vec<_>>().join("\n"),
        m.votes_text().join("\n"),
        if m.archived_at.is_some() { "是".into() } else { "否".into() },
        m.addenda.iter().map(|a| a.text()).collect::<Vec<_>>().join("\n"),
    ]
}

pub const MEETING_COLUMNS: [(&str, f64); 18] = [
    ("序号", 5.0),
    ("时间", 17.0),
    ("组织", 14.0),
    ("会议类型", 11.0),
    ("主题", 24.0),
    ("地点", 12.0),
    ("主持人", 8.0),
    ("记录人", 8.0),
    ("状态", 7.0),
    ("应到", 5.0),
    ("实到", 5.0),
    ("出席人员", 24.0),
    ("缺席人员及原因", 24.0),
    ("会议记录", 40.0),
    ("决议", 28.0),
    ("表决", 28.0),
    ("已归档", 7.0),
    ("补充说明", 24.0),
];

fn meetings(wb: &mut Workbook, fm: &Formats, ledger: &Ledger) -> Result<(), AppError> {
    let ws = wb.add_worksheet();
    ws.set_name(SHEETS[1]).map_err(xerr)?;
    let cols = MEETING_COLUMNS.len();
    heading(ws, fm, ledger, cols, "会议记录")?;
    header_row(ws, fm, 2, &MEETING_COLUMNS)?;
    let mut r = 3;
    if ledger.meetings.is_empty() {
        put(ws, r, 0, cols - 1, "本年无会议记录", &fm.text)?;
        r += 1;
    }
    for (i, m) in ledger.meetings.iter().enumerate() {
        for (c, v) in meeting_cells(i, m).into_iter().enumerate() {
            let format = if matches!(c, 0 | 8 | 9 | 10 | 16) { &fm.center } else { &fm.text };
            ws.write_string_with_format(r32(r)?, c16(c)?, clip(&v), format).map_err(xerr)?;
        }
        r += 1;
    }
    watermark_row(ws, fm, ledger, r + 1, cols)?;
    page_setup(ws, ledger, true);
    Ok(())
}

fn roster(wb: &mut Workbook, fm: &Formats, ledger: &Ledger) -> Result<(), AppError> {
    let ws = wb.add_worksheet();
    ws.set_name(SHEETS[2]).map_err(xerr)?;
    let columns =
        [("序号", 6.0), ("姓名", 12.0), ("性别", 6.0), ("所在组织", 22.0), ("党员类别", 10.0), ("入党日期", 12.0), ("转正日期", 12.0), ("党籍状态", 10.0)];
    let cols = columns.len();
    heading(ws, fm, ledger, cols, &format!("党员名册（{}）", ledger.as_of))?;
    header_row(ws, fm, 2, &columns)?;
    let mut r = 3;
    for (i, m) in ledger.members.iter().enumerate() {
        let row = r32(r)?;
        ws.write_number_with_format(row, 0, (i + 1) as f64, &fm.number).map_err(xerr)?;
        ws.write_string_with_format(row, 1, &m.name, &fm.text).map_err(xerr)?;
        ws.write_string_with_format(row, 2, m.gender_zh(), &fm.center).map_err(xerr)?;
        ws.write_string_with_format(row, 3, &m.org_name, &fm.text).map_err(xerr)?;
        ws.write_string_with_format(row, 4, m.category_zh(), &fm.center).map_err(xerr)?;
        ws.write_date_with_format(row, 5, m.joined_at, &fm.date).map_err(xerr)?;
        match m.full_member_at {
            Some(d) => ws.write_date_with_format(row, 6, d, &fm.date).map_err(xerr)?,
            None => ws.write_blank(row, 6, &fm.center).map_err(xerr)?,
        };
        ws.write_string_with_format(row, 7, m.status_zh(), &fm.center).map_err(xerr)?;
        r += 1;
    }
    if ledger.members.is_empty() {
        put(ws, r, 0, cols - 1, "无党员", &fm.text)?;
        r += 1;
    }
    put(
        ws,
        r,
        0,
        cols - 1,
        &format!("合计 {} 人：正式党员 {} 人，预备党员 {} 人（党籍状态正常者）", ledger.full + ledger.probationary, ledger.full, ledger.probationary),
        &fm.note,
    )?;
    watermark_row(ws, fm, ledger, r + 2, cols)?;
    page_setup(ws, ledger, false);
    Ok(())
}

fn changes(wb: &mut Workbook, fm: &Formats, ledger: &Ledger) -> Result<(), AppError> {
    let ws = wb.add_worksheet();
    ws.set_name(SHEETS[3]).map_err(xerr)?;
    let columns = [("序号", 6.0), ("日期", 12.0), ("姓名", 12.0), ("变动", 16.0), ("说明", 40.0)];
    let cols = columns.len();
    heading(ws, fm, ledger, cols, "党员变动")?;
    header_row(ws, fm, 2, &columns)?;
    let mut r = 3;
    for (i, c) in ledger.changes.iter().enumerate() {
        let row = r32(r)?;
        ws.write_number_with_format(row, 0, (i + 1) as f64, &fm.number).map_err(xerr)?;
        ws.write_date_with_format(row, 1, c.on, &fm.date).map_err(xerr)?;
        ws.write_string_with_format(row, 2, &c.name, &fm.text).map_err(xerr)?;
        ws.write_string_with_format(row, 3, c.change, &fm.center).map_err(xerr)?;
        ws.write_string_with_format(row, 4, &c.detail, &fm.text).map_err(xerr)?;
        r += 1;
    }
    if ledger.changes.is_empty() {
        put(ws, r, 0, cols - 1, "本年无党员变动", &fm.text)?;
        r += 1;
    }
    let t = &ledger.totals;
    put(
        ws,
        r + 1,
        0,
        cols - 1,
        &format!(
            "上年底党员 {} 人，本年增加 {} 人，减少 {} 人，{} 党员 {} 人（党内统计口径：党籍状态正常者）",
            t.previous.total,
            t.gained_total(),
            t.lost_total(),
            ledger.as_of,
            t.current.total
        ),
        &fm.note,
    )?;
    watermark_row(ws, fm, ledger, r + 3, cols)?;
    page_setup(ws, ledger, false);
    Ok(())
}

/// The workbook's bytes.
pub fn write(ledger: &Ledger) -> Result<Vec<u8>, AppError> {
    let mut wb = Workbook::new();
    wb.set_properties(
        &DocProperties::new()
            .set_title(format!("{}{}", ledger.org_name, ledger.title()))
            .set_author(&ledger.generated_by)
            .set_company(&ledger.org_name)
            .set_comment(ledger.watermark()),
    );
    let fm = Formats::new();
    cover(&mut wb, &fm, ledger)?;
    meetings(&mut wb, &fm, ledger)?;
    roster(&mut wb, &fm, ledger)?;
    changes(&mut wb, &fm, ledger)?;
    wb.save_to_buffer().map_err(xerr)
}
