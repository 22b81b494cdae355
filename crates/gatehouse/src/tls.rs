//! Built-in TLS: `gatehouse serve --tls-cert … --tls-key …` terminates TLS itself with rustls
//! (aws-lc-rs provider), and `gatehouse dev-cert` makes a local CA and a server certificate
//! signed by it, so https issuers work in tests and small deployments.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The certificate chain and private key files (PEM) the server presents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A rustls server configuration from PEM files, with a clear error for each way they can be
/// wrong (missing, unreadable, not PEM, key not matching the certificate).
pub fn server_config(files: &TlsFiles) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let cert_text = std::fs::read(&files.cert)
        .with_context(|| format!("cannot read TLS certificate {}", files.cert.display()))?;
    let chain = CertificateDer::pem_slice_iter(&cert_text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            anyhow::anyhow!(
                "TLS certificate {} is not valid PEM: {e}",
                files.cert.display()
            )
        })?;
    if chain.is_empty() {
        bail!(
            "TLS certificate {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            files.cert.display()
        );
    }
    let key_text = std::fs::read(&files.key)
        .with_context(|| format!("cannot read TLS key {}", files.key.display()))?;
    let key = PrivateKeyDer::from_pem_slice(&key_text).map_err(|_| {
        anyhow::anyhow!(
            "TLS key {} holds no PEM private key (PKCS#8, PKCS#1 or SEC1)",
            files.key.display()
        )
    })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => anyhow::anyhow!(
                "TLS key {} does not match the certificate {}",
                files.key.display(),
                files.cert.display()
            ),
            e => anyhow::anyhow!(
                "TLS certificate {} or key {} is unusable: {e}",
                files.cert.display(),
                files.key.display()
            ),
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// File names of what `gatehouse dev-cert` writes.
pub const DEV_CA_CERT: &str = "dev-ca.pem";
pub const DEV_CA_KEY: &str = "dev-ca-key.pem";
pub const DEV_CERT: &str = "dev-cert.pem";
pub const DEV_KEY: &str = "dev-key.pem";

/// The names every development certificate covers.
pub const DEV_DEFAULT_NAMES: &[&str] = &["localhost", "127.0.0.1", "::1"];

const CA_COMMON_NAME: &str = "Gatehouse Development CA";
const CA_VALIDITY_DAYS: i64 = 3650;
/// Under the 398 days that browsers accept for a server certificate.
const CERT_VALIDITY_DAYS: i64 = 397;

/// What `gatehouse dev-cert` made.
#[derive(Debug, Clone)]
pub struct DevCert {
    pub ca_cert: PathBuf,
    pub ca_key: PathBuf,
    /// False when an existing CA in the data directory was reused.
    pub ca_created: bool,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub names: Vec<String>,
}

/// Makes (or reuses) the local CA in `data_dir` and issues a fresh server certificate for
/// localhost, 127.0.0.1, ::1 and `extra_names` into `out_dir`. Private keys are mode 0600.
pub fn make_dev_cert(
    data_dir: &Path,
    out_dir: &Path,
    extra_names: &[String],
) -> anyhow::Result<DevCert> {
    for dir in [data_dir, out_dir] {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create directory {}", dir.display()))?;
    }
    let data_dir = std::fs::canonicalize(data_dir)?;
    let out_dir = std::fs::canonicalize(out_dir)?;
    let ca_cert_path = data_dir.join(DEV_CA_CERT);
    let ca_key_path = data_dir.join(DEV_CA_KEY);

    let (ca_key, ca_created) = match (ca_cert_path.exists(), ca_key_path.exists()) {
        (true, true) => {
            let pem = std::fs::read_to_string(&ca_key_path)
                .with_context(|| format!("cannot read {}", ca_key_path.display()))?;
            let key = KeyPair::from_pem(&pem).map_err(|e| {
                anyhow::anyhow!("{} is not a usable CA key: {e}", ca_key_path.display())
            })?;
            (key, false)
        }
        (false, false) => {
            let key = KeyPair::generate().context("generating the CA key")?;
            let cert = ca_params()
                .self_signed(&key)
                .context("signing the CA certificate")?;
            write_file(&ca_key_path, &key.serialize_pem(), true)?;
            write_file(&ca_cert_path, &cert.pem(), false)?;
            (key, true)
        }
        _ => bail!(
            "only one of {} and {} exists; remove it to make a new CA",
            ca_cert_path.display(),
            ca_key_path.display()
        ),
    };
    // Signing needs only the CA's name and key, which are the same as when it was made.
    let issuer = Issuer::new(ca_params(), ca_key);

    let mut names: Vec<String> = DEV_DEFAULT_NAMES.iter().map(|s| (*s).to_owned()).collect();
    for name in extra_names {
        let name = name.trim().trim_start_matches('[').trim_end_matches(']');
        if name.is_empty() {
            bail!("--name must not be empty");
        }
        if !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            names.push(name.to_owned());
        }
    }
    let mut params = CertificateParams::new(names.clone())
        .map_err(|e| anyhow::anyhow!("invalid certificate name: {e}"))?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, names[0].clone());
    params.distinguished_name = dn;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(CERT_VALIDITY_DAYS);
    let key = KeyPair::generate().context("generating the server key")?;
    let cert = params
        .signed_by(&key, &issuer)
        .context("signing the server certificate")?;

    let cert_path = out_dir.join(DEV_CERT);
    let key_path = out_dir.join(DEV_KEY);
    write_file(&key_path, &key.serialize_pem(), true)?;
    write_file(&cert_path, &cert.pem(), false)?;
    Ok(DevCert {
        ca_cert: ca_cert_path,
        ca_key: ca_key_path,
        ca_created,
        cert: cert_path,
        key: key_path,
        names,
    })
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, CA_COMMON_NAME);
    dn.push(DnType::OrganizationName, "Gatehouse");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(CA_VALIDITY_DAYS);
    params
}

