//! Demo data (`dangjian demo-data`): 示范大学党委 with general branches, branches, party groups,
//! about 600 members and one login per role kind, all with the password [`DEMO_PASSWORD`].
//!
//! The generator is seeded, so two loads on the same day give the same people. Dates are relative
//! to today, because a probationary member must have joined within the last year and some terms
//! must be expired or about to expire whenever the demo is loaded.
//!
//! The person generators (names, birthplaces, ethnicity, phones) are shared with
//! [`crate::synthetic`], so benchmark data looks like demo data.

use chrono::{Datelike, Duration, Months, NaiveDate};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::accounts::{self, NewAccount};
use crate::audit::By;
use crate::auth::{Role, password};
use crate::crypto::DataKey;
use crate::error::AppError;
use crate::members::id_number;
use crate::members::pinyin::name_keys;
use crate::members::queries::{self, ID_NUMBER_INDEX};
use crate::members::rules::{MemberRecord, mask_phone};
use crate::members::types::{Category, Gender, Status};
use crate::schema::{orgs, people, settings};

pub const DEMO_PASSWORD: &str = "Demo-2026";

mod meetings;

const SEED: u64 = 20_261_123;
const LOGINS_KEY: &str = "demo_logins";

// ---------------------------------------------------------------------------------------------
// Person generators, shared with the synthetic data.

/// Surnames with rough frequencies (per mille of the population, 2020 census order), so that
/// 王李张刘陈 dominate as they do on any real roster.
const SURNAMES: &[(&str, u32)] = &[
    ("王", 71),
    ("李", 70),
    ("张", 67),
    ("刘", 54),
    ("陈", 45),
    ("杨", 31),
    ("黄", 22),
    ("赵", 20),
    ("吴", 20),
    ("周", 19),
    ("徐", 15),
    ("孙", 15),
    ("马", 14),
    ("朱", 13),
    ("胡", 12),
    ("郭", 11),
    ("何", 10),
    ("林", 10),
    ("高", 10),
    ("罗", 9),
    ("郑", 9),
    ("梁", 8),
    ("谢", 7),
    ("宋", 7),
    ("唐", 7),
    ("许", 6),
    ("韩", 6),
    ("冯", 6),
    ("邓", 6),
    ("曹", 6),
    ("彭", 5),
    ("曾", 5),
    ("肖", 5),
    ("田", 5),
    ("董", 5),
    ("袁", 5),
    ("潘", 5),
    ("于", 5),
    ("蒋", 5),
    ("蔡", 5),
    ("余", 4),
    ("杜", 4),
    ("叶", 4),
    ("程", 4),
    ("苏", 4),
    ("魏", 4),
    ("吕", 4),
    ("丁", 4),
    ("任", 4),
    ("沈", 4),
    ("姚", 3),
    ("卢", 3),
    ("姜", 3),
    ("崔", 3),
    ("钟", 3),
    ("谭", 3),
    ("陆", 3),
    ("汪", 3),
    ("范", 3),
    ("金", 3),
    ("石", 3),
    ("廖", 3),
    ("贾", 3),
    ("夏", 3),
    ("韦", 3),
    ("付", 3),
    ("方", 3),
    ("白", 3),
    ("邹", 3),
    ("孟", 3),
    ("熊", 2),
    ("秦", 2),
    ("邱", 2),
    ("江", 2),
    ("尹", 2),
    ("薛", 2),
    ("段", 2),
    ("雷", 2),
    ("侯", 2),
    ("龙", 2),
    ("史", 2),
    ("陶", 2),
    ("黎", 2),
    ("贺", 2),
    ("顾", 2),
    ("毛", 2),
    ("郝", 2),
    ("龚", 2),
    ("邵", 2),
    ("万", 2),
    ("钱", 2),
    ("严", 2),
    ("覃", 1),
    ("武", 2),
    ("戴", 2),
    ("莫", 1),
    ("孔", 1),
    ("向", 1),
    ("汤", 1),
    ("单", 1),
    ("翟", 1),
    ("欧阳", 1),
    ("司马", 1),
    ("上官", 1),
];

/// Given names by generation: people born before 1965 mostly carry whole names of their era.
const MALE_OLD: &[&str] = &[
    "建国", "建华", "国强", "国庆", "卫东", "志刚", "振华", "德明", "文华", "永康", "保国", "学军", "长林", "福生", "春生", "玉林", "立新", "红旗", "跃进",
    "广平", "树林", "宝山", "明", "华", "军", "平",
];
const FEMALE_OLD: &[&str] = &[
    "秀英", "桂英", "玉兰", "淑珍", "凤英", "秀兰", "桂兰", "玉梅", "淑华", "秀珍", "丽华", "美兰", "玉珍", "素芬", "金凤", "桂芳", "翠花", "秀云", "红", "英",
    "兰", "芳",
];
const MALE_MID: &[char] = &[
    '伟', '强', '磊', '军', '勇', '杰', '涛', '明', '超', '刚', '平', '辉', '鹏', '华', '飞', '斌', '波', '宇', '浩', '凯', '健', '俊', '峰', '亮', '成', '东',
    '文', '博', '志', '晨', '阳', '龙', '林', '旭', '宁', '海', '鑫', '帅', '松', '爽',
];
const FEMALE_MID: &[char] = &[
    '芳', '娜', '敏', '静', '丽', '艳', '娟', '霞', '秀', '玲', '燕', '婷', '雪', '琳', '慧', '颖', '倩', '洁', '晶', '莉', '萍', '红', '丹', '梅', '琴', '蕾',
    '璐', '佳', '欣', '爽', '莎', '薇',
];
const MALE_YOUNG: &[char] = &[
    '子', '轩', '浩', '然', '宇', '航', '博', '文', '一', '鸣', '梓', '睿', '泽', '铭', '俊', '杰', '皓', '天', '佑', '思', '远', '嘉', '煜', '晨', '凯', '宸',
    '逸', '辰', '昊', '森',
];
const FEMALE_YOUNG: &[char] = &[
    '梓', '涵', '欣', '怡', '思', '雨', '桐', '佳', '诗', '可', '馨', '语', '嫣', '若', '雅', '琪', '婉', '清', '依', '诺', '萱', '芷', '晴', '悦', '瑶', '彤',
    '静', '媛', '子', '一',
];

