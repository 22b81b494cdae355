//! Faults (issue 17): key changes seen half made, a first start interrupted, a database out of
//! reach, a client stalling shutdown, and what the first start leaves on disk.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, ensure};
use gatehouse_core::domain::{DEFAULT_AUTH_SERVER_ID, KeyStatus};
use gatehouse_core::services::admin_roles::is_super_admin;
use gatehouse_core::services::api_tokens::create_api_token;
use gatehouse_core::services::bootstrap::{ADMIN_GROUP, bootstrap, create_bootstrap_admin};
use gatehouse_core::services::system_log::Actor;
use gatehouse_store::test_support::Backend;
use serde_json::Value;
use tokio::io::AsyncWriteExt as _;

use crate::helpers::http_client;
use crate::nodes::{Cluster, serve, settings};

backend_tests!(
    key_rotation_is_never_seen_half_done,
    bootstrap_admin_is_created_whole_or_not_at_all,
    database_outage_answers_503_at_once,
    a_stalled_client_does_not_hold_up_shutdown,
    a_fresh_data_directory_is_private,
);

/// Active keys of the server, as a reader on another node sees them.
async fn active_keys(p: &gatehouse_core::Provider, server: &str) -> Result<usize> {
    Ok(p.store
        .list_signing_keys(server)
        .await?
        .iter()
        .filter(|k| k.status == KeyStatus::Active)
        .count())
}

/// Rotations on one node (and on two at once) while another node reads the keys: every read
/// finds exactly one active key, and every rotation leaves exactly one.
async fn key_rotation_is_never_seen_half_done(backend: Backend) -> Result<()> {
    let cluster = Cluster::new(backend).await?;
    let (a, b) = (cluster.node().await?, cluster.node().await?);
    bootstrap(&a).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let (reads, bad) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let reader = {
        let (b, stop, reads, bad) = (b.clone(), stop.clone(), reads.clone(), bad.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let n = active_keys(&b, DEFAULT_AUTH_SERVER_ID).await?;
                reads.fetch_add(1, Ordering::Relaxed);
                if n != 1 {
                    bad.fetch_add(1, Ordering::Relaxed);
                }
            }
            anyhow::Ok(())
        })
    };
    for _ in 0..6 {
        let key = a.keys.rotate(DEFAULT_AUTH_SERVER_ID, a.now()).await?;
        ensure!(key.status == KeyStatus::Active);
        // The rotating node signs with the new key at once.
        ensure!(a.keys.active_key(DEFAULT_AUTH_SERVER_ID).await?.kid() == key.kid);
    }
    // Both nodes at once: each rotation happens, one after the other.
    for _ in 0..2 {
        let (ra, rb) = tokio::join!(
            a.keys.rotate(DEFAULT_AUTH_SERVER_ID, a.now()),
            b.keys.rotate(DEFAULT_AUTH_SERVER_ID, b.now())
        );
        ensure!(ra?.kid != rb?.kid);
    }
    stop.store(true, Ordering::Relaxed);
    reader.await??;
    let (reads, bad) = (reads.load(Ordering::Relaxed), bad.load(Ordering::Relaxed));
    ensure!(
        bad == 0,
        "{bad} of {reads} reads saw other than one active key"
    );
    ensure!(active_keys(&a, DEFAULT_AUTH_SERVER_ID).await? == 1);
    let all = a.store.list_signing_keys(DEFAULT_AUTH_SERVER_ID).await?;
    ensure!(all.len() == 11, "{} keys", all.len());
    Ok(())
}

