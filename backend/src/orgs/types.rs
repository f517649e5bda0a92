use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::schema::orgs;

/// 基层党委 / 党总支 / 党支部 / 党小组 (docs/domain.md, Organizations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    Committee,
    GeneralBranch,
    Branch,
    Group,
}

impl OrgKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Committee => "committee",
            OrgKind::GeneralBranch => "general_branch",
            OrgKind::Branch => "branch",
            OrgKind::Group => "group",
        }
    }

    pub fn parse(s: &str) -> Option<OrgKind> {
        [OrgKind::Committee, OrgKind::GeneralBranch, OrgKind::Branch, OrgKind::Group].into_iter().find(|k| k.as_str() == s)
    }

    pub fn zh(self) -> &'static str {
        match self {
            OrgKind::Committee => "党委",
            OrgKind::GeneralBranch => "党总支",
            OrgKind::Branch => "党支部",
            OrgKind::Group => "党小组",
        }
    }

    /// The tree committee > (general branch >) branch > group; a committee may sit under a
    /// higher committee, and only a committee may be at the top.
    pub fn may_be_under(self, parent: Option<OrgKind>) -> bool {
        matches!(
            (self, parent),
            (OrgKind::Committee, None | Some(OrgKind::Committee))
                | (OrgKind::GeneralBranch, Some(OrgKind::Committee))
                | (OrgKind::Branch, Some(OrgKind::Committee | OrgKind::GeneralBranch))
                | (OrgKind::Group, Some(OrgKind::Branch))
        )
    }

    /// Members' organizational relationship is held in a branch (or one of its party groups).
    pub fn holds_members(self) -> bool {
        matches!(self, OrgKind::Branch | OrgKind::Group)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = orgs)]
pub struct OrgRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<i64>,
    pub founded_on: Option<NaiveDate>,
    pub dissolved_on: Option<NaiveDate>,
    pub term_start: Option<NaiveDate>,
    pub term_end: Option<NaiveDate>,
    pub version: i32,
    pub external_id: Option<String>,
}

impl OrgRow {
    pub fn kind(&self) -> OrgKind {
        OrgKind::parse(&self.kind).unwrap_or(OrgKind::Branch)
    }
}

/// The writable fields of an org row, as the API and the sync write them: one struct for
/// insert and update so the two cannot drift (`None` writes NULL). The parent is set apart,
/// since a change of parent is a move (the closure trigger).
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = orgs, treat_none_as_null = true)]
pub struct OrgFields<'a> {
    pub external_id: Option<&'a str>,
    pub code: &'a str,
    pub name: &'a str,
    pub kind: &'static str,
    pub founded_on: Option<NaiveDate>,
    pub dissolved_on: Option<NaiveDate>,
    pub term_start: Option<NaiveDate>,
    pub term_end: Option<NaiveDate>,
}

/// An organization.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 12, "code": "D0101", "name": "机关第一党支部", "kind": "branch", "parent_id": 3,
    "founded_on": "2015-07-01", "dissolved_on": null, "term_start": "2024-06-01", "term_end": "2027-05-31",
    "child_count": 2, "version": 4
}))]
pub struct Org {
    pub id: i64,
    /// 外部编号: the master-data system's key for the org.
    pub external_id: Option<String>,
    /// Unique code: the key spreadsheets and sync scripts use.
    pub code: String,
    pub name: String,
    pub kind: OrgKind,
    pub parent_id: Option<i64>,
    pub founded_on: Option<NaiveDate>,
    pub dissolved_on: Option<NaiveDate>,
    /// The current committee's term (换届): renewal is due at its end.
    pub term_start: Option<NaiveDate>,
    pub term_end: Option<NaiveDate>,
    /// Direct children, so a tree view knows which nodes expand.
    pub child_count: i64,
    /// Optimistic-concurrency version; also sent as the ETag.
    pub version: i32,
}

impl Org {
    pub fn from_row(r: OrgRow, child_count: i64) -> Self {
        Org {
            kind: r.kind(),
            id: r.id,
            external_id: r.external_id,
            code: r.code,
            name: r.name,
            parent_id: r.parent_id,
            founded_on: r.founded_on,
            dissolved_on: r.dissolved_on,
            term_start: r.term_start,
            term_end: r.term_end,
            child_count,
            version: r.version,
        }
    }
}

/// An org in a subtree listing, with its depth below the subtree's root.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubtreeOrg {
    #[serde(flatten)]
    pub org: Org,
    #[schema(example = 1)]
    pub depth: i32,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "D01-01-05", "name": "计算机学院教工第三党支部", "kind": "branch", "parent_id": 2, "founded_on": "2026-07-01"}))]
pub struct CreateOrg {
    /// 外部编号: the master-data system's key (unique).
    pub external_id: Option<String>,
    pub code: String,
    pub name: String,
    pub kind: OrgKind,
    /// None only for a top-level committee (political_dept over the whole institution).
    pub parent_id: Option<i64>,
    pub founded_on: Option<NaiveDate>,
    pub dissolved_on: Option<NaiveDate>,
    pub term_start: Option<NaiveDate>,
    pub term_end: Option<NaiveDate>,
}

/// Distinguishes a field left out (keep) from one sent as null (clear).
pub fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "计算机学院教工第一党支部", "term_start": "2024-12-24", "term_end": "2027-12-24", "version": 1}))]
pub struct UpdateOrg {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub external_id: Option<Option<String>>,
    pub code: Option<String>,
    pub name: Option<String>,
    pub kind: Option<OrgKind>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub founded_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub dissolved_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub term_start: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub term_end: Option<Option<NaiveDate>>,
    /// The version read; alternatively send If-Match.
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"parent_id": 7, "version": 1}))]
pub struct MoveOrg {
    pub parent_id: i64,
    pub version: Option<i32>,
}

/// An ancestor on the path from the top of the tree down to an org (a breadcrumb).
#[derive(Debug, Serialize, ToSchema)]
pub struct PathItem {
    #[schema(example = 1)]
    pub id: i64,
    #[schema(example = "D01")]
    pub code: String,
    #[schema(example = "机关党委")]
    pub name: String,
    pub kind: OrgKind,
}
