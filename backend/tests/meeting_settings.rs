//! Meeting kinds (configuration), per-org meeting rules with docs/domain.md's defaults, has_committee
//! (支部工作条例 art. 17: 7 or more full members elect a committee) and the officers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Fx, Req, users};
use serde_json::{Value, json};

fn rule<'a>(rules: &'a Value, kind: &str) -> Option<&'a Value> {
    rules["rules"].as_array().unwrap().iter().find(|r| r["kind"] == kind)
}

#[actix_web::test]
async fn kinds_are_listed_in_order_and_only_political_dept_over_everything_adds_or_changes_them() {
    let fx = Fx::new().await;
    let member = fx.login(users::MEMBER_ZS).await;
    let admin = fx.login(users::ADMIN).await;
    let pd_c1 = fx.login(users::PD_C1).await;
    let branch = fx.login(users::BR_B1).await;

    let r = fx.send(Req::get("/api/v1/meeting-kinds").token(&member)).await;
    r.expect(200);
    let codes: Vec<&str> = r.json.as_array().unwrap().iter().map(|k| k["code"].as_str().unwrap()).collect();
    assert_eq!(
        codes,
        [
            "branch_general_meeting",
            "branch_committee_meeting",
            "group_meeting",
            "party_lecture",
            "theme_party_day",
            "org_life_meeting",
            "democratic_appraisal",
            "heart_to_heart_talk"
        ]
    );
    let lecture = &r.json[3];
    assert_eq!(lecture["frequency"], "quarter");
    assert_eq!(lecture["study_hours"], json!(2.0));
    assert_eq!(lecture["builtin"], true);
    assert_eq!(r.json[0]["may_vote"], true);
    assert_eq!(r.json[1]["needs_committee"], true);

    let body = json!({"code": "study_session", "name": "专题学习会", "name_en": "Study session", "frequency": "month", "study_hours": 1.5, "sort_order": 45});
    // The kinds are institution-wide configuration: a political_dept grant over C1 only is out of scope.
    fx.send(Req::post("/api/v1/meeting-kinds").token(&pd_c1).json(body.clone())).await.expect_problem(403, "out_of_scope");
    fx.send(Req::post("/api/v1/meeting-kinds").token(&branch).json(body.clone())).await.expect_problem(403, "role_not_allowed");
    let r = fx.send(Req::post("/api/v1/meeting-kinds").token(&admin).json(body.clone())).await;
    r.expect(201);
    assert_eq!(r.json["builtin"], false);
    assert_eq!(r.json["org_kinds"], json!(["branch"]));
    assert_eq!(r.json["study_hours"], json!(1.5));
    assert_eq!(r.json["version"], 1);
    let r = fx.send(Req::post("/api/v1/meeting-kinds").token(&admin).json(body.clone())).await;
    r.expect_problem(409, "duplicate");
    assert_eq!(r.first_error().0, "code");
    let r = fx
        .send(
            Req::post("/api/v1/meeting-kinds")
                .token(&admin)
                .json(json!({"code": "Bad-Code", "name": "", "name_en": "x", "frequency": "month", "per_period": 0})),
        )
        .await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.errors(), ["code:invalid_code", "name:required", "per_period:out_of_range"]);
    fx.send(Req::post("/api/v1/meeting-kinds").token(&admin).json(json!({"code": "x_y", "name": "a", "name_en": "a", "frequency": "weekly"})))
        .await
        .expect(400);

    // The custom kind appears in the list, at its place in the order.
    let r = fx.send(Req::get("/api/v1/meeting-kinds").token(&member)).await;
    let codes: Vec<&str> = r.json.as_array().unwrap().iter().map(|k| k["code"].as_str().unwrap()).collect();
    assert_eq!(codes.len(), 9);
    assert_eq!(codes[4], "study_session");

    // PATCH: the version is required and checked.
    fx.send(Req::patch("/api/v1/meeting-kinds/study_session").token(&admin).json(json!({"frequency": "quarter"})))
        .await
        .expect_problem(428, "version_required");
    fx.send(Req::patch("/api/v1/meeting-kinds/study_session").token(&admin).if_match(7).json(json!({"frequency": "quarter"})))
        .await
        .expect_problem(412, "stale_version");
    fx.send(Req::patch("/api/v1/meeting-kinds/study_session").token(&admin).json(json!({"frequency": "quarter", "version": 7})))
        .await
        .expect_problem(409, "stale_version");
    fx.send(Req::patch("/api/v1/meeting-kinds/study_session").token(&pd_c1).if_match(1).json(json!({"frequency": "quarter"})))
        .await
        .expect_problem(403, "out_of_scope");
    let r = fx.send(Req::patch("/api/v1/meeting-kinds/study_session").token(&admin).if_match(1).json(json!({"frequency": "quarter", "per_period": 2}))).await;
    r.expect(200);
    assert_eq!(r.json["frequency"], "quarter");
    assert_eq!(r.json["per_period"], 2);
    assert_eq!(r.json["version"], 2);
    assert_eq!(r.etag(), Some("\"2\""));
    fx.send(Req::patch("/api/v1/meeting-kinds/no_such").token(&admin).if_match(1).json(json!({"name": "x"}))).await.expect_problem(404, "not_found");
    let r = fx.send(Req::patch("/api/v1/meeting-kinds/study_session").token(&admin).if_match(2).json(json!({"study_hours": 30}))).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.first_error(), ("study_hours".into(), "out_of_range".into()));

    // Audited.
    use dangjian::schema::audit_log as l;
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let actions: Vec<String> = l::table.filter(l::entity.eq("meeting_kind")).order(l::id).select(l::action).load(&mut fx.conn().await).await.unwrap();
    assert_eq!(actions, ["create", "update"]);
}