/// A first start that fails after the administrator's user row (here: its role is refused)
/// leaves nothing behind, so the next start creates a whole administrator, with a login nobody
/// could guess.
async fn bootstrap_admin_is_created_whole_or_not_at_all(backend: Backend) -> Result<()> {
    let cluster = Cluster::new(backend).await?;
    let node = cluster.node().await?;
    bootstrap(&node).await?;
    let (fail, unfail) = match backend {
        Backend::Sqlite => (
            "CREATE TRIGGER fail_roles BEFORE INSERT ON admin_roles \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
            "DROP TRIGGER fail_roles",
        ),
        Backend::Postgres => (
            "CREATE FUNCTION fail_roles() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             RAISE EXCEPTION 'injected failure'; END $$; \
             CREATE TRIGGER fail_roles BEFORE INSERT ON admin_roles \
             FOR EACH ROW EXECUTE FUNCTION fail_roles()",
            "DROP TRIGGER fail_roles ON admin_roles",
        ),
    };
    cluster.raw(fail).await?;
    ensure!(create_bootstrap_admin(&node, None).await.is_err());
    let users = node
        .store
        .list_users(gatehouse_core::store::Page {
            after: None,
            limit: 10,
        })
        .await?;
    ensure!(users.is_empty(), "left behind: {users:?}");
    ensure!(node.store.bootstrap_admin_id().await?.is_none());
    cluster.raw(unfail).await?;

    let (login, password) = create_bootstrap_admin(&node, None)
        .await?
        .context("no administrator on the second try")?;
    let tail = login
        .strip_prefix("admin-")
        .and_then(|l| l.strip_suffix("@gatehouse.local"))
        .context(login.clone())?;
    ensure!(
        tail.len() == 10 && tail.chars().all(|c| c.is_ascii_alphanumeric()),
        "{login}"
    );
    ensure!(password.len() >= 20);
    let user = node
        .store
        .find_user_by_login(&login)
        .await?
        .context("no user")?;
    ensure!(is_super_admin(&node, &user).await?, "not a super admin");
    let groups = node.store.list_user_groups(&user.id).await?;
    ensure!(groups.iter().any(|g| g.name == ADMIN_GROUP), "{groups:?}");
    // Once only; and another installation gets another login.
    ensure!(create_bootstrap_admin(&node, None).await?.is_none());
    let other = Cluster::new(backend).await?;
    let other_node = other.node().await?;
    bootstrap(&other_node).await?;
    let (other_login, _) = create_bootstrap_admin(&other_node, Some("root@example.com"))
        .await?
        .context("no administrator")?;
    ensure!(other_login == "root@example.com");
    Ok(())
}

