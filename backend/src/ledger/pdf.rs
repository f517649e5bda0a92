//! The ledger as a printable PDF (krilla): A4 portrait, the title, a heading per section, tables
//! whose text wraps (a long row continues on the next page, the header repeated), on every page
//! the watermark (内部资料, who exported it and when: docs/domain.md, Confidentiality) across the page
//! and in the footer with "第 i 页，共 n 页".
//!
//! The CJK font comes from Debian's packages, never from the network (issue 6): fonts-noto-cjk's
//! NotoSansCJK-Regular.ttc (face 2, Simplified Chinese), else fonts-wqy-microhei; or the file
//! `DANGJIAN_PDF_FONT` names (`path` or `path#face`). krilla embeds only the glyphs used (a
//! subset), so a ledger is tens of kilobytes, not the font's 20 MB. No font → 503
//! `pdf_font_missing`, naming the package to install.
//!
//! Two passes: the layout places text and lines on pages (so the page count is known), then
//! krilla draws them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use actix_web::http::StatusCode;
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Transform};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use skrifa::charmap::Charmap;
use skrifa::metrics::GlyphMetrics;
use skrifa::prelude::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

use super::data::{CONFIDENTIAL, Ledger};
use crate::error::AppError;

/// The fonts tried in order when `DANGJIAN_PDF_FONT` is not set: (path, face, Debian package).
pub const SYSTEM_FONTS: [(&str, u32, &str); 2] = [
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2, "fonts-noto-cjk"),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0, "fonts-wqy-microhei"),
];

pub const FONT_ENV: &str = "DANGJIAN_PDF_FONT";

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

type FontBytes = Arc<Vec<u8>>;

/// The last font read, kept: a 20 MB file need not be read for every ledger.
static FONT_CACHE: Mutex<Option<(PathBuf, FontBytes)>> = Mutex::new(None);

