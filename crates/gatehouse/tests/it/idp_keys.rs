//! The upstream rotates its signing keys: an ID token under a `kid` Gatehouse has not cached
//! makes it refetch the upstream's JWKS once and verify with the new key; made-up kids do not
//! make it refetch again within the limit, and a key the upstream does not publish is refused.

use anyhow::{Context as _, Result, ensure};
use gatehouse_store::test_support::Backend;
use serde_json::{Value, json};

use crate::client_keys::ClientKey;
use crate::helpers::{Browser, GENERIC_LOGIN_FAILURE, Server, TestApp, spawn_app_with};
use crate::idp_upstream::{SentUpstream, Upstream, create_idp};

backend_tests!(idp_refetches_rotated_upstream_keys_once);

async fn go_upstream(app: &TestApp, browser: &Browser, idp: &str) -> Result<SentUpstream> {
    let url = app.authz(Server::Default).set("idp", idp).url();
    SentUpstream::from_reply(&browser.get(&url).await?)
}

fn carol(upstream: &Upstream, nonce: &str) -> Value {
    upstream.claims(
        "up-carol",
        nonce,
        json!({"email": "carol@upstream.example", "email_verified": true,
               "given_name": "Carol", "family_name": "Cook"}),
    )
}

/// One sign-in through the upstream with an ID token from `sign`; the callback's status.
async fn sign_in_with(
    app: &TestApp,
    upstream: &Upstream,
    idp: &str,
    sign: impl Fn(&Value) -> Result<String>,
) -> Result<(u16, String)> {
    let browser = Browser::new()?;
    let sent = go_upstream(app, &browser, idp).await?;
    upstream.answer_with(sign(&carol(upstream, &sent.nonce))?);
    let back = sent.come_back(&browser).await?;
    Ok((back.status.as_u16(), back.body))
}

async fn idp_refetches_rotated_upstream_keys_once(backend: Backend) -> Result<()> {
    let app = spawn_app_with(backend, |s| s.dev_jwks_uri_allow_loopback = true).await?;
    let upstream = Upstream::start().await?;
    let idp = create_idp(&app, &upstream, json!({})).await?;
    let first = sign_in_with(&app, &upstream, &idp, |c| upstream.key.sign(c, true)).await?;
    ensure!(first.0 == 302, "first sign-in: {first:?}");
    ensure!(upstream.jwks_fetches() == 1, "{}", upstream.jwks_fetches());
    // Cached: the next sign-in does not fetch.
    let again = sign_in_with(&app, &upstream, &idp, |c| upstream.key.sign(c, true)).await?;
    ensure!(again.0 == 302 && upstream.jwks_fetches() == 1);

    // The upstream rotates to a new key: one refetch, and the sign-in succeeds.
    let rotated = ClientKey::rsa("upstream-2")?;
    upstream.publish(&[&rotated]);
    let after = sign_in_with(&app, &upstream, &idp, |c| rotated.sign(c, true)).await?;
    ensure!(after.0 == 302, "sign-in after the rotation: {after:?}");
    ensure!(upstream.jwks_fetches() == 2, "{}", upstream.jwks_fetches());
    let refetched = std::time::Instant::now();

    // A kid the upstream does not publish: refused, and no refetch within the limit; nor for
    // a kid-less token no published key verifies.
    let unknown = ClientKey::rsa("upstream-3")?;
    for with_kid in [true, false] {
        let refused = sign_in_with(&app, &upstream, &idp, |c| unknown.sign(c, with_kid)).await?;
        ensure!(
            refused.0 == 401 && refused.1.contains(GENERIC_LOGIN_FAILURE),
            "unpublished key (kid: {with_kid}): {refused:?}"
        );
    }
    // The limit is 10 s per JWKS URL; a machine too loaded to finish within it may refetch once.
    let allowed = if refetched.elapsed().as_secs() < 9 {
        2
    } else {
        3
    };
    ensure!(
        upstream.jwks_fetches() <= allowed,
        "refetched for unknown keys: {}",
        upstream.jwks_fetches()
    );
    // The old key is gone from the upstream's JWKS now: refused too.
    let old = sign_in_with(&app, &upstream, &idp, |c| upstream.key.sign(c, true)).await?;
    ensure!(old.0 == 401, "the retired key: {old:?}");
    ensure!(
        app.provider
            .store
            .find_user_by_login("carol@upstream.example")
            .await?
            .context("provisioned")?
            .first_name
            == "Carol"
    );
    Ok(())
}
