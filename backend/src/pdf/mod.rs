//! Printable documents (krilla): A4 portrait with headings, paragraphs, label | value lines and
//! tables whose text wraps (Chinese between any two characters, a Latin word whole, no line
//! beginning with closing punctuation), a table row longer than the page continuing on the next
//! under its repeated header, and on every page a running header, a footer with
//! "第 i 页，共 n 页" and a watermark across the page. It knows no feature: the ledger (and the
//! replies, letters and dossiers to come) say what to print, this module lays it out.
//!
//! ```ignore
//! let font = pdf::configured_font()?;                 // 503 pdf_font_missing without one
//! let mut doc = pdf::Document::new(&font, pages)?;    // pages: header, footer, watermark
//! doc.heading("一、基本情况");
//! doc.key_values(&[("组织名称".into(), "机关第一党支部".into())]);
//! doc.table(&[Column::new("姓名", 2.0), Column::new("说明", 5.0)], &rows);
//! doc.page_break();
//! let bytes = doc.finish()?;
//! ```
//!
//! - `font`: the CJK font from Debian's packages (or `DANGJIAN_PDF_FONT`); krilla embeds only the
//!   glyphs used (a subset), so a document is tens of kilobytes, not the font's 20 MB;
//! - `layout`: the first pass, measuring and wrapping text and placing it on pages (so the page
//!   count is known); [`Document::finish`] then draws the pages.

mod font;
mod layout;

pub use font::{FONT_ENV, FontFile, SYSTEM_FONTS, configured_font, font_file, load_font};
pub use layout::{Advance, BODY, Column, HEADING, NO_LINE_END, NO_LINE_START, PAGE_H, PAGE_W, SMALL, SUBHEADING, wrap};

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Transform};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use skrifa::FontRef;

use crate::error::AppError;
use font::FontMeasure;
use layout::{LEFT, Layout, Op, RIGHT, lh};

/// What every page carries, and the document's properties.
#[derive(Debug, Clone, Default)]
pub struct Pages {
    /// The document's title (its properties).
    pub title: String,
    pub author: String,
    /// The document's description (its properties).
    pub description: String,
    /// The running header, left and right (small, gray).
    pub header_left: String,
    pub header_right: String,
    /// The footer's left; its right is "第 i 页，共 n 页".
    pub footer_left: String,
    /// Printed large, faint and diagonally across each page behind the content; none when empty.
    pub watermark: String,
}

/// A document being laid out; [`Document::finish`] draws it.
pub struct Document<'a> {
    font: &'a FontFile,
    pages: Pages,
    layout: Layout<FontMeasure<'a>>,
}

impl<'a> Document<'a> {
    pub fn new(font: &'a FontFile, pages: Pages) -> Result<Document<'a>, AppError> {
        let font_ref = FontRef::from_index(&font.bytes[..], font.face).map_err(|e| AppError::internal(format!("PDF font: {e}")))?;
        Ok(Document { font, pages, layout: Layout::new(FontMeasure::new(&font_ref)) })
    }

    /// Lines of `text` centred at `size` points (a title page).
    pub fn centered(&mut self, text: &str, size: f32) -> &mut Self {
        self.layout.centered(text, size);
        self
    }

    /// Vertical space in points.
    pub fn space(&mut self, points: f32) -> &mut Self {
        self.layout.space(points);
        self
    }

    /// A section heading, on the same page as the next lines.
    pub fn heading(&mut self, text: &str) -> &mut Self {
        self.layout.heading(text, HEADING, 2.0 * lh(HEADING));
        self
    }

    /// A smaller heading (one record of a list), on the same page as the six lines after it.
    pub fn subheading(&mut self, text: &str) -> &mut Self {
        self.layout.ensure(lh(SUBHEADING) + 6.0 * lh(BODY));
        self.layout.space(4.0);
        self.layout.paragraph(text, SUBHEADING, 0.0, false);
        self
    }

    /// Body text, wrapped.
    pub fn paragraph(&mut self, text: &str) -> &mut Self {
        self.layout.paragraph(text, BODY, 0.0, false);
        self
    }

    /// A note: smaller, gray.
    pub fn note(&mut self, text: &str) -> &mut Self {
        self.layout.paragraph(text, SMALL, 0.0, true);
        self
    }

    /// Label | value lines (a record, an overview).
    pub fn key_values(&mut self, rows: &[(String, String)]) -> &mut Self {
        self.layout.key_values(rows, BODY);
        self
    }

    /// A table at the body size.
    pub fn table(&mut self, columns: &[Column], rows: &[Vec<String>]) -> &mut Self {
        self.table_sized(columns, rows, BODY)
    }

    /// A table at `size` points (smaller for many columns).
    pub fn table_sized(&mut self, columns: &[Column], rows: &[Vec<String>], size: f32) -> &mut Self {
        self.layout.table(columns, rows, size);
        self
    }

    /// What follows begins a new page.
    pub fn page_break(&mut self) -> &mut Self {
        self.layout.new_page();
        self
    }

    /// The pages laid out so far.
    pub fn page_count(&self) -> usize {
        self.layout.pages.len().max(1)
    }

    /// The PDF's bytes: each page drawn with its header, footer and watermark; the font
    /// embedded as the subset of the glyphs used.
    pub fn finish(self) -> Result<Vec<u8>, AppError> {
        let Document { font, pages: setup, layout } = self;
        let Layout { mut m, mut pages, .. } = layout;
        if pages.is_empty() {
            pages.push(Vec::new());
        }
        let face = Font::new(krilla::Data::from(font.bytes.clone()), font.face).ok_or_else(|| AppError::internal("krilla cannot read the PDF font"))?;
        let mut doc = krilla::Document::new();
        doc.set_metadata(
            Metadata::new()
                .title(setup.title.clone())
                .authors(vec![setup.author.clone()])
                .description(setup.description.clone())
                .creator("智慧党建平台".into())
                .language("zh-CN".into()),
        );
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| AppError::internal("A4 page size"))?;
        let count = pages.len();
        for (i, ops) in pages.iter().enumerate() {
            let mut page = doc.start_page_with(settings.clone());
            let mut surface = page.surface();
            draw_page(&mut surface, &face, &mut m, ops, &setup, i + 1, count);
            surface.finish();
            page.finish();
        }
        doc.finish().map_err(|e| AppError::internal(format!("writing the PDF: {e:?}")))
    }
}

