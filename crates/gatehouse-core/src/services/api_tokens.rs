//! Management API tokens: created by an administrator (CLI, later the console), shown once,
//! stored as SHA-256, sent as `Authorization: SSWS <token>`.

use crate::crypto::{okta_id, random_token, sha256_b64url};
use crate::domain::{ApiToken, User, UserStatus};
use crate::provider::Provider;
use crate::store::StoreError;

/// `last_used` is written at most this often per token (seconds), so busy clients do not turn
/// every API call into a database write.
pub const LAST_USED_RESOLUTION: i64 = 60;

/// The credential in an `Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential<'a> {
    /// `SSWS <api token>`.
    Ssws(&'a str),
    /// `Bearer <access token>`.
    Bearer(&'a str),
}

/// Parses `SSWS <token>` / `Bearer <token>`: the scheme ignores case, and zero or more spaces
/// may follow it (Okta's Python SDK sends `SSWS<token>`).
pub fn parse_authorization(header: &str) -> Option<Credential<'_>> {
    let header = header.trim();
    let strip = |scheme: &str| -> Option<&str> {
        let head = header.get(..scheme.len())?;
        if !head.eq_ignore_ascii_case(scheme) {
            return None;
        }
        let rest = header.get(scheme.len()..)?.trim_start_matches([' ', '\t']);
        (!rest.is_empty() && !rest.contains(char::is_whitespace)).then_some(rest)
    };
    if let Some(t) = strip("SSWS") {
        return Some(Credential::Ssws(t));
    }
    strip("Bearer").map(Credential::Bearer)
}

#[derive(Debug, thiserror::Error)]
pub enum ApiTokenError {
    /// Missing, unknown or revoked token, or one whose owner can no longer act.
    #[error("Invalid token provided")]
    InvalidToken,
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("API token {0} not found")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new token and its value in clear text, which is shown this once.
#[derive(Debug, Clone)]
pub struct CreatedApiToken {
    pub token: ApiToken,
    pub value: String,
}

/// Creates a token acting as `owner`. The value looks like Okta's: `00` and 40 random
/// characters (240 bits).
pub async fn create_api_token(
    provider: &Provider,
    name: &str,
    owner: &User,
) -> Result<CreatedApiToken, ApiTokenError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiTokenError::Invalid {
            field: "name",
            message: "must be 1 to 100 characters".into(),
        });
    }
    let value = format!("00{}", random_token(30));
    let token = ApiToken {
        id: okta_id("00T"),
        name: name.to_owned(),
        token_hash: sha256_b64url(&value),
        user_id: owner.id.clone(),
        created: provider.now(),
        last_used: None,
        revoked_at: None,
    };
    provider.store.create_api_token(&token).await?;
    Ok(CreatedApiToken { token, value })
}

pub async fn list_api_tokens(provider: &Provider) -> Result<Vec<ApiToken>, ApiTokenError> {
    Ok(provider.store.list_api_tokens().await?)
}

pub async fn revoke_api_token(provider: &Provider, id: &str) -> Result<(), ApiTokenError> {
    match provider.store.revoke_api_token(id, provider.now()).await {
        Err(StoreError::NotFound) => Err(ApiTokenError::NotFound(id.to_owned())),
        other => Ok(other?),
    }
}

/// Who an API call acts as.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    pub token: ApiToken,
    pub user: User,
}

/// Authenticates an `Authorization` header value. Only `SSWS` API tokens are accepted for now;
/// Bearer access tokens (service apps with `okta.*` scopes) come later.
pub async fn authenticate(
    provider: &Provider,
    header: Option<&str>,
) -> Result<ApiCaller, ApiTokenError> {
    let value = match header.and_then(parse_authorization) {
        Some(Credential::Ssws(v)) => v,
        Some(Credential::Bearer(_)) | None => return Err(ApiTokenError::InvalidToken),
    };
    let token = provider
        .store
        .find_api_token_by_hash(&sha256_b64url(value))
        .await?
        .filter(|t| t.revoked_at.is_none())
        .ok_or(ApiTokenError::InvalidToken)?;
    let user = provider
        .store
        .find_user(&token.user_id)
        .await?
        .filter(|u| u.status == UserStatus::Active)
        .ok_or(ApiTokenError::InvalidToken)?;
    let now = provider.now();
    let not_after = now - LAST_USED_RESOLUTION;
    if token.last_used.is_none_or(|t| t <= not_after) {
        // Best effort: a failed bookkeeping write must not fail the call.
        if let Err(e) = provider
            .store
            .touch_api_token(&token.id, now, not_after)
            .await
        {
            tracing::warn!(error = %e, "could not record API token use");
        }
    }
    Ok(ApiCaller { token, user })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssws_with_any_spacing_and_case() {
        assert_eq!(
            parse_authorization("SSWS 00abc"),
            Some(Credential::Ssws("00abc"))
        );
        assert_eq!(
            parse_authorization("SSWS00abc"),
            Some(Credential::Ssws("00abc"))
        );
        assert_eq!(
            parse_authorization("ssws   00abc"),
            Some(Credential::Ssws("00abc"))
        );
        assert_eq!(
            parse_authorization("SsWs\t00abc "),
            Some(Credential::Ssws("00abc"))
        );
    }

    #[test]
    fn bearer_with_any_spacing_and_case() {
        assert_eq!(
            parse_authorization("Bearer eyJ.x.y"),
            Some(Credential::Bearer("eyJ.x.y"))
        );
        assert_eq!(
            parse_authorization("BearereyJ.x.y"),
            Some(Credential::Bearer("eyJ.x.y"))
        );
        assert_eq!(
            parse_authorization("bearer  eyJ"),
            Some(Credential::Bearer("eyJ"))
        );
    }

    #[test]
    fn rejects_other_schemes_and_empty_tokens() {
        for bad in [
            "",
            "SSWS",
            "SSWS   ",
            "Bearer",
            "Basic dXNlcjpwYXNz",
            "SSW 00abc",
            "SSWS 00a bc",
            "Token 00abc",
            "ß",
        ] {
            assert_eq!(parse_authorization(bad), None, "{bad:?}");
        }
    }
}
