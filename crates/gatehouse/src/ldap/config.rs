//! `[ldap]` in gatehouse.toml and its `GATEHOUSE_LDAP_*` overrides. The service account's
//! password comes from the environment or a file only, never the TOML, and is never printed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use gatehouse_core::services::ldap::AttributeMapping;
use gatehouse_core::services::ldap::filter::check_template;
use serde::Deserialize;

/// The `[ldap]` table as written.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LdapFileConfig {
    /// `ldaps://host:636`, or `ldap://host:389` (upgraded with StartTLS).
    pub url: Option<String>,
    /// Plain `ldap://` without StartTLS: passwords cross the network in clear. Tests only.
    #[serde(default)]
    pub allow_insecure: bool,
    /// PEM file of the CA(s) that signed the server's certificate (default: the system's).
    pub tls_ca_file: Option<PathBuf>,
    /// The service account searches bind as (empty: anonymous searches).
    pub bind_dn: Option<String>,
    /// A file holding the service account's password (its first line).
    pub bind_password_file: Option<PathBuf>,
    pub user_base: Option<String>,
    /// With `{login}`, e.g. `(uid={login})`; AD: `(sAMAccountName={login})`.
    pub user_filter: Option<String>,
    pub group_base: Option<String>,
    /// With `{dn}` and/or `{login}`, e.g. `(member={dn})`.
    pub group_filter: Option<String>,
    /// The filter that lists every group for the import (default: `(objectClass=groupOfNames)`).
    pub group_list_filter: Option<String>,
    #[serde(default)]
    pub attributes: AttributeMapping,
    pub connect_timeout_seconds: Option<u64>,
    pub operation_timeout_seconds: Option<u64>,
    /// Service-account connections kept open for searches.
    pub pool_size: Option<usize>,
    /// Seconds between scheduled imports in `serve` (0, the default: none).
    pub sync_interval_seconds: Option<u64>,
    /// Seconds between scheduled full imports (the others are incremental); 0: every one is.
    pub full_sync_interval_seconds: Option<u64>,
}

/// A password that never shows in `Debug` output or logs.
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `ldaps://`.
    Tls,
    /// `ldap://` upgraded with StartTLS before any bind.
    StartTls,
    /// `ldap://` in clear (`allow_insecure = true`).
    Plain,
}

/// Checked LDAP settings.
#[derive(Debug, Clone)]
pub struct LdapSettings {
    pub url: String,
    pub transport: Transport,
    pub tls_ca_file: Option<PathBuf>,
    pub bind_dn: String,
    pub bind_password: Secret,
    pub user_base: String,
    pub user_filter: String,
    pub group_base: String,
    pub group_filter: String,
    pub group_list_filter: String,
    pub mapping: AttributeMapping,
    pub connect_timeout: Duration,
    pub operation_timeout: Duration,
    pub pool_size: usize,
    /// `None`: no scheduled import.
    pub sync_interval: Option<Duration>,
    /// How often a scheduled round is a full import (zero: every round).
    pub full_sync_interval: Duration,
}

pub const DEFAULT_CONNECT_TIMEOUT_SECONDS: u64 = 5;
pub const DEFAULT_OPERATION_TIMEOUT_SECONDS: u64 = 10;
pub const DEFAULT_POOL_SIZE: usize = 4;
/// A full import (the one that finds leavers) once a day; incremental rounds in between.
pub const DEFAULT_FULL_SYNC_INTERVAL_SECONDS: u64 = 86_400;
/// The shortest interval between scheduled rounds.
pub const MIN_SYNC_INTERVAL_SECONDS: u64 = 5;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn env_number(name: &str, file: Option<u64>) -> anyhow::Result<Option<u64>> {
    match env(name) {
        Some(v) => {
            Ok(Some(v.trim().parse().with_context(|| {
                format!("{name}: '{v}' is not a whole number")
            })?))
        }
        None => Ok(file),
    }
}

