//! The report as one XLSX workbook (rust_xlsxwriter): a sheet per table with its title (the
//! organization and the date in it), merged header cells, borders and column widths, the notes,
//! and the confidentiality watermark (docs/domain.md, Confidentiality: who generated it and when)
//! under each table and in the page footer; the total row bold. Small (eight tables of at most a
//! few hundred rows: the units below the org), so written in memory, on a blocking thread by the
//! caller.

use rust_xlsxwriter::{Color, DocProperties, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};

use super::Report;
use super::tables::{Table, width, zh_date};
use crate::error::AppError;

/// The sheet of each table (at most 31 characters, none of `[]:*?/\`).
fn sheet_name(key: &str, title: &str) -> String {
    let name = match key {
        "totals" => "党员总数及增减",
        "basic" => "基本情况",
        "joined_period" => "入党时间",
        "education" => "学历",
        "age" => "年龄",
        "job_category" => "工作岗位",
        "orgs" => "党组织",
        "changes" => "党员增减及原因",
        _ => title,
    };
    name.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect()
}

const NUMERALS: [&str; 10] = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];

/// 表一 … 表十 (then 表11 …).
fn table_number(i: usize) -> String {
    NUMERALS.get(i).map_or_else(|| format!("表{}", i + 1), |n| format!("表{n}"))
}

/// Display width of a text in Excel's character units (a CJK character takes about two).
fn text_width(s: &str) -> f64 {
    s.chars().map(|c| if c.is_ascii() { 1.1 } else { 2.1 }).sum()
}

/// Escapes `&`, the control character of Excel's header and footer codes.
fn footer_text(s: &str) -> String {
    s.replace('&', "&&")
}

struct Formats {
    title: Format,
    subtitle: Format,
    head: Format,
    label: Format,
    number: Format,
    label_total: Format,
    number_total: Format,
    note: Format,
    mark: Format,
}

impl Formats {
    fn new() -> Formats {
        let font = |f: Format| f.set_font_name("宋体");
        let border = |f: Format| f.set_border(FormatBorder::Thin);
        Formats {
            title: font(Format::new()).set_bold().set_font_size(16).set_align(FormatAlign::Center).set_align(FormatAlign::VerticalCenter),
            subtitle: font(Format::new()).set_font_size(10).set_align(FormatAlign::Left).set_align(FormatAlign::VerticalCenter),
            head: border(font(Format::new()))
                .set_bold()
                .set_font_size(10)
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_background_color(Color::RGB(0xF2_F2_F2)),
            label: border(font(Format::new())).set_font_size(10).set_align(FormatAlign::VerticalCenter),
            number: border(font(Format::new())).set_font_size(10).set_num_format("#,##0").set_align(FormatAlign::VerticalCenter),
            label_total: border(font(Format::new())).set_bold().set_font_size(10).set_align(FormatAlign::VerticalCenter),
            number_total: border(font(Format::new())).set_bold().set_font_size(10).set_num_format("#,##0").set_align(FormatAlign::VerticalCenter),
            note: font(Format::new()).set_font_size(9).set_text_wrap().set_align(FormatAlign::Top),
            mark: font(Format::new()).set_font_size(9).set_italic().set_font_color(Color::RGB(0x80_80_80)),
        }
    }
}

fn xerr(e: XlsxError) -> AppError {
    AppError::internal(format!("writing the report workbook: {e}"))
}

fn col(i: usize) -> Result<u16, AppError> {
    u16::try_from(i).map_err(|_| AppError::internal("report table too wide"))
}

fn row(i: usize) -> Result<u32, AppError> {
    u32::try_from(i).map_err(|_| AppError::internal("report table too long"))
}

/// Writes `text` over rows `r0..=r1` and columns `c0..=c1`, merged when that is more than one cell.
fn put(ws: &mut Worksheet, (r0, c0, r1, c1): (usize, usize, usize, usize), text: &str, format: &Format) -> Result<(), AppError> {
    if r0 == r1 && c0 == c1 {
        ws.write_string_with_format(row(r0)?, col(c0)?, text, format).map_err(xerr)?;
    } else {
        ws.merge_range(row(r0)?, col(c0)?, row(r1)?, col(c1)?, text, format).map_err(xerr)?;
    }
    Ok(())
}

/// The header rows placed on a grid as an HTML table lays them out: (first row, first column,
/// last row, last column, text), rows counted from the header's first.
pub fn header_cells(t: &Table) -> Vec<(usize, usize, usize, usize, String)> {
    let cols = width(t);
    let mut taken = vec![vec![false; cols]; t.header.len()];
    let mut out = Vec::new();
    for (r, cells) in t.header.iter().enumerate() {
        let mut c = 0;
        for cell in cells {
            while taken.get(r).and_then(|row| row.get(c)).copied().unwrap_or(false) {
                c += 1;
            }
            let (rs, cs) = (usize::from(cell.rowspan.max(1)), usize::from(cell.colspan.max(1)));
            for row in taken.iter_mut().skip(r).take(rs) {
                for slot in row.iter_mut().skip(c).take(cs) {
                    *slot = true;
                }
            }
            out.push((r, c, r + rs - 1, c + cs - 1, cell.text.clone()));
            c += cs;
        }
    }
    out
}

