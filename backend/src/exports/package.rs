//! The XLSX package, written as a stream: every part but the sheet comes from a small "shell"
//! workbook that rust_xlsxwriter builds in memory (styles, page setup, watermark, header row),
//! and the sheet's rows are spliced into the shell's sheet XML as they arrive, deflated into a
//! zip written with data descriptors (`ZipWriter::new_stream`), so nothing waits for the end.
//!
//! Why not rust_xlsxwriter's constant-memory sheet: it keeps the sheet XML in a temporary file
//! and zips everything at `save`, so a client received its first byte only after the last row
//! had been read (about 30 s for a million rows, during which a proxy may give up).

use std::io::{self, Cursor, Read, Write};

use chrono::NaiveDate;
use rust_xlsxwriter::{Color, DocProperties, Format, FormatAlign, FormatBorder, Workbook};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::{Cell, SheetSpec, WriteError};

const SHEET_ENTRY: &str = "xl/worksheets/sheet1.xml";
const SST_ENTRY: &str = "xl/sharedStrings.xml";
/// Excel's last row is 1,048,576: the header and this many data rows.
const MAX_DATA_ROWS: u32 = 1_048_575;
/// Sheet XML goes to the deflater in pieces of about this size (one write per piece, not per
/// cell: the zip writer hashes and deflates each write).
const XML_PIECE: usize = 32 * 1024;
/// The sheet's deflate level, chosen by measurement (examples/export_writer.rs beside
/// examples/xlsx_ceiling.rs, the same 200,000 rows × 20 columns, release build, 2 cores, idle):
/// the bare rust_xlsxwriter constant-memory loop wrote 80,000 rows/s (21.8 MB); this writer
/// 93,000-111,000 rows/s at level 6 (21.8 MB), 240,000 at level 3 (24.3 MB), 360,000-400,000 at
/// level 1 (33.9 MB). Level 3: three times the bare loop's rate, so the writer is not what an
/// export waits for, for a file a tenth larger.
pub const SHEET_DEFLATE_LEVEL: i64 = 3;

/// Writes the workbook of `spec` into `out`, the rows coming from `fill` (which may take its
/// time: the bytes before them are already out). Answers `out` once the zip is complete.
pub fn write_workbook<W: Write>(
    spec: &SheetSpec,
    out: W,
    level: i64,
    fill: impl FnOnce(&mut SheetRows<'_>) -> Result<(), WriteError>,
) -> Result<W, WriteError> {
    let mut shell = ZipArchive::new(Cursor::new(shell(spec)?))?;
    let sheet = SheetParts::split(&entry_text(&mut shell, SHEET_ENTRY)?)?;
    let names: Vec<String> = shell.file_names().map(|n| n.map(|n| n.into_owned())).collect::<Result<_, _>>()?;
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(level))
        .unix_permissions(0o600)
        .last_modified_time(zip::DateTime::default());
    let mut zip = ZipWriter::new_stream(out);
    let mut fill = Some(fill);
    // The shell's order (content types first, as Excel writes them), the sheet in its place.
    for (i, name) in names.iter().enumerate() {
        match name.as_str() {
            SHEET_ENTRY => {
                zip.start_file(SHEET_ENTRY, options)?;
                zip.write_all(sheet.head.as_bytes())?;
                let mut rows = SheetRows::new(&mut zip, spec.columns.len(), sheet.styles);
                if let Some(fill) = fill.take() {
                    fill(&mut rows)?;
                }
                rows.flush()?;
                zip.write_all(sheet.tail.as_bytes())?;
            }
            SST_ENTRY => {
                // The sample row's text cell counted as one use of a header's string.
                let sst = entry_text(&mut shell, SST_ENTRY)?;
                zip.start_file(SST_ENTRY, options)?;
                zip.write_all(one_use_less(&sst).as_bytes())?;
            }
            _ => zip.raw_copy_file(shell.by_index_raw(i)?)?,
        }
    }
    Ok(zip.finish()?.into_inner())
}

