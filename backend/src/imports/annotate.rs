//! The uploaded workbook with its problems: the sheet that was imported, re-written as XLSX
//! with a 错误说明 column after the last one, filled for each row with problems, those rows
//! highlighted. ID numbers and phones are masked as the roster masks them for the downloader
//! ([`Reveal`]): the cells of those columns, and any other cell that holds one (a file without a
//! header row, a title row, a column under another name).

use std::collections::BTreeMap;

use rust_xlsxwriter::{Color, Format, Workbook, XlsxError};

use super::read::{self, Cell};
use super::{ImportKind, ImportReport, MAX_ROWS, locate, members, orgs};
use crate::error::AppError;
use crate::members::queries::Reveal;
use crate::members::{id_number, rules};

pub fn build(bytes: &[u8], file_name: &str, kind: ImportKind, report: &ImportReport, reveal: Reveal) -> Result<Vec<u8>, AppError> {
    let sheets = read::read_sheets(bytes, file_name, MAX_ROWS)?;
    let known = match kind {
        ImportKind::Members => members::COLUMNS,
        ImportKind::Orgs => orgs::COLUMNS,
    };
    // Which sheet and header row the import used (the same rules, on the same cells).
    let (sheet_index, header_row, columns) = {
        let headers_only: Vec<read::Sheet> =
            sheets.iter().map(|s| read::Sheet { name: s.name.clone(), rows: s.rows.iter().take(10).cloned().collect() }).collect();
        // No header row (an import refused for that): the first sheet as it is, with the
        // whole-file problems beside its first row.
        locate(headers_only, known).map_or((0, 0, Vec::new()), |l| (l.sheet, l.header_row, l.columns))
    };
    let mut sheet = sheets.into_iter().nth(sheet_index).unwrap_or_default();
    mask(&mut sheet, header_row, &columns, reveal);
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

/// Masks, below the header row, the cells of the ID number and phone columns and, anywhere but in
/// the header row, every ID number or mobile phone number standing in any other cell (alone or
/// within a text), unless `reveal` lets the reader see that kind in full.
fn mask(sheet: &mut read::Sheet, header_row: u32, columns: &[(usize, &'static str)], reveal: Reveal) {
    if reveal.id_number && reveal.phone {
        return;
    }
    let column = |field: &str| columns.iter().find(|(_, f)| *f == field).map(|(i, _)| *i);
    let (id_col, phone_col) = (column("id_number"), column("phone"));
    for (number, cells) in &mut sheet.rows {
        if *number == header_row && header_row != 0 {
            continue;
        }
        let below = *number > header_row && header_row != 0;
        for (ci, cell) in cells.iter_mut().enumerate() {
            if cell.is_empty() {
                continue;
            }
            let text = cell.text();
            let masked = if !reveal.id_number && below && id_col == Some(ci) {
                id_number::mask(&text)
            } else if !reveal.phone && below && phone_col == Some(ci) {
                rules::mask_phone(&text)
            } else {
                match mask_within(&text, reveal) {
                    Some(m) => m,
                    None => continue,
                }
            };
            *cell = Cell::Text(masked);
        }
    }
}

/// The text with each run of digits shaped as an ID number (17 digits and a digit or X, or 15
/// digits: a mistyped one is still someone's) or a mobile phone (11 digits from 13…) masked, the
/// kinds `reveal` does not show; None when there is none.
fn mask_within(text: &str, reveal: Reveal) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        // A check character X right after 17 digits belongs to the number.
        if i - start == 17 && chars.get(i).is_some_and(|c| matches!(c, 'X' | 'x')) {
            i += 1;
        }
        let run: String = chars[start..i].iter().collect();
        let masked = match run.len() {
            15 | 18 if !reveal.id_number => Some(id_number::mask(&run)),
            11 if !reveal.phone && rules::normalize_phone(&run).is_some() => Some(rules::mask_phone(&run)),
            _ => None,
        };
        changed |= masked.is_some();
        out.push_str(&masked.unwrap_or(run));
    }
    changed.then_some(out)
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use calamine::Reader;

    fn cells(xlsx: Vec<u8>) -> Vec<Vec<String>> {
        let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(xlsx)).unwrap();
        let sheet = book.worksheet_range_at(0).unwrap().unwrap();
        sheet.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect()
    }

    const CSV: &str = "名单\n姓名,公民身份号码,手机号码,党组织编码\n张三,11010519850312001X,13800138000,B1\n李四,1101,010-12345678,B1\n";

    #[test]
    fn personal_data_is_masked_unless_revealed() {
        let report = ImportReport::default();
        let none = cells(build(CSV.as_bytes(), "a.csv", ImportKind::Members, &report, Reveal::default()).unwrap());
        assert_eq!(none[1][..4], ["姓名", "公民身份号码", "手机号码", "党组织编码"]);
        assert_eq!(none[2][..4], ["张三", "**************001X", "138****8000", "B1"]);
        // In the column, whatever it holds.
        assert_eq!(none[3][1], "****");
        assert_eq!(none[3][2], "010*****5678");
        let phone = cells(build(CSV.as_bytes(), "a.csv", ImportKind::Members, &report, Reveal { id_number: false, phone: true }).unwrap());
        assert_eq!(phone[2][1..3], ["**************001X", "13800138000"]);
        let all = cells(build(CSV.as_bytes(), "a.csv", ImportKind::Members, &report, Reveal { id_number: true, phone: true }).unwrap());
        assert_eq!(all[2][1..3], ["11010519850312001X", "13800138000"]);
    }

    #[test]
    fn without_a_header_row_what_looks_personal_is_masked() {
        let csv = "notes\n11010519850312001X 13800138000\n11010519850312001x\n13800138000\n";
        let out = cells(build(csv.as_bytes(), "a.csv", ImportKind::Members, &ImportReport::default(), Reveal::default()).unwrap());
        assert_eq!(out[1][0], "**************001X 138****8000", "within a text too");
        assert_eq!(out[2][0], "**************001x");
        assert_eq!(out[3][0], "138****8000");
        // Other numbers stay: a date, an amount, a 12-digit code.
        assert_eq!(mask_within("2001-07-01 12345 123456789012", Reveal::default()), None);
        assert_eq!(mask_within("电话13800138000", Reveal { id_number: false, phone: true }), None);
    }
}