#[actix_web::test]
async fn meeting_rules_default_to_the_kinds_and_an_ancestors_rule_is_inherited_until_the_branch_sets_its_own() {
    let fx = Fx::new().await;
    let o = fx.orgs;
    let branch = fx.login(users::BR_B1).await;
    let committee = fx.login(users::COM_C1).await;

    // Defaults: B1 has two full members (张三, and 王五 in its party group B1-1, whose members are
    // the branch's; 李四 is probationary), so no committee and no 支委会 owed (docs/domain.md,
    // Organizations).
    let r = fx.send(Req::get(format!("/api/v1/orgs/{}/meeting-rules", o.b1)).token(&branch)).await;
    r.expect(200);
    assert_eq!(r.json["has_committee"], json!({"value": false, "source": "default", "setting": null, "full_members": 2}));
    assert_eq!(r.json["version"], 0);
    assert!(rule(&r.json, "branch_committee_meeting").is_none(), "{}", r.text);
    assert!(rule(&r.json, "group_meeting").is_none(), "a branch owes no 党小组会 itself");
    let lecture = rule(&r.json, "party_lecture").unwrap();
    assert_eq!((lecture["frequency"].as_str(), lecture["source"].as_str(), &lecture["from_org_id"]), (Some("quarter"), Some("kind"), &Value::Null));
    // The group owes 党小组会 monthly.
    let r = fx.send(Req::get(format!("/api/v1/orgs/{}/meeting-rules", o.b1_1)).token(&branch)).await;
    assert_eq!(rule(&r.json, "group_meeting").unwrap()["frequency"], "month");
    // Out of scope.
    fx.send(Req::get(format!("/api/v1/orgs/{}/meeting-rules", o.b3)).token(&branch)).await.expect_problem(403, "out_of_scope");

    // The general branch G1 sets 党课 monthly for its subtree.
    let put = |org: i64, body: Value| Req::new("PUT", format!("/api/v1/orgs/{org}/meeting-rules")).json(body);
    // A branch does not set its own requirements.
    fx.send(put(o.b1, json!({"has_committee": null, "rules": [], "version": 0})).token(&branch)).await.expect_problem(403, "role_not_allowed");
    fx.send(put(o.g1, json!({"has_committee": null, "rules": [{"kind": "party_lecture", "frequency": "month"}]})).token(&committee))
        .await
        .expect_problem(428, "version_required");
    let r = fx.send(put(o.g1, json!({"has_committee": null, "rules": [{"kind": "nope", "frequency": "month"}, {"kind": "party_lecture", "frequency": "month", "per_period": 40}], "version": 0})).token(&committee)).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.errors(), ["rules[0].kind:unknown_kind", "rules[1].per_period:out_of_range"]);
    let r =
        fx.send(put(o.g1, json!({"has_committee": null, "rules": [{"kind": "party_lecture", "frequency": "month"}], "version": 0})).token(&committee)).await;
    r.expect(200);
    assert_eq!(r.json["version"], 1);
    fx.send(put(o.g1, json!({"has_committee": null, "rules": [], "version": 0})).token(&committee)).await.expect_problem(409, "stale_version");

    let r = fx.send(Req::get(format!("/api/v1/orgs/{}/meeting-rules", o.b1)).token(&branch)).await;
    let lecture = rule(&r.json, "party_lecture").unwrap();
    assert_eq!(lecture["frequency"], "month");
    assert_eq!(lecture["source"], "inherited");
    assert_eq!(lecture["from_org_id"], json!(o.g1));
    assert_eq!(rule(&r.json, "theme_party_day").unwrap()["source"], "kind");

    // The branch's own rule (set by the committee above it) overrides the inherited one.
    let r = fx
        .send(
            put(o.b1, json!({"has_committee": null, "rules": [{"kind": "party_lecture", "frequency": "half_year", "per_period": 2}], "version": 0}))
                .token(&committee),
        )
        .await;
    r.expect(200);
    let lecture = rule(&r.json, "party_lecture").unwrap();
    assert_eq!((lecture["frequency"].as_str(), lecture["per_period"].as_i64(), lecture["source"].as_str()), (Some("half_year"), Some(2), Some("own")));
    assert_eq!(lecture["from_org_id"], json!(o.b1));
    // B2 still inherits G1's.
    let r = fx.send(Req::get(format!("/api/v1/orgs/{}/meeting-rules", o.b2)).token(&committee)).await;
    assert_eq!(rule(&r.json, "party_lecture").unwrap()["source"], "inherited");

    // Replacing with no rules: B1 inherits again. Audited with the own settings before and after.
    let r = fx.send(put(o.b1, json!({"has_committee": null, "rules": [], "version": 1})).token(&committee)).await;
    r.expect(200);
    assert_eq!(rule(&r.json, "party_lecture").unwrap()["source"], "inherited");
    let audit = fx.audit("meeting_rules", o.b1).await;
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[1].2.as_ref().unwrap()["rules"][0]["kind"], "party_lecture");
    assert_eq!(audit[1].3.as_ref().unwrap()["rules"], json!([]));
    // Outside the committee's scope.
    fx.send(put(o.b3, json!({"has_committee": null, "rules": [], "version": 0})).token(&committee)).await.expect_problem(403, "out_of_scope");
}

