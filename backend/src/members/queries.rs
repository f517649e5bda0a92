//! Member queries. Each takes the connection, so callers compose them inside one transaction.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Bytea, Date, Int4, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::id_number;
use super::pinyin::name_keys;
use super::rules::{MemberRecord, mask_phone, standing_years};
use super::types::{Category, Gender, Member, Status};
use crate::auth::Scope;
use crate::crypto::DataKey;
use crate::error::AppError;
use crate::schema::{members, orgs, people};

pub const ID_NUMBER_INDEX: &str = "person.id_number";

/// What personal data a reader may see in full.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reveal {
    pub id_number: bool,
    pub phone: bool,
}

#[derive(Debug, Queryable, QueryableByName)]
pub struct MemberRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub gender: String,
    #[diesel(sql_type = Nullable<Bytea>)]
    pub id_number_enc: Option<Vec<u8>>,
    #[diesel(sql_type = Nullable<Text>)]
    pub id_number_masked: Option<String>,
    #[diesel(sql_type = Nullable<Date>)]
    pub birth_date: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Text>)]
    pub ethnicity: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub native_place: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub education: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub degree: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub job_category: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub post: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub title: Option<String>,
    #[diesel(sql_type = Nullable<Bytea>)]
    pub phone_enc: Option<Vec<u8>>,
    #[diesel(sql_type = Nullable<Text>)]
    pub phone_masked: Option<String>,
    #[diesel(sql_type = Nullable<Date>)]
    pub work_started_on: Option<NaiveDate>,
    #[diesel(sql_type = Text)]
    pub category: String,
    #[diesel(sql_type = BigInt)]
    pub org_id: i64,
    #[diesel(sql_type = Text)]
    pub org_name: String,
    #[diesel(sql_type = Date)]
    pub joined_at: NaiveDate,
    #[diesel(sql_type = Nullable<Date>)]
    pub full_member_at: Option<NaiveDate>,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Bool)]
    pub is_flowing: bool,
    #[diesel(sql_type = Bool)]
    pub lost_contact: bool,
    #[diesel(sql_type = Int4)]
    pub version: i32,
}

/// The same columns as [`MemberRow`], for the DSL queries.
macro_rules! member_columns {
    () => {
        (
            people::id,
            people::name,
            people::gender,
            people::id_number_enc,
            people::id_number_masked,
            people::birth_date,
            people::ethnicity,
            people::native_place,
            people::education,
            people::degree,
            people::job_category,
            people::post,
            people::title,
            people::phone_enc,
            people::phone_masked,
            people::work_started_on,
            members::category,
            members::org_id,
            orgs::name,
            members::joined_at,
            members::full_member_at,
            members::status,
            members::is_flowing,
            members::lost_contact,
            members::version,
        )
    };
}

const LIST_COLUMNS: &str = "p.id, p.name, p.gender, NULL::bytea AS id_number_enc, p.id_number_masked, p.birth_date, p.ethnicity, \
     p.native_place, p.education, p.degree, p.job_category, p.post, p.title, NULL::bytea AS phone_enc, p.phone_masked, \
     p.work_started_on, m.category, m.org_id, o.name AS org_name, m.joined_at, m.full_member_at, m.status, \
     m.is_flowing, m.lost_contact, m.version";

impl MemberRow {
    pub fn into_member(self, key: &DataKey, reveal: Reveal, today: NaiveDate) -> Member {
        let decrypt = |blob: Option<Vec<u8>>| blob.and_then(|b| key.decrypt(&b).ok());
        let id_number = if reveal.id_number { decrypt(self.id_number_enc).or(self.id_number_masked) } else { self.id_number_masked };
        let phone = if reveal.phone { decrypt(self.phone_enc).or(self.phone_masked) } else { self.phone_masked };
        Member {
            id: self.id,
            name: self.name,
            gender: Gender::parse(&self.gender).unwrap_or(Gender::Male),
            id_number,
            birth_date: self.birth_date,
            ethnicity: self.ethnicity,
            native_place: self.native_place,
            education: self.education,
            degree: self.degree,
            job_category: self.job_category,
            post: self.post,
            title: self.title,
            phone,
            work_started_on: self.work_started_on,
            category: Category::parse(&self.category).unwrap_or(Category::Full),
            org_id: self.org_id,
            org_name: self.org_name,
            joined_at: self.joined_at,
            standing_years: standing_years(self.full_member_at, today),
            full_member_at: self.full_member_at,
            status: Status::parse(&self.status).unwrap_or(Status::Normal),
            is_flowing: self.is_flowing,
            lost_contact: self.lost_contact,
            version: self.version,
        }
    }
}

