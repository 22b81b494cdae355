//! The batched reads of access tokens and their users (`read_batch`), on both backends: many
//! concurrent lookups, found and missing, each get their own answer; a revocation is seen by
//! every lookup that starts after it, while other batches are running, and so is a change
//! written by another node or the CLI (on SQLite, reads on the calling thread), and so are the
//! client-authentication throttle's counters, alone and with a token (introspection's read), and
//! the token endpoint's reads of codes, refresh tokens and grants.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Result, ensure};
use gatehouse_core::domain::*;
use gatehouse_core::store::{AccessTokenKey, GrantKey, GrantLookup, RateLimitsWithToken, Store};
use gatehouse_store::connect;
use gatehouse_store::test_support::{Backend, TestDatabase};

#[macro_use]
mod common;

async fn run<F>(backend: Backend, test: F) -> Result<()>
where
    F: AsyncFnOnce(Arc<dyn Store>) -> Result<()>,
{
    run_two(backend, async |s, _other| test(s).await).await
}

/// `test` gets two stores on one database: this node and another (a second node, or the CLI).
async fn run_two<F>(backend: Backend, test: F) -> Result<()>
where
    F: AsyncFnOnce(Arc<dyn Store>, Arc<dyn Store>) -> Result<()>,
{
    let db = TestDatabase::new(backend).await?;
    let store = connect(&db.url).await?;
    let other = connect(&db.url).await?;
    let outcome = test(store, other).await;
    drop(db);
    outcome.map_err(|e| e.context(format!("backend {}", backend.name())))
}

both_backends!(
    concurrent_lookups_found_and_missing_each_get_their_own_answer,
    a_revocation_is_seen_at_once_while_batches_run,
    counters_and_token_read_together_as_apart,
    counters_and_grant_read_together_as_apart,
);

/// The same, through sqlx.
#[tokio::test]
async fn counters_and_grant_read_together_as_apart_sqlite_in_memory() -> Result<()> {
    counters_and_grant_read_together_as_apart(gatehouse_store::connect("sqlite::memory:").await?)
        .await
}

/// SQLite in memory reads through sqlx (no reads on the calling thread): the same answers.
#[tokio::test]
async fn counters_and_token_read_together_as_apart_sqlite_in_memory() -> Result<()> {
    counters_and_token_read_together_as_apart(gatehouse_store::connect("sqlite::memory:").await?)
        .await
}

#[tokio::test]
async fn another_nodes_changes_are_seen_at_once_sqlite() -> Result<()> {
    run_two(Backend::Sqlite, another_nodes_changes_are_seen_at_once).await
}

#[tokio::test]
async fn another_nodes_changes_are_seen_at_once_postgres() -> Result<()> {
    run_two(Backend::Postgres, another_nodes_changes_are_seen_at_once).await
}

#[tokio::test]
async fn another_nodes_grant_changes_are_seen_at_once_sqlite() -> Result<()> {
    run_two(
        Backend::Sqlite,
        another_nodes_grant_changes_are_seen_at_once,
    )
    .await
}

#[tokio::test]
async fn another_nodes_grant_changes_are_seen_at_once_postgres() -> Result<()> {
    run_two(
        Backend::Postgres,
        another_nodes_grant_changes_are_seen_at_once,
    )
    .await
}

fn access(jti: &str) -> AccessTokenRecord {
    AccessTokenRecord {
        jti: jti.into(),
        grant_id: format!("g-{jti}"),
        client_id: "client".into(),
        expires_at: 9_000,
        revoked_at: None,
    }
}

