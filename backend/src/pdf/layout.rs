//! The first pass: text measured and wrapped, and placed with table frames on A4 pages (so the
//! page count is known before anything is drawn). Independent of the font file: widths come from
//! an [`Advance`], which the tests give fixed widths.

/// A4 portrait in points, and the margins.
pub const PAGE_W: f32 = 595.28;
pub const PAGE_H: f32 = 841.89;
pub const LEFT: f32 = 42.0;
pub const RIGHT: f32 = PAGE_W - 42.0;
pub const TOP: f32 = 60.0;
pub const BOTTOM: f32 = PAGE_H - 56.0;
/// The text width.
pub const WIDTH: f32 = RIGHT - LEFT;
/// A cell's padding.
pub const PAD: f32 = 3.0;
/// The body text's size.
pub const BODY: f32 = 9.0;
/// A note's size (gray).
pub const SMALL: f32 = 8.0;
pub const HEADING: f32 = 12.0;
pub const SUBHEADING: f32 = 10.5;

/// Punctuation that must not begin a line (GB/T 15834 usage; 行首禁则).
pub const NO_LINE_START: &str = "。，、；：？！）」』】》〉”’…%,.;:?!)]";
/// Punctuation that must not end a line (行尾禁则).
pub const NO_LINE_END: &str = "（「『【《〈“‘([";

/// A line height for a font size.
pub fn lh(size: f32) -> f32 {
    size * 1.45
}

/// A character's advance in em (1.0 for an ideograph).
pub trait Advance {
    fn em(&mut self, c: char) -> f32;

    fn width(&mut self, s: &str, size: f32) -> f32 {
        s.chars().map(|c| self.em(c)).sum::<f32>() * size
    }
}

fn closing(c: char) -> bool {
    NO_LINE_START.contains(c)
}

fn opening(c: char) -> bool {
    NO_LINE_END.contains(c)
}

/// A character of a Latin word or a number, which is not broken inside.
fn word(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// Where a full line ends when `next` does not fit on it: the index in `line` of the first
/// character that moves down with `next`. Closing punctuation takes the character (or the Latin
/// word) before it down with it; a Latin word moves down whole; opening punctuation does not stay
/// at the end of a line. A unit that fills the line from its start is broken where it overflows.
fn break_at(line: &[char], next: char) -> usize {
    let n = line.len();
    let mut i = n;
    if closing(next) {
        while i > 0 && line.get(i - 1).is_some_and(|&c| closing(c)) {
            i -= 1;
        }
        if i > 0 {
            if line.get(i - 1).is_some_and(|&c| word(c)) {
                while i > 0 && line.get(i - 1).is_some_and(|&c| word(c)) {
                    i -= 1;
                }
            } else {
                i -= 1;
            }
        }
    } else if word(next) {
        while i > 0 && line.get(i - 1).is_some_and(|&c| word(c)) {
            i -= 1;
        }
    }
    while i > 0 && line.get(i - 1).is_some_and(|&c| opening(c)) {
        i -= 1;
    }
    if i == 0 { n } else { i }
}

/// `text` broken into lines no wider than `width` at `size`: at newlines, else before the
/// character that would overflow (Chinese breaks between any two characters), following
/// [`break_at`]; a space where a line breaks is dropped.
pub fn wrap(text: &str, width: f32, size: f32, m: &mut impl Advance) -> Vec<String> {
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut line: Vec<char> = Vec::new();
        let mut w = 0.0;
        for c in para.chars() {
            let cw = m.em(c) * size;
            if w + cw > width && !line.is_empty() {
                let carry = line.split_off(break_at(&line, c));
                out.push(line.iter().collect::<String>().trim_end().to_string());
                line = carry;
                w = line.iter().map(|&c| m.em(c)).sum::<f32>() * size;
                if c == ' ' && line.is_empty() {
                    continue;
                }
            }
            line.push(c);
            w += cw;
        }
        out.push(line.into_iter().collect());
    }
    out
}

/// What the first pass places; the second draws it.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Text with its top at `y`.
    Text { x: f32, y: f32, size: f32, text: String, gray: bool },
    /// A cell's border.
    Frame { x: f32, y: f32, w: f32, h: f32 },
    /// A header cell's background.
    Shade { x: f32, y: f32, w: f32, h: f32 },
}

/// A table's column: its header and its width relative to the others' (the table spans the
/// text width).
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub header: String,
    pub width: f32,
}

