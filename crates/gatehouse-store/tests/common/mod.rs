//! Shared by the store's integration tests that are not the contract suite.
// Each test file is its own crate and uses only some of this.
#![allow(dead_code, unused_macros)]

use std::sync::Arc;

use anyhow::Result;
use gatehouse_core::store::Store;
use gatehouse_store::test_support::{Backend, TestDatabase};
use gatehouse_store::{connect, connect_postgres, connect_sqlite};

/// A test's fresh database: its store, and its URL for raw SQL behind the store's back.
pub struct Ctx {
    pub backend: Backend,
    pub url: String,
    pub store: Arc<dyn Store>,
}

impl Ctx {
    /// Runs raw SQL (one or more statements) against the test database, behind the store's back.
    pub async fn raw(&self, sql: &str) -> Result<()> {
        match self.backend {
            Backend::Sqlite => {
                let s = connect_sqlite(&self.url).await?;
                sqlx::raw_sql(sql).execute(s.pool()).await?;
                s.pool().close().await;
            }
            Backend::Postgres => {
                let s = connect_postgres(&self.url).await?;
                sqlx::raw_sql(sql).execute(s.pool()).await?;
                s.pool().close().await;
            }
        }
        Ok(())
    }
}

/// Runs one test on a fresh database of `backend`, naming the backend in its error.
pub async fn run<F>(backend: Backend, test: F) -> Result<()>
where
    F: AsyncFnOnce(&Ctx) -> Result<()>,
{
    let db = TestDatabase::new(backend).await?;
    let store = connect(&db.url).await?;
    let ctx = Ctx {
        backend,
        url: db.url.clone(),
        store,
    };
    let outcome = test(&ctx).await;
    drop(ctx);
    drop(db);
    outcome.map_err(|e| e.context(format!("backend {}", backend.name())))
}

/// One `#[tokio::test]` per backend for each named test, each through the test file's own
/// `run(backend, test)`.
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() -> anyhow::Result<()> {
                    super::run(gatehouse_store::test_support::Backend::Sqlite, super::$name).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() -> anyhow::Result<()> {
                    super::run(gatehouse_store::test_support::Backend::Postgres, super::$name).await
                }
            )+
        }
    };
}

/// An active user `id`, signing in as `{id}@example.com`, with no password.
pub fn user(id: &str) -> gatehouse_core::domain::User {
    gatehouse_core::domain::User {
        id: id.into(),
        status: gatehouse_core::domain::UserStatus::Active,
        login: format!("{id}@example.com"),
        email: format!("{id}@example.com"),
        first_name: "First".into(),
        last_name: "Last".into(),
        display_name: None,
        password_hash: None,
        created: 1_000,
        last_updated: 1_000,
        activated: None,
        status_changed: None,
        last_login: None,
        password_changed: None,
    }
}

/// An unused authorization code for user `u1` of client `client` under `grant_id`.
pub fn auth_code(hash: &str, grant_id: &str) -> gatehouse_core::domain::AuthCode {
    gatehouse_core::domain::AuthCode {
        code_hash: hash.into(),
        grant_id: grant_id.into(),
        client_id: "client".into(),
        user_id: "u1".into(),
        auth_server_id: "default".into(),
        redirect_uri: "https://app.example/cb".into(),
        scopes: vec!["openid".into()],
        nonce: None,
        code_challenge: None,
        auth_time: 1_000,
        amr: vec!["pwd".into()],
        acr: None,
        session_id_hash: None,
        created: 1_000,
        expires_at: 10_000,
        used_at: None,
    }
}

/// A live grant `id` of user `u1` for client `client` under the `default` server.
pub fn grant(id: &str) -> gatehouse_core::domain::Grant {
    gatehouse_core::domain::Grant {
        id: id.into(),
        client_id: "client".into(),
        user_id: Some("u1".into()),
        auth_server_id: "default".into(),
        scopes: vec!["openid".into()],
        auth_time: Some(1_000),
        amr: vec!["pwd".into()],
        acr: None,
        created: 1_000,
        revoked_at: None,
    }
}

/// A live refresh token of client `client` under `grant_id`.
pub fn refresh_token(hash: &str, grant_id: &str) -> gatehouse_core::domain::RefreshToken {
    gatehouse_core::domain::RefreshToken {
        token_hash: hash.into(),
        grant_id: grant_id.into(),
        client_id: "client".into(),
        scopes: vec!["openid".into()],
        created: 1_000,
        expires_at: 9_000,
        rotated_at: None,
        revoked_at: None,
    }
}

/// An access token record `jti` of client `client` under `grant_id`, live until `expires_at`.
pub fn access_token(
    jti: &str,
    grant_id: &str,
    expires_at: gatehouse_core::domain::Timestamp,
) -> gatehouse_core::domain::AccessTokenRecord {
    gatehouse_core::domain::AccessTokenRecord {
        jti: jti.into(),
        grant_id: grant_id.into(),
        client_id: "client".into(),
        expires_at,
        revoked_at: None,
    }
}