/// Replaces `path` with `contents`; private files are created with mode 0600 (never widened
/// for a moment, since the old file is removed first and the new one created with the mode).
fn write_file(path: &Path, contents: &str, private: bool) -> anyhow::Result<()> {
    use std::io::Write as _;
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot replace {}", path.display())),
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, if private { 0o600 } else { 0o644 });
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(contents.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// The lines `gatehouse dev-cert` prints: how to serve with the certificate and how clients
/// trust the CA.
pub fn dev_cert_instructions(made: &DevCert, bind: &str) -> String {
    let ca = made.ca_cert.display();
    let cert = made.cert.display();
    let key = made.key.display();
    let port = bind.rsplit(':').next().unwrap_or("8080");
    let state = if made.ca_created { "created" } else { "reused" };
    format!(
        "Development certificate for {names}\n\
         \x20 CA certificate:     {ca} ({state}; its key {ca_key} is mode 0600)\n\
         \x20 server certificate: {cert}\n\
         \x20 server key:         {key} (mode 0600)\n\
         \n\
         Serve https with it:\n\
         \x20 gatehouse serve --tls-cert {cert} --tls-key {key}\n\
         or in gatehouse.toml:\n\
         \x20 tls_cert = \"{cert}\"\n\
         \x20 tls_key = \"{key}\"\n\
         or in the environment:\n\
         \x20 export GATEHOUSE_TLS_CERT={cert} GATEHOUSE_TLS_KEY={key}\n\
         \n\
         Trust the CA in clients (these replace or extend the system roots for that process):\n\
         \x20 export SSL_CERT_FILE={ca}        # OpenSSL-based: Python ssl/aiohttp/httpx, Ruby, curl builds using OpenSSL\n\
         \x20 export REQUESTS_CA_BUNDLE={ca}   # Python requests\n\
         \x20 export NODE_EXTRA_CA_CERTS={ca}  # Node.js\n\
         \x20 curl --cacert {ca} https://localhost:{port}/oauth2/default/.well-known/openid-configuration\n",
        names = made.names.join(", "),
        ca_key = made.ca_key.display(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "gatehouse-tls-{tag}-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn dev_cert_reuses_its_ca_and_loads() -> anyhow::Result<()> {
        let dir = temp_dir("reuse");
        let first = make_dev_cert(&dir, &dir, &["id.test".into()])?;
        assert!(first.ca_created);
        assert!(first.names.contains(&"id.test".to_owned()));
        let ca_before = std::fs::read_to_string(&first.ca_cert)?;
        let second = make_dev_cert(&dir, &dir, &[])?;
        assert!(!second.ca_created);
        assert_eq!(std::fs::read_to_string(&second.ca_cert)?, ca_before);
        server_config(&TlsFiles {
            cert: second.cert.clone(),
            key: second.key.clone(),
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            for key in [&second.key, &second.ca_key] {
                let mode = std::fs::metadata(key)?.permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{}", key.display());
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }

    #[test]
    fn bad_files_give_clear_errors() -> anyhow::Result<()> {
        let dir = temp_dir("bad");
        let made = make_dev_cert(&dir, &dir, &[])?;
        let err = |files: TlsFiles| match server_config(&files) {
            Ok(_) => String::from("accepted"),
            Err(e) => format!("{e:#}"),
        };
        let missing = dir.join("nope.pem");
        let e = err(TlsFiles {
            cert: missing.clone(),
            key: made.key.clone(),
        });
        assert!(e.contains("cannot read TLS certificate"), "{e}");
        let e = err(TlsFiles {
            cert: made.cert.clone(),
            key: missing,
        });
        assert!(e.contains("cannot read TLS key"), "{e}");
        let e = err(TlsFiles {
            cert: made.key.clone(),
            key: made.key.clone(),
        });
        assert!(e.contains("holds no PEM certificate"), "{e}");
        let e = err(TlsFiles {
            cert: made.cert.clone(),
            key: made.cert.clone(),
        });
        assert!(e.contains("holds no PEM private key"), "{e}");
        // The CA's key with the server's certificate.
        let e = err(TlsFiles {
            cert: made.cert.clone(),
            key: made.ca_key.clone(),
        });
        assert!(e.contains("does not match the certificate"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}
