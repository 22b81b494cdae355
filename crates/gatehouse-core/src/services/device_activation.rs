//! `/activate` (RFC 8628 §3.3): the signed-in user enters the user code shown on the device,
//! sees which app asks for which scopes, and approves or denies.
//!
//! User codes are short enough to guess, so each address gets a small budget of wrong codes
//! (counted in the database, shared by every node); once spent, every code is refused until
//! the window ends. Approval applies the same checks as a sign-in through `/authorize`: the
//! app is active, the user is assigned to it, and on custom servers an access policy rule
//! allows the device grant for this user and these scopes.

use crate::audit::ClientInfo;
use crate::authz::policy;
use crate::domain::{
    App, AppStatus, DeviceAuthorization, DeviceDecision, DeviceStatus, Session, User,
};
use crate::oauth2::OAuthError;
use crate::oauth2::device::{normalize_user_code, user_code_hash};
use crate::oauth2::grants::GrantType;
use crate::provider::Provider;
use crate::services::rate_limit::{self, RatePolicy};
use crate::services::sign_on_gate::{self, Gate, SignOnAttempt};

/// Wrong user codes an address may enter per window.
pub const GUESS_POLICY: RatePolicy = RatePolicy {
    limit: 5,
    window_secs: 600,
};

#[derive(Debug, thiserror::Error)]
pub enum ActivationError {
    #[error("Too many invalid codes. Try again in {retry_after} seconds.")]
    Throttled { retry_after: i64 },
    #[error("That code is invalid or has expired.")]
    InvalidCode,
    /// The user may not approve this app (not assigned, or no policy rule allows it); the
    /// device is told `access_denied`.
    #[error("{0}")]
    NotAllowed(String),
    #[error(transparent)]
    Internal(#[from] OAuthError),
}

impl From<crate::store::StoreError> for ActivationError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Internal(e.into())
    }
}

/// What the confirmation page shows.
#[derive(Debug, Clone)]
pub struct ActivationPrompt {
    /// `XXXX-XXXX`.
    pub user_code: String,
    pub app_label: String,
    pub scopes: Vec<String>,
}

/// Lookups of any outcome an address may make per window: the failure budget is checked
/// before a lookup and counted after it, so this bounds what a burst of concurrent guesses
/// gets past that check.
pub const ATTEMPT_POLICY: RatePolicy = RatePolicy {
    limit: 30,
    window_secs: 600,
};

fn bucket(address: &str) -> String {
    format!("device-activate:{address}")
}

/// The pending authorization behind a typed user code, within the address's guess budget.
async fn find(
    provider: &Provider,
    address: &str,
    input: &str,
) -> Result<(DeviceAuthorization, App, String), ActivationError> {
    let failures = rate_limit::peek(provider, &bucket(address), GUESS_POLICY).await?;
    let attempts = format!("device-activate-attempts:{address}");
    let tries = rate_limit::hit(provider, &attempts, ATTEMPT_POLICY).await?;
    let spent = [(failures, failures.remaining == 0), (tries, tries.exceeded)];
    if let Some((w, _)) = spent.into_iter().find(|(_, out)| *out) {
        return Err(ActivationError::Throttled {
            retry_after: (w.reset - provider.now()).max(1),
        });
    }
    let now = provider.now();
    let found = match normalize_user_code(input) {
        Some(code) => provider
            .store
            .find_device_by_user_code(&user_code_hash(&code))
            .await?
            .filter(|d| d.status == DeviceStatus::Pending && d.expires_at > now)
            .map(|d| (d, code)),
        None => None,
    };
    let app = match &found {
        Some((d, _)) => provider
            .store
            .find_app_by_client_id(&d.client_id)
            .await?
            .filter(|a| a.status == AppStatus::Active),
        None => None,
    };
    match (found, app) {
        (Some((device, code)), Some(app)) => Ok((device, app, code)),
        _ => {
            rate_limit::hit(provider, &bucket(address), GUESS_POLICY).await?;
            Err(ActivationError::InvalidCode)
        }
    }
}

