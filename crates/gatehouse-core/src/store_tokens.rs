//! Storage interface of the OAuth tokens ([`TokenStore`]): authorization codes, grants, access
//! and refresh tokens, and what one token response writes at once ([`IssuedTokens`]).
//! Re-exported by [`crate::store`], whose [`crate::store::Store`] includes it.

use async_trait::async_trait;

use crate::domain::*;
use crate::store_error::{StoreError, StoreResult};

/// Everything one token response writes, stored in one transaction before it is sent (with its
/// System Log events, handed over by value: [`TokenStore::record_issued`]).
#[derive(Debug, Clone, Copy)]
pub struct IssuedTokens<'a> {
    /// The grant, when it is new (`client_credentials`, the code exchange).
    pub grant: Option<&'a Grant>,
    /// The access token's record; `None` for a self-contained token (one without a user, see
    /// [`TokenStore::revoke_access_token`]).
    pub access: Option<&'a AccessTokenRecord>,
    /// A new refresh token (a first one, or a rotation's successor).
    pub refresh: Option<&'a RefreshToken>,
    /// A static refresh token handed back again, whose idle window restarts: its hash and new
    /// expiry.
    pub refresh_expiry: Option<(&'a str, Timestamp)>,
    /// What the response spends, in the same transaction: exactly one of concurrent responses
    /// claiming the same code or refresh token records anything; the others get `Conflict`
    /// (constraint `used_at` or `rotated_at`) and record nothing.
    pub claim: Option<Claim<'a>>,
}

/// Everything a refresh reads: the refresh token, its grant, the grant's user and whether the
/// grant came from a device authorization ([`TokenStore::find_refresh_family`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshFamily {
    pub token: RefreshToken,
    /// `None` when the grant is gone.
    pub grant: Option<Grant>,
    /// `None` when the grant has no user or its user is gone.
    pub user: Option<User>,
    /// The grant was made by the device authorization grant (RFC 8628).
    pub device_grant: bool,
}

/// A single-use thing a token response spends (see [`IssuedTokens::claim`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim<'a> {
    /// Marks the authorization code used at `now`, if unused and unexpired (the code exchange).
    Code { code_hash: &'a str, now: Timestamp },
    /// Marks the refresh token rotated at `now`, if it was not and neither it nor its grant is
    /// revoked (rotation). The claim itself is the check that the grant still stands: the
    /// store makes it in the transaction that records the successor, so a revocation is either
    /// seen by the claim (lost) or made after it, and then catches the successor (SQLite's
    /// one writer; PostgreSQL's row lock on the token, which a revocation also updates).
    Rotation { token_hash: &'a str, now: Timestamp },
}

impl Claim<'_> {
    /// The constraint a lost claim reports in [`StoreError::Conflict`].
    pub const CODE_USED: &'static str = "used_at";
    pub const TOKEN_ROTATED: &'static str = "rotated_at";
}

/// The claim of a [`TokenStore::record_issued`] call was taken by another response.
pub fn is_lost_claim(e: &StoreError) -> bool {
    matches!(e, StoreError::Conflict { constraint }
        if constraint == Claim::CODE_USED || constraint == Claim::TOKEN_ROTATED)
}

