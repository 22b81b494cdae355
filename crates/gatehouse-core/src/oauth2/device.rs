//! RFC 8628 §3.1–3.2, the device authorization endpoint (`{issuer}/v1/device/authorize`, as
//! Okta serves it): a client with the device grant gets a device code to poll with and a user
//! code for the user to enter at `/activate`.

use rand::Rng;
use serde::Serialize;

use crate::crypto::{random_token, sha256_b64url};
use crate::domain::{DeviceAuthorization, DeviceStatus};
use crate::oauth2::authorize::check_policy::known_scopes;
use crate::oauth2::client_auth::{self, Endpoint};
use crate::oauth2::grants::{DEVICE_CODE, TokenParams};
use crate::oauth2::types::ScopeSet;
use crate::oauth2::{OAuthError, scope};
use crate::provider::{Provider, ServerContext};
use crate::store::StoreError;

/// How long a device code lives (Okta: 10 minutes).
pub const EXPIRES_IN: i64 = 600;
/// The polling interval handed out (Okta: 5 seconds).
pub const INTERVAL: i64 = 5;
/// RFC 8628 §6.1: consonants only (no vowels, so no words; no 0/O, 1/I ambiguity), 20^8 codes.
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
const USER_CODE_LEN: usize = 8;

#[derive(Debug, Clone, Serialize)]
pub struct DeviceAuthorizationResponse {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: i64,
    pub interval: i64,
}

/// A fresh user code, shown as `XXXX-XXXX`.
fn new_user_code() -> String {
    let mut rng = rand::rng();
    let code: String = (0..USER_CODE_LEN)
        .map(|_| char::from(USER_CODE_ALPHABET[rng.random_range(0..USER_CODE_ALPHABET.len())]))
        .collect();
    format!("{}-{}", &code[..4], &code[4..])
}

/// The canonical form of a typed user code (case, dashes and spaces ignored), or `None` when
/// it cannot be one of ours.
pub fn normalize_user_code(input: &str) -> Option<String> {
    let code: String = input
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let ok = code.len() == USER_CODE_LEN && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b));
    ok.then_some(code)
}

/// How a user code is stored and looked up: by hash, so the lookup compares no secrets.
pub fn user_code_hash(normalized: &str) -> String {
    sha256_b64url(&format!("user_code:{normalized}"))
}

pub async fn device_authorize(
    provider: &Provider,
    server: &ServerContext,
    params: &TokenParams,
    authorization: Option<&str>,
) -> Result<DeviceAuthorizationResponse, OAuthError> {
    let app = client_auth::authenticate(
        provider,
        &params.credentials(authorization),
        server,
        Endpoint::DeviceAuthorize,
    )
    .await?;
    if !app.allows_grant(DEVICE_CODE) {
        return Err(OAuthError::UnauthorizedClient(
            "The client is not authorized to use the device authorization grant.".into(),
        ));
    }
    let scopes = ScopeSet::parse(params.grant.raw("scope").unwrap_or_default()).map_err(|e| {
        OAuthError::InvalidScope(format!("The scope '{}' is malformed.", e.token()))
    })?;
    if scopes.is_empty() {
        return Err(OAuthError::InvalidScope("No scopes were requested.".into()));
    }
    if server.is_org() {
        if let Some(unknown) = scopes.iter().find(|s| !scope::is_known(s)) {
            return Err(OAuthError::InvalidScope(format!(
                "One or more scopes are not configured for the authorization server resource: '{unknown}'."
            )));
        }
        if !scopes.contains(scope::OPENID) {
            return Err(OAuthError::InvalidScope(
                "Requests to the org authorization server require the `openid` scope.".into(),
            ));
        }
    } else {
        known_scopes(provider, server, &scopes).await?;
    }
    let now = provider.now();
    let device_code = random_token(32);
    // A clash of user codes (one in 2.5e10 per live code) is retried with a fresh one.
    for _ in 0..3 {
        let user_code = new_user_code();
        let normalized = normalize_user_code(&user_code).unwrap_or_default();
        let record = DeviceAuthorization {
            device_code_hash: sha256_b64url(&device_code),
            user_code_hash: user_code_hash(&normalized),
            client_id: app.client_id.clone(),
            auth_server_id: server.server.id.clone(),
            scopes: scopes.as_slice().to_vec(),
            created: now,
            expires_at: now + EXPIRES_IN,
            interval: INTERVAL,
            last_polled_at: None,
            status: DeviceStatus::Pending,
            user_id: None,
            auth_time: None,
            amr: vec![],
        };
        match provider.store.insert_device_authorization(&record).await {
            Ok(()) => {
                let verification_uri = format!("{}/activate", server.origin);
                return Ok(DeviceAuthorizationResponse {
                    verification_uri_complete: format!("{verification_uri}?user_code={user_code}"),
                    verification_uri,
                    device_code,
                    user_code,
                    expires_in: EXPIRES_IN,
                    interval: INTERVAL,
                });
            }
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(OAuthError::TemporarilyUnavailable(
        "No user code could be allocated; try again.".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_round_trip_and_garbage_is_refused() {
        for _ in 0..100 {
            let code = new_user_code();
            assert_eq!(code.len(), 9);
            let n = normalize_user_code(&code);
            assert!(n.is_some(), "{code}");
            assert_eq!(normalize_user_code(&code.to_lowercase()), n);
            assert_eq!(n.as_deref().and_then(normalize_user_code), n);
        }
        for bad in [
            "",
            "ABCD-EFGH",
            "BCDF-GHJ",
            "BCDF-GHJKL",
            "BCDF-GHJ0",
            "ΒCDF-GHJK",
        ] {
            assert_eq!(normalize_user_code(bad), None, "{bad}");
        }
    }
}