pub async fn get_row(conn: &mut AsyncPgConnection, id: i64) -> Result<Option<MemberRow>, AppError> {
    Ok(members::table
        .inner_join(people::table)
        .inner_join(orgs::table)
        .filter(members::person_id.eq(id))
        .select(member_columns!())
        .first::<MemberRow>(conn)
        .await
        .optional()?)
}

/// Locks the membership row for a write and returns (version, org_id).
pub async fn lock(conn: &mut AsyncPgConnection, id: i64) -> Result<Option<(i32, i64)>, AppError> {
    Ok(members::table.find(id).select((members::version, members::org_id)).for_update().first(conn).await.optional()?)
}

/// The stored record in plain text (for merging an update).
pub fn record_of(row: &MemberRow, key: &DataKey) -> Result<MemberRecord, AppError> {
    let decrypt = |blob: &Option<Vec<u8>>| -> Result<Option<String>, AppError> {
        blob.as_ref().map(|b| key.decrypt(b).map_err(|e| AppError::internal(format!("decrypting person {}: {e}", row.id)))).transpose()
    };
    Ok(MemberRecord {
        name: row.name.clone(),
        gender: Gender::parse(&row.gender).unwrap_or(Gender::Male),
        id_number: decrypt(&row.id_number_enc)?,
        birth_date: row.birth_date,
        ethnicity: row.ethnicity.clone(),
        native_place: row.native_place.clone(),
        education: row.education.clone(),
        degree: row.degree.clone(),
        job_category: row.job_category.clone(),
        post: row.post.clone(),
        title: row.title.clone(),
        phone: decrypt(&row.phone_enc)?,
        work_started_on: row.work_started_on,
        category: Category::parse(&row.category).unwrap_or(Category::Full),
        org_id: row.org_id,
        joined_at: row.joined_at,
        full_member_at: row.full_member_at,
        status: Status::parse(&row.status).unwrap_or(Status::Normal),
        is_flowing: row.is_flowing,
        lost_contact: row.lost_contact,
    })
}

/// Encrypted forms of the personal fields: (ciphertext, blind index, mask).
struct Sealed {
    id_enc: Option<Vec<u8>>,
    id_hash: Option<Vec<u8>>,
    id_masked: Option<String>,
    phone_enc: Option<Vec<u8>>,
    phone_masked: Option<String>,
}

fn seal(key: &DataKey, rec: &MemberRecord) -> Result<Sealed, AppError> {
    let enc = |v: &str| key.encrypt(v).map_err(|e| AppError::internal(format!("encrypting: {e}")));
    Ok(Sealed {
        id_enc: rec.id_number.as_deref().map(enc).transpose()?,
        id_hash: rec.id_number.as_deref().map(|v| key.blind_index(ID_NUMBER_INDEX, v)),
        id_masked: rec.id_number.as_deref().map(id_number::mask),
        phone_enc: rec.phone.as_deref().map(enc).transpose()?,
        phone_masked: rec.phone.as_deref().map(mask_phone),
    })
}

