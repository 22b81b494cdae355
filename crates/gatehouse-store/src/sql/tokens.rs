//! Storage of codes, grants, refresh and access tokens ([`TokenStore`]), one macro for both backends.

use async_trait::async_trait;
use gatehouse_core::domain::*;
use gatehouse_core::store::*;

use super::SqlStore;
use super::throttled_reads::refresh_family_cols;
use crate::error::db_err;
use crate::group_commit::WriteOp;
use crate::rows::*;

macro_rules! impl_token_store {
    ($db:ty) => {
        #[async_trait]
        impl TokenStore for SqlStore<$db> {
            async fn create_code(&self, code: &AuthCode) -> StoreResult<()> {
                // Every sign-in to an app writes here: in turn with the node's other writers.
                let _turn = self.gate().enter().await;
                sqlx::query(
                    "INSERT INTO auth_codes (code_hash, grant_id, client_id, user_id, \
                     auth_server_id, redirect_uri, scopes, nonce, code_challenge, auth_time, amr, \
                     session_id_hash, created, expires_at, used_at, acr) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                )
                .bind(&code.code_hash)
                .bind(&code.grant_id)
                .bind(&code.client_id)
                .bind(&code.user_id)
                .bind(&code.auth_server_id)
                .bind(&code.redirect_uri)
                .bind(to_json(&code.scopes)?)
                .bind(&code.nonce)
                .bind(&code.code_challenge)
                .bind(code.auth_time)
                .bind(to_json(&code.amr)?)
                .bind(&code.session_id_hash)
                .bind(code.created)
                .bind(code.expires_at)
                .bind(code.used_at)
                .bind(&code.acr)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn redeem_code(
                &self,
                code_hash: &str,
                now: Timestamp,
            ) -> StoreResult<CodeRedemption> {
                // One statement decides the winner: the row lock (PostgreSQL) or the database
                // write lock (SQLite) serialises concurrent redeemers, and only the first still
                // sees `used_at IS NULL`. (`fetch_all` steps the statement to completion; it
                // returns at most one row, the key being unique.)
                let won: Vec<AuthCodeRow> = sqlx::query_as(concat!(
                    "UPDATE auth_codes SET used_at = $2 \
                     WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING ",
                    code_cols!()
                ))
                .bind(code_hash)
                .bind(now)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                if let Some(row) = won.into_iter().next() {
                    return Ok(CodeRedemption::Redeemed(AuthCode::try_from(row)?));
                }
                let row: Option<AuthCodeRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    code_cols!(),
                    " FROM auth_codes WHERE code_hash = $1"
                ))
                .bind(code_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                match row.map(AuthCode::try_from).transpose()? {
                    Some(code) if code.used_at.is_some() => Ok(CodeRedemption::Replayed(code)),
                    _ => Ok(CodeRedemption::NotFound),
                }
            }

            async fn find_code(&self, code_hash: &str) -> StoreResult<Option<AuthCode>> {
                let row: Option<AuthCodeRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    code_cols!(),
                    " FROM auth_codes WHERE code_hash = $1"
                ))
                .bind(code_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                row.map(AuthCode::try_from).transpose()
            }

            async fn find_code_and_user(
                &self,
                code_hash: &str,
            ) -> StoreResult<Option<(AuthCode, Option<User>)>> {
                // SQLite files: on the calling thread, no hop to a connection's thread.
                if let Some(found) = self.reads.code_and_user(code_hash).await {
                    return found;
                }
                let row: Option<CodeAndUserRow> = sqlx::query_as(concat!(
                    "SELECT c.*, u.* FROM (SELECT ",
                    code_cols!(),
                    " FROM auth_codes WHERE code_hash = $1) c JOIN (SELECT ",
                    user_cols!(),
                    " FROM users) u ON u.id = c.user_id"
                ))
                .bind(code_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                match row {
                    Some(row) => Ok(Some((
                        AuthCode::try_from(row.code)?,
                        Some(User::try_from(row.user)?),
                    ))),
                    // No such code, or its user is gone (rare): the code alone, read apart.
                    None => Ok(self.find_code(code_hash).await?.map(|code| (code, None))),
                }
            }

            async fn create_grant(&self, grant: &Grant) -> StoreResult<()> {
                self.writer.write(vec![WriteOp::Grant(grant.clone())]).await
            }

            async fn find_grant(&self, id: &str) -> StoreResult<Option<Grant>> {
                if let Some(found) = self.reads.grant(id).await {
                    return found;
                }
                let row: Option<GrantRow> =
                    sqlx::query_as(concat!("SELECT ", grant_cols!(), " FROM grants WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(db_err)?;
                row.map(Grant::try_from).transpose()
            }

            async fn revoke_grant(&self, id: &str, now: Timestamp) -> StoreResult<()> {
                let mut tx = self.pool.begin().await.map_err(db_err)?;
                // A grant not created yet (a replayed code racing its first redemption) gets a
                // revoked placeholder, so the later create_grant hits a conflict.
                sqlx::query(
                    "INSERT INTO grants (id, client_id, user_id, auth_server_id, scopes, \
                     auth_time, amr, created, revoked_at) \
                     VALUES ($1, '', NULL, '', '[]', NULL, '[]', $2, $2) \
                     ON CONFLICT (id) DO UPDATE \
                     SET revoked_at = COALESCE(grants.revoked_at, excluded.revoked_at)",
                )
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                for sql in [
                    "UPDATE refresh_tokens SET revoked_at = $2 \
                     WHERE grant_id = $1 AND revoked_at IS NULL",
                    "UPDATE access_tokens SET revoked_at = $2 \
                     WHERE grant_id = $1 AND revoked_at IS NULL",
                ] {
                    sqlx::query(sql)
                        .bind(id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)
            }

            async fn create_refresh_token(&self, token: &RefreshToken) -> StoreResult<()> {
                self.writer.write(vec![WriteOp::RefreshToken(token.clone())]).await
            }

            async fn find_refresh_token(
                &self,
                token_hash: &str,
            ) -> StoreResult<Option<RefreshToken>> {
                let row: Option<RefreshTokenRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    refresh_cols!(),
                    " FROM refresh_tokens WHERE token_hash = $1"
                ))
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                row.map(RefreshToken::try_from).transpose()
            }

            async fn find_refresh_family(
                &self,
                token_hash: &str,
            ) -> StoreResult<Option<RefreshFamily>> {
                if let Some(found) = self.reads.refresh_family(token_hash).await {
                    return found;
                }
                // The user's columns keep their names (`UserRow`); the token's and the grant's
                // are prefixed (`refresh_family_cols!`). Inner joins: a token whose grant or
                // user is gone (rare) is read piece by piece below.
                let row: Option<RefreshFamilyRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    refresh_family_cols!(),
                    " FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id \
                     JOIN (SELECT ",
                    user_cols!(),
                    " FROM users) u ON u.id = g.user_id WHERE r.token_hash = $1"
                ))
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                if let Some(row) = row {
                    return RefreshFamily::try_from(row).map(Some);
                }
                let Some(token) = self.find_refresh_token(token_hash).await? else {
                    return Ok(None);
                };
                let grant = self.find_grant(&token.grant_id).await?;
                let user = match grant.as_ref().and_then(|g| g.user_id.as_deref()) {
                    Some(id) => self.find_user(id).await?,
                    None => None,
                };
                let device_grant = match &grant {
                    Some(g) => self.is_device_grant(&g.id).await?,
                    None => false,
                };
                Ok(Some(RefreshFamily {
                    token,
                    grant,
                    user,
                    device_grant,
                }))
            }

            async fn revoke_refresh_token(&self, token_hash: &str, now: Timestamp) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE refresh_tokens SET revoked_at = $2 \
                     WHERE token_hash = $1 AND revoked_at IS NULL",
                )
                .bind(token_hash)
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn record_access_token(&self, token: &AccessTokenRecord) -> StoreResult<()> {
                self.writer.write(vec![WriteOp::AccessToken(token.clone())]).await
            }

            async fn record_issued(
                &self,
                issued: &IssuedTokens<'_>,
                events: Vec<LogEventRecord>,
            ) -> StoreResult<()> {
                let mut ops = Vec::with_capacity(5 + events.len());
                ops.extend(issued.claim.map(|c| match c {
                    Claim::Code { code_hash, now } => WriteOp::RedeemCode {
                        code_hash: code_hash.to_owned(),
                        now,
                    },
                    Claim::Rotation { token_hash, now } => WriteOp::MarkRotated {
                        token_hash: token_hash.to_owned(),
                        now,
                    },
                }));
                ops.extend(issued.grant.map(|g| WriteOp::Grant(g.clone())));
                ops.extend(issued.access.map(|t| WriteOp::AccessToken(t.clone())));
                ops.extend(issued.refresh.map(|t| WriteOp::RefreshToken(t.clone())));
                ops.extend(issued.refresh_expiry.map(|(hash, expires_at)| {
                    WriteOp::RefreshExpiry {
                        token_hash: hash.to_owned(),
                        expires_at,
                    }
                }));
                ops.extend(events.into_iter().map(WriteOp::LogEvent));
                if ops.is_empty() {
                    return Ok(());
                }
                self.writer.write(ops).await
            }

            fn rotation_claim_is_final(&self) -> bool {
                // SQLite has one writer per database file (every process, every connection):
                // the batch's transaction takes the write lock with its first statement, so
                // the claim's check of the token and its grant and the successor's insert are
                // one step against any revocation (`revoke_grant`, `revoke_refresh_token`, the
                // CLI's). PostgreSQL's READ COMMITTED lets a revocation that waited on the
                // token's row lock miss the successor; there the caller re-reads the grant.
                <$db as sqlx::Database>::NAME == "SQLite"
            }

            async fn find_access_token(&self, jti: &str) -> StoreResult<Option<AccessTokenRecord>> {
                // On the calling thread (SQLite, crate::direct_read) or batched with the node's
                // concurrent lookups (crate::read_batch): either way a query started after
                // this call, so a revocation committed before it is seen.
                self.reads.access_token(jti).await
            }

            async fn find_access_token_and_user(
                &self,
                jti: &str,
                user_id: &str,
            ) -> StoreResult<(Option<AccessTokenRecord>, Option<User>)> {
                match self.reads.access_token_and_user(jti, user_id).await? {
                    Some((token, user)) => Ok((token, Some(user))),
                    // No such user: the record alone, read apart (rare).
                    None => Ok((self.find_access_token(jti).await?, None)),
                }
            }

            async fn revoke_access_token(
                &self,
                token: &AccessTokenRecord,
                now: Timestamp,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO access_tokens (jti, grant_id, client_id, expires_at, revoked_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (jti) DO UPDATE \
                     SET revoked_at = COALESCE(access_tokens.revoked_at, excluded.revoked_at)",
                )
                .bind(&token.jti)
                .bind(&token.grant_id)
                .bind(&token.client_id)
                .bind(token.expires_at)
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn purge_expired(&self, now: Timestamp) -> StoreResult<u64> {
                // In short statements, each in its turn in the write queue (`sql/purge.rs`).
                self.purge_expired_rows(now).await
            }
        }
    };
}

impl_token_store!(sqlx::Sqlite);
impl_token_store!(sqlx::Postgres);
