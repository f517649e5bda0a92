//! Synthetic data at any size (`dangjian gen`), for benchmarks: an org tree of `--orgs` nodes and
//! `--members` members that look like the demo's (same name, origin and record generators), plus
//! the logins `bench_committee` and `bench_admin` (password [`BENCH_PASSWORD`]).
//!
//! Speed comes from `COPY … FROM STDIN` on one tokio-postgres connection, with rows produced on a
//! blocking thread and streamed in chunks, so memory stays flat whatever the size. Everything runs
//! in one transaction: a failure leaves the database as it was. Inside it, the secondary indexes
//! of the member tables are dropped and rebuilt after the load (one sort beats a million random
//! index inserts), and the history trigger is replaced by one `INSERT … SELECT`; both come back
//! before the commit, so no other session can ever see them missing.
//!
//! Each person's record is drawn from a generator seeded by (seed, person number), so the members
//! pass can redraw a person's admission without keeping the people pass's rows in memory.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::time::Instant;

use chrono::{Duration, NaiveDate};
use futures_util::SinkExt;
use rand::rngs::{SmallRng, StdRng};
use rand::{Rng, SeedableRng};
use tokio::sync::mpsc;
use tokio_postgres::{Client, NoTls};

use crate::crypto::DataKey;
use crate::demo::{self, Drawn, PLACES, Profile};
use crate::members::id_number;
use crate::members::queries::ID_NUMBER_INDEX;
use crate::members::rules::mask_phone;
use crate::members::types::{Category, Gender};

pub const BENCH_PASSWORD: &str = "Bench-2026";

pub struct Size {
    pub members: u64,
    pub orgs: u64,
    pub seed: u64,
    /// Years of meetings, officers and attendance (none when `years` is 0): [`meetings`].
    pub meetings: MeetingSize,
}

mod meetings;
pub use meetings::MeetingSize;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Rows per chunk handed to COPY: big enough to amortize the channel, small enough to stream.
const CHUNK_BYTES: usize = 256 * 1024;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Committee,
    GeneralBranch,
    Branch,
    Group,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Committee => "committee",
            Kind::GeneralBranch => "general_branch",
            Kind::Branch => "branch",
            Kind::Group => "group",
        }
    }
}

struct PlanOrg {
    /// Index of the parent in the plan; the plan lists parents before children.
    parent: Option<usize>,
    kind: Kind,
    name: String,
    /// The second-level committee this org belongs to (its own index for a committee).
    committee: usize,
    profile: Profile,
    female: f64,
    members: u64,
    founded: NaiveDate,
    term: Option<(NaiveDate, NaiveDate)>,
}

/// Who a branch's members are, with the share of women among them. Weights follow the party's
/// make-up (农牧渔民, retirees and professionals are the large groups).
const BRANCH_PROFILES: &[(Profile, u32, f64)] = &[
    (Profile::Farmer, 25, 0.22),
    (Profile::Retired, 20, 0.25),
    (Profile::Faculty, 14, 0.45),
    (Profile::Worker, 10, 0.25),
    (Profile::Staff, 10, 0.40),
    (Profile::Official, 9, 0.35),
    (Profile::Graduate, 2, 0.50),
    (Profile::Undergraduate, 2, 0.55),
];

fn probationary_share(p: Profile) -> f64 {
    match p {
        Profile::Undergraduate => 0.25,
        Profile::Graduate => 0.10,
        Profile::Retired => 0.0,
        _ => 0.02,
    }
}

fn normal(rng: &mut impl Rng) -> f64 {
    // Box-Muller: enough for shaping sizes, no extra dependency.
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Splits `total` in proportion to `weights` exactly (largest parts take the remainder).
fn apportion(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    if weights.is_empty() || sum <= 0.0 {
        return vec![0; weights.len()];
    }
    let mut parts: Vec<u64> = weights.iter().map(|w| (total as f64 * w / sum).floor() as u64).collect();
    let mut rest = total.saturating_sub(parts.iter().sum());
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|a, b| weights[*b].total_cmp(&weights[*a]));
    for i in order.iter().cycle() {
        if rest == 0 {
            break;
        }
        parts[*i] += 1;
        rest -= 1;
    }
    parts
}

