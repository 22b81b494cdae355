//! The hosted sign-in's expired-password step: the password was right but has expired
//! (`lifecycle/expire_password`, or older than the policy's `maxAgeDays`), so instead of a
//! session the page asks for a new one; once the policy accepts it the sign-in goes on
//! (second factor, session, back to the app) as if the new password had been typed.

use super::session::{
    CompletedLogin, LoginCookies, LoginFailure, SignedIn, checked_transaction, first_factor_passed,
};
use crate::audit::{Actor, ClientInfo};
use crate::domain::{App, LoginTransaction, User};
use crate::provider::Provider;
use crate::services::directory_rules::DirectoryError;
use crate::services::passwords::expired::{
    ExpiredError, change_expired_password, issue_state_token, state_user,
};
use crate::services::passwords::{self, rules};

/// What the expired-password page shows and posts back.
#[derive(Debug, Clone)]
pub struct ExpiredPrompt {
    pub transaction_id: String,
    pub csrf_token: String,
    /// Sealed: names the user, single-use in effect (see `services::passwords::expired`).
    pub state_token: String,
    pub app_label: String,
    /// The policy's requirements, in words.
    pub requirements: String,
    /// Why the last new password was refused.
    pub error: Option<String>,
}

async fn requirements(provider: &Provider, user: &User) -> Result<String, LoginFailure> {
    let policy = passwords::policy_for(provider, Some(&user.id)).await?;
    Ok(rules::requirements(&policy.settings.complexity))
}

pub(super) async fn prompt(
    provider: &Provider,
    tx: &LoginTransaction,
    form_csrf: &str,
    app: &App,
    user: &User,
) -> Result<ExpiredPrompt, LoginFailure> {
    Ok(ExpiredPrompt {
        transaction_id: tx.id.clone(),
        csrf_token: form_csrf.to_owned(),
        state_token: issue_state_token(provider, user).0,
        app_label: app.label.clone(),
        requirements: requirements(provider, user).await?,
        error: None,
    })
}

/// Takes the expired-password form: the transaction's CSRF check, the state token, the new
/// password (twice) through the policy; then the rest of the sign-in. A refused password
/// shows the page again (`LoginFailure::PasswordExpired` with `error`).
#[allow(clippy::too_many_arguments)]
pub async fn complete_expired_password(
    provider: &Provider,
    client: &ClientInfo,
    transaction_id: &str,
    form_csrf: &str,
    cookies: LoginCookies<'_>,
    state_token: &str,
    new_password: &str,
    confirm: &str,
) -> Result<CompletedLogin, LoginFailure> {
    let (tx, request, app) =
        checked_transaction(provider, transaction_id, form_csrf, cookies.csrf).await?;
    let user = state_user(provider, state_token)
        .await
        .map_err(|_| LoginFailure::TransactionInvalid)?;
    let again = |error: String, req: String| {
        LoginFailure::PasswordExpired(ExpiredPrompt {
            transaction_id: tx.id.clone(),
            csrf_token: form_csrf.to_owned(),
            state_token: state_token.to_owned(),
            app_label: app.label.clone(),
            requirements: req,
            error: Some(error),
        })
    };
    if new_password != confirm {
        let req = requirements(provider, &user).await?;
        return Err(again("The two passwords do not match.".into(), req));
    }
    let actor = |u: &User| Actor::user(u, client);
    let user = match change_expired_password(provider, actor, state_token, new_password.to_owned())
        .await
    {
        Ok(u) => u,
        Err(ExpiredError::Directory(DirectoryError::Invalid { message, .. })) => {
            let req = requirements(provider, &user).await?;
            return Err(again(message, req));
        }
        Err(ExpiredError::InvalidState) => return Err(LoginFailure::TransactionInvalid),
        Err(ExpiredError::Directory(e)) => {
            return Err(LoginFailure::Internal(crate::oauth2::OAuthError::internal(
                e,
            )));
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
        cookies.device,
        vec!["pwd".into()],
    )
    .await
}
