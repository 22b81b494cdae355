//! Okta's classic primary authentication (`POST /api/v1/authn`) and its `sessionToken`: a
//! single-use, short-lived token that an app (okta-auth-js's `signIn`) trades for a session at
//! `/authorize?sessionToken=` or `/login/sessionCookieRedirect`.
//!
//! The password goes through the sign-in form's check ([`lockout::verify_sign_in`]): the same
//! lockout counting, one answer for every refusal, and the same System Log events. Only the
//! token's SHA-256 is stored; spending it is one `DELETE ... RETURNING`, so it opens at most
//! one session however many nodes race.

use crate::audit::ClientInfo;
use crate::crypto::{random_token, sha256_b64url};
use crate::domain::{Factor, Session, Timestamp, TrustedOriginScope, User, UserStatus};
use crate::oauth2::OAuthError;
use crate::provider::Provider;
use crate::services::lockout;
use crate::services::mfa::challenge::{self, Continuation};
use crate::services::passwords::expired;
use crate::services::sign_on_gate::{self, Gate, SignOnAttempt};
use crate::store::SessionTokenRecord;

/// How long a `sessionToken` can be spent (Okta's are short-lived too).
pub const SESSION_TOKEN_TTL: i64 = 300;

/// A successful primary authentication.
#[derive(Debug)]
pub struct AuthnSuccess {
    /// The raw token, shown once.
    pub session_token: String,
    pub expires_at: Timestamp,
    pub user: User,
}

/// What a primary authentication led to.
#[derive(Debug)]
pub enum AuthnOutcome {
    /// `SUCCESS`: a `sessionToken`.
    Success(AuthnSuccess),
    /// `MFA_REQUIRED` (a factor to verify) or `MFA_ENROLL` (a policy requires a factor the
    /// person lacks): a `stateToken` for [`crate::services::authn_mfa`].
    Factor(AuthnFactorStep),
    /// The right password, expired: Okta's `PASSWORD_EXPIRED` with a `stateToken`, traded at
    /// `POST /api/v1/authn/credentials/change_password` (see [`change_expired_password`]).
    PasswordExpired {
        state_token: String,
        expires_at: Timestamp,
        user: User,
    },
    /// Every kind of refusal (unknown user, wrong password, locked or inactive account, and a
    /// sign-on policy's `DENY` look alike).
    Refused,
}

/// A pending second step of `/api/v1/authn`.
#[derive(Debug)]
pub struct AuthnFactorStep {
    /// `<pending>.<binding>`: the pending sign-in's value and the token it is bound to
    /// ([`crate::services::mfa::challenge::begin`]); shown once, only hashes are stored.
    pub state_token: String,
    pub expires_at: Timestamp,
    pub user: User,
    /// The person's active factors (empty for `MFA_ENROLL`).
    pub factors: Vec<Factor>,
    pub enroll: bool,
}

/// Checks `username` and `password` (one answer for every kind of refusal).
pub async fn primary_authentication(
    provider: &Provider,
    client: &ClientInfo,
    username: &str,
    password: &str,
) -> Result<AuthnOutcome, OAuthError> {
    let user = match lockout::check_sign_in(provider, client, username.trim(), password).await? {
        lockout::SignInCheck::Accepted(user) => user,
        lockout::SignInCheck::PasswordExpired(user) => {
            let (state_token, expires_at) = expired::issue_state_token(provider, &user);
            return Ok(AuthnOutcome::PasswordExpired {
                state_token,
                expires_at,
                user,
            });
        }
        lockout::SignInCheck::Refused => return Ok(AuthnOutcome::Refused),
    };
    after_password(provider, client, user).await
}

/// After a correct (or just renewed) password: the sign-on policies (the org's: no app is
/// named here). A `DENY` answers as a wrong password (the System Log says why); a factor the
/// sign-in needs is asked here, with Okta's `MFA_REQUIRED` / `MFA_ENROLL` states.
async fn after_password(
    provider: &Provider,
    client: &ClientInfo,
    user: User,
) -> Result<AuthnOutcome, OAuthError> {
    let attempt = SignOnAttempt {
        user: &user,
        client_id: None,
        session: None,
        reused: false,
        mfa_requested: false,
        device_cookie: None,
        client,
    };
    match sign_on_gate::check(provider, attempt).await?.0 {
        Gate::Deny => Ok(AuthnOutcome::Refused),
        Gate::SecondStep(step) => {
            let binding = random_token(24);
            let pending =
                challenge::begin(provider, &user, &binding, step, Continuation::default()).await?;
            let factors = crate::services::mfa::active_factors(provider, &user.id).await?;
            Ok(AuthnOutcome::Factor(AuthnFactorStep {
                state_token: format!("{pending}.{binding}"),
                expires_at: provider.now()
                    + provider
                        .lifetimes
                        .login_transaction
                        .clamp(60, challenge::MAX_TTL),
                user,
                factors,
                enroll: step.enroll,
            }))
        }
        Gate::Pass | Gate::Reauthenticate => Ok(AuthnOutcome::Success(
            issue_session_token(provider, user, vec!["pwd".into()]).await?,
        )),
    }
}

/// `POST /api/v1/authn/credentials/change_password`: the new password (through the policy)
/// for the user behind an expired-password `stateToken`, then what a successful sign-in leads
/// to (a `sessionToken`, or the second step the policies ask for). Errors are
/// `expired::ExpiredError` (an invalid state, or the policy's refusal in Okta's words).
pub async fn change_expired_password(
    provider: &Provider,
    client: &ClientInfo,
    state_token: &str,
    new_password: String,
) -> Result<Result<AuthnOutcome, expired::ExpiredError>, OAuthError> {
    let actor = |u: &User| crate::audit::Actor::user(u, client);
    match expired::change_expired_password(provider, actor, state_token, new_password).await {
        Ok(user) => Ok(Ok(after_password(provider, client, user).await?)),
        Err(e) => Ok(Err(e)),
    }
}

