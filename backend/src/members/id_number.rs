//! Citizen ID numbers (公民身份号码) as defined by GB 11643-1999.
//!
//! Layout of the 18 characters: 6-digit address code, 8-digit birth date
//! (YYYYMMDD), 3-digit sequence code whose last digit is odd for men and even
//! for women, and an ISO 7064 MOD 11-2 check character (`0`-`9` or `X`).
//!
//! The birth date and gender are part of the number, so a member record that
//! disagrees with its own ID number is rejected rather than silently stored:
//! such a disagreement is almost always a typing mistake in one of the fields.

use chrono::{Datelike, NaiveDate};

/// Gender as encoded in the sequence code of an ID number.
///
/// Kept separate from the member record's gender type so that this module has
/// no dependency on the rest of the member model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdGender {
    Male,
    Female,
}

/// An ID number that passed [`validate`], with the facts it encodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidId {
    /// Surrounding whitespace removed and a lowercase `x` check character
    /// upper-cased, so that equal numbers compare (and blind-index) equal.
    pub normalized: String,
    pub birth_date: NaiveDate,
    pub gender: IdGender,
}

/// Why an ID number was rejected. `Display` gives the English message; API
/// responses should use [`IdNumberError::code`] plus the localized message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum IdNumberError {
    #[error("{}", self.message_en())]
    Length,
    #[error("{}", self.message_en())]
    Characters,
    #[error("{}", self.message_en())]
    Checksum,
    #[error("{}", self.message_en())]
    BirthDate,
    #[error("{}", self.message_en())]
    BirthDateMismatch,
    #[error("{}", self.message_en())]
    GenderMismatch,
}

impl IdNumberError {
    /// Stable machine-readable code for API responses and front-end lookups.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Length => "id_number_length",
            Self::Characters => "id_number_characters",
            Self::Checksum => "id_number_checksum",
            Self::BirthDate => "id_number_birth_date",
            Self::BirthDateMismatch => "id_number_birth_date_mismatch",
            Self::GenderMismatch => "id_number_gender_mismatch",
        }
    }

    pub fn message_zh(&self) -> &'static str {
        match self {
            // 15-digit first-generation numbers are still found in old paper
            // records; saying so tells the clerk what to do instead of retyping.
            Self::Length => "公民身份号码应为18位（15位旧号码须先升级为18位）",
            Self::Characters => "公民身份号码前17位须为数字，最后一位为数字或X",
            Self::Checksum => "公民身份号码校验位错误，请核对是否录入有误",
            Self::BirthDate => "公民身份号码中的出生日期无效（须为1900年1月1日至今天之间的真实日期）",
            Self::BirthDateMismatch => "出生日期与公民身份号码中的出生日期不一致",
            Self::GenderMismatch => "性别与公民身份号码中的性别不一致",
        }
    }

    pub fn message_en(&self) -> &'static str {
        match self {
            Self::Length => "the citizen ID number must have 18 characters (old 15-digit numbers must be converted first)",
            Self::Characters => "the citizen ID number must be 17 digits followed by a digit or X",
            Self::Checksum => "the citizen ID number's check digit is wrong; please check for typing mistakes",
            Self::BirthDate => "the birth date in the citizen ID number is not a valid date between 1900-01-01 and today",
            Self::BirthDateMismatch => "the birth date does not match the one in the citizen ID number",
            Self::GenderMismatch => "the gender does not match the one encoded in the citizen ID number",
        }
    }
}

const LENGTH: usize = 18;
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character indexed by (weighted sum mod 11): ISO 7064 MOD 11-2 gives
/// (12 - sum mod 11) mod 11, with the value 10 written as `X`.
const CHECK_CHARS: [u8; 11] = *b"10X98765432";

/// Validates against `today` (the institution's date, crate::clock): a birth
/// date after it is invalid.
/// The form an ID number is stored, blind-indexed and matched in.
pub fn normalize(id: &str) -> String {
    id.trim().to_ascii_uppercase()
}

