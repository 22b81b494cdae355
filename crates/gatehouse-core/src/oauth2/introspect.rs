//! RFC 7662 introspection, and the access-token check every protected endpoint shares.

use serde::ser::SerializeMap as _;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Value, json};

use crate::crypto::sha256_b64url;
use crate::domain::{AccessTokenRecord, UserStatus};
use crate::oauth2::OAuthError;
use crate::oauth2::client_auth::{self, ClientCredentials};
use crate::provider::{Provider, ServerContext};
use crate::store::{AccessTokenKey, TokenLookup};

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
    let found = read_access_token(provider, &claims).await?;
    check_live(provider, &claims, found)?;
    Ok(claims)
}

/// What is read to tell whether verified access-token claims are live: the record by `jti`,
/// and the user by `uid` for a user's token.
fn token_key(claims: &Value) -> Result<AccessTokenKey<'_>, OAuthError> {
    Ok(AccessTokenKey {
        jti: access_token_id(claims)?,
        user_id: claims["uid"].as_str(),
    })
}

/// Reads what [`token_key`] names (one query).
async fn read_access_token(provider: &Provider, claims: &Value) -> Result<TokenLookup, OAuthError> {
    let key = token_key(claims)?;
    Ok(match key.user_id {
        Some(uid) => {
            provider
                .store
                .find_access_token_and_user(key.jti, uid)
                .await?
        }
        None => (provider.store.find_access_token(key.jti).await?, None),
    })
}

/// Verified claims are live by what was read for them ([`read_access_token`]): the user's
/// token of an `ACTIVE` user, and a live record (see [`check_access_token_record`]).
fn check_live(
    provider: &Provider,
    claims: &Value,
    (record, user): TokenLookup,
) -> Result<(), OAuthError> {
    if claims["uid"].as_str().is_some() && !user.is_some_and(|u| u.status == UserStatus::Active) {
        return Err(invalid_token());
    }
    check_access_token_record(provider, claims, record)
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

/// The claims of the access token an introspection presents, if this server signed it: checked
/// before the failure throttle, whose read takes the token's record along ([`token_key`]).
/// The signature depends on the token, never on the client's credentials, which are still
/// checked only once the throttle let the request in ([`introspect`]).
pub async fn presented_claims(
    provider: &Provider,
    server: &ServerContext,
    params: &TokenActionParams,
) -> Option<Value> {
    let token = params.token.as_deref().filter(|t| !t.is_empty())?;
    verify_access_token(provider, server, token).await.ok()
}

/// What [`read_access_token`] would read for [`presented_claims`], for the throttle's read.
pub fn presented_key(claims: Option<&Value>) -> Option<AccessTokenKey<'_>> {
    claims.and_then(|c| token_key(c).ok())
}

/// RFC 7662 introspection by an authenticated client, once the failure throttle let it in:
/// `claims` from [`presented_claims`], `found` what the throttle's read found for them (`None`:
/// not read yet).
pub async fn introspect(
    provider: &Provider,
    server: &ServerContext,
    params: TokenActionParams,
    authorization: Option<&str>,
    claims: Option<Value>,
    found: Option<TokenLookup>,
) -> Result<Introspection, OAuthError> {
    let app = client_auth::authenticate(
        provider,
        &params.credentials(authorization),
        server,
        client_auth::Endpoint::Introspect,
    )
    .await?;
    let token = params.token()?;
    let live = match &claims {
        Some(claims) => {
            let found = match found {
                Some(found) => Ok(found),
                None => read_access_token(provider, claims).await,
            };
            found.and_then(|f| check_live(provider, claims, f)).is_ok()
        }
        None => false,
    };
    if let Some(claims) = claims.filter(|_| live) {
        if claims["cid"].as_str() == Some(app.client_id.as_str()) {
            return Ok(Introspection::AccessToken(ActiveAccessToken(claims)));
        }
        return Ok(inactive());
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
                    _ => return Ok(inactive()),
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
            return Ok(Introspection::Other(out));
        }
    }
    Ok(inactive())
}

/// An introspection answer (RFC 7662 §2.2).
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Introspection {
    AccessToken(ActiveAccessToken),
    Other(Value),
}

fn inactive() -> Introspection {
    Introspection::Other(json!({"active": false}))
}

/// A live access token's answer, written straight from its claims (members in name order).
#[derive(Debug)]
pub struct ActiveAccessToken(Value);

impl Serialize for ActiveAccessToken {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let claims = &self.0;
        let scope = claims["scp"].as_array().map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" ")
        });
        let uid = claims.get("uid");
        let mut map = serializer.serialize_map(Some(11 + usize::from(uid.is_some())))?;
        map.serialize_entry("active", &true)?;
        map.serialize_entry("aud", &claims["aud"])?;
        map.serialize_entry("client_id", &claims["cid"])?;
        map.serialize_entry("exp", &claims["exp"])?;
        map.serialize_entry("iat", &claims["iat"])?;
        map.serialize_entry("iss", &claims["iss"])?;
        map.serialize_entry("jti", &claims["jti"])?;
        map.serialize_entry("scope", &scope)?;
        map.serialize_entry("sub", &claims["sub"])?;
        map.serialize_entry("token_type", "Bearer")?;
        if let Some(uid) = uid {
            map.serialize_entry("uid", uid)?;
        }
        map.serialize_entry("username", &claims["sub"])?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The answer as it was built before, from a map of the claims.
    fn as_a_map(claims: &Value) -> Value {
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
        out
    }

    #[test]
    fn an_active_access_token_answers_its_claims() -> Result<(), serde_json::Error> {
        for claims in [
            json!({"ver": 1, "jti": "AT.1", "iss": "https://i/oauth2/default", "aud": "api://default",
                   "iat": 1000, "exp": 4600, "cid": "0oa1", "uid": "00u1", "scp": ["openid", "email"],
                   "sub": "a@example.com", "auth_time": 999}),
            json!({"jti": "AT.2", "iss": "https://i", "aud": ["a", "b"], "iat": 1, "exp": 2,
                   "cid": "0oa2", "sub": "0oa2", "scp": []}),
            json!({"jti": "AT.3", "iss": "https://i", "exp": 2, "cid": "0oa3"}),
        ] {
            let text = serde_json::to_string(&ActiveAccessToken(claims.clone()))?;
            assert_eq!(text, as_a_map(&claims).to_string());
        }
        Ok(())
    }
}
