//! Cursor paging on every listing (limit 1–1000, default 50, `cursor` → `next_cursor`) with
//! filters the store answers from its index trees: pages have the right size, walking the
//! cursor visits every record exactly once, filters are exact, a bad `limit` or `cursor` is a
//! 400 and changes nothing.

mod admin_support;
mod common;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test;
use chorus::create_app;
use chorus::domain::{Action, Priority, Role, TaskStatus};
use common::followups::{now_rfc3339, store_with_actions};
use common::TestStore;
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn task(queue: &str, due_hours: Option<i64>) -> Action {
    Action::Task {
        queue: queue.into(),
        title: "Call back".into(),
        due_hours,
        priority: Priority::Normal,
        note: None,
    }
}

fn webhook() -> Action {
    Action::Webhook {
        target: "helpdesk".into(),
        payload: None,
    }
}

async fn get<S, B>(app: &S, token: &str, uri: &str) -> (StatusCode, Value)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let req = test::TestRequest::get()
        .uri(uri)
        .insert_header(("Authorization", format!("Bearer {token}")))
        .to_request();
    let res = test::call_service(app, req).await;
    let status = res.status();
    (status, test::read_body_json(res).await)
}

/// Every id of a listing, page by page; each page's size is checked against `limit`.
async fn walk<S, B>(app: &S, token: &str, uri: &str, key: &str, limit: usize) -> Vec<String>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let sep = if uri.contains('?') { '&' } else { '?' };
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut page_uri = format!("{uri}{sep}limit={limit}");
        if let Some(c) = &cursor {
            page_uri.push_str(&format!("&cursor={c}"));
        }
        let (status, body) = get(app, token, &page_uri).await;
        assert_eq!(status, StatusCode::OK, "{page_uri}: {body}");
        let items = body[key].as_array().unwrap();
        assert!(
            items.len() <= limit,
            "{page_uri}: {} > {limit}",
            items.len()
        );
        ids.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_string()));
        match body["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(items.len(), limit, "only the last page is short");
                cursor = Some(next.to_string());
            }
            None => return ids,
        }
    }
}

fn exactly_once(ids: &[String]) -> BTreeSet<String> {
    let set: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(set.len(), ids.len(), "no record twice");
    set
}

