//! The [`Directory`] Gatehouse's engine asks, implemented with the `ldap3` crate: service-account
//! searches over a small pool of bound connections, user binds on a connection of their own,
//! TLS (`ldaps://`) or StartTLS before any bind, and a time limit on every step.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use gatehouse_core::services::ldap::filter::{escape_filter_value, list_filter, render_filter};
use gatehouse_core::services::ldap::{Directory, DirectoryEntry, DirectoryUnavailable};
use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry};
use tokio::sync::Semaphore;

use super::config::{LdapSettings, Transport};

/// RFC 4511 result codes that refuse a bind (wrong password, disabled or locked account,
/// password must change) rather than say the server cannot answer.
const INVALID_CREDENTIALS: u32 = 49;
const INAPPROPRIATE_AUTHENTICATION: u32 = 48;
const UNWILLING_TO_PERFORM: u32 = 53;
/// Entries asked for per page when listing (AD answers at most 1000 per search).
const PAGE_SIZE: i32 = 500;

pub struct LdapDirectory {
    settings: LdapSettings,
    tls: Option<Arc<rustls::ClientConfig>>,
    /// Bound service-account connections not in use.
    idle: Mutex<Vec<Ldap>>,
    /// At most `pool_size` service-account connections at once.
    permits: Semaphore,
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> DirectoryUnavailable {
    DirectoryUnavailable(format!("{what}: {e}"))
}

impl LdapDirectory {
    pub fn new(settings: LdapSettings) -> anyhow::Result<Self> {
        let tls = match settings.transport {
            Transport::Plain => None,
            Transport::Tls | Transport::StartTls => Some(Arc::new(tls_config(&settings)?)),
        };
        Ok(Self {
            permits: Semaphore::new(settings.pool_size),
            settings,
            tls,
            idle: Mutex::new(Vec::new()),
        })
    }

    async fn connect(&self) -> Result<Ldap, DirectoryUnavailable> {
        let s = &self.settings;
        let mut conn_settings = LdapConnSettings::new().set_conn_timeout(s.connect_timeout);
        if let Some(tls) = &self.tls {
            conn_settings = conn_settings.set_config(tls.clone());
        }
        if s.transport == Transport::StartTls {
            conn_settings = conn_settings.set_starttls(true);
        }
        // Connect, TLS and StartTLS together within twice the connect timeout.
        let (conn, ldap) = tokio::time::timeout(
            s.connect_timeout * 2,
            LdapConnAsync::with_settings(conn_settings, &s.url),
        )
        .await
        .map_err(|_| unavailable("connect", "timed out"))?
        .map_err(|e| unavailable("connect", e))?;
        ldap3::drive!(conn);
        Ok(ldap)
    }

    /// A new connection bound as the service account (or anonymous without a bind DN).
    async fn service_connection(&self) -> Result<Ldap, DirectoryUnavailable> {
        let mut ldap = self.connect().await?;
        if !self.settings.bind_dn.is_empty() {
            let result = ldap
                .with_timeout(self.settings.operation_timeout)
                .simple_bind(&self.settings.bind_dn, self.settings.bind_password.expose())
                .await
                .map_err(|e| unavailable("service bind", e))?;
            if result.rc != 0 {
                // The service account is refused: nobody can be looked up.
                return Err(unavailable(
                    "service bind",
                    format!("refused with result code {}", result.rc),
                ));
            }
        }
        Ok(ldap)
    }

    /// Runs a search as the service account, on a pooled connection; a pooled connection that
    /// fails is dropped and the search tried once more on a new one.
    async fn search(
        &self,
        base: &str,
        filter: &str,
        attrs: &[String],
        paged: bool,
    ) -> Result<Vec<DirectoryEntry>, DirectoryUnavailable> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| unavailable("pool", e))?;
        for attempt in 0..2 {
            let pooled = self.idle.lock().ok().and_then(|mut idle| idle.pop());
            let reused = pooled.is_some();
            let mut ldap = match pooled {
                Some(l) => l,
                None => self.service_connection().await?,
            };
            match self.run_search(&mut ldap, base, filter, attrs, paged).await {
                Ok(entries) => {
                    if let Ok(mut idle) = self.idle.lock() {
                        idle.push(ldap);
                    }
                    return Ok(entries);
                }
                Err(e) if reused && attempt == 0 => {
                    tracing::debug!(error = %e, "a pooled LDAP connection failed; reconnecting");
                }
                Err(e) => return Err(e),
            }
        }
        Err(unavailable("search", "no connection"))
    }

    async fn run_search(
        &self,
        ldap: &mut Ldap,
        base: &str,
        filter: &str,
        attrs: &[String],
        paged: bool,
    ) -> Result<Vec<DirectoryEntry>, DirectoryUnavailable> {
        let limit = self.settings.operation_timeout;
        let mut adapters: Vec<Box<dyn Adapter<'_, &str, Vec<&str>>>> =
            vec![Box::new(EntriesOnly::new())];
        if paged {
            adapters.push(Box::new(PagedResults::new(PAGE_SIZE)));
        }
        let attrs: Vec<&str> = attrs.iter().map(String::as_str).collect();
        let mut stream = ldap
            .with_timeout(limit)
            .streaming_search_with(adapters, base, Scope::Subtree, filter, attrs)
            .await
            .map_err(|e| unavailable("search", e))?;
        let mut entries = Vec::new();
        loop {
            let next = tokio::time::timeout(limit, stream.next())
                .await
                .map_err(|_| unavailable("search", "timed out"))?
                .map_err(|e| unavailable("search", e))?;
            let Some(raw) = next else { break };
            let entry = SearchEntry::construct(raw);
            entries.push(DirectoryEntry {
                dn: entry.dn,
                attrs: entry.attrs,
            });
        }
        let result = stream.finish().await;
        // 32 (noSuchObject): the base does not exist, which lists nothing.
        if result.rc != 0 && result.rc != 32 {
            return Err(unavailable(
                "search",
                format!("result code {}: {}", result.rc, result.text),
            ));
        }
        Ok(entries)
    }
}

