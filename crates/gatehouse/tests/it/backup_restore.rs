//! `gatehouse backup` / `gatehouse restore`, through the CLI: a SQLite backup restored into a
//! fresh data directory serves the old client secret (client_credentials, code exchange) and
//! the old password; the backup and the restored key file are 0600; restore refuses to replace
//! a database without `--force`, and without a confirmation. On PostgreSQL `backup` saves the
//! key (no dump has it) and names the pg_dump command.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, ensure};
use clap::Parser as _;
use gatehouse::cli::Cli;
use gatehouse::config::Settings;
use gatehouse::startup::{Application, open_provider};
use gatehouse_core::Provider;
use gatehouse_core::domain::{ApplicationType, TokenEndpointAuthMethod};
use gatehouse_core::services::apps::{NewOidcApp, assign_group_to_app, create_oidc_app};
use gatehouse_core::services::directory::find_group_by_id_or_name;
use gatehouse_core::services::system_log::Actor;
use gatehouse_core::services::users::{NewUser, create_user};
use gatehouse_store::test_support::{Backend, TestDatabase};
use reqwest::StatusCode;

use crate::helpers::{Authz, Browser, REDIRECT_URI, Server, http_client};

const LOGIN: &str = "backup.user@example.com";
const OLD_PASSWORD: &str = "an old password that survives a restore";

