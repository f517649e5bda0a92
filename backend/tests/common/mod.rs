//! Shared test support: one database per test, copied from a migrated template, plus a fixture
//! (a small org tree, members, accounts for each role kind) and request helpers.
//!
//! Isolation: once per test process, a template database `dj_tpl_<hash of migrations/>` is
//! created and migrated (under a PostgreSQL advisory lock, so parallel test binaries agree);
//! each test then gets `CREATE DATABASE dj_t_<random> TEMPLATE dj_tpl_<hash>`, dropped when its
//! [`TestDb`] guard is dropped (also when the test panics).
//!
//! `TEST_DATABASE_URL` names a server where the tests may CREATE DATABASE (`make test` sets it,
//! starting a private cluster when needed). Tests never skip silently: without it they fail.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::OnceLock;

use actix_web::dev::Service;
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::test::TestRequest;
use actix_web::web;
use chrono::NaiveDate;
use dangjian::accounts::{self, NewAccount};
use dangjian::audit::By;
use dangjian::auth::Role;
use dangjian::config::Config;
use dangjian::crypto::DataKey;
use dangjian::members::id_number;
use dangjian::members::rules::MemberRecord;
use dangjian::members::types::{Category, Gender, Status};
use dangjian::{AppState, app, db};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The clock of every test in this process: the system's, or started at `DANGJIAN_NOW`
/// (`make test-dates` runs the date-sensitive tests at several dates and hours). One for the
/// process, so that a test's "now" and its application's agree to the instant.
pub fn clock() -> dangjian::clock::Clock {
    static CLOCK: OnceLock<dangjian::clock::Clock> = OnceLock::new();
    *CLOCK.get_or_init(|| dangjian::clock::Clock::from_env().unwrap_or_else(|e| panic!("{e}")))
}

/// The password of every fixture account.
pub const PASSWORD: &str = "Test-Pass-1";
pub const JWT_SECRET: &[u8] = b"test-jwt-secret-0123456789abcdef";
/// Any fixed key: each test database starts empty of personal data.
pub const DATA_KEY: [u8; 32] = [7u8; 32];
const TEMPLATE_LOCK_KEY: i64 = 0x646a_7470_6c00; // "djtpl"

// ---------------------------------------------------------------------------------------------
// Databases

/// The admin URL of the test server, or a failure telling how to get one.
pub fn server_url() -> String {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(u) if !u.trim().is_empty() => u.trim().to_string(),
        _ => panic!(
            "TEST_DATABASE_URL is not set. Run the tests with `make test` (it sets it, starting a private \
             PostgreSQL cluster when needed), or set it to a server where tests may CREATE DATABASE, e.g. \
             TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo test"
        ),
    }
}

/// `url` with its database replaced by `db` (query string kept).
pub fn url_with_db(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    format!("{}/{db}{query}", &base[..authority_end])
}

async fn admin_client() -> tokio_postgres::Client {
    let url = server_url();
    let (client, conn) =
        tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap_or_else(|e| panic!("cannot connect to TEST_DATABASE_URL ({url}): {e}"));
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

/// A hash of every file under migrations/, so that a changed migration gets a new template.
fn migrations_hash() -> String {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let p = entry.path();
            if p.is_dir() { walk(&p, out) } else { out.push(p) }
        }
    }
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"));
    let mut files = Vec::new();
    walk(root, &mut files);
    files.sort();
    let mut h = Sha256::new();
    for f in files {
        h.update(f.strip_prefix(root).unwrap().to_string_lossy().as_bytes());
        h.update([0]);
        h.update(std::fs::read(&f).unwrap());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..8])
}

/// Runs a future to completion on a fresh runtime in its own thread (usable from Drop and from
/// inside another runtime).
fn on_own_runtime<T: Send + 'static>(f: impl Future<Output = T> + Send + 'static) -> T {
    std::thread::spawn(move || tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap().block_on(f))
        .join()
        .unwrap_or_else(|_| panic!("helper thread panicked"))
}

static TEMPLATE: OnceLock<String> = OnceLock::new();

