//! Settings: command line and `GATEHOUSE_*` environment first, then the TOML file, then defaults.

use ipnet::IpNet;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Deserialize;

use crate::cli::{Cli, ServeArgs};
use crate::tls::TlsFiles;

/// The TOML file's shape; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    /// The most pooled database connections (SQLite: read connections; 0 or unset: automatic).
    pub database_max_connections: Option<u32>,
    pub bind: Option<String>,
    pub public_url: Option<String>,
    /// Okta's custom URL domains: other origins (`https://id.example.com`) this server answers
    /// on besides `public_url`. DYNAMIC servers issue from the one a request came in on,
    /// CUSTOM_URL servers from the first.
    #[serde(default)]
    pub custom_domains: Vec<String>,
    /// Addresses or CIDRs of reverse proxies whose `X-Forwarded-*` headers are believed.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// Base64 of 32 bytes; otherwise `encryption.key` in the data directory is used (and made).
    pub encryption_key: Option<String>,
    /// `/api/v1` requests per minute for one valid API token (or one address, for requests
    /// without a valid credential).
    pub api_requests_per_minute: Option<u32>,
    /// Consecutive failed sign-ins that lock an account (Okta's default 10; 0 never locks).
    pub lockout_max_attempts: Option<u32>,
    /// Minutes until a locked account unlocks by itself (0, the default: only an admin unlocks).
    pub lockout_auto_unlock_minutes: Option<u32>,
    /// Sign-in form posts per minute from one client address (0 turns the limit off).
    pub signin_requests_per_minute_per_ip: Option<u32>,
    /// Token requests per minute from one client address (0, the default, turns it off).
    pub token_requests_per_minute_per_ip: Option<u32>,
    /// Anonymous login transactions per minute from one client address (default 100; 0 off).
    pub login_transactions_per_minute_per_ip: Option<u32>,
    /// Days the System Log keeps events (default 90, as Okta).
    pub system_log_retention_days: Option<u32>,
    /// PEM certificate chain and private key: `serve` then terminates TLS itself.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Development only: a `jwks_uri` (and `request_uris`, `sector_identifier_uri`) may be plain
    /// http, and may resolve to, loopback.
    #[serde(default)]
    pub dev_jwks_uri_allow_loopback: bool,
    /// The hosted pages' org name, logo and colour.
    pub branding: Option<gatehouse_web::Branding>,
    /// Where `/metrics` is served (an internal address; unset: no metrics).
    pub metrics_bind: Option<String>,
    /// LDAP / Active Directory (read by `crate::ldap::config`).
    pub ldap: Option<crate::ldap::config::LdapFileConfig>,
    /// Outgoing mail (activation and reset links); unset: links are returned and printed.
    pub smtp: Option<crate::email::SmtpFileConfig>,
    /// Hours an activation link stays usable (Okta's 7 days by default).
    pub activation_link_hours: Option<u32>,
    /// Minutes a reset-password link stays usable (default 60).
    pub reset_link_minutes: Option<u32>,
    /// The tenant id (a UUID) of the Entra-compatible paths; unset: derived from the org id.
    pub entra_tenant_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub database_url: String,
    /// The database pool's size (`None`: the backend's default, see [`gatehouse_store::PoolSize`]).
    pub database_pool: gatehouse_store::PoolSize,
    pub bind: String,
    pub public_url: Option<String>,
    /// Custom domains as origins (`scheme://host[:port]`); they need a `public_url`.
    pub custom_domains: Vec<String>,
    pub trusted_proxies: Vec<IpNet>,
    pub encryption_key: Option<String>,
    pub api_requests_per_minute: u32,
    pub branding: gatehouse_web::Branding,
    /// Certificate and key for built-in TLS (`None`: plain http).
    pub tls: Option<TlsFiles>,
    /// Development only: client document fetches (`jwks_uri`, `request_uri`,
    /// `sector_identifier_uri`) may go to loopback, over http too.
    pub dev_jwks_uri_allow_loopback: bool,
    pub security: SecuritySettings,
    /// The metrics listener's address (`None`: metrics off).
    pub metrics_bind: Option<String>,
    /// SMTP (`None`: no mail; links are returned by the API and printed by the CLI).
    pub smtp: Option<crate::email::SmtpSettings>,
    /// How long activation and reset links stay usable.
    pub link_lifetimes: gatehouse_core::services::user_links::LinkLifetimes,
    /// The Entra-compatible paths' tenant id (`None`: derived from the org id).
    pub entra_tenant_id: Option<String>,
}