/// A fresh directory under the system's temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Result<Self> {
        let dir = std::env::temp_dir().join(format!(
            "gh_{tag}_{}",
            gatehouse_core::crypto::random_token(8)
        ));
        std::fs::create_dir_all(&dir)?;
        Ok(Self(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn gatehouse(args: &[&str]) -> Result<()> {
    let cli = Cli::try_parse_from(std::iter::once("gatehouse").chain(args.iter().copied()))?;
    gatehouse::commands::run(cli).await
}

fn settings(data_dir: &Path) -> Result<Settings> {
    let cli = Cli::try_parse_from(["gatehouse", "--data-dir", &data_dir.to_string_lossy()])?;
    Settings::load(&cli, None)
}

#[cfg(unix)]
fn mode(path: &Path) -> Result<u32> {
    use std::os::unix::fs::PermissionsExt as _;
    Ok(std::fs::metadata(path)?.permissions().mode() & 0o777)
}

/// A user with a password, and a web app allowed client_credentials, assigned to Everyone.
async fn seed(provider: &Provider) -> Result<(String, String)> {
    create_user(
        provider,
        &Actor::system(),
        NewUser {
            login: LOGIN.into(),
            email: LOGIN.into(),
            first_name: "Backup".into(),
            last_name: "User".into(),
            display_name: None,
            password: Some(OLD_PASSWORD.into()),
            password_hash: None,
            activate: true,
        },
    )
    .await?;
    let created = create_oidc_app(
        provider,
        &Actor::system(),
        NewOidcApp {
            label: "Backed up".into(),
            application_type: ApplicationType::Web,
            redirect_uris: vec![REDIRECT_URI.into()],
            post_logout_redirect_uris: vec![],
            grant_types: vec!["authorization_code".into(), "client_credentials".into()],
            token_endpoint_auth_method: Some(TokenEndpointAuthMethod::ClientSecretBasic),
            initiate_login_uri: None,
            login_mode: None,
        },
    )
    .await?;
    let everyone = find_group_by_id_or_name(provider, "Everyone").await?;
    assign_group_to_app(provider, &created.app, &everyone).await?;
    let secret = created.client_secret.context("no client secret")?;
    Ok((created.app.client_id, secret))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_backup_restores_into_a_fresh_data_directory() -> Result<()> {
    let old = TempDir::new("backup_old")?;
    let new = TempDir::new("backup_new")?;
    let old_dir = old.0.to_string_lossy().into_owned();
    let new_dir = new.0.to_string_lossy().into_owned();
    let provider = open_provider(&settings(&old.0)?).await?;
    let (client_id, secret) = seed(&provider).await?;
    drop(provider);
    gatehouse(&[
        "--data-dir",
        &old_dir,
        "auth-server",
        "add-scope",
        "--id",
        "default",
        "--name",
        "backup.read",
    ])
    .await?;

    let file = old.0.join("gatehouse.backup");
    let file_arg = file.to_string_lossy().into_owned();
    gatehouse(&["--data-dir", &old_dir, "backup", "--out", &file_arg]).await?;
    #[cfg(unix)]
    ensure!(mode(&file)? == 0o600, "backup mode {:o}", mode(&file)?);
    // A second backup to the same file needs --force.
    let again = gatehouse(&["--data-dir", &old_dir, "backup", "--out", &file_arg]).await;
    ensure!(
        again
            .as_ref()
            .is_err_and(|e| e.to_string().contains("--force")),
        "{again:?}"
    );

    // A file that is not a backup is refused, and leaves nothing behind.
    let bogus = old.0.join("encryption.key").to_string_lossy().into_owned();
    let refused = gatehouse(&["--data-dir", &new_dir, "restore", "--from", &bogus]).await;
    ensure!(
        refused
            .as_ref()
            .is_err_and(|e| format!("{e:#}").contains("not a gatehouse backup")),
        "{refused:?}"
    );
    ensure!(!new.0.join("gatehouse.db").exists());

    gatehouse(&["--data-dir", &new_dir, "restore", "--from", &file_arg]).await?;
    #[cfg(unix)]
    ensure!(mode(&new.0.join("encryption.key"))? == 0o600);
    ensure!(
        std::fs::read_to_string(new.0.join("encryption.key"))?.trim()
            == std::fs::read_to_string(old.0.join("encryption.key"))?.trim()
    );
    // Over an existing database: only with --force, and then only once confirmed (no
    // terminal here, so --yes).
    let over = gatehouse(&["--data-dir", &new_dir, "restore", "--from", &file_arg]).await;
    ensure!(
        over.as_ref()
            .is_err_and(|e| e.to_string().contains("--force")),
        "{over:?}"
    );
    let unconfirmed = gatehouse(&[
        "--data-dir",
        &new_dir,
        "restore",
        "--from",
        &file_arg,
        "--force",
    ])
    .await;
    ensure!(
        unconfirmed
            .as_ref()
            .is_err_and(|e| e.to_string().contains("--yes")),
        "{unconfirmed:?}"
    );
    gatehouse(&[
        "--data-dir",
        &new_dir,
        "restore",
        "--from",
        &file_arg,
        "--force",
        "--yes",
    ])
    .await?;

    // The restored node: the old client secret and the old password work.
    let mut restored = settings(&new.0)?;
    restored.bind = "127.0.0.1:0".into();
    let app = Application::build(&restored).await?;
    let base = format!("http://{}", app.local_addr()?);
    let server = tokio::spawn(app.run_until_stopped());
    let result = check_restored(&base, &client_id, &secret).await;
    server.abort();
    result
}

async fn check_restored(base: &str, client_id: &str, secret: &str) -> Result<()> {
    let client = http_client()?;
    let token = format!("{base}/oauth2/default/v1/token");
    let mut reply = None;
    for _ in 0..50 {
        match client
            .post(&token)
            .basic_auth(client_id, Some(secret))
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", "backup.read"),
            ])
            .send()
            .await
        {
            Ok(r) => {
                reply = Some(r);
                break;
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
    let reply = reply.context("the restored server never answered")?;
    let status = reply.status();
    let body = reply.text().await?;
    ensure!(
        status == StatusCode::OK,
        "client_credentials: {status} {body}"
    );

    let authz = Authz::new(base, Server::Default, client_id).scope("openid");
    let callback = Browser::new()?
        .sign_in(&authz.url(), LOGIN, OLD_PASSWORD)
        .await?;
    let exchanged = client
        .post(&token)
        .basic_auth(client_id, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", callback.code()?.as_str()),
            ("redirect_uri", REDIRECT_URI),
        ])
        .send()
        .await?;
    let status = exchanged.status();
    let body = exchanged.text().await?;
    ensure!(status == StatusCode::OK, "code exchange: {status} {body}");
    Ok(())
}

/// PostgreSQL: the key goes to `<out>.encryption.key` (0600), the dump is pg_dump's; restore
/// points at pg_restore instead of touching the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backup_saves_the_key_and_defers_to_pg_dump() -> Result<()> {
    let db = TestDatabase::new(Backend::Postgres).await?;
    let dir = TempDir::new("backup_pg")?;
    let dir_arg = dir.0.to_string_lossy().into_owned();
    let out = dir.0.join("gatehouse.pgdump");
    let out_arg = out.to_string_lossy().into_owned();
    let provider = open_provider(&{
        let mut s = settings(&dir.0)?;
        s.database_url = db.url.clone();
        s
    })
    .await?;
    drop(provider);
    let args = [
        "--data-dir",
        &dir_arg,
        "--database-url",
        &db.url,
        "backup",
        "--out",
        &out_arg,
    ];
    let result = gatehouse(&args).await;
    let has_pg_dump = std::process::Command::new("pg_dump")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if has_pg_dump {
        result?;
    } else {
        ensure!(
            result
                .as_ref()
                .is_err_and(|e| e.to_string().contains("pg_dump")),
            "{result:?}"
        );
    }
    let key_file = dir.0.join("gatehouse.pgdump.encryption.key");
    ensure!(
        std::fs::read_to_string(&key_file)?.trim()
            == std::fs::read_to_string(dir.0.join("encryption.key"))?.trim()
    );
    #[cfg(unix)]
    ensure!(mode(&key_file)? == 0o600);
    ensure!(!out.exists(), "gatehouse does not write the dump itself");
    let restore = gatehouse(&[
        "--data-dir",
        &dir_arg,
        "--database-url",
        &db.url,
        "restore",
        "--from",
        &out_arg,
    ])
    .await;
    ensure!(
        restore
            .as_ref()
            .is_err_and(|e| e.to_string().contains("pg_restore")),
        "{restore:?}"
    );
    Ok(())
}