pub async fn insert(conn: &mut AsyncPgConnection, key: &DataKey, rec: &MemberRecord) -> Result<i64, AppError> {
    let s = seal(key, rec)?;
    let (initials, full) = name_keys(&rec.name);
    let id: i64 = diesel::insert_into(people::table)
        .values((
            people::name.eq(&rec.name),
            people::name_initials.eq(initials),
            people::name_pinyin.eq(full),
            people::gender.eq(rec.gender.as_str()),
            people::id_number_enc.eq(s.id_enc),
            people::id_number_hash.eq(s.id_hash),
            people::id_number_masked.eq(s.id_masked),
            people::birth_date.eq(rec.birth_date),
            people::ethnicity.eq(&rec.ethnicity),
            people::native_place.eq(&rec.native_place),
            people::education.eq(&rec.education),
            people::degree.eq(&rec.degree),
            people::job_category.eq(&rec.job_category),
            people::post.eq(&rec.post),
            people::title.eq(&rec.title),
            people::phone_enc.eq(s.phone_enc),
            people::phone_masked.eq(s.phone_masked),
            people::work_started_on.eq(rec.work_started_on),
        ))
        .returning(people::id)
        .get_result(conn)
        .await?;
    diesel::insert_into(members::table)
        .values((
            members::person_id.eq(id),
            members::org_id.eq(rec.org_id),
            members::category.eq(rec.category.as_str()),
            members::joined_at.eq(rec.joined_at),
            members::full_member_at.eq(rec.full_member_at),
            members::status.eq(rec.status.as_str()),
            members::is_flowing.eq(rec.is_flowing),
            members::lost_contact.eq(rec.lost_contact),
        ))
        .execute(conn)
        .await?;
    Ok(id)
}

