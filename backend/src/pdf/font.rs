//! The CJK font: from Debian's packages, never from the network (issue 6). fonts-noto-cjk's
//! NotoSansCJK-Regular.ttc (face 2, Simplified Chinese), else fonts-wqy-microhei; or the file
//! `DANGJIAN_PDF_FONT` names (`path` or `path#face`). No font → 503 `pdf_font_missing`, naming the
//! package to install. The bytes are read once per path and kept.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use actix_web::http::StatusCode;
use skrifa::charmap::Charmap;
use skrifa::metrics::GlyphMetrics;
use skrifa::prelude::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

use super::layout::Advance;
use crate::error::AppError;

/// The fonts tried in order when `DANGJIAN_PDF_FONT` is not set: (path, face, Debian package).
pub const SYSTEM_FONTS: [(&str, u32, &str); 2] = [
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2, "fonts-noto-cjk"),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0, "fonts-wqy-microhei"),
];

pub const FONT_ENV: &str = "DANGJIAN_PDF_FONT";

/// A font file's bytes and the face to use in it, checked by [`load_font`].
#[derive(Clone)]
pub struct FontFile {
    pub bytes: Arc<Vec<u8>>,
    pub face: u32,
}

impl std::fmt::Debug for FontFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FontFile({} bytes, face {})", self.bytes.len(), self.face)
    }
}

fn font_missing(en: String, zh: String) -> AppError {
    AppError::new(StatusCode::SERVICE_UNAVAILABLE, "pdf_font_missing", "No CJK font for the PDF", "缺少生成 PDF 所需的中文字体").with_detail(en, zh)
}

/// The font file and face to use: `configured` (the value of `DANGJIAN_PDF_FONT`), else the first
/// of [`SYSTEM_FONTS`] present.
pub fn font_file(configured: Option<&str>) -> Result<(PathBuf, u32), AppError> {
    if let Some(spec) = configured.map(str::trim).filter(|s| !s.is_empty()) {
        let (path, face) = match spec.rsplit_once('#') {
            Some((p, f)) if f.parse::<u32>().is_ok() => (p, f.parse::<u32>().unwrap_or(0)),
            _ => (spec, 0),
        };
        let path = PathBuf::from(path);
        if !path.is_file() {
            return Err(font_missing(
                format!(
                    "{FONT_ENV} names {}, which does not exist; install fonts-noto-cjk (apt-get install fonts-noto-cjk) or correct {FONT_ENV}",
                    path.display()
                ),
                format!("{FONT_ENV} 指定的字体文件 {} 不存在；请安装 fonts-noto-cjk（apt-get install fonts-noto-cjk）或更正该设置", path.display()),
            ));
        }
        return Ok((path, face));
    }
    SYSTEM_FONTS.iter().find(|(p, _, _)| Path::new(p).is_file()).map(|(p, f, _)| (PathBuf::from(p), *f)).ok_or_else(|| {
        font_missing(
            format!("no CJK font found ({}); install the Debian package fonts-noto-cjk (apt-get install fonts-noto-cjk) or set {FONT_ENV}", SYSTEM_FONTS[0].0),
            format!("未找到中文字体（{}）；请安装 Debian 软件包 fonts-noto-cjk（apt-get install fonts-noto-cjk）或设置 {FONT_ENV}", SYSTEM_FONTS[0].0),
        )
    })
}

/// The last font read, kept: a 20 MB file need not be read for every document.
static FONT_CACHE: Mutex<Option<(PathBuf, Arc<Vec<u8>>)>> = Mutex::new(None);

/// The font (read once per path), checked to hold Chinese characters, digits and Latin letters.
/// `configured` is the value of `DANGJIAN_PDF_FONT` ([`configured_font`] reads it).
pub fn load_font(configured: Option<&str>) -> Result<FontFile, AppError> {
    let (path, face) = font_file(configured)?;
    let cached = FONT_CACHE.lock().ok().and_then(|c| c.as_ref().filter(|(p, _)| *p == path).map(|(_, b)| b.clone()));
    let bytes = match cached {
        Some(b) => b,
        None => {
            let b = Arc::new(
                std::fs::read(&path)
                    .map_err(|e| font_missing(format!("cannot read the font {}: {e}", path.display()), format!("无法读取字体文件 {}：{e}", path.display())))?,
            );
            if let Ok(mut c) = FONT_CACHE.lock() {
                *c = Some((path.clone(), b.clone()));
            }
            b
        }
    };
    let font = FontRef::from_index(&bytes[..], face).map_err(|e| {
        font_missing(format!("{} (face {face}) is not a usable font: {e}", path.display()), format!("{}（第 {face} 个字体）无法使用：{e}", path.display()))
    })?;
    // A font without Chinese glyphs or without digits (DroidSansFallbackFull has none) would print boxes.
    let charmap = font.charmap();
    if ['党', '支', '0', 'A'].iter().any(|c| charmap.map(*c).is_none()) {
        return Err(font_missing(
            format!("{} (face {face}) lacks Chinese characters or digits; use NotoSansCJK-Regular.ttc#2 from fonts-noto-cjk", path.display()),
            format!("{}（第 {face} 个字体）缺少汉字或数字；请使用 fonts-noto-cjk 的 NotoSansCJK-Regular.ttc#2", path.display()),
        ));
    }
    Ok(FontFile { bytes, face })
}

/// The font `DANGJIAN_PDF_FONT` names, else the first system font present (blocking: reads a file).
pub fn configured_font() -> Result<FontFile, AppError> {
    load_font(std::env::var(FONT_ENV).ok().as_deref())
}

/// Advances from the font (em units, cached per character).
pub(super) struct FontMeasure<'a> {
    charmap: Charmap<'a>,
    metrics: GlyphMetrics<'a>,
    upem: f32,
    cache: HashMap<char, f32>,
}

impl<'a> FontMeasure<'a> {
    pub(super) fn new(font: &FontRef<'a>) -> FontMeasure<'a> {
        let upem = f32::from(font.metrics(Size::unscaled(), LocationRef::default()).units_per_em).max(1.0);
        FontMeasure { charmap: font.charmap(), metrics: font.glyph_metrics(Size::unscaled(), LocationRef::default()), upem, cache: HashMap::new() }
    }
}

impl Advance for FontMeasure<'_> {
    fn em(&mut self, c: char) -> f32 {
        if let Some(w) = self.cache.get(&c) {
            return *w;
        }
        let w = self.charmap.map(c).and_then(|g| self.metrics.advance_width(g)).map_or(1.0, |a| a / self.upem);
        self.cache.insert(c, w);
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_font_that_is_missing_names_the_package() {
        let e = font_file(Some("/nonexistent/font.ttc#2")).err().map(|e| (e.status.as_u16(), e.code, e.detail.map(|d| d.0).unwrap_or_default()));
        let (status, code, detail) = e.unwrap_or_default();
        assert_eq!((status, code), (503, "pdf_font_missing"));
        assert!(detail.contains("fonts-noto-cjk") && detail.contains("/nonexistent/font.ttc"), "{detail}");
    }
}