/// Forwards TCP connections to `target` until dropped; dropping it cuts every connection, as a
/// database going down would.
struct Proxy {
    addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn proxy(target: &str) -> Result<Proxy> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let target = target.to_owned();
    let task = tokio::spawn(async move {
        // Aborting this task drops the set, which aborts every connection's task.
        let mut connections = tokio::task::JoinSet::new();
        while let Ok((mut inbound, _)) = listener.accept().await {
            let target = target.clone();
            connections.spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    Ok(Proxy { addr, task })
}

/// During an outage (PostgreSQL gone; SQLite's write lock held by someone else past the busy
/// timeout) requests are answered 503 at once, in each interface's error shape, not 500 after
/// waiting for the pool.
async fn database_outage_answers_503_at_once(backend: Backend) -> Result<()> {
    let cluster = Cluster::new(backend).await?;
    let pg_proxy = match backend {
        Backend::Postgres => Some(proxy("127.0.0.1:5432").await?),
        Backend::Sqlite => None,
    };
    let url = match &pg_proxy {
        Some(p) => cluster
            .db
            .url
            .replace("127.0.0.1:5432", &p.addr.to_string()),
        None => cluster.db.url.clone(),
    };
    ensure!(backend == Backend::Sqlite || url != cluster.db.url, "{url}");
    let node = cluster.node_at(&url).await?;
    bootstrap(&node).await?;
    let (login, _) = create_bootstrap_admin(&node, None)
        .await?
        .context("no admin")?;
    let admin = node
        .store
        .find_user_by_login(&login)
        .await?
        .context("admin")?;
    let token = create_api_token(&node, &Actor::system(), "t", &admin)
        .await?
        .value;
    let served = serve(node.clone(), &url).await?;
    let client = http_client()?;

    // The outage.
    let _lock = match backend {
        Backend::Postgres => {
            drop(pg_proxy);
            None
        }
        Backend::Sqlite => {
            use sqlx::Connection as _;
            let path = cluster.db.url.trim_start_matches("sqlite://").to_owned();
            let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{path}")).await?;
            sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut conn).await?;
            Some(conn)
        }
    };
    // Each database call the request makes fails within the pool's 2 s acquire timeout on
    // PostgreSQL (an /api/v1 call makes two: its rate-limit counter, its token); the old code
    // took 10 s per call and answered 500. On SQLite each write waits out the 5 s busy timeout:
    // what matters there is the 503 instead of a 500.
    let bound = Duration::from_secs(match backend {
        Backend::Postgres => 6,
        Backend::Sqlite => 25,
    });

    // /api/v1 (a write, so SQLite's lock matters too): Okta's error shape.
    let started = Instant::now();
    let res = client
        .post(format!("{}/api/v1/groups", served.base))
        .header("Authorization", format!("SSWS {token}"))
        .json(&serde_json::json!({"profile": {"name": "During the outage"}}))
        .send()
        .await?;
    let (status, elapsed) = (res.status(), started.elapsed());
    let body: Value = res.json().await.unwrap_or_default();
    ensure!(status == 503, "/api/v1 answered {status}: {body}");
    ensure!(
        body["errorCode"].is_string() && body["errorSummary"].is_string(),
        "{body}"
    );
    ensure!(elapsed < bound, "/api/v1 took {elapsed:?}");
    if backend == Backend::Sqlite {
        return Ok(());
    }

    // OAuth: temporarily_unavailable.
    let started = Instant::now();
    let res = client
        .post(format!("{}/oauth2/default/v1/token", served.base))
        .basic_auth("0oa_not_cached", Some("secret"))
        .form(&[("grant_type", "client_credentials"), ("scope", "x")])
        .send()
        .await?;
    let (status, elapsed) = (res.status(), started.elapsed());
    let body: Value = res.json().await.unwrap_or_default();
    ensure!(status == 503, "token answered {status}: {body}");
    ensure!(body["error"] == "temporarily_unavailable", "{body}");
    ensure!(elapsed < bound, "token took {elapsed:?}");

    // A browser route: a page.
    let res = client
        .get(format!(
            "{}/oauth2/default/v1/authorize?client_id=0oa_other&response_type=code&scope=openid\
             &redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&state=s",
            served.base
        ))
        .send()
        .await?;
    let status = res.status();
    let is_html = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    ensure!(status == 503 && is_html, "authorize answered {status}");
    Ok(())
}

/// SIGTERM with a client that sent half its headers: the server still stops, within the drain
/// deadline.
async fn a_stalled_client_does_not_hold_up_shutdown(backend: Backend) -> Result<()> {
    let cluster = Cluster::new(backend).await?;
    let node = cluster.node().await?;
    bootstrap(&node).await?;
    let mut served = serve(node, &cluster.db.url).await?;
    let addr = served.base.trim_start_matches("http://").to_owned();
    let mut stalled = tokio::net::TcpStream::connect(&addr).await?;
    stalled
        .write_all(b"GET /.well-known/openid-configuration HTTP/1.1\r\nHost: x\r\n")
        .await?;
    // A request in flight on another connection finishes normally.
    let reply = http_client()?
        .get(format!("{}/.well-known/openid-configuration", served.base))
        .send()
        .await?;
    ensure!(reply.status() == 200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    if let Some(stop) = served.stop.take() {
        let _ = stop.send(());
    }
    let bound = gatehouse::startup::DRAIN_DEADLINE + Duration::from_secs(5);
    let outcome = tokio::time::timeout(bound, &mut served.task).await;
    ensure!(outcome.is_ok(), "still serving {bound:?} after the stop");
    drop(stalled);
    Ok(())
}

/// The first start on a fresh data directory: the directory is 0700, the key file and the
/// SQLite database with its WAL files 0600.
async fn a_fresh_data_directory_is_private(backend: Backend) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let cluster = Cluster::new(backend).await?;
    let root =
        std::env::temp_dir().join(format!("gh_data_{}", gatehouse_core::crypto::okta_id("")));
    let data_dir = root.join("data");
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}", data_dir.join("gatehouse.db").display()),
        Backend::Postgres => cluster.db.url.clone(),
    };
    let outcome = async {
        let provider = gatehouse::startup::open_provider(&settings(&url, data_dir.clone())).await?;
        provider.store.set_meta("probe", "1").await?;
        let mode = |p: std::path::PathBuf| -> Result<u32> {
            Ok(std::fs::metadata(&p)
                .with_context(|| p.display().to_string())?
                .permissions()
                .mode()
                & 0o777)
        };
        ensure!(mode(data_dir.clone())? == 0o700, "data directory");
        ensure!(mode(data_dir.join("encryption.key"))? == 0o600, "key file");
        if backend == Backend::Sqlite {
            for name in ["gatehouse.db", "gatehouse.db-wal", "gatehouse.db-shm"] {
                let m = mode(data_dir.join(name))?;
                ensure!(m == 0o600, "{name}: {m:o}");
            }
        }
        anyhow::Ok(())
    }
    .await;
    let _ = std::fs::remove_dir_all(&root);
    outcome
}