fn fill(r: u8, g: u8, b: u8, opacity: f32) -> Fill {
    Fill { paint: rgb::Color::new(r, g, b).into(), opacity: NormalizedF32::new(opacity).unwrap_or(NormalizedF32::ONE), rule: Default::default() }
}

fn rect_path(x: f32, y: f32, w: f32, h: f32) -> Option<krilla::geom::Path> {
    let mut pb = PathBuilder::new();
    pb.push_rect(Rect::from_xywh(x, y, w, h)?);
    pb.finish()
}

/// Text with its top at `y` (krilla places the baseline).
fn text(s: &mut Surface<'_>, font: &Font, x: f32, y: f32, size: f32, t: &str) {
    if !t.is_empty() {
        s.draw_text(Point::from_xy(x, y + size * 1.08), font.clone(), size, t, false, TextDirection::Auto);
    }
}

fn draw_page(s: &mut Surface<'_>, font: &Font, m: &mut impl Advance, ops: &[Op], setup: &Pages, page: usize, pages: usize) {
    // The watermark across the page, behind the content.
    if !setup.watermark.is_empty() {
        s.set_stroke(None);
        s.set_fill(Some(fill(200, 40, 40, 0.10)));
        let w = m.width(&setup.watermark, 30.0);
        s.push_transform(&Transform::from_rotate_at(-35.0, PAGE_W / 2.0, PAGE_H / 2.0));
        text(s, font, (PAGE_W - w) / 2.0, PAGE_H / 2.0 - 15.0, 30.0, &setup.watermark);
        s.pop();
    }

    for op in ops {
        if let Op::Shade { x, y, w, h } = op
            && let Some(p) = rect_path(*x, *y, *w, *h)
        {
            s.set_stroke(None);
            s.set_fill(Some(fill(240, 240, 240, 1.0)));
            s.draw_path(&p);
        }
    }
    s.set_fill(None);
    s.set_stroke(Some(Stroke { paint: rgb::Color::new(90, 90, 90).into(), width: 0.5, ..Stroke::default() }));
    for op in ops {
        if let Op::Frame { x, y, w, h } = op
            && let Some(p) = rect_path(*x, *y, *w, *h)
        {
            s.draw_path(&p);
        }
    }
    s.set_stroke(None);
    for op in ops {
        if let Op::Text { x, y, size, text: t, gray } = op {
            s.set_fill(Some(if *gray { fill(100, 100, 100, 1.0) } else { fill(0, 0, 0, 1.0) }));
            text(s, font, *x, *y, *size, t);
        }
    }

    // Running header and footer.
    s.set_fill(Some(fill(100, 100, 100, 1.0)));
    text(s, font, LEFT, 28.0, SMALL, &setup.header_left);
    let right = &setup.header_right;
    text(s, font, RIGHT - m.width(right, SMALL), 28.0, SMALL, right);
    let foot_y = PAGE_H - 38.0;
    text(s, font, LEFT, foot_y, SMALL, &setup.footer_left);
    let number = format!("第 {page} 页，共 {pages} 页");
    text(s, font, RIGHT - m.width(&number, SMALL), foot_y, SMALL, &number);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_laid_out_and_drawn() {
        // Only where a CJK font is installed (CI installs fonts-noto-cjk).
        let Ok(font) = load_font(None) else {
            return;
        };
        let Ok(mut doc) = Document::new(&font, Pages { title: "测试".into(), watermark: "内部资料".into(), ..Pages::default() }) else {
            return;
        };
        doc.heading("一、标题").paragraph("正文。Latin text, 123.");
        let rows: Vec<Vec<String>> = (0..200).map(|i| vec![i.to_string(), format!("第{i}行")]).collect();
        doc.table(&[Column::new("序号", 1.0), Column::new("内容", 4.0)], &rows);
        doc.page_break().note("完");
        let pages = doc.page_count();
        assert!(pages >= 4, "{pages} pages");
        let bytes = doc.finish().unwrap_or_default();
        assert!(bytes.starts_with(b"%PDF-"));
        assert!(bytes.len() < 200_000, "a subset of the font: {} bytes", bytes.len());
    }
}
