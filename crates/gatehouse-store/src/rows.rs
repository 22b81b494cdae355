//! Row shapes shared by both backends, and their conversion to and from domain records.
//!
//! Enums are stored by their wire spelling (`as_str`), lists and client settings as JSON text.
//! A stored value that does not decode is reported as `StoreError::Backend`.

use gatehouse_core::domain::*;
use gatehouse_core::store::{RefreshFamily, StoreResult};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::corrupt;

/// Column lists, as macros so they can be spliced into SQL literals with `concat!`.
macro_rules! user_cols {
    () => {
        "id, status, login, email, first_name, last_name, display_name, password_hash, created, \
         last_updated, activated, status_changed, last_login, password_changed"
    };
}
macro_rules! group_cols {
    () => {
        "id, name, description, group_type, created, last_updated"
    };
}
macro_rules! app_cols {
    () => {
        "id, name, label, status, client_id, settings, created, last_updated"
    };
}
macro_rules! auth_server_cols {
    () => {
        "id, kind, name, description, audiences, issuer_mode, status, signing_alg, created, \
         last_updated, response_iss"
    };
}
macro_rules! signing_key_cols {
    () => {
        "kid, auth_server_id, alg, status, private_key_sealed, public_jwk, created"
    };
}
macro_rules! session_cols {
    () => {
        "id_hash, user_id, auth_time, amr, created, expires_at"
    };
}
macro_rules! login_tx_cols {
    () => {
        "id, csrf_hash, request_json, created, expires_at"
    };
}
macro_rules! code_cols {
    () => {
        "code_hash, grant_id, client_id, user_id, auth_server_id, redirect_uri, scopes, nonce, \
         code_challenge, auth_time, amr, acr, session_id_hash, created AS code_created, \
         expires_at, used_at"
    };
}
macro_rules! grant_cols {
    () => {
        "id, client_id, user_id, auth_server_id, scopes, auth_time, amr, acr, created, revoked_at"
    };
}
macro_rules! refresh_cols {
    () => {
        "token_hash, grant_id, client_id, scopes, created, expires_at, rotated_at, revoked_at"
    };
}
macro_rules! access_cols {
    () => {
        "jti, grant_id, client_id, expires_at, revoked_at"
    };
}
macro_rules! api_token_cols {
    () => {
        "id, name, token_hash, user_id, created, last_used, revoked_at"
    };
}
macro_rules! trusted_origin_cols {
    () => {
        "id, name, origin, scopes, status, created, created_by, last_updated, last_updated_by"
    };
}
pub(crate) use trusted_origin_cols;
pub(crate) use {
    access_cols, api_token_cols, app_cols, auth_server_cols, code_cols, grant_cols, group_cols,
    login_tx_cols, refresh_cols, session_cols, signing_key_cols, user_cols,
};

pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| gatehouse_core::store::StoreError::Backend(e.into()))
}

fn from_json<T: DeserializeOwned>(what: &str, text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| corrupt(what, e))
}

fn parse<T>(what: &str, text: &str, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
    parse(text).ok_or_else(|| corrupt(what, format_args!("{text:?}")))
}

/// The case-folded login, kept in `users.login_lower` under a unique index.
pub(crate) fn login_key(login: &str) -> String {
    login.to_lowercase()
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    pub(crate) id: String,
    pub(crate) status: String,
    pub(crate) login: String,
    pub(crate) email: String,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) display_name: Option<String>,
    pub(crate) password_hash: Option<String>,
    pub(crate) created: i64,
    pub(crate) last_updated: i64,
    pub(crate) activated: Option<i64>,
    pub(crate) status_changed: Option<i64>,
    pub(crate) last_login: Option<i64>,
    pub(crate) password_changed: Option<i64>,
}

