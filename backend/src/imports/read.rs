//! Reading an uploaded file into rows of cells: `.xlsx`, `.xls`, `.ods` (calamine) and `.csv`
//! (UTF-8 or GBK). Refuses, before parsing, what is not a spreadsheet and zip archives that would
//! unpack to more than [`MAX_UNCOMPRESSED`] (a zip bomb).

use std::io::Cursor;

use actix_web::http::StatusCode;
use calamine::{Data, DataRef, Reader};
use chrono::NaiveDate;

use super::{Located, Row, find_header, no_header_row};
use crate::error::AppError;

/// The most an uploaded archive (xlsx, ods) may unpack to.
pub const MAX_UNCOMPRESSED: u64 = 200 * 1024 * 1024;

/// One cell, as the importer needs it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Date(NaiveDate),
}

impl Cell {
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => normalize_text(s).is_empty(),
            _ => false,
        }
    }

    /// The cell as text (numbers without a needless ".0", dates as ISO).
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => normalize_text(s),
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Cell::Number(n) => n.to_string(),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
        }
    }
}

/// A sheet: its rows with the row number a spreadsheet program shows (1-based).
#[derive(Debug, Default)]
pub struct Sheet {
    pub name: String,
    pub rows: Vec<(u32, Vec<Cell>)>,
}

