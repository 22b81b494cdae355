//! The token endpoint's store calls, on both backends: claims spent by concurrent
//! `record_issued` calls (which the group commit writes in shared transactions), the refresh's
//! one read, a rotation's claim that is also its check of the grant, and the
//! client-authentication throttle's one read of both its buckets (on SQLite on
//! the calling thread, else batched with concurrent requests').

use std::sync::Arc;

use anyhow::{Result, ensure};
use gatehouse_core::domain::*;
use gatehouse_core::store::{
    Claim, GrantKey, GrantLookup, IssuedTokens, RefreshFamily, Store, is_lost_claim,
};
use tokio::sync::Barrier;

#[macro_use]
mod common;

use common::{Ctx, auth_code as code, run};

both_backends!(
    concurrent_exchanges_of_one_code_have_one_winner_and_the_rest_commit,
    refresh_family_is_read_in_one_piece,
    throttle_buckets_are_read_together,
    a_rotation_claim_of_a_revoked_token_or_grant_is_lost,
    a_final_rotation_claim_racing_a_revocation_leaves_nothing_live,
    static_refresh_expiries_of_one_token_in_one_batch,
);

fn user(id: &str) -> User {
    User {
        created: 777,
        ..common::user(id)
    }
}

fn grant(id: &str, user_id: Option<&str>) -> Grant {
    Grant {
        id: id.into(),
        client_id: "client".into(),
        user_id: user_id.map(str::to_owned),
        auth_server_id: "default".into(),
        scopes: vec!["openid".into(), "offline_access".into()],
        auth_time: Some(1_000),
        amr: vec!["pwd".into()],
        acr: None,
        created: 1_500,
        revoked_at: None,
    }
}

fn refresh(hash: &str, grant_id: &str) -> RefreshToken {
    RefreshToken {
        token_hash: hash.into(),
        grant_id: grant_id.into(),
        client_id: "client".into(),
        scopes: vec!["openid".into(), "offline_access".into()],
        created: 2_000,
        expires_at: 9_000,
        rotated_at: None,
        revoked_at: None,
    }
}

fn access(jti: &str, grant_id: &str) -> AccessTokenRecord {
    AccessTokenRecord {
        jti: jti.into(),
        grant_id: grant_id.into(),
        client_id: "client".into(),
        expires_at: 9_000,
        revoked_at: None,
    }
}

