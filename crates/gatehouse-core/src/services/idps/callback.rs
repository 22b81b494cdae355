//! The upstream's answer at `/oauth2/v1/authorize/callback`: the state is spent (single use)
//! and must come back to the browser that started the sign-in; the code is exchanged (with the
//! PKCE verifier and our client credentials); the ID token verified ([`super::id_token`]) and
//! merged with the userinfo; the person mapped, linked or provisioned ([`super::provision`]).
//! Then the sign-in continues as after a password: the second step when a factor or the
//! sign-on policy asks for one, else a session, and the original authorize request resumes.
//!
//! The System Log records `user.authentication.auth_via_IDP` (success or failure, with the
//! IdP in `authenticationContext`) and `user.session.start`.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::audit::{self, ClientInfo, Entity, Event, event_type as ev};
use crate::crypto::{constant_time_eq, sha256_b64url};
use crate::domain::{Idp, IdpState, UpstreamAuthMethod, UserStatus};
use crate::oauth2::authorize::session::{SignedIn, checked_transaction, first_factor_passed};
use crate::oauth2::authorize::{CompletedLogin, LoginFailure, LoginPrompt};
use crate::provider::Provider;

use super::start::{active_idp, verifier_context};
use super::{admin, client_key, id_token, mapping, provision};

/// Okta's event for a sign-in through an identity provider.
pub const AUTH_VIA_IDP: &str = "user.authentication.auth_via_IDP";
/// The `amr` of a session opened by an upstream IdP (the upstream's own methods are not
/// vouched for here).
pub const AMR_FEDERATED: &str = "fed";
/// At most this many userinfo claims are merged into the ID token's.
const MAX_CLAIMS: usize = 200;

