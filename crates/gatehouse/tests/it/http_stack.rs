//! What every answer of the public listener carries, whichever layer wrote it: the cached
//! discovery and JWKS answers, the repaired URLs, and the refusals before routing.

use anyhow::{Context as _, Result, ensure};
use gatehouse_store::test_support::Backend;
use reqwest::StatusCode;

use crate::helpers::{Reply, Server, TestApp, http_client, spawn_app};

backend_tests!(
    cached_answers_keep_their_headers,
    repaired_urls_reach_their_route,
    refusals_are_marked_too,
);

/// The headers the layers around the routes add.
fn check_layers(what: &str, reply: &Reply) -> Result<()> {
    ensure!(
        reply.header("x-content-type-options") == Some("nosniff"),
        "{what}: nosniff: {reply:?}"
    );
    ensure!(
        reply.header("referrer-policy") == Some("no-referrer"),
        "{what}: Referrer-Policy: {reply:?}"
    );
    let id = reply
        .header("x-okta-request-id")
        .with_context(|| format!("{what}: no request id: {reply:?}"))?;
    ensure!(id.len() >= 16, "{what}: {id}");
    Ok(())
}

async fn get_from(app: &TestApp, path: &str, origin: &str) -> Result<Reply> {
    let res = http_client()?
        .get(format!("{}{path}", app.base))
        .header("origin", origin)
        .send()
        .await?;
    Reply::read(res).await
}

async fn cached_answers_keep_their_headers(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let paths = [
        "/.well-known/openid-configuration",
        "/oauth2/default/.well-known/openid-configuration",
        "/oauth2/v1/keys",
        "/oauth2/default/v1/keys",
    ];
    // Twice: the first answer fills the caches, the second is served from them.
    for round in 0..2 {
        for path in paths {
            let what = format!("{path} (round {round})");
            let reply = get_from(&app, path, "https://not-trusted.example.test").await?;
            ensure!(reply.status == StatusCode::OK, "{what}: {reply:?}");
            ensure!(
                reply.header("content-type") == Some("application/json"),
                "{what}: {reply:?}"
            );
            check_layers(&what, &reply)?;
            // A `fetch`-able endpoint: the answer varies by origin, and an untrusted one gets
            // no allow headers.
            ensure!(reply.header("vary") == Some("Origin"), "{what}: {reply:?}");
            ensure!(
                reply.header("access-control-allow-origin").is_none(),
                "{what}: {reply:?}"
            );
            if path.ends_with("/keys") {
                ensure!(
                    reply.header("cache-control") == Some("max-age=3600, must-revalidate"),
                    "{what}: {reply:?}"
                );
                ensure!(reply.json()?["keys"].is_array(), "{what}: {reply:?}");
            } else {
                ensure!(reply.json()?["issuer"].is_string(), "{what}: {reply:?}");
            }
        }
    }
    // Each answer has an id of its own, also when the body is the cached one.
    let a = app.get(&app.endpoint(Server::Default, "keys")).await?;
    let b = app.get(&app.endpoint(Server::Default, "keys")).await?;
    ensure!(a.body == b.body, "{a:?} {b:?}");
    ensure!(
        a.header("x-okta-request-id") != b.header("x-okta-request-id"),
        "{a:?} {b:?}"
    );
    Ok(())
}

/// `…/default//.well-known/…` and the discovery path pasted twice are repaired before routing.
async fn repaired_urls_reach_their_route(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let issuer = app.issuer(Server::Default);
    for path in [
        "/oauth2/default//.well-known/openid-configuration",
        "/oauth2/default/.well-known/openid-configuration/.well-known/openid-configuration",
        "/oauth2/default/.well-known/openid-configuration?x=1",
    ] {
        let reply = app.get(&format!("{}{path}", app.base)).await?;
        ensure!(reply.status == StatusCode::OK, "{path}: {reply:?}");
        ensure!(
            reply.json()?["issuer"] == issuer.as_str(),
            "{path}: {reply:?}"
        );
        check_layers(path, &reply)?;
    }
    let reply = app.get(&format!("{}/no/such/page", app.base)).await?;
    ensure!(reply.status == StatusCode::NOT_FOUND, "{reply:?}");
    check_layers("the fallback", &reply)?;
    Ok(())
}

/// Refused before routing (an ambiguous path, a NUL) or by the body limit: still counted,
/// logged and marked with a request id.
async fn refusals_are_marked_too(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    for path in ["/oauth2/default%2Fv1/keys", "/oauth2/v1/keys?x=%00"] {
        let reply = app.get(&format!("{}{path}", app.base)).await?;
        ensure!(reply.status == StatusCode::BAD_REQUEST, "{path}: {reply:?}");
        check_layers(path, &reply)?;
    }
    let res = http_client()?
        .post(app.endpoint(Server::Default, "introspect"))
        .header("content-type", "application/json")
        .body(vec![b' '; 65 * 1024])
        .send()
        .await?;
    let reply = Reply::read(res).await?;
    ensure!(reply.status == StatusCode::PAYLOAD_TOO_LARGE, "{reply:?}");
    ensure!(reply.header("x-okta-request-id").is_some(), "{reply:?}");
    Ok(())
}