/// Birthplaces as written on member forms, with the county-level code the ID number starts with.
/// The province weights lean towards the institution's own region (江苏), as real rosters do.
pub(crate) const PLACES: &[(&str, &str, u32)] = &[
    ("320102", "江苏南京", 14),
    ("320106", "江苏南京", 8),
    ("320205", "江苏无锡", 5),
    ("320311", "江苏徐州", 5),
    ("320508", "江苏苏州", 6),
    ("320602", "江苏南通", 5),
    ("320703", "江苏连云港", 3),
    ("320803", "江苏淮安", 3),
    ("320902", "江苏盐城", 4),
    ("321002", "江苏扬州", 4),
    ("321102", "江苏镇江", 3),
    ("321202", "江苏泰州", 3),
    ("110105", "北京", 3),
    ("120101", "天津", 2),
    ("310101", "上海", 3),
    ("500103", "重庆", 2),
    ("130102", "河北石家庄", 3),
    ("140105", "山西太原", 2),
    ("150102", "内蒙古呼和浩特", 1),
    ("210102", "辽宁沈阳", 2),
    ("220102", "吉林长春", 1),
    ("230102", "黑龙江哈尔滨", 2),
    ("330102", "浙江杭州", 4),
    ("340102", "安徽合肥", 5),
    ("350102", "福建福州", 2),
    ("360102", "江西南昌", 2),
    ("370102", "山东济南", 5),
    ("370202", "山东青岛", 2),
    ("410102", "河南郑州", 5),
    ("420102", "湖北武汉", 3),
    ("430102", "湖南长沙", 3),
    ("440103", "广东广州", 2),
    ("450102", "广西南宁", 1),
    ("460105", "海南海口", 1),
    ("510104", "四川成都", 3),
    ("520102", "贵州贵阳", 1),
    ("530102", "云南昆明", 1),
    ("540102", "西藏拉萨", 1),
    ("610102", "陕西西安", 2),
    ("620102", "甘肃兰州", 1),
    ("630102", "青海西宁", 1),
    ("640104", "宁夏银川", 1),
    ("650102", "新疆乌鲁木齐", 1),
];

/// Ethnic groups (the code list's names) with shares in per ten thousand, and the province
/// prefix (first two digits of the ID number) where members of that group are usually from.
/// About 92% of party members are 汉族.
const ETHNICITIES: &[(&str, u32, &str)] = &[
    ("汉族", 9200, ""),
    ("回族", 170, "64"),
    ("满族", 150, "21"),
    ("壮族", 120, "45"),
    ("蒙古族", 80, "15"),
    ("土家族", 60, "43"),
    ("苗族", 50, "52"),
    ("朝鲜族", 40, "22"),
    ("维吾尔族", 30, "65"),
    ("彝族", 30, "53"),
    ("藏族", 25, "54"),
    ("布依族", 15, "52"),
    ("白族", 15, "53"),
    ("侗族", 15, "52"),
];

const PHONE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "156", "157", "158", "159", "166", "173", "177",
    "180", "181", "182", "183", "186", "187", "188", "189", "191", "198", "199",
];

fn weighted<'a, T>(rng: &mut impl Rng, items: &'a [T], weight: impl Fn(&T) -> u32) -> &'a T {
    let total: u32 = items.iter().map(&weight).sum();
    let mut n = rng.random_range(0..total.max(1));
    for item in items {
        let w = weight(item);
        if n < w {
            return item;
        }
        n -= w;
    }
    &items[items.len() - 1]
}