#[actix_web::test]
async fn follow_ups_page_through_exact_filters() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let staff = common::add_user(&t.state, "sam", "test-clinic", Role::Staff).await;
    // 130 tasks: 70 in "front-desk" (the first 20 long overdue), 60 in "call-back" without a
    // due time; then 15 of the call-back ones claimed.
    for i in 0..130 {
        let (queue, due, at) = match i {
            0..20 => (
                "front-desk",
                Some(1),
                "2020-01-01T00:00:00.000Z".to_string(),
            ),
            20..70 => ("front-desk", Some(48), now_rfc3339()),
            _ => ("call-back", None, now_rfc3339()),
        };
        store_with_actions(
            &t.state,
            "test-clinic",
            "every-kind",
            &at,
            vec![task(queue, due)],
        )
        .await;
    }
    let all = t.state.store.all_tasks("test-clinic").await.unwrap();
    let claimed: BTreeSet<String> = all
        .iter()
        .filter(|t| t.queue == "call-back")
        .take(15)
        .map(|t| t.id.to_string())
        .collect();
    for id in &claimed {
        let id = id.parse().unwrap();
        let by = "sam";
        chorus::services::follow_ups::change_task_status(
            &t.state,
            "test-clinic",
            id,
            TaskStatus::Claimed,
            by,
            None,
            None,
        )
        .await
        .unwrap();
    }
    let base = "/api/v1/sites/test-clinic/follow-ups";

    // Default page size 50; walking visits all 130 once.
    let (_, first) = get(&app, &staff, base).await;
    assert_eq!(first["follow_ups"].as_array().unwrap().len(), 50);
    assert!(first["next_cursor"].is_string());
    for limit in [1, 7, 50, 1000] {
        let ids = walk(&app, &staff, base, "follow_ups", limit).await;
        let expected: BTreeSet<String> = all.iter().map(|t| t.id.to_string()).collect();
        assert_eq!(exactly_once(&ids), expected, "limit {limit}");
    }
    // Filters are exact, alone and together.
    let ids = walk(
        &app,
        &staff,
        &format!("{base}?overdue=true"),
        "follow_ups",
        8,
    )
    .await;
    assert_eq!(exactly_once(&ids).len(), 20);
    let ids = walk(
        &app,
        &staff,
        &format!("{base}?overdue=false"),
        "follow_ups",
        33,
    )
    .await;
    assert_eq!(exactly_once(&ids).len(), 110);
    let ids = walk(
        &app,
        &staff,
        &format!("{base}?queue=call-back"),
        "follow_ups",
        9,
    )
    .await;
    assert_eq!(exactly_once(&ids).len(), 60);
    let uri = format!("{base}?queue=call-back&status=claimed");
    let ids = walk(&app, &staff, &uri, "follow_ups", 4).await;
    assert_eq!(exactly_once(&ids), claimed);
    let uri = format!("{base}?status=open&queue=front-desk&overdue=true");
    let (_, body) = get(&app, &staff, &uri).await;
    let listed = body["follow_ups"].as_array().unwrap();
    assert_eq!(listed.len(), 20);
    assert!(listed
        .iter()
        .all(|t| t["overdue"] == true && t["queue"] == "front-desk" && t["status"] == "open"));
    let (_, body) = get(&app, &staff, &format!("{base}?status=claimed")).await;
    assert_eq!(body["follow_ups"].as_array().unwrap().len(), 15);

    // Bad paging parameters are refused, with the parameter named, and change nothing.
    let before = t.state.store.all_tasks("test-clinic").await.unwrap();
    let unknown = uuid::Uuid::now_v7();
    for (q, field) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=many", "query"),
        ("cursor=not-a-cursor", "cursor"),
        (&format!("cursor={unknown}") as &str, "cursor"),
    ] {
        let (status, body) = get(&app, &staff, &format!("{base}?{q}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}: {body}");
        assert_eq!(body["error"]["code"], "invalid_query", "{q}");
        assert_eq!(body["error"]["field"], field, "{q}");
    }
    assert_eq!(
        t.state.store.all_tasks("test-clinic").await.unwrap(),
        before
    );
}

