//! RFC 7009 revocation. Always answers success for unknown tokens, so it reveals nothing.

use crate::audit::{self, ClientInfo, Entity, Event, oauth2_event_type};
use crate::crypto::sha256_b64url;
use crate::domain::AuthServerKind;
use crate::oauth2::OAuthError;
use crate::oauth2::client_auth;
use crate::oauth2::introspect::{TokenActionParams, revocation_record, validate_access_token};
use crate::provider::{Provider, ServerContext};

/// Revokes the token if it is the client's, and records `app.oauth2[.as].token.revoke` (the
/// request, whatever it found: the answer is the same either way).
pub async fn revoke(
    provider: &Provider,
    server: &ServerContext,
    params: TokenActionParams,
    authorization: Option<&str>,
    client: &ClientInfo,
) -> Result<(), OAuthError> {
    let app = client_auth::authenticate(
        provider,
        &params.credentials(authorization),
        server,
        client_auth::Endpoint::Revoke,
    )
    .await?;
    let token = params.token()?;
    let revoked = revoke_own_token(provider, server, &app.client_id, token).await?;
    let custom = server.server.kind == AuthServerKind::Custom;
    let actor = Entity::new(&app.client_id, "PublicClientApp")
        .named(Some(app.client_id.clone()), Some(app.label.clone()));
    let mut event = Event::new(
        oauth2_event_type(custom, "token.revoke"),
        "OAuth2 token revocation request",
        actor,
    )
    .client(client)
    .target(Entity::app(&app))
    .debug("authorizationServer", server.server.id.as_str());
    if let Some(kind) = revoked {
        event = event.debug("revokedTokenType", kind);
    }
    audit::record(provider, event).await;
    Ok(())
}

/// Revokes `token` when it is one of `client_id`'s; says which kind it was.
async fn revoke_own_token(
    provider: &Provider,
    server: &ServerContext,
    client_id: &str,
    token: &str,
) -> Result<Option<&'static str>, OAuthError> {
    let now = provider.now();
    if let Ok(claims) = validate_access_token(provider, server, token).await {
        // A client may revoke only its own tokens.
        if claims["cid"].as_str() == Some(client_id) {
            let record = revocation_record(&claims)?;
            provider.store.revoke_access_token(&record, now).await?;
            return Ok(Some("access_token"));
        }
        return Ok(None);
    }
    if let Some(rt) = provider
        .store
        .find_refresh_token(&sha256_b64url(token))
        .await?
        && rt.client_id == client_id
    {
        // Revoking a refresh token ends its whole grant, access tokens included (RFC 7009 §2.1).
        provider.store.revoke_grant(&rt.grant_id, now).await?;
        return Ok(Some("refresh_token"));
    }
    Ok(None)
}
