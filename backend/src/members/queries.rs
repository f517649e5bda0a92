//! Member queries. Each takes the connection, so callers compose them inside one transaction.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::id_number;
use super::pinyin::name_keys;
use super::rules::{MemberRecord, mask_phone, standing_years};
use super::types::{Category, EthnicGroup, Gender, Member, MissingField, Status};
use crate::auth::Scope;
use crate::crypto::DataKey;
use crate::db::escape_like;
use crate::error::AppError;
use crate::schema::{members, org_closure, orgs, people};

pub const ID_NUMBER_INDEX: &str = "person.id_number";

/// What personal data a reader may see in full.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reveal {
    pub id_number: bool,
    pub phone: bool,
}

#[derive(Debug, Clone, Queryable)]
pub struct MemberRow {
    pub id: i64,
    pub external_id: Option<String>,
    pub name: String,
    pub gender: String,
    pub id_number_enc: Option<Vec<u8>>,
    pub id_number_masked: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub ethnicity: Option<String>,
    pub native_place: Option<String>,
    pub education: Option<String>,
    pub degree: Option<String>,
    pub job_category: Option<String>,
    pub post: Option<String>,
    pub title: Option<String>,
    pub phone_enc: Option<Vec<u8>>,
    pub phone_masked: Option<String>,
    pub work_started_on: Option<NaiveDate>,
    pub category: String,
    pub org_id: i64,
    pub org_name: String,
    pub joined_at: NaiveDate,
    pub full_member_at: Option<NaiveDate>,
    pub status: String,
    pub is_flowing: bool,
    pub lost_contact: bool,
    pub version: i32,
}

