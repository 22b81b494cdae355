//! `gatehouse backup` and `gatehouse restore`.
//!
//! A SQLite backup is one SQLite file: an online copy of the database (`VACUUM INTO`, a
//! consistent snapshot taken while the server keeps serving) plus a `gatehouse_backup` table
//! holding the encryption key. Without the key the copy's sealed secrets (signing keys, client
//! secrets kept for HMAC) cannot be read, so the backup carries it, and is therefore as secret
//! as the key itself: it is written 0600, and the command says so.
//!
//! On PostgreSQL the database is `pg_dump`'s to copy; `backup` checks that `pg_dump` is there,
//! prints the command, and saves the encryption key (which no dump contains) next to the dump.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::str::FromStr as _;

use anyhow::{Context as _, bail, ensure};
use clap::Args;
use gatehouse_core::crypto::{SecretBox, sha256_b64url};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{ConnectOptions as _, Connection as _, SqliteConnection};

use crate::config::Settings;
use crate::startup::{open_provider, redact_url};

const KEY_FILE: &str = "encryption.key";
/// The table a backup file keeps its own data in; dropped again on restore.
const BACKUP_TABLE: &str = "gatehouse_backup";

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The backup file to write (0600). It holds the encryption key: keep it as secret as the
    /// key, e.g. encrypted at rest and away from the server.
    #[arg(long)]
    pub out: PathBuf,
    /// Replace --out if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A file written by `gatehouse backup`.
    #[arg(long)]
    pub from: PathBuf,
    /// Replace an existing database (and its encryption key). Stop the server first.
    #[arg(long)]
    pub force: bool,
    /// Do not ask before replacing an existing database (for scripts; needs --force).
    #[arg(long, requires = "force")]
    pub yes: bool,
}

/// Where the encryption key comes from.
enum KeySource {
    Configured,
    File(PathBuf),
}

/// The encryption key in force, never a new one (a backup with a fresh key would be useless).
fn current_key(settings: &Settings) -> anyhow::Result<(String, KeySource)> {
    if let Some(key) = &settings.encryption_key {
        return Ok((key.trim().to_owned(), KeySource::Configured));
    }
    let path = settings.data_dir.join(KEY_FILE);
    let key = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read the encryption key {} (set GATEHOUSE_ENCRYPTION_KEY or --data-dir): without it no backup can be read",
            path.display()
        )
    })?;
    Ok((key.trim().to_owned(), KeySource::File(path)))
}

/// A short, non-secret fingerprint of a key, to check two copies are the same key.
fn fingerprint(key: &str) -> String {
    sha256_b64url(key)[..12].to_owned()
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres:") || url.starts_with("postgresql:")
}

/// The SQLite database file a URL names (not `:memory:`).
fn sqlite_path(url: &str) -> anyhow::Result<PathBuf> {
    ensure!(
        url.starts_with("sqlite:"),
        "unsupported database URL {}",
        redact_url(url)
    );
    ensure!(
        !url.contains(":memory:") && !url.contains("mode=memory"),
        "an in-memory database cannot be backed up or restored"
    );
    let options = SqliteConnectOptions::from_str(url).context("invalid SQLite URL")?;
    Ok(options.get_filename().to_path_buf())
}

/// Creates `path` readable by its owner only (replacing an older file at that path).
fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let _ = std::fs::remove_file(path);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(contents)?;
    f.sync_all()?;
    Ok(())
}

/// Copies `from` to a new 0600 file `to` (the copy holds the key until it is taken out).
fn copy_private(from: &Path, to: &Path) -> anyhow::Result<()> {
    let mut source =
        std::fs::File::open(from).with_context(|| format!("cannot read {}", from.display()))?;
    write_private(to, b"")?;
    let mut dest = std::fs::OpenOptions::new().append(true).open(to)?;
    std::io::copy(&mut source, &mut dest)
        .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    dest.sync_all()?;
    Ok(())
}

/// A sibling path for work in progress, renamed into place once complete.
fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// The live database, as one more reader: its journal mode (WAL) is left alone, since
/// changing it would need the server's connections gone (and take the server out of WAL).
async fn open_live(path: &Path) -> anyhow::Result<SqliteConnection> {
    SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await
        .with_context(|| format!("cannot open {}", path.display()))
}

async fn open_file(path: &Path, create: bool) -> anyhow::Result<SqliteConnection> {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(create)
        // One self-contained file: no -wal beside it to forget.
        .journal_mode(SqliteJournalMode::Delete)
        .connect()
        .await
        .with_context(|| format!("cannot open {}", path.display()))
}

