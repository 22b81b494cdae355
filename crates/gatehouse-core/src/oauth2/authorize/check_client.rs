use super::Ctx;
use super::check_lengths::{MAX_CLIENT_ID, too_long};
use crate::domain::AppStatus;
use crate::oauth2::OAuthError;

/// The client must exist and be active. Failing here shows an error page: with an unknown
/// client there is no registered redirect URI to trust.
pub(super) async fn run(ctx: &mut Ctx<'_>) -> Result<(), OAuthError> {
    let client_id = ctx
        .params
        .client_id
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            OAuthError::InvalidRequest("The `client_id` parameter is required.".into())
        })?;
    if client_id.len() > MAX_CLIENT_ID {
        return Err(too_long("client_id", MAX_CLIENT_ID));
    }
    let app = ctx.provider.store.find_app_by_client_id(client_id).await?;
    match app {
        Some(app) if app.status == AppStatus::Active => {
            ctx.app = Some(app);
            Ok(())
        }
        _ => Err(OAuthError::InvalidClient(
            "Invalid value for the `client_id` parameter.".into(),
        )),
    }
}