/// What a code exchange records: the code's claim, its grant and an access token.
async fn exchange(s: &dyn Store, code_hash: &str, caller: usize) -> Result<bool> {
    let grant = grant(&format!("g-{code_hash}-{caller}"), Some("u1"));
    let token = access(&format!("at-{code_hash}-{caller}"), &grant.id);
    let recorded = s
        .record_issued(
            &IssuedTokens {
                grant: Some(&grant),
                access: Some(&token),
                refresh: None,
                refresh_expiry: None,
                claim: Some(Claim::Code {
                    code_hash,
                    now: 5_000,
                }),
            },
            Vec::new(),
        )
        .await;
    match recorded {
        Ok(()) => Ok(true),
        Err(e) if is_lost_claim(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

async fn concurrent_exchanges_of_one_code_have_one_winner_and_the_rest_commit(
    ctx: &Ctx,
) -> Result<()> {
    // Each round: 8 callers race for one code while 8 others each spend a code of their own,
    // so batches mix won, lost and unrelated claims.
    const RACERS: usize = 8;
    const OTHERS: usize = 8;
    let s = &ctx.store;
    s.create_user(&user("u1")).await?;
    for round in 0..5 {
        let contested = format!("c{round}");
        s.create_code(&code(&contested, "g")).await?;
        for i in 0..OTHERS {
            s.create_code(&code(&format!("c{round}-own{i}"), "g"))
                .await?;
        }
        let barrier = Arc::new(Barrier::new(RACERS + OTHERS));
        let mut racers = Vec::new();
        let mut others = Vec::new();
        for i in 0..RACERS + OTHERS {
            let (store, barrier) = (s.clone(), barrier.clone());
            let hash = match i < RACERS {
                true => contested.clone(),
                false => format!("c{round}-own{}", i - RACERS),
            };
            let task = tokio::spawn({
                let hash = hash.clone();
                async move {
                    barrier.wait().await;
                    exchange(store.as_ref(), &hash, i).await
                }
            });
            match i < RACERS {
                true => racers.push((i, task)),
                false => others.push((i, hash, task)),
            }
        }
        let mut winners = Vec::new();
        for (i, task) in racers {
            if task.await?? {
                winners.push(i);
            }
        }
        ensure!(winners.len() == 1, "round {round}: winners {winners:?}");
        // Only the winner's records exist.
        for i in 0..RACERS {
            let stored = s.find_access_token(&format!("at-{contested}-{i}")).await?;
            ensure!(
                stored.is_some() == winners.contains(&i),
                "round {round}, caller {i}"
            );
        }
        for (i, hash, task) in others {
            ensure!(task.await??, "round {round}: {hash} lost its own code");
            ensure!(
                s.find_access_token(&format!("at-{hash}-{i}"))
                    .await?
                    .is_some(),
                "round {round}: {hash}'s token not recorded"
            );
            ensure!(s.find_code(&hash).await?.and_then(|c| c.used_at) == Some(5_000));
        }
    }
    Ok(())
}

async fn refresh_family_is_read_in_one_piece(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    let alice = user("u1");
    s.create_user(&alice).await?;
    let g1 = grant("g1", Some("u1"));
    let g2 = grant("g2", Some("u1"));
    for g in [&g1, &g2] {
        s.create_grant(g).await?;
    }
    let (r1, r2) = (refresh("r1", "g1"), refresh("r2", "g2"));
    for r in [&r1, &r2] {
        s.create_refresh_token(r).await?;
    }
    ctx.raw("INSERT INTO device_grants (grant_id, created) VALUES ('g2', 1)")
        .await?;
    // Every table has a `created`, two a `client_id` and `scopes`: each comes back as its own.
    let family = |token: &RefreshToken, grant: &Grant, user: Option<&User>, device_grant| {
        Some(RefreshFamily {
            token: token.clone(),
            grant: Some(grant.clone()),
            user: user.cloned(),
            device_grant,
        })
    };
    assert_eq!(
        s.find_refresh_family("r1").await?,
        family(&r1, &g1, Some(&alice), false)
    );
    assert_eq!(
        s.find_refresh_family("r2").await?,
        family(&r2, &g2, Some(&alice), true)
    );
    assert_eq!(s.find_refresh_family("nope").await?, None);
    // The token endpoint's read of the family with the throttle's counters reads the same,
    // the device flag included.
    for hash in ["r1", "r2", "nope"] {
        let (_, found) = s
            .peek_rate_limits_with_grant(&["b"], 0, GrantKey::Refresh(hash))
            .await?;
        let want = GrantLookup::Refresh {
            token_hash: hash.into(),
            found: s.find_refresh_family(hash).await?,
        };
        assert_eq!(found, want);
    }
    // A grant without a user, and a token whose grant is gone, are read piece by piece.
    let service = grant("g3", None);
    s.create_grant(&service).await?;
    let r3 = refresh("r3", "g3");
    s.create_refresh_token(&r3).await?;
    assert_eq!(
        s.find_refresh_family("r3").await?,
        family(&r3, &service, None, false)
    );
    let orphan = refresh("r4", "g-gone");
    s.create_refresh_token(&orphan).await?;
    assert_eq!(
        s.find_refresh_family("r4").await?,
        Some(RefreshFamily {
            token: orphan,
            grant: None,
            user: None,
            device_grant: false,
        })
    );
    Ok(())
}

/// What a rotation records: the old token's claim and its successor. True when it won.
async fn rotate(s: &dyn Store, old: &str, new: &RefreshToken) -> Result<bool> {
    let recorded = s
        .record_issued(
            &IssuedTokens {
                grant: None,
                access: None,
                refresh: Some(new),
                refresh_expiry: None,
                claim: Some(Claim::Rotation {
                    token_hash: old,
                    now: 3_000,
                }),
            },
            Vec::new(),
        )
        .await;
    match recorded {
        Ok(()) => Ok(true),
        Err(e) if is_lost_claim(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The token endpoint checks nothing after a won rotation: the claim is the check that the
/// grant still stands, so a revoked token or grant loses it and records no successor.
async fn a_rotation_claim_of_a_revoked_token_or_grant_is_lost(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    s.create_user(&user("u1")).await?;
    for g in ["g-live", "g-revoked", "g-token-revoked"] {
        s.create_grant(&grant(g, Some("u1"))).await?;
        s.create_refresh_token(&refresh(&format!("r-{g}"), g))
            .await?;
    }
    s.revoke_grant("g-revoked", 2_500).await?;
    s.revoke_refresh_token("r-g-token-revoked", 2_500).await?;
    // A grant revoked behind the token's back (its tokens untouched) counts as well.
    ctx.raw(
        "INSERT INTO grants (id, client_id, user_id, auth_server_id, scopes, auth_time, amr, \
             created, revoked_at) VALUES ('g-bare', 'client', 'u1', 'default', '[]', NULL, '[]', \
             1, 2)",
    )
    .await?;
    s.create_refresh_token(&refresh("r-g-bare", "g-bare"))
        .await?;
    for (old, wins) in [
        ("r-g-revoked", false),
        ("r-g-token-revoked", false),
        ("r-g-bare", false),
        ("r-g-live", true),
        // Spent now.
        ("r-g-live", false),
    ] {
        let new = refresh(&format!("next-{old}-{wins}"), "g-live");
        ensure!(rotate(s.as_ref(), old, &new).await? == wins, "{old}");
        let successor = s.find_refresh_token(&new.token_hash).await?;
        ensure!(successor.is_some() == wins, "{old}: successor recorded");
    }
    // Lost claims left their tokens as they were.
    for old in ["r-g-revoked", "r-g-token-revoked", "r-g-bare"] {
        let token = s.find_refresh_token(old).await?;
        ensure!(token.is_some_and(|t| t.rotated_at.is_none()), "{old}");
    }
    Ok(())
}

async fn throttle_buckets_are_read_together(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    let window = 1_700_000_100;
    for _ in 0..3 {
        s.hit_rate_limit("client:a", window).await?;
    }
    s.hit_rate_limit("ip:a", window).await?;
    s.hit_rate_limit("ip:a", window + 300).await?;
    assert_eq!(
        s.rate_limit_hits_of(&["client:a", "ip:a", "never"], window)
            .await?,
        [3, 1, 0]
    );
    // In the order asked, whatever order the rows come in.
    assert_eq!(
        s.rate_limit_hits_of(&["ip:a", "client:a"], window).await?,
        [1, 3]
    );
    assert_eq!(s.rate_limit_hits_of(&[], window).await?, Vec::<u64>::new());
    // Concurrent peeks share queries (batched per node); each gets its own buckets' counts,
    // and a hit counted before a peek starts is seen by it.
    let mut peeks = Vec::new();
    for i in 0..40u64 {
        let store = ctx.store.clone();
        peeks.push(tokio::spawn(async move {
            let (mine, w) = (format!("client:p{i}"), window + 300 * (i % 2) as i64);
            for _ in 0..i % 3 {
                store.hit_rate_limit(&mine, w).await?;
            }
            let got = store.rate_limit_hits_of(&[&mine, "ip:a"], w).await?;
            anyhow::Ok((got, [i % 3, 1]))
        }));
    }
    for peek in peeks {
        let (got, want) = peek.await??;
        ensure!(got == want, "{got:?} != {want:?}");
    }
    Ok(())
}

/// Where the store says a won rotation claim is final (SQLite), the token endpoint skips its
/// re-read of the grant: a revocation racing the claim must then either make the claim lose
/// or revoke what the claim recorded (the successor and the access token), never leave them
/// live. PostgreSQL does not promise it (the endpoint re-reads there).
async fn a_final_rotation_claim_racing_a_revocation_leaves_nothing_live(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    if !s.rotation_claim_is_final() {
        ensure!(
            ctx.backend == gatehouse_store::test_support::Backend::Postgres,
            "only PostgreSQL needs the re-read"
        );
        return Ok(());
    }
    s.create_user(&user("u1")).await?;
    let (mut won, mut lost) = (0, 0);
    for round in 0..40 {
        let g = format!("g-race-{round}");
        let old = format!("r-race-{round}");
        s.create_grant(&grant(&g, Some("u1"))).await?;
        s.create_refresh_token(&refresh(&old, &g)).await?;
        // Unrelated rotations in the same batches, so the claim is not always alone.
        let mut others = Vec::new();
        for i in 0..4 {
            let (og, oold) = (format!("{g}-other{i}"), format!("{old}-other{i}"));
            s.create_grant(&grant(&og, Some("u1"))).await?;
            s.create_refresh_token(&refresh(&oold, &og)).await?;
            others.push((oold, og));
        }
        let barrier = Arc::new(Barrier::new(2 + others.len()));
        let next = refresh(&format!("next-{old}"), &g);
        let jti = format!("at-{old}");
        let rotation = tokio::spawn({
            let (store, barrier, old, next, jti) = (
                s.clone(),
                barrier.clone(),
                old.clone(),
                next.clone(),
                jti.clone(),
            );
            async move {
                barrier.wait().await;
                // Every third round the revocation goes first, every third the claim; the
                // rest are a true race.
                if round % 3 == 1 {
                    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
                }
                let at = access(&jti, &next.grant_id);
                let recorded = store
                    .record_issued(
                        &IssuedTokens {
                            grant: None,
                            access: Some(&at),
                            refresh: Some(&next),
                            refresh_expiry: None,
                            claim: Some(Claim::Rotation {
                                token_hash: &old,
                                now: 3_000,
                            }),
                        },
                        Vec::new(),
                    )
                    .await;
                match recorded {
                    Ok(()) => Ok(true),
                    Err(e) if is_lost_claim(&e) => Ok(false),
                    Err(e) => Err(anyhow::Error::from(e)),
                }
            }
        });
        let revocation = tokio::spawn({
            let (store, barrier, g) = (s.clone(), barrier.clone(), g.clone());
            async move {
                barrier.wait().await;
                if round % 3 == 2 {
                    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
                }
                store.revoke_grant(&g, 2_900).await
            }
        });
        let other_tasks: Vec<_> = others
            .into_iter()
            .map(|(oold, og)| {
                let (store, barrier) = (s.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    rotate(
                        store.as_ref(),
                        &oold,
                        &refresh(&format!("next-{oold}"), &og),
                    )
                    .await
                })
            })
            .collect();
        let claim_won = rotation.await??;
        revocation.await??;
        for t in other_tasks {
            ensure!(t.await??, "round {round}: an unrelated rotation lost");
        }
        let successor = s.find_refresh_token(&next.token_hash).await?;
        let record = s.find_access_token(&jti).await?;
        if claim_won {
            won += 1;
            ensure!(
                successor.is_some_and(|t| t.revoked_at.is_some()),
                "round {round}: the successor of a won claim outlived the revocation"
            );
            ensure!(
                record.is_some_and(|t| t.revoked_at.is_some()),
                "round {round}: the access token of a won claim outlived the revocation"
            );
        } else {
            lost += 1;
            ensure!(
                successor.is_none() && record.is_none(),
                "round {round}: a lost claim recorded tokens"
            );
        }
    }
    // Both outcomes were checked (the ordered rounds make sure of it).
    ensure!(won > 0 && lost > 0, "won {won}, lost {lost}");
    Ok(())
}

/// A static refresh token refreshed by several requests of one batch: its expiry is the last
/// request's, and a token that is gone fails only its own request.
async fn static_refresh_expiries_of_one_token_in_one_batch(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    s.create_user(&user("u1")).await?;
    s.create_grant(&grant("g-static", Some("u1"))).await?;
    s.create_refresh_token(&refresh("r-static", "g-static"))
        .await?;
    let barrier = Arc::new(Barrier::new(9));
    let mut tasks = Vec::new();
    for i in 0..9_i64 {
        let (store, barrier) = (s.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            let hash = if i == 8 { "r-gone" } else { "r-static" };
            let at = access(&format!("at-static-{i}"), "g-static");
            barrier.wait().await;
            store
                .record_issued(
                    &IssuedTokens {
                        grant: None,
                        access: Some(&at),
                        refresh: None,
                        refresh_expiry: Some((hash, 10_000 + i)),
                        claim: None,
                    },
                    Vec::new(),
                )
                .await
        }));
    }
    for (i, task) in tasks.into_iter().enumerate() {
        let outcome = task.await?;
        match i {
            8 => ensure!(
                matches!(outcome, Err(gatehouse_core::store::StoreError::NotFound)),
                "a gone token's extension: {outcome:?}"
            ),
            _ => ensure!(outcome.is_ok(), "request {i}: {outcome:?}"),
        }
    }
    let token = s.find_refresh_token("r-static").await?;
    // Each request's expiry was written (alone or last in its batch): the latest one stands
    // only if requests ran in order, so any of them, but always one of theirs.
    ensure!(
        token.is_some_and(|t| (10_000..10_008).contains(&t.expires_at)),
        "expiry not extended"
    );
    Ok(())
}
