//! PostgreSQL's batch write: every row of the batch in ONE statement.
//!
//! Each statement is a round trip and a wakeup of the backend, and `BEGIN` and `COMMIT` are two
//! more; a client_credentials response writes one System Log event, which used to take four
//! (`BEGIN`, the event, its targets, `COMMIT`). Here grants, access and refresh tokens, events
//! and their targets go in one `INSERT … SELECT` with data-modifying `WITH` parts, the rows
//! passed as arrays (one per column), so the statement's text is the same for every batch: it
//! is prepared once per connection and, walking the arrays with `generate_subscripts` (which
//! estimates the same row count whatever the arrays hold; see `sql::token_reads`), planned
//! once too. A targets row takes its event's `seq` from the event part's `RETURNING`, not by a
//! lookup through `system_log_uuid_key`.
//!
//! A statement is atomic on its own: a batch of inserts only runs in autocommit, which commits
//! (and, `synchronous_commit` on, flushes the WAL) before the server reports it done, so the
//! callers are still answered only once their rows are durable. A batch with claims (a code
//! redeemed, a refresh token rotated) or refresh-expiry updates must also fail as a whole when
//! a claim is lost, which it learns from a row count: those run in a transaction, the claims
//! first (their row locks order concurrent claims), then the same one insert statement.

use async_trait::async_trait;
use gatehouse_core::domain::{AccessTokenRecord, Grant, LogEventRecord, RefreshToken};
use gatehouse_core::store::{Claim, StoreError, StoreResult};
use sqlx::Postgres;

use super::{
    CODE_CLAIM_TAIL, EXPIRY_UPDATE_TAIL, ROTATION_CLAIM_TAIL, WriteBatch, WriteOp, cached_chunks,
    event_targets, keyed_values_update, refresh_expiries, target_ids_column,
};
use crate::error::db_err;
use crate::rows::to_json;

/// Batches committing at once (each on its own pooled connection; the server flushes their WAL
/// records together).
const BATCHES_IN_FLIGHT: usize = 4;

/// The one insert statement. `$n` are column arrays; a kind with no rows has empty arrays and
/// inserts nothing.
const INSERT_ALL: &str = "WITH \
    g AS (INSERT INTO grants (id, client_id, user_id, auth_server_id, scopes, auth_time, amr, \
    created, revoked_at, acr) SELECT ($1::text[])[k.i], ($2::text[])[k.i], ($3::text[])[k.i], \
    ($4::text[])[k.i], ($5::text[])[k.i], ($6::bigint[])[k.i], ($7::text[])[k.i], \
    ($8::bigint[])[k.i], ($9::bigint[])[k.i], ($10::text[])[k.i] \
    FROM generate_subscripts($1::text[], 1) AS k(i)), \
    a AS (INSERT INTO access_tokens (jti, grant_id, client_id, expires_at, revoked_at) \
    SELECT ($11::text[])[k.i], ($12::text[])[k.i], ($13::text[])[k.i], ($14::bigint[])[k.i], \
    ($15::bigint[])[k.i] FROM generate_subscripts($11::text[], 1) AS k(i)), \
    r AS (INSERT INTO refresh_tokens (token_hash, grant_id, client_id, scopes, created, \
    expires_at, rotated_at, revoked_at) SELECT ($16::text[])[k.i], ($17::text[])[k.i], \
    ($18::text[])[k.i], ($19::text[])[k.i], ($20::bigint[])[k.i], ($21::bigint[])[k.i], \
    ($22::bigint[])[k.i], ($23::bigint[])[k.i] FROM generate_subscripts($16::text[], 1) AS k(i)), \
    e AS (INSERT INTO system_log (uuid, published_ms, event_type, severity, outcome_result, \
    actor_id, actor_alternate_id, target_ids, search_text, body) SELECT ($24::text[])[k.i], \
    ($25::bigint[])[k.i], ($26::text[])[k.i], ($27::text[])[k.i], ($28::text[])[k.i], \
    ($29::text[])[k.i], ($30::text[])[k.i], ($31::text[])[k.i], ($32::text[])[k.i], \
    ($33::text[])[k.i] FROM generate_subscripts($24::text[], 1) AS k(i) \
    RETURNING seq, uuid, published_ms) \
    INSERT INTO system_log_targets (event_seq, target_id, event_published_ms) \
    SELECT e.seq, ($35::text[])[k.i], e.published_ms \
    FROM generate_subscripts($34::text[], 1) AS k(i) JOIN e ON e.uuid = ($34::text[])[k.i]";