/// Users `u0`..`u4`; tokens `j0`..`j39` recorded for even numbers only; lookups of every token
/// with users `u0`..`u7` (`u5`..`u7` do not exist), all at once, several times each.
async fn concurrent_lookups_found_and_missing_each_get_their_own_answer(
    s: Arc<dyn Store>,
) -> Result<()> {
    for u in 0..5 {
        s.create_user(&common::user(&format!("u{u}"))).await?;
    }
    for j in (0..40).step_by(2) {
        s.record_access_token(&access(&format!("j{j}"))).await?;
    }
    let mut tasks = Vec::new();
    for round in 0..3 {
        for j in 0..40u32 {
            let s = s.clone();
            let u = (j + round) % 8;
            tasks.push(tokio::spawn(async move {
                let (jti, uid) = (format!("j{j}"), format!("u{u}"));
                let alone = s.find_access_token(&jti).await?;
                let (token, found) = s.find_access_token_and_user(&jti, &uid).await?;
                let want_token = j.is_multiple_of(2).then(|| access(&jti));
                ensure!(alone == want_token, "{jti}: {alone:?}");
                ensure!(token == want_token, "{jti} with {uid}: {token:?}");
                let want_user = (u < 5).then(|| common::user(&uid));
                ensure!(
                    found.as_ref().map(|f| (&f.id, &f.last_name))
                        == want_user.as_ref().map(|w| (&w.id, &w.last_name)),
                    "{jti} with {uid}: {found:?}"
                );
                Ok(())
            }));
        }
    }
    for task in tasks {
        task.await??;
    }
    Ok(())
}

/// While other lookups keep batches running, a token is revoked (by itself, then through its
/// grant); every lookup started after the revocation returned sees it, alone and with its user.
async fn a_revocation_is_seen_at_once_while_batches_run(s: Arc<dyn Store>) -> Result<()> {
    s.create_user(&common::user("u1")).await?;
    s.record_access_token(&access("busy")).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for _ in 0..8 {
        let (s, stop) = (s.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let (token, user) = s.find_access_token_and_user("busy", "u1").await?;
                ensure!(token.is_some() && user.is_some());
                n += 1;
            }
            Ok::<_, anyhow::Error>(n)
        }));
    }
    let outcome = async {
        for round in 0..20u32 {
            let jti = format!("j{round}");
            let record = access(&jti);
            if round.is_multiple_of(2) {
                s.record_access_token(&record).await?;
            } else {
                let grant = Grant {
                    id: record.grant_id.clone(),
                    client_id: "client".into(),
                    user_id: Some("u1".into()),
                    auth_server_id: "default".into(),
                    scopes: vec!["openid".into()],
                    auth_time: None,
                    amr: Vec::new(),
                    acr: None,
                    created: 1_000,
                    revoked_at: None,
                };
                s.create_grant_with_access_token(&grant, &record).await?;
            }
            let (live, _) = s.find_access_token_and_user(&jti, "u1").await?;
            ensure!(live.is_some_and(|t| t.revoked_at.is_none()), "{jti} live");
            if round.is_multiple_of(2) {
                s.revoke_access_token(&record, 2_000).await?;
            } else {
                s.revoke_grant(&record.grant_id, 2_000).await?;
            }
            // Several lookups at once, so they share batches with the load and each other.
            let (with_user, alone, again) = tokio::join!(
                s.find_access_token_and_user(&jti, "u1"),
                s.find_access_token(&jti),
                s.find_access_token_and_user(&jti, "nobody"),
            );
            ensure!(
                with_user?.0.and_then(|t| t.revoked_at) == Some(2_000),
                "{jti} with its user"
            );
            ensure!(alone?.and_then(|t| t.revoked_at) == Some(2_000), "{jti}");
            ensure!(
                again?.0.and_then(|t| t.revoked_at) == Some(2_000),
                "{jti} without a user"
            );
        }
        Ok::<_, anyhow::Error>(())
    }
    .await;
    stop.store(true, Ordering::Relaxed);
    let mut lookups = 0;
    for task in load {
        lookups += task.await??;
    }
    outcome?;
    ensure!(lookups > 20, "the load ran ({lookups} lookups)");
    Ok(())
}

