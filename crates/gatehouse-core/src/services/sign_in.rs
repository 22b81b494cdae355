//! Signing in on the hosted sign-in page without an authorize request (the admin console, the
//! end-user dashboard): the same password check and session as the authorize flow's form.

use crate::audit::{Actor, ClientInfo};
use crate::crypto::{random_token, sha256_b64url};
use crate::domain::{Session, User};
use crate::oauth2::OAuthError;
use crate::provider::Provider;
use crate::services::directory_rules::DirectoryError;
use crate::services::lockout;
use crate::services::mfa::challenge;
use crate::services::passwords::expired::{
    ExpiredError, change_expired_password, issue_state_token, state_user,
};
use crate::services::passwords::{self, rules};
use crate::services::sign_on_gate::{self, Gate, SignOnAttempt};

/// A new sign-in session.
#[derive(Debug)]
pub struct SignedIn {
    /// The session cookie's value.
    pub session_cookie: String,
    pub session_ttl: i64,
    pub user: User,
}

/// Where a correct password leads.
#[derive(Debug)]
pub enum SignInStep {
    /// Signed in.
    Done(Box<SignedIn>),
    /// A second factor (or a first enrollment) is needed: the factor page's `pending` value,
    /// bound to the form's CSRF token (see [`crate::services::mfa::challenge`]).
    SecondFactor { pending: String },
    /// A sign-on policy rule denies this sign-in (logged as `policy.evaluate_sign_on`).
    Denied,
    /// The right password, but expired: the page asks for a new one (as the hosted sign-in's
    /// expired-password step does) and posts it to [`sign_in_after_expired`].
    PasswordExpired(ExpiredStep),
}

/// The expired-password page's values.
#[derive(Debug, Clone)]
pub struct ExpiredStep {
    /// Sealed, names the user, worthless once the password changed (see
    /// [`crate::services::passwords::expired`]).
    pub state_token: String,
    /// The policy's requirements, in words.
    pub requirements: String,
    /// Why the last new password was refused.
    pub error: Option<String>,
}

/// Checks the username and password and opens a session, or the second step when the user
/// has a factor (or must enroll one); `None` for a wrong password, an unknown user or one who
/// may not sign in (one answer for all, so nobody learns which accounts exist). `csrf_token`
/// is the form's, `return_to` where the second step goes afterwards.
pub async fn sign_in_with_password(
    provider: &Provider,
    client: &ClientInfo,
    username: &str,
    password: &str,
    csrf_token: &str,
    return_to: &str,
    device_cookie: Option<&str>,
) -> Result<Option<SignInStep>, OAuthError> {
    // The authorize flow's check: lockout counting, one answer for every failure, the log.
    let user = match lockout::check_sign_in(provider, client, username.trim(), password).await? {
        lockout::SignInCheck::Accepted(user) => user,
        lockout::SignInCheck::PasswordExpired(user) => {
            return Ok(Some(SignInStep::PasswordExpired(ExpiredStep {
                state_token: issue_state_token(provider, &user).0,
                requirements: requirements(provider, &user).await?,
                error: None,
            })));
        }
        lockout::SignInCheck::Refused => return Ok(None),
    };
    after_password(provider, client, user, csrf_token, return_to, device_cookie).await
}

