//! Several Gatehouse nodes on one database, in one process: each node its own store (pool),
//! provider and caches, as separate processes would have; and raw SQL behind their backs.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use gatehouse::config::Settings;
use gatehouse::startup::Application;
use gatehouse_core::Provider;
use gatehouse_core::crypto::SecretBox;
use gatehouse_store::test_support::{Backend, TestDatabase};

/// A fresh database and the encryption key its nodes share.
pub struct Cluster {
    pub backend: Backend,
    pub db: TestDatabase,
    pub secrets: Arc<SecretBox>,
}

impl Cluster {
    pub async fn new(backend: Backend) -> Result<Self> {
        let db = TestDatabase::new(backend)
            .await
            .with_context(|| format!("test database on {}", backend.name()))?;
        Ok(Self {
            backend,
            db,
            secrets: Arc::new(SecretBox::from_base64(&SecretBox::generate_key())?),
        })
    }

    /// A node (not bootstrapped) on the cluster's database, or on `url` (e.g. through a proxy).
    pub async fn node_at(&self, url: &str) -> Result<Arc<Provider>> {
        let store = gatehouse_store::connect(url).await?;
        Ok(Arc::new(Provider::new(store, self.secrets.clone())))
    }

    pub async fn node(&self) -> Result<Arc<Provider>> {
        self.node_at(&self.db.url).await
    }

    /// Runs raw SQL against the database, behind the nodes' backs.
    pub async fn raw(&self, sql: &str) -> Result<()> {
        match self.backend {
            Backend::Sqlite => {
                let s = gatehouse_store::connect_sqlite(&self.db.url).await?;
                sqlx::raw_sql(sql).execute(s.pool()).await?;
                s.pool().close().await;
            }
            Backend::Postgres => {
                let s = gatehouse_store::connect_postgres(&self.db.url).await?;
                sqlx::raw_sql(sql).execute(s.pool()).await?;
                s.pool().close().await;
            }
        }
        Ok(())
    }
}

/// Settings of a test node on `database_url` with its data in `data_dir`.
pub fn settings(database_url: &str, data_dir: std::path::PathBuf) -> Settings {
    crate::helpers::test_settings(database_url, data_dir)
}

/// A node's HTTP server, stopped by `stop` (dropping it aborts the server).
pub struct Served {
    pub base: String,
    pub stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub task: tokio::task::JoinHandle<Result<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `provider` (already bootstrapped) on `127.0.0.1:<random port>`.
pub async fn serve(provider: Arc<Provider>, database_url: &str) -> Result<Served> {
    let settings = settings(database_url, std::env::temp_dir());
    let app = Application::with_provider(&settings, provider).await?;
    let addr: SocketAddr = app.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    Ok(Served {
        base: format!("http://{addr}"),
        stop: Some(stop),
        task,
    })
}
