//! OpenID Connect Back-Channel Logout 1.0: telling apps that a session which signed in to them
//! has ended, by POSTing a signed `logout_token` to their `backchannel_logout_uri`.
//!
//! * At `/authorize`, an app with a `backchannel_logout_uri` is recorded against the session
//!   ([`record_session_app`]); its ID tokens carry the session's `sid` ([`sid_for`]).
//! * Ending a session (sign-out, `DELETE /api/v1/sessions/me`, the kill switch, a password
//!   change or reset, deactivation, suspension) moves those records into a durable outbox in
//!   the same transaction (see [`crate::store::LogoutStore::end_sessions`]): the user's request
//!   never waits for an app.
//! * A worker on every node ([`run`]) claims due rows atomically (so two nodes never send the
//!   same one), signs and POSTs each token through the installed outbound fetcher (the
//!   `jwks_uri` SSRF rules: https, public addresses only, no redirects, short timeouts), and
//!   retries a failure with backoff up to [`MAX_ATTEMPTS`] times. Each attempt is a System Log
//!   event (`app.oauth2.backchannel_logout`, SUCCESS or FAILURE).

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::audit::{Entity, Event, event_type as ev};
use crate::crypto::{random_token, sha256_b64url};
use crate::domain::{App, AppStatus, Session};
use crate::oauth2::remote_jwks::JwksFetchError;
use crate::provider::{Provider, ServerContext};
use crate::store::{LogoutDelivery, SessionApp, StoreError};

/// The `events` member that makes a JWT a logout token (§2.4).
pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// The logout token's `typ` header (§2.4, RFC 8725 explicit typing).
pub const TYP: &str = "logout+jwt";
/// Attempts per delivery before it is given up (and logged as failed).
pub const MAX_ATTEMPTS: i64 = 5;
/// How long a logout token is valid (§2.4 recommends at most two minutes).
pub const TOKEN_LIFETIME: i64 = 120;
/// How long a claimed delivery is this worker's; a node that dies mid-delivery leaves it to
/// another one after this.
const LEASE_SECONDS: i64 = 60;
const BATCH: u32 = 16;
/// How often a worker looks for due deliveries when nothing woke it (another node's
/// sign-outs, retries).
pub const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// The `sid` of a session as its apps see it: derived from the session's id, so the cookie's
/// hash itself never leaves the server.
pub fn sid_for(session_hash: &str) -> String {
    sha256_b64url(&format!("sid:{session_hash}"))
}

/// Seconds to wait before attempt `attempts + 1`.
pub fn backoff(attempts: i64) -> i64 {
    match attempts {
        ..=1 => 5,
        2 => 30,
        3 => 120,
        _ => 600,
    }
}

/// Records that the session signed in to `app`, when the app wants back-channel logouts.
pub async fn record_session_app(
    provider: &Provider,
    server: &ServerContext,
    app: &App,
    session: &Session,
) -> Result<(), StoreError> {
    if app.settings.backchannel_logout_uri.is_none() {
        return Ok(());
    }
    provider
        .store
        .record_session_app(&SessionApp {
            session_hash: session.id_hash.clone(),
            user_id: session.user_id.clone(),
            client_id: app.client_id.clone(),
            auth_server_id: server.server.id.clone(),
            issuer: server.issuer.clone(),
            sid: sid_for(&session.id_hash),
            created: provider.now(),
            expires_at: session.expires_at,
        })
        .await
}

/// The signed logout token of one delivery (§2.4): `iss`, `aud`, `iat`, `exp`, `jti`,
/// `events`, `sub` and `sid`; never a `nonce`.
pub async fn logout_token(
    provider: &Provider,
    delivery: &LogoutDelivery,
) -> Result<String, crate::keys::KeyError> {
    let now = provider.now();
    let claims = json!({
        "iss": delivery.issuer,
        "aud": delivery.client_id,
        "iat": now,
        "exp": now + TOKEN_LIFETIME,
        "jti": random_token(24),
        "events": { EVENT: {} },
        "sub": delivery.user_id,
        "sid": delivery.sid,
    });
    provider
        .keys
        .active_key(&delivery.auth_server_id)
        .await?
        .sign_typed(&claims, TYP)
}

