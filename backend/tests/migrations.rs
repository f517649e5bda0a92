//! Migrations: up, down and up again give the same schema (compared with `pg_dump --schema-only`),
//! each migration's down undoes exactly its up, and `src/schema.rs` (kept by hand) matches the
//! migrated database column for column.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use common::TestDb;
use dangjian::db;
use diesel::Connection;
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::MigrationHarness;

/// pg_dump of the server's major version (an older pg_dump refuses a newer server): the
/// server's own bin directory, else PATH, else the newest installed.
fn pg_dump(url: &str) -> PathBuf {
    let out = Command::new("psql").args(["-XAtc", "SHOW server_version_num", url]).output();
    let major = out.ok().and_then(|o| String::from_utf8(o.stdout).ok()).and_then(|s| s.trim().parse::<u32>().ok()).map(|n| n / 10000);
    if let Some(m) = major {
        let p = PathBuf::from(format!("/usr/lib/postgresql/{m}/bin/pg_dump"));
        if p.is_file() {
            return p;
        }
    }
    if Command::new("pg_dump").arg("--version").output().is_ok_and(|o| o.status.success()) {
        return PathBuf::from("pg_dump");
    }
    let mut found: Vec<PathBuf> =
        std::fs::read_dir("/usr/lib/postgresql").into_iter().flatten().flatten().map(|e| e.path().join("bin/pg_dump")).filter(|p| p.is_file()).collect();
    found.sort_by_key(|p| p.parent().and_then(|b| b.parent()).and_then(|v| v.file_name()).and_then(|v| v.to_str()).and_then(|v| v.parse::<u32>().ok()));
    found.pop().unwrap_or_else(|| panic!("pg_dump not found (PATH or /usr/lib/postgresql/*/bin): apt-get install postgresql-client"))
}