/// The migrated template database's name, created on first use.
pub fn template() -> &'static str {
    TEMPLATE.get_or_init(|| on_own_runtime(ensure_template()))
}

async fn retry_busy(client: &tokio_postgres::Client, sql: &str) {
    let mut last = None;
    for _ in 0..50 {
        match client.batch_execute(sql).await {
            Ok(()) => return,
            // "is being accessed by other users": a just-closed connection is still exiting.
            Err(e) if e.to_string().contains("other users") || e.as_db_error().is_some_and(|d| d.code().code() == "55006") => {
                last = Some(e);
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{sql}: {e}"),
        }
    }
    panic!("{sql}: {last:?}");
}

async fn ensure_template() -> String {
    let name = format!("dj_tpl_{}", migrations_hash());
    let client = admin_client().await;
    client.batch_execute(&format!("SELECT pg_advisory_lock({TEMPLATE_LOCK_KEY})")).await.unwrap();
    let exists = client.query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name]).await.unwrap().is_some();
    if !exists {
        // Built under another name and renamed when complete, so a crash never leaves a
        // half-migrated template behind.
        let building = format!("{name}_build");
        client.batch_execute(&format!("DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)")).await.unwrap();
        client.batch_execute(&format!("CREATE DATABASE \"{building}\"")).await.unwrap();
        db::run_migrations(&url_with_db(&server_url(), &building)).await.unwrap_or_else(|e| panic!("migrating the template: {e}"));
        retry_busy(&client, &format!("ALTER DATABASE \"{building}\" RENAME TO \"{name}\"")).await;
    }
    client.batch_execute(&format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK_KEY})")).await.unwrap();
    name
}

/// A database of one test; dropped with the guard.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// A copy of the migrated template.
    pub async fn migrated() -> TestDb {
        let tpl = template().to_string();
        Self::create(Some(tpl)).await
    }

    /// An empty database (no migrations).
    pub async fn empty() -> TestDb {
        Self::create(None).await
    }

    async fn create(template: Option<String>) -> TestDb {
        let name = format!("dj_t_{:016x}", rand::random::<u64>());
        let sql = match &template {
            Some(t) => format!("CREATE DATABASE \"{name}\" TEMPLATE \"{t}\""),
            None => format!("CREATE DATABASE \"{name}\""),
        };
        let client = admin_client().await;
        retry_busy(&client, &sql).await;
        TestDb { url: url_with_db(&server_url(), &name), name }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        on_own_runtime(async move {
            let client = admin_client().await;
            if let Err(e) = client.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await {
                eprintln!("could not drop test database {name}: {e}");
            }
        });
    }
}

// ---------------------------------------------------------------------------------------------
// The application and requests

/// An answer: status, headers and the body parsed as JSON (Null when empty or not JSON).
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
    pub text: String,
    pub bytes: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or_default()
    }

    /// The first field error, as (field, code).
    pub fn first_error(&self) -> (String, String) {
        let e = &self.json["errors"][0];
        (e["field"].as_str().unwrap_or_default().to_string(), e["code"].as_str().unwrap_or_default().to_string())
    }

    /// Every field error as "field:code".
    pub fn errors(&self) -> Vec<String> {
        self.json["errors"]
            .as_array()
            .map(|a| a.iter().map(|e| format!("{}:{}", e["field"].as_str().unwrap_or(""), e["code"].as_str().unwrap_or(""))).collect())
            .unwrap_or_default()
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text);
        self
    }

    /// Asserts an RFC 9457 problem with this status and code.
    #[track_caller]
    pub fn expect_problem(&self, status: u16, code: &str) -> &Self {
        self.expect(status);
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "content type of {}", self.text);
        assert_eq!(self.code(), code, "problem code; body: {}", self.text);
        assert_eq!(self.json["status"], json!(status));
        for k in ["title", "title_zh", "type"] {
            assert!(self.json[k].as_str().is_some_and(|s| !s.is_empty()), "problem without {k}: {}", self.text);
        }
        self
    }

    pub fn etag(&self) -> Option<&str> {
        self.header("etag")
    }
}