impl TryFrom<UserRow> for User {
    type Error = gatehouse_core::store::StoreError;
    fn try_from(r: UserRow) -> StoreResult<User> {
        Ok(User {
            status: parse("user status", &r.status, UserStatus::parse)?,
            id: r.id,
            login: r.login,
            email: r.email,
            first_name: r.first_name,
            last_name: r.last_name,
            display_name: r.display_name,
            password_hash: r.password_hash,
            created: r.created,
            last_updated: r.last_updated,
            activated: r.activated,
            status_changed: r.status_changed,
            last_login: r.last_login,
            password_changed: r.password_changed,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct GroupRow {
    id: String,
    name: String,
    description: String,
    group_type: String,
    created: i64,
    last_updated: i64,
}

impl TryFrom<GroupRow> for Group {
    type Error = gatehouse_core::store::StoreError;
    fn try_from(r: GroupRow) -> StoreResult<Group> {
        Ok(Group {
            group_type: parse("group type", &r.group_type, GroupType::parse)?,
            id: r.id,
            name: r.name,
            description: r.description,
            created: r.created,
            last_updated: r.last_updated,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AppRow {
    id: String,
    name: String,
    label: String,
    status: String,
    client_id: String,
    settings: String,
    created: i64,
    last_updated: i64,
}

impl TryFrom<AppRow> for App {
    type Error = gatehouse_core::store::StoreError;
    fn try_from(r: AppRow) -> StoreResult<App> {
        Ok(App {
            status: parse("app status", &r.status, AppStatus::parse)?,
            settings: from_json("app settings", &r.settings)?,
            id: r.id,
            name: r.name,
            label: r.label,
            client_id: r.client_id,
            created: r.created,
            last_updated: r.last_updated,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuthServerRow {
    id: String,
    kind: String,
    name: String,
    description: String,
    audiences: String,
    issuer_mode: String,
    status: String,
    signing_alg: String,
    created: i64,
    last_updated: i64,
    response_iss: i64,
}

impl TryFrom<AuthServerRow> for AuthServer {
    type Error = gatehouse_core::store::StoreError;
    fn try_from(r: AuthServerRow) -> StoreResult<AuthServer> {
        Ok(AuthServer {
            kind: parse("auth server kind", &r.kind, AuthServerKind::parse)?,
            audiences: from_json("auth server audiences", &r.audiences)?,
            issuer_mode: parse("issuer mode", &r.issuer_mode, IssuerMode::parse)?,
            status: parse("auth server status", &r.status, AppStatus::parse)?,
            signing_alg: parse("signing algorithm", &r.signing_alg, SigningAlg::parse)?,
            authorization_response_iss: r.response_iss != 0,
            id: r.id,
            name: r.name,
            description: r.description,
            created: r.created,
            last_updated: r.last_updated,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SigningKeyRow {
    kid: String,
    auth_server_id: String,
    alg: String,
    status: String,
    private_key_sealed: String,
    public_jwk: String,
    created: i64,
}

impl TryFrom<SigningKeyRow> for SigningKey {
    type Error = gatehouse_core::store::StoreError;
    fn try_from(r: SigningKeyRow) -> StoreResult<SigningKey> {
        Ok(SigningKey {
            status: parse("key status", &r.status, KeyStatus::parse)?,
            kid: r.kid,
            auth_server_id: r.auth_server_id,
            alg: r.alg,
            private_key_sealed: r.private_key_sealed,
            public_jwk: r.public_jwk,
            created: r.created,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    id_hash: String,
    user_id: String,
    auth_time: i64,
    amr: String,
    created: i64,
    expires_at: i64,
}

impl TryFrom<SessionRow> for Session {
    type Error = gatehouse_core::store::StoreError;
    fn try_from(r: SessionRow) -> StoreResult<Session> {
        Ok(Session {
            amr: from_json("session amr", &r.amr)?,
            id_hash: r.id_hash,
            user_id: r.user_id,
            auth_time: r.auth_time,
            created: r.created,
            expires_at: r.expires_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct LoginTransactionRow {
    id: String,
    csrf_hash: String,
    request_json: String,
    created: i64,
    expires_at: i64,
}

impl From<LoginTransactionRow> for LoginTransaction {
    fn from(r: LoginTransactionRow) -> LoginTransaction {
        LoginTransaction {
            id: r.id,
            csrf_hash: r.csrf_hash,
            request_json: r.request_json,
            created: r.created,
            expires_at: r.expires_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuthCodeRow {
    pub(crate) code_hash: String,
    pub(crate) grant_id: String,
    pub(crate) client_id: String,
    pub(crate) user_id: String,
    pub(crate) auth_server_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) scopes: String,
    pub(crate) nonce: Option<String>,
    pub(crate) code_challenge: Option<String>,
    pub(crate) auth_time: i64,
    pub(crate) amr: String,
    pub(crate) acr: Option<String>,
    pub(crate) session_id_hash: Option<String>,
    // Aliased in `code_cols!`, so a row joined with a user's has no second `created`.
    #[sqlx(rename = "code_created")]
    pub(crate) created: i64,
    pub(crate) expires_at: i64,
    pub(crate) used_at: Option<i64>,
}

/// A code and, joined, the user it was issued to.
#[derive(sqlx::FromRow)]
pub(crate) struct CodeAndUserRow {
    #[sqlx(flatten)]
    pub(crate) code: AuthCodeRow,
    #[sqlx(flatten)]
    pub(crate) user: UserRow,
}

impl TryFrom<AuthCodeRow> for AuthCode {
    type Error = gatehouse_core::store::StoreError;
    fn try_from(r: AuthCodeRow) -> StoreResult<AuthCode> {
        Ok(AuthCode {
            scopes: from_json("code scopes", &r.scopes)?,
            amr: from_json("code amr", &r.amr)?,
            code_hash: r.code_hash,
            grant_id: r.grant_id,
            client_id: r.client_id,
            user_id: r.user_id,
            auth_server_id: r.auth_server_id,
            redirect_uri: r.redirect_uri,
            nonce: r.nonce,
            code_challenge: r.code_challenge,
            auth_time: r.auth_time,
            acr: r.acr,
            session_id_hash: r.session_id_hash,
            created: r.created,
            expires_at: r.expires_at,
            used_at: r.used_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct GrantRow {
    pub(crate) id: String,
    pub(crate) client_id: String,
    pub(crate) user_id: Option<String>,
    pub(crate) auth_server_id: String,
    pub(crate) scopes: String,
    pub(crate) auth_time: Option<i64>,
    pub(crate) amr: String,
    pub(crate) acr: Option<String>,
    pub(crate) created: i64,
    pub(crate) revoked_at: Option<i64>,
}

impl TryFrom<GrantRow> for Grant {
    type Error = gatehouse_core::store::StoreError;
    fn try_from(r: GrantRow) -> StoreResult<Grant> {
        Ok(Grant {
            scopes: from_json("grant scopes", &r.scopes)?,
            amr: from_json("grant amr", &r.amr)?,
            id: r.id,
            client_id: r.client_id,
            user_id: r.user_id,
            auth_server_id: r.auth_server_id,
            auth_time: r.auth_time,
            acr: r.acr,
            created: r.created,
            revoked_at: r.revoked_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct RefreshTokenRow {
    pub(crate) token_hash: String,
    pub(crate) grant_id: String,
    pub(crate) client_id: String,
    pub(crate) scopes: String,
    pub(crate) created: i64,
    pub(crate) expires_at: i64,
    pub(crate) rotated_at: Option<i64>,
    pub(crate) revoked_at: Option<i64>,
}

impl TryFrom<RefreshTokenRow> for RefreshToken {
    type Error = gatehouse_core::store::StoreError;
    fn try_from(r: RefreshTokenRow) -> StoreResult<RefreshToken> {
        Ok(RefreshToken {
            scopes: from_json("refresh token scopes", &r.scopes)?,
            token_hash: r.token_hash,
            grant_id: r.grant_id,
            client_id: r.client_id,
            created: r.created,
            expires_at: r.expires_at,
            rotated_at: r.rotated_at,
            revoked_at: r.revoked_at,
        })
    }
}

/// A refresh token, its grant (`rt_*`, `g_*`), the grant's user and whether the grant came from
/// a device authorization: everything a refresh reads, in one row.
#[derive(sqlx::FromRow)]
pub(crate) struct RefreshFamilyRow {
    #[sqlx(flatten)]
    user: UserRow,
    rt_token_hash: String,
    rt_grant_id: String,
    rt_client_id: String,
    rt_scopes: String,
    rt_created: i64,
    rt_expires_at: i64,
    rt_rotated_at: Option<i64>,
    rt_revoked_at: Option<i64>,
    g_client_id: String,
    g_user_id: Option<String>,
    g_auth_server_id: String,
    g_scopes: String,
    g_auth_time: Option<i64>,
    g_amr: String,
    g_acr: Option<String>,
    g_created: i64,
    g_revoked_at: Option<i64>,
    device_grant: bool,
}

impl TryFrom<RefreshFamilyRow> for RefreshFamily {
    type Error = gatehouse_core::store::StoreError;
    fn try_from(r: RefreshFamilyRow) -> StoreResult<RefreshFamily> {
        let grant = GrantRow {
            id: r.rt_grant_id.clone(),
            client_id: r.g_client_id,
            user_id: r.g_user_id,
            auth_server_id: r.g_auth_server_id,
            scopes: r.g_scopes,
            auth_time: r.g_auth_time,
            amr: r.g_amr,
            acr: r.g_acr,
            created: r.g_created,
            revoked_at: r.g_revoked_at,
        };
        let token = RefreshTokenRow {
            token_hash: r.rt_token_hash,
            grant_id: r.rt_grant_id,
            client_id: r.rt_client_id,
            scopes: r.rt_scopes,
            created: r.rt_created,
            expires_at: r.rt_expires_at,
            rotated_at: r.rt_rotated_at,
            revoked_at: r.rt_revoked_at,
        };
        Ok(RefreshFamily {
            token: token.try_into()?,
            grant: Some(grant.try_into()?),
            user: Some(r.user.try_into()?),
            device_grant: r.device_grant,
        })
    }
}

/// A user and, by `LEFT JOIN`, an access token's record (`at_*`; all null if not recorded).
#[derive(sqlx::FromRow)]
pub(crate) struct UserAndAccessTokenRow {
    #[sqlx(flatten)]
    pub(crate) user: UserRow,
    at_jti: Option<String>,
    at_grant_id: Option<String>,
    at_client_id: Option<String>,
    at_expires_at: Option<i64>,
    at_revoked_at: Option<i64>,
}

impl UserAndAccessTokenRow {
    pub(crate) fn access_token(&self) -> Option<AccessTokenRecord> {
        Some(AccessTokenRecord {
            jti: self.at_jti.clone()?,
            grant_id: self.at_grant_id.clone()?,
            client_id: self.at_client_id.clone()?,
            expires_at: self.at_expires_at?,
            revoked_at: self.at_revoked_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AccessTokenRow {
    jti: String,
    grant_id: String,
    client_id: String,
    expires_at: i64,
    revoked_at: Option<i64>,
}

impl From<AccessTokenRow> for AccessTokenRecord {
    fn from(r: AccessTokenRow) -> AccessTokenRecord {
        AccessTokenRecord {
            jti: r.jti,
            grant_id: r.grant_id,
            client_id: r.client_id,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ApiTokenRow {
    id: String,
    name: String,
    token_hash: String,
    user_id: String,
    created: i64,
    last_used: Option<i64>,
    revoked_at: Option<i64>,
}

impl From<ApiTokenRow> for ApiToken {
    fn from(r: ApiTokenRow) -> ApiToken {
        ApiToken {
            id: r.id,
            name: r.name,
            token_hash: r.token_hash,
            user_id: r.user_id,
            created: r.created,
            last_used: r.last_used,
            revoked_at: r.revoked_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TrustedOriginRow {
    id: String,
    name: String,
    origin: String,
    scopes: String,
    status: String,
    created: i64,
    created_by: Option<String>,
    last_updated: i64,
    last_updated_by: Option<String>,
}

impl TryFrom<TrustedOriginRow> for TrustedOrigin {
    type Error = gatehouse_core::store::StoreError;
    fn try_from(r: TrustedOriginRow) -> StoreResult<TrustedOrigin> {
        Ok(TrustedOrigin {
            id: r.id,
            name: r.name,
            origin: r.origin,
            scopes: from_json("trusted origin scopes", &r.scopes)?,
            status: parse("trusted origin status", &r.status, AppStatus::parse)?,
            created: r.created,
            created_by: r.created_by,
            last_updated: r.last_updated,
            last_updated_by: r.last_updated_by,
        })
    }
}

/// Converts every row, failing on the first that does not decode.
pub(crate) fn convert_all<R, T>(rows: Vec<R>) -> StoreResult<Vec<T>>
where
    T: TryFrom<R, Error = gatehouse_core::store::StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}
