//! The sign-in interaction: reuse a live session (single sign-on), or prompt, then resume.

use super::consent::{ConsentPrompt, finish};
use super::{AuthorizeOutcome, AuthorizeRequest, FactorPrompt, LoginPrompt, TransactionBudget};
use crate::audit::ClientInfo;
use crate::crypto::{constant_time_eq, random_token, sha256_b64url};
use crate::domain::{App, LoginTransaction, Session, User};
use crate::oauth2::OAuthError;
use crate::oauth2::authorize::AuthorizationResponse;
use crate::provider::{Provider, ServerContext};
use crate::services::lockout;
use crate::services::mfa::challenge::{self, Continuation};
use crate::services::rate_limit::{self, RatePolicy};
use crate::services::sessions::live_session;
use crate::services::sign_in::{OpenedSession, open_session};
use crate::services::sign_on_gate::{self, Gate, SignOnAttempt};

pub(super) async fn resume_or_prompt(
    provider: &Provider,
    server: &ServerContext,
    app: &App,
    request: AuthorizeRequest,
    session_cookie: Option<&str>,
    budget: Option<&TransactionBudget>,
) -> Result<AuthorizeOutcome, OAuthError> {
    let now = provider.now();
    let session = live_session(provider, session_cookie).await?;
    // OIDC Core §3.1.2.1: `max_age=0` is equivalent to `prompt=login`.
    let fresh_enough = |s: &Session| {
        request
            .max_age
            .is_none_or(|max| max > 0 && now - s.auth_time <= max)
    };
    // A hint naming someone else: that session is not the user the client expects.
    let hinted_user = |u: &User| {
        request
            .id_token_hint_sub
            .as_deref()
            .is_none_or(|sub| sub == u.id)
    };
    match session {
        Some((session, user))
            if !request.prompt_login && fresh_enough(&session) && hinted_user(&user) =>
        {
            let reuse = Reuse {
                session: &session,
                reused: true,
            };
            step_up_or_finish(provider, server, app, &user, reuse, request, budget).await
        }
        _ => login_prompt(provider, app, &request, budget).await,
    }
}

/// The sign-in page for `request` (`login_required` with `prompt=none`).
async fn login_prompt(
    provider: &Provider,
    app: &App,
    request: &AuthorizeRequest,
    budget: Option<&TransactionBudget>,
) -> Result<AuthorizeOutcome, OAuthError> {
    if request.prompt_none {
        return Err(OAuthError::LoginRequired(
            "The client specified not to prompt, but the user is not logged in.".into(),
        ));
    }
    spend_transaction_budget(provider, budget).await?;
    let (tx, csrf_token) = new_transaction(provider, request).await?;
    if let Some(idp_id) = request.idp.as_deref() {
        let url = crate::services::idps::start::begin(
            provider,
            idp_id,
            &tx,
            &request.origin,
            request.login_hint.as_deref(),
        )
        .await?;
        return Ok(AuthorizeOutcome::Upstream { url, csrf_token });
    }
    Ok(AuthorizeOutcome::Login(LoginPrompt {
        transaction_id: tx.id,
        csrf_token,
        login_hint: request.login_hint.clone(),
        app_label: app.label.clone(),
    }))
}

/// A session about to be used for an app.
#[derive(Clone, Copy)]
pub(super) struct Reuse<'a> {
    pub session: &'a Session,
    /// An existing session (single sign-on), rather than one just opened from a
    /// `sessionToken`: its age is checked against the policy's re-authentication interval.
    pub reused: bool,
}

/// Who is signing in, for the System Log: the address the request came from.
fn client_of(budget: Option<&TransactionBudget>) -> ClientInfo {
    ClientInfo {
        ip: budget.map(|b| b.address.clone()),
        user_agent: None,
    }
}