/// A request under construction.
pub struct Req {
    method: actix_web::http::Method,
    path: String,
    token: Option<String>,
    body: Option<Value>,
    raw: Option<(String, Vec<u8>)>,
    headers: Vec<(String, String)>,
    peer: Option<std::net::SocketAddr>,
}

impl Req {
    pub fn new(method: &str, path: impl Into<String>) -> Req {
        Req { method: method.parse().unwrap(), path: path.into(), token: None, body: None, raw: None, headers: Vec::new(), peer: None }
    }
    pub fn get(path: impl Into<String>) -> Req {
        Self::new("GET", path)
    }
    pub fn post(path: impl Into<String>) -> Req {
        Self::new("POST", path)
    }
    pub fn patch(path: impl Into<String>) -> Req {
        Self::new("PATCH", path)
    }
    pub fn delete(path: impl Into<String>) -> Req {
        Self::new("DELETE", path)
    }
    pub fn token(mut self, t: &str) -> Req {
        self.token = Some(t.to_string());
        self
    }
    pub fn maybe_token(mut self, t: Option<&str>) -> Req {
        self.token = t.map(str::to_string);
        self
    }
    pub fn json(mut self, body: Value) -> Req {
        self.body = Some(body);
        self
    }
    /// A body that is not JSON (a multipart upload), with its content type.
    pub fn raw(mut self, content_type: &str, body: Vec<u8>) -> Req {
        self.raw = Some((content_type.to_string(), body));
        self
    }
    pub fn header(mut self, k: &str, v: impl Into<String>) -> Req {
        self.headers.push((k.to_string(), v.into()));
        self
    }
    /// The client's address (the connection's peer), e.g. "10.0.0.1".
    pub fn peer(mut self, ip: &str) -> Req {
        self.peer = Some(std::net::SocketAddr::new(ip.parse().unwrap(), 40000));
        self
    }
    pub fn if_match(self, version: i64) -> Req {
        self.header("If-Match", format!("\"{version}\""))
    }

    fn build(self) -> TestRequest {
        let mut r = TestRequest::default().method(self.method).uri(&self.path);
        if let Some(peer) = self.peer {
            r = r.peer_addr(peer);
        }
        if let Some(t) = self.token {
            r = r.insert_header(("Authorization", format!("Bearer {t}")));
        }
        for (k, v) in self.headers {
            r = r.insert_header((k, v));
        }
        if let Some(b) = self.body {
            r = r.set_json(b);
        }
        if let Some((content_type, b)) = self.raw {
            r = r.insert_header(("Content-Type", content_type)).set_payload(b);
        }
        r
    }
}

type Caller = Rc<dyn Fn(TestRequest) -> Pin<Box<dyn Future<Output = Resp>>>>;

/// The application as actix's test service, with the type erased so helpers stay simple.
#[derive(Clone)]
pub struct TestApp {
    caller: Caller,
}

impl TestApp {
    pub async fn new(shared: app::Shared) -> TestApp {
        let svc = Rc::new(actix_web::test::init_service(app::build(shared)).await);
        let caller: Caller = Rc::new(move |req: TestRequest| {
            let svc = svc.clone();
            Box::pin(async move {
                match svc.call(req.to_request()).await {
                    Ok(res) => {
                        let status = res.status();
                        let headers = res.headers().clone();
                        let bytes = actix_web::body::to_bytes(res.into_body()).await.unwrap_or_default();
                        finish(status, headers, &bytes)
                    }
                    // Errors from middleware (the route policy) reach the test service as Err; the
                    // server turns them into responses the same way.
                    Err(e) => {
                        let res = e.error_response();
                        let status = res.status();
                        let headers = res.headers().clone();
                        let bytes = actix_web::body::to_bytes(res.into_body()).await.unwrap_or_default();
                        finish(status, headers, &bytes)
                    }
                }
            })
        });
        TestApp { caller }
    }

    pub async fn send(&self, req: Req) -> Resp {
        (self.caller)(req.build()).await
    }
}