/// Revocations, a deactivation and a new token written through another store (its own
/// connections, as another node or the CLI) are seen by this one's very next lookup, though
/// this one has just read the same rows.
async fn another_nodes_changes_are_seen_at_once(
    s: Arc<dyn Store>,
    other: Arc<dyn Store>,
) -> Result<()> {
    s.create_user(&common::user("u1")).await?;
    s.record_access_token(&access("a")).await?;
    s.record_access_token(&access("b")).await?;
    for _ in 0..3 {
        let (token, found) = s.find_access_token_and_user("a", "u1").await?;
        ensure!(token.is_some_and(|t| t.revoked_at.is_none()) && found.is_some());
        ensure!(
            s.find_access_token("b")
                .await?
                .is_some_and(|t| t.revoked_at.is_none())
        );
        ensure!(s.find_access_token("c").await?.is_none());
    }
    other.revoke_access_token(&access("a"), 2_000).await?;
    other.revoke_access_token(&access("b"), 2_000).await?;
    other.record_access_token(&access("c")).await?;
    let (token, _) = s.find_access_token_and_user("a", "u1").await?;
    ensure!(token.and_then(|t| t.revoked_at) == Some(2_000), "a revoked");
    ensure!(
        s.find_access_token("b").await?.and_then(|t| t.revoked_at) == Some(2_000),
        "b revoked"
    );
    ensure!(s.find_access_token("c").await?.is_some(), "c recorded");
    let mut suspended = common::user("u1");
    suspended.status = UserStatus::Suspended;
    other.update_user(&suspended).await?;
    let (_, found) = s.find_access_token_and_user("a", "u1").await?;
    ensure!(
        found.is_some_and(|u| u.status == UserStatus::Suspended),
        "u1 suspended"
    );
    // The throttle's counters too: another node's failures count here at once.
    let window = 1_700_000_100;
    s.hit_rate_limit("client:a", window).await?;
    ensure!(s.rate_limit_hits_of(&["client:a", "ip:a"], window).await? == [1, 0]);
    other.hit_rate_limit("client:a", window).await?;
    other.hit_rate_limit("ip:a", window).await?;
    ensure!(
        s.rate_limit_hits_of(&["client:a", "ip:a"], window).await? == [2, 1],
        "hits counted by another node"
    );
    // And introspection's read of both, which sees the revocation and the suspension too.
    other.hit_rate_limit("ip:a", window).await?;
    let key = AccessTokenKey {
        jti: "a",
        user_id: Some("u1"),
    };
    let read = s
        .peek_rate_limits_with_access_token(&["client:a", "ip:a"], window, Some(key))
        .await?;
    ensure!(read.hits == [2, 2], "{read:?}");
    ensure!(
        read.token
            .is_some_and(|(t, u)| t.and_then(|t| t.revoked_at) == Some(2_000)
                && u.is_some_and(|u| u.status == UserStatus::Suspended)),
        "a revoked, u1 suspended"
    );
    Ok(())
}

