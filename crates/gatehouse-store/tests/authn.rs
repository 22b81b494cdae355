//! The Authentication API's store on both backends (migration 0018): a `sessionToken` is spent
//! by exactly one of many concurrent callers and never after it expires; a password migration
//! completes once, never overwrites a password set meanwhile, and goes with its user.

use std::sync::Arc;

use anyhow::{Result, ensure};
use gatehouse_core::store::{ImportRecord, SessionTokenRecord, Store};
use gatehouse_store::connect;
use gatehouse_store::test_support::{Backend, TestDatabase};

mod common;
use common::user;

fn token(hash: &str, user_id: &str, expires_at: i64) -> SessionTokenRecord {
    SessionTokenRecord {
        token_hash: hash.into(),
        user_id: user_id.into(),
        auth_time: 2_000,
        amr: vec!["pwd".into(), "otp".into(), "mfa".into()],
        created: 2_000,
        expires_at,
    }
}

async fn session_tokens_spend_once(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let store: Arc<dyn Store> = connect(&db.url).await?;
    store.create_user(&user("u1")).await?;
    store
        .insert_session_token(&token("t-live", "u1", 2_300))
        .await?;
    store
        .insert_session_token(&token("t-old", "u1", 2_100))
        .await?;

    // Expired: not spendable.
    ensure!(store.spend_session_token("t-old", 2_200).await?.is_none());
    // Eight concurrent spends of one token: exactly one gets it.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.spend_session_token("t-live", 2_200).await
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        if let Some(record) = t.await?? {
            winners.push(record);
        }
    }
    ensure!(winners.len() == 1, "{winners:?}");
    ensure!(winners[0] == token("t-live", "u1", 2_300), "{winners:?}");
    ensure!(store.spend_session_token("t-live", 2_200).await?.is_none());
    ensure!(store.spend_session_token("unknown", 2_200).await?.is_none());

    // A token goes with its user.
    store
        .insert_session_token(&token("t-u1", "u1", 9_000))
        .await?;
    store.delete_user("u1").await?;
    ensure!(store.spend_session_token("t-u1", 2_200).await?.is_none());
    Ok(())
}

async fn password_migration_completes_once(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let store: Arc<dyn Store> = connect(&db.url).await?;
    store.create_user(&user("u1")).await?;
    store.create_user(&user("u2")).await?;
    ensure!(store.password_migration_source("u1").await?.is_none());
    store
        .mark_password_migration("u1", "https://old.example.com", 2_000)
        .await?;
    // Marking again replaces the source; there is still one mark.
    store
        .mark_password_migration("u1", "https://acme.example.com", 2_001)
        .await?;
    ensure!(
        store.password_migration_source("u1").await?.as_deref() == Some("https://acme.example.com")
    );

    // Two sign-ins racing: one stores its hash, the other changes nothing.
    let (a, b) = tokio::join!(
        store.complete_password_migration("u1", "$argon2id$first", 3_000),
        store.complete_password_migration("u1", "$argon2id$second", 3_000),
    );
    let (a, b) = (a?, b?);
    ensure!(a ^ b, "exactly one completes: {a} {b}");
    let stored = store
        .find_user("u1")
        .await?
        .map(|u| (u.password_hash, u.password_changed));
    let hash = stored.clone().and_then(|s| s.0);
    ensure!(
        matches!(
            hash.as_deref(),
            Some("$argon2id$first" | "$argon2id$second")
        ),
        "{stored:?}"
    );
    ensure!(stored.is_some_and(|s| s.1 == Some(3_000)));
    ensure!(store.password_migration_source("u1").await?.is_none());

    // A user who got a password meanwhile (an administrator set one) keeps it.
    let mut u2 = user("u2");
    store
        .mark_password_migration("u2", "https://acme.example.com", 2_000)
        .await?;
    u2.password_hash = Some("$argon2id$set-by-admin".into());
    store.update_user(&u2).await?;
    ensure!(
        !store
            .complete_password_migration("u2", "$argon2id$source", 3_000)
            .await?
    );
    let kept = store.find_user("u2").await?.and_then(|u| u.password_hash);
    ensure!(
        kept.as_deref() == Some("$argon2id$set-by-admin"),
        "{kept:?}"
    );
    ensure!(store.password_migration_source("u2").await?.is_none());

    // The mark goes with its user.
    store.create_user(&user("u3")).await?;
    store
        .mark_password_migration("u3", "https://acme.example.com", 2_000)
        .await?;
    store.delete_user("u3").await?;
    ensure!(store.password_migration_source("u3").await?.is_none());
    Ok(())
}

fn record(source: &str, kind: &str, id: &str, target: &str, seen: i64) -> ImportRecord {
    ImportRecord {
        source_url: source.into(),
        kind: kind.into(),
        source_id: id.into(),
        target_id: target.into(),
        last_seen: seen,
    }
}

/// What an import carried (migration 0028): one row per source, kind and source id; a rerun
/// refreshes it; lists are per source and kind; a forgotten row is gone.
async fn import_records_per_source_and_kind(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let store: Arc<dyn Store> = connect(&db.url).await?;
    let acme = "https://acme.okta.com";
    store
        .record_import(&record(acme, "group", "00g1", "00gA", 1_000))
        .await?;
    store
        .record_import(&record(acme, "group", "00g2", "00gB", 1_000))
        .await?;
    store
        .record_import(&record(acme, "app", "0oa1", "0oaA", 1_000))
        .await?;
    store
        .record_import(&record(
            "https://other.okta.com",
            "group",
            "00g1",
            "00gC",
            1_000,
        ))
        .await?;
    // A rerun refreshes the row (a group matched again by name may have a new id here).
    store
        .record_import(&record(acme, "group", "00g1", "00gD", 2_000))
        .await?;
    let groups = store.list_imports(acme, "group").await?;
    ensure!(
        groups
            == vec![
                record(acme, "group", "00g1", "00gD", 2_000),
                record(acme, "group", "00g2", "00gB", 1_000),
            ],
        "{groups:?}"
    );
    store.forget_import(acme, "group", "00g2").await?;
    let groups = store.list_imports(acme, "group").await?;
    ensure!(
        groups.len() == 1 && groups[0].source_id == "00g1",
        "{groups:?}"
    );
    ensure!(store.list_imports(acme, "app").await?.len() == 1);
    ensure!(
        store
            .list_imports("https://other.okta.com", "group")
            .await?
            .len()
            == 1
    );
    Ok(())
}

macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() -> anyhow::Result<()> {
                    super::$name(gatehouse_store::test_support::Backend::Sqlite).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() -> anyhow::Result<()> {
                    super::$name(gatehouse_store::test_support::Backend::Postgres).await
                }
            )+
        }
    };
}

both_backends!(
    session_tokens_spend_once,
    password_migration_completes_once,
    import_records_per_source_and_kind,
);
