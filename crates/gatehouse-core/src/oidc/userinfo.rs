use serde_json::{Map, Value};

use crate::domain::UserStatus;
use crate::oauth2::OAuthError;
use crate::oauth2::introspect::validate_access_token;
use crate::oidc::claims;
use crate::provider::{Provider, ServerContext};

/// Claims about the token's user, filtered by the token's scopes. Needs `openid`.
pub async fn userinfo(
    provider: &Provider,
    server: &ServerContext,
    access_token: &str,
) -> Result<Map<String, Value>, OAuthError> {
    let token = validate_access_token(provider, server, access_token).await?;
    let scopes: Vec<String> = token["scp"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if !scopes.iter().any(|s| s == "openid") {
        return Err(OAuthError::AccessDenied("The access token must provide access to at least one of these scopes - profile, email, address or phone".into()));
    }
    let uid = token["uid"]
        .as_str()
        .ok_or_else(|| OAuthError::InvalidToken("The access token is invalid.".into()))?;
    let user = provider
        .store
        .find_user(uid)
        .await?
        .filter(|u| u.status == UserStatus::Active)
        .ok_or_else(|| OAuthError::InvalidToken("The access token is invalid.".into()))?;
    let groups = provider.store.list_user_groups(&user.id).await?;
    Ok(claims::userinfo_claims(&user, &groups, &scopes))
}