pub async fn backup(settings: &Settings, args: &BackupArgs) -> anyhow::Result<()> {
    let (key, source) = current_key(settings)?;
    SecretBox::from_base64(&key).context("the encryption key is not valid")?;
    // Opening checks that the key opens this database's secrets (and brings the schema up to
    // date), so the backup is never of a key that does not fit.
    let provider = open_provider(settings).await?;
    drop(provider);
    if is_postgres(&settings.database_url) {
        return postgres_guidance(settings, args, &key, &source);
    }
    let db = sqlite_path(&settings.database_url)?;
    ensure!(
        args.force || !args.out.exists(),
        "{} exists; pass --force to replace it",
        args.out.display()
    );
    let partial = partial_path(&args.out);
    // Made first, empty and 0600, so the copy is never readable by others, not even briefly.
    write_private(&partial, b"")?;
    let result = async {
        let mut source_db = open_live(&db).await?;
        sqlx::query("VACUUM INTO ?1")
            .bind(partial.to_string_lossy().into_owned())
            .execute(&mut source_db)
            .await
            .context("VACUUM INTO failed")?;
        source_db.close().await?;
        let mut copy = open_file(&partial, false).await?;
        sqlx::query(&format!(
            "CREATE TABLE {BACKUP_TABLE} (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
        ))
        .execute(&mut copy)
        .await?;
        let created = time::OffsetDateTime::now_utc().unix_timestamp().to_string();
        for (name, value) in [
            ("encryption_key", key.as_str()),
            ("gatehouse_version", env!("CARGO_PKG_VERSION")),
            ("created_at", created.as_str()),
        ] {
            sqlx::query(&format!(
                "INSERT INTO {BACKUP_TABLE} (name, value) VALUES (?1, ?2)"
            ))
            .bind(name)
            .bind(value)
            .execute(&mut copy)
            .await?;
        }
        copy.close().await?;
        std::fs::rename(&partial, &args.out)
            .with_context(|| format!("cannot move the backup to {}", args.out.display()))?;
        anyhow::Ok(())
    }
    .await;
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "backup written to {} (mode 0600)", args.out.display())?;
    writeln!(out, "  database:       {}", db.display())?;
    writeln!(
        out,
        "  encryption key: included (fingerprint {})",
        fingerprint(&key)
    )?;
    writeln!(
        out,
        "WARNING: this file contains the encryption key. Anyone who has it can read every client"
    )?;
    writeln!(
        out,
        "secret and signing key in it: store it encrypted and apart from the server."
    )?;
    writeln!(
        out,
        "Restore with: gatehouse --data-dir <new dir> restore --from {}",
        args.out.display()
    )?;
    Ok(())
}

/// PostgreSQL: the dump is pg_dump's; what gatehouse adds is the key, which no dump contains.
fn postgres_guidance(
    settings: &Settings,
    args: &BackupArgs,
    key: &str,
    source: &KeySource,
) -> anyhow::Result<()> {
    let pg_dump = std::process::Command::new("pg_dump")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let key_path = {
        let mut p = args.out.as_os_str().to_owned();
        p.push(".encryption.key");
        PathBuf::from(p)
    };
    ensure!(
        args.force || !key_path.exists(),
        "{} exists; pass --force to replace it",
        key_path.display()
    );
    write_private(&key_path, format!("{key}\n").as_bytes())?;
    let url = redact_url(&settings.database_url);
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "PostgreSQL: gatehouse does not copy the database itself; pg_dump does (a consistent"
    )?;
    writeln!(
        out,
        "snapshot while the server runs). Run, with the password from PGPASSWORD or ~/.pgpass:"
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "  pg_dump --format=custom --no-owner --file '{}' '{url}'",
        args.out.display()
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "and to restore into an empty database: pg_restore --no-owner --dbname '<url>' '{}'",
        args.out.display()
    )?;
    let from = match source {
        KeySource::Configured => {
            "the configuration (GATEHOUSE_ENCRYPTION_KEY / encryption_key)".to_owned()
        }
        KeySource::File(path) => path.display().to_string(),
    };
    writeln!(
        out,
        "The encryption key (from {from}, fingerprint {}) is not in any dump: it was written to",
        fingerprint(key)
    )?;
    writeln!(
        out,
        "{} (mode 0600). Keep it with the dump, as secret as the key: without it the dump's",
        key_path.display()
    )?;
    writeln!(
        out,
        "client secrets and signing keys cannot be read; with it, anyone can read them."
    )?;
    out.flush()?;
    match pg_dump {
        Some(version) => {
            writeln!(out, "found: {version}")?;
            Ok(())
        }
        None => bail!(
            "pg_dump was not found on PATH: install the PostgreSQL client tools (e.g. `apt-get install postgresql-client`) of the server's major version or newer"
        ),
    }
}

