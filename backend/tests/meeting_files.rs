//! Meeting attachments through the storage interface: type by magic bytes, size limit, the
//! PostgreSQL and the directory backends, downloads that a browser will not sniff, archived
//! records taking files only with an addendum.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::Duration;
use common::{Fx, Req, TestApp, users};
use dangjian::schema::{meeting_addenda, meeting_attachments as att, meeting_attendees as ma, meetings as m, stored_files};
use dangjian::storage::Storage;
use dangjian::{AppState, app};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::json;

/// A 1x1 PNG.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\xff\xff?\0\x05\xfe\x02\xfe\xa7\x35\x81\x84\0\0\0\0IEND\xaeB`\x82";

async fn meeting(fx: &Fx, org: i64) -> i64 {
    let id = diesel::insert_into(m::table)
        .values((
            m::org_id.eq(org),
            m::kind.eq("theme_party_day"),
            m::topic.eq("主题党日"),
            m::starts_at.eq(common::clock().now() - Duration::days(1)),
            m::status.eq("held"),
        ))
        .returning(m::id)
        .get_result(&mut fx.conn().await)
        .await
        .unwrap();
    diesel::insert_into(ma::table)
        .values((ma::meeting_id.eq(id), ma::person_id.eq(fx.people.zhangsan), ma::attendance.eq("present")))
        .execute(&mut fx.conn().await)
        .await
        .unwrap();
    id
}

fn upload(meeting: i64, query: &str, file_name: &str, bytes: &[u8]) -> Req {
    let boundary = "a2-boundary-7f3c";
    let mut body =
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
            .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Req::post(format!("/api/v1/meetings/{meeting}/attachments?{query}")).raw(&format!("multipart/form-data; boundary={boundary}"), body)
}

/// The application over the fixture's database with another storage or size limit.
async fn app_with(fx: &Fx, storage: Storage, max: usize) -> TestApp {
    let mut config = fx.shared.state.config.clone();
    config.storage = storage;
    config.attachment_max_bytes = max;
    let shared = app::Shared::new(AppState { pool: fx.shared.state.pool.clone(), config }).unwrap();
    TestApp::new(shared).await
}

