//! The rules a member record must keep, with the source of each (docs/domain.md).

use std::collections::HashSet;

use chrono::{Datelike, Months, NaiveDate};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::id_number::{self, IdGender};
use super::types::{Category, Gender, MemberInput, Status};
use crate::error::{AppError, FieldError};
use crate::schema::code_lists;

/// A whole member record in plain text, as validated before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberRecord {
    pub external_id: Option<String>,
    pub name: String,
    pub gender: Gender,
    pub id_number: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub ethnicity: Option<String>,
    pub native_place: Option<String>,
    pub education: Option<String>,
    pub degree: Option<String>,
    pub job_category: Option<String>,
    pub post: Option<String>,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub work_started_on: Option<NaiveDate>,
    pub category: Category,
    pub org_id: i64,
    pub joined_at: NaiveDate,
    pub full_member_at: Option<NaiveDate>,
    pub status: Status,
    pub is_flowing: bool,
    pub lost_contact: bool,
}

fn required(field: &str) -> FieldError {
    FieldError::new(field, "required", "this field is required", "此项为必填项")
}

/// Text without bidirectional controls and invisible ends (crate::text); `None` when nothing
/// visible remains.
fn clean(v: Option<String>) -> Option<String> {
    crate::text::clean_opt(v)
}

impl MemberRecord {
    /// A record with the required fields and nothing else given (a normal member, not flowing).
    pub fn new(name: String, gender: Gender, category: Category, org_id: i64, joined_at: NaiveDate) -> Self {
        MemberRecord {
            external_id: None,
            name,
            gender,
            id_number: None,
            birth_date: None,
            ethnicity: None,
            native_place: None,
            education: None,
            degree: None,
            job_category: None,
            post: None,
            title: None,
            phone: None,
            work_started_on: None,
            category,
            org_id,
            joined_at,
            full_member_at: None,
            status: Status::Normal,
            is_flowing: false,
            lost_contact: false,
        }
    }

    /// A new record from a create request; missing required fields are all reported at once.
    pub fn from_create(i: MemberInput) -> Result<Self, AppError> {
        let mut missing = Vec::new();
        let name = clean(i.name.clone());
        if name.is_none() {
            missing.push(required("name"));
        }
        if i.gender.is_none() {
            missing.push(required("gender"));
        }
        if i.category.is_none() {
            missing.push(required("category"));
        }
        if i.org_id.is_none() {
            missing.push(required("org_id"));
        }
        if i.joined_at.is_none() {
            missing.push(required("joined_at"));
        }
        let (Some(name), Some(gender), Some(category), Some(org_id), Some(joined_at)) = (name, i.gender, i.category, i.org_id, i.joined_at) else {
            return Err(AppError::validation(missing));
        };
        let mut rec = MemberRecord::new(name, gender, category, org_id, joined_at);
        rec.apply(i);
        Ok(rec)
    }

    /// Applies the fields present in an update; `null` clears an optional field.
    pub fn apply(&mut self, i: MemberInput) {
        // A name of only spaces or invisible characters is refused by `check` (it is not ignored).
        if let Some(v) = i.name {
            self.name = crate::text::clean(&v);
        }
        macro_rules! opt_text {
            ($($f:ident),*) => { $( if let Some(v) = i.$f { self.$f = clean(v); } )* };
        }
        opt_text!(external_id, id_number, ethnicity, native_place, education, degree, job_category, post, title, phone);
        macro_rules! opt {
            ($($f:ident),*) => { $( if let Some(v) = i.$f { self.$f = v; } )* };
        }
        opt!(birth_date, work_started_on, full_member_at);
        macro_rules! req {
            ($($f:ident),*) => { $( if let Some(v) = i.$f { self.$f = v; } )* };
        }
        req!(gender, category, org_id, joined_at, status, is_flowing, lost_contact);
    }

    /// Checks and normalizes the record; every broken rule is reported with its field.
    pub async fn validate(&mut self, conn: &mut AsyncPgConnection, today: NaiveDate) -> Result<(), AppError> {
        let mut errors = self.check(today);
        errors.extend(self.check_code_lists(conn).await?);
        if errors.is_empty() { Ok(()) } else { Err(AppError::validation(errors)) }
    }

