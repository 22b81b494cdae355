//! The `openidconnect` crate as an independent relying party: discovery, the code flow with
//! PKCE, ID token verification and userinfo, against the org server and `default`.
//!
//! openidconnect 4 accepts `http://` issuers; it only needs an HTTP client that does not follow
//! redirects.

use anyhow::{Context as _, Result};
use gatehouse_store::test_support::Backend;
use openidconnect::core::{
    CoreClient, CoreIdTokenClaims, CoreProviderMetadata, CoreResponseType, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    IssuerUrl, Nonce, OAuth2TokenResponse as _, PkceCodeChallenge, RedirectUrl, Scope,
    TokenResponse as _,
};

use crate::helpers::{Browser, HTTP_TIMEOUT, PASSWORD, REDIRECT_URI, Server, TestApp, spawn_app};

backend_tests!(
    org_server_code_flow,
    default_server_code_flow,
    openid_scope_alone_releases_no_profile_claims,
);

async fn org_server_code_flow(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    rp_flow(&app, Server::Org, &["profile", "email"]).await
}

async fn default_server_code_flow(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    rp_flow(&app, Server::Default, &["profile", "email"]).await
}

async fn openid_scope_alone_releases_no_profile_claims(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    rp_flow(&app, Server::Default, &[]).await
}

/// One full code flow; checks the claims each extra scope releases.
async fn rp_flow(app: &TestApp, server: Server, scopes: &[&str]) -> Result<()> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(HTTP_TIMEOUT)
        .build()?;
    let issuer = IssuerUrl::new(app.issuer(server))?;
    let metadata = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .context("discovery")?;
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(app.client_id().to_owned()),
        Some(ClientSecret::new(app.client_secret().to_owned())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.to_owned())?);

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for scope in scopes {
        request = request.add_scope(Scope::new((*scope).to_owned()));
    }
    let (url, csrf, nonce) = request.url();

    let browser = Browser::new()?;
    let callback = browser
        .sign_in(url.as_str(), &app.alice.login, PASSWORD)
        .await?;
    assert_eq!(callback.target(), REDIRECT_URI);
    assert_eq!(callback.param("state").as_ref(), Some(csrf.secret()));
    assert_eq!(callback.param("iss"), Some(app.issuer(server)));

    let tokens = client
        .exchange_code(AuthorizationCode::new(callback.code()?))?
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .context("code exchange")?;
    let id_token = tokens.id_token().context("no ID token")?;
    let id_verifier = client.id_token_verifier();
    // Signature (against the discovered JWKS), iss, aud, exp/iat and nonce.
    let claims: &CoreIdTokenClaims = id_token.claims(&id_verifier, &nonce)?;
    assert_eq!(claims.subject().as_str(), app.alice.id);
    assert_eq!(claims.issuer().as_str(), app.issuer(server));
    assert_eq!(
        claims
            .audiences()
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>(),
        [app.client_id()]
    );
    let expected_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg()?,
        id_token.signing_key(&id_verifier)?,
    )?;
    assert_eq!(claims.access_token_hash(), Some(&expected_hash));

    let profile = scopes.contains(&"profile");
    let email = scopes.contains(&"email");
    assert_eq!(
        claims.preferred_username().map(|u| u.as_str()),
        profile.then_some(app.alice.login.as_str())
    );
    assert_eq!(
        claims.name().and_then(|n| n.get(None)).map(|n| n.as_str()),
        profile.then_some("Alice Liddell")
    );
    assert_eq!(
        claims.email().map(|e| e.as_str()),
        email.then_some(app.alice.email.as_str())
    );

    let info: CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )?
        .request_async(&http)
        .await
        .context("userinfo")?;
    assert_eq!(info.subject().as_str(), app.alice.id);
    assert_eq!(
        info.given_name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str()),
        profile.then_some("Alice")
    );
    assert_eq!(
        info.family_name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str()),
        profile.then_some("Liddell")
    );
    assert_eq!(
        info.email().map(|e| e.as_str()),
        email.then_some(app.alice.email.as_str())
    );
    assert_eq!(info.email_verified(), email.then_some(true));
    Ok(())
}