pub(crate) fn person_name(rng: &mut impl Rng, gender: Gender, birth_year: i32) -> String {
    let surname = weighted(rng, SURNAMES, |s| s.1).0;
    let female = gender == Gender::Female;
    if birth_year < 1965 && rng.random_bool(0.7) {
        let pool = if female { FEMALE_OLD } else { MALE_OLD };
        return format!("{surname}{}", pool[rng.random_range(0..pool.len())]);
    }
    let pool = match (female, birth_year >= 1990) {
        (false, false) => MALE_MID,
        (true, false) => FEMALE_MID,
        (false, true) => MALE_YOUNG,
        (true, true) => FEMALE_YOUNG,
    };
    // One-character given names were common until the 1990s and are rare now.
    let single = if birth_year >= 1990 { 0.12 } else { 0.4 };
    let first = pool[rng.random_range(0..pool.len())];
    if surname.chars().count() > 1 || rng.random_bool(single) {
        return format!("{surname}{first}");
    }
    let mut second = pool[rng.random_range(0..pool.len())];
    if second == first {
        second = pool[(pool.iter().position(|c| *c == first).unwrap_or(0) + 1) % pool.len()];
    }
    format!("{surname}{first}{second}")
}

/// Ethnicity and birthplace together, so that a 回族 member is usually from 宁夏 and so on.
pub(crate) fn origin(rng: &mut impl Rng) -> (&'static str, &'static str, &'static str) {
    let (ethnicity, _, province) = *weighted(rng, ETHNICITIES, |e| e.1);
    let from_home = !province.is_empty() && rng.random_bool(0.7);
    let (code, place, _) = *if from_home { PLACES.iter().find(|p| p.0.starts_with(province)).unwrap_or(&PLACES[0]) } else { weighted(rng, PLACES, |p| p.2) };
    (ethnicity, code, place)
}

pub(crate) fn phone(rng: &mut impl Rng) -> String {
    let prefix = PHONE_PREFIXES[rng.random_range(0..PHONE_PREFIXES.len())];
    format!("{prefix}{:08}", rng.random_range(0..100_000_000u32))
}

/// `years` after `d`, to the day as far as the calendar allows.
pub(crate) fn plus_years(d: NaiveDate, years: f64) -> NaiveDate {
    d + Duration::days((years * 365.2425) as i64)
}

fn eighteenth_birthday(birth: NaiveDate) -> NaiveDate {
    birth.checked_add_months(Months::new(18 * 12)).unwrap_or(NaiveDate::MAX)
}

/// Who a member is, which decides age, education, job and how they joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Profile {
    Faculty,
    Graduate,
    Undergraduate,
    Staff,
    Worker,
    Retired,
    /// 农牧渔民: the largest group nationally, absent from a university.
    Farmer,
    /// 党政机关工作人员.
    Official,
}

/// Everything of a member except the org, drawn for a profile. `seq` makes the ID number unique.
pub(crate) struct Drawn {
    pub gender: Gender,
    pub birth: NaiveDate,
    pub category: Category,
    pub joined_at: NaiveDate,
    pub full_member_at: Option<NaiveDate>,
}

/// Age, gender and admission: the part of a member that the synthetic generator needs twice
/// (for people and for members), so it is drawn apart from the rest.
pub(crate) fn draw_core(rng: &mut impl Rng, profile: Profile, female_share: f64, probationary_share: f64, today: NaiveDate) -> Drawn {
    let gender = if rng.random_bool(female_share.clamp(0.0, 1.0)) { Gender::Female } else { Gender::Male };
    // Sum of two uniforms: ages bunch in the middle of the range, as on real rosters.
    let (lo, hi) = match profile {
        Profile::Faculty => (27.0, 62.0),
        Profile::Graduate => (22.0, 30.0),
        Profile::Undergraduate => (19.5, 23.0),
        Profile::Staff => (24.0, 60.0),
        Profile::Worker => (22.0, 60.0),
        Profile::Retired => (60.0, 92.0),
        Profile::Farmer => (25.0, 80.0),
        Profile::Official => (24.0, 60.0),
    };
    let age = lo + (hi - lo) * (rng.random::<f64>() + rng.random::<f64>()) / 2.0;
    let birth = plus_years(today, -age);
    let adult = eighteenth_birthday(birth) + Duration::days(1);
    let (join_lo, join_hi) = match profile {
        Profile::Faculty => (19.0, 32.0),
        Profile::Graduate => (18.5, 26.0),
        Profile::Undergraduate => (18.2, 23.0),
        Profile::Staff => (19.0, 35.0),
        Profile::Worker => (20.0, 42.0),
        Profile::Retired => (19.0, 45.0),
        Profile::Farmer => (20.0, 50.0),
        Profile::Official => (20.0, 35.0),
    };
    let lo = plus_years(birth, join_lo).max(adult);
    // A full member joined more than a year ago: probation lasts a year.
    let last_full = today - Months::new(12) - Duration::days(1);
    let hi = plus_years(birth, join_hi).min(last_full);
    let recent_lo = (today - Duration::days(350)).max(adult);
    let recent_hi = today - Duration::days(15);
    let probationary = (rng.random_bool(probationary_share.clamp(0.0, 1.0)) || hi < lo) && recent_lo <= recent_hi;
    if probationary {
        let span = (recent_hi - recent_lo).num_days().max(0);
        let joined_at = recent_lo + Duration::days(rng.random_range(0..=span));
        return Drawn { gender, birth, category: Category::Probationary, joined_at, full_member_at: None };
    }
    let (lo, hi) = if hi < lo { (adult, last_full.max(adult)) } else { (lo, hi) };
    let span = (hi - lo).num_days().max(0);
    let joined_at = lo + Duration::days(rng.random_range(0..=span));
    let full = joined_at.checked_add_months(Months::new(12)).unwrap_or(joined_at);
    Drawn { gender, birth, category: Category::Full, joined_at, full_member_at: Some(full) }
}