pub fn validate_on(id: &str, birth_date: Option<NaiveDate>, gender: Option<IdGender>, today: NaiveDate) -> Result<ValidId, IdNumberError> {
    let trimmed = id.trim();
    // Counting chars rather than bytes so that e.g. a full-width digit string
    // of the right length is reported as bad characters, not a bad length.
    if trimmed.chars().count() != LENGTH {
        return Err(IdNumberError::Length);
    }
    let bytes = trimmed.as_bytes();
    let Some((&last, body)) = bytes.split_last() else {
        return Err(IdNumberError::Length);
    };
    if bytes.len() != LENGTH || !body.iter().all(u8::is_ascii_digit) || !(last.is_ascii_digit() || last == b'X' || last == b'x') {
        return Err(IdNumberError::Characters);
    }

    // A wrong date is reported before a wrong check digit because it is the
    // more specific (and more actionable) message for the same typo.
    let embedded_birth = birth_date_in(body).filter(|d| d.year() >= 1900 && *d <= today).ok_or(IdNumberError::BirthDate)?;

    if check_char(body) != last.to_ascii_uppercase() {
        return Err(IdNumberError::Checksum);
    }

    if birth_date.is_some_and(|given| given != embedded_birth) {
        return Err(IdNumberError::BirthDateMismatch);
    }
    let embedded_gender = gender_in(body);
    if gender.is_some_and(|given| given != embedded_gender) {
        return Err(IdNumberError::GenderMismatch);
    }

    Ok(ValidId { normalized: normalize(trimmed), birth_date: embedded_birth, gender: embedded_gender })
}

/// Masks an ID number for display: only the last 4 characters kept (the sequence code and the
/// check character), the rest replaced by `*`, so the length stays the same. The region code
/// and the birth date stay hidden: the same roles see the birth date in the list, and with the
/// first three digits, the last four and the check digit a public list of districts left about
/// one candidate for the whole number (GB 11643). Inputs of 8 characters or fewer are masked
/// entirely.
pub fn mask(id: &str) -> String {
    let chars: Vec<char> = id.trim().chars().collect();
    let n = chars.len();
    if n <= 8 {
        return "*".repeat(n);
    }
    chars.iter().enumerate().map(|(i, &c)| if i >= n - 4 { c } else { '*' }).collect()
}

/// Builds a valid ID number for demo and synthetic data.
///
/// The 3-digit sequence code is `2 * (seq % 500) + (1 if male else 0)`, so for
/// `seq` in `0..500` each (region, birth, gender, seq) gives a distinct number,
/// and the output is reproducible (callers wanting randomness pick `seq`
/// from their own RNG). `region` must be 6 ASCII digits and `birth` a date
/// from 1900-01-01 on ([`validate_on`] accepts it from that day on).
pub fn generate(region: &str, birth: NaiveDate, male: bool, seq: u16) -> Result<String, IdNumberError> {
    if region.len() != 6 {
        return Err(IdNumberError::Length);
    }
    if !region.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IdNumberError::Characters);
    }
    if birth.year() < 1900 {
        return Err(IdNumberError::BirthDate);
    }
    let sequence = u32::from(seq % 500) * 2 + u32::from(male);
    let mut id = format!("{region}{}{sequence:03}", birth.format("%Y%m%d"));
    let check = check_char(id.as_bytes());
    id.push(char::from(check));
    Ok(id)
}

/// Check character for the first 17 ASCII digits of an ID number.
fn check_char(body: &[u8]) -> u8 {
    let sum: u32 = body.iter().zip(WEIGHTS).map(|(&d, w)| u32::from(d - b'0') * w).sum();
    CHECK_CHARS[(sum % 11) as usize]
}

/// Parses a run of ASCII digits (already checked by the caller).
fn number(digits: &[u8]) -> u32 {
    digits.iter().fold(0, |acc, &d| acc * 10 + u32::from(d - b'0'))
}

fn birth_date_in(body: &[u8]) -> Option<NaiveDate> {
    let year = i32::try_from(number(body.get(6..10)?)).ok()?;
    let month = number(body.get(10..12)?);
    let day = number(body.get(12..14)?);
    NaiveDate::from_ymd_opt(year, month, day)
}