#[actix_web::test]
async fn has_committee_follows_seven_full_members_unless_the_setting_says_otherwise() {
    let fx = Fx::new().await;
    let o = fx.orgs;
    let committee = fx.login(users::COM_C1).await;
    // 张三, 王五 (in the party group B1-1) and four more full members: 6, no committee
    // (支部工作条例 art. 17 needs 7).
    for i in 0..4 {
        fx.new_member(&format!("党员{i}"), o.b1).await;
    }
    let r = fx.send(Req::get(format!("/api/v1/orgs/{}/meeting-rules", o.b1)).token(&committee)).await;
    assert_eq!(r.json["has_committee"]["full_members"], 6);
    assert_eq!(r.json["has_committee"]["value"], false);
    fx.new_member("党员6", o.b1).await;
    let r = fx.send(Req::get(format!("/api/v1/orgs/{}/meeting-rules", o.b1)).token(&committee)).await;
    assert_eq!(r.json["has_committee"], json!({"value": true, "source": "default", "setting": null, "full_members": 7}));
    let cm = rule(&r.json, "branch_committee_meeting").unwrap();
    assert_eq!((cm["frequency"].as_str(), cm["source"].as_str()), (Some("month"), Some("kind")));

    // The setting overrides the count either way.
    let put = |body: Value| Req::new("PUT", format!("/api/v1/orgs/{}/meeting-rules", o.b1)).token(&committee).json(body);
    let r = fx.send(put(json!({"has_committee": false, "rules": [], "version": 0}))).await;
    r.expect(200);
    assert_eq!(r.json["has_committee"], json!({"value": false, "source": "setting", "setting": false, "full_members": 7}));
    assert!(rule(&r.json, "branch_committee_meeting").is_none());
    let r = fx.send(Req::get(format!("/api/v1/orgs/{}/meeting-rules", o.b2)).token(&committee)).await;
    assert_eq!(r.json["has_committee"]["value"], false);
    let r = fx
        .send(Req::new("PUT", format!("/api/v1/orgs/{}/meeting-rules", o.b2)).token(&committee).json(json!({"has_committee": true, "rules": [], "version": 0})))
        .await;
    assert_eq!(r.json["has_committee"], json!({"value": true, "source": "setting", "setting": true, "full_members": 0}));
    assert!(rule(&r.json, "branch_committee_meeting").is_some());
    // Back to the default.
    let r = fx.send(put(json!({"has_committee": null, "rules": [], "version": 1}))).await;
    assert_eq!(r.json["has_committee"]["source"], "default");
    assert_eq!(r.json["has_committee"]["value"], true);
}