/// Full-width digits and letters (Ａ１２) to half-width, the ideographic space to a space, then trimmed.
pub fn normalize_text(s: &str) -> String {
    let converted: String = s
        .chars()
        .map(|c| match c {
            '\u{3000}' | '\u{00A0}' => ' ',
            // Digits, Latin letters and the signs of dates and numbers; not （）, ，, ： of Chinese text.
            '０'..='９' | 'Ａ'..='Ｚ' | 'ａ'..='ｚ' | '－' | '．' | '／' | '＋' | '＠' | '＿' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect();
    converted.trim().to_string()
}

/// A header as compared: normalized, with every space removed.
pub fn header_key(s: &str) -> String {
    normalize_text(s).chars().filter(|c| !c.is_whitespace()).collect()
}

fn unreadable(code: &'static str, en: &str, zh: &str) -> AppError {
    AppError::new(StatusCode::UNPROCESSABLE_ENTITY, code, "The file cannot be imported", "文件无法导入").with_detail(en, zh)
}

pub fn not_a_spreadsheet() -> AppError {
    unreadable(
        "not_a_spreadsheet",
        "the file is not a spreadsheet this server reads (.xlsx, .xls, .ods or .csv)",
        "文件不是可识别的表格（支持 .xlsx、.xls、.ods、.csv）",
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Zip,
    Ole,
    Text,
}

fn sniff(bytes: &[u8], file_name: &str) -> Result<Format, AppError> {
    if bytes.starts_with(b"PK\x03\x04") {
        return Ok(Format::Zip);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        // An OLE compound file: .xls, or an encrypted .xlsx (Excel wraps those in OLE).
        let probe = &bytes[..bytes.len().min(64 * 1024)];
        let utf16 = |s: &str| s.encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>();
        if contains(probe, &utf16("EncryptionInfo")) || contains(probe, &utf16("EncryptedPackage")) {
            return Err(unreadable(
                "encrypted_file",
                "the file is password-protected; save it without a password and upload again",
                "文件设置了密码保护，请取消密码后重新上传",
            ));
        }
        return Ok(Format::Ole);
    }
    let lower = file_name.to_lowercase();
    let texty = !bytes.iter().take(8192).any(|&b| b == 0);
    if texty && (lower.ends_with(".csv") || lower.ends_with(".txt") || !lower.contains('.')) {
        return Ok(Format::Text);
    }
    Err(not_a_spreadsheet())
}

/// The checks that need no parsing (the file's kind, encryption, a zip bomb's declared size), for
/// an upload that is parsed later by a background job.
pub fn sniff_upload(bytes: &[u8], file_name: &str) -> Result<(), AppError> {
    if sniff(bytes, file_name)? == Format::Zip {
        check_unzipped_size(bytes)?;
    }
    Ok(())
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// The sum of the uncompressed sizes a zip's central directory declares (ZIP64 counts as too
/// large). Read before calamine opens the archive, so a bomb is refused without inflating it.
fn zip_uncompressed_size(bytes: &[u8]) -> Result<u64, AppError> {
    let corrupt = || not_a_spreadsheet();
    let u16_at = |i: usize| bytes.get(i..i + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |i: usize| bytes.get(i..i + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    // End of central directory: within the last 64 KiB + 22 bytes.
    let from = bytes.len().saturating_sub(65_557);
    let eocd = (from..bytes.len().saturating_sub(21)).rev().find(|&i| u32_at(i) == Some(0x0605_4b50)).ok_or_else(corrupt)?;
    let entries = u16_at(eocd + 10).ok_or_else(corrupt)? as usize;
    let mut at = u32_at(eocd + 16).ok_or_else(corrupt)? as usize;
    let mut total: u64 = 0;
    for _ in 0..entries {
        if u32_at(at) != Some(0x0201_4b50) {
            return Err(corrupt());
        }
        let size = u32_at(at + 24).ok_or_else(corrupt)?;
        if size == u32::MAX {
            return Ok(u64::MAX);
        }
        total += u64::from(size);
        let (n, e, c) = (u16_at(at + 28).ok_or_else(corrupt)?, u16_at(at + 30).ok_or_else(corrupt)?, u16_at(at + 32).ok_or_else(corrupt)?);
        at += 46 + n as usize + e as usize + c as usize;
    }
    Ok(total)
}

/// Every sheet of the file, in order (a CSV is one sheet).
pub fn read_sheets(bytes: &[u8], file_name: &str, max_rows: usize) -> Result<Vec<Sheet>, AppError> {
    match sniff(bytes, file_name)? {
        Format::Text => Ok(vec![read_csv(bytes, max_rows)?]),
        format => {
            if format == Format::Zip {
                check_unzipped_size(bytes)?;
            }
            let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|_| not_a_spreadsheet())?;
            let mut sheets = Vec::new();
            for (i, name) in book.sheet_names().into_iter().enumerate() {
                let Some(Ok(range)) = book.worksheet_range_at(i) else { continue };
                if range.height() > max_rows + 20 {
                    return Err(too_many_rows(max_rows));
                }
                let (r0, c0) = range.start().unwrap_or((0, 0));
                let mut rows = Vec::with_capacity(range.height());
                for (i, row) in range.rows().enumerate() {
                    let mut cells: Vec<Cell> = std::iter::repeat_n(Cell::Empty, c0 as usize).collect();
                    cells.extend(row.iter().map(cell_of));
                    rows.push((r0 + i as u32 + 1, cells));
                }
                sheets.push(Sheet { name, rows });
            }
            Ok(sheets)
        }
    }
}

/// Reads the data rows under the header row of the first sheet that has one (see
/// [`find_header`]), streaming: an `.xlsx` is parsed cell by cell with calamine's cells reader,
/// never as a whole-sheet `Range`, and only non-blank rows of that one sheet are kept, as compact
/// [`Cell`]s. More than `max_rows` data rows are refused as soon as they are seen.
pub fn read_located(bytes: &[u8], file_name: &str, max_rows: usize, known: &[(&'static str, &'static str)]) -> Result<Located, AppError> {
    let mut rows = Vec::new();
    let mut loc = read_rows(bytes, file_name, max_rows, known, &mut |_, n, cells| {
        rows.push((n, cells));
        Ok(())
    })?;
    loc.rows = rows;
    Ok(loc)
}

/// Row sink of [`read_rows`]: the header found, a data row's number and its cells.
pub type RowSink<'s> = &'s mut dyn FnMut(&Located, u32, Vec<Cell>) -> Result<(), AppError>;

/// As [`read_located`], but each non-blank data row goes to `sink` as soon as it is read, so a
/// caller that turns cells into something smaller never holds the whole sheet; the answer is the
/// header (its `rows` empty).
pub fn read_rows(bytes: &[u8], file_name: &str, max_rows: usize, known: &[(&'static str, &'static str)], sink: RowSink<'_>) -> Result<Located, AppError> {
    let mut feeder = Feeder { known, max_rows, sheet: 0, probe: Vec::new(), found: None, rows: 0, last_row: 0, sink };
    match sniff(bytes, file_name)? {
        Format::Text => {
            let sheet = read_csv(bytes, max_rows)?;
            feeder.last_row = sheet.rows.last().map_or(0, |r| r.0);
            for (n, cells) in sheet.rows {
                if feeder.push(n, cells)? == Flow::NextSheet {
                    break;
                }
            }
            feeder.end_sheet();
        }
        format => {
            if format == Format::Zip {
                check_unzipped_size(bytes)?;
            }
            match calamine::Xlsx::new(Cursor::new(bytes)) {
                Ok(mut book) => {
                    for name in book.sheet_names() {
                        let mut reader = book.worksheet_cells_reader(&name).map_err(|_| not_a_spreadsheet())?;
                        feeder.last_row = reader.dimensions().end.0 + 1;
                        let mut current: Option<(u32, Vec<Cell>)> = None;
                        let mut flow = Flow::More;
                        while let Some(cell) = reader.next_cell().map_err(|_| not_a_spreadsheet())? {
                            let (r, c) = cell.get_position();
                            if current.as_ref().is_some_and(|(n, _)| *n != r + 1)
                                && let Some((n, cells)) = current.take()
                            {
                                flow = feeder.push(n, cells)?;
                                if flow == Flow::NextSheet {
                                    break;
                                }
                            }
                            let value = cell_of_ref(cell.get_value());
                            let (_, cells) = current.get_or_insert_with(|| (r + 1, Vec::new()));
                            if value != Cell::Empty {
                                let c = c as usize;
                                if cells.len() <= c {
                                    cells.resize(c + 1, Cell::Empty);
                                }
                                cells[c] = value;
                            }
                        }
                        if flow != Flow::NextSheet
                            && let Some((n, cells)) = current.take()
                        {
                            feeder.push(n, cells)?;
                        }
                        if feeder.end_sheet() {
                            break;
                        }
                    }
                }
                // .xls and .ods (rarely large): read whole, as calamine offers them.
                Err(_) => {
                    for sheet in read_sheets(bytes, file_name, max_rows)? {
                        feeder.last_row = sheet.rows.last().map_or(0, |r| r.0);
                        for (n, cells) in sheet.rows {
                            if feeder.push(n, cells)? == Flow::NextSheet {
                                break;
                            }
                        }
                        if feeder.end_sheet() {
                            break;
                        }
                    }
                }
            }
        }
    }
    feeder.found.ok_or_else(no_header_row)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    More,
    /// This sheet has no header in its first rows: skip the rest of it.
    NextSheet,
}

/// Takes a sheet's rows one by one: the first 10 are held until the header is found among them,
/// then the data rows go to the sink (blank ones dropped).
struct Feeder<'k, 's> {
    known: &'k [(&'static str, &'static str)],
    max_rows: usize,
    sheet: usize,
    probe: Vec<Row>,
    found: Option<Located>,
    rows: usize,
    /// The current sheet's declared last row.
    last_row: u32,
    sink: RowSink<'s>,
}

impl Feeder<'_, '_> {
    fn push(&mut self, n: u32, cells: Vec<Cell>) -> Result<Flow, AppError> {
        if let Some(loc) = &self.found {
            if cells.iter().any(|c| !c.is_empty()) {
                if self.rows >= self.max_rows {
                    return Err(too_many_rows(self.max_rows));
                }
                self.rows += 1;
                (self.sink)(loc, n, cells)?;
            }
            return Ok(Flow::More);
        }
        self.probe.push((n, cells));
        if self.probe.len() < 10 {
            return Ok(Flow::More);
        }
        Ok(if self.locate()? { Flow::More } else { Flow::NextSheet })
    }

    /// Looks for the header among the held rows; on success the rows after it become data.
    fn locate(&mut self) -> Result<bool, AppError> {
        let probe = std::mem::take(&mut self.probe);
        let Some(h) = find_header(&probe, self.known) else { return Ok(false) };
        let header_row = probe[h.index].0;
        self.found = Some(Located {
            sheet: self.sheet,
            header_row,
            columns: h.columns,
            unknown: h.unknown,
            duplicate: h.duplicate,
            rows: Vec::new(),
            last_row: self.last_row,
        });
        for (n, cells) in probe.into_iter().skip(h.index + 1) {
            self.push(n, cells)?;
        }
        Ok(true)
    }

    /// The end of a sheet: answers whether the header was found (reading can stop).
    fn end_sheet(&mut self) -> bool {
        if self.found.is_none() && !self.probe.is_empty() {
            // Fewer than 10 rows in all: look among those (push cannot fail here: they are few).
            let _ = self.locate();
        }
        self.probe.clear();
        self.sheet += 1;
        self.found.is_some()
    }
}

fn check_unzipped_size(bytes: &[u8]) -> Result<(), AppError> {
    if zip_uncompressed_size(bytes)? > MAX_UNCOMPRESSED {
        return Err(AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "uncompressed_too_large", "The file is too large", "文件过大").with_detail(
            format!("the workbook would unpack to more than {} MB", MAX_UNCOMPRESSED / 1024 / 1024),
            format!("表格解压后超过 {} MB，请拆分后分批导入", MAX_UNCOMPRESSED / 1024 / 1024),
        ));
    }
    Ok(())
}

fn cell_of_ref(d: &DataRef<'_>) -> Cell {
    match d {
        DataRef::SharedString(s) => Cell::Text((*s).to_string()),
        DataRef::String(s) => Cell::Text(s.clone()),
        DataRef::Int(i) => Cell::Number(*i as f64),
        DataRef::Float(f) => Cell::Number(*f),
        DataRef::Bool(b) => Cell::Text(if *b { "是" } else { "否" }.into()),
        DataRef::DateTime(dt) => dt.as_datetime().map(|d| Cell::Date(d.date())).unwrap_or(Cell::Number(dt.as_f64())),
        DataRef::DateTimeIso(s) => iso_date(s),
        DataRef::DurationIso(s) => Cell::Text(s.clone()),
        DataRef::Empty | DataRef::Error(_) => Cell::Empty,
    }
}

fn iso_date(s: &str) -> Cell {
    s.get(..10).and_then(|p| NaiveDate::parse_from_str(p, "%Y-%m-%d").ok()).map(Cell::Date).unwrap_or_else(|| Cell::Text(s.to_string()))
}

pub fn too_many_rows(max_rows: usize) -> AppError {
    AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "too_many_rows", "The file has too many rows", "文件行数过多")
        .with_detail(format!("at most {max_rows} rows per import"), format!("每次最多导入 {max_rows} 行，请拆分后分批导入"))
}

fn cell_of(d: &Data) -> Cell {
    match d {
        Data::Empty | Data::Error(_) => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Text(if *b { "是" } else { "否" }.into()),
        Data::DateTime(dt) => dt.as_datetime().map(|d| Cell::Date(d.date())).unwrap_or(Cell::Number(dt.as_f64())),
        Data::DateTimeIso(s) => iso_date(s),
        Data::DurationIso(s) => Cell::Text(s.clone()),
    }
}

/// UTF-8 (with or without BOM), else GBK, as Excel in China saves CSV.
fn read_csv(bytes: &[u8], max_rows: usize) -> Result<Sheet, AppError> {
    let text: String = match std::str::from_utf8(bytes) {
        Ok(s) => s.trim_start_matches('\u{FEFF}').to_string(),
        Err(_) => {
            let (decoded, _, had_errors) = encoding_rs::GBK.decode(bytes);
            if had_errors {
                return Err(not_a_spreadsheet());
            }
            decoded.into_owned()
        }
    };
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        if i > max_rows + 20 {
            return Err(too_many_rows(max_rows));
        }
        let rec = rec.map_err(|_| not_a_spreadsheet())?;
        rows.push((i as u32 + 1, rec.iter().map(|s| if s.is_empty() { Cell::Empty } else { Cell::Text(s.to_string()) }).collect()));
    }
    Ok(Sheet { name: "CSV".into(), rows })
}

/// A cell that should hold a date and does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadDate;

/// A date from a date cell, or from text as clerks type it: 2001.07.01, 2001-7-1, 2001/07/01,
/// 2001年7月1日, 20010701 (also as a number). `Err(BadDate)` for something that is not a valid date.
pub fn parse_date(cell: &Cell) -> Result<Option<NaiveDate>, BadDate> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Date(d) => Ok(Some(*d)),
        Cell::Number(n) if n.fract() == 0.0 && (10_000_000.0..100_000_000.0).contains(n) => ymd_compact(&format!("{}", *n as i64)).map(Some),
        Cell::Number(_) => Err(BadDate),
        Cell::Text(s) => {
            let t = normalize_text(s);
            if t.is_empty() {
                return Ok(None);
            }
            if t.len() == 8 && t.chars().all(|c| c.is_ascii_digit()) {
                return ymd_compact(&t).map(Some);
            }
            // A date-time typed as text: keep the date part.
            let t = t.split([' ', 'T']).next().unwrap_or("");
            let t = t.strip_suffix('日').unwrap_or(t);
            let parts: Vec<&str> = t.split(['.', '-', '/', '年', '月']).collect();
            if parts.len() != 3 || parts.iter().any(|p| p.is_empty() || p.len() > 4 || !p.chars().all(|c| c.is_ascii_digit())) || parts[0].len() != 4 {
                return Err(BadDate);
            }
            let n: Vec<u32> = parts.iter().map(|p| p.parse().unwrap_or(0)).collect();
            NaiveDate::from_ymd_opt(n[0] as i32, n[1], n[2]).map(Some).ok_or(BadDate)
        }
    }
}