/// The callback's query.
#[derive(Debug, Default, Deserialize)]
pub struct CallbackParams {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// Completes a sign-in at an upstream. An unknown, spent or expired state, or one that comes
/// back to another browser, is [`LoginFailure::TransactionInvalid`]; a refusal after that (the
/// upstream's error, a token that does not verify, an account that may not be linked) shows
/// the sign-in page again with the generic message.
pub async fn complete(
    provider: &Provider,
    client: &ClientInfo,
    params: &CallbackParams,
    cookie_csrf: Option<&str>,
) -> Result<CompletedLogin, LoginFailure> {
    let state = params
        .state
        .as_deref()
        .filter(|s| !s.is_empty() && s.len() <= 512)
        .ok_or(LoginFailure::TransactionInvalid)?;
    let st = provider
        .store
        .take_idp_state(&sha256_b64url(state), provider.now())
        .await?
        .ok_or(LoginFailure::TransactionInvalid)?;
    let cookie = cookie_csrf.ok_or(LoginFailure::TransactionInvalid)?;
    if !constant_time_eq(sha256_b64url(cookie).as_bytes(), st.browser_hash.as_bytes()) {
        return Err(LoginFailure::TransactionInvalid);
    }
    let (tx, request, app) =
        checked_transaction(provider, &st.transaction_id, cookie, Some(cookie)).await?;
    let again = LoginPrompt {
        transaction_id: tx.id.clone(),
        csrf_token: cookie.to_owned(),
        login_hint: request.login_hint.clone(),
        app_label: app.label.clone(),
    };
    let idp = match active_idp(provider, &st.idp_id).await {
        Ok(idp) => idp,
        Err(_) => return Err(LoginFailure::BadCredentials(again)),
    };
    let idp_ref = &idp;
    let refuse = |reason: String, actor: Entity| async move {
        tracing::info!(idp = %idp_ref.id, %reason, "sign-in through an identity provider refused");
        let event = idp_event(idp_ref, actor, client)
            .failure("VERIFICATION_ERROR")
            .debug("reason", reason);
        audit::record(provider, event).await;
    };
    let claims = match upstream_claims(provider, &idp, &st, params).await {
        Ok(c) => c,
        Err(reason) => {
            refuse(reason, Entity::system()).await;
            return Err(LoginFailure::BadCredentials(again));
        }
    };
    let profile = match mapping::map_claims(&idp.settings, &claims) {
        Ok(p) => p,
        Err(reason) => {
            refuse(reason, Entity::system()).await;
            return Err(LoginFailure::BadCredentials(again));
        }
    };
    let user = match provision::user_for(provider, &idp, &profile).await {
        Ok(Ok(user)) if user.status == UserStatus::Active => user,
        Ok(Ok(user)) => {
            refuse("the user is not active".into(), Entity::user(&user)).await;
            return Err(LoginFailure::BadCredentials(again));
        }
        Ok(Err(refusal)) => {
            refuse(refusal, Entity::unknown_user(&profile.login)).await;
            return Err(LoginFailure::BadCredentials(again));
        }
        Err(e) => {
            return Err(LoginFailure::Internal(crate::oauth2::OAuthError::Internal(
                Box::new(e),
            )));
        }
    };
    let Some(user) = provider
        .store
        .record_login(&user.id, provider.now())
        .await?
    else {
        return Err(LoginFailure::BadCredentials(again));
    };
    if let Some(groups) = &profile.groups
        && let Err(e) = provision::sync_groups(provider, &idp, &user, groups).await
    {
        tracing::warn!(idp = %idp.id, error = %e, "groups from the identity provider not synced");
    }
    let actor = Entity::user(&user);
    audit::record(provider, idp_event(&idp, actor.clone(), client)).await;
    let start = Event::new(ev::SESSION_START, "User login to Okta", actor)
        .client(client)
        .via_idp(&idp.id, idp.kind.as_str())
        .debug("requestUri", super::start::CALLBACK_PATH);
    audit::record(provider, start).await;
    let signed_in = SignedIn {
        tx,
        request,
        app,
        user,
    };
    // No "remember this device" cookie reaches the upstream's callback: a factor the policy
    // asks for is asked.
    let amr = vec![AMR_FEDERATED.into()];
    first_factor_passed(provider, client, signed_in, cookie, None, amr).await
}

fn idp_event(idp: &Idp, actor: Entity, client: &ClientInfo) -> Event {
    Event::new(AUTH_VIA_IDP, "Authenticate user via IDP", actor)
        .client(client)
        .target(admin::entity(idp))
        .via_idp(&idp.id, idp.kind.as_str())
}

/// The code exchanged, the ID token verified, its claims merged with the userinfo's; or why not.
async fn upstream_claims(
    provider: &Provider,
    idp: &Idp,
    st: &IdpState,
    params: &CallbackParams,
) -> Result<Map<String, Value>, String> {
    if let Some(error) = params.error.as_deref() {
        return Err(format!(
            "the upstream answered {error}: {}",
            params.error_description.as_deref().unwrap_or_default()
        ));
    }
    let code = params
        .code
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or("the upstream sent no code")?;
    let verifier = provider
        .secrets
        .open(&verifier_context(&st.state_hash), &st.code_verifier_sealed)
        .ok()
        .and_then(|v| String::from_utf8(v).ok())
        .ok_or("the PKCE verifier cannot be opened")?;
    let http = provider.upstream.get().map_err(|e| e.to_string())?;
    let s = &idp.settings;
    let secret = admin::client_secret(provider, idp).unwrap_or_default();
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", st.redirect_uri.as_str()),
        ("code_verifier", verifier.as_str()),
        ("client_id", s.client_id.as_str()),
    ];
    let assertion;
    let basic = match s.token_auth_method {
        UpstreamAuthMethod::ClientSecretBasic => Some((s.client_id.as_str(), secret.as_str())),
        UpstreamAuthMethod::ClientSecretPost => {
            form.push(("client_secret", secret.as_str()));
            None
        }
        UpstreamAuthMethod::ClientSecretJwt => {
            assertion = client_key::secret_assertion(provider, idp, &secret)?;
            form.push(("client_assertion_type", client_key::ASSERTION_TYPE));
            form.push(("client_assertion", assertion.as_str()));
            None
        }
        UpstreamAuthMethod::PrivateKeyJwt => {
            assertion = client_key::client_assertion(provider, idp)?;
            form.push(("client_assertion_type", client_key::ASSERTION_TYPE));
            form.push(("client_assertion", assertion.as_str()));
            None
        }
    };
    let (status, body) = http
        .post_form(&s.token_url, &form, basic)
        .await
        .map_err(|e| format!("token request: {e}"))?;
    if status != 200 {
        return Err(format!("the upstream's token endpoint answered {status}"));
    }
    let tokens: Map<String, Value> =
        serde_json::from_slice(&body).map_err(|_| "the token response is not JSON")?;
    let raw = tokens
        .get("id_token")
        .and_then(Value::as_str)
        .ok_or("the token response has no id_token")?;
    let mut claims = id_token::verify(provider, s, raw, &st.nonce)
        .await
        .map_err(|e| e.to_string())?;
    if let (Some(url), Some(access)) = (
        s.userinfo_url.as_deref(),
        tokens.get("access_token").and_then(Value::as_str),
    ) {
        let (status, body) = http
            .get(url, Some(access))
            .await
            .map_err(|e| format!("userinfo request: {e}"))?;
        if status != 200 {
            return Err(format!(
                "the upstream's userinfo endpoint answered {status}"
            ));
        }
        let info: Map<String, Value> = serde_json::from_slice(&body)
            .map_err(|_| "the userinfo response is not a JSON object")?;
        if info.get("sub") != claims.get("sub") {
            return Err("the userinfo's sub is not the ID token's".into());
        }
        for (k, v) in info.into_iter().take(MAX_CLAIMS) {
            if !["iss", "aud", "sub", "nonce", "exp", "iat", "azp"].contains(&k.as_str()) {
                claims.insert(k, v);
            }
        }
    }
    Ok(claims)
}
