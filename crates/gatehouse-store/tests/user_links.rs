//! One-time user links on both backends (migration 0023): a link is spent by exactly one of many
//! concurrent callers and never after it expires; a new link replaces the user's older one of
//! the same purpose (not of the other); a restored link comes back only if no newer one exists;
//! links go with their user.

use std::sync::Arc;

use anyhow::{Result, ensure};
use gatehouse_core::store::{LinkPurpose, Store, UserLinkRecord};
use gatehouse_store::connect;
use gatehouse_store::test_support::{Backend, TestDatabase};

mod common;
use common::user;

fn link(hash: &str, user_id: &str, purpose: LinkPurpose, created: i64) -> UserLinkRecord {
    UserLinkRecord {
        token_hash: hash.into(),
        user_id: user_id.into(),
        purpose,
        created,
        expires_at: created + 300,
    }
}

const RESET: LinkPurpose = LinkPurpose::PasswordReset;
const ACTIVATION: LinkPurpose = LinkPurpose::Activation;

async fn links_spend_once_and_replace(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let store: Arc<dyn Store> = connect(&db.url).await?;
    store.create_user(&user("u1")).await?;
    store.create_user(&user("u2")).await?;

    let first = link("h-first", "u1", RESET, 2_000);
    store.replace_user_link(&first).await?;
    store
        .replace_user_link(&link("h-act", "u1", ACTIVATION, 2_000))
        .await?;
    store
        .replace_user_link(&link("h-u2", "u2", RESET, 2_000))
        .await?;
    ensure!(store.find_user_link("h-first", RESET, 2_100).await? == Some(first.clone()));
    // The purpose must match.
    ensure!(
        store
            .find_user_link("h-first", ACTIVATION, 2_100)
            .await?
            .is_none()
    );
    ensure!(
        store
            .spend_user_link("h-first", ACTIVATION, 2_100)
            .await?
            .is_none()
    );

    // A newer reset link replaces it; the activation link and the other user's stay.
    let second = link("h-second", "u1", RESET, 2_010);
    store.replace_user_link(&second).await?;
    ensure!(
        store
            .find_user_link("h-first", RESET, 2_100)
            .await?
            .is_none()
    );
    ensure!(
        store
            .find_user_link("h-act", ACTIVATION, 2_100)
            .await?
            .is_some()
    );
    ensure!(store.find_user_link("h-u2", RESET, 2_100).await?.is_some());

    // Eight concurrent spends: exactly one gets it.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.spend_user_link("h-second", RESET, 2_100).await
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        if let Some(record) = t.await?? {
            winners.push(record);
        }
    }
    ensure!(winners == vec![second.clone()], "{winners:?}");
    ensure!(
        store
            .spend_user_link("h-second", RESET, 2_100)
            .await?
            .is_none()
    );

    // Restored (a refused password): usable again, unless a newer one was issued meanwhile.
    store.restore_user_link(&second).await?;
    ensure!(
        store
            .find_user_link("h-second", RESET, 2_100)
            .await?
            .is_some()
    );
    ensure!(
        store
            .spend_user_link("h-second", RESET, 2_100)
            .await?
            .is_some()
    );
    let third = link("h-third", "u1", RESET, 2_020);
    store.replace_user_link(&third).await?;
    store.restore_user_link(&second).await?;
    ensure!(
        store
            .find_user_link("h-second", RESET, 2_100)
            .await?
            .is_none()
    );

    // Expired: neither found nor spent.
    ensure!(
        store
            .find_user_link("h-third", RESET, 2_400)
            .await?
            .is_none()
    );
    ensure!(
        store
            .spend_user_link("h-third", RESET, 2_400)
            .await?
            .is_none()
    );

    // Dropped with delete_user_links, and with the user.
    store.delete_user_links("u1").await?;
    ensure!(
        store
            .find_user_link("h-act", ACTIVATION, 2_100)
            .await?
            .is_none()
    );
    store.delete_user("u2").await?;
    ensure!(store.find_user_link("h-u2", RESET, 2_100).await?.is_none());
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

both_backends!(links_spend_once_and_replace);
