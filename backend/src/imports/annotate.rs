//! The uploaded workbook with its problems: the sheet that was imported, re-written as XLSX
//! with a 错误说明 column after the last one, filled for each row with problems, those rows
//! highlighted.

use std::collections::BTreeMap;

use rust_xlsxwriter::{Color, Format, Workbook, XlsxError};

use super::read::{self, Cell};
use super::{ImportKind, ImportReport, MAX_ROWS, locate, members, orgs};
use crate::error::AppError;

pub fn build(bytes: &[u8], file_name: &str, kind: ImportKind, report: &ImportReport) -> Result<Vec<u8>, AppError> {
    let sheets = read::read_sheets(bytes, file_name, MAX_ROWS)?;
    let known = match kind {
        ImportKind::Members => members::COLUMNS,
        ImportKind::Orgs => orgs::COLUMNS,
    };
    // Which sheet and header row the import used (the same rules, on the same cells).
    let (sheet_index, header_row) = {
        let headers_only: Vec<read::Sheet> =
            sheets.iter().map(|s| read::Sheet { name: s.name.clone(), rows: s.rows.iter().take(10).cloned().collect() }).collect();
        // No header row (an import refused for that): the first sheet as it is, with the
        // whole-file problems beside its first row.
        locate(headers_only, known).map_or((0, 0), |l| (l.sheet, l.header_row))
    };
    let sheet = sheets.into_iter().nth(sheet_index).unwrap_or_default();
    let mut notes: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for p in &report.problems {
        if p.row == header_row && header_row != 0 {
            // Unknown or repeated columns: the header row holds the 错误说明 heading itself.
            continue;
        }
        // Row 0: a problem of the whole file, shown beside the first row when no header was found.
        let row = match (p.row, header_row) {
            (0, 0) => 1,
            (0, _) => continue,
            (r, _) => r,
        };
        let where_ = p.column.as_deref().map(|c| format!("【{c}】")).unwrap_or_default();
        notes.entry(row).or_default().push(format!("{where_}{}", p.message));
    }
    write(&sheet, header_row, &notes).map_err(|e| AppError::internal(format!("writing the annotated workbook: {e}")))
}

fn write(sheet: &read::Sheet, header_row: u32, notes: &BTreeMap<u32, Vec<String>>) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(if sheet.name.is_empty() { "Sheet1" } else { sheet.name.as_str() })?;
    let width = sheet.rows.iter().map(|(_, c)| c.len()).max().unwrap_or(0) as u16;
    let bad = Format::new().set_background_color(Color::RGB(0xFFC7CE));
    let bad_date = Format::new().set_background_color(Color::RGB(0xFFC7CE)).set_num_format("yyyy-mm-dd");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let header = Format::new().set_bold().set_font_color(Color::RGB(0xC00000));
    let note_format = Format::new().set_font_color(Color::RGB(0x9C0006)).set_background_color(Color::RGB(0xFFC7CE)).set_text_wrap();
    ws.set_column_width(width, 60)?;
    for (number, cells) in &sheet.rows {
        let r = number - 1;
        let note = notes.get(number);
        for (c, cell) in cells.iter().enumerate() {
            let c = c as u16;
            match (cell, note.is_some()) {
                (Cell::Empty, true) => {
                    ws.write_blank(r, c, &bad)?;
                }
                (Cell::Empty, false) => {}
                (Cell::Text(s), true) => {
                    ws.write_string_with_format(r, c, s, &bad)?;
                }
                (Cell::Text(s), false) => {
                    ws.write_string(r, c, s)?;
                }
                (Cell::Number(n), true) => {
                    ws.write_number_with_format(r, c, *n, &bad)?;
                }
                (Cell::Number(n), false) => {
                    ws.write_number(r, c, *n)?;
                }
                (Cell::Date(d), true) => {
                    ws.write_date_with_format(r, c, *d, &bad_date)?;
                }
                (Cell::Date(d), false) => {
                    ws.write_date_with_format(r, c, *d, &date)?;
                }
            }
        }
        if *number == header_row {
            ws.write_string_with_format(r, width, "错误说明", &header)?;
        } else if let Some(n) = note {
            ws.write_string_with_format(r, width, n.join("；"), &note_format)?;
        }
    }
    book.save_to_buffer()
}