/// The workbook around the rows, with a sample row (text, date, number in columns A to C) whose
/// cells put their styles into styles.xml; the sample row itself is not copied.
fn shell(spec: &SheetSpec) -> Result<Vec<u8>, WriteError> {
    let mut wb = Workbook::new();
    let watermark = spec.watermark();
    wb.set_properties(&DocProperties::new().set_title(&spec.title).set_author(&spec.exported_by).set_comment(&watermark).set_keywords("内部资料"));
    let header = Format::new().set_bold().set_background_color(Color::RGB(0xF2_DC_DB)).set_border(FormatBorder::Thin).set_align(FormatAlign::Center);
    let sheet = wb.add_worksheet();
    sheet.set_name(&spec.sheet_name)?;
    for (i, c) in spec.columns.iter().enumerate() {
        sheet.set_column_width(col(i)?, c.width)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.set_repeat_rows(0, 0)?;
    sheet.set_landscape();
    // Page header and footer: `&&` is a literal ampersand; names cannot inject codes.
    let safe = |s: &str| s.replace('&', "&&");
    sheet.set_header(format!("&L{}&C&\"-,Bold\"{}&R内部资料", safe(&watermark), safe(&spec.title)));
    sheet.set_footer(format!("&L{}&C第 &P 页，共 &N 页&R内部资料", safe(&watermark)));
    for (i, c) in spec.columns.iter().enumerate() {
        sheet.write_string_with_format(0, col(i)?, c.label, &header)?;
    }
    // A header's own text, so that the shared strings gain no entry, only a use (see `one_use_less`).
    let sample_text = spec.columns.first().map_or("", |c| c.label);
    sheet.write_string(1, 0, sample_text)?;
    let date = Format::new().set_num_format("yyyy-mm-dd");
    if let Some(d) = NaiveDate::from_ymd_opt(2000, 1, 1) {
        sheet.write_date_with_format(1, 1, d, &date)?;
    }
    sheet.write_number(1, 2, 1.0)?;
    Ok(wb.save_to_buffer()?)
}

fn col(i: usize) -> Result<u16, WriteError> {
    u16::try_from(i).map_err(|_| WriteError::Failed("too many columns".into()))
}

fn entry_text(zip: &mut ZipArchive<Cursor<Vec<u8>>>, name: &str) -> Result<String, WriteError> {
    let mut text = String::new();
    zip.by_name(name)?.read_to_string(&mut text)?;
    Ok(text)
}

/// `count` of the shared strings' table (every use of a string) less the sample row's one.
fn one_use_less(sst: &str) -> String {
    let Some(start) = sst.find("<sst ") else { return sst.to_string() };
    let tag_end = sst[start..].find('>').map_or(sst.len(), |e| start + e);
    let Some(at) = sst[start..tag_end].find(" count=\"").map(|a| start + a + " count=\"".len()) else { return sst.to_string() };
    let digits = sst[at..].find('"').unwrap_or(0);
    match sst[at..at + digits].parse::<u64>() {
        Ok(n) if n > 0 => format!("{}{}{}", &sst[..at], n - 1, &sst[at + digits..]),
        _ => sst.to_string(),
    }
}

/// The style indexes (`s`) the rows' cells take, read from the shell's sample row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Styles {
    text: u32,
    date: u32,
    number: u32,
}

/// The shell's sheet XML cut around its rows: up to the end of the header row, and from
/// `</sheetData>` on.
struct SheetParts {
    head: String,
    tail: String,
    styles: Styles,
}

