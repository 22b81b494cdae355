//! Building and running the application (after zero2prod's `Application::build`).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use gatehouse_core::Provider;
use gatehouse_core::crypto::SecretBox;
use gatehouse_core::services::bootstrap::{BootstrapError, bootstrap};
use gatehouse_web::{AppState, WebConfig};
use tokio::net::TcpListener;

use crate::config::Settings;

const KEY_FILE: &str = "encryption.key";
/// How long a client has to send a request's headers (and, with TLS, to finish the handshake).
pub const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// On a shared database (PostgreSQL), how long a new signing key is in every node's JWKS before
/// tokens are signed with it (the change feed delivers it within milliseconds; this leaves
/// room for a node whose listening connection is being re-established).
pub const KEY_PUBLICATION_DELAY: std::time::Duration = std::time::Duration::from_secs(2);
/// After SIGTERM/SIGINT, how long in-flight requests have to finish before the server closes
/// the connections left and exits.
pub const DRAIN_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// The encryption key: from settings, else the data directory's key file (made on first start).
/// Returns the key and whether it was just generated.
fn load_or_create_key(settings: &Settings) -> anyhow::Result<(String, bool)> {
    if let Some(key) = &settings.encryption_key {
        return Ok((key.clone(), false));
    }
    let path = settings.data_dir.join(KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(key) => Ok((key.trim().to_owned(), false)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SecretBox::generate_key();
            write_private_file(&path, &key)?;
            Ok((key, true))
        }
        Err(e) => {
            Err(e).with_context(|| format!("cannot read encryption key file {}", path.display()))
        }
    }
}

fn write_private_file(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    Ok(())
}

/// Opens the database, checks the encryption key and runs first-start setup.
pub async fn open_provider(settings: &Settings) -> anyhow::Result<Arc<Provider>> {
    gatehouse_store::files::create_private_dir(&settings.data_dir).with_context(|| {
        format!(
            "cannot create data directory {}",
            settings.data_dir.display()
        )
    })?;
    let store = gatehouse_store::connect_with(&settings.database_url, settings.database_pool)
        .await
        .with_context(|| {
            format!(
                "cannot open database {}",
                redact_url(&settings.database_url)
            )
        })?;
    let (key, generated) = load_or_create_key(settings)?;
    let secrets = Arc::new(SecretBox::from_base64(&key).context("invalid encryption key")?);
    let mut provider = Provider::new(store, secrets);
    apply_security_settings(&mut provider, settings);
    if let Some(smtp) = &settings.smtp {
        crate::email::SmtpMailer::install(&provider, smtp)?;
    }
    if !settings.database_url.starts_with("sqlite:") {
        // Several nodes may share this database: publish new keys before they sign.
        provider.keys.set_publication_delay(KEY_PUBLICATION_DELAY);
    }
    let provider = Arc::new(provider);
    match bootstrap(&provider).await {
        Ok(()) => Ok(provider),
        Err(BootstrapError::WrongEncryptionKey) => {
            if generated {
                // Don't leave a wrong key behind for the next start to trip over.
                let _ = std::fs::remove_file(settings.data_dir.join(KEY_FILE));
            }
            Err(BootstrapError::WrongEncryptionKey.into())
        }
        Err(e) => Err(e.into()),
    }
}

/// The environment variable that names the bootstrap administrator's login (else it is
/// `admin-<random>@gatehouse.local`, printed once with its password).
pub const ADMIN_LOGIN_ENV: &str = "GATEHOUSE_BOOTSTRAP_ADMIN_LOGIN";

/// On an installation without users, the bootstrap administrator (see
/// [`gatehouse_core::services::bootstrap::create_bootstrap_admin`]): its login and one-time
/// password when this call created it.
pub async fn create_bootstrap_admin(
    provider: &Provider,
) -> anyhow::Result<Option<(String, String)>> {
    let login = std::env::var(ADMIN_LOGIN_ENV)
        .ok()
        .filter(|l| !l.trim().is_empty());
    Ok(
        gatehouse_core::services::bootstrap::create_bootstrap_admin(provider, login.as_deref())
            .await?,
    )
}

/// Applies the settings the engine itself enforces (Okta's password-policy lockout) and the
/// org's domains its issuers are built from.
pub fn apply_security_settings(provider: &mut Provider, settings: &Settings) {
    provider.domains = gatehouse_core::provider::Domains {
        org_url: settings.public_url.clone(),
        custom: settings.custom_domains.clone(),
    };
    provider.entra_tenant_id = settings.entra_tenant_id.clone();
    provider.lockout = gatehouse_core::services::lockout::LockoutPolicy {
        max_attempts: settings.security.lockout_max_attempts,
        auto_unlock_minutes: settings.security.lockout_auto_unlock_minutes,
    };
    provider.link_lifetimes = settings.link_lifetimes;
}

/// Hides a password in a database URL before it is printed.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
    log_retention_days: u32,
    /// Set when the server terminates TLS itself.
    tls: Option<Arc<rustls::ServerConfig>>,
    metrics: Option<crate::telemetry::MetricsServer>,
}