/// The rest of the record: name, ID number, origin, education, job, phone.
pub(crate) struct Details {
    pub name: String,
    pub region: &'static str,
    pub ethnicity: &'static str,
    pub native_place: &'static str,
    pub education: &'static str,
    pub degree: Option<&'static str>,
    pub job_category: &'static str,
    pub post: Option<&'static str>,
    pub title: Option<&'static str>,
    pub phone: String,
    pub work_started_on: Option<NaiveDate>,
}

fn pick<T: Copy>(rng: &mut impl Rng, items: &[(T, u32)]) -> T {
    weighted(rng, items, |i| i.1).0
}

pub(crate) fn draw_details(rng: &mut impl Rng, profile: Profile, core: &Drawn, today: NaiveDate) -> Details {
    let age = (today - core.birth).num_days() as f64 / 365.2425;
    let name = person_name(rng, core.gender, core.birth.year());
    let (ethnicity, region, native_place) = origin(rng);
    let education = match profile {
        Profile::Faculty => pick(rng, &[("研究生", 88), ("大学本科", 12)]),
        Profile::Graduate => "研究生",
        Profile::Undergraduate => "大学本科",
        Profile::Staff => pick(rng, &[("研究生", 45), ("大学本科", 50), ("大学专科", 5)]),
        Profile::Worker => pick(rng, &[("初中及以下", 8), ("高中", 25), ("中专", 27), ("大学专科", 30), ("大学本科", 10)]),
        Profile::Retired => pick(rng, &[("研究生", 12), ("大学本科", 40), ("大学专科", 18), ("中专", 15), ("高中", 10), ("初中及以下", 5)]),
        Profile::Farmer => pick(rng, &[("初中及以下", 45), ("高中", 30), ("中专", 10), ("大学专科", 10), ("大学本科", 5)]),
        Profile::Official => pick(rng, &[("研究生", 30), ("大学本科", 65), ("大学专科", 5)]),
    };
    let degree = match (profile, education) {
        // Students hold the degree of their last completed stage.
        (Profile::Graduate, _) => Some(pick(rng, &[("学士", 70), ("硕士", 30)])),
        (Profile::Undergraduate, _) => Some("无"),
        (Profile::Faculty, "研究生") => Some(pick(rng, &[("博士", 65), ("硕士", 35)])),
        (_, "研究生") => Some(pick(rng, &[("硕士", 90), ("博士", 10)])),
        (_, "大学本科") => Some(pick(rng, &[("学士", 95), ("无", 5)])),
        (Profile::Retired, _) => None,
        _ => Some("无"),
    };
    let (job_category, post, title, work_age) = match profile {
        Profile::Faculty => {
            let title = match age {
                a if a < 32.0 => pick(rng, &[("讲师", 70), ("助教", 20), ("副教授", 10)]),
                a if a < 42.0 => pick(rng, &[("讲师", 35), ("副教授", 55), ("教授", 10)]),
                a if a < 52.0 => pick(rng, &[("副教授", 50), ("教授", 45), ("讲师", 5)]),
                _ => pick(rng, &[("教授", 60), ("副教授", 40)]),
            };
            ("专业技术人员", Some(pick(rng, &[("教师", 85), ("实验员", 8), ("辅导员", 7)])), Some(title), 27.0)
        }
        Profile::Graduate | Profile::Undergraduate => ("学生", None, None, 0.0),
        Profile::Staff | Profile::Official => {
            let post = match age {
                a if a < 30.0 => pick(rng, &[("科员", 85), ("副科长", 15)]),
                a if a < 40.0 => pick(rng, &[("科员", 30), ("副科长", 40), ("科长", 30)]),
                a if a < 50.0 => pick(rng, &[("科长", 50), ("副处长", 35), ("处长", 15)]),
                _ => pick(rng, &[("科长", 30), ("副处长", 35), ("处长", 35)]),
            };
            let job = if profile == Profile::Official {
                "党政机关工作人员"
            } else {
                pick(rng, &[("企事业单位管理人员", 80), ("专业技术人员", 20)])
            };
            let title = if profile == Profile::Staff && rng.random_bool(0.35) {
                Some(pick(rng, &[("助理研究员", 50), ("副研究员", 40), ("研究员", 10)]))
            } else {
                None
            };
            (job, Some(post), title, 23.0)
        }
        Profile::Worker => {
            let post = pick(rng, &[("维修工", 25), ("电工", 15), ("厨师", 20), ("驾驶员", 15), ("绿化工", 10), ("物业管理员", 15)]);
            let title = if rng.random_bool(0.25) { Some(pick(rng, &[("高级工", 70), ("技师", 30)])) } else { None };
            ("工人", Some(post), title, 19.0)
        }
        Profile::Retired => {
            let title = if rng.random_bool(0.4) { Some(pick(rng, &[("教授", 40), ("副教授", 35), ("高级工程师", 25)])) } else { None };
            ("离退休人员", None, title, 21.0)
        }
        Profile::Farmer => ("农牧渔民", None, None, 18.0),
    };
    let work_started_on = (work_age > 0.0).then(|| plus_years(core.birth, work_age + rng.random_range(0.0..3.0))).filter(|d| *d <= today);
    Details { name, region, ethnicity, native_place, education, degree, job_category, post, title, phone: phone(rng), work_started_on }
}