fn term(rng: &mut impl Rng, years: i64, today: NaiveDate) -> (NaiveDate, NaiveDate) {
    // Started within the last four years for a three-year term: about a quarter are overdue.
    let start = today - Duration::days(rng.random_range(30..(years + 1) * 365));
    (start, start + Duration::days(years * 365))
}

fn founded(rng: &mut impl Rng) -> NaiveDate {
    NaiveDate::from_ymd_opt(rng.random_range(1950..=2022), rng.random_range(1..=12), rng.random_range(1..=28)).unwrap_or(NaiveDate::MIN)
}

/// The org tree: 1 root committee, up to 60 second-level committees of very different sizes
/// (log-uniform, 1 : 80), and under each about 4% general branches, 42% branches, the rest
/// party groups; members spread over branches log-normally (a few to a few hundred each).
fn plan(size: &Size, rng: &mut StdRng, today: NaiveDate) -> Result<Vec<PlanOrg>, BoxError> {
    if size.orgs < 3 {
        return Err("--orgs must be at least 3 (a root committee, a committee and a branch)".into());
    }
    let mut orgs: Vec<PlanOrg> = Vec::with_capacity(size.orgs as usize);
    orgs.push(PlanOrg {
        parent: None,
        kind: Kind::Committee,
        name: "合成数据党委".into(),
        committee: 0,
        profile: Profile::Staff,
        female: 0.3,
        members: 0,
        founded: founded(rng),
        term: Some(term(rng, 5, today)),
    });
    let n_committees = ((size.orgs as f64 / 1000.0).round() as u64).clamp(1, 60).min((size.orgs - 1) / 2) as usize;
    let mut weights: Vec<f64> =
        (0..n_committees).map(|k| if n_committees == 1 { 1.0 } else { (-2.2 + 4.4 * k as f64 / (n_committees - 1) as f64).exp() }).collect();
    for i in (1..weights.len()).rev() {
        weights.swap(i, rng.random_range(0..=i));
    }
    let rest = size.orgs - 1 - n_committees as u64;
    // Every committee gets at least one branch, then the rest in proportion.
    let shares: Vec<u64> = apportion(rest - n_committees as u64, &weights).into_iter().map(|s| s + 1).collect();
    let committees: Vec<usize> = (0..n_committees)
        .map(|k| {
            orgs.push(PlanOrg {
                parent: Some(0),
                kind: Kind::Committee,
                name: format!("第{}基层党委", k + 1),
                committee: k + 1,
                profile: Profile::Staff,
                female: 0.3,
                members: 0,
                founded: founded(rng),
                term: Some(term(rng, 5, today)),
            });
            orgs.len() - 1
        })
        .collect();
    let mut branches: Vec<usize> = Vec::new();
    for (k, (&committee, &share)) in committees.iter().zip(&shares).enumerate() {
        let n_general = if share >= 20 { (share as f64 * 0.04).round() as u64 } else { 0 };
        let n_branch = (((share - n_general) as f64 * 0.44).round() as u64).max(1);
        let n_group = share - n_general - n_branch;
        let first_general = orgs.len();
        for j in 0..n_general {
            orgs.push(PlanOrg {
                parent: Some(committee),
                kind: Kind::GeneralBranch,
                name: format!("第{}基层党委第{}党总支", k + 1, j + 1),
                committee,
                profile: Profile::Staff,
                female: 0.3,
                members: 0,
                founded: founded(rng),
                term: Some(term(rng, 3, today)),
            });
        }
        let first_branch = orgs.len();
        for j in 0..n_branch {
            let parent = if n_general > 0 && rng.random_bool(0.6) { first_general + rng.random_range(0..n_general as usize) } else { committee };
            let (profile, _, female) = BRANCH_PROFILES[{
                let total: u32 = BRANCH_PROFILES.iter().map(|p| p.1).sum();
                let mut n = rng.random_range(0..total);
                BRANCH_PROFILES
                    .iter()
                    .position(|p| {
                        if n < p.1 {
                            true
                        } else {
                            n -= p.1;
                            false
                        }
                    })
                    .unwrap_or(0)
            }];
            orgs.push(PlanOrg {
                parent: Some(parent),
                kind: Kind::Branch,
                name: format!("第{}基层党委第{}党支部", k + 1, j + 1),
                committee,
                profile,
                female,
                members: 0,
                founded: founded(rng),
                term: Some(term(rng, 3, today)),
            });
            branches.push(orgs.len() - 1);
        }
        let mut per_branch = vec![0u32; n_branch as usize];
        for _ in 0..n_group {
            let b = rng.random_range(0..n_branch as usize);
            per_branch[b] += 1;
            let parent = first_branch + b;
            let (profile, female, founded) = (orgs[parent].profile, orgs[parent].female, orgs[parent].founded);
            orgs.push(PlanOrg {
                parent: Some(parent),
                kind: Kind::Group,
                name: format!("第{}党小组", per_branch[b]),
                committee,
                profile,
                female,
                members: 0,
                founded,
                term: None,
            });
        }
    }
    // Members per branch (log-normal), then within a branch: its committee in the branch itself,
    // the others spread over its groups.
    let weights: Vec<f64> = branches.iter().map(|_| (0.9 * normal(rng)).exp().max(0.12)).collect();
    let per_branch = apportion(size.members, &weights);
    let mut groups_of: Vec<Vec<usize>> = vec![Vec::new(); orgs.len()];
    for (i, o) in orgs.iter().enumerate() {
        if let (Kind::Group, Some(p)) = (o.kind, o.parent) {
            groups_of[p].push(i);
        }
    }
    for (&b, &n) in branches.iter().zip(&per_branch) {
        let groups = &groups_of[b];
        if groups.is_empty() {
            orgs[b].members = n;
            continue;
        }
        let own = n.min((n / 10).max(3));
        orgs[b].members = own;
        for (j, &g) in groups.iter().enumerate() {
            let g_count = groups.len() as u64;
            orgs[g].members = (n - own) / g_count + u64::from((j as u64) < (n - own) % g_count);
        }
    }
    Ok(orgs)
}

