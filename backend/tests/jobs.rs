//! The job queue: several workers on one database run each job exactly once, a job whose process
//! died is taken up again, progress and failures show through `GET /jobs/{id}`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{DATA_KEY, Fx, JWT_SECRET, Req, TestDb, users};
use dangjian::config::Config;
use dangjian::crypto::DataKey;
use dangjian::error::AppError;
use dangjian::jobs::{self, JobContext, Registry, Worker};
use dangjian::schema::jobs as j;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

fn config(url: &str) -> Config {
    Config::for_database(url.to_string(), DataKey::from_bytes(DATA_KEY), JWT_SECRET).unwrap()
}

fn worker(url: &str, registry: Registry) -> Worker {
    let mut w = Worker::new(dangjian::db::pool(url, 4, config(url).pool_timeout, config(url).clock).unwrap(), config(url), registry);
    w.poll = Duration::from_millis(20);
    w
}

async fn status_of(pool: &dangjian::db::DbPool, id: i64) -> (String, Option<Value>, Option<String>, i32) {
    j::table.find(id).select((j::status, j::result, j::error, j::attempts)).first(&mut pool.get().await.unwrap()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_run_each_of_fifty_jobs_exactly_once() {
    let db = TestDb::migrated().await;
    let runs: Arc<Mutex<HashMap<i64, Vec<String>>>> = Arc::default();
    let make = |name: &'static str| {
        let runs = runs.clone();
        let mut r = Registry::new();
        r.register("count", move |ctx: JobContext, _payload: Value| {
            let runs = runs.clone();
            async move {
                runs.lock().unwrap().entry(ctx.job_id).or_default().push(name.to_string());
                tokio::time::sleep(Duration::from_millis(2)).await;
                Ok(json!({"by": name}))
            }
        });
        worker(&db.url, r)
    };
    let (a, b) = (make("a"), make("b"));
    let pool = dangjian::db::pool(&db.url, 2, config(&db.url).pool_timeout, config(&db.url).clock).unwrap();
    let mut ids = Vec::new();
    {
        let mut conn = pool.get().await.unwrap();
        for i in 0..50 {
            ids.push(jobs::enqueue(&mut conn, "count", json!({"i": i}), None).await.unwrap());
        }
    }
    let ta = tokio::spawn(async move { a.drain().await.unwrap() });
    let tb = tokio::spawn(async move { b.drain().await.unwrap() });
    let (na, nb) = (ta.await.unwrap(), tb.await.unwrap());
    assert_eq!(na + nb, 50, "a ran {na}, b ran {nb}");
    assert!(na > 0 && nb > 0, "both workers should have taken jobs: a {na}, b {nb}");
    let runs = runs.lock().unwrap().clone();
    for id in &ids {
        assert_eq!(runs.get(id).map(Vec::len), Some(1), "job {id} ran {:?}", runs.get(id));
        let (status, result, _, attempts) = status_of(&pool, *id).await;
        assert_eq!((status.as_str(), attempts), ("succeeded", 1));
        assert_eq!(result.unwrap()["by"], json!(runs[id][0]));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_job_whose_heartbeat_went_stale_is_run_again() {
    let db = TestDb::migrated().await;
    let w = worker(&db.url, Registry::standard());
    let mut conn = w.pool.get().await.unwrap();
    let lost = jobs::enqueue(&mut conn, "noop", json!({"x": 1}), None).await.unwrap();
    let alive = jobs::enqueue(&mut conn, "noop", json!({"x": 2}), None).await.unwrap();
    let given_up = jobs::enqueue(&mut conn, "noop", json!({"x": 3}), None).await.unwrap();
    // As a crashed process leaves them: running, locked, no heartbeat for two minutes (or, for
    // `alive`, a fresh one: its process is still at work).
    diesel::sql_query("UPDATE jobs SET status = 'running', locked_by = 'dead:1', attempts = 1, started_at = now() - interval '3 minutes', heartbeat_at = now() - interval '2 minutes' WHERE id = $1")
        .bind::<diesel::sql_types::BigInt, _>(lost)
        .execute(&mut conn)
        .await
        .unwrap();
    diesel::sql_query("UPDATE jobs SET status = 'running', locked_by = 'other:1', attempts = 1, heartbeat_at = now() WHERE id = $1")
        .bind::<diesel::sql_types::BigInt, _>(alive)
        .execute(&mut conn)
        .await
        .unwrap();
    diesel::sql_query("UPDATE jobs SET status = 'running', locked_by = 'dead:1', attempts = 3, heartbeat_at = now() - interval '2 minutes' WHERE id = $1")
        .bind::<diesel::sql_types::BigInt, _>(given_up)
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);
    assert_eq!(w.drain().await.unwrap(), 0, "running jobs are not claimed");
    assert_eq!(w.requeue_stale().await.unwrap(), 1);
    assert_eq!(w.drain().await.unwrap(), 1);
    let (status, result, _, attempts) = status_of(&w.pool, lost).await;
    assert_eq!((status.as_str(), attempts), ("succeeded", 2));
    assert_eq!(result.unwrap()["echo"]["x"], json!(1));
    assert_eq!(status_of(&w.pool, alive).await.0, "running");
    let (status, _, error, _) = status_of(&w.pool, given_up).await;
    assert_eq!(status, "failed");
    assert!(error.unwrap().contains("abandoned"));
}

#[actix_web::test]
async fn progress_shows_through_the_api_to_the_creator_only() {
    let fx = Fx::new().await;
    let release = Arc::new(tokio::sync::Notify::new());
    let mut r = Registry::new();
    {
        let release = release.clone();
        r.register("slow", move |ctx: JobContext, _p: Value| {
            let release = release.clone();
            async move {
                ctx.progress(3, 10).await?;
                release.notified().await;
                ctx.progress(10, 10).await?;
                Ok(json!({"rows": 10}))
            }
        });
    }
    let w = worker(&fx.db.url, r);
    let mut conn = fx.conn().await;
    let id = jobs::enqueue(&mut conn, "slow", json!({}), Some(fx.accounts[users::BR_B1])).await.unwrap();
    drop(conn);
    let owner = fx.login(users::BR_B1).await;

    let r = fx.send(Req::get(format!("/api/v1/jobs/{id}")).token(&owner)).await;
    r.expect(200);
    assert_eq!(r.json["status"], "queued");
    assert_eq!(r.json["progress"], Value::Null);

    let poll = async {
        for _ in 0..200 {
            let r = fx.send(Req::get(format!("/api/v1/jobs/{id}")).token(&owner)).await;
            if r.json["progress"] != Value::Null {
                assert_eq!(r.json["status"], "running");
                assert_eq!(r.json["progress"], json!({"done": 3, "total": 10}));
                release.notify_one();
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("progress never showed");
    };
    let (ran, ()) = futures_util::join!(w.run_once(), poll);
    assert_eq!(ran.unwrap(), Some(id));

    let r = fx.send(Req::get(format!("/api/v1/jobs/{id}")).token(&owner)).await;
    r.expect(200);
    assert_eq!(r.json["status"], "succeeded");
    assert_eq!(r.json["progress"], json!({"done": 10, "total": 10}));
    assert_eq!(r.json["result"], json!({"rows": 10}));
    assert!(r.json["finished_at"].is_string());

    // Another worker's job is not yours; political_dept over everything sees it; unknown → 404.
    let other = fx.login(users::COM_C1).await;
    fx.send(Req::get(format!("/api/v1/jobs/{id}")).token(&other)).await.expect_problem(403, "out_of_scope");
    let pd_c1 = fx.login(users::PD_C1).await;
    fx.send(Req::get(format!("/api/v1/jobs/{id}")).token(&pd_c1)).await.expect_problem(403, "out_of_scope");
    let admin = fx.login(users::ADMIN).await;
    fx.send(Req::get(format!("/api/v1/jobs/{id}")).token(&admin)).await.expect(200);
    fx.send(Req::get(format!("/api/v1/jobs/{}", id + 1000)).token(&admin)).await.expect_problem(404, "not_found");
    let member = fx.login(users::MEMBER_ZS).await;
    fx.send(Req::get(format!("/api/v1/jobs/{id}")).token(&member)).await.expect_problem(403, "role_not_allowed");
}

#[actix_web::test]
async fn failures_are_recorded_with_their_error() {
    let fx = Fx::new().await;
    let mut r = Registry::new();
    r.register("bad", |_ctx: JobContext, _p: Value| async {
        Err::<Value, _>(AppError::field("file", "not_a_spreadsheet", "the file is not a spreadsheet", "文件不是电子表格"))
    });
    r.register("boom", |_ctx: JobContext, _p: Value| async { panic!("handler bug") });
    let w = worker(&fx.db.url, r);
    let by = Some(fx.accounts[users::COM_C1]);
    let mut conn = fx.conn().await;
    let bad = jobs::enqueue(&mut conn, "bad", json!({}), by).await.unwrap();
    let boom = jobs::enqueue(&mut conn, "boom", json!({}), by).await.unwrap();
    let unknown = jobs::enqueue(&mut conn, "no-such-kind", json!({}), by).await.unwrap();
    drop(conn);
    assert_eq!(w.drain().await.unwrap(), 3);
    let token = fx.login(users::COM_C1).await;
    let expect = [(bad, "not a spreadsheet"), (boom, "panicked"), (unknown, "no handler")];
    for (id, text) in expect {
        let r = fx.send(Req::get(format!("/api/v1/jobs/{id}")).token(&token)).await;
        r.expect(200);
        assert_eq!(r.json["status"], "failed", "{}", r.text);
        assert!(r.json["error"].as_str().unwrap().contains(text), "{}", r.text);
        assert_eq!(r.json["result"], Value::Null);
    }
}

/// Kills the server when the test ends, also when it fails.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[actix_web::test]
async fn dangjian_serve_runs_queued_jobs() {
    use std::process::{Command, Stdio};
    let fx = Fx::new().await;
    let mut conn = fx.conn().await;
    let id = jobs::enqueue(&mut conn, "noop", json!({"steps": 2}), None).await.unwrap();
    drop(conn);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_dangjian"))
            .arg("serve")
            .env("DATABASE_URL", &fx.db.url)
            .env("DANGJIAN_DATA_KEY", DataKey::from_bytes(DATA_KEY).to_base64())
            .env("JWT_SECRET", "jobs-test-secret-0123456789")
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    for _ in 0..200 {
        let (status, result, _, _) = status_of(&fx.shared.state.pool, id).await;
        if status == "succeeded" {
            assert_eq!(result.unwrap()["echo"]["steps"], json!(2));
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server's worker did not run the job within 10 s");
}
