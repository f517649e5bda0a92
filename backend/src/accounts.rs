//! Accounts and their role grants: created by `dangjian user create`, the admin bootstrap and
//! the demo data; read at login.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;

use crate::audit::{self, By};
use crate::auth::{Grant, Role};
use crate::error::AppError;
use crate::schema::{accounts, orgs, role_grants};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = accounts)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub person_id: Option<i64>,
    pub disabled: bool,
    /// Carried in access tokens; bumped (by triggers) on disable, grant and password changes.
    pub token_version: i32,
}

/// A grant as shown to its holder, with the org named.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GrantView {
    #[schema(example = 7)]
    pub id: i64,
    pub role: Role,
    #[schema(example = 12)]
    pub org_id: Option<i64>,
    #[schema(example = "第一党支部")]
    pub org_name: Option<String>,
    #[schema(example = "D0101")]
    pub org_code: Option<String>,
}

pub async fn by_username(conn: &mut AsyncPgConnection, username: &str) -> Result<Option<Account>, AppError> {
    Ok(accounts::table.filter(accounts::username.eq(username)).select(Account::as_select()).first(conn).await.optional()?)
}

pub async fn by_id(conn: &mut AsyncPgConnection, id: i64) -> Result<Option<Account>, AppError> {
    Ok(accounts::table.find(id).select(Account::as_select()).first(conn).await.optional()?)
}

pub async fn grants(conn: &mut AsyncPgConnection, account_id: i64) -> Result<Vec<Grant>, AppError> {
    let rows: Vec<(i64, String, Option<i64>)> = role_grants::table
        .filter(role_grants::account_id.eq(account_id))
        .order(role_grants::id)
        .select((role_grants::id, role_grants::role, role_grants::org_id))
        .load(conn)
        .await?;
    Ok(rows.into_iter().filter_map(|(id, role, org_id)| Role::parse(&role).map(|role| Grant { id, role, org_id })).collect())
}

pub async fn grant_views(conn: &mut AsyncPgConnection, account_id: i64) -> Result<Vec<GrantView>, AppError> {
    type Row = (i64, String, Option<i64>, Option<String>, Option<String>);
    let rows: Vec<Row> = role_grants::table
        .left_join(orgs::table.on(orgs::id.nullable().eq(role_grants::org_id)))
        .filter(role_grants::account_id.eq(account_id))
        .order(role_grants::id)
        .select((role_grants::id, role_grants::role, role_grants::org_id, orgs::name.nullable(), orgs::code.nullable()))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, role, org_id, org_name, org_code)| Role::parse(&role).map(|role| GrantView { id, role, org_id, org_name, org_code }))
        .collect())
}

pub struct NewAccount<'a> {
    pub username: &'a str,
    pub password_hash: String,
    pub person_id: Option<i64>,
}

/// Creates an account with its grants, each given as (role, org code or none).
pub async fn create(conn: &mut AsyncPgConnection, by: By<'_>, new: NewAccount<'_>, grants: &[(Role, Option<String>)]) -> Result<i64, AppError> {
    let id: i64 = diesel::insert_into(accounts::table)
        .values((accounts::username.eq(new.username), accounts::password_hash.eq(&new.password_hash), accounts::person_id.eq(new.person_id)))
        .returning(accounts::id)
        .get_result(conn)
        .await?;
    for (role, code) in grants {
        let org_id = match code {
            Some(code) => Some(
                orgs::table
                    .filter(orgs::code.eq(code))
                    .select(orgs::id)
                    .first::<i64>(conn)
                    .await
                    .optional()?
                    .ok_or_else(|| AppError::field("grant", "unknown_org", format!("no org has code {code}"), format!("不存在编码为 {code} 的组织")))?,
            ),
            None if matches!(role, Role::PoliticalDept | Role::Masses) => None,
            None => {
                return Err(AppError::field(
                    "grant",
                    "org_required",
                    format!("the {} role needs an org: ROLE:ORG_CODE", role.as_str()),
                    format!("{} 角色须指定组织：角色:组织编码", role.as_str()),
                ));
            }
        };
        diesel::insert_into(role_grants::table)
            .values((role_grants::account_id.eq(id), role_grants::role.eq(role.as_str()), role_grants::org_id.eq(org_id)))
            .execute(conn)
            .await?;
    }
    audit::record(
        conn,
        by,
        "create",
        "account",
        Some(id),
        None::<&()>,
        Some(&serde_json::json!({
            "username": new.username,
            "grants": grants.iter().map(|(r, c)| format!("{}:{}", r.as_str(), c.as_deref().unwrap_or("*"))).collect::<Vec<_>>(),
        })),
    )
    .await?;
    Ok(id)
}

pub async fn count(conn: &mut AsyncPgConnection) -> Result<i64, AppError> {
    Ok(accounts::table.count().get_result(conn).await?)
}
