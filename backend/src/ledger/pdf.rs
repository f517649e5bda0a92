//! The ledger as a printable PDF: its [`Sections`] laid out by the neutral [`crate::pdf`] module —
//! the title page's heading, a heading per section, the facts as label | value lines, the tables
//! (the meetings as one record per meeting: their eighteen columns do not fit A4 portrait), on
//! every page the watermark (内部资料, who exported it: docs/domain.md, Confidentiality) across
//! the page, the title in the header and the export mark with "第 i 页，共 n 页" in the footer.

use super::data::Ledger;
use super::sections::{Cell, Section, Sections, Table};
use crate::error::AppError;
use crate::pdf::{self, Document, FontFile, Pages};

/// The font, as the neutral module loads it (503 `pdf_font_missing` without one).
pub use crate::pdf::load_font;

/// A table too wide for body text is printed smaller.
const SMALL_TABLE: f32 = 7.5;

fn table(doc: &mut Document<'_>, t: &Table) {
    if t.rows.is_empty() {
        doc.paragraph(t.empty);
    } else if t.records {
        for row in &t.rows {
            doc.subheading(&row.caption);
            let lines: Vec<(String, String)> = t
                .columns
                .iter()
                .zip(&row.cells)
                .filter(|(c, v)| !c.caption && (!c.optional || !v.is_empty()))
                .map(|(c, v)| {
                    let value = if v.is_empty() { "—".to_string() } else { v.text() };
                    (c.header.to_string(), value)
                })
                .collect();
            doc.key_values(&lines);
        }
    } else {
        let columns: Vec<pdf::Column> = t.columns.iter().map(|c| pdf::Column::new(c.header, c.width as f32)).collect();
        let rows: Vec<Vec<String>> = t.rows.iter().map(|r| r.cells.iter().map(Cell::text).collect()).collect();
        let size = if columns.len() > 10 { SMALL_TABLE } else { pdf::BODY };
        doc.table_sized(&columns, &rows, size);
    }
}

fn section(doc: &mut Document<'_>, s: &Section) {
    doc.heading(&s.heading());
    if !s.facts.is_empty() {
        doc.key_values(&s.facts);
    }
    if let Some(t) = &s.table {
        table(doc, t);
    }
    if !s.summary.is_empty() {
        doc.space(4.0);
        for line in &s.summary {
            doc.paragraph(line);
        }
    }
    if !s.notes.is_empty() {
        doc.space(4.0);
        for note in &s.notes {
            doc.note(note);
        }
    }
}

/// The PDF's bytes.
pub fn write(ledger: &Ledger, font: &FontFile) -> Result<Vec<u8>, AppError> {
    let s = Sections::of(ledger);
    let mut doc = Document::new(
        font,
        Pages {
            title: s.full_title.clone(),
            author: ledger.generated_by.clone(),
            description: s.watermark.line.clone(),
            header_left: s.full_title.clone(),
            header_right: s.watermark.confidential.to_string(),
            footer_left: s.watermark.line.clone(),
            watermark: s.watermark.across.clone(),
        },
    )?;
    doc.space(20.0).centered(&s.org_name, 20.0).space(4.0).centered(&s.title, 16.0).space(4.0).centered(&s.subtitle, pdf::BODY).space(10.0);
    section(&mut doc, &s.overview);
    section(&mut doc, &s.activity);
    doc.page_break();
    section(&mut doc, &s.meetings);
    doc.page_break();
    section(&mut doc, &s.roster);
    section(&mut doc, &s.changes);
    doc.finish()
}
