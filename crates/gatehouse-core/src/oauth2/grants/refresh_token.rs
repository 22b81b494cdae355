use crate::crypto::sha256_b64url;
use crate::domain::{App, UserStatus};
use crate::oauth2::{OAuthError, grants::TokenParams, scope};
use crate::oidc::tokens::{self, Issue, RefreshPlan, TokenResponse};
use crate::provider::{Provider, ServerContext};

fn invalid_refresh() -> OAuthError {
    OAuthError::InvalidGrant("The refresh token is invalid or expired.".into())
}

pub(super) async fn exchange(
    provider: &Provider,
    server: &ServerContext,
    app: &App,
    params: &TokenParams,
) -> Result<TokenResponse, OAuthError> {
    let presented = params
        .refresh_token
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            OAuthError::InvalidRequest("The `refresh_token` parameter is required.".into())
        })?;
    let now = provider.now();
    let token = provider
        .store
        .find_refresh_token(&sha256_b64url(presented))
        .await?
        .ok_or_else(invalid_refresh)?;
    if token.client_id != app.client_id || token.revoked_at.is_some() || token.expires_at <= now {
        return Err(invalid_refresh());
    }
    let mut grant = provider
        .store
        .find_grant(&token.grant_id)
        .await?
        .ok_or_else(invalid_refresh)?;
    if grant.revoked_at.is_some() || grant.auth_server_id != server.server.id {
        return Err(invalid_refresh());
    }
    // A narrower scope may be asked for; never a wider one.
    if let Some(requested) = params
        .scope
        .as_deref()
        .map(scope::parse)
        .filter(|s| !s.is_empty())
    {
        if let Some(extra) = requested.iter().find(|s| !scope::has(&token.scopes, s)) {
            return Err(OAuthError::InvalidScope(format!(
                "The scope '{extra}' was not granted to the refresh token."
            )));
        }
        grant.scopes = requested;
    } else {
        grant.scopes = token.scopes.clone();
    }
    let user = match &grant.user_id {
        Some(uid) => Some(
            provider
                .store
                .find_user(uid)
                .await?
                .filter(|u| u.status == UserStatus::Active)
                .ok_or_else(invalid_refresh)?,
        ),
        None => None,
    };
    // Web apps keep a static refresh token (Okta's default outside SPAs).
    let refresh = RefreshPlan::Reuse(presented.to_owned());
    tokens::issue(
        provider,
        Issue {
            server,
            app,
            user: user.as_ref(),
            grant: &grant,
            nonce: None,
            refresh,
            store_grant: false,
        },
    )
    .await
}