impl Application {
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let provider = open_provider(settings).await?;
        Self::with_provider(settings, provider).await
    }

    pub async fn with_provider(
        settings: &Settings,
        provider: Arc<Provider>,
    ) -> anyhow::Result<Self> {
        // Certificate problems are reported before anything listens.
        let tls = settings
            .tls
            .as_ref()
            .map(crate::tls::server_config)
            .transpose()?;
        if settings.dev_jwks_uri_allow_loopback {
            tracing::warn!(
                "dev_jwks_uri_allow_loopback is on: client jwks_uri, request_uris and sector_identifier_uri may be http://localhost; never in production"
            );
        }
        provider.remote_jwks.install(
            Arc::new(crate::jwks_fetch::HttpJwksFetcher::new(
                settings.dev_jwks_uri_allow_loopback,
            )),
            settings.dev_jwks_uri_allow_loopback,
        );
        provider
            .upstream
            .install(Arc::new(crate::upstream_http::HttpUpstream::new(
                settings.dev_jwks_uri_allow_loopback,
            )));
        provider.password_source.install(Arc::new(
            crate::password_source::HttpSourceAuthenticator::new()?,
        ));
        provider
            .org_imports
            .install(Arc::new(crate::import::OktaImporter::new(&provider)));
        let listener = TcpListener::bind(&settings.bind)
            .await
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let metrics = match &settings.metrics_bind {
            Some(addr) => Some(crate::telemetry::MetricsServer::bind(addr).await?),
            None => None,
        };
        let config = WebConfig {
            public_url: settings.public_url.clone(),
            trusted_proxies: settings.trusted_proxies.clone(),
            api_requests_per_minute: settings.api_requests_per_minute,
            signin_requests_per_minute_per_ip: settings.security.signin_requests_per_minute_per_ip,
            token_requests_per_minute_per_ip: settings.security.token_requests_per_minute_per_ip,
            login_transactions_per_minute_per_ip: settings
                .security
                .login_transactions_per_minute_per_ip,
            https: tls.is_some(),
            branding: settings.branding.clone(),
        };
        Ok(Self {
            listener,
            state: AppState {
                provider,
                config: Arc::new(config),
            },
            log_retention_days: settings.security.system_log_retention_days,
            tls,
            metrics,
        })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// `https` when the server terminates TLS itself, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    /// The metrics listener's address, when metrics are on.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|m| m.local_addr().ok())
    }

    pub fn provider(&self) -> Arc<Provider> {
        self.state.provider.clone()
    }

    /// Serves until SIGINT/SIGTERM, finishing in-flight requests.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `stop` completes, then drains: in-flight requests get [`DRAIN_DEADLINE`]
    /// to finish.
    pub async fn run_until(
        self,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let _purge = AbortOnDrop(tokio::spawn(purge_expired_periodically(
            self.state.provider.clone(),
            self.log_retention_days,
        )));
        let state = self.state.clone();
        let _metrics = self
            .metrics
            .map(|m| AbortOnDrop(tokio::spawn(m.serve(state))));
        let _changes = AbortOnDrop(tokio::spawn(
            gatehouse_core::services::changes::follow_changes(self.state.provider.clone()),
        ));
        let _logouts = AbortOnDrop(tokio::spawn(gatehouse_core::services::backchannel::run(
            self.state.provider.clone(),
        )));
        let app =
            gatehouse_web::router(self.state).into_make_service_with_connect_info::<SocketAddr>();
        // One server for both listeners: a stalled client (half-sent headers, a body that never
        // ends) neither holds a connection open forever nor keeps the process alive after
        // SIGTERM: headers must arrive within HEADER_READ_TIMEOUT, and in-flight requests get
        // DRAIN_DEADLINE to finish before the remaining connections are closed.
        let handle = axum_server::Handle::new();
        let stopper = handle.clone();
        tokio::spawn(async move {
            stop.await;
            stopper.graceful_shutdown(Some(DRAIN_DEADLINE));
        });
        let mut server = axum_server::Server::<SocketAddr>::from_listener(self.listener);
        server
            .http_builder()
            .http1()
            .header_read_timeout(HEADER_READ_TIMEOUT);
        let server = server.handle(handle);
        let result = match self.tls {
            None => server.serve(app).await,
            Some(config) => {
                let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(
                    axum_server::tls_rustls::RustlsConfig::from_config(config),
                )
                .handshake_timeout(HEADER_READ_TIMEOUT);
                server.acceptor(acceptor).serve(app).await
            }
        };
        result.context("server error")
    }
}

/// Aborts its task when dropped. The purge loop holds the provider, and with it the database
/// pool and its connections: it must end with the server, also when the server's task is
/// aborted instead of shut down (as the tests stop theirs), or every stopped server would keep
/// its connections open.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn purge_expired_periodically(provider: Arc<Provider>, log_retention_days: u32) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        tick.tick().await;
        purge_system_log(&provider, log_retention_days).await;
        let started = std::time::Instant::now();
        match provider.store.purge_expired(provider.now()).await {
            // Every pass says when it ended (the cost bench waits for the startup pass's).
            Ok(n) => tracing::info!(
                rows = n,
                ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                "expiry purge pass done"
            ),
            Err(e) => tracing::warn!(error = %e, "purging expired records failed"),
        }
    }
}

/// System Log retention: events older than `retention_days` go (0 keeps them forever).
pub async fn purge_system_log(provider: &Provider, retention_days: u32) {
    if retention_days == 0 {
        return;
    }
    let before_ms = (provider.now() - i64::from(retention_days) * 86_400) * 1000;
    match provider.store.purge_log_events(before_ms).await {
        Ok(n) if n > 0 => tracing::info!(rows = n, "purged old System Log events"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "purging old System Log events failed"),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