fn display(code: &str) -> String {
    format!("{}-{}", &code[..4], &code[4..])
}

/// Checks a typed user code and returns what to confirm.
pub async fn prompt(
    provider: &Provider,
    address: &str,
    input: &str,
) -> Result<ActivationPrompt, ActivationError> {
    let (device, app, code) = find(provider, address, input).await?;
    Ok(ActivationPrompt {
        user_code: display(&code),
        app_label: app.label,
        scopes: device.scopes,
    })
}

/// Records the signed-in user's answer. An approval the user may not give is recorded as a
/// denial and reported as [`ActivationError::NotAllowed`].
pub async fn decide(
    provider: &Provider,
    address: &str,
    input: &str,
    user: &User,
    session: &Session,
    approve: bool,
) -> Result<ActivationPrompt, ActivationError> {
    let (device, app, code) = find(provider, address, input).await?;
    let refusal = match approve {
        true => match may_approve(provider, &device, &app, user).await? {
            None => sign_on_refusal(provider, address, &app, user, session).await?,
            refused => refused,
        },
        false => None,
    };
    let decision = DeviceDecision {
        approved: approve && refusal.is_none(),
        user_id: user.id.clone(),
        auth_time: session.auth_time,
        amr: session.amr.clone(),
    };
    let recorded = provider
        .store
        .decide_device_authorization(&device.user_code_hash, &decision, provider.now())
        .await?;
    if !recorded {
        return Err(ActivationError::InvalidCode);
    }
    if let Some(why) = refusal {
        return Err(ActivationError::NotAllowed(why));
    }
    Ok(ActivationPrompt {
        user_code: display(&code),
        app_label: app.label,
        scopes: device.scopes,
    })
}

/// The sign-on policies' answer for this session opening `app` on the device: `None` when
/// they let it through. The device has no browser to step up in, so a session that is too old
/// or lacks a factor the app needs is refused like a denial.
async fn sign_on_refusal(
    provider: &Provider,
    address: &str,
    app: &App,
    user: &User,
    session: &Session,
) -> Result<Option<String>, ActivationError> {
    let client = ClientInfo {
        ip: Some(address.to_owned()),
        user_agent: None,
    };
    let attempt = SignOnAttempt {
        user,
        client_id: Some(app.client_id.as_str()),
        session: Some(session),
        reused: true,
        mfa_requested: false,
        device_cookie: None,
        client: &client,
    };
    Ok(match sign_on_gate::check(provider, attempt).await?.0 {
        Gate::Pass => None,
        Gate::Deny => Some(sign_on_gate::DENIED_MESSAGE.into()),
        Gate::Reauthenticate => {
            Some("This app asks for a recent sign-in: sign out, sign in again and retry.".into())
        }
        Gate::SecondStep(_) => Some(
            "This app needs a second factor: sign out, sign in with your factor and retry.".into(),
        ),
    })
}

/// `None` when the user may approve; else why not.
async fn may_approve(
    provider: &Provider,
    device: &DeviceAuthorization,
    app: &App,
    user: &User,
) -> Result<Option<String>, ActivationError> {
    if !provider.store.is_user_assigned(&app.id, &user.id).await? {
        crate::audit::record_unassigned_access(provider, app, user).await;
        return Ok(Some("You are not assigned to this application.".into()));
    }
    let server = provider
        .store
        .find_auth_server(&device.auth_server_id)
        .await?;
    let is_org = server
        .as_ref()
        .is_none_or(|s| s.kind == crate::domain::AuthServerKind::Org);
    if is_org {
        return Ok(None);
    }
    match policy::decide(
        provider,
        &device.auth_server_id,
        &app.client_id,
        GrantType::DeviceCode.as_str(),
        &device.scopes,
        Some(user),
    )
    .await
    {
        Ok(_) => Ok(None),
        Err(OAuthError::PolicyDenied(why) | OAuthError::AccessDenied(why)) => Ok(Some(why)),
        Err(OAuthError::InvalidScope(why)) => Ok(Some(why)),
        Err(e) => Err(e.into()),
    }
}