#[actix_web::test]
async fn officers_are_replaced_as_a_set_with_one_secretary_at_most_and_members_only() {
    let fx = Fx::new().await;
    let o = fx.orgs;
    let p = fx.people;
    let branch = fx.login(users::BR_B1).await;
    let put = |org: i64, body: Value| Req::new("PUT", format!("/api/v1/orgs/{org}/officers")).token(&branch).json(body);

    let r = fx.send(Req::get(format!("/api/v1/orgs/{}/officers", o.b1)).token(&branch)).await;
    r.expect(200);
    assert_eq!(r.json, json!([]));

    // 王五 belongs to the party group B1-1: a member of the branch's groups counts.
    let r = fx
        .send(put(
            o.b1,
            json!({"officers": [
                {"person_id": p.lisi, "post": "committee_member"},
                {"person_id": p.zhangsan, "post": "secretary", "since": "2025-01-10"},
                {"person_id": p.wangwu, "post": "deputy_secretary"},
            ]}),
        ))
        .await;
    r.expect(200);
    let posts: Vec<(i64, &str)> = r.json.as_array().unwrap().iter().map(|o| (o["person_id"].as_i64().unwrap(), o["post"].as_str().unwrap())).collect();
    assert_eq!(posts, [(p.zhangsan, "secretary"), (p.wangwu, "deputy_secretary"), (p.lisi, "committee_member")]);
    assert_eq!(r.json[0]["name"], "张三");
    assert_eq!(r.json[0]["since"], "2025-01-10");
    assert_eq!(r.json[0]["until"], Value::Null);

    // Two secretaries; someone of another branch; a person listed twice.
    let r = fx
        .send(put(
            o.b1,
            json!({"officers": [
                {"person_id": p.zhangsan, "post": "secretary"},
                {"person_id": p.lisi, "post": "secretary"},
            ]}),
        ))
        .await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.errors(), ["officers[1].post:one_secretary"]);
    let r = fx.send(put(o.b1, json!({"officers": [{"person_id": p.qianqi, "post": "committee_member"}, {"person_id": p.zhangsan, "post": "secretary"}, {"person_id": p.zhangsan, "post": "committee_member"}]}))).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.errors(), ["officers[0].person_id:not_a_member", "officers[2].person_id:duplicate"]);

    // A new secretary: 张三 leaves office today, 李四 takes over; 王五 unchanged keeps his row.
    let before_wangwu = fx.send(Req::get(format!("/api/v1/orgs/{}/officers", o.b1)).token(&branch)).await.json[1]["id"].clone();
    let r = fx.send(put(o.b1, json!({"officers": [{"person_id": p.lisi, "post": "secretary"}, {"person_id": p.wangwu, "post": "deputy_secretary"}]}))).await;
    r.expect(200);
    assert_eq!(r.json.as_array().unwrap().len(), 2);
    assert_eq!(r.json[0]["person_id"], json!(p.lisi));
    assert_eq!(r.json[1]["id"], before_wangwu);
    use dangjian::schema::org_officers as oo;
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let ended: Vec<(i64, String, Option<chrono::NaiveDate>)> =
        oo::table.filter(oo::person_id.eq(p.zhangsan)).select((oo::person_id, oo::post, oo::until)).load(&mut fx.conn().await).await.unwrap();
    assert_eq!(ended, [(p.zhangsan, "secretary".to_string(), Some(fx.today()))]);
    let audit = fx.audit("org_officers", o.b1).await;
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[1].3.as_ref().unwrap().as_array().unwrap().len(), 2);

    // Two clerks read the same committee; the second replacement, based on what it read before
    // the first one's, is refused (409) instead of silently undoing it.
    let read: Vec<i64> = fx
        .send(Req::get(format!("/api/v1/orgs/{}/officers", o.b1)).token(&branch))
        .await
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect();
    fx.send(put(o.b1, json!({"officers": [{"person_id": p.lisi, "post": "secretary"}], "read_ids": read}))).await.expect(200);
    let r = fx
        .send(put(
            o.b1,
            json!({"officers": [{"person_id": p.lisi, "post": "secretary"}, {"person_id": p.zhangsan, "post": "committee_member"}], "read_ids": read}),
        ))
        .await;
    r.expect_problem(409, "stale_version");
    let now = fx.send(Req::get(format!("/api/v1/orgs/{}/officers", o.b1)).token(&branch)).await;
    assert_eq!(now.json.as_array().unwrap().len(), 1);

    // Scope.
    fx.send(put(o.b3, json!({"officers": []}))).await.expect_problem(403, "out_of_scope");
    fx.send(Req::get(format!("/api/v1/orgs/{}/officers", o.b3)).token(&branch)).await.expect_problem(403, "out_of_scope");
    let member = fx.login(users::MEMBER_ZS).await;
    fx.send(Req::get(format!("/api/v1/orgs/{}/officers", o.b1)).token(&member)).await.expect_problem(403, "role_not_allowed");
}
