//! The consent interaction: after sign-in (or with a live session), ask for the scopes
//! [`check_consent`] names, keep the authorize request in a transaction until the answer comes
//! back, then grant and resume, or send `access_denied` to the client.

use serde::{Deserialize, Serialize};

use super::respond::issue_response;
use super::{
    AuthorizationResponse, AuthorizeOutcome, AuthorizeRequest, check_assignment, check_consent,
    check_policy,
};
use crate::audit::{self, ClientInfo, Entity, Event, oauth2_event_type};
use crate::crypto::{constant_time_eq, random_token, sha256_b64url, time_ordered_okta_id};
use crate::domain::{App, ConsentGrant, LoginTransaction, OAuthScope, Session, User};
use crate::oauth2::OAuthError;
use crate::provider::{Provider, ServerContext};
use crate::services::backchannel;

/// What the consent page shows, and the transaction it answers.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsentPrompt {
    pub transaction_id: String,
    /// To be set as a cookie and echoed in the form (double-submit CSRF protection).
    pub csrf_token: String,
    pub app_label: String,
    pub logo_uri: Option<String>,
    pub client_uri: Option<String>,
    pub tos_uri: Option<String>,
    pub policy_uri: Option<String>,
    /// Who is asked (their login).
    pub user_login: String,
    pub scopes: Vec<ConsentScope>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConsentScope {
    pub name: String,
    /// The scope's display phrase, or its name.
    pub display_name: String,
    pub description: Option<String>,
}

/// The transaction's payload: the request, and the session that must answer it. It cannot be
/// read as a sign-in transaction's request (nor one as this), so neither form accepts the
/// other's transaction.
#[derive(Debug, Serialize, Deserialize)]
struct PendingConsent {
    consent_user_id: String,
    consent_session: String,
    request: AuthorizeRequest,
}

/// The checks after the user is known: assignment, access policy, consent; then the response,
/// or the consent page. Errors are to be redirected to the client.
pub(super) async fn finish(
    provider: &Provider,
    server: &ServerContext,
    app: &App,
    user: &User,
    session: &Session,
    request: AuthorizeRequest,
) -> Result<AuthorizeOutcome, OAuthError> {
    check_assignment::run(provider, app, user).await?;
    let decision = check_policy::run(provider, server, app, user, &request).await?;
    let needed = check_consent::run(provider, server, app, user, &request).await?;
    if needed.is_empty() {
        backchannel::record_session_app(provider, server, app, session).await?;
        let response =
            issue_response(provider, server, &request, user, session, decision.as_ref()).await?;
        return Ok(AuthorizeOutcome::Respond(response));
    }
    if request.prompt_none {
        return Err(OAuthError::ConsentRequired(
            "The client specified not to prompt, but the user has not consented to the requested scopes.".into(),
        ));
    }
    let now = provider.now();
    let csrf_token = random_token(32);
    let pending = PendingConsent {
        consent_user_id: user.id.clone(),
        consent_session: session.id_hash.clone(),
        request,
    };
    let tx = LoginTransaction {
        id: random_token(24),
        csrf_hash: sha256_b64url(&csrf_token),
        request_json: serde_json::to_string(&pending).map_err(OAuthError::internal)?,
        created: now,
        expires_at: now + provider.lifetimes.login_transaction,
    };
    provider.store.create_login_transaction(&tx).await?;
    let m = &app.settings.metadata;
    Ok(AuthorizeOutcome::Consent(ConsentPrompt {
        transaction_id: tx.id,
        csrf_token,
        app_label: app.label.clone(),
        logo_uri: m.logo_uri.clone(),
        client_uri: m.client_uri.clone(),
        tos_uri: m.tos_uri.clone(),
        policy_uri: m.policy_uri.clone(),
        user_login: user.login.clone(),
        scopes: needed.iter().map(consent_scope).collect(),
    }))
}

fn consent_scope(s: &OAuthScope) -> ConsentScope {
    ConsentScope {
        name: s.name.clone(),
        display_name: s
            .display_name
            .clone()
            .filter(|d| !d.trim().is_empty())
            .unwrap_or_else(|| s.name.clone()),
        description: s.description.clone().filter(|d| !d.trim().is_empty()),
    }
}

/// Why a consent answer was not taken.
#[derive(Debug)]
pub enum ConsentFailure {
    /// The transaction is unknown, expired or used, the CSRF check failed, or the session that
    /// was asked is gone: start again at the app.
    TransactionInvalid,
    Internal(OAuthError),
}

impl From<OAuthError> for ConsentFailure {
    fn from(e: OAuthError) -> Self {
        Self::Internal(e)
    }
}

impl From<crate::store::StoreError> for ConsentFailure {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Internal(e.into())
    }
}

