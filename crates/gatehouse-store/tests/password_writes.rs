//! A password written with its history in one transaction, on both backends: creating and
//! updating a user with a password records the hash, the history keeps the newest `keep`,
//! a missing user writes neither the row nor the history, and a user without a hash is refused.

use anyhow::{Result, ensure};
use gatehouse_core::domain::*;
use gatehouse_core::store::{Store, StoreError};
use gatehouse_store::connect;
use gatehouse_store::test_support::{Backend, TestDatabase};

fn user(id: &str, hash: &str, at: i64) -> User {
    User {
        id: id.into(),
        status: UserStatus::Active,
        login: format!("{id}@example.com"),
        email: format!("{id}@example.com"),
        first_name: "First".into(),
        last_name: "Last".into(),
        display_name: None,
        password_hash: Some(hash.into()),
        created: 1_000,
        last_updated: at,
        activated: Some(1_000),
        status_changed: None,
        last_login: None,
        password_changed: Some(at),
    }
}

async fn password_writes(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let store = connect(&db.url).await?;
    let s: &dyn Store = store.as_ref();

    s.create_user_with_password(&user("u1", "h1", 1_000), 2)
        .await?;
    ensure!(s.password_history("u1", 10).await? == ["h1"]);
    let stored = s.find_user("u1").await?;
    ensure!(stored.and_then(|u| u.password_hash).as_deref() == Some("h1"));

    for (hash, at) in [("h2", 2_000), ("h3", 3_000)] {
        s.update_user_with_password(&user("u1", hash, at), 2)
            .await?;
    }
    let found = s.find_user("u1").await?;
    ensure!(found.as_ref().and_then(|u| u.password_hash.as_deref()) == Some("h3"));
    ensure!(found.and_then(|u| u.password_changed) == Some(3_000));
    let history = s.password_history("u1", 10).await?;
    ensure!(history == ["h3", "h2"], "{history:?}");

    // No row to update: nothing written, the history of nobody stays empty.
    ensure!(matches!(
        s.update_user_with_password(&user("ghost", "hx", 4_000), 2)
            .await,
        Err(StoreError::NotFound)
    ));
    ensure!(s.password_history("ghost", 10).await?.is_empty());

    let mut none = user("u2", "unused", 1_000);
    none.password_hash = None;
    ensure!(s.create_user_with_password(&none, 2).await.is_err());
    ensure!(s.find_user("u2").await?.is_none());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_writes_sqlite() -> Result<()> {
    password_writes(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_writes_postgres() -> Result<()> {
    password_writes(Backend::Postgres).await
}
