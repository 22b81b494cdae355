use super::Ctx;
use crate::domain::AppStatus;
use crate::oauth2::OAuthError;

/// The client must exist and be active. Failing here shows an error page: with an unknown
/// client there is no registered redirect URI to trust.
pub(super) async fn run(ctx: &mut Ctx<'_>) -> Result<(), OAuthError> {
    if ctx.params.request.is_some() || ctx.params.request_uri.is_some() {
        // Request objects are not supported; refusing beats silently ignoring signed parameters.
        return Err(OAuthError::InvalidRequest(
            "The `request` and `request_uri` parameters are not supported.".into(),
        ));
    }
    let client_id = ctx
        .params
        .client_id
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            OAuthError::InvalidRequest("The `client_id` parameter is required.".into())
        })?;
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
