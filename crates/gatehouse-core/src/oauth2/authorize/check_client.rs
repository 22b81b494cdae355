use super::Ctx;
use super::check_lengths::{MAX_CLIENT_ID, too_long};
use crate::domain::AppStatus;
use crate::oauth2::OAuthError;
use crate::oauth2::types::{ClientId, ClientIdError};

/// The client must exist and be active. Failing here shows an error page: with an unknown
/// client there is no registered redirect URI to trust. A `client_id` that is no client id at
/// all is answered as an unknown one.
pub(super) async fn run(ctx: &mut Ctx<'_>) -> Result<(), OAuthError> {
    let unknown =
        || OAuthError::InvalidClient("Invalid value for the `client_id` parameter.".into());
    let client_id = match ClientId::parse(ctx.params.client_id.as_deref().unwrap_or_default()) {
        Ok(id) => id,
        Err(ClientIdError::Empty) => {
            return Err(OAuthError::InvalidRequest(
                "The `client_id` parameter is required.".into(),
            ));
        }
        Err(ClientIdError::TooLong) => return Err(too_long("client_id", MAX_CLIENT_ID)),
        Err(ClientIdError::Malformed) => return Err(unknown()),
    };
    let app = ctx
        .provider
        .store
        .find_app_by_client_id(client_id.as_str())
        .await?;
    match app {
        Some(app) if app.status == AppStatus::Active => {
            ctx.app = Some(app);
            Ok(())
        }
        _ => Err(unknown()),
    }
}
