//! What the statistics endpoints answer (contract of issue 5). Shared with the report module,
//! which builds its tables from [`Structure`].

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The query parameters of `GET /members` (and `/members/export.xlsx`) that list today's members
/// behind a bucket, for drill-down. Only the parameters that apply are present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"org_id": 3, "status": "normal", "gender": "female"}))]
pub struct BucketFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// `han` or `minority`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ethnic_group: Option<String>,
    /// A name of the ethnicity code list (汉族).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ethnicity: Option<String>,
    /// A name of the education code list (大学本科).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub education: Option<String>,
    /// A name of the job category code list (工人).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub born_from: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub born_to: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub joined_from: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub joined_to: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_from: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_to: Option<NaiveDate>,
    /// The record lacks this field (`birth_date`, `ethnicity`, `education`, `job_category`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
}

/// One item of a dimension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"key": "female", "label": "女", "count": 123, "filter": {"org_id": 3, "status": "normal", "gender": "female"}}))]
pub struct Bucket {
    /// Stable English key (`unknown` where the record lacks the field).
    #[schema(example = "female")]
    pub key: String,
    /// Chinese label (未填写 for `unknown`).
    #[schema(example = "女")]
    pub label: String,
    #[schema(example = 123)]
    pub count: i64,
    /// The member-list filter behind this bucket (today's members), or null when none can express it.
    pub filter: Option<BucketFilter>,
}

/// Each dimension's counts add up to `total`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Dimensions {
    /// male, female.
    pub gender: Vec<Bucket>,
    /// full, probationary.
    pub category: Vec<Bucket>,
    /// han, minority, unknown.
    pub ethnicity: Vec<Bucket>,
    /// The configured age bands (le30, 31_35, ... ge61), then unknown.
    pub age_band: Vec<Bucket>,
    /// The education code list's codes, then unknown.
    pub education: Vec<Bucket>,
    /// The job category code list's codes, then unknown.
    pub job_category: Vec<Bucket>,
    /// The configured joining periods (before_1949_10, ... from_2012_11).
    pub joined_period: Vec<Bucket>,
    /// 党龄 from the date of full membership: probationary, then the configured bands.
    pub party_standing: Vec<Bucket>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"total": 12, "by_kind": [{"key": "committee", "label": "党委", "count": 1, "filter": null}]}))]
pub struct OrgCounts {
    /// Organizations of the subtree (itself included) existing on the date.
    #[schema(example = 12)]
    pub total: i64,
    /// committee, general_branch, branch, group.
    pub by_kind: Vec<Bucket>,
}

/// 发展党员: applicants, activists and targets are null until the development module exists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"applicants": null, "activists": null, "targets": null, "admitted_this_year": 4, "made_full_this_year": 3}))]
pub struct Pipeline {
    pub applicants: Option<i64>,
    pub activists: Option<i64>,
    pub targets: Option<i64>,
    /// Admitted (入党) from 1 January of the date's year up to the date.
    #[schema(example = 4)]
    pub admitted_this_year: i64,
    /// Made full (转正) from 1 January of the date's year up to the date.
    #[schema(example = 3)]
    pub made_full_this_year: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"org_id": 7, "org_name": "第一党支部", "term_end": "2025-06-30"}))]
pub struct TermExpired {
    #[schema(example = 7)]
    pub org_id: i64,
    #[schema(example = "第一党支部")]
    pub org_name: String,
    #[schema(example = "2025-06-30")]
    pub term_end: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"org_id": 8, "org_name": "第二党支部", "full_members": 2}))]