/// The expired-password page's post: `new_password` (twice) through the policy for the user
/// behind `state_token`, then the sign-in goes on as if it had been typed (sign-on policy,
/// second factor, session). A refused password is the page again with the reason; a state
/// token that is unknown, expired or already used is `None` (sign in again).
#[allow(clippy::too_many_arguments)]
pub async fn sign_in_after_expired(
    provider: &Provider,
    client: &ClientInfo,
    state_token: &str,
    new_password: &str,
    confirm: &str,
    csrf_token: &str,
    return_to: &str,
    device_cookie: Option<&str>,
) -> Result<Option<SignInStep>, OAuthError> {
    let Ok(user) = state_user(provider, state_token).await else {
        return Ok(None);
    };
    let again = |error: String, requirements: String| {
        Some(SignInStep::PasswordExpired(ExpiredStep {
            state_token: state_token.to_owned(),
            requirements,
            error: Some(error),
        }))
    };
    if new_password != confirm {
        let req = requirements(provider, &user).await?;
        return Ok(again("The two passwords do not match.".into(), req));
    }
    let actor = |u: &User| Actor::user(u, client);
    let user = match change_expired_password(provider, actor, state_token, new_password.to_owned())
        .await
    {
        Ok(u) => u,
        Err(ExpiredError::Directory(DirectoryError::Invalid { message, .. })) => {
            let req = requirements(provider, &user).await?;
            return Ok(again(message, req));
        }
        Err(ExpiredError::InvalidState) => return Ok(None),
        Err(ExpiredError::Directory(e)) => return Err(OAuthError::internal(e)),
    };
    after_password(provider, client, user, csrf_token, return_to, device_cookie).await
}

async fn requirements(provider: &Provider, user: &User) -> Result<String, OAuthError> {
    let policy = passwords::policy_for(provider, Some(&user.id)).await?;
    Ok(rules::requirements(&policy.settings.complexity))
}

/// After a right (or just changed) password: the sign-on policy, then a second step or a
/// session.
async fn after_password(
    provider: &Provider,
    client: &ClientInfo,
    user: User,
    csrf_token: &str,
    return_to: &str,
    device_cookie: Option<&str>,
) -> Result<Option<SignInStep>, OAuthError> {
    let attempt = SignOnAttempt {
        user: &user,
        client_id: None,
        session: None,
        reused: false,
        mfa_requested: false,
        device_cookie,
        client,
    };
    let step = match sign_on_gate::check(provider, attempt).await?.0 {
        Gate::Deny => return Ok(Some(SignInStep::Denied)),
        Gate::SecondStep(step) => Some(step),
        Gate::Pass | Gate::Reauthenticate => None,
    };
    if let Some(step) = step {
        let next = challenge::Continuation {
            return_to: Some(return_to.to_owned()),
            ..Default::default()
        };
        let pending = challenge::begin(provider, &user, csrf_token, step, next).await?;
        return Ok(Some(SignInStep::SecondFactor { pending }));
    }
    Ok(Some(SignInStep::Done(Box::new(
        open_signed_in(provider, user, vec!["pwd".into()]).await?,
    ))))
}

/// Opens a session with `amr` for a user who passed every step (the console's second step).
pub async fn open_signed_in(
    provider: &Provider,
    user: User,
    amr: Vec<String>,
) -> Result<SignedIn, OAuthError> {
    let opened = open_session(provider, user, amr).await?;
    Ok(SignedIn {
        session_cookie: opened.cookie,
        session_ttl: provider.lifetimes.session,
        user: opened.user,
    })
}

/// A session just opened: the cookie's value (only its hash is stored), the session, and the
/// user as stored now.
pub(crate) struct OpenedSession {
    pub cookie: String,
    pub session: Session,
    pub user: User,
}

/// Opens a session for a user who just passed every sign-in step, with their `amr`
/// (`["pwd"]` after a password alone). Shared by the authorize flow's form and the console's
/// sign-in page.
pub(crate) async fn open_session(
    provider: &Provider,
    user: User,
    amr: Vec<String>,
) -> Result<OpenedSession, OAuthError> {
    let now = provider.now();
    let cookie = random_token(32);
    let session = Session {
        id_hash: sha256_b64url(&cookie),
        user_id: user.id.clone(),
        auth_time: now,
        amr,
        created: now,
        expires_at: now + provider.lifetimes.session,
    };
    // The sign-in time was recorded by `lockout::verify_sign_in`, on the row itself.
    provider.store.create_session(&session).await?;
    Ok(OpenedSession {
        cookie,
        session,
        user,
    })
}