/// The font's bytes (read once per path), checked to hold Chinese characters and digits.
pub fn load_font(configured: Option<&str>) -> Result<(FontBytes, u32), AppError> {
    let (path, face) = font_file(configured)?;
    let cached = FONT_CACHE.lock().ok().and_then(|c| c.as_ref().filter(|(p, _)| *p == path).map(|(_, b)| b.clone()));
    let bytes = match cached {
        Some(b) => b,
        None => {
            let b: FontBytes = Arc::new(
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
    Ok((bytes, face))
}

// A4 in points, and the margins.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const LEFT: f32 = 42.0;
const RIGHT: f32 = PAGE_W - 42.0;
const TOP: f32 = 60.0;
const BOTTOM: f32 = PAGE_H - 56.0;
const WIDTH: f32 = RIGHT - LEFT;
const PAD: f32 = 3.0;
const BODY: f32 = 9.0;

/// Punctuation that must not begin a line (GB/T 15834 usage; 行首禁则).
const NO_LINE_START: &str = "。，、；：？！）」』】》〉”’…%,.;:?!)]";

/// A line height for a font size.
fn lh(size: f32) -> f32 {
    size * 1.45
}

#[derive(Debug, Clone)]
enum Op {
    /// Text with its top at `y`.
    Text { x: f32, y: f32, size: f32, text: String, gray: bool },
    /// A cell's border.
    Frame { x: f32, y: f32, w: f32, h: f32 },
    /// A header cell's background.
    Shade { x: f32, y: f32, w: f32, h: f32 },
}

/// Text widths from the font's advances (em units, cached per character).
struct Measure<'a> {
    charmap: Charmap<'a>,
    metrics: GlyphMetrics<'a>,
    upem: f32,
    cache: HashMap<char, f32>,
}

impl<'a> Measure<'a> {
    fn new(font: &FontRef<'a>) -> Measure<'a> {
        let upem = f32::from(font.metrics(Size::unscaled(), LocationRef::default()).units_per_em).max(1.0);
        Measure { charmap: font.charmap(), metrics: font.glyph_metrics(Size::unscaled(), LocationRef::default()), upem, cache: HashMap::new() }
    }

    fn em(&mut self, c: char) -> f32 {
        if let Some(w) = self.cache.get(&c) {
            return *w;
        }
        let w = self.charmap.map(c).and_then(|g| self.metrics.advance_width(g)).map_or(1.0, |a| a / self.upem);
        self.cache.insert(c, w);
        w
    }

    fn width(&mut self, s: &str, size: f32) -> f32 {
        s.chars().map(|c| self.em(c)).sum::<f32>() * size
    }

    /// The text broken into lines no wider than `width`: at newlines, else before the character
    /// that would overflow (Chinese breaks between any two characters; a Latin word is kept
    /// whole when it fits on a line).
    fn wrap(&mut self, text: &str, width: f32, size: f32) -> Vec<String> {
        let mut out = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            let mut w = 0.0;
            for c in para.chars() {
                let cw = self.em(c) * size;
                if w + cw > width && !line.is_empty() {
                    // Move a trailing Latin word to the next line when it has a space before it.
                    let mut carry = String::new();
                    if c.is_ascii_alphanumeric()
                        && let Some(pos) = line.rfind(' ')
                        && line[pos + 1..].chars().all(|x| x.is_ascii_alphanumeric())
                        && pos > 0
                    {
                        carry = line[pos + 1..].to_string();
                        line.truncate(pos);
                    } else if NO_LINE_START.contains(c)
                        && line.chars().count() > 1
                        && let Some(last) = line.pop()
                    {
                        // A line does not begin with closing punctuation (Chinese line
                        // breaking): the character before it moves down too.
                        carry.push(last);
                    }
                    out.push(std::mem::take(&mut line));
                    line = carry;
                    w = self.width(&line, size);
                }
                line.push(c);
                w += cw;
            }
            out.push(line);
        }
        out
    }
}

struct Layout<'a> {
    m: Measure<'a>,
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl Layout<'_> {
    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
    }

    fn push(&mut self, op: Op) {
        if self.pages.is_empty() {
            self.new_page();
        }
        if let Some(p) = self.pages.last_mut() {
            p.push(op);
        }
    }

    /// Room for `h` more points on this page, or a new page.
    fn ensure(&mut self, h: f32) {
        if self.pages.is_empty() || self.y + h > BOTTOM {
            self.new_page();
        }
    }

    /// A wrapped paragraph.
    fn paragraph(&mut self, text: &str, size: f32, indent: f32, gray: bool) {
        for line in self.m.wrap(text, WIDTH - indent, size) {
            self.ensure(lh(size));
            let y = self.y;
            self.push(Op::Text { x: LEFT + indent, y, size, text: line, gray });
            self.y += lh(size);
        }
    }

    fn centered(&mut self, text: &str, size: f32) {
        for line in self.m.wrap(text, WIDTH, size) {
            self.ensure(lh(size));
            let x = LEFT + (WIDTH - self.m.width(&line, size)).max(0.0) / 2.0;
            let y = self.y;
            self.push(Op::Text { x, y, size, text: line, gray: false });
            self.y += lh(size);
        }
    }

    fn heading(&mut self, text: &str) {
        self.ensure(lh(12.0) * 3.0);
        self.y += 6.0;
        self.paragraph(text, 12.0, 0.0, false);
        self.y += 2.0;
    }

    /// One row of cells at the current position; `shade` for a header. A row taller than what is
    /// left of the page continues on the next one, after the repeated header.
    fn row(&mut self, widths: &[f32], cells: &[String], size: f32, shade: bool, header: Option<&[String]>) {
        let lines: Vec<Vec<String>> = widths.iter().zip(cells).map(|(w, c)| self.m.wrap(c, w - 2.0 * PAD, size)).collect();
        let total = lines.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let mut done = 0;
        while done < total {
            let fit = ((BOTTOM - self.y - 2.0 * PAD) / lh(size)).floor().max(0.0) as usize;
            // Start on a new page rather than leave one or two lines of a row at the bottom.
            if fit == 0 || (fit < (total - done).min(3) && self.y > TOP + 1.0) {
                self.new_page();
                if let Some(h) = header {
                    self.row(widths, h, size, true, None);
                }
                continue;
            }
            let n = fit.min(total - done);
            let h = n as f32 * lh(size) + 2.0 * PAD;
            let mut x = LEFT;
            let y = self.y;
            for (w, cell) in widths.iter().zip(&lines) {
                if shade {
                    self.push(Op::Shade { x, y, w: *w, h });
                }
                self.push(Op::Frame { x, y, w: *w, h });
                for (i, line) in cell.iter().skip(done).take(n).enumerate() {
                    self.push(Op::Text { x: x + PAD, y: y + PAD + i as f32 * lh(size), size, text: line.clone(), gray: false });
                }
                x += w;
            }
            self.y += h;
            done += n;
        }
    }

    /// A table: widths in fractions of the text width.
    fn table(&mut self, fractions: &[f32], header: &[&str], rows: &[Vec<String>], size: f32) {
        let widths: Vec<f32> = fractions.iter().map(|f| f * WIDTH).collect();
        let header: Vec<String> = header.iter().map(|s| s.to_string()).collect();
        self.ensure(lh(size) * 2.0 + 4.0 * PAD);
        self.row(&widths, &header, size, true, None);
        for r in rows {
            self.row(&widths, r, size, false, Some(&header));
        }
    }

    /// Label | value rows (the overview, each meeting).
    fn pairs(&mut self, rows: &[(&str, String)], size: f32) {
        let widths = [0.18 * WIDTH, 0.82 * WIDTH];
        for (label, value) in rows {
            self.row(&widths, &[label.to_string(), value.clone()], size, false, None);
        }
    }
}