pub async fn restore(settings: &Settings, args: &RestoreArgs) -> anyhow::Result<()> {
    if is_postgres(&settings.database_url) {
        bail!(
            "restoring into PostgreSQL is pg_restore's job: pg_restore --no-owner --dbname '{}' <dump>, \
             then give gatehouse the encryption key saved with the dump (GATEHOUSE_ENCRYPTION_KEY, \
             or the file {} in the data directory)",
            redact_url(&settings.database_url),
            KEY_FILE
        );
    }
    let db = sqlite_path(&settings.database_url)?;
    ensure!(args.from.is_file(), "{} is not a file", args.from.display());
    std::fs::create_dir_all(&settings.data_dir).with_context(|| {
        format!(
            "cannot create data directory {}",
            settings.data_dir.display()
        )
    })?;
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let partial = partial_path(&db);
    copy_private(&args.from, &partial)?;
    let key = match take_backup_key(&partial).await {
        Ok(key) => key,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    let result = replace_database(settings, args, &db, &partial, &key);
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result?;
    // Opening runs the migrations (an older backup is brought up to date) and checks that the
    // key opens the restored secrets.
    let provider = open_provider(settings)
        .await
        .context("the restored database does not open")?;
    drop(provider);
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "restored {} into {}",
        args.from.display(),
        db.display()
    )?;
    writeln!(
        out,
        "  encryption key: fingerprint {} ({})",
        fingerprint(&key),
        if settings.encryption_key.is_some() {
            "the configured key".to_owned()
        } else {
            format!(
                "written to {}, mode 0600",
                settings.data_dir.join(KEY_FILE).display()
            )
        }
    )?;
    Ok(())
}

/// Reads the key out of a copy of a backup file and removes the backup's own table, leaving
/// the plain database.
async fn take_backup_key(copy: &Path) -> anyhow::Result<String> {
    let not_a_backup = || {
        format!(
            "{} is not a gatehouse backup (written by `gatehouse backup`)",
            copy.display()
        )
    };
    let mut conn = open_file(copy, false).await.with_context(not_a_backup)?;
    let key: Option<String> = sqlx::query_scalar(&format!(
        "SELECT value FROM {BACKUP_TABLE} WHERE name = 'encryption_key'"
    ))
    .fetch_optional(&mut conn)
    .await
    .ok()
    .flatten();
    let key = key.with_context(not_a_backup)?;
    SecretBox::from_base64(&key).context("the backup's encryption key is not valid")?;
    sqlx::query(&format!("DROP TABLE {BACKUP_TABLE}"))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(key)
}

/// Moves the restored database (and its key) into place, after the checks and, when it
/// replaces one, the operator's confirmation.
fn replace_database(
    settings: &Settings,
    args: &RestoreArgs,
    db: &Path,
    partial: &Path,
    key: &str,
) -> anyhow::Result<()> {
    if let Some(configured) = &settings.encryption_key {
        ensure!(
            configured.trim() == key,
            "the configured encryption key (GATEHOUSE_ENCRYPTION_KEY / encryption_key, fingerprint {}) is not the backup's (fingerprint {}): unset it, or set it to the backup's key",
            fingerprint(configured.trim()),
            fingerprint(key)
        );
    }
    let key_path = settings.data_dir.join(KEY_FILE);
    let existing_db = std::fs::metadata(db).is_ok_and(|m| m.len() > 0);
    let existing_key = std::fs::read_to_string(&key_path)
        .ok()
        .map(|k| k.trim().to_owned())
        .filter(|k| k != key && settings.encryption_key.is_none());
    if existing_db || existing_key.is_some() {
        let what = if existing_db {
            format!("the database {}", db.display())
        } else {
            format!("the encryption key {}", key_path.display())
        };
        ensure!(
            args.force,
            "{what} exists; restoring would replace it. Stop the server, then pass --force to replace it"
        );
        if !args.yes {
            confirm(&format!("Replace {what} with the backup?"))?;
        }
    }
    if settings.encryption_key.is_none() {
        let partial_key = partial_path(&key_path);
        write_private(&partial_key, format!("{key}\n").as_bytes())?;
        std::fs::rename(&partial_key, &key_path)?;
    }
    // The old database's WAL must not be applied to the restored one.
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut side = db.as_os_str().to_owned();
        side.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(side));
    }
    std::fs::rename(partial, db)
        .with_context(|| format!("cannot move the restored database to {}", db.display()))?;
    Ok(())
}

/// Asks on the terminal; anything but yes (or no terminal to ask on) refuses.
fn confirm(question: &str) -> anyhow::Result<()> {
    ensure!(
        std::io::stdin().is_terminal(),
        "{question} Refusing without a terminal to confirm on: pass --yes as well"
    );
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    ensure!(
        matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes"),
        "not confirmed; nothing was changed"
    );
    Ok(())
}