fn finish(status: StatusCode, headers: HeaderMap, bytes: &[u8]) -> Resp {
    let text = String::from_utf8_lossy(bytes).to_string();
    let json = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    Resp { status, headers, json, text, bytes: bytes.to_vec() }
}

// ---------------------------------------------------------------------------------------------
// The fixture

/// The org tree of every test:
///
/// ```text
/// C1 committee ─ G1 general branch ─┬─ B1 branch ─ B1-1 group
///                                    └─ B2 branch
/// C2 committee ─ B3 branch
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Orgs {
    pub c1: i64,
    pub g1: i64,
    pub b1: i64,
    pub b1_1: i64,
    pub b2: i64,
    pub c2: i64,
    pub b3: i64,
}

/// Members: 张三 (B1, male, full), 李四 (B1, female, probationary), 王五 (B1-1, male, full),
/// 赵六 (B2, female, full, suspended), 钱七 (B3, male, full).
#[derive(Debug, Clone, Copy)]
pub struct People {
    pub zhangsan: i64,
    pub lisi: i64,
    pub wangwu: i64,
    pub zhaoliu: i64,
    pub qianqi: i64,
}

/// Fixture accounts (all with [`PASSWORD`]).
pub mod users {
    /// political_dept over the whole institution.
    pub const ADMIN: &str = "admin";
    /// political_dept over C1.
    pub const PD_C1: &str = "pd_c1";
    /// committee over C1.
    pub const COM_C1: &str = "com_c1";
    /// committee over C2.
    pub const COM_C2: &str = "com_c2";
    /// branch over B1.
    pub const BR_B1: &str = "br_b1";
    /// member: 张三 (B1).
    pub const MEMBER_ZS: &str = "zhangsan";
    /// masses, no person.
    pub const MASSES: &str = "masses1";
    /// 李四: member, and branch over B1.
    pub const MULTI: &str = "multi";
    /// member 王五, disabled.
    pub const DISABLED: &str = "disabled1";
}

pub const ZS_ID_BIRTH: (i32, u32, u32) = (1985, 3, 12);
pub const ZS_PHONE: &str = "13800138000";

pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A valid citizen ID number (region 110105).
pub fn id_for(birth: &str, male: bool, seq: u16) -> String {
    id_number::generate("110105", d(birth), male, seq).unwrap()
}

/// 张三's citizen ID number.
pub fn zs_id_number() -> String {
    id_for("1985-03-12", true, 1)
}

fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| dangjian::auth::password::hash_blocking(PASSWORD).unwrap())
}

pub struct Fx {
    pub app: TestApp,
    pub shared: app::Shared,
    pub orgs: Orgs,
    pub people: People,
    /// Every fixture account's id by username.
    pub accounts: BTreeMap<&'static str, i64>,
    // Last, so the pool's connections close before the database is dropped.
    pub db: TestDb,
}

pub type Conn = diesel_async::pooled_connection::deadpool::Object<diesel_async::AsyncPgConnection>;

impl Fx {
    /// A fresh database with the fixture, and the application over it.
    pub async fn new() -> Fx {
        Self::with_config(|_| ()).await
    }

