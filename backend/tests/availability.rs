//! Availability under slow clients (the security review's first finding): a branch login sent
//! 34 uploads that announced 1,000 bytes, sent 20 and waited, each holding a pooled database
//! connection while its body did not arrive, and every endpoint that needs the database hung
//! while /healthz kept answering. Carried out here with real sockets against a real server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::{Fx, Req, users};
use serde_json::json;

/// A request on its own connection, answered within `within`: (status, head and body as text).
fn http(addr: SocketAddr, method: &str, path: &str, token: &str, within: Duration) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(within)).unwrap();
    write!(s, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Length: 0\r\n\r\n").unwrap();
    let mut out = Vec::new();
    if let Err(e) = s.read_to_end(&mut out) {
        panic!("{method} {path}: no answer within {within:?} ({e}); got {:?}", String::from_utf8_lossy(&out));
    }
    let text = String::from_utf8_lossy(&out).to_string();
    (text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0), text)
}

/// An upload that announces `announced` bytes, sends the form's first 20 and then waits.
fn slow_upload(addr: SocketAddr, path: &str, token: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 1000\r\n\r\n--XyZ\r\nContent-Dis"
    )
    .unwrap();
    s.flush().unwrap();
    s
}

#[actix_web::test]
async fn slow_uploads_hold_no_database_connection_and_time_out() {
    // A pool of 4 (the server's default is 32): 10 slow uploads are more than it has.
    let fx = Fx::with_config(|c| {
        c.pool_size = 4;
        c.body_idle_timeout = Duration::from_secs(3);
        c.pool_timeout = Duration::from_secs(2);
    })
    .await;
    let br = fx.login(users::BR_B1).await;
    let meeting = fx
        .send(Req::post("/api/v1/meetings").token(&br).json(json!({
            "org_id": fx.orgs.b1, "kind": "theme_party_day", "topic": "主题党日", "status": "held",
            "starts_at": (common::clock().now() - chrono::Duration::days(1)).to_rfc3339()
        })))
        .await;
    meeting.expect(201);
    let path = format!("/api/v1/meetings/{}/attachments?category=photo", meeting.json["id"]);
    let addr = fx.serve();

    let (br2, addr2) = (br.clone(), addr);
    let blocking = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let slow: Vec<TcpStream> = (0..10).map(|_| slow_upload(addr2, &path, &br2)).collect();
        std::thread::sleep(Duration::from_millis(500));
        // While they wait, the database endpoints answer, and /readyz within a second.
        let (status, text) = http(addr2, "GET", "/api/v1/members?page_size=1", &br2, Duration::from_secs(3));
        assert_eq!(status, 200, "{text}");
        let t = Instant::now();
        let (status, text) = http(addr2, "GET", "/readyz", "", Duration::from_secs(2));
        assert_eq!(status, 200, "{text}");
        assert!(t.elapsed() < Duration::from_secs(1), "/readyz took {:?}", t.elapsed());
        // Each slow upload is answered 408 once it has paused for the idle timeout.
        for mut s in slow {
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut out = Vec::new();
            let _ = s.read_to_end(&mut out);
            let text = String::from_utf8_lossy(&out);
            assert!(text.starts_with("HTTP/1.1 408"), "{text}");
            assert!(text.contains("body_timeout") && text.contains("application/problem+json"), "{text}");
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    });
    blocking.await.unwrap();
}

/// When every pooled connection is taken for longer than the pool's wait, a request is answered
/// 503 with Retry-After (problem+json), not queued for as long as they stay taken; /readyz says
/// so within a second.
#[actix_web::test]
async fn an_exhausted_pool_answers_503_with_retry_after() {
    let fx = Fx::with_config(|c| {
        c.pool_size = 2;
        c.pool_timeout = Duration::from_millis(1500);
    })
    .await;
    let br = fx.login(users::BR_B1).await;
    let addr = fx.serve();
    let held = (fx.conn().await, fx.conn().await);
    let blocking = tokio::task::spawn_blocking(move || {
        let t = Instant::now();
        let (status, text) = http(addr, "GET", "/api/v1/members?page_size=1", &br, Duration::from_secs(5));
        assert_eq!(status, 503, "{text}");
        assert!(text.contains("retry-after: 1") || text.contains("Retry-After: 1"), "{text}");
        assert!(text.contains("application/problem+json"), "{text}");
        assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
        let t = Instant::now();
        let (status, _) = http(addr, "GET", "/readyz", "", Duration::from_secs(3));
        assert_eq!(status, 503);
        assert!(t.elapsed() < Duration::from_millis(1500), "/readyz took {:?}", t.elapsed());
    });
    blocking.await.unwrap();
    drop(held);
}