/// Column arrays of [`INSERT_ALL`], in its parameters' order: grants (`g_`), access tokens
/// (`a_`), refresh tokens (`r_`), events (`e_`) and their targets (`t_`).
#[derive(Default)]
struct Columns<'a> {
    g_id: Vec<&'a str>,
    g_client_id: Vec<&'a str>,
    g_user_id: Vec<Option<&'a str>>,
    g_auth_server_id: Vec<&'a str>,
    g_scopes: Vec<String>,
    g_auth_time: Vec<Option<i64>>,
    g_amr: Vec<String>,
    g_created: Vec<i64>,
    g_revoked_at: Vec<Option<i64>>,
    g_acr: Vec<Option<&'a str>>,
    a_jti: Vec<&'a str>,
    a_grant_id: Vec<&'a str>,
    a_client_id: Vec<&'a str>,
    a_expires_at: Vec<i64>,
    a_revoked_at: Vec<Option<i64>>,
    r_token_hash: Vec<&'a str>,
    r_grant_id: Vec<&'a str>,
    r_client_id: Vec<&'a str>,
    r_scopes: Vec<String>,
    r_created: Vec<i64>,
    r_expires_at: Vec<i64>,
    r_rotated_at: Vec<Option<i64>>,
    r_revoked_at: Vec<Option<i64>>,
    e_uuid: Vec<&'a str>,
    e_published_ms: Vec<i64>,
    e_event_type: Vec<&'a str>,
    e_severity: Vec<&'a str>,
    e_outcome_result: Vec<&'a str>,
    e_actor_id: Vec<Option<&'a str>>,
    e_actor_alternate_id: Vec<Option<&'a str>>,
    e_target_ids: Vec<String>,
    e_search_text: Vec<&'a str>,
    e_body: Vec<&'a str>,
    /// The event's uuid, for each of its targets.
    t_uuid: Vec<&'a str>,
    t_target_id: Vec<&'a str>,
}