pub struct BelowThreeFull {
    #[schema(example = 8)]
    pub org_id: i64,
    #[schema(example = "第二党支部")]
    pub org_name: String,
    #[schema(example = 2)]
    pub full_members: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Alerts {
    /// Branches whose term ended before the date (renewal 换届 overdue).
    pub term_expired: Vec<TermExpired>,
    /// Branches with fewer than 3 full members on the date (docs/domain.md, Organizations).
    pub below_three_full: Vec<BelowThreeFull>,
}

/// Which configured band set was used.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"name": "2023", "age": ["30岁及以下", "31-35岁"], "joined_period": ["1949年9月及以前"], "party_standing": ["不满10年"]}))]
pub struct BandsUsed {
    #[schema(example = "2023")]
    pub name: String,
    pub age: Vec<String>,
    pub joined_period: Vec<String>,
    pub party_standing: Vec<String>,
}

/// The structure of the membership of a subtree on a date (docs/domain.md, Party statistics).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "org_id": 3, "org_name": "机关党委", "as_of": "2025-12-31", "total": 120, "full": 112, "probationary": 8,
    "dimensions": {
        "gender": [{"key": "male", "label": "男", "count": 70, "filter": {"org_id": 3, "status": "normal", "gender": "male"}},
                   {"key": "female", "label": "女", "count": 50, "filter": {"org_id": 3, "status": "normal", "gender": "female"}}],
        "category": [{"key": "full", "label": "正式党员", "count": 112, "filter": {"org_id": 3, "status": "normal", "category": "full"}},
                     {"key": "probationary", "label": "预备党员", "count": 8, "filter": {"org_id": 3, "status": "normal", "category": "probationary"}}],
        "ethnicity": [{"key": "han", "label": "汉族", "count": 110, "filter": {"org_id": 3, "status": "normal", "ethnic_group": "han"}},
                      {"key": "minority", "label": "少数民族", "count": 9, "filter": {"org_id": 3, "status": "normal", "ethnic_group": "minority"}},
                      {"key": "unknown", "label": "未填写", "count": 1, "filter": {"org_id": 3, "status": "normal", "missing": "ethnicity"}}],
        "age_band": [{"key": "le30", "label": "30岁及以下", "count": 20, "filter": {"org_id": 3, "status": "normal", "born_from": "1995-12-01"}}],
        "education": [{"key": "02", "label": "大学本科", "count": 80, "filter": {"org_id": 3, "status": "normal", "education": "大学本科"}}],
        "job_category": [{"key": "03", "label": "专业技术人员", "count": 60, "filter": {"org_id": 3, "status": "normal", "job_category": "专业技术人员"}}],
        "joined_period": [{"key": "from_2012_11", "label": "2012年11月及以后", "count": 70, "filter": {"org_id": 3, "status": "normal", "joined_from": "2012-11-01"}}],
        "party_standing": [{"key": "probationary", "label": "预备党员", "count": 8, "filter": {"org_id": 3, "status": "normal", "category": "probationary"}}]
    },
    "college_or_above": 100,
    "orgs": {"total": 12, "by_kind": [{"key": "committee", "label": "党委", "count": 1, "filter": null},
                                      {"key": "branch", "label": "党支部", "count": 8, "filter": null}]},
    "pipeline": {"applicants": null, "activists": null, "targets": null, "admitted_this_year": 4, "made_full_this_year": 3},
    "alerts": {"term_expired": [{"org_id": 7, "org_name": "第一党支部", "term_end": "2025-06-30"}],
               "below_three_full": [{"org_id": 8, "org_name": "第二党支部", "full_members": 2}]},
    "bands": {"name": "2023", "age": ["30岁及以下", "31-35岁"], "joined_period": ["1949年9月及以前"], "party_standing": ["不满10年"]}
}))]
pub struct Structure {
    #[schema(example = 3)]
    pub org_id: i64,
    #[schema(example = "机关党委")]
    pub org_name: String,
    #[schema(example = "2025-12-31")]
    pub as_of: NaiveDate,
    /// Members with status 正常 held in the subtree on the date.
    #[schema(example = 120)]
    pub total: i64,
    #[schema(example = 112)]
    pub full: i64,
    #[schema(example = 8)]
    pub probationary: i64,
    pub dimensions: Dimensions,
    /// 大专及以上: 研究生 + 大学本科 + 大学专科.
    #[schema(example = 100)]
    pub college_or_above: i64,
    pub orgs: OrgCounts,
    pub pipeline: Pipeline,
    pub alerts: Alerts,
    pub bands: BandsUsed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"as_of": "2025-12-31", "total": 120, "full": 112, "probationary": 8}))]
pub struct TrendPoint {
    #[schema(example = "2025-12-31")]
    pub as_of: NaiveDate,
    #[schema(example = 120)]
    pub total: i64,
    #[schema(example = 112)]
    pub full: i64,
    #[schema(example = 8)]
    pub probationary: i64,
}

/// Members at each year end of the last `years` years, and today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"org_id": 3, "points": [
    {"as_of": "2024-12-31", "total": 115, "full": 108, "probationary": 7},
    {"as_of": "2025-12-31", "total": 120, "full": 112, "probationary": 8},
    {"as_of": "2026-11-30", "total": 121, "full": 113, "probationary": 8}]}))]
pub struct Trend {
    #[schema(example = 3)]
    pub org_id: i64,
    pub points: Vec<TrendPoint>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"org_id": 7, "parent_id": 3, "name": "第一党支部", "kind": "branch", "depth": 1, "members": 25, "full": 23, "probationary": 2}))]
pub struct OrgStatsItem {
    #[schema(example = 7)]
    pub org_id: i64,
    #[schema(example = 3)]
    pub parent_id: Option<i64>,
    #[schema(example = "第一党支部")]
    pub name: String,
    /// committee, general_branch, branch or group.
    #[schema(example = "branch")]
    pub kind: String,
    /// Levels below the requested org (0 = itself).
    #[schema(example = 1)]
    pub depth: i32,
    /// Members held in the org's whole subtree on the date.
    #[schema(example = 25)]
    pub members: i64,
    #[schema(example = 23)]
    pub full: i64,
    #[schema(example = 2)]
    pub probationary: i64,
}

/// The orgs of a subtree down to a depth, each with the members of its own subtree (treemap).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"org_id": 3, "as_of": "2025-12-31", "items": [
    {"org_id": 3, "parent_id": null, "name": "机关党委", "kind": "committee", "depth": 0, "members": 120, "full": 112, "probationary": 8},
    {"org_id": 7, "parent_id": 3, "name": "第一党支部", "kind": "branch", "depth": 1, "members": 25, "full": 23, "probationary": 2}]}))]
pub struct OrgStats {
    #[schema(example = 3)]
    pub org_id: i64,
    #[schema(example = "2025-12-31")]
    pub as_of: NaiveDate,
    pub items: Vec<OrgStatsItem>,
}