    /// The rules that need no database.
    pub fn check(&mut self, today: NaiveDate) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.name.is_empty() {
            e.push(required("name"));
        }
        if self.name.chars().count() > 64 {
            e.push(FieldError::new("name", "too_long", "at most 64 characters", "不超过 64 个字"));
        }
        let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
        // GB 11643: the ID number carries the birth date and, in its 17th digit, the gender.
        let mut id_rejected = false;
        if let Some(id) = self.id_number.clone() {
            let gender = Some(match self.gender {
                Gender::Male => IdGender::Male,
                Gender::Female => IdGender::Female,
            });
            match id_number::validate_on(&id, self.birth_date, gender, today) {
                Ok(valid) => {
                    self.id_number = Some(valid.normalized);
                    self.birth_date.get_or_insert(valid.birth_date);
                }
                Err(err) => {
                    id_rejected = true;
                    e.push(FieldError::new("id_number", err.code(), err.message_en(), err.message_zh()));
                }
            }
        }
        match self.birth_date {
            // An ID number was given (it carries the birth date): its own error is the one to fix.
            None if id_rejected => {}
            None => e.push(FieldError::new(
                "birth_date",
                "required",
                "the birth date is required (or an ID number that carries it)",
                "请填写出生日期（或填写公民身份号码）",
            )),
            Some(b) if b > today || b < earliest => {
                e.push(FieldError::new("birth_date", "out_of_range", "the birth date must be between 1900 and today", "出生日期须在 1900 年至今天之间"));
            }
            Some(b) => {
                // 党章 art. 1 / 发展党员工作细则 art. 6: one may apply from the age of 18, so
                // admission (joined_at) comes after the 18th birthday.
                let adult = b.checked_add_months(Months::new(18 * 12)).unwrap_or(NaiveDate::MAX);
                if self.joined_at < adult {
                    e.push(FieldError::new("joined_at", "before_18th_birthday", "admission must come after the 18th birthday", "入党日期须在年满 18 周岁之后"));
                }
            }
        }
        if self.joined_at > today {
            e.push(FieldError::new("joined_at", "in_future", "the admission date cannot be in the future", "入党日期不能晚于今天"));
        }
        if self.joined_at < earliest {
            e.push(FieldError::new("joined_at", "out_of_range", "the admission date is too early", "入党日期过早"));
        }
        // 发展党员工作细则 art. 32-35: full membership follows a one-year probation, which may
        // be extended once by at most a year.
        match (self.category, self.full_member_at) {
            (Category::Full, None) => {
                e.push(FieldError::new("full_member_at", "required", "a full member needs the date of full membership", "正式党员须填写转正日期"))
            }
            (Category::Full, Some(f)) => {
                let min = self.joined_at.checked_add_months(Months::new(12)).unwrap_or(NaiveDate::MAX);
                let max = self.joined_at.checked_add_months(Months::new(24)).unwrap_or(NaiveDate::MAX);
                if f < min || f > max {
                    e.push(FieldError::new(
                        "full_member_at",
                        "probation_length",
                        "full membership comes one year after admission (two at most, when probation was extended)",
                        "转正日期须在入党一年后（延长预备期的，最长两年）",
                    ));
                }
                if f > today {
                    e.push(FieldError::new("full_member_at", "in_future", "the date of full membership cannot be in the future", "转正日期不能晚于今天"));
                }
            }
            (Category::Probationary, Some(_)) => e.push(FieldError::new(
                "full_member_at",
                "probationary_has_no_full_date",
                "a probationary member has no date of full membership yet",
                "预备党员尚无转正日期",
            )),
            (Category::Probationary, None) => {}
        }
        if let Some(w) = self.work_started_on
            && (w > today || self.birth_date.is_some_and(|b| w.year() < b.year() + 14))
        {
            e.push(FieldError::new("work_started_on", "out_of_range", "the date started work is not plausible", "参加工作日期不合理"));
        }
        if let Some(p) = self.phone.clone() {
            match normalize_phone(&p) {
                Some(n) => self.phone = Some(n),
                None => e.push(FieldError::new(
                    "phone",
                    "invalid_phone",
                    "use an 11-digit mobile number or a landline like 010-12345678",
                    "请填写 11 位手机号或固定电话（如 010-12345678）",
                )),
            }
        }
        if self.external_id.as_ref().is_some_and(|v| v.chars().count() > 64) {
            e.push(FieldError::new("external_id", "too_long", "at most 64 characters", "不超过 64 个字符"));
        }
        for (field, value) in [("native_place", &self.native_place), ("post", &self.post), ("title", &self.title)] {
            if value.as_ref().is_some_and(|v| v.chars().count() > 100) {
                e.push(FieldError::new(field, "too_long", "at most 100 characters", "不超过 100 个字"));
            }
        }
        e
    }

    /// Ethnicity (GB/T 3304), education, degree and job category come from code lists kept as data.
    async fn check_code_lists(&self, conn: &mut AsyncPgConnection) -> Result<Vec<FieldError>, AppError> {
        let names: Vec<&String> = self.coded().map(|(_, v)| v).collect();
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let found: HashSet<(String, String)> = code_lists::table
            .filter(code_lists::name.eq_any(names))
            .select((code_lists::list, code_lists::name))
            .load::<(String, String)>(conn)
            .await?
            .into_iter()
            .collect();
        Ok(self.code_list_errors(&found))
    }

    /// The coded fields that are not in their code list; `known` holds (list, name) pairs, as
    /// a caller checking many records loads them once.
    pub fn code_list_errors(&self, known: &HashSet<(String, String)>) -> Vec<FieldError> {
        self.coded()
            .filter(|(l, v)| !known.contains(&(l.to_string(), v.to_string())))
            .map(|(l, v)| FieldError::new(l, "not_in_code_list", format!("{v:?} is not in the {l} code list"), format!("“{v}”不在{}代码表中", list_zh(l))))
            .collect()
    }

    /// (code list, value) of each coded field that is set.
    fn coded(&self) -> impl Iterator<Item = (&'static str, &String)> {
        [
            ("ethnicity", self.ethnicity.as_ref()),
            ("education", self.education.as_ref()),
            ("degree", self.degree.as_ref()),
            ("job_category", self.job_category.as_ref()),
        ]
        .into_iter()
        .filter_map(|(l, v)| v.map(|v| (l, v)))
    }
}