/// One person's generator: seeded by the person's number, so both passes draw the same person.
fn person_rng(seed: u64, i: u64) -> SmallRng {
    SmallRng::seed_from_u64(seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// The admission part of a person and the membership flags, drawn first from the person's
/// generator; the people pass goes on drawing the details from the same generator.
fn core_of(rng: &mut SmallRng, o: &PlanOrg, today: NaiveDate) -> (Drawn, bool, bool) {
    let core = demo::draw_core(rng, o.profile, o.female, probationary_share(o.profile), today);
    let flag: f64 = rng.random();
    (core, flag < 0.02, (0.02..0.023).contains(&flag))
}

/// Unique ID numbers without remembering them: a sequence code per (birthplace, birth date,
/// gender), moving on to the next birthplace when one runs out of its 500 codes.
struct IdSeqs {
    epoch: NaiveDate,
    days: usize,
    next: Vec<u16>,
}

impl IdSeqs {
    fn new(today: NaiveDate) -> Self {
        Self::starting_at(today, 0)
    }

    /// Sequences that start at `first` in each cell: a roster drawn with `first` = 250 never
    /// repeats an ID number of `dangjian gen` (which would need 250 births on one day and place).
    fn starting_at(today: NaiveDate, first: u16) -> Self {
        let epoch = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
        let days = (today - epoch).num_days().max(1) as usize + 1;
        IdSeqs { epoch, days, next: vec![first; PLACES.len() * days * 2] }
    }

    fn take(&mut self, region: &str, birth: NaiveDate, male: bool) -> Result<String, BoxError> {
        let start = PLACES.iter().position(|p| p.0 == region).unwrap_or(0);
        let day = (birth - self.epoch).num_days().clamp(0, self.days as i64 - 1) as usize;
        for step in 0..PLACES.len() {
            let r = (start + step) % PLACES.len();
            let slot = (r * self.days + day) * 2 + usize::from(male);
            if self.next[slot] < 500 {
                // Start each cell at its own offset so sequence codes look spread, not all 00x.
                let seq = ((slot.wrapping_mul(2_654_435_761) % 500) as u16 + self.next[slot]) % 500;
                self.next[slot] += 1;
                return Ok(id_number::generate(PLACES[r].0, birth, male, seq)?);
            }
        }
        Err(format!("no ID number left for births on {birth}").into())
    }
}

fn push_hex(buf: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // COPY text format: the backslash of bytea's \x must itself be escaped.
    buf.extend_from_slice(b"\\\\x");
    for b in bytes {
        buf.push(HEX[usize::from(b >> 4)]);
        buf.push(HEX[usize::from(b & 15)]);
    }
}

fn push_opt(buf: &mut Vec<u8>, v: Option<&str>) {
    match v {
        Some(s) => buf.extend_from_slice(s.as_bytes()),
        None => buf.extend_from_slice(b"\\N"),
    }
}

fn push_date(buf: &mut Vec<u8>, d: Option<NaiveDate>) {
    match d {
        Some(d) => {
            let _ = write!(Line(buf), "{d}");
        }
        None => buf.extend_from_slice(b"\\N"),
    }
}

/// Streams rows from a producer on a blocking thread into `COPY … FROM STDIN`, printing progress
/// to stderr about once a second. The producer gets a `send(chunk, rows so far)` callback that
/// returns false once the consumer has gone (after an error on the database side).
async fn copy_stream<F>(client: &Client, sql: &str, label: &str, total: u64, produce: F) -> Result<u64, BoxError>
where
    F: FnOnce(&mut dyn FnMut(Vec<u8>, u64) -> bool) -> Result<(), BoxError> + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel::<(Vec<u8>, u64)>(8);
    let producer = tokio::task::spawn_blocking(move || {
        let mut send = |chunk: Vec<u8>, rows: u64| tx.blocking_send((chunk, rows)).is_ok();
        produce(&mut send)
    });
    let sink = client.copy_in::<_, VecDeque<u8>>(sql).await?;
    let mut sink = std::pin::pin!(sink);
    let started = Instant::now();
    let mut last = Instant::now();
    let mut done = 0;
    while let Some((chunk, rows)) = rx.recv().await {
        sink.send(VecDeque::from(chunk)).await?;
        done = rows;
        if last.elapsed().as_secs_f64() >= 1.0 {
            last = Instant::now();
            let rate = done as f64 / started.elapsed().as_secs_f64();
            eprintln!("  {label:<8} {done:>10} / {total} rows  {rate:>9.0} rows/s");
        }
    }
    producer.await??;
    let n = sink.as_mut().finish().await?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!("  {label:<8} {n:>10} rows in {secs:.1} s ({:.0} rows/s)", n as f64 / secs.max(0.001));
    if n != done {
        return Err(format!("{label}: produced {done} rows but COPY stored {n}").into());
    }
    Ok(n)
}

/// Collects rows into chunks and hands them to `send`.
struct Chunker<'a> {
    buf: Vec<u8>,
    rows: u64,
    send: &'a mut dyn FnMut(Vec<u8>, u64) -> bool,
}