/// A batch's writes: the rows to insert, and the updates that must each change a row.
#[derive(Default)]
struct Batch<'a> {
    columns: Columns<'a>,
    /// `(code_hash, now)`.
    codes: Vec<(&'a String, i64)>,
    /// `(token_hash, now)`.
    rotations: Vec<(&'a String, i64)>,
    /// `(token_hash, expires_at)`.
    expiries: Vec<(&'a String, i64)>,
}

impl<'a> Batch<'a> {
    /// Sorts `ops` (every kind named, so a new kind cannot be left out here); JSON encoded
    /// first, so no error can come mid-transaction.
    fn of(ops: &[&'a WriteOp]) -> StoreResult<Self> {
        let mut b = Batch::default();
        let mut events: Vec<(&'a LogEventRecord, String)> = Vec::new();
        for &op in ops {
            match op {
                WriteOp::Grant(g) => b.columns.push_grant(g)?,
                WriteOp::AccessToken(t) => b.columns.push_access(t),
                WriteOp::RefreshToken(t) => b.columns.push_refresh(t)?,
                WriteOp::LogEvent(e) => events.push((e, target_ids_column(&e.target_ids))),
                // Each token once, after the loop (`refresh_expiries`).
                WriteOp::RefreshExpiry { .. } => {}
                WriteOp::RedeemCode { code_hash, now } => b.codes.push((code_hash, *now)),
                WriteOp::MarkRotated { token_hash, now } => b.rotations.push((token_hash, *now)),
            }
        }
        b.expiries = refresh_expiries(ops);
        for (uuid, target) in event_targets(&events) {
            b.columns.t_uuid.push(uuid);
            b.columns.t_target_id.push(target);
        }
        for (e, target_ids) in events {
            b.columns.push_event(e, target_ids);
        }
        Ok(b)
    }
}

impl<'a> Columns<'a> {
    fn push_grant(&mut self, g: &'a Grant) -> StoreResult<()> {
        self.g_id.push(&g.id);
        self.g_client_id.push(&g.client_id);
        self.g_user_id.push(g.user_id.as_deref());
        self.g_auth_server_id.push(&g.auth_server_id);
        self.g_scopes.push(to_json(&g.scopes)?);
        self.g_auth_time.push(g.auth_time);
        self.g_amr.push(to_json(&g.amr)?);
        self.g_created.push(g.created);
        self.g_revoked_at.push(g.revoked_at);
        self.g_acr.push(g.acr.as_deref());
        Ok(())
    }

    fn push_access(&mut self, t: &'a AccessTokenRecord) {
        self.a_jti.push(&t.jti);
        self.a_grant_id.push(&t.grant_id);
        self.a_client_id.push(&t.client_id);
        self.a_expires_at.push(t.expires_at);
        self.a_revoked_at.push(t.revoked_at);
    }

    fn push_refresh(&mut self, t: &'a RefreshToken) -> StoreResult<()> {
        self.r_token_hash.push(&t.token_hash);
        self.r_grant_id.push(&t.grant_id);
        self.r_client_id.push(&t.client_id);
        self.r_scopes.push(to_json(&t.scopes)?);
        self.r_created.push(t.created);
        self.r_expires_at.push(t.expires_at);
        self.r_rotated_at.push(t.rotated_at);
        self.r_revoked_at.push(t.revoked_at);
        Ok(())
    }

    fn push_event(&mut self, e: &'a LogEventRecord, target_ids: String) {
        self.e_uuid.push(&e.uuid);
        self.e_published_ms.push(e.published_ms);
        self.e_event_type.push(&e.event_type);
        self.e_severity.push(&e.severity);
        self.e_outcome_result.push(&e.outcome_result);
        self.e_actor_id.push(e.actor_id.as_deref());
        self.e_actor_alternate_id
            .push(e.actor_alternate_id.as_deref());
        self.e_target_ids.push(target_ids);
        self.e_search_text.push(&e.search_text);
        self.e_body.push(&e.body);
    }

    fn is_empty(&self) -> bool {
        self.g_id.is_empty()
            && self.a_jti.is_empty()
            && self.r_token_hash.is_empty()
            && self.e_uuid.is_empty()
    }

    /// [`INSERT_ALL`] with these columns bound.
    fn statement(self) -> sqlx::query::Query<'a, Postgres, sqlx::postgres::PgArguments> {
        sqlx::query(INSERT_ALL)
            .bind(self.g_id)
            .bind(self.g_client_id)
            .bind(self.g_user_id)
            .bind(self.g_auth_server_id)
            .bind(self.g_scopes)
            .bind(self.g_auth_time)
            .bind(self.g_amr)
            .bind(self.g_created)
            .bind(self.g_revoked_at)
            .bind(self.g_acr)
            .bind(self.a_jti)
            .bind(self.a_grant_id)
            .bind(self.a_client_id)
            .bind(self.a_expires_at)
            .bind(self.a_revoked_at)
            .bind(self.r_token_hash)
            .bind(self.r_grant_id)
            .bind(self.r_client_id)
            .bind(self.r_scopes)
            .bind(self.r_created)
            .bind(self.r_expires_at)
            .bind(self.r_rotated_at)
            .bind(self.r_revoked_at)
            .bind(self.e_uuid)
            .bind(self.e_published_ms)
            .bind(self.e_event_type)
            .bind(self.e_severity)
            .bind(self.e_outcome_result)
            .bind(self.e_actor_id)
            .bind(self.e_actor_alternate_id)
            .bind(self.e_target_ids)
            .bind(self.e_search_text)
            .bind(self.e_body)
            .bind(self.t_uuid)
            .bind(self.t_target_id)
    }
}

#[async_trait]
impl WriteBatch for sqlx::Pool<Postgres> {
    fn max_in_flight(&self) -> usize {
        BATCHES_IN_FLIGHT
    }

    async fn write_batch(&self, ops: &[&WriteOp]) -> StoreResult<()> {
        let Batch {
            columns,
            codes,
            rotations,
            expiries,
        } = Batch::of(ops)?;
        if codes.is_empty() && rotations.is_empty() && expiries.is_empty() {
            if columns.is_empty() {
                return Ok(());
            }
            // Inserts only: one statement, committed on its own (see the module docs).
            columns.statement().execute(self).await.map_err(db_err)?;
            return Ok(());
        }
        let mut tx = self.begin().await.map_err(db_err)?;
        // Claims first: the row lock makes a concurrent claim of the same row wait for this
        // transaction's outcome (then find it taken). One statement per kind claims the whole
        // batch's (each with its own time, `v.column2`): if it changes fewer rows than there
        // are claims, one was lost (a spent code, or the same code twice in this batch, which
        // changes its row once) and the batch fails, to be written again job by job.
        for (claims, head, tail, lost) in [
            (
                &codes,
                "UPDATE auth_codes SET used_at = v.column2 FROM (VALUES ",
                CODE_CLAIM_TAIL,
                Claim::CODE_USED,
            ),
            (
                &rotations,
                "UPDATE refresh_tokens SET rotated_at = v.column2 FROM (VALUES ",
                ROTATION_CLAIM_TAIL,
                Claim::TOKEN_ROTATED,
            ),
        ] {
            for chunk in cached_chunks(claims) {
                let mut q = keyed_values_update::<Postgres>(head, chunk, tail);
                // One cached statement per power-of-two row count (see `cached_chunks`):
                // prepared once per connection, not parsed, described and planned on every
                // batch (a round trip more each time).
                let done = q.build().execute(&mut *tx).await.map_err(db_err)?;
                if done.rows_affected() < chunk.len() as u64 {
                    // Dropping the transaction rolls it back.
                    return Err(StoreError::Conflict {
                        constraint: lost.into(),
                    });
                }
            }
        }
        // Static refresh tokens' new expiries: each token once (`refresh_expiries`: the bench's
        // refresh row, like a client refreshing from several tabs, has one token in every job),
        // one cached statement per chunk. One that is gone changes no row: the batch fails, and
        // its jobs are written again one by one, that one failing alone.
        for chunk in cached_chunks(&expiries) {
            let mut q = keyed_values_update::<Postgres>(
                "UPDATE refresh_tokens SET expires_at = v.column2 FROM (VALUES ",
                chunk,
                EXPIRY_UPDATE_TAIL,
            );
            let done = q.build().execute(&mut *tx).await.map_err(db_err)?;
            if done.rows_affected() < chunk.len() as u64 {
                // Dropping the transaction rolls it back.
                return Err(StoreError::NotFound);
            }
        }
        if !columns.is_empty() {
            columns
                .statement()
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }
}