    /// As [`Fx::new`], with the configuration adjusted first (pool size and timeouts of the
    /// availability tests).
    pub async fn with_config(adjust: impl FnOnce(&mut Config)) -> Fx {
        let db = TestDb::migrated().await;
        let mut config = Config::for_database(db.url.clone(), DataKey::from_bytes(DATA_KEY), JWT_SECRET).unwrap();
        config.clock = clock();
        adjust(&mut config);
        let pool = db::pool(&db.url, config.pool_size, config.pool_timeout, config.clock).unwrap();
        let shared = app::Shared::new(AppState { pool, config }).unwrap();
        let mut conn = shared.state.pool.get().await.unwrap();
        let orgs = insert_orgs(&mut conn).await;
        let key = shared.state.config.data_key.clone();
        let people = People {
            zhangsan: insert_member(
                &mut conn,
                &key,
                record("张三", Gender::Male, orgs.b1, "2010-07-01", Some("2011-07-01")).with_id(zs_id_number()).with_phone(ZS_PHONE),
            )
            .await,
            lisi: insert_member(
                &mut conn,
                &key,
                record("李四", Gender::Female, orgs.b1, "2025-06-01", None).with_id(id_for("1992-08-20", false, 2)).with_phone("13900139000"),
            )
            .await,
            wangwu: insert_member(
                &mut conn,
                &key,
                record("王五", Gender::Male, orgs.b1_1, "2005-05-01", Some("2006-05-01")).with_id(id_for("1970-01-05", true, 3)),
            )
            .await,
            zhaoliu: insert_member(&mut conn, &key, {
                let mut r = record("赵六", Gender::Female, orgs.b2, "2015-03-01", Some("2016-03-01"));
                r.status = Status::Suspended;
                r
            })
            .await,
            qianqi: insert_member(
                &mut conn,
                &key,
                record("钱七", Gender::Male, orgs.b3, "2000-10-01", Some("2001-10-01")).with_id(id_for("1975-11-30", true, 4)),
            )
            .await,
        };
        let mut accounts = BTreeMap::new();
        let mut add = async |conn: &mut Conn, username: &'static str, person: Option<i64>, grants: &[(Role, Option<&str>)]| {
            let grants: Vec<(Role, Option<String>)> = grants.iter().map(|(r, c)| (*r, c.map(str::to_string))).collect();
            let id =
                accounts::create(conn, By::CLI, NewAccount { username, password_hash: password_hash().to_string(), person_id: person }, &grants).await.unwrap();
            accounts.insert(username, id);
        };
        add(&mut conn, users::ADMIN, None, &[(Role::PoliticalDept, None)]).await;
        add(&mut conn, users::PD_C1, None, &[(Role::PoliticalDept, Some("C1"))]).await;
        add(&mut conn, users::COM_C1, None, &[(Role::Committee, Some("C1"))]).await;
        add(&mut conn, users::COM_C2, None, &[(Role::Committee, Some("C2"))]).await;
        add(&mut conn, users::BR_B1, None, &[(Role::Branch, Some("B1"))]).await;
        add(&mut conn, users::MEMBER_ZS, Some(people.zhangsan), &[(Role::Member, Some("B1"))]).await;
        add(&mut conn, users::MASSES, None, &[(Role::Masses, None)]).await;
        add(&mut conn, users::MULTI, Some(people.lisi), &[(Role::Member, Some("B1")), (Role::Branch, Some("B1"))]).await;
        add(&mut conn, users::DISABLED, Some(people.wangwu), &[(Role::Member, Some("B1-1"))]).await;
        {
            use dangjian::schema::accounts as a;
            diesel::update(a::table.filter(a::username.eq(users::DISABLED))).set(a::disabled.eq(true)).execute(&mut conn).await.unwrap();
        }
        drop(conn);
        let app = TestApp::new(shared.clone()).await;
        Fx { app, shared, orgs, people, accounts, db }
    }

    /// The application served by a real actix server on 127.0.0.1 (two workers), for tests that
    /// need sockets: slow clients, parallel bursts.
    pub fn serve(&self) -> std::net::SocketAddr {
        let shared = self.shared.clone();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = actix_web::HttpServer::new(move || app::build(shared.clone())).workers(2).listen(listener).unwrap().disable_signals().run();
        actix_web::rt::spawn(server);
        addr
    }

    pub async fn conn(&self) -> Conn {
        self.shared.state.pool.get().await.unwrap()
    }

    /// The application's clock (`DANGJIAN_NOW` moves it: `make test-dates`).
    pub fn clock(&self) -> dangjian::clock::Clock {
        self.shared.state.config.clock
    }

    /// The institution's date on the application's clock.
    pub fn today(&self) -> NaiveDate {
        self.clock().today()
    }

    pub fn state(&self) -> &web::Data<AppState> {
        &self.shared.state
    }

    pub async fn send(&self, req: Req) -> Resp {
        self.app.send(req).await
    }

    /// Logs in through the API and answers the token response.
    pub async fn login_tokens(&self, username: &str) -> Value {
        let r = self.send(Req::post("/api/v1/auth/login").json(json!({"username": username, "password": PASSWORD}))).await;
        assert_eq!(r.status, StatusCode::OK, "login {username}: {}", r.text);
        r.json
    }

    /// Logs in through the API and answers the access token.
    /// Logs in as a member account of this person, created for the purpose (grant: member over
    /// the person's org).
    pub async fn login_person(&self, person_id: i64) -> String {
        use dangjian::schema::{members, orgs};
        let username = format!("person{person_id}");
        let mut conn = self.conn().await;
        let code: String = members::table.inner_join(orgs::table).filter(members::person_id.eq(person_id)).select(orgs::code).first(&mut conn).await.unwrap();
        accounts::create(
            &mut conn,
            By::CLI,
            NewAccount { username: &username, password_hash: password_hash().to_string(), person_id: Some(person_id) },
            &[(Role::Member, Some(code))],
        )
        .await
        .unwrap();
        drop(conn);
        self.login(&username).await
    }

    pub async fn login(&self, username: &str) -> String {
        self.login_tokens(username).await["access_token"].as_str().unwrap().to_string()
    }

    /// A fresh org (for tests that write or delete one).
    pub async fn new_org(&self, kind: &str, parent: i64) -> i64 {
        use dangjian::schema::orgs as o;
        let code = format!("T{:08x}", rand::random::<u32>());
        diesel::insert_into(o::table)
            .values((o::code.eq(&code), o::name.eq(format!("测试组织{code}")), o::kind.eq(kind), o::parent_id.eq(parent)))
            .returning(o::id)
            .get_result(&mut self.conn().await)
            .await
            .unwrap()
    }

    /// A fresh member (no ID number) in an org.
    pub async fn new_member(&self, name: &str, org: i64) -> i64 {
        let key = self.shared.state.config.data_key.clone();
        insert_member(&mut self.conn().await, &key, record(name, Gender::Male, org, "2012-01-01", Some("2013-01-01")).with_phone("13700137000")).await
    }

    pub async fn member_version(&self, id: i64) -> i32 {
        use dangjian::schema::members as m;
        m::table.find(id).select(m::version).first(&mut self.conn().await).await.unwrap()
    }

    pub async fn org_version(&self, id: i64) -> i32 {
        use dangjian::schema::orgs as o;
        o::table.find(id).select(o::version).first(&mut self.conn().await).await.unwrap()
    }

    /// Audit rows (action, entity, entity_id, account_id, after) in order.
    pub async fn audit(&self, entity: &str, entity_id: i64) -> Vec<(String, Option<i64>, Option<Value>, Option<Value>)> {
        use dangjian::schema::audit_log as l;
        l::table
            .filter(l::entity.eq(entity))
            .filter(l::entity_id.eq(entity_id))
            .order(l::id)
            .select((l::action, l::account_id, l::before, l::after))
            .load(&mut self.conn().await)
            .await
            .unwrap()
    }
}