impl<'a> Chunker<'a> {
    fn new(send: &'a mut dyn FnMut(Vec<u8>, u64) -> bool) -> Self {
        Chunker { buf: Vec::with_capacity(CHUNK_BYTES + 4096), rows: 0, send }
    }

    /// Call after each row; false when the consumer has stopped.
    fn row_done(&mut self) -> bool {
        self.rows += 1;
        if self.buf.len() >= CHUNK_BYTES {
            let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK_BYTES + 4096));
            return (self.send)(chunk, self.rows);
        }
        true
    }

    fn finish(mut self) -> Result<(), BoxError> {
        if !self.buf.is_empty() {
            let chunk = std::mem::take(&mut self.buf);
            if !(self.send)(chunk, self.rows) {
                return Err("the database side of COPY stopped".into());
            }
        }
        Ok(())
    }
}

async fn scalar_i64(client: &Client, sql: &str) -> Result<i64, BoxError> {
    Ok(client.query_one(sql, &[]).await?.get(0))
}

pub async fn run(url: &str, key: &DataKey, size: Size, today: NaiveDate) -> Result<(), BoxError> {
    let all = Instant::now();
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    let conn_task = tokio::spawn(connection);

    let migrated: Option<String> = client.query_one("SELECT to_regclass('members')::text", &[]).await?.get(0);
    if migrated.is_none() {
        return Err("the database has no members table: run `dangjian migrate` first".into());
    }
    if client.query_one("SELECT EXISTS (SELECT 1 FROM members)", &[]).await?.get::<_, bool>(0) {
        return Err("the database already holds members: `dangjian gen` fills an empty database only (create a new one, or drop this one)".into());
    }

    let mut rng = StdRng::seed_from_u64(size.seed);
    let orgs = plan(&size, &mut rng, today)?;
    let hash = crate::auth::password::hash(BENCH_PASSWORD.to_string()).await.map_err(|e| e.to_string())?;
    eprintln!("dangjian gen: {} orgs, {} members (seed {})", orgs.len(), size.members, size.seed);

    // One transaction, begun by hand because COPY needs the `Client` API; if anything fails, the
    // dropped connection rolls it all back.
    let tx = &client;
    tx.batch_execute("BEGIN; SET LOCAL maintenance_work_mem = '512MB'; LOCK TABLE orgs, people, members IN EXCLUSIVE MODE").await?;
    let org_base = scalar_i64(tx, "SELECT coalesce(max(id), 0) FROM orgs").await?;
    let person_base = scalar_i64(tx, "SELECT coalesce(max(id), 0) FROM people").await?;
    let orgs = std::sync::Arc::new(orgs);

    // Orgs in plan order (parents first), so the closure trigger finds each parent's ancestors.
    let plan_orgs = orgs.clone();
    let n_orgs = orgs.len() as u64;
    copy_stream(tx, "COPY orgs (id, code, name, kind, parent_id, founded_on, term_start, term_end) FROM STDIN", "orgs", n_orgs, move |send| {
        let mut out = Chunker::new(send);
        for (i, o) in plan_orgs.iter().enumerate() {
            let id = org_base + 1 + i as i64;
            let parent = o.parent.map(|p| (org_base + 1 + p as i64).to_string());
            let _ = write!(Line(&mut out.buf), "{id}\tG{i:06}\t{}\t{}\t", o.name, o.kind.as_str());
            push_opt(&mut out.buf, parent.as_deref());
            out.buf.push(b'\t');
            push_date(&mut out.buf, Some(o.founded));
            out.buf.push(b'\t');
            push_date(&mut out.buf, o.term.map(|t| t.0));
            out.buf.push(b'\t');
            push_date(&mut out.buf, o.term.map(|t| t.1));
            out.buf.push(b'\n');
            if !out.row_done() {
                return Ok(());
            }
        }
        out.finish()
    })
    .await?;
    tx.batch_execute("SELECT setval(pg_get_serial_sequence('orgs', 'id'), (SELECT max(id) FROM orgs))").await?;

    // Secondary indexes go while loading and are rebuilt from their own definitions afterwards.
    let t = Instant::now();
    let indexes: Vec<(String, String)> = tx
        .query(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i
              WHERE i.schemaname = current_schema() AND i.tablename IN ('people', 'members', 'member_history')
                AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.connamespace = to_regnamespace(current_schema()))",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    for (name, _) in &indexes {
        tx.batch_execute(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\""))).await?;
    }
    tx.batch_execute("ALTER TABLE members DISABLE TRIGGER members_history_insert").await?;

    let total = size.members;
    let (seed, key2, people_orgs) = (size.seed, key.clone(), orgs.clone());
    copy_stream(
        tx,
        "COPY people (id, name, name_initials, name_pinyin, gender, id_number_enc, id_number_hash, id_number_masked, birth_date, \
         ethnicity, native_place, education, degree, job_category, post, title, phone_enc, phone_masked, work_started_on) FROM STDIN",
        "people",
        total,
        move |send| {
            let mut out = Chunker::new(send);
            let mut ids = IdSeqs::new(today);
            let mut i: u64 = 0;
            for o in people_orgs.iter() {
                for _ in 0..o.members {
                    let mut rng = person_rng(seed, i);
                    let (core, _, _) = core_of(&mut rng, o, today);
                    let d = demo::draw_details(&mut rng, o.profile, &core, today);
                    let id_number = ids.take(d.region, core.birth, core.gender == Gender::Male)?;
                    let (initials, pinyin) = crate::members::pinyin::name_keys(&d.name);
                    let gender = core.gender.as_str();
                    let _ = write!(Line(&mut out.buf), "{}\t{}\t{initials}\t{pinyin}\t{gender}\t", person_base + 1 + i as i64, d.name);
                    push_hex(&mut out.buf, &key2.encrypt(&id_number)?);
                    out.buf.push(b'\t');
                    push_hex(&mut out.buf, &key2.blind_index(ID_NUMBER_INDEX, &id_number));
                    let _ =
                        write!(Line(&mut out.buf), "\t{}\t{}\t{}\t{}\t{}\t", id_number::mask(&id_number), core.birth, d.ethnicity, d.native_place, d.education);
                    push_opt(&mut out.buf, d.degree);
                    let _ = write!(Line(&mut out.buf), "\t{}\t", d.job_category);
                    push_opt(&mut out.buf, d.post);
                    out.buf.push(b'\t');
                    push_opt(&mut out.buf, d.title);
                    out.buf.push(b'\t');
                    push_hex(&mut out.buf, &key2.encrypt(&d.phone)?);
                    let _ = write!(Line(&mut out.buf), "\t{}\t", mask_phone(&d.phone));
                    push_date(&mut out.buf, d.work_started_on);
                    out.buf.push(b'\n');
                    i += 1;
                    if !out.row_done() {
                        return Ok(());
                    }
                }
            }
            out.finish()
        },
    )
    .await?;
    tx.batch_execute("SELECT setval(pg_get_serial_sequence('people', 'id'), (SELECT max(id) FROM people))").await?;

    let member_orgs = orgs.clone();
    copy_stream(
        tx,
        "COPY members (person_id, org_id, category, joined_at, full_member_at, status, is_flowing, lost_contact) FROM STDIN",
        "members",
        total,
        move |send| {
            let mut out = Chunker::new(send);
            let mut i: u64 = 0;
            for (oi, o) in member_orgs.iter().enumerate() {
                let org_id = org_base + 1 + oi as i64;
                for _ in 0..o.members {
                    let mut rng = person_rng(seed, i);
                    let (core, flowing, lost) = core_of(&mut rng, o, today);
                    let category = if core.category == Category::Full { "full" } else { "probationary" };
                    let _ = write!(Line(&mut out.buf), "{}\t{org_id}\t{category}\t{}\t", person_base + 1 + i as i64, core.joined_at);
                    push_date(&mut out.buf, core.full_member_at);
                    let _ = writeln!(Line(&mut out.buf), "\tnormal\t{}\t{}", if flowing { 't' } else { 'f' }, if lost { 't' } else { 'f' });
                    i += 1;
                    if !out.row_done() {
                        return Ok(());
                    }
                }
            }
            out.finish()
        },
    )
    .await?;

    // What the trigger would have written for each new membership: one open row from joined_at,
    // with the person's and the membership's attributes the statistics group by.
    let t_hist = Instant::now();
    let history = tx
        .execute(
            "INSERT INTO member_history (person_id, org_id, category, status, valid_from,
                                         gender, birth_date, ethnicity, education, job_category, joined_at, full_member_at)
             SELECT m.person_id, m.org_id, m.category, m.status, least(m.joined_at, $2::text::date),
                    p.gender, p.birth_date, p.ethnicity, p.education, p.job_category, m.joined_at, m.full_member_at
               FROM members m JOIN people p ON p.id = m.person_id WHERE m.person_id > $1",
            &[&person_base, &today.to_string()],
        )
        .await?;
    tx.batch_execute("ALTER TABLE members ENABLE TRIGGER members_history_insert").await?;
    eprintln!("  history  {history:>10} rows in {:.1} s", t_hist.elapsed().as_secs_f64());

    let t_idx = Instant::now();
    for (name, def) in &indexes {
        let t = Instant::now();
        tx.batch_execute(def).await?;
        eprintln!("  index    {name} rebuilt in {:.1} s", t.elapsed().as_secs_f64());
    }
    eprintln!("  indexes  {} rebuilt in {:.1} s (load and rebuild {:.1} s)", indexes.len(), t_idx.elapsed().as_secs_f64(), t.elapsed().as_secs_f64());

    let meeting_counts =
        if size.meetings.years > 0 { Some(meetings::generate(tx, orgs.clone(), size.seed, today, org_base, person_base, size.meetings).await?) } else { None };

    // The benchmark committee: the second-level committee whose subtree is closest to 2,000
    // members, a mid-size unit as a committee clerk sees it.
    let mut per_committee = vec![0u64; orgs.len()];
    for o in orgs.iter() {
        per_committee[o.committee] += o.members;
    }
    let bench = (1..orgs.len())
        .filter(|&i| orgs[i].kind == Kind::Committee && orgs[i].parent == Some(0))
        .min_by_key(|&i| per_committee[i].abs_diff(2000))
        .ok_or("no second-level committee")?;
    let bench_org = org_base + 1 + bench as i64;
    for (username, role, org) in [("bench_admin", "political_dept", None), ("bench_committee", "committee", Some(bench_org))] {
        let row = tx.query_one("INSERT INTO accounts (username, password_hash) VALUES ($1, $2) RETURNING id", &[&username, &hash]).await?;
        let account: i64 = row.get(0);
        tx.execute("INSERT INTO role_grants (account_id, role, org_id) VALUES ($1, $2, $3)", &[&account, &role, &org]).await?;
    }
    tx.batch_execute("COMMIT").await?;

    let t_vac = Instant::now();
    // VACUUM sets the visibility map, so counts over a subtree can be index-only scans at once.
    client.batch_execute("VACUUM (ANALYZE) orgs, org_closure, people, members, member_history").await?;
    if meeting_counts.is_some() {
        client.batch_execute("VACUUM (ANALYZE) meetings, meeting_attendees, org_officers, org_life_settings, org_meeting_rules").await?;
    }
    eprintln!("  vacuum   analyzed in {:.1} s", t_vac.elapsed().as_secs_f64());
    drop(client);
    let _ = conn_task.await;

    let count = |k: Kind| orgs.iter().filter(|o| o.kind == k).count();
    println!(
        "generated {} orgs ({} committees, {} general branches, {} branches, {} groups) and {} members in {:.1} s",
        orgs.len(),
        count(Kind::Committee),
        count(Kind::GeneralBranch),
        count(Kind::Branch),
        count(Kind::Group),
        size.members,
        all.elapsed().as_secs_f64()
    );
    if let Some(m) = &meeting_counts {
        println!(
            "generated {} meetings ({} held) over {} years, {} attendance rows (lists from {}), {} officers, {} org_life_settings and {} org_meeting_rules rows in {:.1} s",
            m.meetings, m.held, size.meetings.years, m.attendees, m.go_live, m.officers, m.settings, m.rules, m.seconds
        );
    }
    println!(
        "logins (password {BENCH_PASSWORD}): bench_admin (political_dept, whole institution), bench_committee (committee over G{bench:06} {}, {} members)",
        orgs[bench].name, per_committee[bench]
    );
    Ok(())
}