// ---------------------------------------------------------------------------------------------
// The demo institution.

#[derive(Clone, Copy)]
enum Term {
    /// Renewed within the last three years.
    Current,
    /// Ended months ago and not renewed: reports of overdue renewals find these.
    Expired,
    /// Ends within two months: the renewal should be under way.
    DueSoon,
}

struct BranchSpec {
    name: &'static str,
    profile: Profile,
    members: usize,
    female: f64,
    founded: i32,
    term: Term,
}

const fn b(name: &'static str, profile: Profile, members: usize, female: f64, founded: i32, term: Term) -> BranchSpec {
    BranchSpec { name, profile, members, female, founded, term }
}

struct GeneralSpec {
    name: &'static str,
    founded: i32,
    branches: &'static [BranchSpec],
}

use Profile::{Faculty, Graduate, Retired, Staff, Undergraduate, Worker};
use Term::{Current, DueSoon, Expired};

const ROOT_NAME: &str = "示范大学党委";

const GENERALS: &[GeneralSpec] = &[
    GeneralSpec {
        name: "计算机学院党总支",
        founded: 1985,
        branches: &[
            b("计算机学院教工第一党支部", Faculty, 36, 0.32, 1985, Current),
            b("计算机学院教工第二党支部", Faculty, 28, 0.30, 2003, Expired),
            b("计算机学院研究生党支部", Graduate, 50, 0.35, 1998, Current),
            b("计算机学院本科生党支部", Undergraduate, 30, 0.38, 1990, Current),
        ],
    },
    GeneralSpec {
        name: "机械工程学院党总支",
        founded: 1983,
        branches: &[
            b("机械工程学院教工党支部", Faculty, 35, 0.25, 1983, DueSoon),
            b("机械工程学院研究生第一党支部", Graduate, 38, 0.28, 2001, Current),
            b("机械工程学院研究生第二党支部", Graduate, 30, 0.30, 2012, Current),
            b("机械工程学院本科生党支部", Undergraduate, 25, 0.30, 1992, Expired),
        ],
    },
    GeneralSpec {
        name: "文学院党总支",
        founded: 1988,
        branches: &[
            b("文学院教工党支部", Faculty, 30, 0.62, 1988, Current),
            b("文学院研究生党支部", Graduate, 36, 0.75, 2000, Current),
            b("文学院本科生党支部", Undergraduate, 22, 0.78, 1995, DueSoon),
        ],
    },
    GeneralSpec {
        name: "机关党总支",
        founded: 1980,
        branches: &[
            b("党政办公室党支部", Staff, 24, 0.50, 1980, Current),
            b("组织人事党支部", Staff, 18, 0.55, 1980, Current),
            b("教务处党支部", Staff, 20, 0.55, 1986, Expired),
            b("科研处党支部", Staff, 16, 0.45, 1990, Current),
            b("财务处党支部", Staff, 15, 0.65, 1986, Current),
        ],
    },
];

/// Branches directly under the committee, with no general branch between.
const DIRECT: &[BranchSpec] = &[
    b("图书馆党支部", Staff, 26, 0.60, 1984, Current),
    b("后勤保障党支部", Worker, 33, 0.30, 1981, Current),
    b("离退休第一党支部", Retired, 48, 0.38, 1995, Current),
    b("离退休第二党支部", Retired, 40, 0.35, 2008, Expired),
];

fn probationary_share(p: Profile) -> f64 {
    match p {
        Profile::Undergraduate => 0.22,
        Profile::Graduate => 0.08,
        Profile::Retired => 0.0,
        _ => 0.015,
    }
}

const CHINESE_ORDINALS: &[&str] = &["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];

#[derive(Serialize, Deserialize)]
struct Login {
    username: String,
    description: String,
}

struct NewOrg<'a> {
    code: String,
    name: &'a str,
    kind: &'static str,
    parent_id: Option<i64>,
    founded_on: NaiveDate,
    term: Option<(NaiveDate, NaiveDate)>,
}

async fn insert_org(conn: &mut AsyncPgConnection, o: NewOrg<'_>) -> Result<i64, AppError> {
    Ok(diesel::insert_into(orgs::table)
        .values((
            orgs::code.eq(&o.code),
            orgs::name.eq(o.name),
            orgs::kind.eq(o.kind),
            orgs::parent_id.eq(o.parent_id),
            orgs::founded_on.eq(Some(o.founded_on)),
            orgs::term_start.eq(o.term.map(|t| t.0)),
            orgs::term_end.eq(o.term.map(|t| t.1)),
        ))
        .returning(orgs::id)
        .get_result(conn)
        .await?)
}

fn term_dates(rng: &mut StdRng, term: Term, years: u32, today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let length = Months::new(12 * years);
    let end = match term {
        Term::Current => today + Duration::days(rng.random_range(120..(i64::from(years) * 365 - 60))),
        Term::Expired => today - Duration::days(rng.random_range(40..330)),
        Term::DueSoon => today + Duration::days(rng.random_range(10..55)),
    };
    (end.checked_sub_months(length).unwrap_or(end - Duration::days(365)), end)
}