/// A member record with the required fields and plausible defaults (birth 25 years before joining).
pub fn record(name: &str, gender: Gender, org_id: i64, joined: &str, full: Option<&str>) -> MemberRecord {
    let joined_at = d(joined);
    MemberRecord {
        external_id: None,
        name: name.to_string(),
        gender,
        id_number: None,
        birth_date: joined_at.checked_sub_months(chrono::Months::new(25 * 12)),
        ethnicity: Some("汉族".into()),
        native_place: None,
        education: Some("大学本科".into()),
        degree: None,
        job_category: Some("专业技术人员".into()),
        post: None,
        title: None,
        phone: None,
        work_started_on: None,
        category: if full.is_some() { Category::Full } else { Category::Probationary },
        org_id,
        joined_at,
        full_member_at: full.map(d),
        status: Status::Normal,
        is_flowing: false,
        lost_contact: false,
    }
}

pub trait RecordExt {
    fn with_id(self, id: String) -> Self;
    fn with_phone(self, phone: &str) -> Self;
}

impl RecordExt for MemberRecord {
    /// Sets the ID number and the birth date it carries.
    fn with_id(mut self, id: String) -> Self {
        let birth = &id[6..14];
        self.birth_date = NaiveDate::parse_from_str(birth, "%Y%m%d").ok();
        self.id_number = Some(id);
        self
    }
    fn with_phone(mut self, phone: &str) -> Self {
        self.phone = Some(phone.to_string());
        self
    }
}