#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn create_code(&self, code: &AuthCode) -> StoreResult<()>;
    /// Atomically marks the code used at `now`. Exactly one concurrent caller gets `Redeemed`;
    /// every later one gets `Replayed`. An expired, unused code is `NotFound`.
    async fn redeem_code(&self, code_hash: &str, now: Timestamp) -> StoreResult<CodeRedemption>;
    /// The code, used or not, without touching it (checked against the client before redeeming).
    async fn find_code(&self, code_hash: &str) -> StoreResult<Option<AuthCode>>;
    /// [`TokenStore::find_code`] and the user it was issued to (`None` if the user is gone),
    /// in one query (the code exchange).
    async fn find_code_and_user(
        &self,
        code_hash: &str,
    ) -> StoreResult<Option<(AuthCode, Option<User>)>>;

    async fn create_grant(&self, grant: &Grant) -> StoreResult<()>;
    async fn find_grant(&self, id: &str) -> StoreResult<Option<Grant>>;
    /// Marks the grant, its refresh tokens and its access tokens revoked. Idempotent; a grant
    /// that does not exist yet is recorded as revoked so it can never be created live.
    async fn revoke_grant(&self, id: &str, now: Timestamp) -> StoreResult<()>;

    async fn create_refresh_token(&self, token: &RefreshToken) -> StoreResult<()>;
    async fn find_refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshToken>>;
    /// The refresh token and what a refresh needs with it ([`RefreshFamily`]), in one query
    /// where the records are all there: each read is a round trip (PostgreSQL) or a hop to
    /// the connection's thread and back (SQLite), which a refresh would otherwise pay four
    /// times.
    async fn find_refresh_family(&self, token_hash: &str) -> StoreResult<Option<RefreshFamily>>;
    async fn revoke_refresh_token(&self, token_hash: &str, now: Timestamp) -> StoreResult<()>;

    async fn record_access_token(&self, token: &AccessTokenRecord) -> StoreResult<()>;
    /// Records what one token response issued ([`IssuedTokens`]) in one transaction, all or
    /// nothing. Returns once it is committed (backends may commit several callers' records
    /// together). A grant whose id is taken (revoked before it was created) is `Conflict`, a
    /// refresh token to extend that is gone `NotFound`, and nothing is recorded. `events`, the
    /// response's System Log events, are written as they are (the writer owns what it writes:
    /// by value, not copied).
    async fn record_issued(
        &self,
        issued: &IssuedTokens<'_>,
        events: Vec<LogEventRecord>,
    ) -> StoreResult<()>;
    /// True when a won [`Claim::Rotation`] needs no check after its commit: every revocation
    /// of the token or its grant either committed before the claim's transaction (which then
    /// saw it and lost) or starts after that commit (and then revokes the successor recorded
    /// under the grant). SQLite's single writer gives that. False (the default) where a
    /// revocation may commit between the claim's statement and its commit without seeing the
    /// new rows (PostgreSQL, READ COMMITTED): the caller reads the grant again.
    fn rotation_claim_is_final(&self) -> bool {
        false
    }
    /// [`TokenStore::record_issued`] of a grant (when new), an access token, a new refresh
    /// token and System Log events.
    async fn record_issued_tokens(
        &self,
        grant: Option<&Grant>,
        access: &AccessTokenRecord,
        refresh: Option<&RefreshToken>,
        events: &[LogEventRecord],
    ) -> StoreResult<()> {
        let issued = IssuedTokens {
            grant,
            access: Some(access),
            refresh,
            refresh_expiry: None,
            claim: None,
        };
        self.record_issued(&issued, events.to_vec()).await
    }
    /// Creates `grant` and records its access token in one transaction (see
    /// [`TokenStore::record_issued_tokens`]).
    async fn create_grant_with_access_token(
        &self,
        grant: &Grant,
        token: &AccessTokenRecord,
    ) -> StoreResult<()> {
        self.record_issued_tokens(Some(grant), token, None, &[])
            .await
    }
    async fn find_access_token(&self, jti: &str) -> StoreResult<Option<AccessTokenRecord>>;
    /// [`TokenStore::find_access_token`] and the user `user_id`, in one query (userinfo).
    async fn find_access_token_and_user(
        &self,
        jti: &str,
        user_id: &str,
    ) -> StoreResult<(Option<AccessTokenRecord>, Option<User>)>;
    /// Marks the access token revoked at `now` (an earlier revocation stands). A token that was
    /// never recorded (a self-contained `client_credentials` token) gets a revoked record, kept
    /// until `token.expires_at` like any other: that record is its revocation list entry.
    async fn revoke_access_token(
        &self,
        token: &AccessTokenRecord,
        now: Timestamp,
    ) -> StoreResult<()>;

    /// Deletes expired codes, transactions, sessions, tokens and counters, and grants a day old
    /// that have no code or token left; returns how many rows went.
    async fn purge_expired(&self, now: Timestamp) -> StoreResult<u64>;
}
