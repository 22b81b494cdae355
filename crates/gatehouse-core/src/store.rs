//! Storage interfaces. Each backend (SQLite, PostgreSQL) implements all of them, and one
//! contract test suite (in `gatehouse-store`) runs against every backend.
//!
//! Nodes keep no state of their own: everything a second node needs lives behind these traits.

use async_trait::async_trait;

use crate::domain::*;

pub use crate::store_setup::{
    BootstrapAdmin, Change, ChangeFeed, ChangeStore, KeyChange, SetupStore,
};

pub use crate::store_authn::{AuthnStore, ImportRecord, SessionTokenRecord};
pub use crate::store_error::{DatabaseUnavailable, StoreError, StoreResult, is_unavailable};
pub use crate::store_factors::{FactorStore, TotpPass, TotpPassOutcome};
pub use crate::store_links::{LinkPurpose, UserLinkRecord, UserLinkStore};
pub use crate::store_passwords::PasswordPolicyStore;
pub use crate::store_policy::SignOnPolicyStore;
pub use crate::store_tokens::{Claim, IssuedTokens, RefreshFamily, TokenStore, is_lost_claim};

pub use crate::store_federation::{FederationStore, RecordSource, SyncMark};
pub use crate::store_idps::IdpStore;
pub use crate::store_logout::{EndSessions, LogoutDelivery, LogoutStore, SessionApp, SessionScope};
pub use crate::store_webauthn::{CeremonyPurpose, WebauthnCeremony, WebauthnStore};

/// One page of a cursor-paginated listing, ordered by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page<'a> {
    /// Return records whose id sorts after this one.
    pub after: Option<&'a str>,
    pub limit: u32,
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Fails with `Conflict { constraint: "login" }` when the login is taken (case-insensitive).
    async fn create_user(&self, user: &User) -> StoreResult<()>;
    async fn find_user(&self, id: &str) -> StoreResult<Option<User>>;
    /// Case-insensitive match on login.
    async fn find_user_by_login(&self, login: &str) -> StoreResult<Option<User>>;
    async fn update_user(&self, user: &User) -> StoreResult<()>;
    /// Sets `last_login` of an `ACTIVE` user, and nothing else of the row, in one statement,
    /// and clears their sign-in failure counter in the same transaction (a successful sign-in
    /// resets it: one commit, not two); the user as stored now, or `None` when they are no
    /// longer active (locked or deactivated meanwhile), in which case the counter is left
    /// alone. A sign-in never writes back its stale copy of the row.
    async fn record_login(&self, id: &str, now: Timestamp) -> StoreResult<Option<User>>;
    async fn list_users(&self, page: Page<'_>) -> StoreResult<Vec<User>>;
    /// Users matching `filter` (all users for `None`), ordered and paginated by id.
    async fn search_users(
        &self,
        filter: Option<&UserFilter>,
        page: Page<'_>,
    ) -> StoreResult<Vec<User>>;
    /// `q=`: at most `limit` users whose first name, last name, email or login starts with `q`
    /// (case-insensitive) and who match `filter`: the first ones ordered by the smallest of
    /// their matching values (lower-cased, byte order), then id. No paging.
    async fn quick_search_users(
        &self,
        q: &str,
        filter: Option<&UserFilter>,
        limit: u32,
    ) -> StoreResult<Vec<User>>;
    /// Removes the user, their memberships, assignments and sessions.
    async fn delete_user(&self, id: &str) -> StoreResult<()>;
}