fn founded(rng: &mut StdRng, year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, rng.random_range(1..=12), rng.random_range(1..=28)).unwrap_or(NaiveDate::MIN)
}

/// Keeps ID numbers unique: the sequence code is bumped when two people share region and birth.
#[derive(Default)]
struct IdNumbers(std::collections::HashSet<String>);

impl IdNumbers {
    fn next(&mut self, region: &str, birth: NaiveDate, male: bool, start: u16) -> Result<String, AppError> {
        for seq in start..start + 500 {
            let id = id_number::generate(region, birth, male, seq).map_err(|e| AppError::internal(format!("generating an ID number: {e}")))?;
            if self.0.insert(id.clone()) {
                return Ok(id);
            }
        }
        Err(AppError::internal("no free ID number sequence code"))
    }
}

/// A loaded branch: code, name and its members as (person id, name).
type BranchDone = (String, &'static str, Vec<(i64, String)>);

/// A demo login: username, linked person, grants (role, org code), description.
type DemoLogin = (&'static str, Option<i64>, Vec<(Role, Option<String>)>, String);

struct Counts {
    generals: usize,
    branches: usize,
    groups: usize,
    members: usize,
}

/// The member records of one branch: (org id, record), committee members first.
fn branch_members(
    rng: &mut StdRng,
    ids: &mut IdNumbers,
    spec: &BranchSpec,
    branch_id: i64,
    groups: &[i64],
    today: NaiveDate,
) -> Result<Vec<MemberRecord>, AppError> {
    let mut out = Vec::with_capacity(spec.members);
    for i in 0..spec.members {
        // The branch committee (first three) belongs to the branch itself; the others to groups.
        let org_id = if groups.is_empty() || i < 3 { branch_id } else { groups[(i - 3) % groups.len()] };
        let core = draw_core(rng, spec.profile, spec.female, probationary_share(spec.profile), today);
        let d = draw_details(rng, spec.profile, &core, today);
        let seq = rng.random_range(0..400u16);
        let id = ids.next(d.region, core.birth, core.gender == Gender::Male, seq)?;
        // A few graduate students work away from campus (流动党员); one retiree cannot be reached.
        let is_flowing = spec.profile == Profile::Graduate && rng.random_bool(0.04);
        let lost_contact = spec.profile == Profile::Retired && rng.random_bool(0.02);
        let mut rec = MemberRecord {
            external_id: None,
            name: d.name,
            gender: core.gender,
            id_number: Some(id),
            birth_date: Some(core.birth),
            ethnicity: Some(d.ethnicity.to_string()),
            native_place: Some(d.native_place.to_string()),
            education: Some(d.education.to_string()),
            degree: d.degree.map(str::to_string),
            job_category: Some(d.job_category.to_string()),
            post: d.post.map(str::to_string),
            title: d.title.map(str::to_string),
            phone: Some(d.phone),
            work_started_on: d.work_started_on,
            category: core.category,
            org_id,
            joined_at: core.joined_at,
            full_member_at: core.full_member_at,
            status: Status::Normal,
            is_flowing,
            lost_contact,
        };
        let errors = rec.check(today);
        if !errors.is_empty() {
            let list: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.field, e.code)).collect();
            return Err(AppError::internal(format!("demo member {} breaks the rules: {}", rec.name, list.join(", "))));
        }
        out.push(rec);
    }
    Ok(out)
}

/// Loads the demo data in one transaction. With `if_empty`, does nothing (returns `None`) when
/// the database already holds organizations; without it, such a database is refused, because
/// the demo codes (D01…) and logins would clash with real ones.
/// `today` is the institution's date: the demo's dates (terms, probations, a year and a half of
/// meetings) are drawn around it.
pub async fn load(conn: &mut AsyncPgConnection, key: &DataKey, if_empty: bool, today: NaiveDate) -> Result<Option<String>, AppError> {
    let existing: i64 = orgs::table.count().get_result(conn).await?;
    if existing > 0 {
        if if_empty {
            return Ok(None);
        }
        return Err(AppError::conflict(
            "not_empty",
            "the database already holds organizations: load the demo data into an empty database",
            "数据库中已有组织：请在空数据库中加载演示数据",
        ));
    }
    // Argon2 takes tens of milliseconds: hash once, share the hash among the demo logins.
    let hash = password::hash(DEMO_PASSWORD.to_string()).await?;
    let key = key.clone();
    conn.transaction::<_, AppError, _>(async move |conn| fill(conn, &key, hash, today).await).await.map(Some)
}

