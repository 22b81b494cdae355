//! The logout store on both backends (migration 0024): ending sessions queues one delivery per
//! app each ended session signed in to, in the same transaction; the kept session stays; a due
//! delivery is claimed by exactly one of concurrent claimers (two nodes); retries wait.

use std::collections::HashSet;

use anyhow::{Result, ensure};
use gatehouse_core::domain::*;
use gatehouse_core::store::{EndSessions, SessionApp, SessionScope, Store};
use gatehouse_store::connect;
use gatehouse_store::test_support::{Backend, TestDatabase};

fn session(id_hash: &str, user_id: &str) -> Session {
    Session {
        id_hash: id_hash.into(),
        user_id: user_id.into(),
        auth_time: 100,
        amr: vec!["pwd".into()],
        created: 100,
        expires_at: 10_000,
    }
}

fn touch(session_hash: &str, user_id: &str, client_id: &str) -> SessionApp {
    SessionApp {
        session_hash: session_hash.into(),
        user_id: user_id.into(),
        client_id: client_id.into(),
        auth_server_id: "default".into(),
        issuer: "https://id.example/oauth2/default".into(),
        sid: format!("sid-{session_hash}"),
        created: 100,
        expires_at: 10_000,
    }
}

async fn seeded(store: &dyn Store) -> Result<()> {
    for (s, u) in [("s1", "u1"), ("s2", "u1"), ("s3", "u1"), ("s9", "u2")] {
        store.create_session(&session(s, u)).await?;
    }
    for (s, u, c) in [
        ("s1", "u1", "app-a"),
        ("s1", "u1", "app-b"),
        ("s2", "u1", "app-a"),
        ("s3", "u1", "app-a"),
        ("s9", "u2", "app-a"),
    ] {
        store.record_session_app(&touch(s, u, c)).await?;
        // Again: idempotent.
        store.record_session_app(&touch(s, u, c)).await?;
    }
    Ok(())
}

async fn ending_sessions_queues_their_apps(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let store = connect(&db.url).await?;
    seeded(store.as_ref()).await?;
    // One session: its one app.
    let one = EndSessions {
        scope: SessionScope::One("s2"),
        oauth_tokens: false,
        api_tokens: false,
        now: 200,
    };
    ensure!(store.end_sessions(&one).await? == 1);
    ensure!(store.find_session("s2", 200).await?.is_none());
    let claimed = store.claim_logout_deliveries(200, 60, 10).await?;
    ensure!(
        claimed.len() == 1 && claimed[0].sid == "sid-s2",
        "{claimed:?}"
    );
    ensure!(claimed[0].attempts == 1 && claimed[0].user_id == "u1");
    store.finish_logout_delivery(&claimed[0].id).await?;
    // The user's others but s3: s1's two apps; s3 and the other user's session stay.
    let user = EndSessions {
        scope: SessionScope::User {
            user_id: "u1",
            except: Some("s3"),
        },
        oauth_tokens: true,
        api_tokens: true,
        now: 300,
    };
    ensure!(store.end_sessions(&user).await? == 1);
    ensure!(store.find_session("s3", 300).await?.is_some());
    ensure!(store.find_session("s9", 300).await?.is_some());
    let claimed = store.claim_logout_deliveries(300, 60, 10).await?;
    let clients: HashSet<_> = claimed.iter().map(|d| d.client_id.as_str()).collect();
    ensure!(
        claimed.len() == 2 && clients == HashSet::from(["app-a", "app-b"]),
        "{claimed:?}"
    );
    // Claimed: nobody else gets them until the lease lapses.
    ensure!(store.claim_logout_deliveries(330, 60, 10).await?.is_empty());
    // A retry is due when it says; the attempt count goes on.
    for d in &claimed {
        store.retry_logout_delivery(&d.id, 400).await?;
    }
    ensure!(store.claim_logout_deliveries(399, 60, 10).await?.is_empty());
    let again = store.claim_logout_deliveries(400, 60, 10).await?;
    ensure!(
        again.len() == 2 && again.iter().all(|d| d.attempts == 2),
        "{again:?}"
    );
    for d in &again {
        store.finish_logout_delivery(&d.id).await?;
    }
    // Everything of the user (as deactivation does): s3's app.
    store.revoke_user_credentials("u1", 500, false).await?;
    ensure!(store.find_session("s3", 500).await?.is_none());
    let claimed = store.claim_logout_deliveries(500, 60, 10).await?;
    ensure!(
        claimed.len() == 1 && claimed[0].sid == "sid-s3",
        "{claimed:?}"
    );
    // Expired sessions' records go.
    ensure!(store.purge_session_apps(10_000).await? == 1);
    Ok(())
}

async fn one_claimer_gets_each_delivery(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let store = connect(&db.url).await?;
    for i in 0..40 {
        let s = format!("s{i}");
        store.create_session(&session(&s, "u1")).await?;
        store.record_session_app(&touch(&s, "u1", "app-a")).await?;
    }
    let end = EndSessions {
        scope: SessionScope::User {
            user_id: "u1",
            except: None,
        },
        oauth_tokens: false,
        api_tokens: false,
        now: 200,
    };
    ensure!(store.end_sessions(&end).await? == 40);
    let mut claimers = Vec::new();
    for _ in 0..4 {
        let store = store.clone();
        claimers.push(tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let batch = store.claim_logout_deliveries(200, 60, 3).await?;
                if batch.is_empty() {
                    return anyhow::Ok(got);
                }
                got.extend(batch.into_iter().map(|d| d.id));
            }
        }));
    }
    let mut all = Vec::new();
    for c in claimers {
        all.extend(c.await??);
    }
    let distinct: HashSet<_> = all.iter().collect();
    ensure!(
        all.len() == 40 && distinct.len() == 40,
        "{} claims, {} distinct",
        all.len(),
        distinct.len()
    );
    Ok(())
}

macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                use gatehouse_store::test_support::Backend;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() -> anyhow::Result<()> {
                    super::$name(Backend::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() -> anyhow::Result<()> {
                    super::$name(Backend::Postgres).await
                }
            }
        )+
    };
}

both_backends!(
    ending_sessions_queues_their_apps,
    one_claimer_gets_each_delivery
);