impl Column {
    pub fn new(header: impl Into<String>, width: f32) -> Column {
        Column { header: header.into(), width }
    }
}

/// The pages being filled: one list of ops per page, and the position on the last.
pub struct Layout<M> {
    pub m: M,
    pub pages: Vec<Vec<Op>>,
    pub y: f32,
}

impl<M: Advance> Layout<M> {
    pub fn new(m: M) -> Layout<M> {
        Layout { m, pages: Vec::new(), y: TOP }
    }

    pub fn new_page(&mut self) {
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
    pub fn ensure(&mut self, h: f32) {
        if self.pages.is_empty() || self.y + h > BOTTOM {
            self.new_page();
        }
    }

    /// Vertical space (none at the top of a page).
    pub fn space(&mut self, h: f32) {
        if self.pages.is_empty() {
            self.new_page();
        }
        self.y = (self.y + h).min(BOTTOM);
    }

    /// A wrapped paragraph.
    pub fn paragraph(&mut self, text: &str, size: f32, indent: f32, gray: bool) {
        for line in wrap(text, WIDTH - indent, size, &mut self.m) {
            self.ensure(lh(size));
            let y = self.y;
            self.push(Op::Text { x: LEFT + indent, y, size, text: line, gray });
            self.y += lh(size);
        }
    }

    /// Wrapped lines, each centred.
    pub fn centered(&mut self, text: &str, size: f32) {
        for line in wrap(text, WIDTH, size, &mut self.m) {
            self.ensure(lh(size));
            let x = LEFT + (WIDTH - self.m.width(&line, size)).max(0.0) / 2.0;
            let y = self.y;
            self.push(Op::Text { x, y, size, text: line, gray: false });
            self.y += lh(size);
        }
    }

    /// A heading kept on the page with `keep` points of what follows it.
    pub fn heading(&mut self, text: &str, size: f32, keep: f32) {
        self.ensure(lh(size) + keep);
        self.space(if self.y > TOP + 1.0 { 6.0 } else { 0.0 });
        self.paragraph(text, size, 0.0, false);
        self.y += 2.0;
    }

    /// One row of cells at the current position; `shade` for a header. A row taller than what is
    /// left of the page continues on the next one, after the repeated `header`.
    pub fn row(&mut self, widths: &[f32], cells: &[String], size: f32, shade: bool, header: Option<&[String]>) {
        let lines: Vec<Vec<String>> = widths.iter().zip(cells).map(|(w, c)| wrap(c, w - 2.0 * PAD, size, &mut self.m)).collect();
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

    /// A table over the text width, its header repeated on each page it continues on.
    pub fn table(&mut self, columns: &[Column], rows: &[Vec<String>], size: f32) {
        let total: f32 = columns.iter().map(|c| c.width.max(0.0)).sum::<f32>().max(1.0);
        let widths: Vec<f32> = columns.iter().map(|c| c.width.max(0.0) / total * WIDTH).collect();
        let header: Vec<String> = columns.iter().map(|c| c.header.clone()).collect();
        self.ensure(lh(size) * 2.0 + 4.0 * PAD);
        self.row(&widths, &header, size, true, None);
        for r in rows {
            self.row(&widths, r, size, false, Some(&header));
        }
    }

    /// Label | value rows, the labels in a narrow first column.
    pub fn key_values(&mut self, rows: &[(String, String)], size: f32) {
        let widths = [0.18 * WIDTH, 0.82 * WIDTH];
        for (label, value) in rows {
            self.row(&widths, &[label.clone(), value.clone()], size, false, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ideograph (and full-width punctuation) 1 em, anything else half an em.
    struct Fixed;

    impl Advance for Fixed {
        fn em(&mut self, c: char) -> f32 {
            if c.is_ascii() { 0.5 } else { 1.0 }
        }
    }

    fn w(text: &str, ems: f32) -> Vec<String> {
        wrap(text, ems * 10.0, 10.0, &mut Fixed)
    }

    #[test]
    fn chinese_breaks_between_any_two_characters() {
        assert_eq!(w("一二三四五六七", 3.0), ["一二三", "四五六", "七"]);
        assert_eq!(w("第一行\n第二行", 10.0), ["第一行", "第二行"]);
        assert_eq!(w("", 10.0), [""]);
        // Exactly full: no empty line after it.
        assert_eq!(w("一二三", 3.0), ["一二三"]);
    }

    #[test]
    fn a_line_does_not_begin_with_closing_punctuation() {
        // Ten ideographs fill a line; the full stop after them moves down with the tenth.
        assert_eq!(w("一二三四五六七八九十。再", 10.0), ["一二三四五六七八九", "十。再"]);
        // Two closing marks in a row move down together, with the character before them.
        assert_eq!(w("一二三四）。五", 4.0), ["一二三", "四）。五"]);
        assert_eq!(w("甲乙丙，丁", 3.0), ["甲乙", "丙，丁"]);
        for line in w("会议由书记主持，传达学习了有关精神，与会党员逐一发言。（完）", 5.0) {
            let first = line.chars().next().unwrap_or(' ');
            assert!(!NO_LINE_START.contains(first), "{line:?} begins with {first}");
        }
    }

    #[test]
    fn a_line_does_not_end_with_opening_punctuation() {
        assert_eq!(w("一二（三四", 3.0), ["一二", "（三四"]);
    }

    #[test]
    fn latin_words_move_down_whole() {
        // 0.5 em per letter: 10 letters per 5 em.
        assert_eq!(w("hello world again", 5.0), ["hello", "world", "again"]);
        assert_eq!(w("学习 Rust 语言", 4.0), ["学习", "Rust 语", "言"]);
        // A word followed by a comma moves down with it.
        assert_eq!(w("abc defgh,", 4.5), ["abc", "defgh,"]);
        // A word longer than the line is broken where it overflows.
        assert_eq!(w("abcdefghij", 2.0), ["abcd", "efgh", "ij"]);
        // Numbers are words too.
        assert_eq!(w("共 12345 人", 3.0), ["共", "12345", "人"]);
    }

    fn texts(page: &[Op]) -> Vec<&str> {
        page.iter()
            .filter_map(|op| match op {
                Op::Text { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_long_row_continues_on_the_next_page_under_the_repeated_header() {
        let mut l = Layout::new(Fixed);
        let lines: String = (1..=150).map(|i| format!("第{i:03}行\n")).collect();
        l.table(&[Column::new("序号", 1.0), Column::new("内容", 4.0)], &[vec!["1".into(), lines.trim_end().into()]], BODY);
        assert!(l.pages.len() >= 2, "{} pages", l.pages.len());
        let first = texts(&l.pages[0]);
        assert_eq!(first[..2], ["序号", "内容"]);
        let second = texts(&l.pages[1]);
        assert_eq!(second[..2], ["序号", "内容"], "the header repeated");
        let all: Vec<&str> = l.pages.iter().flat_map(|p| texts(p)).collect();
        assert!(all.contains(&"第001行") && all.contains(&"第150行"));
        for page in &l.pages {
            for op in page {
                if let Op::Frame { y, h, .. } = op {
                    assert!(*y >= TOP - 0.01 && y + h <= BOTTOM + 0.01, "{op:?}");
                }
            }
        }
    }

    #[test]
    fn pages_break_where_the_text_reaches_the_bottom() {
        let mut l = Layout::new(Fixed);
        let per_page = ((BOTTOM - TOP) / lh(BODY)).floor() as usize;
        for i in 0..per_page + 1 {
            l.paragraph(&format!("第{i}段"), BODY, 0.0, false);
        }
        assert_eq!(l.pages.len(), 2);
        assert_eq!(texts(&l.pages[1]), [format!("第{per_page}段")]);
        // A page break, then a heading near the bottom moves to the next page with what follows.
        l.new_page();
        l.y = BOTTOM - lh(HEADING);
        l.heading("标题", HEADING, 3.0 * lh(BODY));
        assert_eq!(l.pages.len(), 4);
        assert_eq!(texts(&l.pages[3]), ["标题"]);
        assert!(l.pages[2].is_empty());
    }

    #[test]
    fn a_short_row_is_not_split_at_the_bottom() {
        let mut l = Layout::new(Fixed);
        l.new_page();
        // Room for two lines: a row of three starts on the next page.
        l.y = BOTTOM - 2.0 * lh(BODY) - 2.0 * PAD - 0.5;
        l.key_values(&[("决议".into(), "一\n二\n三".into())], BODY);
        assert_eq!(l.pages.len(), 2);
        assert_eq!(texts(&l.pages[1]), ["决议", "一", "二", "三"]);
    }
}