/// Writes the whole record; the membership's version is the record's version.
pub async fn update(conn: &mut AsyncPgConnection, key: &DataKey, id: i64, rec: &MemberRecord) -> Result<(), AppError> {
    let s = seal(key, rec)?;
    let (initials, full) = name_keys(&rec.name);
    diesel::update(people::table.find(id))
        .set((
            people::name.eq(&rec.name),
            people::name_initials.eq(initials),
            people::name_pinyin.eq(full),
            people::gender.eq(rec.gender.as_str()),
            people::id_number_enc.eq(s.id_enc),
            people::id_number_hash.eq(s.id_hash),
            people::id_number_masked.eq(s.id_masked),
            people::birth_date.eq(rec.birth_date),
            people::ethnicity.eq(&rec.ethnicity),
            people::native_place.eq(&rec.native_place),
            people::education.eq(&rec.education),
            people::degree.eq(&rec.degree),
            people::job_category.eq(&rec.job_category),
            people::post.eq(&rec.post),
            people::title.eq(&rec.title),
            people::phone_enc.eq(s.phone_enc),
            people::phone_masked.eq(s.phone_masked),
            people::work_started_on.eq(rec.work_started_on),
            people::version.eq(people::version + 1),
            people::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    diesel::update(members::table.find(id))
        .set((
            members::org_id.eq(rec.org_id),
            members::category.eq(rec.category.as_str()),
            members::joined_at.eq(rec.joined_at),
            members::full_member_at.eq(rec.full_member_at),
            members::status.eq(rec.status.as_str()),
            members::is_flowing.eq(rec.is_flowing),
            members::lost_contact.eq(rec.lost_contact),
            members::version.eq(members::version + 1),
            members::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete(conn: &mut AsyncPgConnection, id: i64) -> Result<(), AppError> {
    diesel::delete(people::table.find(id)).execute(conn).await?;
    Ok(())
}

#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    pub org_id: Option<i64>,
    pub q: Option<String>,
    pub category: Option<Category>,
    pub status: Option<Status>,
    pub gender: Option<Gender>,
    pub joined_from: Option<NaiveDate>,
    pub joined_to: Option<NaiveDate>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

type Boxed<'a> = diesel::query_builder::BoxedSqlQuery<'a, diesel::pg::Pg, diesel::query_builder::SqlQuery>;

/// Raw SQL with numbered placeholders written as values are bound, so text and binds cannot
/// get out of step.
struct Sql<'a> {
    q: Boxed<'a>,
    n: usize,
}

impl<'a> Sql<'a> {
    fn new(head: &str) -> Self {
        Sql { q: diesel::sql_query(head).into_boxed(), n: 0 }
    }

    fn sql(self, s: &str) -> Self {
        Sql { q: self.q.sql(s), n: self.n }
    }

    fn bind<ST, V>(self, v: V) -> Self
    where
        diesel::pg::Pg: diesel::sql_types::HasSqlType<ST>,
        V: diesel::serialize::ToSql<ST, diesel::pg::Pg> + Send + 'a,
        ST: Send + 'a,
    {
        let n = self.n + 1;
        Sql { q: self.q.sql(format!("${n}")).bind::<ST, V>(v), n }
    }
}

/// Adds the WHERE clause. The same clause serves the count and the page, so the two cannot
/// disagree; every value is a bound parameter.
fn filtered<'a>(mut q: Sql<'a>, scope: &Scope, f: &ListFilter) -> Sql<'a> {
    q = q.sql(" WHERE true");
    if !scope.all {
        q = q
            .sql(" AND (m.org_id IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = ANY(")
            .bind::<Array<BigInt>, _>(scope.org_roots.clone())
            .sql(")) OR m.person_id = ")
            .bind::<BigInt, _>(scope.person_id.unwrap_or(-1))
            .sql(")");
    }
    if let Some(org) = f.org_id {
        q = q.sql(" AND m.org_id IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = ").bind::<BigInt, _>(org).sql(")");
    }
    if let Some(text) = &f.q {
        let lower = text.to_lowercase();
        if lower.chars().all(|c| c.is_ascii_alphabetic()) {
            // Pinyin: 张三 is found by "zs" (initials) or "zhangs…" (full pinyin).
            let prefix = format!("{}%", crate::orgs::queries::escape_like(&lower));
            q = q.sql(" AND (p.name_initials LIKE ").bind::<Text, _>(prefix.clone()).sql(" OR p.name_pinyin LIKE ").bind::<Text, _>(prefix).sql(")");
        } else {
            q = q.sql(" AND p.name LIKE ").bind::<Text, _>(format!("%{}%", crate::orgs::queries::escape_like(text)));
        }
    }
    if let Some(c) = f.category {
        q = q.sql(" AND m.category = ").bind::<Text, _>(c.as_str());
    }
    if let Some(s) = f.status {
        q = q.sql(" AND m.status = ").bind::<Text, _>(s.as_str());
    }
    if let Some(g) = f.gender {
        q = q.sql(" AND p.gender = ").bind::<Text, _>(g.as_str());
    }
    if let Some(d) = f.joined_from {
        q = q.sql(" AND m.joined_at >= ").bind::<Date, _>(d);
    }
    if let Some(d) = f.joined_to {
        q = q.sql(" AND m.joined_at <= ").bind::<Date, _>(d);
    }
    q
}

/// A page of members in the scope, ordered by org and then entry, with the total. The count
/// joins people only when a filter needs it; the two queries are pipelined on one connection.
pub async fn list(conn: &mut AsyncPgConnection, key: &DataKey, scope: &Scope, f: &ListFilter, offset: i64, limit: i64, today: NaiveDate) -> Result<(Vec<Member>, i64), AppError> {
    let needs_people = f.q.is_some() || f.gender.is_some();
    let count_from = if needs_people { "SELECT count(*) AS n FROM members m JOIN people p ON p.id = m.person_id" } else { "SELECT count(*) AS n FROM members m" };
    let count_q = filtered(Sql::new(count_from), scope, f).q;
    let page_q = filtered(
        Sql::new(&format!("SELECT {LIST_COLUMNS} FROM members m JOIN people p ON p.id = m.person_id JOIN orgs o ON o.id = m.org_id")),
        scope,
        f,
    )
    .sql(" ORDER BY m.org_id, m.person_id LIMIT ")
    .bind::<BigInt, _>(limit)
    .sql(" OFFSET ")
    .bind::<BigInt, _>(offset)
    .q;
    let shared: &AsyncPgConnection = conn;
    let (count, rows) = futures_util::try_join!(
        count_q.get_result::<Count>(&mut &*shared),
        page_q.load::<MemberRow>(&mut &*shared)
    )?;
    let items = rows.into_iter().map(|r| r.into_member(key, Reveal::default(), today)).collect();
    Ok((items, count.n))
}
