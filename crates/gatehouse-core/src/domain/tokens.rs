//! What the protocol stores as it runs: sign-in sessions and transactions, consents,
//! authorization codes, grants and their tokens.

use serde::{Deserialize, Serialize};

use super::Timestamp;

/// A browser sign-in session. Only the SHA-256 of the cookie value is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub id_hash: String,
    pub user_id: String,
    pub auth_time: Timestamp,
    pub amr: Vec<String>,
    pub created: Timestamp,
    pub expires_at: Timestamp,
}

/// A user's consent to one scope for one client of one authorization server (Okta's
/// `OAuth2ScopeConsentGrant` with `source: END_USER`). Unique per (user, client, issuer, scope).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentGrant {
    /// `oag…`.
    pub id: String,
    pub user_id: String,
    pub client_id: String,
    /// The issuer the grant is for (the server's issuer as the request saw it).
    pub issuer: String,
    /// The custom authorization server that holds the scope.
    pub auth_server_id: String,
    /// The scope object's id on that server (`scp…`): Okta's `scopeId`.
    pub scope_id: String,
    /// The scope's name when it was granted (`email`, `car:drive`).
    pub scope_name: String,
    pub created: Timestamp,
    pub last_updated: Timestamp,
}

/// An authorize request waiting for the user to sign in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginTransaction {
    pub id: String,
    /// SHA-256 of the CSRF token bound to the sign-in form.
    pub csrf_hash: String,
    /// The validated authorize request, as JSON.
    pub request_json: String,
    pub created: Timestamp,
    pub expires_at: Timestamp,
}

/// An authorization code. Only its SHA-256 is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthCode {
    pub code_hash: String,
    /// The grant (token family) the code will start; replaying the code revokes it.
    pub grant_id: String,
    pub client_id: String,
    pub user_id: String,
    pub auth_server_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: Timestamp,
    pub amr: Vec<String>,
    /// The ID token's `acr` (see [`crate::oauth2::authorize::acr`]); `None`: no claim.
    pub acr: Option<String>,
    pub session_id_hash: Option<String>,
    pub created: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

/// What happened when a code was redeemed.
#[derive(Debug, Clone, PartialEq)]
pub enum CodeRedemption {
    /// First use: the caller may issue tokens.
    Redeemed(AuthCode),
    /// The code was used before: the caller must revoke its grant.
    Replayed(AuthCode),
    NotFound,
}

/// A grant: every token issued from one authorization (a code, a client-credentials request)
/// belongs to one, so revoking it revokes them all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    pub id: String,
    pub client_id: String,
    pub user_id: Option<String>,
    pub auth_server_id: String,
    pub scopes: Vec<String>,
    pub auth_time: Option<Timestamp>,
    pub amr: Vec<String>,
    /// The ID token's `acr`, from the code the grant began with; `None`: no claim.
    pub acr: Option<String>,
    pub created: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// A refresh token. Only its SHA-256 is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefreshToken {
    pub token_hash: String,
    pub grant_id: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub created: Timestamp,
    /// Absolute expiry; a rotated token keeps its family's original expiry.
    pub expires_at: Timestamp,
    /// Set when this token was exchanged for a newer one.
    pub rotated_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// An issued JWT access token, recorded so it can be revoked with its grant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessTokenRecord {
    pub jti: String,
    pub grant_id: String,
    pub client_id: String,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}