/// Introspection's one read (`peek_rate_limits_with_access_token`) answers as the reads it
/// replaces: every mix of buckets (none, one, two; counted or not), token (none, recorded or
/// not, with a user who exists, one who does not, or none), all at once so they share batches.
async fn counters_and_token_read_together_as_apart(s: Arc<dyn Store>) -> Result<()> {
    let window = 1_700_000_100;
    s.create_user(&common::user("u1")).await?;
    s.record_access_token(&access("j1")).await?;
    s.hit_rate_limit("fail:a", window).await?;
    s.hit_rate_limit("fail:a", window).await?;
    s.hit_rate_limit("fail-ip:a", window).await?;
    // Another window's hits are not this one's.
    s.hit_rate_limit("fail:b", window - 300).await?;
    let bucket_sets: [&[&str]; 5] = [
        &[],
        &["fail:a"],
        &["fail:a", "fail-ip:a"],
        &["fail:b", "fail-ip:a"],
        &["fail:none", "fail:a"],
    ];
    let tokens = [
        None,
        Some(("j1", Some("u1"))),
        Some(("j1", Some("nobody"))),
        Some(("j1", None)),
        Some(("j2", Some("u1"))),
        Some(("j2", None)),
    ];
    let mut tasks = Vec::new();
    for _ in 0..3 {
        for buckets in bucket_sets {
            for token in tokens {
                let s = s.clone();
                tasks.push(tokio::spawn(async move {
                    let key = token.map(|(jti, user_id)| AccessTokenKey { jti, user_id });
                    let got = s
                        .peek_rate_limits_with_access_token(buckets, window, key)
                        .await?;
                    let hits = s.rate_limit_hits_of(buckets, window).await?;
                    let want_token = match token {
                        None => None,
                        Some((jti, Some(uid))) => {
                            Some(s.find_access_token_and_user(jti, uid).await?)
                        }
                        Some((jti, None)) => Some((s.find_access_token(jti).await?, None)),
                    };
                    let want = RateLimitsWithToken {
                        hits,
                        token: want_token,
                    };
                    ensure!(got == want, "{buckets:?} {token:?}: {got:?}, not {want:?}");
                    Ok::<_, anyhow::Error>(())
                }));
            }
        }
    }
    for task in tasks {
        task.await??;
    }
    let got = s
        .peek_rate_limits_with_access_token(
            &["fail:a", "fail-ip:a"],
            window,
            Some(AccessTokenKey {
                jti: "j1",
                user_id: Some("u1"),
            }),
        )
        .await?;
    ensure!(got.hits == [2, 1], "{got:?}");
    ensure!(
        got.token
            .is_some_and(|(t, u)| t == Some(access("j1")) && u.is_some_and(|u| u.id == "u1")),
        "j1 and u1 found"
    );
    Ok(())
}

/// The code exchange's and the refresh's one read (`peek_rate_limits_with_grant`) answers as
/// the reads it replaces: every mix of buckets with a code (found, spent, its user gone, none)
/// or a refresh token (with its family whole, its grant without a user, its grant gone, its
/// user gone, none).
async fn counters_and_grant_read_together_as_apart(s: Arc<dyn Store>) -> Result<()> {
    let window = 1_700_000_100;
    s.create_user(&common::user("u1")).await?;
    s.hit_rate_limit("fail:a", window).await?;
    s.hit_rate_limit("fail:a", window).await?;
    s.hit_rate_limit("fail-ip:a", window).await?;
    s.hit_rate_limit("fail:b", window - 300).await?;
    s.create_code(&common::auth_code("c1", "g9")).await?;
    s.create_code(&AuthCode {
        user_id: "gone".into(),
        ..common::auth_code("c2", "g8")
    })
    .await?;
    s.create_code(&common::auth_code("c3", "g7")).await?;
    s.redeem_code("c3", 1_000).await?;
    let grant = |id: &str, user_id: Option<&str>| Grant {
        user_id: user_id.map(Into::into),
        ..common::grant(id)
    };
    for (g, user) in [("g1", Some("u1")), ("g2", None), ("g4", Some("gone"))] {
        s.create_grant(&grant(g, user)).await?;
    }
    for (r, g) in [("r1", "g1"), ("r2", "g2"), ("r3", "g-gone"), ("r4", "g4")] {
        s.create_refresh_token(&RefreshToken {
            token_hash: r.into(),
            grant_id: g.into(),
            client_id: "client".into(),
            scopes: vec!["openid".into()],
            created: 1_000,
            expires_at: 9_000,
            rotated_at: None,
            revoked_at: None,
        })
        .await?;
    }
    let bucket_sets: [&[&str]; 5] = [
        &[],
        &["fail:a"],
        &["fail:a", "fail-ip:a"],
        &["fail:b", "fail-ip:a"],
        &["fail:none", "fail:a", "fail-ip:a"],
    ];
    let keys = [
        GrantKey::Code("c1"),
        GrantKey::Code("c2"),
        GrantKey::Code("c3"),
        GrantKey::Code("nope"),
        GrantKey::Refresh("r1"),
        GrantKey::Refresh("r2"),
        GrantKey::Refresh("r3"),
        GrantKey::Refresh("r4"),
        GrantKey::Refresh("nope"),
    ];
    for buckets in bucket_sets {
        for key in keys {
            let got = s.peek_rate_limits_with_grant(buckets, window, key).await?;
            let found = match key {
                GrantKey::Code(hash) => GrantLookup::Code {
                    code_hash: hash.into(),
                    found: s.find_code_and_user(hash).await?,
                },
                GrantKey::Refresh(hash) => GrantLookup::Refresh {
                    token_hash: hash.into(),
                    found: s.find_refresh_family(hash).await?,
                },
            };
            let want = (s.rate_limit_hits_of(buckets, window).await?, found);
            ensure!(got == want, "{buckets:?} {key:?}: {got:?}, not {want:?}");
        }
    }
    let (hits, found) = s
        .peek_rate_limits_with_grant(&["fail:a", "fail-ip:a"], window, GrantKey::Refresh("r1"))
        .await?;
    ensure!(hits == [2, 1], "{hits:?}");
    ensure!(
        matches!(&found, GrantLookup::Refresh { found: Some(f), .. }
            if f.grant.is_some() && f.user.as_ref().is_some_and(|u| u.id == "u1")),
        "{found:?}"
    );
    let (_, found) = s
        .peek_rate_limits_with_grant(&[], window, GrantKey::Code("c1"))
        .await?;
    ensure!(
        matches!(&found, GrantLookup::Code { found: Some((c, Some(u))), .. }
            if c.code_hash == "c1" && u.id == "u1"),
        "{found:?}"
    );
    Ok(())
}

