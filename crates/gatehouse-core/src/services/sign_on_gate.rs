//! Where a sign-in meets the sign-on policies (issue 19): every place that opens a session or
//! reuses one for an app asks [`check`] what the policies say.
//!
//! * `DENY` (a global session rule or the app's access rule): refused, and a
//!   `policy.evaluate_sign_on` event with outcome `DENY` is written to the System Log.
//! * A reused session older than the policy's re-authentication interval (the sign-on rule's
//!   `maxSessionLifetimeMinutes`, the app rule's `reauthenticateIn`; `PT0S` = every time):
//!   the password again.
//! * A second factor: the session has none yet and the user has an active factor (always
//!   asked, as Keycloak does), or the policy (or the request's `acr_values`) requires MFA, in
//!   which case a user without a factor enrolls one. A device remembered for this user after
//!   a factor, within the policy's `factorLifetime`, skips the factor
//!   ([`crate::services::remembered_device`]).
//!
//! Callers: the authorize flow's sign-in form and session reuse (step-up), `sessionToken` at
//! `/authorize`, `/login/sessionCookieRedirect`, `/api/v1/authn`, the console and dashboard
//! sign-in page, and device activation.

use crate::audit::{self, ClientInfo, Entity, Event};
use crate::domain::{Session, User};
use crate::provider::Provider;
use crate::services::mfa::{self, challenge::SecondStep};
use crate::services::remembered_device;
use crate::services::sign_on_policy::{self, SignOnDecision, SignOnRequirement};
use crate::store::StoreError;

/// System Log event type of a policy decision (Okta's).
pub const POLICY_EVALUATE_SIGN_ON: &str = "policy.evaluate_sign_on";

/// What is known of one sign-in when the policies are asked.
#[derive(Debug, Clone, Copy)]
pub struct SignOnAttempt<'a> {
    pub user: &'a User,
    /// The app being opened (its client id); `None` for the org's own pages.
    pub client_id: Option<&'a str>,
    /// The session about to be used: its `amr` tells whether a factor was given.
    pub session: Option<&'a Session>,
    /// Whether `session` is an existing one being reused (its age is then checked against the
    /// re-authentication interval), rather than one just opened.
    pub reused: bool,
    /// The request asked for a second factor (`acr_values`).
    pub mfa_requested: bool,
    /// The browser's "remember this device" cookie, if any.
    pub device_cookie: Option<&'a str>,
    pub client: &'a ClientInfo,
}

/// The answer for one sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// A `DENY` rule matched (already logged).
    Deny,
    /// The reused session is too old for this app: sign in again.
    Reauthenticate,
    /// A factor (or a first enrollment) first.
    SecondStep(SecondStep),
    /// Nothing more is needed.
    Pass,
}

/// What a refused sign-in is told (Okta's message for a policy denial).
pub const DENIED_MESSAGE: &str =
    "Policy evaluation failed for this request, please check the policy configurations.";

/// The policies' answer for `attempt`, with the requirement behind it (for "remember this
/// device").
pub async fn check(
    provider: &Provider,
    attempt: SignOnAttempt<'_>,
) -> Result<(Gate, SignOnRequirement), StoreError> {
    let user = attempt.user;
    let groups: Vec<String> = provider
        .store
        .list_user_groups(&user.id)
        .await?
        .into_iter()
        .map(|g| g.id)
        .collect();
    let requirement =
        match sign_on_policy::decision(provider.store.as_ref(), user, &groups, attempt.client_id)
            .await?
        {
            SignOnDecision::Allow(r) => r,
            SignOnDecision::Deny { policy_id, rule_id } => {
                record_denial(provider, &attempt, &policy_id, &rule_id).await;
                return Ok((Gate::Deny, SignOnRequirement::default()));
            }
        };
    let now = provider.now();
    if let (true, Some(session), Some(limit)) = (
        attempt.reused,
        attempt.session,
        requirement.reauthenticate_after,
    ) && (limit == 0 || now - session.auth_time > limit)
    {
        return Ok((Gate::Reauthenticate, requirement));
    }
    if attempt
        .session
        .is_some_and(|s| s.amr.iter().any(|a| a == "mfa"))
    {
        return Ok((Gate::Pass, requirement));
    }
    let active = mfa::active_factors(provider, &user.id).await?;
    let required = requirement.require_mfa || attempt.mfa_requested;
    if !active.is_empty()
        && let (Some(lifetime), Some(cookie)) =
            (requirement.remember_device_for, attempt.device_cookie)
        && remembered_device::is_remembered(provider, cookie, user, &active, lifetime)
    {
        return Ok((Gate::Pass, requirement));
    }
    let gate = if !active.is_empty() {
        Gate::SecondStep(SecondStep { enroll: false })
    } else if required {
        Gate::SecondStep(SecondStep { enroll: true })
    } else {
        Gate::Pass
    };
    Ok((gate, requirement))
}

async fn record_denial(
    provider: &Provider,
    attempt: &SignOnAttempt<'_>,
    policy_id: &str,
    rule_id: &str,
) {
    tracing::info!(user_id = %attempt.user.id, policy_id, rule_id, "sign-in denied by policy");
    let mut event = Event::new(
        POLICY_EVALUATE_SIGN_ON,
        "Evaluation of sign-on policy",
        Entity::user(attempt.user),
    )
    .client(attempt.client)
    .target(Entity::new(policy_id, "PolicyEntity"))
    .target(Entity::new(rule_id, "PolicyRule"))
    .severity(audit::Severity::Warn)
    .debug("behaviors", "DENY");
    event.result = "DENY";
    event.reason = Some("Sign-on policy evaluation resulted in DENY".into());
    if let Some(client_id) = attempt.client_id {
        event = event.debug("clientId", client_id);
    }
    audit::record(provider, event).await;
}
