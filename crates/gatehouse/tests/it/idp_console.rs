//! The console's page for one identity provider: its settings changed in place (CSRF checked,
//! errors next to their field, the secret kept when left empty), `private_key_jwt` chosen there
//! generates the IdP's key and shows its public half (also served as a JWKS), and deleting it
//! from the list asks first.

use anyhow::{Context as _, Result, ensure};
use gatehouse_core::domain::UpstreamAuthMethod;
use gatehouse_store::test_support::Backend;
use serde_json::json;

use crate::console::{admin_browser, assert_console_headers, page_with_csrf};
use crate::helpers::spawn_app_with;
use crate::idp_upstream::{Upstream, create_idp};

backend_tests!(idp_console_edits_and_asks_before_delete);

async fn idp_console_edits_and_asks_before_delete(backend: Backend) -> Result<()> {
    let app = spawn_app_with(backend, |s| s.dev_jwks_uri_allow_loopback = true).await?;
    let upstream = Upstream::start().await?;
    let id = create_idp(&app, &upstream, json!({})).await?;
    let before = app.provider.store.find_idp(&id).await?.context("no IdP")?;
    let admin = admin_browser(&app).await?;
    let list = "/admin/access/identity-providers";
    let path = format!("{list}/{id}");
    let (page, csrf) = page_with_csrf(&app, &admin, &path).await?;
    assert_console_headers(&page.headers)?;
    ensure!(
        page.body.contains("Upstream") && !page.body.contains("client-jwk"),
        "edit page: {}",
        page.body
    );
    let url = format!("{}{path}", app.base);
    let form = [
        ("csrf", csrf.as_str()),
        ("name", "Renamed"),
        ("client_id", "gatehouse-at-upstream"),
        ("method", "private_key_jwt"),
        ("client_secret", ""),
        ("scopes", "openid email"),
        ("groups_claim", "groups"),
        ("domains", "edit.example"),
        ("allow_password", "yes"),
    ];
    let missing_csrf = admin.post_form(&url, &form[1..]).await?;
    ensure!(missing_csrf.status == 403, "{missing_csrf:?}");
    let mut bad = form;
    bad[5] = ("scopes", "email");
    let refused = admin.post_form(&url, &bad).await?;
    ensure!(
        refused.status == 422 && refused.body.contains("scopes-error"),
        "{refused:?}"
    );
    let saved = admin.post_form(&url, &form).await?;
    ensure!(saved.status == 303, "{saved:?}");
    let idp = app.provider.store.find_idp(&id).await?.context("gone")?;
    let s = &idp.settings;
    ensure!(idp.name == "Renamed", "{idp:?}");
    ensure!(s.token_auth_method == UpstreamAuthMethod::PrivateKeyJwt);
    ensure!(s.scopes == ["openid", "email"] && s.routing_domains == ["edit.example"]);
    ensure!(s.allow_password && s.groups_claim.as_deref() == Some("groups"));
    ensure!(
        idp.client_secret_sealed == before.client_secret_sealed,
        "an empty secret field must keep the secret"
    );
    let key = s.client_key.as_ref().context("no client key generated")?;
    ensure!(
        !key.public_jwk.contains("\"d\""),
        "the public JWK holds a private member"
    );
    // The page shows the public key to register upstream; the JWKS serves it.
    let (page, _) = page_with_csrf(&app, &admin, &path).await?;
    ensure!(
        page.body.contains("client-jwk") && page.body.contains(&key.kid),
        "no public key shown"
    );
    let jwks = app
        .get(&format!("{}/oauth2/v1/idps/{id}/keys", app.base))
        .await?;
    ensure!(jwks.status == 200, "{jwks:?}");
    let served = jwks.json()?;
    ensure!(served["keys"][0]["kid"] == key.kid.as_str(), "{served}");
    ensure!(served["keys"][0].get("d").is_none(), "{served}");
    // Saving again keeps the key (what was registered upstream stays valid).
    let again = admin.post_form(&url, &form).await?;
    ensure!(again.status == 303, "{again:?}");
    let idp = app.provider.store.find_idp(&id).await?.context("gone")?;
    ensure!(idp.settings.client_key.as_ref().map(|k| &k.kid) == Some(&key.kid));
    // client_secret_jwt is offered and saved.
    let (page, _) = page_with_csrf(&app, &admin, &path).await?;
    ensure!(page.body.contains(r#"<option value="client_secret_jwt""#));
    let mut hashed = form;
    hashed[3] = ("method", "client_secret_jwt");
    let saved = admin.post_form(&url, &hashed).await?;
    ensure!(saved.status == 303, "{saved:?}");
    let idp = app.provider.store.find_idp(&id).await?.context("gone")?;
    ensure!(idp.settings.token_auth_method == UpstreamAuthMethod::ClientSecretJwt);
    // Delete asks first; only `confirm=yes` deletes.
    let delete = format!("{}{list}/{id}/delete", app.base);
    let asked = admin.post_form(&delete, &[("csrf", csrf.as_str())]).await?;
    ensure!(
        asked.status == 200 && asked.body.contains("this identity provider"),
        "{asked:?}"
    );
    ensure!(app.provider.store.find_idp(&id).await?.is_some());
    let deleted = admin
        .post_form(&delete, &[("csrf", csrf.as_str()), ("confirm", "yes")])
        .await?;
    ensure!(deleted.status == 303, "{deleted:?}");
    ensure!(app.provider.store.find_idp(&id).await?.is_none());
    let missing = app
        .get(&format!("{}/oauth2/v1/idps/{id}/keys", app.base))
        .await?;
    ensure!(missing.status == 404, "{missing:?}");
    Ok(())
}
