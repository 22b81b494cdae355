//! The Entra ID–compatible paths (`/{tenant}/oauth2/…`, `/{tenant}/discovery/keys`…): their
//! discovery documents, issuers and the claims Entra's clients read.

use anyhow::{Context as _, Result, ensure};
use gatehouse_store::test_support::Backend;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{
    Browser, NONCE, PASSWORD, REDIRECT_URI, STATE, TestApp, jwt_parts, spawn_app, spawn_app_with,
};

backend_tests!(
    v1_paths_sign_in_with_entra_claims,
    v2_paths_sign_in_refresh_and_log_out,
    discovery_and_keys_follow_the_tenant,
    configured_tenant_and_unknown_tenants
);

/// The tenant id, as an admin reads it: discovery under the host's name gives the concrete
/// issuer `{base}/{tid}/v2.0`.
async fn tenant_id(app: &TestApp) -> Result<String> {
    let host = app.base.split_once("://").context("base")?.1;
    let doc = app
        .get(&format!(
            "{}/{host}/v2.0/.well-known/openid-configuration",
            app.base
        ))
        .await?;
    ensure!(doc.status == StatusCode::OK, "{doc:?}");
    let issuer = doc.json()?["issuer"].as_str().context("issuer")?.to_owned();
    let tid = issuer
        .strip_prefix(&format!("{}/", app.base))
        .and_then(|r| r.strip_suffix("/v2.0"))
        .with_context(|| format!("issuer {issuer}"))?;
    Ok(tid.to_owned())
}

fn authorize_url(app: &TestApp, path: &str, scope: &str, extra: &[(&str, &str)]) -> String {
    let mut params = vec![
        ("client_id", app.client_id()),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT_URI),
        ("scope", scope),
        ("state", STATE),
        ("nonce", NONCE),
    ];
    params.extend_from_slice(extra);
    let query = serde_urlencoded::to_string(&params).unwrap_or_default();
    format!("{}{path}?{query}", app.base)
}

/// A token request with `client_secret_post` (what social-core sends).
async fn token(app: &TestApp, path: &str, form: &[(&str, &str)]) -> Result<Value> {
    let mut form = form.to_vec();
    form.push(("client_id", app.client_id()));
    form.push(("client_secret", app.client_secret()));
    let reply = crate::helpers::Reply::read(
        crate::helpers::http_client()?
            .post(format!("{}{path}", app.base))
            .form(&form)
            .send()
            .await?,
    )
    .await?;
    ensure!(reply.status == StatusCode::OK, "{path}: {reply:?}");
    reply.json()
}

/// Verifies `token` with the key set at `keys_path` (as social-core does: kid, RS256, audience,
/// issuer) and returns its claims.
async fn verify(app: &TestApp, keys_path: &str, token: &str, issuer: &str) -> Result<Value> {
    let kid = jsonwebtoken::decode_header(token)?.kid.context("kid")?;
    let jwks = app.get(&format!("{}{keys_path}?appid=x", app.base)).await?;
    ensure!(jwks.status == StatusCode::OK, "{jwks:?}");
    let jwks = jwks.json()?;
    let jwk = jwks["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["kid"] == kid.as_str()))
        .context("kid not in the key set")?;
    let key = jsonwebtoken::DecodingKey::from_rsa_components(
        jwk["n"].as_str().unwrap_or_default(),
        jwk["e"].as_str().unwrap_or_default(),
    )?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[app.client_id()]);
    validation.set_issuer(&[issuer]);
    Ok(jsonwebtoken::decode::<Value>(token, &key, &validation)?.claims)
}

fn check_entra_claims(app: &TestApp, claims: &Value, tid: &str, ver: &str) -> Result<()> {
    let alice = &app.alice;
    let want = [
        ("ver", ver),
        ("tid", tid),
        ("oid", alice.id.as_str()),
        ("sub", alice.id.as_str()),
        ("upn", alice.login.as_str()),
        ("name", "Alice Liddell"),
        ("given_name", "Alice"),
        ("family_name", "Liddell"),
        ("email", alice.email.as_str()),
        ("nonce", NONCE),
    ];
    for (name, value) in want {
        ensure!(claims[name] == value, "{name}: {claims}");
    }
    Ok(())
}