/// Finishes the authorize request with a live session, unless the session lacks a second
/// factor the sign-in needs (the user has one, or the policy requires MFA): then the factor
/// page (step-up), whose success upgrades this session's `amr`. Also used for a session just
/// opened from a `sessionToken`, which a password alone gave.
pub(super) async fn step_up_or_finish(
    provider: &Provider,
    server: &ServerContext,
    app: &App,
    user: &User,
    reuse: Reuse<'_>,
    request: AuthorizeRequest,
    budget: Option<&TransactionBudget>,
) -> Result<AuthorizeOutcome, OAuthError> {
    let session = reuse.session;
    let client = client_of(budget);
    let attempt = SignOnAttempt {
        user,
        client_id: Some(app.client_id.as_str()),
        session: Some(session),
        reused: reuse.reused,
        mfa_requested: request.mfa_requested,
        device_cookie: request.device_cookie.as_deref(),
        client: &client,
    };
    let step = match sign_on_gate::check(provider, attempt).await?.0 {
        Gate::Deny => {
            return Err(OAuthError::AccessDenied(
                sign_on_gate::DENIED_MESSAGE.into(),
            ));
        }
        Gate::Reauthenticate => return login_prompt(provider, app, &request, budget).await,
        Gate::Pass => return finish(provider, server, app, user, session, request).await,
        Gate::SecondStep(step) => step,
    };
    if request.prompt_none {
        return Err(OAuthError::LoginRequired(
            "The client specified not to prompt, but a second factor is required.".into(),
        ));
    }
    spend_transaction_budget(provider, budget).await?;
    let (tx, csrf_token) = new_transaction(provider, &request).await?;
    let next = Continuation {
        transaction_id: Some(tx.id),
        session_hash: Some(session.id_hash.clone()),
        return_to: None,
    };
    let pending = challenge::begin(provider, user, &csrf_token, step, next).await?;
    Ok(AuthorizeOutcome::SecondFactor(FactorPrompt {
        pending,
        csrf_token,
        app_label: app.label.clone(),
    }))
}

/// Stores a login transaction for `request`; returns it with its CSRF token.
async fn new_transaction(
    provider: &Provider,
    request: &AuthorizeRequest,
) -> Result<(LoginTransaction, String), OAuthError> {
    let now = provider.now();
    let csrf_token = random_token(32);
    let tx = LoginTransaction {
        id: random_token(24),
        csrf_hash: sha256_b64url(&csrf_token),
        request_json: serde_json::to_string(request).map_err(OAuthError::internal)?,
        created: now,
        expires_at: now + provider.lifetimes.login_transaction,
    };
    provider.store.create_login_transaction(&tx).await?;
    Ok((tx, csrf_token))
}

/// Counts one anonymous login transaction against the client address; over the budget, RFC
/// 6749's `temporarily_unavailable` and nothing is stored. A counting failure lets the request
/// through, as every rate limit here does (`rate_limit::fail_open`).
async fn spend_transaction_budget(
    provider: &Provider,
    budget: Option<&TransactionBudget>,
) -> Result<(), OAuthError> {
    let Some(b) = budget.filter(|b| b.per_minute > 0) else {
        return Ok(());
    };
    let bucket = format!("authorize-ip:{}", b.address);
    let hit = rate_limit::hit(provider, &bucket, RatePolicy::per_minute(b.per_minute)).await;
    match rate_limit::fail_open(hit, "login transaction budget not counted")? {
        Some(w) if w.exceeded => {
            tracing::info!(address = %b.address, limit = b.per_minute, "login transaction budget reached");
            Err(OAuthError::TemporarilyUnavailable(format!(
                "Too many sign-in requests from this address. Retry after {} seconds.",
                (w.reset - provider.now()).max(1)
            )))
        }
        _ => Ok(()),
    }
}

/// Why a sign-in attempt did not complete.
#[derive(Debug)]
pub enum LoginFailure {
    /// Wrong username or password, or an account that may not sign in: one generic message,
    /// so nobody learns which accounts exist. The form is shown again.
    BadCredentials(LoginPrompt),
    /// The right password, but expired: the expired-password page comes next.
    PasswordExpired(super::expired::ExpiredPrompt),
    /// The transaction is unknown, expired, or the CSRF check failed: start again at the app.
    TransactionInvalid,
    Internal(OAuthError),
}

impl From<OAuthError> for LoginFailure {
    fn from(e: OAuthError) -> Self {
        Self::Internal(e)
    }
}

impl From<crate::store::StoreError> for LoginFailure {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Internal(e.into())
    }
}

/// Where a completed sign-in goes next.
#[derive(Debug)]
pub enum AfterSignIn {
    /// Back to the client (a code or tokens, or an error).
    Respond(AuthorizationResponse),
    /// To the consent page first.
    Consent(ConsentPrompt),
    /// To the second step (a factor, or a first enrollment); no session yet.
    SecondFactor(FactorPrompt),
}

#[derive(Debug)]
pub struct CompletedLogin {
    /// The new sign-in session cookie value; empty when no new session was opened (a second
    /// step comes first, or a step-up upgraded the existing one).
    pub session_cookie: String,
    pub session_ttl: i64,
    pub next: AfterSignIn,
}

pub const GENERIC_LOGIN_FAILURE: &str = "Unable to sign in";