fn ymd_compact(s: &str) -> Result<NaiveDate, BadDate> {
    NaiveDate::parse_from_str(s, "%Y%m%d").map_err(|_| BadDate)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> Option<NaiveDate> {
        Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
    }

    #[test]
    fn dates_as_clerks_type_them() {
        for t in ["2001.07.01", "2001-7-1", "2001/07/01", "2001年7月1日", "20010701", " ２００１-07-01 ", "2001-07-01 00:00:00"] {
            assert_eq!(parse_date(&Cell::Text(t.into())), Ok(d("2001-07-01")), "{t}");
        }
        assert_eq!(parse_date(&Cell::Number(20010701.0)), Ok(d("2001-07-01")));
        assert_eq!(parse_date(&Cell::Text("2001-02-30".into())), Err(BadDate));
        assert_eq!(parse_date(&Cell::Text("去年".into())), Err(BadDate));
        assert_eq!(parse_date(&Cell::Text("  ".into())), Ok(None));
    }

    #[test]
    fn full_width_and_headers() {
        assert_eq!(normalize_text("　张三 "), "张三");
        assert_eq!(normalize_text("１３８００１３８０００"), "13800138000");
        assert_eq!(header_key(" 姓　名 "), "姓名");
        assert_eq!(normalize_text("机关第二党支部（更名）"), "机关第二党支部（更名）", "Chinese punctuation stays");
    }
}