/// Runs this node's worker until the task is aborted.
pub async fn run(provider: Arc<Provider>) {
    let mut purge = tokio::time::interval(Duration::from_secs(600));
    loop {
        tokio::select! {
            _ = provider.logout_wake.notified() => {}
            _ = tokio::time::sleep(POLL_INTERVAL) => {}
            _ = purge.tick() => {
                if let Err(e) = provider.store.purge_session_apps(provider.now()).await {
                    tracing::warn!(error = %e, "could not purge expired session-app records");
                }
            }
        }
        // Drain: a full batch may mean more are due.
        loop {
            match deliver_due(&provider).await {
                Ok(n) if n >= BATCH as usize => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "back-channel logout: cannot read the outbox");
                    break;
                }
            }
        }
    }
}

/// Claims the due deliveries and attempts each (concurrently); returns how many were claimed.
pub async fn deliver_due(provider: &Arc<Provider>) -> Result<usize, StoreError> {
    let claimed = provider
        .store
        .claim_logout_deliveries(provider.now(), LEASE_SECONDS, BATCH)
        .await?;
    let n = claimed.len();
    let mut attempts = tokio::task::JoinSet::new();
    for d in claimed {
        let provider = provider.clone();
        attempts.spawn(async move { attempt(&provider, d).await });
    }
    while attempts.join_next().await.is_some() {}
    Ok(n)
}

/// One attempt of one delivery, its outcome recorded in the outbox and the System Log.
async fn attempt(provider: &Provider, d: LogoutDelivery) {
    let app = match provider.store.find_app_by_client_id(&d.client_id).await {
        Ok(app) => app,
        Err(e) => return retry_later(provider, &d, &e.to_string()).await,
    };
    // The app's current settings decide: one that dropped its URI (or was deactivated or
    // deleted) is not told.
    let Some((app, uri)) = app
        .filter(|a| a.status == AppStatus::Active)
        .and_then(|a| a.settings.backchannel_logout_uri.clone().map(|u| (a, u)))
    else {
        finish(provider, &d).await;
        return;
    };
    let result = match logout_token(provider, &d).await {
        Ok(token) => provider
            .remote_jwks
            .post_logout_token(&uri, &token)
            .await
            .map_err(|e| match e {
                JwksFetchError::Refused(why) | JwksFetchError::Failed(why) => why,
            }),
        Err(e) => Err(format!("cannot sign the logout token: {e}")),
    };
    let event = Event::new(
        ev::BACKCHANNEL_LOGOUT,
        "Send back-channel logout token to app",
        Entity::system(),
    )
    .target(Entity::app(&app))
    .target(Entity::new(&d.user_id, "User"))
    .debug("attempt", d.attempts)
    .debug("sid", d.sid.clone());
    match result {
        Ok(()) => {
            finish(provider, &d).await;
            crate::audit::record(provider, event).await;
        }
        Err(why) => {
            let last = d.attempts >= MAX_ATTEMPTS;
            let event = event.failure(&why).debug("willRetry", !last);
            crate::audit::record(provider, event).await;
            if last {
                finish(provider, &d).await;
            } else {
                retry_later(provider, &d, &why).await;
            }
        }
    }
}

async fn finish(provider: &Provider, d: &LogoutDelivery) {
    if let Err(e) = provider.store.finish_logout_delivery(&d.id).await {
        // The claim lapses and another attempt delivers it again: receivers take repeats.
        tracing::warn!(error = %e, client_id = %d.client_id, "back-channel logout: cannot finish");
    }
}

async fn retry_later(provider: &Provider, d: &LogoutDelivery, why: &str) {
    tracing::info!(client_id = %d.client_id, attempt = d.attempts, why, "back-channel logout failed");
    let at = provider.now() + backoff(d.attempts);
    if let Err(e) = provider.store.retry_logout_delivery(&d.id, at).await {
        tracing::warn!(error = %e, client_id = %d.client_id, "back-channel logout: cannot reschedule");
    }
}
