//! The ledger as an XLSX workbook (rust_xlsxwriter): its [`Sections`] as four sheets — 封面概况
//! (基本情况 and 组织生活开展情况), 会议记录, 党员名册, 党员变动 — each with its title, a header row
//! repeated on every printed page, wrapped text, numbers and dates as such, and the watermark
//! (docs/domain.md, Confidentiality: 内部资料, who exported it and when) under the table and in the
//! page footer. A year of one branch is small, so the workbook is written in memory, on a blocking
//! thread by the caller.

use rust_xlsxwriter::{Color, DocProperties, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};

use super::data::Ledger;
use super::sections::{Align, Cell, Column, Section, Sections, Table};
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
fn page_setup(ws: &mut Worksheet, s: &Sections, landscape: bool) {
    if landscape {
        ws.set_landscape();
    }
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_print_center_horizontally(true);
    ws.set_header(format!("&C{}", footer_text(&s.full_title)));
    ws.set_footer(format!("&L{}&C第 &P 页，共 &N 页&R{}", footer_text(s.watermark.confidential), footer_text(&s.watermark.exported)));
}

/// Title (row 0) and subtitle (row 1) over `cols` columns.
fn heading(ws: &mut Worksheet, fm: &Formats, s: &Sections, cols: usize, title: &str) -> Result<(), AppError> {
    let last = cols.saturating_sub(1);
    put(ws, 0, 0, last, &format!("{}{}", s.org_name, title), &fm.title)?;
    ws.set_row_height(0, 30).map_err(xerr)?;
    put(ws, 1, 0, last, &s.subtitle, &fm.subtitle)?;
    Ok(())
}

/// The column headers at row `r` and the columns' widths.
fn header_row(ws: &mut Worksheet, fm: &Formats, r: usize, columns: &[Column]) -> Result<(), AppError> {
    for (i, c) in columns.iter().enumerate() {
        ws.write_string_with_format(r32(r)?, c16(i)?, c.header, &fm.head).map_err(xerr)?;
        ws.set_column_width(c16(i)?, c.width).map_err(xerr)?;
    }
    Ok(())
}

fn cell(ws: &mut Worksheet, fm: &Formats, r: usize, c: usize, value: &Cell, align: Align) -> Result<(), AppError> {
    let (r, c) = (r32(r)?, c16(c)?);
    match value {
        Cell::Text(s) => {
            let format = match align {
                Align::Center => &fm.center,
                Align::Left => &fm.text,
            };
            ws.write_string_with_format(r, c, clip(s), format)
        }
        Cell::Number(n) => ws.write_number_with_format(r, c, *n as f64, &fm.number),
        Cell::Date(d) => ws.write_date_with_format(r, c, *d, &fm.date),
        Cell::Blank => ws.write_blank(r, c, &fm.center),
    }
    .map_err(xerr)?;
    Ok(())
}

/// The table's header at row `r`, then its rows (or what it says when there are none); answers
/// the next row.
fn table(ws: &mut Worksheet, fm: &Formats, mut r: usize, t: &Table) -> Result<usize, AppError> {
    header_row(ws, fm, r, &t.columns)?;
    r += 1;
    if t.rows.is_empty() {
        put(ws, r, 0, t.columns.len().saturating_sub(1), t.empty, &fm.text)?;
        r += 1;
    }
    for row in &t.rows {
        for (c, (value, column)) in row.cells.iter().zip(&t.columns).enumerate() {
            cell(ws, fm, r, c, value, column.align)?;
        }
        r += 1;
    }
    Ok(r)
}

/// The section's summary and notes from row `r` over `cols` columns; answers the next row.
fn closing(ws: &mut Worksheet, fm: &Formats, mut r: usize, cols: usize, s: &Section) -> Result<usize, AppError> {
    let last = cols.saturating_sub(1);
    for line in &s.summary {
        put(ws, r, 0, last, line, &fm.note)?;
        r += 1;
    }
    for note in &s.notes {
        put(ws, r, 0, last, note, &fm.note)?;
        ws.set_row_height(r32(r)?, 27).map_err(xerr)?;
        r += 1;
    }
    Ok(r)
}

fn watermark_row(ws: &mut Worksheet, fm: &Formats, s: &Sections, r: usize, cols: usize) -> Result<(), AppError> {
    put(ws, r, 0, cols.saturating_sub(1), &s.watermark.line, &fm.mark)
}

/// 封面概况: 基本情况 (label | value over the table's width), then 组织生活开展情况.
fn cover(wb: &mut Workbook, fm: &Formats, s: &Sections) -> Result<(), AppError> {
    let ws = wb.add_worksheet();
    ws.set_name(SHEETS[0]).map_err(xerr)?;
    let activity = s.activity.table.as_ref().ok_or_else(|| AppError::internal("the ledger's activity table"))?;
    let cols = activity.columns.len();
    heading(ws, fm, s, cols, &s.title)?;
    let mut r = 3;
    put(ws, r, 0, cols - 1, &s.overview.heading(), &fm.section)?;
    r += 1;
    for (label, value) in &s.overview.facts {
        ws.write_string_with_format(r32(r)?, 0, label, &fm.label).map_err(xerr)?;
        put(ws, r, 1, cols - 1, value, &fm.text)?;
        r += 1;
    }
    r += 1;
    put(ws, r, 0, cols - 1, &s.activity.heading(), &fm.section)?;
    r = table(ws, fm, r + 1, activity)?;
    r = closing(ws, fm, r + 1, cols, &s.activity)?;
    watermark_row(ws, fm, s, r, cols)?;
    page_setup(ws, s, true);
    Ok(())
}

/// A sheet of one section's table: the header repeated on each printed page and frozen.
fn table_sheet(wb: &mut Workbook, fm: &Formats, s: &Sections, name: &str, section: &Section, landscape: bool) -> Result<(), AppError> {
    let ws = wb.add_worksheet();
    ws.set_name(name).map_err(xerr)?;
    let t = section.table.as_ref().ok_or_else(|| AppError::internal(format!("the ledger's table {name}")))?;
    let cols = t.columns.len();
    heading(ws, fm, s, cols, &section.title)?;
    ws.set_repeat_rows(2, 2).map_err(xerr)?;
    ws.set_freeze_panes(3, 0).map_err(xerr)?;
    let mut r = table(ws, fm, 2, t)?;
    if !(section.summary.is_empty() && section.notes.is_empty()) {
        r = closing(ws, fm, r + 1, cols, section)?;
    }
    watermark_row(ws, fm, s, r + 1, cols)?;
    page_setup(ws, s, landscape);
    Ok(())
}

/// The workbook's bytes.
pub fn write(ledger: &Ledger) -> Result<Vec<u8>, AppError> {
    let s = Sections::of(ledger);
    let mut wb = Workbook::new();
    wb.set_properties(
        &DocProperties::new().set_title(&s.full_title).set_author(&ledger.generated_by).set_company(&ledger.org_name).set_comment(&s.watermark.line),
    );
    let fm = Formats::new();
    cover(&mut wb, &fm, &s)?;
    table_sheet(&mut wb, &fm, &s, SHEETS[1], &s.meetings, true)?;
    table_sheet(&mut wb, &fm, &s, SHEETS[2], &s.roster, false)?;
    table_sheet(&mut wb, &fm, &s, SHEETS[3], &s.changes, false)?;
    wb.save_to_buffer().map_err(xerr)
}
