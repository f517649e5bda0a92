//! Many members at once, for the import and the sync, under the same rules as one at a time
//! (docs/domain.md, Members).
//!
//! - [`Matches::find`]: the people a batch names, by external id and by citizen ID number, in one
//!   query per key kind, with their membership rows (locked for a write) in one more: a handful
//!   of round trips per batch instead of a few per record.
//! - [`Writer`]: the planned records sealed (encrypted, blind-indexed, masked) and rendered for
//!   the audit log, CPU work that a caller can run on a blocking thread while the previous batch
//!   is written; then [`write`] puts a sealed batch in with set-based statements
//!   ([`queries::insert_prepared`], [`queries::update_prepared`], [`audit::record_many`]).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::id_number;
use super::queries::{self, ID_NUMBER_INDEX, MemberRow, Prepared, Reveal};
use super::rules::{MemberRecord, mask_phone, standing_years};
use super::types::Member;
use crate::audit::{self, By};
use crate::crypto::DataKey;
use crate::error::AppError;
use crate::schema::{members, orgs, people};

/// Keys per lookup statement (bound as one array).
const LOOKUP_CHUNK: usize = 10_000;

/// Bulk writers of members take this transaction-scoped lock, so that two of them (an import
/// and a sync, say) never lock the same membership rows in different orders and deadlock: an
/// import locks its rows batch by batch as it reads the file, so no global order is possible.
pub async fn serialize_bulk_writers(conn: &mut AsyncPgConnection) -> Result<(), AppError> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended('members.bulk_write', 0))").execute(conn).await?;
    Ok(())
}

/// The people already stored that a batch's keys name.
#[derive(Default)]
pub struct Matches {
    by_ext: HashMap<String, i64>,
    /// Normalized ID number → (person, the person's external id).
    by_id_number: HashMap<String, (i64, Option<String>)>,
    /// The membership rows of the people found; a person without one is not a member.
    pub stored: HashMap<i64, MemberRow>,
}

impl Matches {
    /// `id_numbers` normalized as the rules store them (upper case). With `lock`, the membership
    /// rows found are locked for update, in id order: an API edit meanwhile waits, then meets the
    /// bumped version.
    pub async fn find(conn: &mut AsyncPgConnection, key: &DataKey, ext_ids: &[String], id_numbers: &[String], lock: bool) -> Result<Matches, AppError> {
        let mut m = Matches::default();
        for chunk in ext_ids.chunks(LOOKUP_CHUNK) {
            let found: Vec<(i64, Option<String>)> =
                people::table.filter(people::external_id.eq_any(chunk)).select((people::id, people::external_id)).load(conn).await?;
            m.by_ext.extend(found.into_iter().filter_map(|(id, e)| e.map(|e| (e, id))));
        }
        for chunk in id_numbers.chunks(LOOKUP_CHUNK) {
            let by_hash: HashMap<Vec<u8>, &String> = chunk.iter().map(|n| (key.blind_index(ID_NUMBER_INDEX, n), n)).collect();
            let hashes: Vec<&Vec<u8>> = by_hash.keys().collect();
            let found: Vec<(i64, Option<Vec<u8>>, Option<String>)> = people::table
                .filter(people::id_number_hash.eq_any(hashes))
                .select((people::id, people::id_number_hash, people::external_id))
                .load(conn)
                .await?;
            for (id, hash, ext) in found {
                if let Some(n) = hash.and_then(|h| by_hash.get(&h).copied()) {
                    m.by_id_number.insert(n.clone(), (id, ext));
                }
            }
        }
        let mut ids: Vec<i64> = m.by_ext.values().chain(m.by_id_number.values().map(|(id, _)| id)).copied().collect::<HashSet<_>>().into_iter().collect();
        ids.sort_unstable();
        for chunk in ids.chunks(LOOKUP_CHUNK) {
            if lock {
                members::table
                    .filter(members::person_id.eq_any(chunk))
                    .select(members::person_id)
                    .order(members::person_id)
                    .for_update()
                    .load::<i64>(conn)
                    .await?;
            }
            m.stored.extend(queries::get_rows(conn, chunk).await?.into_iter().map(|r| (r.id, r)));
        }
        Ok(m)
    }

    pub fn by_external_id(&self, ext: &str) -> Option<i64> {
        self.by_ext.get(ext).copied()
    }

    /// The person holding this (normalized) ID number, with their external id.
    pub fn by_id_number(&self, normalized: &str) -> Option<(i64, Option<&str>)> {
        self.by_id_number.get(normalized).map(|(id, ext)| (*id, ext.as_deref()))
    }
}

