//! Tests of the OAuth 2.0 endpoints' helpers: GET and POST parameters, NUL bytes in a form,
//! the claimed client id.

use super::*;

type Res = Result<(), Box<dyn std::error::Error>>;

async fn params_of(
    method: Method,
    body: &'static str,
) -> Result<Bytes, Box<dyn std::error::Error>> {
    let req = Request::builder()
        .method(method)
        .uri("/oauth2/v1/logout?state=q")
        .body(axum::body::Body::from(body))?;
    let params = FormOrQuery::from_request(req, &())
        .await
        .map_err(|e| e.body_text())?;
    Ok(params.0)
}

#[tokio::test]
async fn get_reads_the_query_and_post_the_body() -> Res {
    assert_eq!(params_of(Method::GET, "state=b").await?, "state=q");
    assert_eq!(params_of(Method::HEAD, "state=b").await?, "state=q");
    assert_eq!(params_of(Method::POST, "state=b").await?, "state=b");
    Ok(())
}

#[test]
fn a_nul_anywhere_in_a_form_is_refused() {
    type Form = std::collections::HashMap<String, String>;
    for bad in [
        &b"token=a%00b"[..],
        b"a%00=b",
        b"token=a\0b",
        b"x=1&y=%00",
        b"t=%FF%000",
    ] {
        assert!(parse_form::<Form>(bad).is_err(), "{bad:?}");
    }
    // `%25` is a `%`, `+` a space, a bad byte U+FFFD: none a NUL.
    for good in [&b"token=a%2500b"[..], b"token=a+b%0A", b"t=%FF"] {
        let parsed = parse_form::<Form>(good);
        assert!(
            parsed
                .as_ref()
                .is_ok_and(|f| f.values().all(|v| !v.contains('\0'))),
            "{good:?}: {parsed:?}"
        );
    }
}

#[test]
fn claimed_client_id_prefers_basic_then_form() {
    let mut credentials = ClientCredentials {
        form_client_id: Some("form".into()),
        ..ClientCredentials::default()
    };
    assert_eq!(claimed_client_id(&credentials).as_deref(), Some("form"));
    credentials.basic = Some(("basic".into(), None));
    assert_eq!(claimed_client_id(&credentials).as_deref(), Some("basic"));
    assert_eq!(claimed_client_id(&ClientCredentials::default()), None);
    credentials.basic = Some(("é".repeat(130), None));
    assert_eq!(claimed_client_id(&credentials), Some("é".repeat(128)));
}