/// The browser's cookies the sign-in form's submission is checked with.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoginCookies<'a> {
    /// The CSRF cookie (must equal the form's token).
    pub csrf: Option<&'a str>,
    /// "Remember this device" ([`crate::services::remembered_device`]).
    pub device: Option<&'a str>,
}

/// Checks the sign-in form and, on success, opens a session and resumes the authorize request.
pub async fn complete_login(
    provider: &Provider,
    client: &ClientInfo,
    transaction_id: &str,
    form_csrf: &str,
    cookies: LoginCookies<'_>,
    username: &str,
    password: &str,
) -> Result<CompletedLogin, LoginFailure> {
    let (cookie_csrf, device_cookie) = (cookies.csrf, cookies.device);
    let (tx, request, app) =
        checked_transaction(provider, transaction_id, form_csrf, cookie_csrf).await?;
    // Unknown login, wrong password, locked or inactive account: one answer (see `lockout`).
    let user = match lockout::check_sign_in(provider, client, username, password).await? {
        lockout::SignInCheck::Accepted(u) => u,
        lockout::SignInCheck::PasswordExpired(u) => {
            // The right password, expired: a new one first (see `super::expired`).
            return Err(LoginFailure::PasswordExpired(
                super::expired::prompt(provider, &tx, form_csrf, &app, &u).await?,
            ));
        }
        lockout::SignInCheck::Refused => {
            return Err(LoginFailure::BadCredentials(LoginPrompt {
                transaction_id: tx.id,
                csrf_token: form_csrf.to_owned(),
                login_hint: Some(username.to_owned()),
                app_label: app.label,
            }));
        }
    };
    let signed_in = SignedIn {
        tx,
        request,
        app,
        user,
    };
    first_factor_passed(
        provider,
        client,
        signed_in,
        form_csrf,
        device_cookie,
        vec!["pwd".into()],
    )
    .await
}

/// A sign-in transaction whose user has just passed its first step.
pub(crate) struct SignedIn {
    pub tx: LoginTransaction,
    pub request: AuthorizeRequest,
    pub app: App,
    pub user: User,
}

/// The live login transaction `transaction_id` whose CSRF token is `form_csrf`, echoed by the
/// browser's cookie; with its authorize request and app.
pub(crate) async fn checked_transaction(
    provider: &Provider,
    transaction_id: &str,
    form_csrf: &str,
    cookie_csrf: Option<&str>,
) -> Result<(LoginTransaction, AuthorizeRequest, App), LoginFailure> {
    let now = provider.now();
    let tx = provider
        .store
        .find_login_transaction(transaction_id, now)
        .await?
        .ok_or(LoginFailure::TransactionInvalid)?;
    let csrf_ok = constant_time_eq(sha256_b64url(form_csrf).as_bytes(), tx.csrf_hash.as_bytes())
        && cookie_csrf.is_some_and(|c| constant_time_eq(c.as_bytes(), form_csrf.as_bytes()));
    if !csrf_ok {
        return Err(LoginFailure::TransactionInvalid);
    }
    let request: AuthorizeRequest =
        serde_json::from_str(&tx.request_json).map_err(|_| LoginFailure::TransactionInvalid)?;
    let app = provider
        .store
        .find_app_by_client_id(request.client_id.as_str())
        .await?
        .ok_or(LoginFailure::TransactionInvalid)?;
    Ok((tx, request, app))
}

/// A user who passed the first step of a sign-in (a password, or an upstream identity
/// provider): the sign-on policies' decision (deny, or a second step bound to the form's CSRF
/// token `csrf`), else a new session with `amr` and the authorize request resumed.
pub(crate) async fn first_factor_passed(
    provider: &Provider,
    client: &ClientInfo,
    signed_in: SignedIn,
    csrf: &str,
    device_cookie: Option<&str>,
    amr: Vec<String>,
) -> Result<CompletedLogin, LoginFailure> {
    let form_csrf = csrf;
    let SignedIn {
        tx,
        request,
        app,
        user,
    } = signed_in;
    let attempt = SignOnAttempt {
        user: &user,
        client_id: Some(app.client_id.as_str()),
        session: None,
        reused: false,
        mfa_requested: request.mfa_requested,
        device_cookie,
        client,
    };
    let step = match sign_on_gate::check(provider, attempt).await?.0 {
        Gate::Deny => {
            provider.store.delete_login_transaction(&tx.id).await?;
            let server = provider
                .server_context(&request.origin, request.auth_server_id.as_deref())
                .await?;
            let denied = OAuthError::AccessDenied(sign_on_gate::DENIED_MESSAGE.into());
            return Ok(CompletedLogin {
                session_cookie: String::new(),
                session_ttl: 0,
                next: AfterSignIn::Respond(AuthorizationResponse::error(
                    request.redirect_uri.as_str(),
                    request.response_mode,
                    &denied,
                    request.state.as_deref(),
                    &server,
                )),
            });
        }
        Gate::SecondStep(step) => Some(step),
        Gate::Pass | Gate::Reauthenticate => None,
    };
    if let Some(step) = step {
        // The transaction stays: the second step resumes it.
        let next = Continuation {
            transaction_id: Some(tx.id),
            ..Default::default()
        };
        let pending = challenge::begin(provider, &user, form_csrf, step, next).await?;
        return Ok(CompletedLogin {
            session_cookie: String::new(),
            session_ttl: 0,
            next: AfterSignIn::SecondFactor(FactorPrompt {
                pending,
                csrf_token: form_csrf.to_owned(),
                app_label: app.label,
            }),
        });
    }
    provider.store.delete_login_transaction(&tx.id).await?;
    let opened = open_session(provider, user, amr).await?;
    resume(provider, &app, opened, request).await
}