fn list_zh(list: &str) -> &'static str {
    match list {
        "ethnicity" => "民族",
        "education" => "学历",
        "degree" => "学位",
        _ => "工作岗位",
    }
}

/// Mainland mobile numbers (11 digits from 13x to 19x) or landlines with an area code.
pub fn normalize_phone(p: &str) -> Option<String> {
    let compact: String = p.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let compact = compact.strip_prefix("+86").unwrap_or(&compact).to_string();
    let digits = compact.chars().all(|c| c.is_ascii_digit());
    if digits && compact.len() == 11 && compact.starts_with('1') && compact.as_bytes().get(1).is_some_and(|d| (b'3'..=b'9').contains(d)) {
        return Some(compact);
    }
    if digits && compact.starts_with('0') && (10..=12).contains(&compact.len()) {
        return Some(p.trim().to_string());
    }
    None
}

pub fn mask_phone(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    if chars.len() < 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

/// 党龄: whole years from full membership to `on` (docs/domain.md, Members).
pub fn standing_years(full_member_at: Option<NaiveDate>, on: NaiveDate) -> Option<i32> {
    let f = full_member_at?;
    let mut years = on.year() - f.year();
    if (on.month(), on.day()) < (f.month(), f.day()) {
        years -= 1;
    }
    Some(years.max(0))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn base() -> MemberRecord {
        MemberRecord::from_create(MemberInput {
            name: Some(" 张三 ".into()),
            gender: Some(Gender::Female),
            id_number: Some(Some("11010519491231002x".into())),
            category: Some(Category::Full),
            org_id: Some(1),
            joined_at: Some(d("1975-01-10")),
            full_member_at: Some(Some(d("1976-01-10"))),
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn valid_record_is_normalized() {
        let mut r = base();
        assert!(r.check(d("2026-11-23")).is_empty());
        assert_eq!(r.name, "张三");
        assert_eq!(r.id_number.as_deref(), Some("11010519491231002X"));
        assert_eq!(r.birth_date, Some(d("1949-12-31")), "birth date taken from the ID number");
    }

    fn codes(r: &mut MemberRecord) -> Vec<String> {
        r.check(d("2026-11-23")).into_iter().map(|e| format!("{}:{}", e.field, e.code)).collect()
    }

    #[test]
    fn gender_digit_must_match() {
        let mut r = base();
        r.gender = Gender::Male;
        assert_eq!(codes(&mut r), vec!["id_number:id_number_gender_mismatch"]);
    }

    #[test]
    fn admission_before_18_is_refused() {
        let mut r = base();
        r.joined_at = d("1967-12-30");
        r.full_member_at = Some(d("1968-12-30"));
        assert!(codes(&mut r).contains(&"joined_at:before_18th_birthday".to_string()));
    }

    #[test]
    fn probation_is_one_to_two_years() {
        let mut r = base();
        r.full_member_at = Some(d("1975-06-01"));
        assert_eq!(codes(&mut r), vec!["full_member_at:probation_length"]);
        r.full_member_at = Some(d("1977-01-11"));
        assert_eq!(codes(&mut r), vec!["full_member_at:probation_length"]);
        r.full_member_at = Some(d("1977-01-10"));
        assert!(codes(&mut r).is_empty());
        r.category = Category::Probationary;
        assert_eq!(codes(&mut r), vec!["full_member_at:probationary_has_no_full_date"]);
    }

    #[test]
    fn phones() {
        assert_eq!(normalize_phone("138 0013 8000").as_deref(), Some("13800138000"));
        assert_eq!(normalize_phone("+86 13800138000").as_deref(), Some("13800138000"));
        assert_eq!(normalize_phone("010-12345678").as_deref(), Some("010-12345678"));
        assert!(normalize_phone("12345").is_none());
        assert!(normalize_phone("12800138000").is_none());
        assert_eq!(mask_phone("13800138000"), "138****8000");
    }

    #[test]
    fn standing() {
        assert_eq!(standing_years(Some(d("2013-06-20")), d("2026-06-19")), Some(12));
        assert_eq!(standing_years(Some(d("2013-06-20")), d("2026-06-20")), Some(13));
        assert_eq!(standing_years(None, d("2026-06-20")), None);
    }
}