#[async_trait]
impl Directory for LdapDirectory {
    async fn find_user(&self, login: &str) -> Result<Option<DirectoryEntry>, DirectoryUnavailable> {
        let filter = render_filter(&self.settings.user_filter, &[("login", login)]);
        let attrs = self.settings.mapping.user_attributes();
        let mut found = self
            .search(&self.settings.user_base, &filter, &attrs, false)
            .await?;
        if found.len() > 1 {
            tracing::warn!(
                count = found.len(),
                "the LDAP user filter matches several entries for one login; nobody is signed in"
            );
            return Ok(None);
        }
        Ok(found.pop())
    }

    async fn check_password(&self, dn: &str, password: &str) -> Result<bool, DirectoryUnavailable> {
        if password.is_empty() || dn.is_empty() {
            return Ok(false);
        }
        let mut ldap = self.connect().await?;
        let result = ldap
            .with_timeout(self.settings.operation_timeout)
            .simple_bind(dn, password)
            .await
            .map_err(|e| unavailable("user bind", e));
        let _ = ldap.unbind().await;
        match result?.rc {
            0 => Ok(true),
            INVALID_CREDENTIALS | INAPPROPRIATE_AUTHENTICATION | UNWILLING_TO_PERFORM => Ok(false),
            rc => Err(unavailable(
                "user bind",
                format!("unexpected result code {rc}"),
            )),
        }
    }

    async fn groups_of(
        &self,
        user: &DirectoryEntry,
        login: &str,
    ) -> Result<Vec<DirectoryEntry>, DirectoryUnavailable> {
        let filter = render_filter(
            &self.settings.group_filter,
            &[("dn", &user.dn), ("login", login)],
        );
        let attrs = vec![self.settings.mapping.group_name.clone()];
        self.search(&self.settings.group_base, &filter, &attrs, true)
            .await
    }

    async fn list_users(&self) -> Result<Vec<DirectoryEntry>, DirectoryUnavailable> {
        let filter = list_filter(&self.settings.user_filter);
        let attrs = self.settings.mapping.user_attributes();
        self.search(&self.settings.user_base, &filter, &attrs, true)
            .await
    }

    async fn list_groups(&self) -> Result<Vec<DirectoryEntry>, DirectoryUnavailable> {
        let attrs = self.settings.mapping.group_attributes();
        self.search(
            &self.settings.group_base,
            &self.settings.group_list_filter,
            &attrs,
            true,
        )
        .await
    }

    async fn list_users_changed(
        &self,
        since: &str,
    ) -> Result<Vec<DirectoryEntry>, DirectoryUnavailable> {
        let filter = format!(
            "(&{}({}>={}))",
            list_filter(&self.settings.user_filter),
            self.settings.mapping.changed,
            escape_filter_value(since)
        );
        let attrs = self.settings.mapping.user_attributes();
        self.search(&self.settings.user_base, &filter, &attrs, true)
            .await
    }

    fn scope(&self) -> String {
        let s = &self.settings;
        // A different server, base, filter or attribute makes a saved mark meaningless.
        [
            s.url.as_str(),
            &s.user_base,
            &s.user_filter,
            &s.group_base,
            &s.group_list_filter,
            &s.mapping.changed,
        ]
        .join("\n")
    }
}

/// TLS to the directory: the CA file's certificates, else the system's roots.
fn tls_config(settings: &LdapSettings) -> anyhow::Result<rustls::ClientConfig> {
    use anyhow::Context as _;
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    match &settings.tls_ca_file {
        Some(path) => {
            for cert in CertificateDer::pem_file_iter(path)
                .with_context(|| format!("cannot read [ldap] tls_ca_file {}", path.display()))?
            {
                let cert = cert.with_context(|| {
                    format!(
                        "[ldap] tls_ca_file {} holds a bad certificate",
                        path.display()
                    )
                })?;
                roots
                    .add(cert)
                    .context("[ldap] tls_ca_file: certificate not usable as a root")?;
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            for cert in native.certs {
                let _ = roots.add(cert);
            }
        }
    }
    anyhow::ensure!(
        !roots.is_empty(),
        "[ldap] no CA certificates to verify the directory with: set tls_ca_file"
    );
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS setup")?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