/// Lockout, per-address limits and System Log retention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecuritySettings {
    pub lockout_max_attempts: u32,
    pub lockout_auto_unlock_minutes: u32,
    pub signin_requests_per_minute_per_ip: u32,
    pub token_requests_per_minute_per_ip: u32,
    pub login_transactions_per_minute_per_ip: u32,
    pub system_log_retention_days: u32,
}

pub const DEFAULT_SYSTEM_LOG_RETENTION_DAYS: u32 = 90;

impl Default for SecuritySettings {
    fn default() -> Self {
        Self {
            lockout_max_attempts: gatehouse_core::services::lockout::DEFAULT_MAX_ATTEMPTS,
            lockout_auto_unlock_minutes: 0,
            signin_requests_per_minute_per_ip:
                gatehouse_web::DEFAULT_SIGNIN_REQUESTS_PER_MINUTE_PER_IP,
            token_requests_per_minute_per_ip:
                gatehouse_web::DEFAULT_TOKEN_REQUESTS_PER_MINUTE_PER_IP,
            login_transactions_per_minute_per_ip:
                gatehouse_web::DEFAULT_LOGIN_TRANSACTIONS_PER_MINUTE_PER_IP,
            system_log_retention_days: DEFAULT_SYSTEM_LOG_RETENTION_DAYS,
        }
    }
}

/// `GATEHOUSE_<NAME>` as a whole number, else the file's value, else `default`.
pub(crate) fn number_setting(name: &str, file: Option<u32>, default: u32) -> anyhow::Result<u32> {
    let var = format!("GATEHOUSE_{}", name.to_ascii_uppercase());
    match std::env::var(&var) {
        Ok(n) if !n.is_empty() => n
            .trim()
            .parse()
            .with_context(|| format!("{var}: '{n}' is not a whole number")),
        _ => Ok(file.unwrap_or(default)),
    }
}

/// A tenant id must be a UUID (social-core's tenant backends compare `tid` as one); it is kept
/// in lower case, as Entra writes it.
fn entra_tenant_id(value: Option<String>) -> anyhow::Result<Option<String>> {
    let Some(v) = value else { return Ok(None) };
    let v = v.trim().to_ascii_lowercase();
    let groups: Vec<&str> = v.split('-').collect();
    let ok = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()));
    anyhow::ensure!(
        ok,
        "entra_tenant_id '{v}' is not a UUID (like 72f988bf-86f1-41af-91ab-2d7cd011db47)"
    );
    Ok(Some(v))
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

