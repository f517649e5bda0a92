//! Text typed by people: required names and titles must hold something visible, and stored names
//! carry no bidirectional controls (a name with U+202E shows its end first, in lists, exports and
//! file names).

/// Whether `c` shows nothing by itself: Unicode white space, control characters, and the format
/// characters (general category Cf: zero-width spaces and joiners, bidirectional marks, embeddings,
/// overrides and isolates, the word joiner and invisible operators, the BOM, interlinear
/// annotation, tags) plus the fillers that render blank (Hangul fillers, the combining grapheme
/// joiner, the braille blank).
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}' | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{2800}' | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF9}'..='\u{FFFB}'
            | '\u{0600}'..='\u{0605}' | '\u{06DD}' | '\u{070F}' | '\u{08E2}' | '\u{110BD}' | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}')
}

/// Whether `c` is a bidirectional control: the embeddings and overrides (U+202A–U+202E), the
/// isolates (U+2066–U+2069), and the marks (U+200E, U+200F, U+061C).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// `s` without bidirectional controls and without invisible characters at either end: what a
/// name or title is stored as. Empty when nothing visible remains.
pub fn clean(s: &str) -> String {
    let s: String = s.chars().filter(|c| !is_bidi_control(*c)).collect();
    s.trim_matches(is_invisible).to_string()
}

/// `s` without control and format characters (bidi controls, zero-width characters), white space
/// kept: for file names, where a U+202E shows the name's end first.
pub fn without_format(s: &str) -> String {
    s.chars().filter(|c| (c.is_whitespace() && !c.is_control()) || !is_invisible(*c)).collect()
}

/// [`clean`] over an optional text; `None` when nothing visible remains.
pub fn clean_opt(s: Option<String>) -> Option<String> {
    s.map(|s| clean(&s)).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_names_clean_to_nothing() {
        for s in ["   ", "\u{200B}", "\u{202E}", "\u{3000}\u{FEFF}\u{2060}", "\u{200D}\u{200C}\u{00A0}", "\u{2066}\u{2069}", "\u{3164}", "\t\n"] {
            assert_eq!(clean(s), "", "{s:?}");
        }
        assert_eq!(clean(" \u{200B}张三\u{3000}"), "张三");
        assert_eq!(clean("张\u{202E}三"), "张三");
        assert_eq!(clean("Mary Ann"), "Mary Ann");
        assert_eq!(clean_opt(Some("\u{200B} ".into())), None);
    }
}
