//! Pinyin search keys for member names, so that 张三 can be found by typing
//! `zs` or `zhangsan` in a search box.

use ::pinyin::ToPinyin;

/// Readings of polyphonic characters when used as a surname. The pinyin crate
/// gives the most frequent reading overall (单 → dan, 曾 → ceng), which for
/// these characters is the wrong one for a family name, and family names are
/// exactly what people type when looking a member up.
const SURNAME_READINGS: &[(char, &str)] = &[
    ('单', "shan"),
    ('曾', "zeng"),
    ('解', "xie"),
    ('仇', "qiu"),
    ('朴', "piao"),
    ('查', "zha"),
    ('区', "ou"),
    ('乐', "yue"),
    ('秘', "bi"),
    ('缪', "miao"),
    // 尉迟 also comes out right: 尉 → yu here, 迟 → chi by default.
    ('尉', "yu"),
    ('覃', "qin"),
    ('翟', "zhai"),
    ('盖', "ge"),
    ('种', "chong"),
    ('召', "shao"),
    ('员', "yun"),
    ('繁', "po"),
    ('句', "gou"),
];

/// Returns `(initials, full)` pinyin keys in lowercase ASCII: 张三 →
/// `("zs", "zhangsan")`.
///
/// Polyphonic characters take the pinyin crate's default reading, except a
/// first character that is a polyphonic surname (see `SURNAME_READINGS`).
/// `ü` is written `v`, as in pinyin input methods (吕 → `lv`). ASCII letters
/// are kept, lowercased, in both keys (each letter counts as its own
/// initial). Everything else — digits, spaces, the `·` in transliterated
/// names, characters without a reading — is skipped.
pub fn name_keys(name: &str) -> (String, String) {
    let mut initials = String::new();
    let mut full = String::new();
    for (i, c) in name.trim().chars().enumerate() {
        if c.is_ascii_alphabetic() {
            let lower = c.to_ascii_lowercase();
            initials.push(lower);
            full.push(lower);
            continue;
        }
        let surname = if i == 0 { surname_reading(c) } else { None };
        let Some(reading) = surname.or_else(|| c.to_pinyin().map(|p| p.plain())) else {
            continue;
        };
        let mut ascii = reading.chars().map(|r| if r == 'ü' { 'v' } else { r });
        if let Some(first) = ascii.next() {
            initials.push(first);
            full.push(first);
            full.extend(ascii);
        }
    }
    (initials, full)
}

fn surname_reading(c: char) -> Option<&'static str> {
    SURNAME_READINGS.iter().find(|(s, _)| *s == c).map(|(_, reading)| *reading)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(name: &str) -> (String, String) {
        name_keys(name)
    }

    #[test]
    fn simple_name() {
        assert_eq!(keys("张三"), ("zs".into(), "zhangsan".into()));
        assert_eq!(keys("  张三 "), ("zs".into(), "zhangsan".into()));
    }

    #[test]
    fn polyphonic_surnames() {
        assert_eq!(keys("曾志伟"), ("zzw".into(), "zengzhiwei".into()));
        assert_eq!(keys("单田芳").0, "stf");
        assert_eq!(keys("单田芳").1, "shantianfang");
        assert_eq!(keys("解缙").1, "xiejin");
        assert_eq!(keys("翟志刚").0, "zzg");
        assert_eq!(keys("尉迟恭").1, "yuchigong");
        assert_eq!(keys("仇英").1, "qiuying");
    }

    #[test]
    fn surname_reading_only_applies_to_first_character() {
        // 单 in the given name keeps its default reading (dan).
        assert_eq!(keys("王单").1, "wangdan");
        assert_eq!(keys("李曾").1, "liceng");
    }

    #[test]
    fn every_listed_surname_has_a_plain_ascii_reading() {
        for (c, reading) in SURNAME_READINGS {
            assert!(reading.chars().all(|r| r.is_ascii_lowercase()), "{c}");
            assert_eq!(keys(&c.to_string()).1, *reading);
        }
    }

    #[test]
    fn u_umlaut_becomes_v() {
        assert_eq!(keys("吕布"), ("lb".into(), "lvbu".into()));
        assert_eq!(keys("绿").1, "lv");
    }

    #[test]
    fn mixed_ascii_and_other_characters() {
        assert_eq!(keys("李Ming"), ("lming".into(), "liming".into()));
        assert_eq!(keys("Anna"), ("anna".into(), "anna".into()));
        assert_eq!(keys("王2号"), ("wh".into(), "wanghao".into()));
        assert_eq!(keys("买买提·艾力"), ("mmtal".into(), "maimaitiaili".into()));
        assert_eq!(keys(""), (String::new(), String::new()));
        assert_eq!(keys("·123!"), (String::new(), String::new()));
    }

    #[test]
    fn output_is_lowercase_ascii() {
        let (initials, full) = keys("欧阳娜娜 Nana");
        assert!(initials.chars().all(|c| c.is_ascii_lowercase()));
        assert!(full.chars().all(|c| c.is_ascii_lowercase()));
        assert_eq!(initials, "oynnnana");
    }
}