async fn fill(conn: &mut AsyncPgConnection, key: &DataKey, hash: String, today: NaiveDate) -> Result<String, AppError> {
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut ids = IdNumbers::default();
    let mut counts = Counts { generals: 0, branches: 0, groups: 0, members: 0 };

    let root_code = "D01".to_string();
    let root = insert_org(
        conn,
        NewOrg {
            code: root_code.clone(),
            name: ROOT_NAME,
            kind: "committee",
            parent_id: None,
            founded_on: founded(&mut rng, 1953),
            term: Some(term_dates(&mut rng, Term::Current, 5, today)),
        },
    )
    .await?;

    // (code, name, member ids) of every branch, in order: branch 1 and 2 get the demo logins.
    let mut branches: Vec<BranchDone> = Vec::new();
    let mut first_general: Option<(String, &'static str)> = None;
    let parents: Vec<(Option<&GeneralSpec>, &'static [BranchSpec])> =
        GENERALS.iter().map(|g| (Some(g), g.branches)).chain(std::iter::once((None, DIRECT))).collect();
    let mut direct_no = GENERALS.len();
    for (general, specs) in parents {
        let (parent_id, parent_code) = match general {
            Some(g) => {
                counts.generals += 1;
                let code = format!("{root_code}-{:02}", counts.generals);
                let id = insert_org(
                    conn,
                    NewOrg {
                        code: code.clone(),
                        name: g.name,
                        kind: "general_branch",
                        parent_id: Some(root),
                        founded_on: founded(&mut rng, g.founded),
                        term: Some(term_dates(&mut rng, Term::Current, 3, today)),
                    },
                )
                .await?;
                first_general.get_or_insert((code.clone(), g.name));
                (id, Some(code))
            }
            None => (root, None),
        };
        for (n, spec) in specs.iter().enumerate() {
            let code = match &parent_code {
                Some(p) => format!("{p}-{:02}", n + 1),
                None => {
                    direct_no += 1;
                    format!("{root_code}-{direct_no:02}")
                }
            };
            let founded_on = founded(&mut rng, spec.founded);
            let branch_id = insert_org(
                conn,
                NewOrg {
                    code: code.clone(),
                    name: spec.name,
                    kind: "branch",
                    parent_id: Some(parent_id),
                    founded_on,
                    term: Some(term_dates(&mut rng, spec.term, 3, today)),
                },
            )
            .await?;
            counts.branches += 1;
            // Larger branches split into party groups of about a dozen members.
            let n_groups = if spec.members >= 24 { spec.members / 12 } else { 0 };
            let mut groups = Vec::with_capacity(n_groups);
            for g in 0..n_groups {
                let name = format!("第{}党小组", CHINESE_ORDINALS[g % CHINESE_ORDINALS.len()]);
                let id = insert_org(
                    conn,
                    NewOrg { code: format!("{code}-{:02}", g + 1), name: &name, kind: "group", parent_id: Some(branch_id), founded_on, term: None },
                )
                .await?;
                groups.push(id);
            }
            counts.groups += n_groups;
            let mut people_ids = Vec::with_capacity(spec.members);
            for rec in branch_members(&mut rng, &mut ids, spec, branch_id, &groups, today)? {
                let id = queries::insert(conn, key, &rec).await?;
                people_ids.push((id, rec.name));
            }
            counts.members += people_ids.len();
            branches.push((code, spec.name, people_ids));
        }
    }

    // A person who is not a member (群众): a student who has applied to join.
    let masses_name = {
        let core = draw_core(&mut rng, Profile::Undergraduate, 0.5, 0.0, today);
        let d = draw_details(&mut rng, Profile::Undergraduate, &core, today);
        let id = ids.next(d.region, core.birth, core.gender == Gender::Male, 0)?;
        let (initials, full) = name_keys(&d.name);
        let enc = |v: &str| key.encrypt(v).map_err(|e| AppError::internal(format!("encrypting: {e}")));
        let person: i64 = diesel::insert_into(people::table)
            .values((
                people::name.eq(&d.name),
                people::name_initials.eq(initials),
                people::name_pinyin.eq(full),
                people::gender.eq(core.gender.as_str()),
                people::id_number_enc.eq(Some(enc(&id)?)),
                people::id_number_hash.eq(Some(key.blind_index(ID_NUMBER_INDEX, &id))),
                people::id_number_masked.eq(Some(id_number::mask(&id))),
                people::birth_date.eq(Some(core.birth)),
                people::ethnicity.eq(Some(d.ethnicity)),
                people::native_place.eq(Some(d.native_place)),
                people::education.eq(Some(d.education)),
                people::job_category.eq(Some(d.job_category)),
                people::phone_enc.eq(Some(enc(&d.phone)?)),
                people::phone_masked.eq(Some(mask_phone(&d.phone))),
            ))
            .returning(people::id)
            .get_result(conn)
            .await?;
        (person, d.name)
    };

    let (b1_code, b1_name, b1_people) = <[_]>::first(&branches).cloned().ok_or_else(|| AppError::internal("demo has no branch"))?;
    let (b2_code, b2_name, _) = branches.get(1).cloned().ok_or_else(|| AppError::internal("demo has no second branch"))?;
    let (gb_code, gb_name) = first_general.ok_or_else(|| AppError::internal("demo has no general branch"))?;
    // The branch secretary is the first of the branch committee; a plain member comes after it.
    let (secretary, secretary_name) = <[_]>::first(&b1_people).cloned().ok_or_else(|| AppError::internal("branch 1 is empty"))?;
    let (member, member_name) = b1_people.get(4).cloned().ok_or_else(|| AppError::internal("branch 1 is too small"))?;

    let root = || Some(root_code.clone());
    let logins: Vec<DemoLogin> = vec![
        ("admin", None, vec![(Role::PoliticalDept, None)], "政工部门管理员（全校）".into()),
        ("zhengong", None, vec![(Role::PoliticalDept, root())], format!("政工部门（{ROOT_NAME}）")),
        ("dangwei", None, vec![(Role::Committee, root())], format!("党委组织员（{ROOT_NAME}）")),
        ("zongzhi", None, vec![(Role::Committee, Some(gb_code.clone()))], format!("党总支党务工作者（{gb_name}）")),
        ("zhibu01", None, vec![(Role::Branch, Some(b1_code.clone()))], format!("党支部组织委员（{b1_name}）")),
        ("zhibu02", None, vec![(Role::Branch, Some(b2_code.clone()))], format!("党支部书记（{b2_name}）")),
        ("dangyuan", Some(member), vec![(Role::Member, Some(b1_code.clone()))], format!("党员 {member_name}（{b1_name}）")),
        (
            "duozhi",
            Some(secretary),
            vec![(Role::Member, Some(b1_code.clone())), (Role::Branch, Some(b1_code.clone())), (Role::Committee, root())],
            format!("一人多岗：党员 {secretary_name}，兼{b1_name}书记、{ROOT_NAME}组织员"),
        ),
        ("qunzhong", Some(masses_name.0), vec![(Role::Masses, None)], format!("群众 {}（入党申请人）", masses_name.1)),
    ];
    let mut listed = Vec::new();
    for (username, person_id, grants, description) in logins {
        // An `admin` made by DANGJIAN_ADMIN_PASSWORD before the demo was loaded keeps its password.
        if accounts::by_username(conn, username).await?.is_some() {
            continue;
        }
        accounts::create(conn, By::CLI, NewAccount { username, password_hash: hash.clone(), person_id }, &grants).await?;
        listed.push(Login { username: username.to_string(), description });
    }
    let value = serde_json::to_value(&listed).map_err(|e| AppError::internal(format!("demo logins: {e}")))?;
    diesel::insert_into(settings::table)
        .values((settings::key.eq(LOGINS_KEY), settings::value.eq(&value)))
        .on_conflict(settings::key)
        .do_update()
        .set((settings::value.eq(&value), settings::updated_at.eq(diesel::dsl::now)))
        .execute(conn)
        .await?;

    let life = meetings::load(conn, today).await?;

    Ok(format!(
        "loaded demo data: 1 committee, {} general branches, {} branches, {} groups, {} members, {} logins; {} officers, {} meetings ({} held), {} attendance rows",
        counts.generals,
        counts.branches,
        counts.groups,
        counts.members,
        listed.len(),
        life.officers,
        life.meetings,
        life.held,
        life.attendees
    ))
}

/// The demo logins recorded by [`load`], as (username, description); empty without demo data.
pub async fn logins(conn: &mut AsyncPgConnection) -> Result<Vec<(String, String)>, AppError> {
    let value: Option<serde_json::Value> = settings::table.filter(settings::key.eq(LOGINS_KEY)).select(settings::value).first(conn).await.optional()?;
    let Some(value) = value else { return Ok(Vec::new()) };
    let list: Vec<Login> = serde_json::from_value(value).map_err(|e| AppError::internal(format!("setting {LOGINS_KEY}: {e}")))?;
    Ok(list.into_iter().map(|l| (l.username, l.description)).collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn drawn_members_pass_the_record_rules() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let mut rng = StdRng::seed_from_u64(7);
        let mut ids = IdNumbers::default();
        for profile in [Faculty, Graduate, Undergraduate, Staff, Worker, Retired, Profile::Farmer, Profile::Official] {
            for _ in 0..300 {
                let core = draw_core(&mut rng, profile, 0.5, 0.2, today);
                let d = draw_details(&mut rng, profile, &core, today);
                let id = ids.next(d.region, core.birth, core.gender == Gender::Male, 0).unwrap();
                let mut rec = MemberRecord {
                    external_id: None,
                    name: d.name,
                    gender: core.gender,
                    id_number: Some(id),
                    birth_date: Some(core.birth),
                    ethnicity: Some(d.ethnicity.into()),
                    native_place: Some(d.native_place.into()),
                    education: Some(d.education.into()),
                    degree: d.degree.map(Into::into),
                    job_category: Some(d.job_category.into()),
                    post: None,
                    title: None,
                    phone: Some(d.phone),
                    work_started_on: d.work_started_on,
                    category: core.category,
                    org_id: 1,
                    joined_at: core.joined_at,
                    full_member_at: core.full_member_at,
                    status: Status::Normal,
                    is_flowing: false,
                    lost_contact: false,
                };
                let errors = rec.check(today);
                assert!(errors.is_empty(), "{profile:?} {:?}: {:?}", rec, errors.iter().map(|e| &e.code).collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn names_are_chinese_and_have_pinyin() {
        let mut rng = StdRng::seed_from_u64(1);
        for year in [1950, 1975, 2000] {
            for g in [Gender::Male, Gender::Female] {
                let n = person_name(&mut rng, g, year);
                assert!((2..=4).contains(&n.chars().count()), "{n}");
                assert_eq!(name_keys(&n).0.len(), n.chars().count(), "{n}");
            }
        }
    }
}
