//! Sending a sign-in to an upstream IdP: a `state` (random, stored only as its hash, single
//! use, expiring with the login transaction, bound to the browser through the sign-in form's
//! CSRF cookie), a `nonce`, and PKCE S256; then the upstream's authorization URL.

use crate::crypto::{random_token, sha256_b64url};
use crate::domain::{Idp, IdpState, IdpStatus, LoginTransaction};
use crate::oauth2::OAuthError;
use crate::oauth2::pkce::s256_challenge;
use crate::provider::Provider;

/// The path upstreams send the browser back to (Okta's).
pub const CALLBACK_PATH: &str = "/oauth2/v1/authorize/callback";

pub(super) fn verifier_context(state_hash: &str) -> String {
    format!("idp-pkce:{state_hash}")
}

/// Our redirect URI at an upstream: the callback on the origin the IdP's `issuerMode` picks.
pub fn callback_url(provider: &Provider, idp: &Idp, request_origin: &str) -> String {
    let origin = provider.domains.issuer_origin(
        idp.settings.issuer_mode,
        request_origin.trim_end_matches('/'),
    );
    format!("{}{CALLBACK_PATH}", origin.trim_end_matches('/'))
}

/// The active IdP `id`, or the error the authorize request or sign-in page answers with.
pub async fn active_idp(provider: &Provider, id: &str) -> Result<Idp, OAuthError> {
    match provider.store.find_idp(id).await? {
        Some(idp) if idp.status == IdpStatus::Active => Ok(idp),
        _ => Err(OAuthError::InvalidRequest(
            "The identity provider is not available.".into(),
        )),
    }
}

/// Stores the state for the sign-in of `tx` and returns the upstream URL to send the browser to.
pub async fn begin(
    provider: &Provider,
    idp_id: &str,
    tx: &LoginTransaction,
    origin: &str,
    login_hint: Option<&str>,
) -> Result<String, OAuthError> {
    let idp = active_idp(provider, idp_id).await?;
    let state = random_token(32);
    let state_hash = sha256_b64url(&state);
    let nonce = random_token(24);
    let verifier = random_token(48);
    let redirect_uri = callback_url(provider, &idp, origin);
    let record = IdpState {
        state_hash: state_hash.clone(),
        idp_id: idp.id.clone(),
        transaction_id: tx.id.clone(),
        browser_hash: tx.csrf_hash.clone(),
        nonce: nonce.clone(),
        code_verifier_sealed: provider
            .secrets
            .seal(&verifier_context(&state_hash), verifier.as_bytes()),
        redirect_uri: redirect_uri.clone(),
        expires_at: tx.expires_at,
    };
    provider
        .store
        .create_idp_state(&record, provider.now())
        .await?;
    let mut url = url::Url::parse(&idp.settings.authorization_url)
        .map_err(|_| OAuthError::Internal("the IdP's authorization URL does not parse".into()))?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", &idp.settings.client_id)
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("scope", &idp.settings.scopes.join(" "))
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &s256_challenge(&verifier))
            .append_pair("code_challenge_method", "S256");
        if let Some(hint) = login_hint.filter(|h| !h.is_empty()) {
            q.append_pair("login_hint", hint);
        }
    }
    Ok(url.into())
}

/// The active IdP whose routing domains include the domain of `login` (an email), if any.
pub async fn route_for_login(provider: &Provider, login: &str) -> Result<Option<Idp>, OAuthError> {
    let Some((_, domain)) = login.trim().rsplit_once('@') else {
        return Ok(None);
    };
    let domain = domain.to_ascii_lowercase();
    Ok(provider
        .store
        .list_idps()
        .await?
        .into_iter()
        .filter(|i| i.status == IdpStatus::Active)
        .find(|i| i.settings.routing_domains.contains(&domain)))
}

/// The sign-in page's "Sign in with X" buttons: (id, name) of every active IdP; and whether any
/// routes by email domain (the password field is then optional).
pub async fn sign_in_options(
    provider: &Provider,
) -> Result<(Vec<(String, String)>, bool), OAuthError> {
    let idps = provider.store.list_idps().await?;
    let active = idps.iter().filter(|i| i.status == IdpStatus::Active);
    let routing = active
        .clone()
        .any(|i| !i.settings.routing_domains.is_empty());
    Ok((
        active.map(|i| (i.id.clone(), i.name.clone())).collect(),
        routing,
    ))
}