impl Settings {
    pub fn load(cli: &Cli, serve: Option<&ServeArgs>) -> anyhow::Result<Self> {
        let file = match &cli.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read config file {}", path.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .with_context(|| format!("invalid config file {}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let data_dir = cli
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("data"));
        let database_url = cli
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| default_sqlite_url(&data_dir));
        let database_pool = pool_size(file.database_max_connections)?;
        let bind = serve
            .and_then(|s| s.bind.clone())
            .or(file.bind)
            .unwrap_or_else(|| DEFAULT_BIND.to_owned());
        let public_url = serve
            .and_then(|s| s.public_url.clone())
            .or(file.public_url)
            .map(|u| u.trim_end_matches('/').to_owned());
        if let Some(url) = &public_url {
            let parsed =
                url::Url::parse(url).with_context(|| format!("public_url '{url}' is not a URL"))?;
            anyhow::ensure!(
                matches!(parsed.scheme(), "http" | "https"),
                "public_url must be http or https"
            );
        }
        let custom_domains = match std::env::var("GATEHOUSE_CUSTOM_DOMAINS") {
            Ok(list) => custom_domain_list(list.split(','), "GATEHOUSE_CUSTOM_DOMAINS")?,
            Err(_) => custom_domain_list(file.custom_domains.iter(), "custom_domains")?,
        };
        anyhow::ensure!(
            custom_domains.is_empty() || public_url.is_some(),
            "custom_domains need a public_url (the org URL they are custom domains of)"
        );
        let encryption_key = std::env::var("GATEHOUSE_ENCRYPTION_KEY")
            .ok()
            .filter(|k| !k.is_empty())
            .or(file.encryption_key);
        let (proxy_list, proxy_source) = match std::env::var("GATEHOUSE_TRUSTED_PROXIES") {
            Ok(list) => (
                list.split(',').map(str::to_owned).collect::<Vec<_>>(),
                "GATEHOUSE_TRUSTED_PROXIES",
            ),
            Err(_) => (file.trusted_proxies, "trusted_proxies"),
        };
        let trusted_proxies = proxy_list
            .iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                gatehouse_web::parse_proxy(s)
                    .with_context(|| format!("{proxy_source}: '{s}' is not an IP address or CIDR"))
            })
            .collect::<anyhow::Result<_>>()?;
        let defaults = SecuritySettings::default();
        let security = SecuritySettings {
            lockout_max_attempts: number_setting(
                "lockout_max_attempts",
                file.lockout_max_attempts,
                defaults.lockout_max_attempts,
            )?,
            lockout_auto_unlock_minutes: number_setting(
                "lockout_auto_unlock_minutes",
                file.lockout_auto_unlock_minutes,
                defaults.lockout_auto_unlock_minutes,
            )?,
            signin_requests_per_minute_per_ip: number_setting(
                "signin_requests_per_minute_per_ip",
                file.signin_requests_per_minute_per_ip,
                defaults.signin_requests_per_minute_per_ip,
            )?,
            token_requests_per_minute_per_ip: number_setting(
                "token_requests_per_minute_per_ip",
                file.token_requests_per_minute_per_ip,
                defaults.token_requests_per_minute_per_ip,
            )?,
            login_transactions_per_minute_per_ip: number_setting(
                "login_transactions_per_minute_per_ip",
                file.login_transactions_per_minute_per_ip,
                defaults.login_transactions_per_minute_per_ip,
            )?,
            system_log_retention_days: number_setting(
                "system_log_retention_days",
                file.system_log_retention_days,
                defaults.system_log_retention_days,
            )?,
        };
        let api_requests_per_minute = match std::env::var("GATEHOUSE_API_REQUESTS_PER_MINUTE") {
            Ok(n) if !n.is_empty() => n.parse().with_context(|| {
                format!("GATEHOUSE_API_REQUESTS_PER_MINUTE: '{n}' is not a whole number")
            })?,
            _ => file
                .api_requests_per_minute
                .unwrap_or(gatehouse_web::DEFAULT_API_REQUESTS_PER_MINUTE),
        };
        // The environment is read here too, so `gatehouse` without `serve` (and the commands
        // that print URLs) see it.
        let env_path = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let tls_cert = serve
            .and_then(|s| s.tls_cert.clone())
            .or_else(|| env_path("GATEHOUSE_TLS_CERT"))
            .or(file.tls_cert);
        let tls_key = serve
            .and_then(|s| s.tls_key.clone())
            .or_else(|| env_path("GATEHOUSE_TLS_KEY"))
            .or(file.tls_key);
        let tls = match (tls_cert, tls_key) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            (None, None) => None,
            (Some(_), None) => anyhow::bail!(
                "a TLS certificate is set but no key: set tls_key (--tls-key, GATEHOUSE_TLS_KEY) too"
            ),
            (None, Some(_)) => anyhow::bail!(
                "a TLS key is set but no certificate: set tls_cert (--tls-cert, GATEHOUSE_TLS_CERT) too"
            ),
        };
        let dev_jwks_uri_allow_loopback =
            match std::env::var("GATEHOUSE_DEV_JWKS_URI_ALLOW_LOOPBACK") {
                Ok(v) if !v.is_empty() => matches!(v.as_str(), "1" | "true" | "yes"),
                _ => file.dev_jwks_uri_allow_loopback,
            };
        let metrics_bind = serve
            .and_then(|s| s.metrics_bind.clone())
            .or_else(|| std::env::var("GATEHOUSE_METRICS_BIND").ok())
            .or(file.metrics_bind)
            .filter(|a| !a.trim().is_empty());
        let mut branding = file.branding.unwrap_or_default();
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        if let Some(v) = env("GATEHOUSE_BRANDING_ORG_NAME") {
            branding.org_name = v;
        }
        if let Some(v) = env("GATEHOUSE_BRANDING_LOGO_URL") {
            branding.logo_url = Some(v);
        }
        if let Some(v) = env("GATEHOUSE_BRANDING_PRIMARY_COLOR") {
            branding.primary_color = v;
        }
        branding.validate().map_err(anyhow::Error::msg)?;
        let smtp = crate::email::load(file.smtp.as_ref())?;
        let link_lifetimes = gatehouse_core::services::user_links::LinkLifetimes {
            activation: i64::from(number_setting(
                "activation_link_hours",
                file.activation_link_hours,
                168,
            )?)
            .max(1)
                * 3600,
            reset: i64::from(number_setting(
                "reset_link_minutes",
                file.reset_link_minutes,
                60,
            )?)
            .max(1)
                * 60,
        };
        let entra_tenant_id = entra_tenant_id(
            std::env::var("GATEHOUSE_ENTRA_TENANT_ID")
                .ok()
                .filter(|v| !v.is_empty())
                .or(file.entra_tenant_id),
        )?;
        Ok(Self {
            smtp,
            link_lifetimes,
            entra_tenant_id,
            branding,
            data_dir,
            tls,
            dev_jwks_uri_allow_loopback,
            api_requests_per_minute,
            database_url,
            database_pool,
            bind,
            public_url,
            custom_domains,
            trusted_proxies,
            encryption_key,
            security,
            metrics_bind,
        })
    }

    /// The base URL to show people: the public URL, or what the bind address serves.
    pub fn display_base_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("{}://{}", self.scheme(), self.bind))
    }
}

