use crate::domain::{App, User};
use crate::oauth2::OAuthError;
use crate::provider::Provider;

/// As in Okta, a user must be assigned to the app, directly or through a group. A refusal is
/// in the System Log (`app.generic.unauth_app_access_attempt`).
pub(super) async fn run(provider: &Provider, app: &App, user: &User) -> Result<(), OAuthError> {
    if provider.store.is_user_assigned(&app.id, &user.id).await? {
        Ok(())
    } else {
        crate::audit::record_unassigned_access(provider, app, user).await;
        Err(OAuthError::AccessDenied(
            "User is not assigned to the client application.".into(),
        ))
    }
}