fn write_sheet(wb: &mut Workbook, fm: &Formats, report: &Report, watermark: &str, i: usize, t: &Table) -> Result<(), AppError> {
    let ws = wb.add_worksheet();
    ws.set_name(sheet_name(&t.key, &t.title)).map_err(xerr)?;
    let cols = width(t);
    let last = cols.saturating_sub(1);
    let kind = report.kind_zh();

    put(ws, (0, 0, 0, last), &format!("{}  {}", table_number(i), t.title), &fm.title)?;
    ws.set_row_height(0, 30).map_err(xerr)?;
    put(
        ws,
        (1, 0, 1, last),
        &format!("填报单位：{}　　统计截止日期：{}　　上年底：{}　　{}", report.org_name, zh_date(report.as_of), zh_date(report.previous_as_of), kind),
        &fm.subtitle,
    )?;

    let top = 2;
    let mut widths = vec![6.0_f64; cols];
    for (r0, c0, r1, c1, text) in header_cells(t) {
        put(ws, (top + r0, c0, top + r1, c1), &text, &fm.head)?;
        if c0 == c1
            && let Some(w) = widths.get_mut(c0)
        {
            *w = w.max(text_width(&text).min(18.0));
        }
    }
    let mut r = top + t.header.len();
    if t.rows.len() > 1 {
        // A row per unit can run to hundreds: the header and the labels stay in view, and the
        // header repeats on each printed page.
        ws.set_freeze_panes(row(r)?, 1).map_err(xerr)?;
        ws.set_repeat_rows(row(top)?, row(r - 1)?).map_err(xerr)?;
    }
    for data in &t.rows {
        let (lf, nf) = if data.total { (&fm.label_total, &fm.number_total) } else { (&fm.label, &fm.number) };
        ws.write_string_with_format(row(r)?, 0, &data.label, lf).map_err(xerr)?;
        if let Some(w) = widths.first_mut() {
            *w = w.max(text_width(&data.label).min(40.0));
        }
        for (j, v) in data.values.iter().enumerate() {
            // Counts are far below 2^53, so f64 holds them exactly.
            ws.write_number_with_format(row(r)?, col(j + 1)?, *v as f64, nf).map_err(xerr)?;
            if let Some(w) = widths.get_mut(j + 1) {
                *w = w.max(text_width(&v.to_string()) + 2.0);
            }
        }
        r += 1;
    }
    for (j, w) in widths.iter().enumerate() {
        ws.set_column_width(col(j)?, w + 1.0).map_err(xerr)?;
    }
    r += 1;
    for note in &t.notes {
        put(ws, (r, 0, r, last), &format!("注：{note}"), &fm.note)?;
        // A long note wraps; merged cells do not grow by themselves.
        let per_line: f64 = widths.iter().map(|w| w + 1.0).sum::<f64>().max(1.0);
        let lines = (text_width(note) / per_line).ceil().max(1.0);
        ws.set_row_height(row(r)?, 13.5 * lines + 2.0).map_err(xerr)?;
        r += 1;
    }
    put(ws, (r, 0, r, last), watermark, &fm.mark)?;

    ws.set_landscape();
    ws.set_paper_size(9); // A4
    ws.set_print_fit_to_pages(1, 0);
    ws.set_print_center_horizontally(true);
    ws.set_header(format!("&C&\"宋体,Bold\"{}", footer_text(&format!("{}党内统计{}", report.org_name, kind))));
    ws.set_footer(format!("&L{}&C第 &P 页，共 &N 页&R{}", footer_text(super::CONFIDENTIAL), footer_text(&report.generated_mark())));
    Ok(())
}

/// The workbook's bytes.
pub fn write(report: &Report) -> Result<Vec<u8>, AppError> {
    let mut wb = Workbook::new();
    let watermark = report.watermark();
    wb.set_properties(&DocProperties::new().set_title(report.title()).set_author(&report.generated_by).set_company(&report.org_name).set_comment(&watermark));
    let fm = Formats::new();
    for (i, t) in report.tables.iter().enumerate() {
        write_sheet(&mut wb, &fm, report, &watermark, i, t)?;
    }
    wb.save_to_buffer().map_err(xerr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::tables::HeaderCell;

    #[test]
    fn header_cells_are_placed_as_html_lays_them_out() {
        let c = |t: &str, cs, rs| HeaderCell { text: t.into(), colspan: cs, rowspan: rs };
        let t = Table {
            key: "basic".into(),
            title: "x".into(),
            header: vec![vec![c("单位", 1, 2), c("合计", 1, 2), c("性别", 2, 1)], vec![c("男", 1, 1), c("女", 1, 1)]],
            rows: vec![],
            notes: vec![],
        };
        let cells = header_cells(&t);
        assert_eq!(
            cells,
            vec![
                (0, 0, 1, 0, "单位".to_string()),
                (0, 1, 1, 1, "合计".to_string()),
                (0, 2, 0, 3, "性别".to_string()),
                (1, 2, 1, 2, "男".to_string()),
                (1, 3, 1, 3, "女".to_string())
            ]
        );
    }
}
