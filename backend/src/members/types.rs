use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::orgs::types::double_option;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Male,
    Female,
}

impl Gender {
    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Male => "male",
            Gender::Female => "female",
        }
    }
    pub fn parse(s: &str) -> Option<Gender> {
        match s {
            "male" => Some(Gender::Male),
            "female" => Some(Gender::Female),
            _ => None,
        }
    }
}

/// 正式党员 / 预备党员.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Full,
    Probationary,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Full => "full",
            Category::Probationary => "probationary",
        }
    }
    pub fn parse(s: &str) -> Option<Category> {
        match s {
            "full" => Some(Category::Full),
            "probationary" => Some(Category::Probationary),
            _ => None,
        }
    }
}

/// 正常 / 停止党籍 / 出党 / 死亡 (lost contact and flowing are flags beside it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Normal,
    Suspended,
    Left,
    Deceased,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Normal => "normal",
            Status::Suspended => "suspended",
            Status::Left => "left",
            Status::Deceased => "deceased",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        [Status::Normal, Status::Suspended, Status::Left, Status::Deceased].into_iter().find(|x| x.as_str() == s)
    }
}

/// A member: the person's record and the membership, as one resource.
///
/// `id_number` and `phone` are masked unless the caller's role may see them (detail reads by the
/// member themself, and for the ID number committee and political_dept roles over the member's org).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 101, "name": "张三", "gender": "male", "id_number": "**************123X", "birth_date": "1988-03-12",
    "ethnicity": "汉族", "native_place": "北京", "education": "大学本科", "degree": "学士", "job_category": "专业技术人员",
    "post": "工程师", "title": "高级工程师", "phone": "138****5678", "work_started_on": "2010-07-01",
    "category": "full", "org_id": 12, "org_name": "机关第一党支部", "joined_at": "2012-06-20", "full_member_at": "2013-06-20",
    "status": "normal", "is_flowing": false, "lost_contact": false, "standing_years": 13, "version": 3
}))]
pub struct Member {
    /// The person's id.
    pub id: i64,
    /// 外部编号: the master-data system's key for the person.
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
    pub org_name: String,
    /// 入党日期: the branch meeting that admitted the probationary member.
    pub joined_at: NaiveDate,
    /// 转正日期.
    pub full_member_at: Option<NaiveDate>,
    pub status: Status,
    /// 流动党员.
    pub is_flowing: bool,
    /// 失联党员.
    pub lost_contact: bool,
    /// 党龄: whole years since full membership (docs/domain.md); none while probationary.
    pub standing_years: Option<i32>,
    pub version: i32,
}

/// The writable fields of a member. On create, `name`, `gender`, `category`, `org_id` and
/// `joined_at` are required; on update every field is optional and `null` clears it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "张丽", "gender": "female", "id_number": "11010519491231002X", "birth_date": "1949-12-31",
    "ethnicity": "汉族", "education": "大学本科", "job_category": "专业技术人员", "phone": "13800138000",
    "category": "probationary", "org_id": 12, "joined_at": "2026-06-20"
}))]
pub struct MemberInput {
    /// 外部编号: the master-data system's key (unique).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, example = "HR-004211")]
    pub external_id: Option<Option<String>>,
    pub name: Option<String>,
    pub gender: Option<Gender>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, example = "11010519491231002X")]
    pub id_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub birth_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, example = "汉族")]
    pub ethnicity: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub native_place: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, example = "大学本科")]
    pub education: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, example = "学士")]
    pub degree: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, example = "专业技术人员")]
    pub job_category: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub post: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, example = "13800138000")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub work_started_on: Option<Option<NaiveDate>>,
    pub category: Option<Category>,
    pub org_id: Option<i64>,
    pub joined_at: Option<NaiveDate>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub full_member_at: Option<Option<NaiveDate>>,
    pub status: Option<Status>,
    pub is_flowing: Option<bool>,
    pub lost_contact: Option<bool>,
    /// On update: the version read (or send If-Match).
    pub version: Option<i32>,
}

/// 汉族 / 少数民族 (docs/domain.md, Party statistics: ethnicity is counted as 汉族 and minorities).
/// A member whose ethnicity is not recorded is in neither group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EthnicGroup {
    Han,
    Minority,
}

impl EthnicGroup {
    /// The name of the majority ethnicity in the code list (GB/T 3304).
    pub const HAN: &'static str = "汉族";
}

/// A record field a member may lack (the data-completeness reminders and their drill-down).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MissingField {
    IdNumber,
    BirthDate,
    Ethnicity,
    Education,
    JobCategory,
    Phone,
}

impl MissingField {
    pub const ALL: [MissingField; 6] =
        [MissingField::IdNumber, MissingField::BirthDate, MissingField::Ethnicity, MissingField::Education, MissingField::JobCategory, MissingField::Phone];

    pub fn as_str(self) -> &'static str {
        match self {
            MissingField::IdNumber => "id_number",
            MissingField::BirthDate => "birth_date",
            MissingField::Ethnicity => "ethnicity",
            MissingField::Education => "education",
            MissingField::JobCategory => "job_category",
            MissingField::Phone => "phone",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            MissingField::IdNumber => "公民身份号码",
            MissingField::BirthDate => "出生日期",
            MissingField::Ethnicity => "民族",
            MissingField::Education => "学历",
            MissingField::JobCategory => "工作岗位",
            MissingField::Phone => "手机号码",
        }
    }
}
