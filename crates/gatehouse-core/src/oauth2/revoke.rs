//! RFC 7009 revocation. Always answers success for unknown tokens, so it reveals nothing.

use crate::crypto::sha256_b64url;
use crate::oauth2::OAuthError;
use crate::oauth2::client_auth;
use crate::oauth2::introspect::{TokenActionParams, validate_access_token};
use crate::provider::{Provider, ServerContext};

pub async fn revoke(
    provider: &Provider,
    server: &ServerContext,
    params: TokenActionParams,
    authorization: Option<&str>,
) -> Result<(), OAuthError> {
    let app = client_auth::authenticate(
        provider,
        &params.credentials(authorization),
        server,
        client_auth::Endpoint::Revoke,
    )
    .await?;
    let token = params.token()?;
    let now = provider.now();
    if let Ok(claims) = validate_access_token(provider, server, token).await {
        // A client may revoke only its own tokens.
        if claims["cid"].as_str() == Some(app.client_id.as_str())
            && let Some(jti) = claims["jti"].as_str()
        {
            provider.store.revoke_access_token(jti, now).await?;
        }
        return Ok(());
    }
    if let Some(rt) = provider
        .store
        .find_refresh_token(&sha256_b64url(token))
        .await?
        && rt.client_id == app.client_id
    {
        // Revoking a refresh token ends its whole grant, access tokens included (RFC 7009 §2.1).
        provider.store.revoke_grant(&rt.grant_id, now).await?;
    }
    Ok(())
}