/// `write!` into a byte buffer without going through `String`.
struct Line<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Line<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// A generated roster to import (`dangjian gen-roster`): `rows` new members spread over the
/// first `branches` branches of the database, written as the import template lays them out
/// (real Excel dates, ID numbers as text), with rust_xlsxwriter's constant-memory sheet. Every
/// row is valid, so a dry run finds nothing and a commit writes them all.
pub async fn roster(url: &str, out: &std::path::Path, rows: u64, branches: u64, seed: u64, today: NaiveDate) -> Result<(), BoxError> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    let conn_task = tokio::spawn(connection);
    let codes: Vec<String> = client
        .query("SELECT code FROM orgs WHERE kind = 'branch' AND dissolved_on IS NULL ORDER BY id LIMIT $1", &[&(branches as i64)])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    drop(client);
    conn_task.abort();
    if (codes.len() as u64) < branches.max(1) {
        return Err(
            format!("the database holds {} branches, fewer than the {branches} asked for (run `dangjian gen --orgs` with more orgs)", codes.len()).into()
        );
    }
    let out = out.to_path_buf();
    tokio::task::spawn_blocking(move || -> Result<(), BoxError> {
        let started = Instant::now();
        let mut book = Workbook::new();
        let sheet = book.add_worksheet_with_constant_memory()?;
        sheet.set_name("党员名册")?;
        let date = Format::new().set_num_format("yyyy-mm-dd");
        let header = [
            "外部编号",
            "姓名",
            "性别",
            "公民身份号码",
            "民族",
            "出生日期",
            "学历",
            "工作岗位",
            "人员类别",
            "党组织编码",
            "入党日期",
            "转正日期",
            "手机号码",
            "党籍状态",
        ];
        for (c, h) in header.iter().enumerate() {
            sheet.write_string(0, c as u16, *h)?;
        }
        let profiles = [Profile::Faculty, Profile::Staff, Profile::Graduate, Profile::Undergraduate, Profile::Worker, Profile::Retired, Profile::Official];
        let mut ids = IdSeqs::starting_at(today, 250);
        let excel = |d: NaiveDate| ExcelDateTime::parse_from_str(&d.format("%Y-%m-%d").to_string());
        for i in 0..rows {
            let mut rng = person_rng(seed, i);
            let profile = profiles[(i % profiles.len() as u64) as usize];
            let core = demo::draw_core(&mut rng, profile, 0.45, probationary_share(profile), today);
            let details = demo::draw_details(&mut rng, profile, &core, today);
            let male = core.gender == Gender::Male;
            let id = ids.take(details.region, core.birth, male)?;
            let r = (i + 1) as u32;
            sheet.write_string(r, 0, format!("R{seed}-{i:07}"))?;
            sheet.write_string(r, 1, &details.name)?;
            sheet.write_string(r, 2, if male { "男" } else { "女" })?;
            sheet.write_string(r, 3, &id)?;
            sheet.write_string(r, 4, details.ethnicity)?;
            sheet.write_datetime_with_format(r, 5, excel(core.birth)?, &date)?;
            sheet.write_string(r, 6, details.education)?;
            sheet.write_string(r, 7, details.job_category)?;
            sheet.write_string(r, 8, if core.category == Category::Full { "正式党员" } else { "预备党员" })?;
            sheet.write_string(r, 9, &codes[(i % codes.len() as u64) as usize])?;
            sheet.write_datetime_with_format(r, 10, excel(core.joined_at)?, &date)?;
            if let Some(d) = core.full_member_at {
                sheet.write_datetime_with_format(r, 11, excel(d)?, &date)?;
            }
            sheet.write_string(r, 12, &details.phone)?;
            sheet.write_string(r, 13, "正常")?;
        }
        book.save(&out)?;
        eprintln!("dangjian gen-roster: {rows} rows over {} branches in {:.1} s: {}", codes.len(), started.elapsed().as_secs_f64(), out.display());
        Ok(())
    })
    .await?
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn plan_has_the_requested_size_and_parents_first() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        for (orgs, members) in [(3u64, 10u64), (100, 5_000), (6_000, 100_000)] {
            let size = Size { members, orgs, seed: 1, meetings: MeetingSize { years: 0, attendance_rows: 0 } };
            let plan = plan(&size, &mut StdRng::seed_from_u64(1), today).unwrap();
            assert_eq!(plan.len() as u64, orgs);
            assert_eq!(plan.iter().map(|o| o.members).sum::<u64>(), members);
            for (i, o) in plan.iter().enumerate() {
                assert!(o.parent.is_none_or(|p| p < i), "parent after child at {i}");
                assert!(o.members == 0 || matches!(o.kind, Kind::Branch | Kind::Group));
            }
        }
    }

    #[test]
    fn id_numbers_do_not_repeat() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let mut ids = IdSeqs::new(today);
        let birth = NaiveDate::from_ymd_opt(1980, 1, 1).unwrap();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2_000 {
            assert!(seen.insert(ids.take("320102", birth, true).unwrap()));
        }
    }
}
