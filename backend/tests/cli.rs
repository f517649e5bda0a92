//! The `dangjian` command line, run as a process against a fresh database: `user create` (password
//! on stdin, repeatable grants), and its refusals.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{DATA_KEY, Fx, Req};
use dangjian::crypto::DataKey;
use serde_json::json;

/// Runs `dangjian ARGS` against the fixture's database with `stdin` as input: (success, stdout+stderr).
fn dangjian(fx: &Fx, args: &[&str], stdin: &str) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dangjian"))
        .args(args)
        .env("DATABASE_URL", &fx.db.url)
        .env("DANGJIAN_DATA_KEY", DataKey::from_bytes(DATA_KEY).to_base64())
        .env("JWT_SECRET", "cli-test-secret-0123456789")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[actix_web::test]
async fn user_create_takes_the_password_from_stdin_and_repeatable_grants() {
    let fx = Fx::new().await;
    let (ok, out) = dangjian(&fx, &["user", "create", "--username", "lishuji", "--grant", "branch:B1", "--grant", "committee:C1"], "Shuji-2026\n");
    assert!(ok, "{out}");
    assert!(out.contains("created account"), "{out}");

    let login = fx.send(Req::post("/api/v1/auth/login").json(json!({"username": "lishuji", "password": "Shuji-2026"}))).await;
    assert_eq!(login.status, 200, "{}", login.text);
    let token = login.json["access_token"].as_str().unwrap().to_string();
    let me = fx.send(Req::get("/api/v1/me").token(&token)).await;
    let grants: Vec<(String, String)> = me.json["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["role"].as_str().unwrap().to_string(), g["org_code"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(grants, [("branch".to_string(), "B1".to_string()), ("committee".to_string(), "C1".to_string())]);

    // The account creation is audited as done from the command line.
    let audit = fx.audit("account", me.json["account"]["id"].as_i64().unwrap()).await;
    assert_eq!(audit.first().map(|a| a.0.as_str()), Some("create"));
}

#[actix_web::test]
async fn user_create_refuses_bad_input_and_creates_nothing() {
    let fx = Fx::new().await;
    let cases: [(&[&str], &str, &str); 4] = [
        (&["--username", "a1", "--grant", "boss:B1"], "Shuji-2026\n", "unknown role"),
        (&["--username", "a2", "--grant", "branch:NOPE"], "Shuji-2026\n", "NOPE"),
        (&["--username", "a3", "--grant", "branch"], "Shuji-2026\n", "needs an org"),
        (&["--username", "a4", "--grant", "branch:B1"], "short\n", "8 characters"),
    ];
    for (extra, stdin, expected) in cases {
        let mut args = vec!["user", "create"];
        args.extend_from_slice(extra);
        let (ok, out) = dangjian(&fx, &args, stdin);
        assert!(!ok, "{args:?} should fail: {out}");
        assert!(out.contains(expected), "{args:?}: expected {expected:?} in {out:?}");
        let login = fx.send(Req::post("/api/v1/auth/login").json(json!({"username": args[3], "password": "Shuji-2026"}))).await;
        assert_eq!(login.status, 401, "{} must not exist", args[3]);
    }
}