impl Settings {
    /// `https` when the server terminates TLS itself.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }
}

/// Custom domains as origins: http(s), a host, an optional port, nothing else (so that one can be
/// compared with a request's `Host`). Blank entries are ignored.
fn custom_domain_list<S: AsRef<str>>(
    entries: impl IntoIterator<Item = S>,
    source: &str,
) -> anyhow::Result<Vec<String>> {
    let mut domains = Vec::new();
    for entry in entries {
        let entry = entry.as_ref().trim();
        if entry.is_empty() {
            continue;
        }
        let url = url::Url::parse(entry)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .filter(|u| u.username().is_empty() && u.password().is_none())
            .filter(|u| u.path() == "/" && u.query().is_none() && u.fragment().is_none())
            .filter(|u| u.host_str().is_some())
            .with_context(|| {
                format!("{source}: '{entry}' is not an origin like https://id.example.com")
            })?;
        let origin = url.origin().ascii_serialization();
        if !domains.contains(&origin) {
            domains.push(origin);
        }
    }
    Ok(domains)
}

/// `GATEHOUSE_DATABASE_MAX_CONNECTIONS`, else the file's `database_max_connections`; 0 or unset
/// leaves the backend's default.
fn pool_size(file: Option<u32>) -> anyhow::Result<gatehouse_store::PoolSize> {
    let n = number_setting("database_max_connections", file, 0)?;
    Ok(gatehouse_store::PoolSize {
        max_connections: (n > 0).then_some(n),
    })
}

fn default_sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("gatehouse.db").display())
}

#[cfg(test)]
mod tests {
    use super::{FileConfig, custom_domain_list, pool_size};

    #[test]
    fn database_max_connections_from_the_file() -> anyhow::Result<()> {
        let file: FileConfig = toml::from_str("database_max_connections = 3")?;
        assert_eq!(file.database_max_connections, Some(3));
        // (GATEHOUSE_DATABASE_MAX_CONNECTIONS is not set in the tests' environment.)
        assert_eq!(pool_size(Some(3))?.max_connections, Some(3));
        assert_eq!(pool_size(Some(0))?.max_connections, None);
        assert_eq!(pool_size(None)?.max_connections, None);
        Ok(())
    }

    #[test]
    fn custom_domains_are_origins() -> anyhow::Result<()> {
        let list = custom_domain_list(
            [
                " https://Login.Example.com/",
                "",
                "http://id.example.org:8443",
                "https://login.example.com",
            ],
            "custom_domains",
        )?;
        assert_eq!(
            list,
            ["https://login.example.com", "http://id.example.org:8443"]
        );
        for bad in [
            "login.example.com",
            "ftp://login.example.com",
            "https://login.example.com/path",
            "https://user@login.example.com",
            "https://login.example.com/?q=1",
        ] {
            assert!(
                custom_domain_list([bad], "custom_domains").is_err(),
                "{bad}"
            );
        }
        Ok(())
    }
}
