//! System Log events of management-API changes, with the caller as the actor.

use gatehouse_core::services::api_tokens::ApiCaller;
use gatehouse_core::services::system_log::{self, ClientInfo, Entity, Event};

use super::auth::Caller;
use crate::AppState;

/// The actor of a change: the API token's user, or the service app.
pub(crate) fn actor(caller: &Caller) -> Entity {
    match &caller.0 {
        ApiCaller::ApiToken { user, .. } => Entity::user(user),
        ApiCaller::ServiceApp { app, .. } => Entity::new(&app.client_id, "PublicClientApp")
            .named(Some(app.client_id.clone()), Some(app.label.clone())),
    }
}

/// Records `event_type` done by `caller` to `targets` (never fails the request).
pub(crate) async fn record(
    state: &AppState,
    caller: &Caller,
    client: &ClientInfo,
    event_type: &str,
    message: &str,
    targets: Vec<Entity>,
) {
    let mut event = Event::new(event_type, message, actor(caller)).client(client);
    event.targets = targets;
    system_log::record(&state.provider, event).await;
}