/// The names of the given orgs (for the audit entries, which show the member as the API does).
pub async fn org_names(conn: &mut AsyncPgConnection, ids: &[i64]) -> Result<HashMap<i64, String>, AppError> {
    let mut names = HashMap::new();
    for chunk in ids.chunks(LOOKUP_CHUNK) {
        let rows: Vec<(i64, String)> = orgs::table.filter(orgs::id.eq_any(chunk)).select((orgs::id, orgs::name)).load(conn).await?;
        names.extend(rows);
    }
    Ok(names)
}

/// A batch sealed for writing: the record arrays and the audit entries.
pub struct Sealed {
    creates: Prepared,
    updates: Prepared,
    audit: Vec<audit::Entry>,
}

impl Sealed {
    pub fn len(&self) -> usize {
        self.creates.len() + self.updates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Seals batches of one bulk write: who caused it (an import's id goes into each audit entry)
/// and the names the audit entries show.
pub struct Writer {
    key: DataKey,
    import_id: Option<i64>,
    org_names: HashMap<i64, String>,
    today: NaiveDate,
}

impl Writer {
    pub fn new(key: DataKey, import_id: Option<i64>, org_names: HashMap<i64, String>, today: NaiveDate) -> Self {
        Writer { key, import_id, org_names, today }
    }

    /// Seals new records (`creates[i].0` is the id drawn for it by [`queries::next_person_ids`])
    /// and changed ones (with the stored row they replace, whose API form is the audit's
    /// "before"). CPU work only.
    pub fn seal(&self, creates: &[(i64, MemberRecord)], updates: Vec<(MemberRow, MemberRecord)>) -> Result<Sealed, AppError> {
        let mut audit = Vec::with_capacity(creates.len() + updates.len());
        audit.extend(creates.iter().map(|(id, rec)| (*id, None, self.audited(*id, rec, 1))));
        let create_recs: Vec<&MemberRecord> = creates.iter().map(|(_, r)| r).collect();
        let creates = Prepared::new(&self.key, creates.iter().map(|(id, _)| *id).collect(), &create_recs)?;
        let update_recs: Vec<&MemberRecord> = updates.iter().map(|(_, r)| r).collect();
        let update_ids: Vec<i64> = updates.iter().map(|(row, _)| row.id).collect();
        let prepared = Prepared::new(&self.key, update_ids, &update_recs)?;
        for (row, rec) in updates {
            let (id, version) = (row.id, row.version + 1);
            let before = serde_json::to_string(&row.into_member(&self.key, Reveal::default(), self.today)).unwrap_or_default();
            audit.push((id, Some(before), self.audited(id, &rec, version)));
        }
        Ok(Sealed { creates, updates: prepared, audit })
    }

    /// [`Writer::seal`] on a blocking thread, off the async workers.
    pub async fn seal_blocking(self: &Arc<Self>, creates: Vec<(i64, MemberRecord)>, updates: Vec<(MemberRow, MemberRecord)>) -> Result<Sealed, AppError> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.seal(&creates, updates)).await.map_err(|e| AppError::internal(format!("sealing members: {e}")))?
    }

    /// The record as the API shows it (personal data masked), with the import's id if any.
    fn audited(&self, id: i64, rec: &MemberRecord, version: i32) -> String {
        #[derive(serde::Serialize)]
        struct Audited {
            #[serde(flatten)]
            member: Member,
            #[serde(skip_serializing_if = "Option::is_none")]
            import_id: Option<i64>,
        }
        let member = Member {
            id,
            external_id: rec.external_id.clone(),
            name: rec.name.clone(),
            gender: rec.gender,
            id_number: rec.id_number.as_deref().map(id_number::mask),
            birth_date: rec.birth_date,
            ethnicity: rec.ethnicity.clone(),
            native_place: rec.native_place.clone(),
            education: rec.education.clone(),
            degree: rec.degree.clone(),
            job_category: rec.job_category.clone(),
            post: rec.post.clone(),
            title: rec.title.clone(),
            phone: rec.phone.as_deref().map(mask_phone),
            work_started_on: rec.work_started_on,
            category: rec.category,
            org_id: rec.org_id,
            org_name: self.org_names.get(&rec.org_id).cloned().unwrap_or_default(),
            joined_at: rec.joined_at,
            full_member_at: rec.full_member_at,
            status: rec.status,
            is_flowing: rec.is_flowing,
            lost_contact: rec.lost_contact,
            standing_years: standing_years(rec.full_member_at, self.today),
            version,
        };
        serde_json::to_string(&Audited { member, import_id: self.import_id }).unwrap_or_default()
    }
}

/// Writes a sealed batch and its audit entries (`action`: "import", "sync").
pub async fn write(conn: &mut AsyncPgConnection, by: By<'_>, action: &str, batch: &Sealed) -> Result<(), AppError> {
    if !batch.creates.is_empty() {
        queries::insert_prepared(conn, &batch.creates).await?;
    }
    if !batch.updates.is_empty() {
        queries::update_prepared(conn, &batch.updates).await?;
    }
    audit::record_many(conn, by, action, "member", &batch.audit).await
}