/// The user's answer on the consent page.
pub struct ConsentAnswer<'a> {
    pub transaction_id: &'a str,
    pub form_csrf: &'a str,
    pub cookie_csrf: Option<&'a str>,
    pub session_cookie: Option<&'a str>,
    pub allow: bool,
}

/// Takes the answer: Allow records one grant per scope and resumes the authorize request;
/// Don't Allow sends `access_denied` to the client. Either way the transaction is used up.
pub async fn complete_consent(
    provider: &Provider,
    client: &ClientInfo,
    answer: ConsentAnswer<'_>,
) -> Result<AuthorizationResponse, ConsentFailure> {
    let now = provider.now();
    let tx = provider
        .store
        .find_login_transaction(answer.transaction_id, now)
        .await?
        .ok_or(ConsentFailure::TransactionInvalid)?;
    let csrf_ok = constant_time_eq(
        sha256_b64url(answer.form_csrf).as_bytes(),
        tx.csrf_hash.as_bytes(),
    ) && answer
        .cookie_csrf
        .is_some_and(|c| constant_time_eq(c.as_bytes(), answer.form_csrf.as_bytes()));
    if !csrf_ok {
        return Err(ConsentFailure::TransactionInvalid);
    }
    let pending: PendingConsent =
        serde_json::from_str(&tx.request_json).map_err(|_| ConsentFailure::TransactionInvalid)?;
    let (session, user) = crate::services::sessions::live_session(provider, answer.session_cookie)
        .await?
        .ok_or(ConsentFailure::TransactionInvalid)?;
    let same_session = constant_time_eq(
        session.id_hash.as_bytes(),
        pending.consent_session.as_bytes(),
    ) && user.id == pending.consent_user_id;
    if !same_session {
        return Err(ConsentFailure::TransactionInvalid);
    }
    provider.store.delete_login_transaction(&tx.id).await?;
    let request = pending.request;
    let server = provider
        .server_context(&request.origin, request.auth_server_id.as_deref())
        .await?;
    let app = provider
        .store
        .find_app_by_client_id(request.client_id.as_str())
        .await?
        .ok_or(ConsentFailure::TransactionInvalid)?;
    let redirect_error = |e: &OAuthError| {
        AuthorizationResponse::error(
            request.redirect_uri.as_str(),
            request.response_mode,
            e,
            request.state.as_deref(),
            &server,
        )
    };
    if !answer.allow {
        return Ok(redirect_error(&OAuthError::AccessDenied(
            "The resource owner or authorization server denied the request.".into(),
        )));
    }
    // Assignment and policy are checked again: either may have changed while the page was open.
    let allowed = async {
        check_assignment::run(provider, &app, &user).await?;
        let decision = check_policy::run(provider, &server, &app, &user, &request).await?;
        let asked = check_consent::run(
            provider,
            &server,
            &app,
            &user,
            &AuthorizeRequest {
                prompt_consent: true,
                ..request.clone()
            },
        )
        .await?;
        grant(provider, client, &server, &app, &user, &asked).await?;
        backchannel::record_session_app(provider, &server, &app, &session).await?;
        issue_response(
            provider,
            &server,
            &request,
            &user,
            &session,
            decision.as_ref(),
        )
        .await
    }
    .await;
    Ok(allowed.unwrap_or_else(|e| redirect_error(&e)))
}

/// Records the user's consent to `scopes` and one `consent.grant` event each.
async fn grant(
    provider: &Provider,
    client: &ClientInfo,
    server: &ServerContext,
    app: &App,
    user: &User,
    scopes: &[OAuthScope],
) -> Result<(), OAuthError> {
    if scopes.is_empty() {
        return Ok(());
    }
    let now = provider.now();
    let grants: Vec<ConsentGrant> = scopes
        .iter()
        .map(|s| ConsentGrant {
            id: time_ordered_okta_id("oag"),
            user_id: user.id.clone(),
            client_id: app.client_id.clone(),
            issuer: server.issuer.clone(),
            auth_server_id: server.server.id.clone(),
            scope_id: s.id.clone(),
            scope_name: s.name.clone(),
            created: now,
            last_updated: now,
        })
        .collect();
    provider.store.save_consent_grants(&grants).await?;
    let events = scopes
        .iter()
        .map(|s| {
            Event::new(
                oauth2_event_type(true, "consent.grant"),
                "User granted consent to app",
                Entity::user(user),
            )
            .client(client)
            .target(Entity::app(app))
            .target(Entity::new(&s.id, "Scope").named(Some(s.name.clone()), Some(s.name.clone())))
            .debug("authorizationServer", server.server.id.as_str())
        })
        .collect();
    audit::record_all(provider, events).await;
    Ok(())
}