/// Reads `[ldap]` from the config file (if any) and the environment. `Ok(None)` when no URL is
/// set anywhere: LDAP is off.
pub fn load(config_file: Option<&Path>) -> anyhow::Result<Option<LdapSettings>> {
    let file = match config_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read config file {}", path.display()))?;
            let parsed: toml::Table = toml::from_str(&text)
                .with_context(|| format!("invalid config file {}", path.display()))?;
            match parsed.get("ldap") {
                Some(v) => v
                    .clone()
                    .try_into()
                    .with_context(|| format!("invalid [ldap] in config file {}", path.display()))?,
                None => LdapFileConfig::default(),
            }
        }
        None => LdapFileConfig::default(),
    };
    let Some(url) = env("GATEHOUSE_LDAP_URL").or(file.url.clone()) else {
        return Ok(None);
    };
    let allow_insecure = match env("GATEHOUSE_LDAP_ALLOW_INSECURE") {
        Some(v) => matches!(v.trim(), "1" | "true" | "yes"),
        None => file.allow_insecure,
    };
    let transport = transport_of(&url, allow_insecure)?;
    let bind_password = match (
        std::env::var("GATEHOUSE_LDAP_BIND_PASSWORD").ok(),
        env("GATEHOUSE_LDAP_BIND_PASSWORD_FILE")
            .map(PathBuf::from)
            .or(file.bind_password_file.clone()),
    ) {
        (Some(p), _) if !p.is_empty() => Secret(p),
        (_, Some(path)) => {
            let text = std::fs::read_to_string(&path).with_context(|| {
                format!("cannot read the LDAP bind password file {}", path.display())
            })?;
            Secret(text.lines().next().unwrap_or_default().to_owned())
        }
        _ => Secret::default(),
    };
    let bind_dn = env("GATEHOUSE_LDAP_BIND_DN")
        .or(file.bind_dn.clone())
        .unwrap_or_default();
    anyhow::ensure!(
        bind_dn.is_empty() || !bind_password.expose().is_empty(),
        "[ldap] bind_dn is set but no password: set GATEHOUSE_LDAP_BIND_PASSWORD or bind_password_file"
    );
    let required = |env_name: &str, value: Option<String>, key: &str| {
        env(env_name)
            .or(value)
            .filter(|v| !v.trim().is_empty())
            .with_context(|| format!("[ldap] needs {key} (or {env_name})"))
    };
    let user_base = required(
        "GATEHOUSE_LDAP_USER_BASE",
        file.user_base.clone(),
        "user_base",
    )?;
    let user_filter = env("GATEHOUSE_LDAP_USER_FILTER")
        .or(file.user_filter.clone())
        .unwrap_or_else(|| format!("({}={{login}})", file.attributes.login));
    check_template(&user_filter, &["login"])
        .map_err(|e| anyhow::anyhow!("[ldap] user_filter: {e}"))?;
    anyhow::ensure!(
        user_filter.contains("{login}"),
        "[ldap] user_filter must contain {{login}}"
    );
    let group_base = env("GATEHOUSE_LDAP_GROUP_BASE")
        .or(file.group_base.clone())
        .unwrap_or_else(|| user_base.clone());
    let group_filter = env("GATEHOUSE_LDAP_GROUP_FILTER")
        .or(file.group_filter.clone())
        .unwrap_or_else(|| format!("({}={{dn}})", file.attributes.group_member));
    check_template(&group_filter, &["dn", "login"])
        .map_err(|e| anyhow::anyhow!("[ldap] group_filter: {e}"))?;
    let group_list_filter = file
        .group_list_filter
        .clone()
        .unwrap_or_else(|| "(objectClass=groupOfNames)".into());
    check_template(&group_list_filter, &[])
        .map_err(|e| anyhow::anyhow!("[ldap] group_list_filter: {e}"))?;
    let seconds = |n: u64| Duration::from_secs(n.max(1));
    let connect_timeout = seconds(
        env_number(
            "GATEHOUSE_LDAP_CONNECT_TIMEOUT_SECONDS",
            file.connect_timeout_seconds,
        )?
        .unwrap_or(DEFAULT_CONNECT_TIMEOUT_SECONDS),
    );
    let operation_timeout = seconds(
        env_number(
            "GATEHOUSE_LDAP_OPERATION_TIMEOUT_SECONDS",
            file.operation_timeout_seconds,
        )?
        .unwrap_or(DEFAULT_OPERATION_TIMEOUT_SECONDS),
    );
    let pool_size = file.pool_size.unwrap_or(DEFAULT_POOL_SIZE).clamp(1, 64);
    let sync_interval = env_number(
        "GATEHOUSE_LDAP_SYNC_INTERVAL_SECONDS",
        file.sync_interval_seconds,
    )?
    .filter(|n| *n > 0)
    .map(|n| Duration::from_secs(n.max(MIN_SYNC_INTERVAL_SECONDS)));
    let full_sync_interval = Duration::from_secs(
        env_number(
            "GATEHOUSE_LDAP_FULL_SYNC_INTERVAL_SECONDS",
            file.full_sync_interval_seconds,
        )?
        .unwrap_or(DEFAULT_FULL_SYNC_INTERVAL_SECONDS),
    );
    Ok(Some(LdapSettings {
        url,
        transport,
        tls_ca_file: env("GATEHOUSE_LDAP_TLS_CA_FILE")
            .map(PathBuf::from)
            .or(file.tls_ca_file),
        bind_dn,
        bind_password,
        user_base,
        user_filter,
        group_base,
        group_filter,
        group_list_filter,
        mapping: file.attributes,
        connect_timeout,
        operation_timeout,
        pool_size,
        sync_interval,
        full_sync_interval,
    }))
}

/// `ldaps://` is TLS; `ldap://` is StartTLS unless `allow_insecure`.
fn transport_of(url: &str, allow_insecure: bool) -> anyhow::Result<Transport> {
    let parsed =
        url::Url::parse(url).with_context(|| format!("[ldap] url '{url}' is not a URL"))?;
    anyhow::ensure!(
        parsed.host_str().is_some_and(|h| !h.is_empty()),
        "[ldap] url '{url}' has no host"
    );
    match parsed.scheme() {
        "ldaps" => Ok(Transport::Tls),
        "ldap" if allow_insecure => Ok(Transport::Plain),
        "ldap" => Ok(Transport::StartTls),
        other => anyhow::bail!("[ldap] url must be ldap:// or ldaps://, not {other}://"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transports() -> anyhow::Result<()> {
        assert_eq!(
            transport_of("ldaps://dc1.corp.example", false)?,
            Transport::Tls
        );
        assert_eq!(
            transport_of("ldap://127.0.0.1:3389", false)?,
            Transport::StartTls
        );
        assert_eq!(
            transport_of("ldap://127.0.0.1:3389", true)?,
            Transport::Plain
        );
        assert!(transport_of("http://x", true).is_err());
        assert!(transport_of("ldapi:///", true).is_err());
        Ok(())
    }

    #[test]
    fn the_password_is_not_printed() {
        let s = Secret("hunter2".into());
        assert_eq!(format!("{s:?}"), "\"***\"");
    }
}