/// Issues a `sessionToken` for `user`, who just signed in with `amr`.
pub(crate) async fn issue_session_token(
    provider: &Provider,
    user: User,
    amr: Vec<String>,
) -> Result<AuthnSuccess, crate::store::StoreError> {
    let now = provider.now();
    let session_token = random_token(32);
    let record = SessionTokenRecord {
        token_hash: sha256_b64url(&session_token),
        user_id: user.id.clone(),
        auth_time: now,
        amr,
        created: now,
        expires_at: now + SESSION_TOKEN_TTL,
    };
    provider.store.insert_session_token(&record).await?;
    Ok(AuthnSuccess {
        session_token,
        expires_at: record.expires_at,
        user,
    })
}

/// A session opened from a `sessionToken`.
#[derive(Debug)]
pub struct TokenSession {
    /// The session cookie's value (only its hash is stored).
    pub cookie: String,
    pub session: Session,
    pub user: User,
}

/// Spends `token` and opens a password session for its user, who must still be active;
/// `None` for an unknown, expired or spent token. For `/authorize`, whose flow then asks for
/// the second factor the user's sign-in needs (step-up of this session).
pub async fn open_session(
    provider: &Provider,
    token: &str,
) -> Result<Option<TokenSession>, OAuthError> {
    open(provider, token, None).await
}

/// [`open_session`] for `/login/sessionCookieRedirect`, which hands the session straight to
/// the browser: `AccessDenied` for a user whose sign-in needs a second factor (unless the
/// browser's `device_cookie` remembers it) or whom a sign-on policy denies.
pub async fn open_session_for_redirect(
    provider: &Provider,
    client: &ClientInfo,
    token: &str,
    device_cookie: Option<&str>,
) -> Result<Option<TokenSession>, OAuthError> {
    open(provider, token, Some((client, device_cookie))).await
}

async fn open(
    provider: &Provider,
    token: &str,
    policy_check: Option<(&ClientInfo, Option<&str>)>,
) -> Result<Option<TokenSession>, OAuthError> {
    let now = provider.now();
    let token = token.trim();
    if token.is_empty() {
        return Ok(None);
    }
    let Some(record) = provider
        .store
        .spend_session_token(&sha256_b64url(token), now)
        .await?
    else {
        return Ok(None);
    };
    let user = match provider.store.find_user(&record.user_id).await? {
        Some(u) if u.status == UserStatus::Active => u,
        _ => return Ok(None),
    };
    let cookie = random_token(32);
    let session = Session {
        id_hash: sha256_b64url(&cookie),
        user_id: user.id.clone(),
        auth_time: record.auth_time,
        amr: record.amr,
        created: now,
        expires_at: now + provider.lifetimes.session,
    };
    // A token from the password alone gives no session here to a user who must answer a
    // second factor (one is enrolled, or a policy requires it); at `/authorize` the same token
    // leads to the hosted factor step instead. A token from `/api/v1/authn/factors/…/verify`
    // carries its factor.
    if let Some((client, device_cookie)) = policy_check {
        let attempt = SignOnAttempt {
            user: &user,
            client_id: None,
            session: Some(&session),
            reused: false,
            mfa_requested: false,
            device_cookie,
            client,
        };
        match sign_on_gate::check(provider, attempt).await?.0 {
            Gate::Deny => {
                return Err(OAuthError::AccessDenied(
                    sign_on_gate::DENIED_MESSAGE.into(),
                ));
            }
            Gate::SecondStep(_) => {
                return Err(OAuthError::AccessDenied(
                    "This account signs in with a second factor: use the hosted sign-in page."
                        .into(),
                ));
            }
            Gate::Pass | Gate::Reauthenticate => {}
        }
    }
    provider.store.create_session(&session).await?;
    Ok(Some(TokenSession {
        cookie,
        session,
        user,
    }))
}

/// Whether `/login/sessionCookieRedirect` may send the browser to `url`: an http(s) URL on the
/// origin the request came in on, on the org URL or a custom domain, or on an ACTIVE trusted
/// origin with the `REDIRECT` scope. Anything else is refused (no open redirect).
pub async fn redirect_allowed(
    provider: &Provider,
    request_origin: &str,
    url: &str,
) -> Result<bool, OAuthError> {
    let Ok(parsed) = url::Url::parse(url) else {
        return Ok(false);
    };
    if !matches!(parsed.scheme(), "https" | "http")
        || !parsed.username().is_empty()
        || parsed.password().is_some()
    {
        return Ok(false);
    }
    let origin = parsed.origin().ascii_serialization();
    let own = std::iter::once(request_origin.trim_end_matches('/'))
        .chain(provider.domains.org_url.as_deref())
        .chain(provider.domains.custom.iter().map(String::as_str));
    if own.into_iter().any(|o| o.trim_end_matches('/') == origin) {
        return Ok(true);
    }
    const CHUNK: u32 = 200;
    let mut after: Option<String> = None;
    loop {
        let page = crate::store::Page {
            after: after.as_deref(),
            limit: CHUNK,
        };
        let trusted = provider.store.list_trusted_origins(page).await?;
        if trusted
            .iter()
            .any(|t| t.allows(TrustedOriginScope::Redirect) && t.origin == origin)
        {
            return Ok(true);
        }
        if trusted.len() < CHUNK as usize {
            return Ok(false);
        }
        after = trusted.last().map(|t| t.id.clone());
    }
}