/// Completes a sign-in whose second step (see [`challenge`]) was passed with `amr`: opens the
/// session, or upgrades the step-up's existing session (`session_hash`), and resumes the
/// authorize request of `transaction_id`.
pub async fn complete_second_factor(
    provider: &Provider,
    transaction_id: &str,
    session_hash: Option<&str>,
    user: User,
    amr: Vec<String>,
) -> Result<CompletedLogin, LoginFailure> {
    let now = provider.now();
    let tx = provider
        .store
        .find_login_transaction(transaction_id, now)
        .await?
        .ok_or(LoginFailure::TransactionInvalid)?;
    let request: AuthorizeRequest =
        serde_json::from_str(&tx.request_json).map_err(|_| LoginFailure::TransactionInvalid)?;
    let app = provider
        .store
        .find_app_by_client_id(request.client_id.as_str())
        .await?
        .ok_or(LoginFailure::TransactionInvalid)?;
    provider.store.delete_login_transaction(&tx.id).await?;
    let opened = match session_hash {
        Some(hash) => {
            // The session's factors are added to what it already had (RFC 8176 values).
            let session = provider
                .store
                .find_session(hash, now)
                .await?
                .ok_or(LoginFailure::TransactionInvalid)?;
            let mut merged = session.amr.clone();
            for a in amr {
                if !merged.contains(&a) {
                    merged.push(a);
                }
            }
            if !provider
                .store
                .upgrade_session_amr(hash, &merged, now)
                .await?
            {
                return Err(LoginFailure::TransactionInvalid);
            }
            OpenedSession {
                cookie: String::new(),
                session: Session {
                    amr: merged,
                    ..session
                },
                user,
            }
        }
        None => open_session(provider, user, amr).await?,
    };
    resume(provider, &app, opened, request).await
}

/// Resumes the authorize request once the user is signed in.
async fn resume(
    provider: &Provider,
    app: &App,
    opened: OpenedSession,
    request: AuthorizeRequest,
) -> Result<CompletedLogin, LoginFailure> {
    let OpenedSession {
        cookie: session_cookie,
        session,
        user,
    } = opened;

    let server = provider
        .server_context(&request.origin, request.auth_server_id.as_deref())
        .await?;
    let (redirect_uri, mode, state) = (
        request.redirect_uri.to_string(),
        request.response_mode,
        request.state.clone(),
    );
    let next = match finish(provider, &server, app, &user, &session, request).await {
        Ok(AuthorizeOutcome::Consent(prompt)) => AfterSignIn::Consent(prompt),
        Ok(AuthorizeOutcome::Respond(response)) => AfterSignIn::Respond(response),
        Ok(
            AuthorizeOutcome::Login(_)
            | AuthorizeOutcome::ErrorPage(_)
            | AuthorizeOutcome::SecondFactor(_)
            | AuthorizeOutcome::Upstream { .. }
            | AuthorizeOutcome::SessionOpened { .. },
        ) => {
            return Err(LoginFailure::Internal(OAuthError::InvalidRequest(
                "The sign-in could not be resumed.".into(),
            )));
        }
        Err(OAuthError::Internal(e)) => {
            return Err(LoginFailure::Internal(OAuthError::Internal(e)));
        }
        Err(e) => AfterSignIn::Respond(AuthorizationResponse::error(
            &redirect_uri,
            mode,
            &e,
            state.as_deref(),
            &server,
        )),
    };
    Ok(CompletedLogin {
        session_cookie,
        session_ttl: provider.lifetimes.session,
        next,
    })
}