fn gender_in(body: &[u8]) -> IdGender {
    match body.get(16).map(|&d| (d - b'0') % 2) {
        Some(1) => IdGender::Male,
        _ => IdGender::Female,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn today() -> NaiveDate {
        date(2026, 11, 23)
    }

    fn check(id: &str) -> Result<ValidId, IdNumberError> {
        validate_on(id, None, None, today())
    }

    // Worked example printed in GB 11643-1999 itself (a woman born 1949-12-31),
    // whose check character is X.
    const STANDARD_EXAMPLE: &str = "11010519491231002X";
    // Check characters computed outside this code with (12 - sum mod 11) mod 11,
    // so a wrong table or weight here cannot make these tests agree with it.
    const MALE_1990: &str = "110101199003071233";
    const FEMALE_2000: &str = "44010620000229456X";

    #[test]
    fn standard_example_is_valid() {
        let v = check(STANDARD_EXAMPLE).unwrap();
        assert_eq!(v.normalized, STANDARD_EXAMPLE);
        assert_eq!(v.birth_date, date(1949, 12, 31));
        assert_eq!(v.gender, IdGender::Female);
    }

    #[test]
    fn hand_computed_examples() {
        let v = check(MALE_1990).unwrap();
        assert_eq!(v.birth_date, date(1990, 3, 7));
        assert_eq!(v.gender, IdGender::Male);

        // 2000-02-29 exists (2000 is a leap year divisible by 400).
        let v = check(FEMALE_2000).unwrap();
        assert_eq!(v.birth_date, date(2000, 2, 29));
        assert_eq!(v.gender, IdGender::Female);
    }

    #[test]
    fn lowercase_x_is_accepted_and_normalized() {
        let v = check("11010519491231002x").unwrap();
        assert_eq!(v.normalized, STANDARD_EXAMPLE);
    }

    #[test]
    fn surrounding_whitespace_is_trimmed() {
        let v = check("  11010519491231002x\t").unwrap();
        assert_eq!(v.normalized, STANDARD_EXAMPLE);
    }

    #[test]
    fn matching_birth_date_and_gender_pass() {
        let v = validate_on(STANDARD_EXAMPLE, Some(date(1949, 12, 31)), Some(IdGender::Female), today()).unwrap();
        assert_eq!(v.gender, IdGender::Female);
    }

    #[test]
    fn length_errors() {
        assert_eq!(check(""), Err(IdNumberError::Length));
        assert_eq!(check("1101051949123100"), Err(IdNumberError::Length));
        assert_eq!(check("11010519491231002X1"), Err(IdNumberError::Length));
        // A 15-digit first-generation number.
        assert_eq!(check("110105491231002"), Err(IdNumberError::Length));
    }

    #[test]
    fn character_errors() {
        assert_eq!(check("1101051949123100XX"), Err(IdNumberError::Characters));
        assert_eq!(check("11010519491231002Y"), Err(IdNumberError::Characters));
        assert_eq!(check("A1010519491231002X"), Err(IdNumberError::Characters));
        assert_eq!(check("1101051949 231002X"), Err(IdNumberError::Characters));
        // Full-width digits: 18 chars, but not ASCII.
        assert_eq!(check("１１０１０５１９４９１２３１００２Ｘ"), Err(IdNumberError::Characters));
    }

    #[test]
    fn checksum_errors() {
        assert_eq!(check("110105194912310021"), Err(IdNumberError::Checksum));
        // Swapping two adjacent digits is the classic typo MOD 11-2 catches.
        assert_eq!(check("11010519491231020X"), Err(IdNumberError::Checksum));
        assert_eq!(check("110101199003071234"), Err(IdNumberError::Checksum));
        assert_eq!(check("440106200002294560"), Err(IdNumberError::Checksum));
    }

    #[test]
    fn every_wrong_check_character_is_rejected() {
        for c in "0123456789X".chars() {
            let id = format!("{}{c}", &MALE_1990[..17]);
            let expected = if c == '3' { Ok(()) } else { Err(IdNumberError::Checksum) };
            assert_eq!(check(&id).map(|_| ()), expected, "{id}");
        }
    }

    #[test]
    fn birth_date_errors() {
        // Month 13, day 32, 1999-02-29 (not a leap year), 1900-02-29 (1900 is
        // not a leap year), all with an otherwise correct check character.
        for body in ["11010119901301123", "11010119900132123", "11010119990229123", "11010119000229123", "11010119900000123"] {
            let id = with_check(body);
            assert_eq!(check(&id), Err(IdNumberError::BirthDate), "{id}");
        }
        // The 1880 example from the standard's appendix: real but before 1900.
        assert_eq!(check("440524188001010014"), Err(IdNumberError::BirthDate));
        // Tomorrow is in the future; today itself is fine.
        let tomorrow = with_check("11010120261124123");
        assert_eq!(check(&tomorrow), Err(IdNumberError::BirthDate));
        let born_today = with_check("11010120261123123");
        assert_eq!(check(&born_today).unwrap().birth_date, today());
        // 1900-01-01 is the earliest accepted date.
        let earliest = with_check("11010119000101123");
        assert_eq!(check(&earliest).unwrap().birth_date, date(1900, 1, 1));
    }

    #[test]
    fn birth_date_mismatch() {
        assert_eq!(validate_on(STANDARD_EXAMPLE, Some(date(1949, 12, 30)), None, today()), Err(IdNumberError::BirthDateMismatch));
    }

    #[test]
    fn gender_mismatch() {
        assert_eq!(validate_on(STANDARD_EXAMPLE, None, Some(IdGender::Male), today()), Err(IdNumberError::GenderMismatch));
        assert_eq!(validate_on(MALE_1990, None, Some(IdGender::Female), today()), Err(IdNumberError::GenderMismatch));
    }

    #[test]
    fn error_codes_and_messages_are_distinct() {
        let all = [
            IdNumberError::Length,
            IdNumberError::Characters,
            IdNumberError::Checksum,
            IdNumberError::BirthDate,
            IdNumberError::BirthDateMismatch,
            IdNumberError::GenderMismatch,
        ];
        let codes: std::collections::HashSet<_> = all.iter().map(|e| e.code()).collect();
        let zh: std::collections::HashSet<_> = all.iter().map(|e| e.message_zh()).collect();
        let en: std::collections::HashSet<_> = all.iter().map(|e| e.message_en()).collect();
        assert_eq!((codes.len(), zh.len(), en.len()), (6, 6, 6));
        assert_eq!(IdNumberError::Checksum.code(), "id_number_checksum");
        assert!(IdNumberError::Checksum.message_zh().contains("校验位错误"));
        assert!(codes.iter().all(|c| c.starts_with("id_number_")));
        assert!(all.iter().all(|e| e.to_string() == e.message_en()));
    }

    #[test]
    fn mask_keeps_only_the_last_four() {
        assert_eq!(mask(STANDARD_EXAMPLE), "**************002X");
        assert_eq!(mask(STANDARD_EXAMPLE).chars().count(), 18);
        // None of the region code or the birth date is left.
        assert!(mask(STANDARD_EXAMPLE)[..14].chars().all(|c| c == '*'));
        assert_eq!(mask("123456789"), "*****6789");
        assert_eq!(mask("12345678"), "********");
        assert_eq!(mask(""), "");
    }

    #[test]
    fn generated_numbers_validate() {
        let birth = date(1985, 6, 15);
        let mut seen = std::collections::HashSet::new();
        for seq in 0..500u16 {
            for male in [true, false] {
                let id = generate("320102", birth, male, seq).unwrap();
                let gender = if male { IdGender::Male } else { IdGender::Female };
                let v = validate_on(&id, Some(birth), Some(gender), today()).unwrap();
                assert_eq!(v.normalized, id);
                assert!(seen.insert(id));
            }
        }
        assert_eq!(seen.len(), 1000);
    }

    #[test]
    fn generate_rejects_bad_input() {
        let birth = date(1985, 6, 15);
        assert_eq!(generate("32010", birth, true, 1), Err(IdNumberError::Length));
        assert_eq!(generate("32010A", birth, true, 1), Err(IdNumberError::Characters));
        assert_eq!(generate("320102", date(1899, 12, 31), true, 1), Err(IdNumberError::BirthDate));
    }

    fn with_check(body: &str) -> String {
        format!("{body}{}", char::from(check_char(body.as_bytes())))
    }
}