#[actix_web::test]
async fn a_png_goes_into_postgres_and_comes_back_byte_for_byte_with_safe_headers() {
    let fx = Fx::new().await;
    let branch = fx.login(users::BR_B1).await;
    let zs = fx.login(users::MEMBER_ZS).await;
    let id = meeting(&fx, fx.orgs.b1).await;
    let v0: i32 = m::table.find(id).select(m::version).first(&mut fx.conn().await).await.unwrap();

    let r = fx.send(upload(id, "category=photo", "../../会场 照片.png", PNG).token(&branch)).await;
    r.expect(201);
    assert_eq!(r.json["meeting_id"], json!(id));
    assert_eq!(r.json["category"], "photo");
    assert_eq!(r.json["file_name"], "会场 照片.png");
    assert_eq!(r.json["content_type"], "image/png");
    assert_eq!(r.json["size_bytes"], json!(PNG.len()));
    use sha2::Digest;
    assert_eq!(r.json["sha256"], json!(hex::encode(sha2::Sha256::digest(PNG))));
    assert_eq!(r.json["addendum_id"], serde_json::Value::Null);
    let att_id = r.json["id"].as_i64().unwrap();
    let v1: i32 = m::table.find(id).select(m::version).first(&mut fx.conn().await).await.unwrap();
    assert_eq!(v1, v0 + 1);
    assert_eq!(fx.audit("meeting_attachment", att_id).await[0].0, "create");
    let key: String = att::table.find(att_id).select(att::storage_key).first(&mut fx.conn().await).await.unwrap();
    assert_eq!(key.len(), 32, "a generated key, not the client's name");
    let stored: Vec<u8> = stored_files::table.find(&key).select(stored_files::content).first(&mut fx.conn().await).await.unwrap();
    assert_eq!(stored, PNG);

    // The member due at it downloads it.
    let r = fx.send(Req::get(format!("/api/v1/meetings/{id}/attachments/{att_id}")).token(&zs)).await;
    r.expect(200);
    assert_eq!(r.bytes, PNG);
    assert_eq!(r.header("content-type"), Some("image/png"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    let cd = r.header("content-disposition").unwrap();
    assert!(cd.starts_with("attachment; filename=\"attachment-"), "{cd}");
    assert!(cd.contains("filename*=UTF-8''%E4%BC%9A%E5%9C%BA%20%E7%85%A7%E7%89%87.png"), "{cd}");
    // Another meeting's id in the path: not found; outside the scope: refused.
    let other = meeting(&fx, fx.orgs.b1).await;
    fx.send(Req::get(format!("/api/v1/meetings/{other}/attachments/{att_id}")).token(&branch)).await.expect_problem(404, "not_found");
    let b3 = meeting(&fx, fx.orgs.b3).await;
    fx.send(upload(b3, "category=photo", "a.png", PNG).token(&branch)).await.expect_problem(403, "out_of_scope");

    // Delete: the row and the stored bytes go.
    fx.send(Req::delete(format!("/api/v1/meetings/{id}/attachments/{att_id}")).token(&branch)).await.expect(204);
    let left: i64 = stored_files::table.count().get_result(&mut fx.conn().await).await.unwrap();
    assert_eq!(left, 0);
    fx.send(Req::get(format!("/api/v1/meetings/{id}/attachments/{att_id}")).token(&branch)).await.expect_problem(404, "not_found");
}

#[actix_web::test]
async fn the_directory_storage_keeps_the_bytes_on_disk_under_a_generated_name() {
    let fx = Fx::new().await;
    let dir = common::tempdir("dj-files");
    let app = app_with(&fx, Storage::Dir(dir.clone()), 10 * 1024 * 1024).await;
    let branch = fx.login(users::BR_B1).await;
    let id = meeting(&fx, fx.orgs.b1).await;
    let pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec();

    let r = app.send(upload(id, "category=sign_in_sheet", "签到表.pdf", &pdf).token(&branch)).await;
    r.expect(201);
    assert_eq!(r.json["content_type"], "application/pdf");
    let att_id = r.json["id"].as_i64().unwrap();
    let key: String = att::table.find(att_id).select(att::storage_key).first(&mut fx.conn().await).await.unwrap();
    let path = dir.join(&key[..2]).join(&key);
    assert_eq!(std::fs::read(&path).unwrap(), pdf);
    let in_db: i64 = stored_files::table.count().get_result(&mut fx.conn().await).await.unwrap();
    assert_eq!(in_db, 0, "nothing in stored_files with the directory backend");

    let r = app.send(Req::get(format!("/api/v1/meetings/{id}/attachments/{att_id}")).token(&branch)).await;
    r.expect(200);
    assert_eq!(r.bytes, pdf);
    assert_eq!(r.header("content-type"), Some("application/pdf"));

    // A failed upload (archived record, no addendum) leaves no file behind.
    let archived = meeting(&fx, fx.orgs.b1).await;
    diesel::update(m::table.find(archived)).set(m::archived_at.eq(common::clock().now())).execute(&mut fx.conn().await).await.unwrap();
    app.send(upload(archived, "category=photo", "a.png", PNG).token(&branch)).await.expect_problem(409, "meeting_archived");
    let files: usize = std::fs::read_dir(&dir).unwrap().flatten().map(|d| std::fs::read_dir(d.path()).unwrap().count()).sum();
    assert_eq!(files, 1);

    app.send(Req::delete(format!("/api/v1/meetings/{id}/attachments/{att_id}")).token(&branch)).await.expect(204);
    assert!(!path.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[actix_web::test]
async fn only_images_and_pdfs_by_content_and_within_the_size_limit_are_accepted() {
    let fx = Fx::new().await;
    let branch = fx.login(users::BR_B1).await;
    let id = meeting(&fx, fx.orgs.b1).await;

    // A Windows executable renamed .png: refused by its content.
    let exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0This program cannot be run in DOS mode.".to_vec();
    let r = fx.send(upload(id, "category=photo", "photo.png", &exe).token(&branch)).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.first_error(), ("file".into(), "unsupported_type".into()));
    // HTML that would run script if a browser rendered it.
    let r = fx.send(upload(id, "category=document", "x.pdf", b"<html><script>alert(1)</script>").token(&branch)).await;
    assert_eq!(r.first_error(), ("file".into(), "unsupported_type".into()));
    // JPEG and WebP are fine.
    fx.send(upload(id, "category=photo", "a.jpg", b"\xFF\xD8\xFF\xE0\0\x10JFIF\0").token(&branch)).await.expect(201);
    let r = fx.send(upload(id, "category=photo", "a.webp", b"RIFF\x1a\0\0\0WEBPVP8 \x0e\0\0\0").token(&branch)).await;
    r.expect(201);
    assert_eq!(r.json["content_type"], "image/webp");
    // Bad category, no file.
    fx.send(upload(id, "category=selfie", "a.png", PNG).token(&branch)).await.expect(400);
    let r = fx
        .send(
            Req::post(format!("/api/v1/meetings/{id}/attachments?category=photo")).token(&branch).raw("multipart/form-data; boundary=x", b"--x--\r\n".to_vec()),
        )
        .await;
    assert_eq!(r.first_error(), ("file".into(), "required".into()));

    // Too large (a limit of 64 bytes here; 10 MiB by default).
    let app = app_with(&fx, Storage::Postgres, 64).await;
    let mut big = PNG.to_vec();
    big.resize(200, 0);
    let r = app.send(upload(id, "category=photo", "big.png", &big).token(&branch)).await;
    r.expect_problem(413, "file_too_large");
    assert_eq!(r.first_error(), ("file".into(), "file_too_large".into()));
    let n: i64 = att::table.filter(att::meeting_id.eq(id)).count().get_result(&mut fx.conn().await).await.unwrap();
    assert_eq!(n, 2);
}

#[actix_web::test]
async fn an_archived_record_takes_files_only_with_one_of_its_addenda() {
    let fx = Fx::new().await;
    let branch = fx.login(users::BR_B1).await;
    let id = meeting(&fx, fx.orgs.b1).await;
    let r = fx.send(upload(id, "category=photo", "before.png", PNG).token(&branch)).await;
    r.expect(201);
    let before = r.json["id"].as_i64().unwrap();
    diesel::update(m::table.find(id)).set(m::archived_at.eq(common::clock().now())).execute(&mut fx.conn().await).await.unwrap();

    fx.send(upload(id, "category=photo", "late.png", PNG).token(&branch)).await.expect_problem(409, "meeting_archived");
    fx.send(Req::delete(format!("/api/v1/meetings/{id}/attachments/{before}")).token(&branch)).await.expect_problem(409, "meeting_archived");

    let addendum = |meeting: i64| {
        diesel::insert_into(meeting_addenda::table)
            .values((meeting_addenda::meeting_id.eq(meeting), meeting_addenda::body.eq("补充签到表")))
            .returning(meeting_addenda::id)
    };
    let own: i64 = addendum(id).get_result(&mut fx.conn().await).await.unwrap();
    let other_meeting = meeting(&fx, fx.orgs.b1).await;
    let foreign: i64 = addendum(other_meeting).get_result(&mut fx.conn().await).await.unwrap();
    let r = fx.send(upload(id, &format!("category=sign_in_sheet&addendum_id={foreign}"), "s.png", PNG).token(&branch)).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.first_error().0, "addendum_id");
    let r = fx.send(upload(id, &format!("category=sign_in_sheet&addendum_id={own}"), "s.png", PNG).token(&branch)).await;
    r.expect(201);
    assert_eq!(r.json["addendum_id"], json!(own));
    // Still readable after archiving.
    let att_id = r.json["id"].as_i64().unwrap();
    let r = fx.send(Req::get(format!("/api/v1/meetings/{id}/attachments/{att_id}")).token(&branch)).await;
    assert_eq!(r.bytes, PNG);
}
