//! Who is asking, and what they may see: accounts, role grants, tokens and the route policy.
//!
//! docs/domain.md, "Roles": five role kinds, each with an org scope; one person may hold several.
//! The access token carries the account's grants; each route declares (in its OpenAPI `security`
//! scopes) which role kinds may call it; the policy middleware keeps only those grants on the
//! request's [`Actor`], so the handler's data scope follows from the same declaration.

pub mod client_addr;
pub mod password;
pub mod passwords;
pub mod policy;
pub mod routes;
pub mod throttle;
pub mod token;

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 群众: applies to join, follows own application.
    Masses,
    /// 党员: own profile, meetings, dues.
    Member,
    /// 党支部 worker: one branch and its party groups.
    Branch,
    /// 党委/党总支 worker: its subtree.
    Committee,
    /// 政工部门: the whole institution (or the subtree of its org).
    PoliticalDept,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Masses, Role::Member, Role::Branch, Role::Committee, Role::PoliticalDept];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Masses => "masses",
            Role::Member => "member",
            Role::Branch => "branch",
            Role::Committee => "committee",
            Role::PoliticalDept => "political_dept",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Roles whose scope is a part of the org tree (rather than the person themself).
    pub fn is_org_scoped(self) -> bool {
        matches!(self, Role::Branch | Role::Committee | Role::PoliticalDept)
    }
}

/// One role grant, as carried in the access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Grant {
    #[schema(example = 7)]
    pub id: i64,
    pub role: Role,
    /// The org the grant applies to (with its subtree); none means the whole institution.
    #[schema(example = 12)]
    pub org_id: Option<i64>,
}

/// The authenticated caller of one request, with the grants this route admits.
#[derive(Debug, Clone)]
pub struct Actor {
    pub account_id: i64,
    pub username: String,
    pub person_id: Option<i64>,
    pub grants: Vec<Grant>,
    pub ip: Option<String>,
}

/// The data an actor may reach through the grants admitted on a route.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// The whole institution.
    pub all: bool,
    /// Subtrees (by their root org) the actor manages.
    pub org_roots: Vec<i64>,
    /// The actor's own person record (member and masses roles).
    pub person_id: Option<i64>,
}

impl Scope {
    pub fn is_empty(&self) -> bool {
        !self.all && self.org_roots.is_empty() && self.person_id.is_none()
    }
}

impl Actor {
    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }

    pub fn scope(&self) -> Scope {
        let mut scope = Scope::default();
        for g in &self.grants {
            match (g.role, g.org_id) {
                (Role::PoliticalDept, None) => scope.all = true,
                (r, Some(org)) if r.is_org_scoped() => scope.org_roots.push(org),
                (Role::Member | Role::Masses, _) => scope.person_id = self.person_id,
                _ => {}
            }
        }
        scope.org_roots.sort_unstable();
        scope.org_roots.dedup();
        scope
    }

    /// The scope of the org-managing grants only (writes to orgs and rosters).
    pub fn manage_scope(&self) -> Scope {
        let mut s = self.scope();
        s.person_id = None;
        s
    }
}

impl FromRequest for Actor {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // The policy middleware puts the actor there for every route that is not public; a
        // handler asking for one on a public route is a programming error, answered as 401.
        ready(req.extensions().get::<Actor>().cloned().ok_or_else(|| AppError::unauthorized("unauthenticated", "log in first", "请先登录")))
    }
}