fn or_dash(s: Option<&str>) -> String {
    s.map(str::trim).filter(|s| !s.is_empty()).unwrap_or("—").to_string()
}

fn lay_out(l: &mut Layout<'_>, ledger: &Ledger) {
    l.new_page();
    l.y += 20.0;
    l.centered(&ledger.org_name, 20.0);
    l.y += 4.0;
    l.centered(&ledger.title(), 16.0);
    l.y += 4.0;
    l.centered(&format!("统计至 {}　　{}", ledger.as_of, ledger.watermark()), 9.0);
    l.y += 10.0;

    l.heading("一、基本情况");
    let officers = |current: bool| {
        let s = ledger
            .officers
            .iter()
            .filter(|o| o.current == current)
            .map(|o| {
                if current {
                    format!("{}（{}）", o.name, o.post_zh())
                } else {
                    format!("{}（{}，{}至{}）", o.name, o.post_zh(), o.since, o.until.map(|u| u.to_string()).unwrap_or_default())
                }
            })
            .collect::<Vec<_>>()
            .join("、");
        if s.is_empty() { "—".to_string() } else { s }
    };
    let t = &ledger.totals;
    l.pairs(
        &[
            ("组织名称", ledger.org_name.clone()),
            ("组织类别", ledger.org_kind_zh.to_string()),
            ("年度", format!("{}年（统计至 {}）", ledger.year, ledger.as_of)),
            ("书记", ledger.secretary().map_or_else(|| "未设".to_string(), |s| s.name.clone())),
            ("委员会成员", officers(true)),
            ("本年曾任", officers(false)),
            ("党员人数", format!("共 {} 人（正式党员 {} 人，预备党员 {} 人）", ledger.full + ledger.probationary, ledger.full, ledger.probationary)),
            (
                "党员增减",
                format!(
                    "上年底 {} 人，本年增加 {} 人，减少 {} 人，{} 为 {} 人",
                    t.previous.total,
                    t.gained_total(),
                    t.lost_total(),
                    ledger.as_of,
                    t.current.total
                ),
            ),
            ("组织生活", format!("本年召开会议 {} 次（会议记录 {} 条）", ledger.held_total(), ledger.meetings.len())),
        ],
        BODY,
    );

    l.heading("二、组织生活开展情况（已召开次数）");
    if ledger.kinds.is_empty() {
        l.paragraph("本年无会议记录，也无应召开的会议。", BODY, 0.0, false);
    } else {
        let mut fractions = vec![0.16];
        fractions.extend([0.046; 12]);
        fractions.extend([0.0813, 0.0813, 0.1254]);
        let mut header: Vec<String> = vec!["会议类型".into()];
        header.extend((1..=12).map(|m| format!("{m}月")));
        header.extend(["全年".into(), "应召开".into(), "完成情况".into()]);
        let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
        let rows: Vec<Vec<String>> = ledger
            .kinds
            .iter()
            .map(|k| {
                let mut r = vec![k.name.clone()];
                r.extend(k.by_month.iter().map(|n| n.to_string()));
                r.push(k.held.to_string());
                match k.required {
                    Some(req) => {
                        r.push(req.to_string());
                        r.push(if k.held >= req { "已完成".into() } else { format!("差 {} 次", req - k.held) });
                    }
                    None => {
                        r.push("—".into());
                        r.push("不作要求".into());
                    }
                }
                r
            })
            .collect();
        l.table(&fractions, &header_refs, &rows, 7.5);
    }
    l.y += 4.0;
    l.paragraph(
        "注：应召开为本年已开始的各周期按组织生活设置应召开的次数之和，含所属党小组。发展党员工作尚未在平台记录，本台账暂不包含该部分。",
        8.0,
        0.0,
        true,
    );

    l.new_page();
    l.heading("三、会议记录");
    if ledger.meetings.is_empty() {
        l.paragraph("本年无会议记录。", BODY, 0.0, false);
    }
    for (i, m) in ledger.meetings.iter().enumerate() {
        l.ensure(lh(10.5) + 6.0 * lh(BODY));
        l.y += 4.0;
        l.paragraph(&format!("{}. {}　{}　{}", i + 1, m.starts_at.format("%Y-%m-%d"), m.kind_name, m.topic), 10.5, 0.0, false);
        let mut rows: Vec<(&str, String)> = vec![
            ("组织", m.org_name.clone()),
            ("时间", m.when()),
            ("地点", or_dash(m.place.as_deref())),
            ("主持人 / 记录人", format!("{} / {}", or_dash(m.host.as_deref()), or_dash(m.recorder.as_deref()))),
            ("状态", format!("{}{}", m.status_zh(), if m.archived_at.is_some() { "，已归档" } else { "，未归档" })),
            ("应到 / 实到", format!("{} / {}", m.due(), m.present.len())),
            ("出席人员", if m.present.is_empty() { "—".into() } else { m.present.join("、") }),
            ("缺席人员及原因", if m.absent.is_empty() { "—".into() } else { m.absent_text() }),
        ];
        if !m.pending.is_empty() {
            rows.push(("未登记出席", m.pending.join("、")));
        }
        if let Some(reason) = m.cancel_reason.as_deref().filter(|_| m.status == "cancelled") {
            rows.push(("取消原因", reason.to_string()));
        }
        rows.push(("会议记录", or_dash(m.minutes.as_deref())));
        rows.push((
            "决议",
            if m.resolutions.is_empty() {
                "—".into()
            } else {
                m.resolutions.iter().enumerate().map(|(i, r)| format!("{}. {r}", i + 1)).collect::<Vec<_>>().join("\n")
            },
        ));
        if !m.votes.is_empty() {
            rows.push(("表决", m.votes_text().join("\n")));
        }
        if !m.addenda.is_empty() {
            rows.push(("补充说明", m.addenda.iter().map(|a| a.text()).collect::<Vec<_>>().join("\n")));
        }
        l.pairs(&rows, BODY);
    }

    l.new_page();
    l.heading(&format!("四、党员名册（{}）", ledger.as_of));
    let rows: Vec<Vec<String>> = ledger
        .members
        .iter()
        .enumerate()
        .map(|(i, m)| {
            vec![
                (i + 1).to_string(),
                m.name.clone(),
                m.gender_zh().into(),
                m.org_name.clone(),
                m.category_zh().into(),
                m.joined_at.to_string(),
                m.full_member_at.map(|d| d.to_string()).unwrap_or_default(),
                m.status_zh().into(),
            ]
        })
        .collect();
    if rows.is_empty() {
        l.paragraph("无党员。", BODY, 0.0, false);
    } else {
        l.table(
            &[0.07, 0.13, 0.07, 0.25, 0.11, 0.13, 0.13, 0.11],
            &["序号", "姓名", "性别", "所在组织", "党员类别", "入党日期", "转正日期", "党籍状态"],
            &rows,
            BODY,
        );
    }
    l.y += 4.0;
    l.paragraph(
        &format!("合计 {} 人：正式党员 {} 人，预备党员 {} 人（党籍状态正常者）。", ledger.full + ledger.probationary, ledger.full, ledger.probationary),
        BODY,
        0.0,
        false,
    );

    l.heading("五、党员变动");
    let rows: Vec<Vec<String>> = ledger
        .changes
        .iter()
        .enumerate()
        .map(|(i, c)| vec![(i + 1).to_string(), c.on.to_string(), c.name.clone(), c.change.into(), c.detail.clone()])
        .collect();
    if rows.is_empty() {
        l.paragraph("本年无党员变动。", BODY, 0.0, false);
    } else {
        l.table(&[0.07, 0.15, 0.15, 0.2, 0.43], &["序号", "日期", "姓名", "变动", "说明"], &rows, BODY);
    }
    l.y += 4.0;
    l.paragraph(
        &format!(
            "上年底党员 {} 人，本年增加 {} 人，减少 {} 人，{} 党员 {} 人（党内统计口径）。",
            t.previous.total,
            t.gained_total(),
            t.lost_total(),
            ledger.as_of,
            t.current.total
        ),
        BODY,
        0.0,
        false,
    );
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

fn draw_page(s: &mut Surface<'_>, font: &Font, m: &mut Measure<'_>, ops: &[Op], ledger: &Ledger, page: usize, pages: usize) {
    // The watermark across the page, behind the content.
    s.set_stroke(None);
    s.set_fill(Some(fill(200, 40, 40, 0.10)));
    let mark = format!("{CONFIDENTIAL}　{}", ledger.generated_by);
    let w = m.width(&mark, 30.0);
    s.push_transform(&Transform::from_rotate_at(-35.0, PAGE_W / 2.0, PAGE_H / 2.0));
    text(s, font, (PAGE_W - w) / 2.0, PAGE_H / 2.0 - 15.0, 30.0, &mark);
    s.pop();

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
    let head = format!("{}　{}", ledger.org_name, ledger.title());
    text(s, font, LEFT, 28.0, 8.0, &head);
    text(s, font, RIGHT - m.width(CONFIDENTIAL, 8.0), 28.0, 8.0, CONFIDENTIAL);
    let foot_y = PAGE_H - 38.0;
    text(s, font, LEFT, foot_y, 8.0, &ledger.watermark());
    let number = format!("第 {page} 页，共 {pages} 页");
    text(s, font, RIGHT - m.width(&number, 8.0), foot_y, 8.0, &number);
}

/// The PDF's bytes.
pub fn write(ledger: &Ledger, font_bytes: FontBytes, face: u32) -> Result<Vec<u8>, AppError> {
    let font_ref = FontRef::from_index(&font_bytes[..], face).map_err(|e| AppError::internal(format!("ledger PDF font: {e}")))?;
    let mut layout = Layout { m: Measure::new(&font_ref), pages: Vec::new(), y: TOP };
    lay_out(&mut layout, ledger);
    let Layout { mut m, pages, .. } = layout;

    let font = Font::new(krilla::Data::from(font_bytes.clone()), face).ok_or_else(|| AppError::internal("krilla cannot read the ledger's font"))?;
    let mut doc = Document::new();
    doc.set_metadata(
        Metadata::new()
            .title(format!("{}{}", ledger.org_name, ledger.title()))
            .authors(vec![ledger.generated_by.clone()])
            .description(ledger.watermark())
            .creator("智慧党建平台".into())
            .language("zh-CN".into()),
    );
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| AppError::internal("A4 page size"))?;
    let count = pages.len();
    for (i, ops) in pages.iter().enumerate() {
        let mut page = doc.start_page_with(settings.clone());
        let mut surface = page.surface();
        draw_page(&mut surface, &font, &mut m, ops, ledger, i + 1, count);
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| AppError::internal(format!("writing the ledger PDF: {e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_do_not_begin_with_closing_punctuation() {
        let Ok((bytes, face)) = load_font(None) else {
            return;
        };
        let Ok(font) = FontRef::from_index(&bytes[..], face) else {
            return;
        };
        let mut m = Measure::new(&font);
        // Ten ideographs fit a line of 10 em; the full stop after them moves down with the tenth.
        let lines = m.wrap("一二三四五六七八九十。再", 10.0 * 9.0, 9.0);
        assert_eq!(lines, ["一二三四五六七八九", "十。再"]);
        let lines = m.wrap("第一行\n第二行", 100.0, 9.0);
        assert_eq!(lines, ["第一行", "第二行"]);
    }

    #[test]
    fn a_configured_font_that_is_missing_names_the_package() {
        let e = font_file(Some("/nonexistent/font.ttc#2")).err().map(|e| (e.status.as_u16(), e.code, e.detail.map(|d| d.0).unwrap_or_default()));
        let (status, code, detail) = e.unwrap_or_default();
        assert_eq!((status, code), (503, "pdf_font_missing"));
        assert!(detail.contains("fonts-noto-cjk") && detail.contains("/nonexistent/font.ttc"), "{detail}");
    }
}