async fn insert_member(conn: &mut Conn, key: &DataKey, mut rec: MemberRecord) -> i64 {
    let errors = rec.check(chrono::Local::now().date_naive());
    assert!(errors.is_empty(), "fixture member {} is invalid: {errors:?}", rec.name);
    dangjian::members::queries::insert(conn, key, &rec).await.unwrap()
}

async fn insert_orgs(conn: &mut Conn) -> Orgs {
    use dangjian::schema::orgs as o;
    async fn add(conn: &mut Conn, code: &str, name: &str, kind: &str, parent: Option<i64>) -> i64 {
        diesel::insert_into(o::table)
            .values((o::code.eq(code), o::name.eq(name), o::kind.eq(kind), o::parent_id.eq(parent), o::founded_on.eq(d("2015-07-01"))))
            .returning(o::id)
            .get_result(conn)
            .await
            .unwrap()
    }
    let c1 = add(conn, "C1", "机关党委", "committee", None).await;
    let g1 = add(conn, "G1", "机关第一党总支", "general_branch", Some(c1)).await;
    let b1 = add(conn, "B1", "机关第一党支部", "branch", Some(g1)).await;
    let b1_1 = add(conn, "B1-1", "第一党小组", "group", Some(b1)).await;
    let b2 = add(conn, "B2", "机关第二党支部", "branch", Some(g1)).await;
    let c2 = add(conn, "C2", "学院党委", "committee", None).await;
    let b3 = add(conn, "B3", "学院第一党支部", "branch", Some(c2)).await;
    Orgs { c1, g1, b1, b1_1, b2, c2, b3 }
}

/// A fresh directory under the system's temp dir, named `{prefix}-<random>`.
pub fn tempdir(prefix: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("{prefix}-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// LibreOffice (a second, independent reader) converts the workbook's first sheet to CSV without
/// error, and the CSV holds each of `expect` (a row's text, e.g. `"测试党委",9,8,1`). Without
/// `soffice`, fails on CI (CI=true: .ci/run installs libreoffice-calc-nogui) and is skipped with a
/// reason elsewhere.
pub fn libreoffice_opens(bytes: &[u8], expect: &[&str]) {
    let Some(soffice) =
        ["soffice", "libreoffice"].into_iter().find(|b| std::process::Command::new(b).arg("--version").output().is_ok_and(|o| o.status.success()))
    else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("soffice is missing: install libreoffice-calc-nogui (.ci/run does)");
        }
        eprintln!("SKIPPED the LibreOffice check: soffice is not installed (apt-get install libreoffice-calc-nogui)");
        return;
    };
    let dir = tempdir("dj-soffice");
    let input = dir.join("workbook.xlsx");
    std::fs::write(&input, bytes).unwrap();
    let out = std::process::Command::new(soffice)
        .arg(format!("-env:UserInstallation=file://{}", dir.join("profile").display()))
        // CSV in UTF-8 (filter option 76), comma-separated.
        .args(["--headless", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1", "--outdir"])
        .arg(&dir)
        .arg(&input)
        .output()
        .unwrap();
    let csv = std::fs::read(dir.join("workbook.csv")).unwrap_or_else(|e| {
        panic!("LibreOffice did not convert the workbook ({e}): {} {}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    });
    assert!(out.status.success(), "soffice failed: {}", String::from_utf8_lossy(&out.stderr));
    let csv = String::from_utf8_lossy(&csv);
    for e in expect {
        assert!(csv.contains(e), "LibreOffice read no {e:?} in: {csv}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
