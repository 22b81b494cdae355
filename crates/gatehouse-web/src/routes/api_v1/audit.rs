//! The actor of management-API changes: the caller, as the services record it.

use gatehouse_core::services::api_tokens::ApiCaller;
use gatehouse_core::services::system_log::{Actor, ClientInfo, Entity};

use super::auth::Caller;

/// The API token's user, or the service app, calling from `client`.
pub(crate) fn actor(caller: &Caller, client: &ClientInfo) -> Actor {
    let entity = match &caller.0 {
        ApiCaller::ApiToken { user, .. } => Entity::user(user),
        ApiCaller::ServiceApp { app, .. } => Entity::new(&app.client_id, "PublicClientApp")
            .named(Some(app.client_id.clone()), Some(app.label.clone())),
    };
    Actor::new(entity, client)
}