impl SheetParts {
    fn split(xml: &str) -> Result<SheetParts, WriteError> {
        let broken = || WriteError::Failed("the shell workbook's sheet has an unexpected shape".into());
        let sample_at = xml.find("<row r=\"2\"").ok_or_else(broken)?;
        let tail_at = sample_at + xml[sample_at..].find("</sheetData>").ok_or_else(broken)?;
        let sample = &xml[sample_at..tail_at];
        let styles = Styles { text: style_of(sample, "A2"), date: style_of(sample, "B2"), number: style_of(sample, "C2") };
        if styles.date == 0 {
            return Err(broken());
        }
        // `<dimension ref="A1:V2"/>` would claim two rows; it is optional, and the row count is
        // known only at the end.
        let mut head = xml[..sample_at].to_string();
        if let Some(d) = head.find("<dimension ")
            && let Some(e) = head[d..].find("/>")
        {
            head.replace_range(d..d + e + 2, "");
        }
        Ok(SheetParts { head, tail: xml[tail_at..].to_string(), styles })
    }
}

/// The `s` attribute of cell `r` in `xml` (0, the default style, when it has none).
fn style_of(xml: &str, r: &str) -> u32 {
    let open = format!("<c r=\"{r}\"");
    let Some(at) = xml.find(&open) else { return 0 };
    let tag = &xml[at..at + xml[at..].find('>').unwrap_or(xml.len() - at)];
    tag.find(" s=\"").and_then(|s| tag[s + 4..].split('"').next()).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// The rows of the sheet, written as they come (from row 2; row 1 is the header).
pub struct SheetRows<'a> {
    out: &'a mut dyn Write,
    xml: Vec<u8>,
    rows: u32,
    /// Column letters (`A`, `B`, …).
    cols: Vec<String>,
    /// ` s="N"` (or nothing for the default style) of text, date and number cells.
    text: String,
    date: String,
    number: String,
}