/// The same columns as [`MemberRow`], for the DSL queries.
macro_rules! member_columns {
    () => {
        (
            people::id,
            people::external_id,
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

impl MemberRow {
    pub fn into_member(self, key: &DataKey, reveal: Reveal, today: NaiveDate) -> Member {
        let decrypt = |blob: Option<Vec<u8>>| blob.and_then(|b| key.decrypt(&b).ok());
        let id_number = if reveal.id_number { decrypt(self.id_number_enc).or(self.id_number_masked) } else { self.id_number_masked };
        let phone = if reveal.phone { decrypt(self.phone_enc).or(self.phone_masked) } else { self.phone_masked };
        Member {
            id: self.id,
            external_id: self.external_id,
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

/// Member rows by id, in no particular order (a caller's batch).
pub async fn get_rows(conn: &mut AsyncPgConnection, ids: &[i64]) -> Result<Vec<MemberRow>, AppError> {
    Ok(members::table
        .inner_join(people::table)
        .inner_join(orgs::table)
        .filter(members::person_id.eq_any(ids))
        .select(member_columns!())
        .load::<MemberRow>(conn)
        .await?)
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
        external_id: row.external_id.clone(),
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

/// The `people` row of a record, with the personal fields sealed: ciphertext, keyed blind index
/// and mask. One struct serves insert and update, so the two cannot drift; `None` writes NULL.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = people, treat_none_as_null = true)]
struct PersonRow<'a> {
    external_id: Option<&'a str>,
    name: &'a str,
    name_initials: String,
    name_pinyin: String,
    gender: &'static str,
    id_number_enc: Option<Vec<u8>>,
    id_number_hash: Option<Vec<u8>>,
    id_number_masked: Option<String>,
    birth_date: Option<NaiveDate>,
    ethnicity: Option<&'a str>,
    native_place: Option<&'a str>,
    education: Option<&'a str>,
    degree: Option<&'a str>,
    job_category: Option<&'a str>,
    post: Option<&'a str>,
    title: Option<&'a str>,
    phone_enc: Option<Vec<u8>>,
    phone_masked: Option<String>,
    work_started_on: Option<NaiveDate>,
}

/// The `members` row of a record (the membership).
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = members, treat_none_as_null = true)]
struct MembershipRow {
    org_id: i64,
    category: &'static str,
    joined_at: NaiveDate,
    full_member_at: Option<NaiveDate>,
    status: &'static str,
    is_flowing: bool,
    lost_contact: bool,
}

fn person_row<'a>(key: &DataKey, rec: &'a MemberRecord) -> Result<PersonRow<'a>, AppError> {
    let enc = |v: &str| key.encrypt(v).map_err(|e| AppError::internal(format!("encrypting: {e}")));
    let (name_initials, name_pinyin) = name_keys(&rec.name);
    Ok(PersonRow {
        external_id: rec.external_id.as_deref(),
        name: &rec.name,
        name_initials,
        name_pinyin,
        gender: rec.gender.as_str(),
        id_number_enc: rec.id_number.as_deref().map(enc).transpose()?,
        id_number_hash: rec.id_number.as_deref().map(|v| key.blind_index(ID_NUMBER_INDEX, v)),
        id_number_masked: rec.id_number.as_deref().map(id_number::mask),
        birth_date: rec.birth_date,
        ethnicity: rec.ethnicity.as_deref(),
        native_place: rec.native_place.as_deref(),
        education: rec.education.as_deref(),
        degree: rec.degree.as_deref(),
        job_category: rec.job_category.as_deref(),
        post: rec.post.as_deref(),
        title: rec.title.as_deref(),
        phone_enc: rec.phone.as_deref().map(enc).transpose()?,
        phone_masked: rec.phone.as_deref().map(mask_phone),
        work_started_on: rec.work_started_on,
    })
}

fn membership_row(rec: &MemberRecord) -> MembershipRow {
    MembershipRow {
        org_id: rec.org_id,
        category: rec.category.as_str(),
        joined_at: rec.joined_at,
        full_member_at: rec.full_member_at,
        status: rec.status.as_str(),
        is_flowing: rec.is_flowing,
        lost_contact: rec.lost_contact,
    }
}

pub async fn insert(conn: &mut AsyncPgConnection, key: &DataKey, rec: &MemberRecord) -> Result<i64, AppError> {
    let id: i64 = diesel::insert_into(people::table).values(person_row(key, rec)?).returning(people::id).get_result(conn).await?;
    diesel::insert_into(members::table).values((members::person_id.eq(id), membership_row(rec))).execute(conn).await?;
    Ok(id)
}

/// Writes the whole record; the membership's version is the record's version.
pub async fn update(conn: &mut AsyncPgConnection, key: &DataKey, id: i64, rec: &MemberRecord) -> Result<(), AppError> {
    diesel::update(people::table.find(id))
        .set((person_row(key, rec)?, people::version.eq(people::version + 1), people::updated_at.eq(diesel::dsl::now)))
        .execute(conn)
        .await?;
    diesel::update(members::table.find(id))
        .set((membership_row(rec), members::version.eq(members::version + 1), members::updated_at.eq(diesel::dsl::now)))
        .execute(conn)
        .await?;
    Ok(())
}

/// Ids for `n` new people, drawn from the sequence in one statement (so a bulk insert knows its
/// ids, and what it audits, before it writes).
pub async fn next_person_ids(conn: &mut AsyncPgConnection, n: usize) -> Result<Vec<i64>, AppError> {
    use diesel::sql_types::{BigInt, Integer};
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    if n == 0 {
        return Ok(Vec::new());
    }
    let drawn: Vec<Id> = diesel::sql_query("SELECT nextval('people_id_seq') AS id FROM generate_series(1, $1)").bind::<Integer, _>(n as i32).load(conn).await?;
    Ok(drawn.into_iter().map(|r| r.id).collect())
}

/// Records turned into one array per column, sealed (encrypted, blind-indexed, masked) and ready
/// to bind: CPU work only, so a caller can prepare the next batch on a blocking thread while the
/// previous one is written.
pub struct Prepared {
    ids: Vec<i64>,
    people: PersonColumns,
    members: MembershipColumns,
}

impl Prepared {
    /// `ids[i]` is the person id of `recs[i]` (new ones from [`next_person_ids`]).
    pub fn new(key: &DataKey, ids: Vec<i64>, recs: &[&MemberRecord]) -> Result<Prepared, AppError> {
        let mut people = PersonColumns::default();
        for r in recs {
            people.push(person_row(key, r)?);
        }
        Ok(Prepared { ids, people, members: MembershipColumns::of(recs.iter().map(|r| membership_row(r))) })
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// Inserts prepared records in two set-based statements (`INSERT … SELECT FROM unnest($arrays)`),
/// instead of two per record; the history trigger runs once per statement.
pub async fn insert_prepared(conn: &mut AsyncPgConnection, p: &Prepared) -> Result<(), AppError> {
    p.people.insert(conn, &p.ids).await?;
    p.members.insert(conn, &p.ids).await
}

/// Writes prepared whole records over the stored ones (as [`update`] does one).
pub async fn update_prepared(conn: &mut AsyncPgConnection, p: &Prepared) -> Result<(), AppError> {
    p.people.update(conn, &p.ids).await?;
    p.members.update(conn, &p.ids).await
}

/// [`PersonRow`]s as one (owned) array per column, bound to an `unnest`.
#[derive(Default)]
struct PersonColumns {
    external_id: Vec<Option<String>>,
    name: Vec<String>,
    name_initials: Vec<String>,
    name_pinyin: Vec<String>,
    gender: Vec<&'static str>,
    id_number_enc: Vec<Option<Vec<u8>>>,
    id_number_hash: Vec<Option<Vec<u8>>>,
    id_number_masked: Vec<Option<String>>,
    birth_date: Vec<Option<NaiveDate>>,
    ethnicity: Vec<Option<String>>,
    native_place: Vec<Option<String>>,
    education: Vec<Option<String>>,
    degree: Vec<Option<String>>,
    job_category: Vec<Option<String>>,
    post: Vec<Option<String>>,
    title: Vec<Option<String>>,
    phone_enc: Vec<Option<Vec<u8>>>,
    phone_masked: Vec<Option<String>>,
    work_started_on: Vec<Option<NaiveDate>>,
}

/// The `unnest` of the people columns, in [`PersonColumns`]' bind order after the ids ($1).
const PEOPLE_UNNEST: &str = "unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bytea[], $8::bytea[], \
    $9::text[], $10::date[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::bytea[], \
    $19::text[], $20::date[]) AS u(id, external_id, name, name_initials, name_pinyin, gender, id_number_enc, id_number_hash, \
    id_number_masked, birth_date, ethnicity, native_place, education, degree, job_category, post, title, phone_enc, phone_masked, \
    work_started_on)";

macro_rules! bind_person_columns {
    ($q:expr, $c:expr, $ids:expr) => {{
        use diesel::sql_types::{Array, BigInt, Bytea, Date, Nullable, Text};
        $q.bind::<Array<BigInt>, _>($ids)
            .bind::<Array<Nullable<Text>>, _>(&$c.external_id)
            .bind::<Array<Text>, _>(&$c.name)
            .bind::<Array<Text>, _>(&$c.name_initials)
            .bind::<Array<Text>, _>(&$c.name_pinyin)
            .bind::<Array<Text>, _>(&$c.gender)
            .bind::<Array<Nullable<Bytea>>, _>(&$c.id_number_enc)
            .bind::<Array<Nullable<Bytea>>, _>(&$c.id_number_hash)
            .bind::<Array<Nullable<Text>>, _>(&$c.id_number_masked)
            .bind::<Array<Nullable<Date>>, _>(&$c.birth_date)
            .bind::<Array<Nullable<Text>>, _>(&$c.ethnicity)
            .bind::<Array<Nullable<Text>>, _>(&$c.native_place)
            .bind::<Array<Nullable<Text>>, _>(&$c.education)
            .bind::<Array<Nullable<Text>>, _>(&$c.degree)
            .bind::<Array<Nullable<Text>>, _>(&$c.job_category)
            .bind::<Array<Nullable<Text>>, _>(&$c.post)
            .bind::<Array<Nullable<Text>>, _>(&$c.title)
            .bind::<Array<Nullable<Bytea>>, _>(&$c.phone_enc)
            .bind::<Array<Nullable<Text>>, _>(&$c.phone_masked)
            .bind::<Array<Nullable<Date>>, _>(&$c.work_started_on)
    }};
}

impl PersonColumns {
    fn push(&mut self, r: PersonRow<'_>) {
        let owned = |v: Option<&str>| v.map(str::to_string);
        self.external_id.push(owned(r.external_id));
        self.name.push(r.name.to_string());
        self.name_initials.push(r.name_initials);
        self.name_pinyin.push(r.name_pinyin);
        self.gender.push(r.gender);
        self.id_number_enc.push(r.id_number_enc);
        self.id_number_hash.push(r.id_number_hash);
        self.id_number_masked.push(r.id_number_masked);
        self.birth_date.push(r.birth_date);
        self.ethnicity.push(owned(r.ethnicity));
        self.native_place.push(owned(r.native_place));
        self.education.push(owned(r.education));
        self.degree.push(owned(r.degree));
        self.job_category.push(owned(r.job_category));
        self.post.push(owned(r.post));
        self.title.push(owned(r.title));
        self.phone_enc.push(r.phone_enc);
        self.phone_masked.push(r.phone_masked);
        self.work_started_on.push(r.work_started_on);
    }

    async fn insert(&self, conn: &mut AsyncPgConnection, ids: &[i64]) -> Result<(), AppError> {
        let sql = format!(
            "INSERT INTO people (id, external_id, name, name_initials, name_pinyin, gender, id_number_enc, id_number_hash, id_number_masked, \
             birth_date, ethnicity, native_place, education, degree, job_category, post, title, phone_enc, phone_masked, work_started_on) \
             SELECT * FROM {PEOPLE_UNNEST}"
        );
        bind_person_columns!(diesel::sql_query(sql), self, ids).execute(conn).await?;
        Ok(())
    }

    async fn update(&self, conn: &mut AsyncPgConnection, ids: &[i64]) -> Result<(), AppError> {
        let sql = format!(
            "UPDATE people p SET external_id = u.external_id, name = u.name, name_initials = u.name_initials, name_pinyin = u.name_pinyin, \
             gender = u.gender, id_number_enc = u.id_number_enc, id_number_hash = u.id_number_hash, id_number_masked = u.id_number_masked, \
             birth_date = u.birth_date, ethnicity = u.ethnicity, native_place = u.native_place, education = u.education, degree = u.degree, \
             job_category = u.job_category, post = u.post, title = u.title, phone_enc = u.phone_enc, phone_masked = u.phone_masked, \
             work_started_on = u.work_started_on, version = p.version + 1, updated_at = now() \
             FROM {PEOPLE_UNNEST} WHERE p.id = u.id"
        );
        bind_person_columns!(diesel::sql_query(sql), self, ids).execute(conn).await?;
        Ok(())
    }
}

/// [`MembershipRow`]s as one array per column.
#[derive(Default)]
struct MembershipColumns {
    org_id: Vec<i64>,
    category: Vec<&'static str>,
    joined_at: Vec<NaiveDate>,
    full_member_at: Vec<Option<NaiveDate>>,
    status: Vec<&'static str>,
    is_flowing: Vec<bool>,
    lost_contact: Vec<bool>,
}

const MEMBERS_UNNEST: &str = "unnest($1::bigint[], $2::bigint[], $3::text[], $4::date[], $5::date[], $6::text[], $7::bool[], $8::bool[]) \
    AS u(person_id, org_id, category, joined_at, full_member_at, status, is_flowing, lost_contact)";

macro_rules! bind_membership_columns {
    ($q:expr, $c:expr, $ids:expr) => {{
        use diesel::sql_types::{Array, BigInt, Bool, Date, Nullable, Text};
        $q.bind::<Array<BigInt>, _>($ids)
            .bind::<Array<BigInt>, _>(&$c.org_id)
            .bind::<Array<Text>, _>(&$c.category)
            .bind::<Array<Date>, _>(&$c.joined_at)
            .bind::<Array<Nullable<Date>>, _>(&$c.full_member_at)
            .bind::<Array<Text>, _>(&$c.status)
            .bind::<Array<Bool>, _>(&$c.is_flowing)
            .bind::<Array<Bool>, _>(&$c.lost_contact)
    }};
}

impl MembershipColumns {
    fn of(rows: impl Iterator<Item = MembershipRow>) -> Self {
        let mut c = MembershipColumns::default();
        for r in rows {
            c.org_id.push(r.org_id);
            c.category.push(r.category);
            c.joined_at.push(r.joined_at);
            c.full_member_at.push(r.full_member_at);
            c.status.push(r.status);
            c.is_flowing.push(r.is_flowing);
            c.lost_contact.push(r.lost_contact);
        }
        c
    }

    async fn insert(&self, conn: &mut AsyncPgConnection, ids: &[i64]) -> Result<(), AppError> {
        let sql = format!(
            "INSERT INTO members (person_id, org_id, category, joined_at, full_member_at, status, is_flowing, lost_contact) SELECT * FROM {MEMBERS_UNNEST}"
        );
        bind_membership_columns!(diesel::sql_query(sql), self, ids).execute(conn).await?;
        Ok(())
    }

    async fn update(&self, conn: &mut AsyncPgConnection, ids: &[i64]) -> Result<(), AppError> {
        let sql = format!(
            "UPDATE members m SET org_id = u.org_id, category = u.category, joined_at = u.joined_at, full_member_at = u.full_member_at, \
             status = u.status, is_flowing = u.is_flowing, lost_contact = u.lost_contact, version = m.version + 1, updated_at = now() \
             FROM {MEMBERS_UNNEST} WHERE m.person_id = u.person_id"
        );
        bind_membership_columns!(diesel::sql_query(sql), self, ids).execute(conn).await?;
        Ok(())
    }
}

pub async fn delete(conn: &mut AsyncPgConnection, id: i64) -> Result<(), AppError> {
    diesel::delete(people::table.find(id)).execute(conn).await?;
    Ok(())
}

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct ListFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<Gender>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub joined_from: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub joined_to: Option<NaiveDate>,
    /// An ethnicity's name, as stored (汉族).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ethnicity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ethnic_group: Option<EthnicGroup>,
    /// An education's name, as stored (大学本科).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub education: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub born_from: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub born_to: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_from: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_to: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<MissingField>,
}

impl ListFilter {
    /// Any filter on the person's record (answered by a semi-join on `people`)?
    fn on_person(&self) -> bool {
        self.q.is_some()
            || self.gender.is_some()
            || self.ethnicity.is_some()
            || self.ethnic_group.is_some()
            || self.education.is_some()
            || self.job_category.is_some()
            || self.born_from.is_some()
            || self.born_to.is_some()
            || self.missing.is_some()
    }
}

/// Applies the list filters to a boxed query over `members` (alone or joined), so that the count
/// and the page use one definition. Person filters are semi-joins, so the count never has to
/// join `people` for rows it only counts.
macro_rules! filter_members {
    ($q:expr, $visible:expr, $f:expr) => {{
        let mut q = $q;
        match $visible {
            Visible::All => {}
            Visible::Subtree(org) => {
                q = q.filter(members::org_id.eq_any(org_closure::table.filter(org_closure::ancestor_id.eq(*org)).select(org_closure::descendant_id)));
            }
            Visible::Subtrees(roots) => {
                q = q.filter(
                    members::org_id.eq_any(org_closure::table.filter(org_closure::ancestor_id.eq_any(roots.clone())).select(org_closure::descendant_id)),
                );
            }
            Visible::SubtreesOrPerson(roots, person) => {
                q = q.filter(
                    members::org_id
                        .eq_any(org_closure::table.filter(org_closure::ancestor_id.eq_any(roots.clone())).select(org_closure::descendant_id))
                        .or(members::person_id.eq(*person)),
                );
            }
            Visible::Person(person) => q = q.filter(members::person_id.eq(*person)),
        }
        if let Some(c) = $f.category {
            q = q.filter(members::category.eq(c.as_str()));
        }
        if let Some(s) = $f.status {
            q = q.filter(members::status.eq(s.as_str()));
        }
        if let Some(d) = $f.joined_from {
            q = q.filter(members::joined_at.ge(d));
        }
        if let Some(d) = $f.joined_to {
            q = q.filter(members::joined_at.le(d));
        }
        if let Some(d) = $f.full_from {
            q = q.filter(members::full_member_at.ge(d));
        }
        if let Some(d) = $f.full_to {
            q = q.filter(members::full_member_at.le(d));
        }
        if $f.on_person() {
            let mut pq = people::table.select(people::id).into_boxed();
            if let Some(g) = $f.gender {
                pq = pq.filter(people::gender.eq(g.as_str()));
            }
            if let Some(e) = &$f.ethnicity {
                pq = pq.filter(people::ethnicity.eq(e.clone()));
            }
            match $f.ethnic_group {
                Some(EthnicGroup::Han) => pq = pq.filter(people::ethnicity.eq(EthnicGroup::HAN)),
                // An unrecorded ethnicity is neither: `<>` is not true for NULL.
                Some(EthnicGroup::Minority) => pq = pq.filter(people::ethnicity.ne(EthnicGroup::HAN)),
                None => {}
            }
            if let Some(e) = &$f.education {
                pq = pq.filter(people::education.eq(e.clone()));
            }
            if let Some(j) = &$f.job_category {
                pq = pq.filter(people::job_category.eq(j.clone()));
            }
            if let Some(d) = $f.born_from {
                pq = pq.filter(people::birth_date.ge(d));
            }
            if let Some(d) = $f.born_to {
                pq = pq.filter(people::birth_date.le(d));
            }
            match $f.missing {
                Some(MissingField::IdNumber) => pq = pq.filter(people::id_number_enc.is_null()),
                Some(MissingField::BirthDate) => pq = pq.filter(people::birth_date.is_null()),
                Some(MissingField::Ethnicity) => pq = pq.filter(people::ethnicity.is_null()),
                Some(MissingField::Education) => pq = pq.filter(people::education.is_null()),
                Some(MissingField::JobCategory) => pq = pq.filter(people::job_category.is_null()),
                Some(MissingField::Phone) => pq = pq.filter(people::phone_enc.is_null()),
                None => {}
            }
            if let Some(text) = &$f.q {
                let lower = text.to_lowercase();
                if lower.chars().all(|c| c.is_ascii_alphabetic()) {
                    // Pinyin: 张三 is found by "zs" (initials) or "zhangs…" (full pinyin).
                    let prefix = format!("{}%", escape_like(&lower));
                    pq = pq.filter(people::name_initials.like(prefix.clone()).or(people::name_pinyin.like(prefix)));
                } else {
                    pq = pq.filter(people::name.like(format!("%{}%", escape_like(text))));
                }
            }
            q = q.filter(members::person_id.eq_any(pq));
        }
        q
    }};
}

/// Which members a list may show, after the requested org has been checked against the scope.
enum Visible {
    All,
    /// The requested org's subtree (already known to lie in the scope).
    Subtree(i64),
    Subtrees(Vec<i64>),
    SubtreesOrPerson(Vec<i64>, i64),
    Person(i64),
}

/// Which members the scope shows for a filter, and the (roots, org) check still due when the
/// filter names an org; `None`: nothing at all.
#[allow(clippy::type_complexity)]
fn visible(scope: &Scope, f: &ListFilter) -> Option<(Visible, Option<(Vec<i64>, i64)>)> {
    Some(match (f.org_id, scope) {
        (Some(org), s) if s.all => (Visible::Subtree(org), None),
        (Some(org), s) => (Visible::Subtree(org), Some((s.org_roots.clone(), org))),
        (None, s) if s.all => (Visible::All, None),
        (None, s) => match (s.org_roots.is_empty(), s.person_id) {
            (false, None) => (Visible::Subtrees(s.org_roots.clone()), None),
            (false, Some(p)) => (Visible::SubtreesOrPerson(s.org_roots.clone(), p), None),
            (true, Some(p)) => (Visible::Person(p), None),
            (true, None) => return None,
        },
    })
}

/// The members of a filter, read in the list's order (org, then person) page after page by
/// keyset, for an export: each page is one indexed range scan, however far into the list.
pub struct Selection {
    visible: Option<Visible>,
    filter: ListFilter,
}

impl Selection {
    /// Checks the filter's org against the scope (out_of_scope) once, up front.
    pub async fn new(conn: &mut AsyncPgConnection, scope: &Scope, filter: ListFilter) -> Result<Selection, AppError> {
        let Some((visible, check)) = visible(scope, &filter) else { return Ok(Selection { visible: None, filter }) };
        if let Some((roots, org)) = check
            && !crate::orgs::queries::within(conn, &roots, org, 0).await?
        {
            return Err(AppError::out_of_scope());
        }
        Ok(Selection { visible: Some(visible), filter })
    }

    pub fn filter(&self) -> &ListFilter {
        &self.filter
    }

    /// Up to `limit` rows after `after` (the last row's (org_id, person_id)).
    pub async fn page_after(&self, conn: &mut AsyncPgConnection, after: Option<(i64, i64)>, limit: i64) -> Result<Vec<MemberRow>, AppError> {
        use diesel::sql_types::{BigInt, Bool};
        let Some(visible) = &self.visible else { return Ok(Vec::new()) };
        let mut q = filter_members!(members::table.inner_join(people::table).inner_join(orgs::table).into_boxed(), visible, &self.filter);
        if let Some((org, person)) = after {
            // A row comparison, so PostgreSQL reads members_org_idx (org_id, person_id) from there.
            q = q.filter(
                diesel::dsl::sql::<Bool>("(members.org_id, members.person_id) > (").bind::<BigInt, _>(org).sql(", ").bind::<BigInt, _>(person).sql(")"),
            );
        }
        Ok(q.select(member_columns!()).order((members::org_id.asc(), members::person_id.asc())).limit(limit).load::<MemberRow>(conn).await?)
    }
}

/// A page of members in the scope, ordered by org and then entry, with the total.
///
/// One round trip: the scope check of the requested org, the count and the page (its 50 ids
/// chosen in a subquery, so only those rows are joined to people and orgs) are pipelined on one
/// connection, all prepared and cached per connection. `f.org_id` outside the scope answers
/// out_of_scope (the other two results are then discarded).
pub async fn list(
    conn: &mut AsyncPgConnection,
    key: &DataKey,
    scope: &Scope,
    f: &ListFilter,
    offset: i64,
    limit: i64,
    today: NaiveDate,
) -> Result<(Vec<Member>, i64), AppError> {
    let Some((visible, check)) = visible(scope, f) else { return Ok((Vec::new(), 0)) };
    let check_q = check.map(|(roots, org)| {
        diesel::dsl::select(diesel::dsl::exists(
            org_closure::table.filter(org_closure::ancestor_id.eq_any(roots)).filter(org_closure::descendant_id.eq(org)).filter(org_closure::depth.ge(0)),
        ))
    });
    let count_q = filter_members!(members::table.into_boxed(), &visible, f).count();
    let page_ids = filter_members!(members::table.into_boxed(), &visible, f)
        .select(members::person_id)
        .order((members::org_id.asc(), members::person_id.asc()))
        .offset(offset)
        .limit(limit);
    let page_q = members::table
        .inner_join(people::table)
        .inner_join(orgs::table)
        .filter(members::person_id.eq_any(page_ids))
        .select(member_columns!())
        .order((members::org_id.asc(), members::person_id.asc()));
    let shared: &AsyncPgConnection = conn;
    let in_scope = async {
        match check_q {
            Some(q) => q.get_result::<bool>(&mut &*shared).await,
            None => Ok(true),
        }
    };
    let (in_scope, total, rows) = futures_util::try_join!(in_scope, count_q.get_result::<i64>(&mut &*shared), page_q.load::<MemberRow>(&mut &*shared))?;
    if !in_scope {
        return Err(AppError::out_of_scope());
    }
    Ok((rows.into_iter().map(|r| r.into_member(key, Reveal::default(), today)).collect(), total))
}