async fn v1_paths_sign_in_with_entra_claims(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let tid = tenant_id(&app).await?;
    // What AzureADOAuth2 asks for: Entra's `user_impersonation` scope and a `resource`.
    let url = authorize_url(
        &app,
        "/common/oauth2/authorize",
        "openid profile user_impersonation email",
        &[("resource", "https://graph.microsoft.com/")],
    );
    let callback = Browser::new()?
        .sign_in(&url, &app.alice.login, PASSWORD)
        .await?;
    let resource = format!("api://{}", app.client_id());
    let body = token(
        &app,
        &format!("/{tid}/oauth2/token"),
        &[
            ("grant_type", "authorization_code"),
            ("code", &callback.code()?),
            ("redirect_uri", REDIRECT_URI),
            ("resource", &resource),
        ],
    )
    .await?;
    ensure!(body["resource"] == resource.as_str(), "{body}");
    ensure!(
        body["expires_on"]
            .as_str()
            .is_some_and(|s| s.parse::<i64>().is_ok()),
        "{body}"
    );
    ensure!(body["scope"] == "openid profile email", "{body}");
    let issuer = format!("{}/{tid}/", app.base);
    let id = verify(
        &app,
        "/common/discovery/keys",
        body["id_token"].as_str().context("id_token")?,
        &issuer,
    )
    .await?;
    check_entra_claims(&app, &id, &tid, "1.0")?;
    ensure!(id["unique_name"] == app.alice.login.as_str(), "{id}");
    // The access token is for the resource the client named (itself).
    let (_, at) = jwt_parts(body["access_token"].as_str().context("access_token")?)?;
    ensure!(
        at["aud"] == resource.as_str() && at["iss"] == issuer,
        "{at}"
    );
    Ok(())
}

async fn v2_paths_sign_in_refresh_and_log_out(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let tid = tenant_id(&app).await?;
    let url = authorize_url(
        &app,
        "/organizations/oauth2/v2.0/authorize",
        "User.Read profile openid email offline_access",
        &[("prompt", "select_account")],
    );
    let browser = Browser::new()?;
    let callback = browser.sign_in(&url, &app.alice.login, PASSWORD).await?;
    let path = "/organizations/oauth2/v2.0/token";
    let body = token(
        &app,
        path,
        &[
            ("grant_type", "authorization_code"),
            ("code", &callback.code()?),
            ("redirect_uri", REDIRECT_URI),
        ],
    )
    .await?;
    let issuer = format!("{}/{tid}/v2.0", app.base);
    let id_token = body["id_token"].as_str().context("id_token")?.to_owned();
    let id = verify(
        &app,
        "/organizations/discovery/v2.0/keys",
        &id_token,
        &issuer,
    )
    .await?;
    check_entra_claims(&app, &id, &tid, "2.0")?;
    ensure!(id["preferred_username"] == app.alice.login.as_str(), "{id}");
    ensure!(body.get("resource").is_none(), "{body}");

    // A refresh at the same endpoint keeps Entra's issuer and claims.
    let refreshed = token(
        &app,
        path,
        &[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                body["refresh_token"].as_str().context("refresh_token")?,
            ),
        ],
    )
    .await?;
    let (_, again) = jwt_parts(refreshed["id_token"].as_str().context("id_token")?)?;
    ensure!(
        again["iss"] == issuer && again["tid"] == tid.as_str(),
        "{again}"
    );

    // Logging out with the ID token as hint returns to the registered URI.
    let logout = browser
        .get(&format!(
            "{}/{tid}/oauth2/v2.0/logout?id_token_hint={id_token}&post_logout_redirect_uri={}",
            app.base,
            crate::helpers::LOGOUT_URI
        ))
        .await?;
    ensure!(logout.status == StatusCode::FOUND, "{logout:?}");
    ensure!(
        logout.header("location") == Some(crate::helpers::LOGOUT_URI),
        "{logout:?}"
    );
    // The Okta paths' tokens are untouched: Okta's issuer and numeric `ver`.
    let okta = app
        .sign_in_and_exchange(crate::helpers::Server::Org, "openid profile")
        .await?;
    let (_, claims) = jwt_parts(okta.id_token()?)?;
    ensure!(
        claims["iss"] == app.base.as_str() && claims["ver"] == 1,
        "{claims}"
    );
    ensure!(claims.get("tid").is_none(), "{claims}");
    Ok(())
}

