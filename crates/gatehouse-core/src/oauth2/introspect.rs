//! RFC 7662 introspection, and the access-token check every protected endpoint shares.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::crypto::sha256_b64url;
use crate::domain::{AccessTokenRecord, UserStatus};
use crate::oauth2::OAuthError;
use crate::oauth2::client_auth::{self, ClientCredentials};
use crate::provider::{Provider, ServerContext};

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenActionParams {
    pub token: Option<String>,
    pub token_type_hint: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
}

impl TokenActionParams {
    pub fn credentials(&self, authorization: Option<&str>) -> ClientCredentials {
        ClientCredentials {
            basic: authorization.and_then(ClientCredentials::parse_basic),
            form_client_id: self.client_id.clone().filter(|s| !s.is_empty()),
            form_client_secret: self.client_secret.clone().filter(|s| !s.is_empty()),
            client_assertion_type: self.client_assertion_type.clone(),
            client_assertion: self.client_assertion.clone(),
        }
    }

    pub fn token(&self) -> Result<&str, OAuthError> {
        self.token
            .as_deref()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| OAuthError::InvalidRequest("The `token` parameter is required.".into()))
    }
}

fn invalid_token() -> OAuthError {
    OAuthError::InvalidToken("The access token is invalid.".into())
}

/// A live access token of this server: good signature, this issuer, unexpired, not revoked,
/// and, for a user's token, of a user who is still `ACTIVE` (a deactivated, suspended or
/// locked-out user's tokens are not live, whatever their records say).
pub async fn validate_access_token(
    provider: &Provider,
    server: &ServerContext,
    token: &str,
) -> Result<Value, OAuthError> {
    let claims = verify_access_token(provider, server, token).await?;
    let jti = access_token_id(&claims)?;
    let record = match claims["uid"].as_str() {
        Some(uid) => {
            let (record, user) = provider.store.find_access_token_and_user(jti, uid).await?;
            if !user.is_some_and(|u| u.status == UserStatus::Active) {
                return Err(invalid_token());
            }
            record
        }
        None => provider.store.find_access_token(jti).await?,
    };
    check_access_token_record(provider, &claims, record)?;
    Ok(claims)
}

/// The claims of an access token signed by this server for this issuer, its record not
/// checked yet (see [`check_access_token_record`]).
pub(crate) async fn verify_access_token(
    provider: &Provider,
    server: &ServerContext,
    token: &str,
) -> Result<Value, OAuthError> {
    let claims = provider
        .keys
        .verify(&server.server.id, token)
        .await
        .map_err(|_| invalid_token())?;
    if claims["iss"].as_str() != Some(server.issuer.as_str()) {
        return Err(invalid_token());
    }
    access_token_id(&claims)?;
    Ok(claims)
}

/// The `jti` of verified access-token claims (`AT.…`).
pub(crate) fn access_token_id(claims: &Value) -> Result<&str, OAuthError> {
    claims["jti"]
        .as_str()
        .filter(|j| j.starts_with("AT."))
        .ok_or_else(invalid_token)
}

/// Whether verified access-token claims are of a self-contained token: one without a user
/// (`client_credentials`), which is recorded only once revoked.
pub(crate) fn is_self_contained(claims: &Value) -> bool {
    claims.get("uid").is_none()
}

/// The token is live by its record: not revoked, unexpired. A token with a user must be
/// recorded; a self-contained one is live without a record (a record means it was revoked).
pub(crate) fn check_access_token_record(
    provider: &Provider,
    claims: &Value,
    record: Option<AccessTokenRecord>,
) -> Result<(), OAuthError> {
    // Expiry by the provider's clock (the one that set `exp`), not only the signature library's.
    let now = provider.now();
    match record {
        Some(record) if record.revoked_at.is_none() && record.expires_at > now => Ok(()),
        None if is_self_contained(claims)
            && claims["exp"].as_i64().is_some_and(|exp| exp > now) =>
        {
            Ok(())
        }
        _ => Err(invalid_token()),
    }
}

/// The record that revokes verified access-token claims (kept until the token expires).
pub(crate) fn revocation_record(claims: &Value) -> Result<AccessTokenRecord, OAuthError> {
    Ok(AccessTokenRecord {
        jti: access_token_id(claims)?.to_owned(),
        // A self-contained token has no stored grant; a recorded one keeps its own.
        grant_id: String::new(),
        client_id: claims["cid"].as_str().unwrap_or_default().to_owned(),
        expires_at: claims["exp"].as_i64().ok_or_else(invalid_token)?,
        revoked_at: None,
    })
}

pub async fn introspect(
    provider: &Provider,
    server: &ServerContext,
    params: TokenActionParams,
    authorization: Option<&str>,
) -> Result<Value, OAuthError> {
    let app = client_auth::authenticate(
        provider,
        &params.credentials(authorization),
        server,
        client_auth::Endpoint::Introspect,
    )
    .await?;
    let token = params.token()?;
    if let Ok(claims) = validate_access_token(provider, server, token).await {
        if claims["cid"].as_str() == Some(app.client_id.as_str()) {
            let scope = claims["scp"].as_array().map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" ")
            });
            let mut out = json!({
                "active": true, "token_type": "Bearer", "scope": scope, "client_id": claims["cid"],
                "username": claims["sub"], "exp": claims["exp"], "iat": claims["iat"], "sub": claims["sub"],
                "aud": claims["aud"], "iss": claims["iss"], "jti": claims["jti"],
            });
            if let Some(uid) = claims.get("uid") {
                out["uid"] = uid.clone();
            }
            return Ok(out);
        }
        return Ok(json!({"active": false}));
    }
    let now = provider.now();
    if let Some(rt) = provider
        .store
        .find_refresh_token(&sha256_b64url(token))
        .await?
    {
        let grant = provider.store.find_grant(&rt.grant_id).await?;
        let live = rt.client_id == app.client_id
            && rt.revoked_at.is_none()
            && rt.expires_at > now
            // A rotated token lives on only for its grace period.
            && rt
                .rotated_at
                .is_none_or(|at| now < at.saturating_add(app.settings.refresh_policy().leeway))
            && grant
                .as_ref()
                .is_some_and(|g| g.revoked_at.is_none() && g.auth_server_id == server.server.id);
        if live {
            let user = match grant.as_ref().and_then(|g| g.user_id.clone()) {
                Some(uid) => match provider.store.find_user(&uid).await? {
                    Some(user) if user.status == UserStatus::Active => Some(user),
                    // A refresh token outlives neither its user nor their activity.
                    _ => return Ok(json!({"active": false})),
                },
                None => None,
            };
            let mut out = json!({
                "active": true, "token_type": "refresh_token", "scope": rt.scopes.join(" "),
                "client_id": rt.client_id, "exp": rt.expires_at, "iat": rt.created, "iss": server.issuer,
            });
            if let Some(user) = user {
                out["username"] = json!(user.login);
                out["sub"] = json!(user.login);
                out["uid"] = json!(user.id);
            }
            return Ok(out);
        }
    }
    Ok(json!({"active": false}))
}
