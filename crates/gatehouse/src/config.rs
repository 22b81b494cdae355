//! Settings: command line and `GATEHOUSE_*` environment first, then the TOML file, then defaults.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Deserialize;

use crate::cli::{Cli, ServeArgs};

/// The TOML file's shape; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub bind: Option<String>,
    pub public_url: Option<String>,
    #[serde(default)]
    pub trusted_proxies: Vec<IpAddr>,
    /// Base64 of 32 bytes; otherwise `encryption.key` in the data directory is used (and made).
    pub encryption_key: Option<String>,
    /// `/api/v1` requests per minute for one API token (or one address without a token).
    pub api_requests_per_minute: Option<u32>,
    /// The hosted pages' org name, logo and colour.
    pub branding: Option<gatehouse_web::Branding>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub bind: String,
    pub public_url: Option<String>,
    pub trusted_proxies: Vec<IpAddr>,
    pub encryption_key: Option<String>,
    pub api_requests_per_minute: u32,
    pub branding: gatehouse_web::Branding,
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
        let encryption_key = std::env::var("GATEHOUSE_ENCRYPTION_KEY")
            .ok()
            .filter(|k| !k.is_empty())
            .or(file.encryption_key);
        let trusted_proxies = match std::env::var("GATEHOUSE_TRUSTED_PROXIES") {
            Ok(list) => list
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(|s| {
                    s.trim().parse().with_context(|| {
                        format!("GATEHOUSE_TRUSTED_PROXIES: '{s}' is not an IP address")
                    })
                })
                .collect::<anyhow::Result<_>>()?,
            Err(_) => file.trusted_proxies,
        };
        let api_requests_per_minute = match std::env::var("GATEHOUSE_API_REQUESTS_PER_MINUTE") {
            Ok(n) if !n.is_empty() => n.parse().with_context(|| {
                format!("GATEHOUSE_API_REQUESTS_PER_MINUTE: '{n}' is not a whole number")
            })?,
            _ => file
                .api_requests_per_minute
                .unwrap_or(gatehouse_web::DEFAULT_API_REQUESTS_PER_MINUTE),
        };
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
        Ok(Self {
            branding,
            data_dir,
            api_requests_per_minute,
            database_url,
            bind,
            public_url,
            trusted_proxies,
            encryption_key,
        })
    }

    /// The base URL to show people: the public URL, or what the bind address serves.
    pub fn display_base_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.bind))
    }
}

fn default_sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("gatehouse.db").display())
}