impl<'a> SheetRows<'a> {
    fn new(out: &'a mut dyn Write, columns: usize, styles: Styles) -> SheetRows<'a> {
        let attr = |s: u32| if s == 0 { String::new() } else { format!(" s=\"{s}\"") };
        SheetRows {
            out,
            xml: Vec::with_capacity(XML_PIECE + 8 * 1024),
            rows: 0,
            cols: (0..columns).map(column_name).collect(),
            text: attr(styles.text),
            date: attr(styles.date),
            number: attr(styles.number),
        }
    }

    /// Data rows written so far.
    pub fn rows(&self) -> u32 {
        self.rows
    }

    /// Writes one row: text as inline strings, dates as date serials in the date style, numbers.
    pub fn push(&mut self, cells: &[Cell]) -> Result<(), WriteError> {
        if self.rows >= MAX_DATA_ROWS {
            return Err(WriteError::Failed(format!("more than {MAX_DATA_ROWS} rows: too many for one sheet")));
        }
        self.rows += 1;
        let r = self.rows + 1;
        let xml = &mut self.xml;
        write!(xml, "<row r=\"{r}\">")?;
        for (cell, c) in cells.iter().zip(&self.cols) {
            match cell {
                // NaN and infinities have no cell value: left empty.
                Cell::Empty => {}
                Cell::Number(n) if !n.is_finite() => {}
                Cell::Text(s) => {
                    write!(xml, "<c r=\"{c}{r}\"{}", self.text)?;
                    push_inline_string(xml, s);
                }
                Cell::Date(d) => match excel_serial(*d) {
                    Some(serial) => write!(xml, "<c r=\"{c}{r}\"{}><v>{serial}</v></c>", self.date)?,
                    // Before 1900 Excel has no date: the text, still readable.
                    None => {
                        write!(xml, "<c r=\"{c}{r}\"{}", self.text)?;
                        push_inline_string(xml, &d.format("%Y-%m-%d").to_string());
                    }
                },
                Cell::Number(n) => write!(xml, "<c r=\"{c}{r}\"{}><v>{n}</v></c>", self.number)?,
            }
        }
        xml.extend_from_slice(b"</row>");
        if self.xml.len() >= XML_PIECE {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.write_all(&self.xml)?;
        self.xml.clear();
        Ok(())
    }
}

/// `A`, …, `Z`, `AA`, … for the 0-based column `i`.
fn column_name(i: usize) -> String {
    let mut name = Vec::new();
    let mut n = i + 1;
    while n > 0 {
        let rem = (n - 1) % 26;
        name.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    name.reverse();
    String::from_utf8_lossy(&name).into_owned()
}

/// Excel's serial day number (1 = 1900-01-01), counting its 29 February 1900 that never was;
/// None before 1900.
fn excel_serial(d: NaiveDate) -> Option<i64> {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    let days = (d - epoch).num_days();
    if d >= NaiveDate::from_ymd_opt(1900, 3, 1)? {
        Some(days)
    } else if d >= NaiveDate::from_ymd_opt(1900, 1, 1)? {
        Some(days - 1)
    } else {
        None
    }
}

/// The rest of an inline string cell (after its `<c r=".." s=".."`): `t="inlineStr"` and the
/// text, XML-escaped, without the characters XML 1.0 forbids, and with literal `_xHHHH_`
/// sequences escaped as Excel does (else readers would decode them as characters).
fn push_inline_string(xml: &mut Vec<u8>, s: &str) {
    xml.extend_from_slice(b" t=\"inlineStr\"><is><t");
    let edge_space = |c: Option<char>| c.is_some_and(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
    if edge_space(s.chars().next()) || edge_space(s.chars().last()) {
        xml.extend_from_slice(b" xml:space=\"preserve\"");
    }
    xml.push(b'>');
    push_escaped(xml, s);
    xml.extend_from_slice(b"</t></is></c>");
}

fn push_escaped(xml: &mut Vec<u8>, s: &str) {
    // 0xEF leads U+F000..U+FFFF, where the two non-characters U+FFFE and U+FFFF are.
    if s.bytes().all(|b| b >= 0x20 && !matches!(b, b'&' | b'<' | b'>' | b'_' | 0xEF)) {
        xml.extend_from_slice(s.as_bytes());
        return;
    }
    let bytes = s.as_bytes();
    for (i, ch) in s.char_indices() {
        match ch {
            '&' => xml.extend_from_slice(b"&amp;"),
            '<' => xml.extend_from_slice(b"&lt;"),
            '>' => xml.extend_from_slice(b"&gt;"),
            '\t' | '\n' | '\r' => xml.push(ch as u8),
            '\u{0}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}' => {}
            '_' => {
                let escape = bytes.get(i + 1) == Some(&b'x')
                    && bytes.get(i + 2..i + 6).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
                    && bytes.get(i + 6) == Some(&b'_');
                xml.extend_from_slice(if escape { b"_x005F_" } else { b"_" });
            }
            c => {
                let mut buf = [0u8; 4];
                xml.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_escapes_and_names() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default();
        assert_eq!(excel_serial(d(1900, 1, 1)), Some(1));
        assert_eq!(excel_serial(d(1900, 2, 28)), Some(59));
        assert_eq!(excel_serial(d(1900, 3, 1)), Some(61));
        assert_eq!(excel_serial(d(2010, 7, 1)), Some(40360));
        assert_eq!(excel_serial(d(1899, 12, 31)), None);
        let mut xml = Vec::new();
        push_escaped(&mut xml, "a<b>&c\u{1}\u{FFFE}_x0041_ _x4_\t中");
        assert_eq!(String::from_utf8_lossy(&xml), "a&lt;b&gt;&amp;c_x005F_x0041_ _x4_\t中");
        assert_eq!([column_name(0), column_name(25), column_name(26), column_name(701), column_name(702)], ["A", "Z", "AA", "ZZ", "AAA"]);
        assert_eq!(one_use_less(r#"<?xml?><sst xmlns="x" count="23" uniqueCount="22"><si>"#), r#"<?xml?><sst xmlns="x" count="22" uniqueCount="22"><si>"#);
        assert_eq!(style_of(r#"<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" s="12"><v>1</v></c>"#, "B2"), 12);
    }
}