/// The token endpoint's reads (on SQLite on the calling thread) see another node's writes at
/// once: a code spent, a grant revoked with its tokens, a user suspended.
async fn another_nodes_grant_changes_are_seen_at_once(
    s: Arc<dyn Store>,
    other: Arc<dyn Store>,
) -> Result<()> {
    s.create_user(&common::user("u1")).await?;
    let grant = common::grant("g1");
    s.create_grant(&grant).await?;
    let refresh = common::refresh_token("r1", "g1");
    s.create_refresh_token(&refresh).await?;
    let code = AuthCode {
        expires_at: 9_000,
        ..common::auth_code("c1", "g2")
    };
    s.create_code(&code).await?;
    for _ in 0..3 {
        let family = s.find_refresh_family("r1").await?;
        ensure!(family.is_some_and(|f| f.grant.is_some_and(|g| g.revoked_at.is_none())));
        ensure!(
            s.find_grant("g1")
                .await?
                .is_some_and(|g| g.revoked_at.is_none())
        );
        let found = s.find_code_and_user("c1").await?;
        ensure!(found.is_some_and(|(c, u)| c.used_at.is_none() && u.is_some()));
    }
    other.revoke_grant("g1", 2_000).await?;
    other.redeem_code("c1", 2_000).await?;
    let mut suspended = common::user("u1");
    suspended.status = UserStatus::Suspended;
    other.update_user(&suspended).await?;
    let family = s
        .find_refresh_family("r1")
        .await?
        .ok_or_else(|| anyhow::anyhow!("r1 not found"))?;
    ensure!(family.token.revoked_at == Some(2_000), "r1 revoked");
    ensure!(
        family.grant.and_then(|g| g.revoked_at) == Some(2_000),
        "g1 revoked (family)"
    );
    ensure!(
        family
            .user
            .is_some_and(|u| u.status == UserStatus::Suspended),
        "u1 suspended"
    );
    ensure!(
        s.find_grant("g1").await?.and_then(|g| g.revoked_at) == Some(2_000),
        "g1 revoked"
    );
    let (spent, _) = s
        .find_code_and_user("c1")
        .await?
        .ok_or_else(|| anyhow::anyhow!("c1 not found"))?;
    ensure!(spent.used_at == Some(2_000), "c1 spent");
    Ok(())
}