#[actix_web::test]
async fn deliveries_and_rule_errors_page_through() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let admin = common::add_user(&t.state, "ada", "test-clinic", Role::Admin).await;
    for _ in 0..75 {
        let at = now_rfc3339();
        store_with_actions(&t.state, "test-clinic", "every-kind", &at, vec![webhook()]).await;
    }
    let base = "/api/v1/sites/test-clinic/deliveries";
    let (_, first) = get(&app, &admin, base).await;
    assert_eq!(first["deliveries"].as_array().unwrap().len(), 50);
    let ids = walk(&app, &admin, base, "deliveries", 20).await;
    assert_eq!(exactly_once(&ids).len(), 75);
    let ids = walk(
        &app,
        &admin,
        &format!("{base}?status=pending"),
        "deliveries",
        30,
    )
    .await;
    assert_eq!(exactly_once(&ids).len(), 75);
    let (_, none) = get(&app, &admin, &format!("{base}?status=delivered")).await;
    assert_eq!(none["deliveries"], json!([]));
    let (status, _) = get(&app, &admin, &format!("{base}?limit=0")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = get(&app, &admin, &format!("{base}?cursor=x")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Rule errors: newest first, by response.
    for i in 0..12 {
        let mut r = common::followups::response("test-clinic", "every-kind", &now_rfc3339());
        r.rule_errors = vec![chorus::domain::RuleError {
            source: "rules/broken.rhai".into(),
            hook: "tag".into(),
            line: Some(1),
            col: Some(i + 1),
            message: "boom".into(),
            superseded_at: None,
        }];
        t.state.store.insert(&r).await.unwrap();
    }
    let uri = "/api/v1/sites/test-clinic/rule-errors";
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, body) = get(&app, &admin, &format!("{uri}?limit=5&cursor={cursor}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page = body["rule_errors"].as_array().unwrap();
        assert!(page.len() <= 5);
        seen.extend(page.iter().map(|e| e["col"].as_u64().unwrap()));
        match body["next_cursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => break,
        }
    }
    assert_eq!(
        seen,
        (1..=12).rev().collect::<Vec<u64>>(),
        "newest first, each once"
    );
    let (status, _) = get(&app, &admin, &format!("{uri}?limit=1001")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn a_tag_filter_is_exact_across_days_and_windows() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let viewer = common::add_user(&t.state, "val", "test-clinic", Role::Viewer).await;
    // 60 days of responses, one of them tagged "parking".
    let mut tagged = Vec::new();
    for day in 0..60 {
        let mut r = common::followups::response("test-clinic", "every-kind", "");
        let ms = 1_767_225_600_000u64 + day * 86_400_000;
        let ts = uuid::Timestamp::from_unix(uuid::NoContext, ms / 1000, 0);
        r.id = uuid::Uuid::new_v7(ts);
        r.submitted_at = chorus::domain::time::rfc3339_of_id(r.id);
        r.tags = if day % 20 == 7 {
            tagged.push(r.id.to_string());
            vec![chorus::domain::Tag {
                code: "parking".into(),
                source: "t".into(),
            }]
        } else {
            vec![]
        };
        t.state.store.insert(&r).await.unwrap();
    }
    let uri = "/api/v1/sites/test-clinic/responses?tag=parking";
    let ids = walk(&app, &viewer, uri, "responses", 2).await;
    assert_eq!(ids, tagged, "exactly the tagged ones, in time order");
    let uri = "/api/v1/sites/test-clinic/responses?tag=parking&since=2026-01-15&until=2026-02-20";
    let ids = walk(&app, &viewer, uri, "responses", 1).await;
    assert_eq!(ids, tagged[1..3].to_vec());
}

/// A link as tera escapes it in a page.
fn unescape(href: &str) -> String {
    href.replace("&amp;", "&").replace("&#x2F;", "/")
}

#[actix_web::test]
async fn the_follow_ups_page_pages_its_lists() {
    let t = admin_support::admin_state().await;
    for i in 0..60 {
        let due = if i < 55 { None } else { Some(1) };
        let at = if i < 55 {
            now_rfc3339()
        } else {
            "2026-03-02T10:00:00Z".into()
        };
        let task = admin_support::task(&format!("Task {i:02}"), due);
        admin_support::store_with_follow_ups(&t.state, "clinic-a", &at, vec![task]).await;
    }
    admin_support::add_person(&t.state, "ann", "clinic-a", Role::Admin).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let cookie = admin_support::sign_in(&app, "ann", admin_support::PASSWORD)
        .await
        .session
        .unwrap();
    let page_uri = "/admin/sites/clinic-a/follow-ups?limit=20";
    let (status, _, page) = admin_support::get_page(&app, &cookie, page_uri).await;
    assert_eq!(status, StatusCode::OK);
    let titles = |page: &str| -> Vec<String> {
        (0..60)
            .map(|i| format!("Task {i:02}"))
            .filter(|t| page.contains(&format!("{t}<")) || page.contains(&format!("{t}\n")))
            .collect()
    };
    let first = titles(&page);
    assert_eq!(first.len(), 25, "the 5 overdue, then 20 others: {first:?}");
    let next = page
        .split("href=\"")
        .filter_map(|s| s.split('"').next())
        .find(|href| href.contains("cursor=") && !href.contains("overdue_cursor"))
        .map(unescape)
        .expect("a link to the next page");
    let mut seen: BTreeSet<String> = first.into_iter().collect();
    let mut link = Some(next);
    while let Some(href) = link.take() {
        let (status, _, page) = admin_support::get_page(&app, &cookie, &href).await;
        assert_eq!(status, StatusCode::OK, "{href}");
        for t in titles(&page) {
            seen.insert(t);
        }
        link = page
            .split("href=\"")
            .filter_map(|s| s.split('"').next())
            .find(|h| h.contains("&amp;cursor=") || h.contains("?cursor="))
            .map(unescape);
    }
    assert_eq!(seen.len(), 60, "every task is on some page");
    let (status, _, _) =
        admin_support::get_page(&app, &cookie, "/admin/sites/clinic-a/follow-ups?limit=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) =
        admin_support::get_page(&app, &cookie, "/admin/sites/clinic-a/responses?limit=5000").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