async fn discovery_and_keys_follow_the_tenant(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let tid = tenant_id(&app).await?;
    let base = &app.base;
    let cases = [
        (
            format!(
                "/common/.well-known/openid-configuration?appid={}",
                app.client_id()
            ),
            format!("{base}/{{tenantid}}/"),
            format!("{base}/common/oauth2/token"),
            format!("{base}/common/discovery/keys"),
        ),
        (
            format!("/{tid}/.well-known/openid-configuration"),
            format!("{base}/{tid}/"),
            format!("{base}/{tid}/oauth2/token"),
            format!("{base}/{tid}/discovery/keys"),
        ),
        (
            "/organizations/v2.0/.well-known/openid-configuration".to_owned(),
            format!("{base}/{{tenantid}}/v2.0"),
            format!("{base}/organizations/oauth2/v2.0/token"),
            format!("{base}/organizations/discovery/v2.0/keys"),
        ),
        (
            format!("/{tid}/v2.0/.well-known/openid-configuration"),
            format!("{base}/{tid}/v2.0"),
            format!("{base}/{tid}/oauth2/v2.0/token"),
            format!("{base}/{tid}/discovery/v2.0/keys"),
        ),
    ];
    for (path, issuer, token_endpoint, jwks_uri) in cases {
        let reply = app.get(&format!("{base}{path}")).await?;
        ensure!(reply.status == StatusCode::OK, "{path}: {reply:?}");
        let doc = reply.json()?;
        ensure!(doc["issuer"] == issuer.as_str(), "{path}: {doc}");
        ensure!(doc["token_endpoint"] == token_endpoint.as_str(), "{doc}");
        ensure!(doc["jwks_uri"] == jwks_uri.as_str(), "{doc}");
        ensure!(
            doc["id_token_signing_alg_values_supported"][0] == "RS256",
            "{doc}"
        );
        // The key set is the org server's.
        let keys = app.get(&jwks_uri).await?.json()?;
        ensure!(
            keys == app.jwks(crate::helpers::Server::Org).await?,
            "{keys}"
        );
    }
    Ok(())
}

async fn configured_tenant_and_unknown_tenants(backend: Backend) -> Result<()> {
    const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let app = spawn_app_with(backend, |s| s.entra_tenant_id = Some(TID.into())).await?;
    ensure!(tenant_id(&app).await? == TID);
    let doc = app
        .get(&format!(
            "{}/{TID}/.well-known/openid-configuration",
            app.base
        ))
        .await?;
    ensure!(
        doc.json()?["issuer"] == format!("{}/{TID}/", app.base),
        "{doc:?}"
    );
    for path in [
        "/00000000-0000-0000-0000-000000000000/.well-known/openid-configuration",
        "/consumers/v2.0/.well-known/openid-configuration",
        "/contoso.onmicrosoft.com/discovery/keys",
    ] {
        let reply = app.get(&format!("{}{path}", app.base)).await?;
        ensure!(reply.status == StatusCode::BAD_REQUEST, "{path}: {reply:?}");
        ensure!(reply.body.contains("AADSTS90002"), "{path}: {reply:?}");
    }
    // An authorize request to an unknown tenant is an error page, never a redirect.
    let url = authorize_url(&app, "/someone-else/oauth2/v2.0/authorize", "openid", &[]);
    let reply = Browser::new()?.get(&url).await?;
    ensure!(reply.status == StatusCode::BAD_REQUEST, "{reply:?}");
    ensure!(reply.header("location").is_none(), "{reply:?}");
    Ok(())
}
