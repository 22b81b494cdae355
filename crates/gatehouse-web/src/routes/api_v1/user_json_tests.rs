use super::*;
use gatehouse_core::domain::UserStatus;
use serde_json::{Value, json};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const ORIGIN: &str = "https://id.example.com";

fn okta_date_opt(ts: Option<Timestamp>) -> Value {
    ts.map_or(Value::Null, |t| Value::String(okta_date(t)))
}

/// The `Value`-tree rendering this module replaced: the reference for the JSON content.
fn dom_user_json(origin: &str, u: &User) -> Value {
    let mut profile = json!({
        "firstName": u.first_name,
        "lastName": u.last_name,
        "login": u.login,
        "email": u.email,
    });
    if let (Some(d), Some(map)) = (&u.display_name, profile.as_object_mut()) {
        map.insert("displayName".into(), json!(d));
    }
    let mut credentials = json!({ "provider": { "type": "OKTA", "name": "OKTA" } });
    if let (Some(_), Some(map)) = (&u.password_hash, credentials.as_object_mut()) {
        map.insert("password".into(), json!({}));
    }
    let href = format!("{origin}/api/v1/users/{}", u.id);
    json!({
        "id": u.id,
        "status": u.status.as_str(),
        "created": okta_date(u.created),
        "activated": okta_date_opt(u.activated),
        "statusChanged": okta_date_opt(u.status_changed),
        "lastLogin": okta_date_opt(u.last_login),
        "lastUpdated": okta_date(u.last_updated),
        "passwordChanged": okta_date_opt(u.password_changed),
        "type": { "id": DEFAULT_USER_TYPE_ID },
        "profile": profile,
        "credentials": credentials,
        "_links": { "self": { "href": href } },
    })
}

fn user(i: usize) -> User {
    let some = |t: i64| (i.is_multiple_of(2)).then_some(t);
    User {
        id: format!("00u{i:017}"),
        status: if i.is_multiple_of(3) {
            UserStatus::Staged
        } else {
            UserStatus::Active
        },
        login: format!("user{i}@example.com"),
        email: format!("user{i}+\"quoted\"\\@example.com"),
        first_name: format!("Fïrst\n{i}"),
        last_name: "Last</script>".into(),
        display_name: i.is_multiple_of(4).then(|| format!("Display {i}")),
        password_hash: (!i.is_multiple_of(5))
            .then(|| "$argon2id$v=19$m=19456,t=2,p=1$abc$def".into()),
        created: 1_700_000_000 + i as i64,
        last_updated: 1_700_000_500 + i as i64,
        activated: some(1_700_000_100),
        status_changed: some(1_700_000_200),
        last_login: some(0),
        password_changed: some(253_402_300_799), // 9999-12-31T23:59:59
    }
}

fn users(n: usize) -> Vec<User> {
    (0..n).map(user).collect()
}

#[test]
fn same_json_as_the_value_tree() -> TestResult {
    for u in &users(40) {
        let fast: Value = serde_json::to_value(UserJson::new(ORIGIN, u))?;
        assert_eq!(fast, dom_user_json(ORIGIN, u), "user {}", u.id);
    }
    Ok(())
}

#[test]
fn keys_in_okta_order() -> TestResult {
    let text = serde_json::to_string(&UserJson::new(ORIGIN, &user(0)))?;
    let keys = [
        "\"id\"",
        "\"status\"",
        "\"created\"",
        "\"activated\"",
        "\"statusChanged\"",
        "\"lastLogin\"",
        "\"lastUpdated\"",
        "\"passwordChanged\"",
        "\"type\"",
        "\"profile\"",
        "\"credentials\"",
        "\"_links\"",
    ];
    let at: Vec<usize> = keys
        .iter()
        .map(|k| text.find(k).unwrap_or(usize::MAX))
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
    Ok(())
}

#[test]
fn out_of_range_dates_render_like_okta_date() -> TestResult {
    for ts in [-1, -62_167_219_200, 253_402_300_800, i64::MAX, i64::MIN] {
        assert_eq!(OktaDate(ts).to_string(), okta_date(ts), "{ts}");
    }
    Ok(())
}

#[test]
fn dates_serialize_as_okta_date() -> TestResult {
    let mut stamps = vec![
        0,
        -1,
        59,
        -62_167_219_200,
        -62_167_219_201,
        253_402_300_799,
        253_402_300_800,
        951_782_400,
        1_709_164_799,
        i64::MAX,
        i64::MIN,
    ];
    // A spread over the four-digit years, seconds included.
    let mut x: i64 = 0x2545_f491;
    for _ in 0..2000 {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        stamps.push(x.rem_euclid(253_402_300_800 + 62_167_219_200) - 62_167_219_200);
    }
    for ts in stamps {
        assert_eq!(
            serde_json::to_string(&OktaDate(ts))?,
            serde_json::to_string(&okta_date(ts))?,
            "{ts}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn page_is_a_json_array() -> TestResult {
    let list = users(3);
    let response = users_page(ORIGIN, &list)?;
    assert_eq!(
        response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.as_bytes()),
        Some(&b"application/json"[..])
    );
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
    let got: Value = serde_json::from_slice(&bytes)?;
    let want: Vec<Value> = list.iter().map(|u| dom_user_json(ORIGIN, u)).collect();
    assert_eq!(got, Value::Array(want));
    let empty = users_page(ORIGIN, &[])?;
    let bytes = axum::body::to_bytes(empty.into_body(), usize::MAX).await?;
    assert_eq!(&bytes[..], b"[]");
    Ok(())
}

/// CPU per 1000-user page, old vs new:
/// `cargo test --release -p gatehouse-web user_json::tests::bench -- --ignored --nocapture`.
#[test]
#[ignore]
fn bench_page_of_1000() -> TestResult {
    use std::time::Instant;
    let list = users(1000);
    let rounds = 200;
    let start = Instant::now();
    let mut len = 0;
    for _ in 0..rounds {
        let body: Vec<Value> = list.iter().map(|u| dom_user_json(ORIGIN, u)).collect();
        len += serde_json::to_vec(&Value::Array(body))?.len();
    }
    let old = start.elapsed() / rounds;
    let start = Instant::now();
    for _ in 0..rounds {
        let mut body = Vec::with_capacity(2 + list.len() * BYTES_PER_USER);
        let mut ser = serde_json::Serializer::new(&mut body);
        ser.collect_seq(list.iter().map(|u| UserJson::new(ORIGIN, u)))?;
        len += body.len();
    }
    let new = start.elapsed() / rounds;
    println!("1000-user page: Value tree {old:?}, direct {new:?} ({len} bytes total)");
    Ok(())
}