#[async_trait]
pub trait GroupStore: Send + Sync {
    /// Fails with `Conflict { constraint: "name" }` when the name is taken.
    async fn create_group(&self, group: &Group) -> StoreResult<()>;
    async fn find_group(&self, id: &str) -> StoreResult<Option<Group>>;
    async fn find_group_by_name(&self, name: &str) -> StoreResult<Option<Group>>;
    async fn list_groups(&self, page: Page<'_>) -> StoreResult<Vec<Group>>;
    /// Groups whose name starts with `prefix` (ignoring case), ordered and paginated by id.
    async fn search_groups_by_name(&self, prefix: &str, page: Page<'_>) -> StoreResult<Vec<Group>>;
    async fn update_group(&self, group: &Group) -> StoreResult<()>;
    async fn delete_group(&self, id: &str) -> StoreResult<()>;
    /// Idempotent.
    async fn add_group_member(&self, group_id: &str, user_id: &str) -> StoreResult<()>;
    async fn remove_group_member(&self, group_id: &str, user_id: &str) -> StoreResult<()>;
    async fn list_group_members(&self, group_id: &str, page: Page<'_>) -> StoreResult<Vec<User>>;
    /// Explicit memberships plus the built-in `Everyone` group.
    async fn list_user_groups(&self, user_id: &str) -> StoreResult<Vec<Group>>;
}

#[async_trait]
pub trait AppStore: Send + Sync {
    /// Fails with `Conflict { constraint: "client_id" }` when the client id is taken.
    async fn create_app(&self, app: &App) -> StoreResult<()>;
    async fn find_app(&self, id: &str) -> StoreResult<Option<App>>;
    async fn find_app_by_client_id(&self, client_id: &str) -> StoreResult<Option<App>>;
    async fn update_app(&self, app: &App) -> StoreResult<()>;
    async fn list_apps(&self, page: Page<'_>) -> StoreResult<Vec<App>>;
    /// Apps matching every set part of `query`, ordered and paginated by id.
    async fn search_apps(&self, query: &AppQuery, page: Page<'_>) -> StoreResult<Vec<App>>;
    async fn delete_app(&self, id: &str) -> StoreResult<()>;
    /// Idempotent; `priority` orders group assignments.
    async fn assign_app_group(
        &self,
        app_id: &str,
        group_id: &str,
        priority: i64,
    ) -> StoreResult<()>;
    async fn unassign_app_group(&self, app_id: &str, group_id: &str) -> StoreResult<()>;
    /// Group ids assigned to the app, by priority then id.
    async fn list_app_groups(&self, app_id: &str) -> StoreResult<Vec<String>>;
    /// The same assignments with their priorities, in the same order.
    async fn list_app_group_assignments(
        &self,
        app_id: &str,
    ) -> StoreResult<Vec<AppGroupAssignment>>;
    async fn assign_app_user(&self, app_id: &str, user_id: &str) -> StoreResult<()>;
    async fn unassign_app_user(&self, app_id: &str, user_id: &str) -> StoreResult<()>;
    async fn list_app_users(&self, app_id: &str) -> StoreResult<Vec<String>>;
    /// True when the user is assigned directly, through a group they belong to, or through a
    /// built-in group (which every user belongs to).
    async fn is_user_assigned(&self, app_id: &str, user_id: &str) -> StoreResult<bool>;
}

/// Client secrets of apps ([`ClientSecret`]). Changes that depend on the app's other secrets
/// (the limit, the last active one) are checked and made under a lock on the app's row, so
/// concurrent callers on any node cannot break them.
#[async_trait]
pub trait ClientSecretStore: Send + Sync {
    /// Adds the secret unless its app already has `max` secrets: then `Conflict { constraint:
    /// "client_secrets" }`. `NotFound` when the app does not exist.
    async fn add_client_secret(&self, secret: &ClientSecret, max: u32) -> StoreResult<()>;
    /// The app's secrets, oldest first (by creation, then id).
    async fn list_client_secrets(&self, app_id: &str) -> StoreResult<Vec<ClientSecret>>;
    /// Sets the secret's status and `last_updated`. Deactivating the app's last `ACTIVE`
    /// secret is `Conflict { constraint: "last_active_secret" }`; `NotFound` when the app has
    /// no such secret.
    async fn set_client_secret_status(
        &self,
        app_id: &str,
        secret_id: &str,
        status: AppStatus,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Deletes an `INACTIVE` secret; an `ACTIVE` one is `Conflict { constraint:
    /// "active_secret" }`, and `NotFound` when the app has no such secret.
    async fn delete_client_secret(&self, app_id: &str, secret_id: &str) -> StoreResult<()>;
    /// Replaces every secret of the app with `secrets` (none for a public client), in one
    /// transaction.
    async fn replace_client_secrets(
        &self,
        app_id: &str,
        secrets: &[ClientSecret],
    ) -> StoreResult<()>;
}

#[async_trait]
pub trait AuthServerStore: Send + Sync {
    async fn create_auth_server(&self, server: &AuthServer) -> StoreResult<()>;
    async fn find_auth_server(&self, id: &str) -> StoreResult<Option<AuthServer>>;
    async fn list_auth_servers(&self) -> StoreResult<Vec<AuthServer>>;
    async fn update_auth_server(&self, server: &AuthServer) -> StoreResult<()>;
}

#[async_trait]
pub trait KeyStore: Send + Sync {
    async fn add_signing_key(&self, key: &SigningKey) -> StoreResult<()>;
    /// Every key of the server, newest first, whatever its status.
    async fn list_signing_keys(&self, auth_server_id: &str) -> StoreResult<Vec<SigningKey>>;
    async fn set_signing_key_status(&self, kid: &str, status: KeyStatus) -> StoreResult<()>;
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn create_session(&self, session: &Session) -> StoreResult<()>;
    /// Returns the session only if it has not expired at `now`.
    async fn find_session(&self, id_hash: &str, now: Timestamp) -> StoreResult<Option<Session>>;
    async fn delete_session(&self, id_hash: &str) -> StoreResult<()>;
    async fn delete_user_sessions(&self, user_id: &str) -> StoreResult<()>;

    async fn create_login_transaction(&self, tx: &LoginTransaction) -> StoreResult<()>;
    /// Returns the transaction only if it has not expired at `now`.
    async fn find_login_transaction(
        &self,
        id: &str,
        now: Timestamp,
    ) -> StoreResult<Option<LoginTransaction>>;
    async fn delete_login_transaction(&self, id: &str) -> StoreResult<()>;
}

/// Management API tokens (`SSWS`), stored by the SHA-256 of their value.
#[async_trait]
pub trait ApiTokenStore: Send + Sync {
    /// Fails with `Conflict { constraint: "token_hash" }` when the hash is taken.
    async fn create_api_token(&self, token: &ApiToken) -> StoreResult<()>;
    /// The token with this hash, revoked or not.
    async fn find_api_token_by_hash(&self, token_hash: &str) -> StoreResult<Option<ApiToken>>;
    async fn find_api_token(&self, id: &str) -> StoreResult<Option<ApiToken>>;
    /// Every token, revoked ones included, ordered by id.
    async fn list_api_tokens(&self) -> StoreResult<Vec<ApiToken>>;
    /// Sets `revoked_at` unless already set. `NotFound` when there is no such token.
    async fn revoke_api_token(&self, id: &str, now: Timestamp) -> StoreResult<()>;
    /// Sets `last_used = now` only when it is unset or not later than `not_after`; true when
    /// this call wrote it. (Callers skip the call when their copy is fresh enough.)
    async fn touch_api_token(
        &self,
        id: &str,
        now: Timestamp,
        not_after: Timestamp,
    ) -> StoreResult<bool>;
}

/// Okta's Trusted Origins.
#[async_trait]
pub trait TrustedOriginStore: Send + Sync {
    /// Fails with `Conflict { constraint: "origin" }` when the origin is taken.
    async fn create_trusted_origin(&self, origin: &TrustedOrigin) -> StoreResult<()>;
    async fn find_trusted_origin(&self, id: &str) -> StoreResult<Option<TrustedOrigin>>;
    /// Exact match on the origin (callers normalise it: lower-case scheme and host).
    async fn find_trusted_origin_by_origin(
        &self,
        origin: &str,
    ) -> StoreResult<Option<TrustedOrigin>>;
    /// Ordered and paginated by id.
    async fn list_trusted_origins(&self, page: Page<'_>) -> StoreResult<Vec<TrustedOrigin>>;
    /// `NotFound` when there is no such id; `Conflict` as for create.
    async fn update_trusted_origin(&self, origin: &TrustedOrigin) -> StoreResult<()>;
    /// `NotFound` when there is no such id.
    async fn delete_trusted_origin(&self, id: &str) -> StoreResult<()>;
}

/// Fixed-window request counters, kept in the database so a limit holds across nodes.
#[async_trait]
pub trait RateLimitStore: Send + Sync {
    /// Counts one hit in `bucket`'s window that starts at `window_start` and returns the
    /// window's hits, this one included.
    async fn hit_rate_limit(&self, bucket: &str, window_start: Timestamp) -> StoreResult<u64>;
    /// The hits counted so far in that window (0 when none), without counting one.
    async fn rate_limit_hits(&self, bucket: &str, window_start: Timestamp) -> StoreResult<u64>;
    /// [`RateLimitStore::rate_limit_hits`] of several buckets in one window, in their order.
    /// Backends read them in one query: every token request peeks at two buckets.
    async fn rate_limit_hits_of(
        &self,
        buckets: &[&str],
        window_start: Timestamp,
    ) -> StoreResult<Vec<u64>> {
        let mut hits = Vec::with_capacity(buckets.len());
        for bucket in buckets {
            hits.push(self.rate_limit_hits(bucket, window_start).await?);
        }
        Ok(hits)
    }
    /// [`RateLimitStore::rate_limit_hits_of`] and, when `token` names one, what
    /// [`TokenStore::find_access_token_and_user`] (or, without a user,
    /// [`TokenStore::find_access_token`]) reads, in one query: introspection reads both on
    /// every request, before it checks its client. `token` is `None` in the answer only when
    /// none was asked for.
    async fn peek_rate_limits_with_access_token(
        &self,
        buckets: &[&str],
        window_start: Timestamp,
        token: Option<AccessTokenKey<'_>>,
    ) -> StoreResult<RateLimitsWithToken>;
    /// [`RateLimitStore::rate_limit_hits_of`] and what `grant` names (the code exchange's
    /// [`TokenStore::find_code_and_user`], the refresh grant's
    /// [`TokenStore::find_refresh_family`]), in one query where the backend can: both reads
    /// precede every code exchange and refresh, the counters before the client's credentials.
    async fn peek_rate_limits_with_grant(
        &self,
        buckets: &[&str],
        window_start: Timestamp,
        grant: GrantKey<'_>,
    ) -> StoreResult<(Vec<u64>, GrantLookup)>;
}

/// The record a state-writing grant reads first, by the hash of what the request presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantKey<'a> {
    /// An authorization code's hash: the code and its user.
    Code(&'a str),
    /// A refresh token's hash: the token with its family ([`RefreshFamily`]).
    Refresh(&'a str),
}

/// What a [`GrantKey`] read, with the hash it was read by: the grant uses it only when the
/// request it checks presents that same hash.
#[derive(Debug, Clone, PartialEq)]
pub enum GrantLookup {
    Code {
        code_hash: String,
        found: Option<(AuthCode, Option<User>)>,
    },
    Refresh {
        token_hash: String,
        found: Option<RefreshFamily>,
    },
}

/// An access token's record to read, and its user's (a `client_credentials` token has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessTokenKey<'a> {
    pub jti: &'a str,
    pub user_id: Option<&'a str>,
}

/// What [`RateLimitStore::peek_rate_limits_with_access_token`] read.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimitsWithToken {
    /// Each bucket's hits, in order (0 for none).
    pub hits: Vec<u64>,
    /// The token's record (if any) and its user (if they exist, and one was asked for).
    pub token: Option<TokenLookup>,
}

/// An access token's record (if any) and its user (if asked for and found).
pub type TokenLookup = (Option<AccessTokenRecord>, Option<User>);

/// Single-use `jti`s of client assertions (RFC 7523 §3), shared by every node.
#[async_trait]
pub trait ClientAssertionStore: Send + Sync {
    /// Records `jti` for `client_id` until `expires_at`. True when this call recorded it; false
    /// when the same client already used this `jti` and that record has not expired at `now`
    /// (a replay). Atomic: of concurrent callers with one `jti`, exactly one gets true.
    async fn consume_client_assertion_jti(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> StoreResult<bool>;
}

/// Okta API scope grants of apps.
#[async_trait]
pub trait AppGrantStore: Send + Sync {
    /// Fails with `Conflict { constraint: "scope_id" }` when the app already has the scope, and
    /// `NotFound` when the app does not exist.
    async fn create_app_grant(&self, grant: &AppGrant) -> StoreResult<()>;
    /// The app's grants, ordered by id.
    async fn list_app_grants(&self, app_id: &str) -> StoreResult<Vec<AppGrant>>;
    async fn find_app_grant(&self, app_id: &str, grant_id: &str) -> StoreResult<Option<AppGrant>>;
    /// `NotFound` when the app has no such grant.
    async fn delete_app_grant(&self, app_id: &str, grant_id: &str) -> StoreResult<()>;
}

/// Users' consent grants (Okta's `/api/v1/users/{userId}/grants`).
#[async_trait]
pub trait ConsentGrantStore: Send + Sync {
    /// Records the grants in one transaction. A grant for a (user, client, issuer, scope) that
    /// already exists keeps its id and creation time; its `last_updated` moves. `NotFound` when
    /// the user or the client does not exist.
    async fn save_consent_grants(&self, grants: &[ConsentGrant]) -> StoreResult<()>;
    /// The user's grants, of one client if `client_id` is given, ordered by id.
    async fn list_consent_grants(
        &self,
        user_id: &str,
        client_id: Option<&str>,
    ) -> StoreResult<Vec<ConsentGrant>>;
    async fn find_consent_grant(
        &self,
        user_id: &str,
        grant_id: &str,
    ) -> StoreResult<Option<ConsentGrant>>;
    /// `NotFound` when the user has no such grant.
    async fn delete_consent_grant(&self, user_id: &str, grant_id: &str) -> StoreResult<()>;
    /// Deletes the user's grants (of one client if given) and returns those deleted.
    async fn delete_consent_grants(
        &self,
        user_id: &str,
        client_id: Option<&str>,
    ) -> StoreResult<Vec<ConsentGrant>>;
}

/// Small key/value settings of the installation (e.g. the encryption-key check value).
#[async_trait]
pub trait MetaStore: Send + Sync {
    async fn get_meta(&self, key: &str) -> StoreResult<Option<String>>;
    async fn set_meta(&self, key: &str, value: &str) -> StoreResult<()>;
    /// The connection pool's numbers, for `/metrics` (`None`: the backend has no pool).
    fn pool_stats(&self) -> Option<PoolStats> {
        None
    }
}

/// A connection pool's size: connections open, and how many of them are idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub connections: u32,
    pub idle: u32,
}

// ---------------------------------------------------------------------------------------------
// Custom authorization servers' configuration (scopes, claims, access policies and rules)

/// The configuration items of authorization servers, each an [`AuthServerObject`].
#[async_trait]
pub trait AuthServerConfigStore: Send + Sync {
    /// Fails with `Conflict { constraint: "name" }` when the server already has an object of
    /// that kind with the same `unique_key`.
    async fn create_auth_server_object(&self, object: &AuthServerObject) -> StoreResult<()>;
    /// Replaces the object's body, key and priority. `NotFound` when there is no such object
    /// on that server; `Conflict` as for create.
    async fn update_auth_server_object(&self, object: &AuthServerObject) -> StoreResult<()>;
    /// Every object of the server, ordered by kind, priority, creation and id.
    async fn list_auth_server_objects(
        &self,
        auth_server_id: &str,
    ) -> StoreResult<Vec<AuthServerObject>>;
    /// Deletes the object and the objects under it (a policy's rules). `NotFound` when the
    /// server has no such object.
    async fn delete_auth_server_object(&self, auth_server_id: &str, id: &str) -> StoreResult<()>;
    /// Deletes the server with its signing keys and configuration, in one transaction.
    async fn delete_auth_server(&self, id: &str) -> StoreResult<()>;
}

/// Consecutive failed sign-ins per user, for Okta's password-policy lockout. Shared by every
/// node, so an attacker cannot spread guesses over nodes.
#[async_trait]
pub trait SignInFailureStore: Send + Sync {
    /// Counts one failed sign-in of `user_id` and returns the consecutive failures so far.
    async fn record_signin_failure(&self, user_id: &str, now: Timestamp) -> StoreResult<u64>;
    async fn reset_signin_failures(&self, user_id: &str) -> StoreResult<()>;
    /// Moves an `ACTIVE` user to `LOCKED_OUT` at `now`; true when this call did it (so the lock
    /// is recorded once however many requests cross the threshold together).
    async fn lock_user(&self, user_id: &str, now: Timestamp) -> StoreResult<bool>;
    /// Moves a user locked out at or before `locked_before` back to `ACTIVE` and resets their
    /// failures; true when this call did it.
    async fn unlock_user_locked_before(
        &self,
        user_id: &str,
        locked_before: Timestamp,
        now: Timestamp,
    ) -> StoreResult<bool>;
}

/// Ending everything a user holds, for deactivation, suspension and an administrator's
/// password reset.
#[async_trait]
pub trait AccountRevocationStore: Send + Sync {
    /// In one transaction: revokes the user's grants with their refresh and access tokens,
    /// ends their sessions and, unless `keep_api_tokens`, revokes the API tokens they own. A
    /// later reactivation revives none of them.
    async fn revoke_user_credentials(
        &self,
        user_id: &str,
        now: Timestamp,
        keep_api_tokens: bool,
    ) -> StoreResult<()>;
}

/// The System Log (`/api/v1/logs`), append-only.
#[async_trait]
pub trait SystemLogStore: Send + Sync {
    async fn append_log_event(&self, event: &LogEventRecord) -> StoreResult<()> {
        self.append_log_events(std::slice::from_ref(event)).await
    }
    /// Appends the events in order, in one transaction.
    async fn append_log_events(&self, events: &[LogEventRecord]) -> StoreResult<()>;
    /// Events matching `query`, in its order, at most `query.limit`.
    async fn list_log_events(&self, query: &LogQuery) -> StoreResult<Vec<StoredLogEvent>>;
    /// Deletes events published before `before_ms` (retention); returns how many went.
    async fn purge_log_events(&self, before_ms: i64) -> StoreResult<u64>;
}

/// Administrator role assignments.
#[async_trait]
pub trait AdminRoleStore: Send + Sync {
    /// Assigns the role; assigning one the user already has changes nothing. `NotFound` when
    /// the user does not exist.
    async fn assign_admin_role(&self, role: &AdminRole) -> StoreResult<()>;
    /// The user's roles, ordered by role type.
    async fn list_admin_roles(&self, user_id: &str) -> StoreResult<Vec<AdminRole>>;
    /// Removes the user's role of this type, if any.
    async fn unassign_admin_role(&self, user_id: &str, role_type: &str) -> StoreResult<()>;
    /// How many users hold the role.
    async fn count_admin_role(&self, role_type: &str) -> StoreResult<u64>;
}

/// RFC 8628 device authorizations. Every state change is one conditional statement, so
/// concurrent polls, decisions and redemptions each take effect at most once.
#[async_trait]
pub trait DeviceCodeStore: Send + Sync {
    /// `Conflict` when either hash is taken.
    async fn insert_device_authorization(&self, d: &DeviceAuthorization) -> StoreResult<()>;
    async fn find_device_by_user_code(
        &self,
        user_code_hash: &str,
    ) -> StoreResult<Option<DeviceAuthorization>>;
    /// Records the user's answer when the authorization is still pending and unexpired; false
    /// otherwise.
    async fn decide_device_authorization(
        &self,
        user_code_hash: &str,
        decision: &DeviceDecision,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// Records a poll at `now` and returns the authorization with whether this poll came
    /// sooner than its interval after the previous one (which then grows by 5 seconds),
    /// judged and updated in one statement.
    async fn poll_device_authorization(
        &self,
        device_code_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(DeviceAuthorization, bool)>>;
    /// Marks an approved, unexpired authorization redeemed and records `grant_id` as a grant
    /// that started from a device code, in one transaction; true for exactly one caller.
    async fn redeem_device_authorization(
        &self,
        device_code_hash: &str,
        now: Timestamp,
        grant_id: &str,
    ) -> StoreResult<bool>;
    /// Whether the grant started from a device code (its refreshes are decided as the device
    /// grant by the access policy).
    async fn is_device_grant(&self, grant_id: &str) -> StoreResult<bool>;
}

/// Everything a backend provides.
pub trait Store:
    UserStore
    + GroupStore
    + AppStore
    + ClientSecretStore
    + AuthServerStore
    + KeyStore
    + SessionStore
    + TokenStore
    + MetaStore
    + ApiTokenStore
    + RateLimitStore
    + ClientAssertionStore
    + AppGrantStore
    + ConsentGrantStore
    + TrustedOriginStore
    + AuthServerConfigStore
    + SignInFailureStore
    + SystemLogStore
    + WebauthnStore
    + AdminRoleStore
    + AccountRevocationStore
    + SetupStore
    + ChangeStore
    + DeviceCodeStore
    + FederationStore
    + IdpStore
    + SignOnPolicyStore
    + PasswordPolicyStore
    + FactorStore
    + AuthnStore
    + UserLinkStore
    + LogoutStore
{
}

impl<T> Store for T where
    T: UserStore
        + GroupStore
        + AppStore
        + ClientSecretStore
        + AuthServerStore
        + KeyStore
        + SessionStore
        + TokenStore
        + MetaStore
        + ApiTokenStore
        + RateLimitStore
        + ClientAssertionStore
        + AppGrantStore
        + ConsentGrantStore
        + TrustedOriginStore
        + AuthServerConfigStore
        + SignInFailureStore
        + SystemLogStore
        + WebauthnStore
        + AdminRoleStore
        + AccountRevocationStore
        + SetupStore
        + ChangeStore
        + DeviceCodeStore
        + FederationStore
        + IdpStore
        + SignOnPolicyStore
        + PasswordPolicyStore
        + FactorStore
        + AuthnStore
        + UserLinkStore
        + LogoutStore
{
}