/// The schema as pg_dump prints it, without comments, blank lines and the per-run
/// `\restrict` keys of recent pg_dump versions.
fn dump(url: &str) -> String {
    let out = Command::new(pg_dump(url)).args(["--schema-only", "--no-owner", "--no-privileges", "--dbname", url]).output().unwrap();
    assert!(out.status.success(), "pg_dump failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("--") && !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[track_caller]
fn assert_same(a: &str, b: &str, what: &str) {
    if a != b {
        let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
        let only_a: Vec<&&str> = la.iter().filter(|l| !lb.contains(l)).take(20).collect();
        let only_b: Vec<&&str> = lb.iter().filter(|l| !la.contains(l)).take(20).collect();
        panic!("{what}: schemas differ.\n  only in the first: {only_a:#?}\n  only in the second: {only_b:#?}");
    }
}

#[actix_web::test]
async fn all_up_down_up_gives_the_same_schema() {
    let scratch = TestDb::empty().await;
    let empty = dump(&scratch.url);
    let applied = db::run_migrations(&scratch.url).await.unwrap();
    assert_eq!(applied.len(), db_migration_count(), "every migration ran");
    let first = dump(&scratch.url);
    assert!(first.contains("CREATE TABLE public.members"), "the dump shows the schema");

    let reverted = db::revert_all(&scratch.url).await.unwrap();
    assert_eq!(reverted, applied.len());
    // Down leaves nothing but diesel's bookkeeping table.
    let after_down = dump(&scratch.url);
    let leftover: Vec<&str> = after_down
        .lines()
        .filter(|l| !empty.lines().any(|e| e == *l))
        .filter(|l| !l.contains("__diesel_schema_migrations") && !l.starts_with("SET "))
        .filter(|l| {
            !matches!(
                l.trim(),
                "version character varying(50) NOT NULL,"
                    | "run_on timestamp without time zone DEFAULT CURRENT_TIMESTAMP NOT NULL"
                    | ");"
                    | "ADD CONSTRAINT __diesel_schema_migrations_pkey PRIMARY KEY (version);"
            )
        })
        .collect();
    assert!(leftover.is_empty(), "revert_all left objects behind: {leftover:#?}");

    assert_eq!(db::run_migrations(&scratch.url).await.unwrap().len(), applied.len());
    assert_same(&first, &dump(&scratch.url), "up, then down and up again");
}

fn db_migration_count() -> usize {
    std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations")).unwrap().flatten().filter(|e| e.path().join("up.sql").is_file()).count()
}

/// Each migration in turn: up, then down must restore the schema as it was before it, then up
/// again. At the end the schema equals the one of a plain `run_migrations`.
#[actix_web::test]
async fn each_migration_down_undoes_its_up() {
    let reference = {
        let db = TestDb::empty().await;
        db::run_migrations(&db.url).await.unwrap();
        dump(&db.url)
    };
    let scratch = TestDb::empty().await;
    let url = scratch.url.clone();
    let steps = tokio::task::spawn_blocking(move || {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url).unwrap();
        let mut steps = Vec::new();
        loop {
            let pending = conn.pending_migrations(db::MIGRATIONS).unwrap();
            let Some(next) = pending.first() else { break };
            let name = next.name().to_string();
            let before = dump(&url);
            conn.run_next_migration(db::MIGRATIONS).unwrap_or_else(|e| panic!("up {name}: {e}"));
            let after_up = dump(&url);
            assert_ne!(before, after_up, "{name}: up changed nothing");
            conn.revert_last_migration(db::MIGRATIONS).unwrap_or_else(|e| panic!("down {name}: {e}"));
            assert_same(&before, &dump(&url), &format!("{name}: down did not restore the schema before it"));
            conn.run_next_migration(db::MIGRATIONS).unwrap_or_else(|e| panic!("up again {name}: {e}"));
            assert_same(&after_up, &dump(&url), &format!("{name}: up after down"));
            steps.push(name);
        }
        steps
    })
    .await
    .unwrap();
    assert_eq!(steps.len(), db_migration_count());
    assert_same(&reference, &dump(&scratch.url), "one migration at a time vs all at once");
}

/// `src/schema.rs` is kept by hand: every table and column it declares exists with that type
/// and nullability, and every column of the database is declared.
#[actix_web::test]
async fn schema_rs_matches_the_database() {
    let declared = parse_schema_rs(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/schema.rs")).unwrap());
    assert!(declared.len() >= 10, "parsed {} tables from schema.rs", declared.len());
    let scratch = TestDb::migrated().await;
    let (client, conn) = tokio_postgres::connect(&scratch.url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let rows = client
        .query(
            "SELECT table_name::text, column_name::text, udt_name::text, is_nullable::text FROM information_schema.columns
              WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations' ORDER BY 1, ordinal_position",
            &[],
        )
        .await
        .unwrap();
    let mut actual: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for r in rows {
        let (table, column, udt, nullable): (String, String, String, String) = (r.get(0), r.get(1), r.get(2), r.get(3));
        let ty = match udt.as_str() {
            "int8" => "Int8",
            "int4" => "Int4",
            "text" => "Text",
            "bool" => "Bool",
            "date" => "Date",
            "timestamptz" => "Timestamptz",
            "bytea" => "Bytea",
            "jsonb" => "Jsonb",
            "_int8" => "Array<Int8>",
            "_text" => "Array<Text>",
            other => other,
        };
        let ty = if nullable == "YES" { format!("Nullable<{ty}>") } else { ty.to_string() };
        actual.entry(table).or_default().insert(column, ty);
    }
    let mut problems = Vec::new();
    for (table, cols) in &declared {
        let Some(db_cols) = actual.get(table) else {
            problems.push(format!("table {table} is in schema.rs but not in the database"));
            continue;
        };
        for (col, ty) in cols {
            match db_cols.get(col) {
                None => problems.push(format!("{table}.{col} is in schema.rs but not in the database")),
                Some(db_ty) if db_ty != ty => problems.push(format!("{table}.{col}: schema.rs says {ty}, the database {db_ty}")),
                Some(_) => {}
            }
        }
    }
    for (table, cols) in &actual {
        for col in cols.keys() {
            if !declared.get(table).is_some_and(|c| c.contains_key(col)) {
                problems.push(format!("{table}.{col} is in the database but not in schema.rs"));
            }
        }
    }
    assert!(problems.is_empty(), "schema.rs is out of step with migrations/:\n{}", problems.join("\n"));
}

/// table -> column -> type, from the `diesel::table!` blocks.
fn parse_schema_rs(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(table) = current.clone() {
            if t == "}" {
                current = None;
            } else if let Some((col, ty)) = t.trim_end_matches(',').split_once(" -> ") {
                out.entry(table).or_default().insert(col.trim().to_string(), ty.trim().to_string());
            }
        } else if t.ends_with('{') && t.contains('(') && !t.starts_with("diesel::") {
            current = t.split_whitespace().next().map(str::to_string);
        }
    }
    out
}
