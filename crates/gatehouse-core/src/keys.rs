//! Signing keys: generation, the JWKS each authorization server publishes, JWT signing and
//! verification of our own tokens.
//!
//! Keys live in the database (sealed); each node caches the parsed keys for a short time so that
//! a rotation made on one node is picked up by the others.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::crypto::{SecretBox, SecretBoxError};
use crate::domain::{KeyStatus, SigningKey, Timestamp};
use crate::store::{Store, StoreError};

/// How long a node trusts its cached copy of a key set before reading the database again.
const CACHE_TTL: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no active signing key for authorization server {0}")]
    NoActiveKey(String),
    #[error("key generation failed")]
    Generation,
    #[error("stored key is unusable: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Sealed(#[from] SecretBoxError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing failed")]
    Signing,
}

/// Why a presented token was refused. Deliberately coarse: callers answer `invalid_token`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenRejected {
    #[error("malformed token")]
    Malformed,
    #[error("unsupported algorithm")]
    Algorithm,
    #[error("unknown key")]
    UnknownKey,
    #[error("bad signature or claims: {0}")]
    Invalid(String),
}

struct LoadedKey {
    kid: String,
    /// Only the active key is parsed for signing.
    pair: Option<RsaKeyPair>,
    decoding: DecodingKey,
    jwk: Value,
}

struct LoadedKeySet {
    loaded_at: Instant,
    active: Option<Arc<LoadedKey>>,
    keys: Vec<Arc<LoadedKey>>,
    jwks: Arc<Value>,
}

pub struct KeyRing {
    store: Arc<dyn Store>,
    secrets: Arc<SecretBox>,
    cache: RwLock<HashMap<String, Arc<LoadedKeySet>>>,
    rng: SystemRandom,
}

fn sealing_context(kid: &str) -> String {
    format!("signing-key:{kid}")
}

/// The RFC 7638 thumbprint of an RSA public key, used as its `kid` (43 base64url characters,
/// the same shape as Okta's).
fn rsa_thumbprint(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

impl KeyRing {
    pub fn new(store: Arc<dyn Store>, secrets: Arc<SecretBox>) -> Self {
        Self {
            store,
            secrets,
            cache: RwLock::new(HashMap::new()),
            rng: SystemRandom::new(),
        }
    }

    /// Generates a 2048-bit RSA key, stores it sealed, and returns its record.
    pub async fn generate_key(
        &self,
        auth_server_id: &str,
        status: KeyStatus,
        now: Timestamp,
    ) -> Result<SigningKey, KeyError> {
        // RSA generation takes ~100 ms; keep it off the async runtime.
        let pair = tokio::task::spawn_blocking(|| RsaKeyPair::generate(KeySize::Rsa2048))
            .await
            .map_err(|_| KeyError::Generation)?
            .map_err(|_| KeyError::Generation)?;
        let pkcs8 = pair.as_der().map_err(|_| KeyError::Generation)?;
        let public = pair.public_key();
        let n = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
        let e = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
        let kid = rsa_thumbprint(&n, &e);
        let jwk = json!({"kty": "RSA", "alg": "RS256", "kid": kid, "use": "sig", "e": e, "n": n});
        let key = SigningKey {
            private_key_sealed: self.secrets.seal(&sealing_context(&kid), pkcs8.as_ref()),
            kid,
            auth_server_id: auth_server_id.to_owned(),
            alg: "RS256".into(),
            status,
            public_jwk: jwk.to_string(),
            created: now,
        };
        self.store.add_signing_key(&key).await?;
        self.invalidate(auth_server_id);
        Ok(key)
    }

    /// Makes sure the server has an active key (first start).
    pub async fn ensure_active_key(
        &self,
        auth_server_id: &str,
        now: Timestamp,
    ) -> Result<(), KeyError> {
        let keys = self.store.list_signing_keys(auth_server_id).await?;
        if !keys.iter().any(|k| k.status == KeyStatus::Active) {
            self.generate_key(auth_server_id, KeyStatus::Active, now)
                .await?;
        }
        Ok(())
    }

    /// Retires the active key (it stays published, for verification, until purged) and activates
    /// a new one.
    pub async fn rotate(
        &self,
        auth_server_id: &str,
        now: Timestamp,
    ) -> Result<SigningKey, KeyError> {
        let keys = self.store.list_signing_keys(auth_server_id).await?;
        let new_key = self
            .generate_key(auth_server_id, KeyStatus::Next, now)
            .await?;
        for k in keys.iter().filter(|k| k.status == KeyStatus::Active) {
            self.store
                .set_signing_key_status(&k.kid, KeyStatus::Expired)
                .await?;
        }
        self.store
            .set_signing_key_status(&new_key.kid, KeyStatus::Active)
            .await?;
        self.invalidate(auth_server_id);
        Ok(SigningKey {
            status: KeyStatus::Active,
            ..new_key
        })
    }

    pub fn invalidate(&self, auth_server_id: &str) {
        if let Ok(mut cache) = self.cache.write() {
            cache.remove(auth_server_id);
        }
    }

    fn cached(&self, auth_server_id: &str) -> Option<Arc<LoadedKeySet>> {
        let cache = self.cache.read().ok()?;
        cache
            .get(auth_server_id)
            .filter(|s| s.loaded_at.elapsed() < CACHE_TTL)
            .cloned()
    }

    async fn key_set(&self, auth_server_id: &str) -> Result<Arc<LoadedKeySet>, KeyError> {
        if let Some(set) = self.cached(auth_server_id) {
            return Ok(set);
        }
        self.load(auth_server_id).await
    }

    async fn load(&self, auth_server_id: &str) -> Result<Arc<LoadedKeySet>, KeyError> {
        let records = self.store.list_signing_keys(auth_server_id).await?;
        let mut keys = Vec::with_capacity(records.len());
        let mut active = None;
        for rec in records {
            let jwk: Value = serde_json::from_str(&rec.public_jwk)
                .map_err(|e| KeyError::Corrupt(e.to_string()))?;
            let (Some(n), Some(e)) = (jwk["n"].as_str(), jwk["e"].as_str()) else {
                return Err(KeyError::Corrupt(format!("key {} lacks n or e", rec.kid)));
            };
            let decoding = DecodingKey::from_rsa_components(n, e)
                .map_err(|e| KeyError::Corrupt(e.to_string()))?;
            let is_active = rec.status == KeyStatus::Active && active.is_none();
            let pair = if is_active {
                let der = self
                    .secrets
                    .open(&sealing_context(&rec.kid), &rec.private_key_sealed)?;
                Some(RsaKeyPair::from_pkcs8(&der).map_err(|e| KeyError::Corrupt(e.to_string()))?)
            } else {
                None
            };
            let loaded = Arc::new(LoadedKey {
                kid: rec.kid.clone(),
                pair,
                decoding,
                jwk,
            });
            if is_active {
                active = Some(loaded.clone());
            }
            keys.push(loaded);
        }
        let jwks =
            Arc::new(json!({ "keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() }));
        let set = Arc::new(LoadedKeySet {
            loaded_at: Instant::now(),
            active,
            keys,
            jwks,
        });
        if let Ok(mut cache) = self.cache.write() {
            cache.insert(auth_server_id.to_owned(), set.clone());
        }
        Ok(set)
    }

    /// The server's published key set (`{"keys":[…]}`).
    pub async fn jwks(&self, auth_server_id: &str) -> Result<Arc<Value>, KeyError> {
        Ok(self.key_set(auth_server_id).await?.jwks.clone())
    }

    /// Signs `claims` as a compact JWS with header `{"kid","alg":"RS256"}` (Okta sends no `typ`).
    pub async fn sign<C: Serialize>(
        &self,
        auth_server_id: &str,
        claims: &C,
    ) -> Result<String, KeyError> {
        let set = self.key_set(auth_server_id).await?;
        let key = set
            .active
            .as_ref()
            .ok_or_else(|| KeyError::NoActiveKey(auth_server_id.to_owned()))?;
        let pair = key
            .pair
            .as_ref()
            .ok_or_else(|| KeyError::NoActiveKey(auth_server_id.to_owned()))?;
        let header = json!({"kid": key.kid, "alg": "RS256"});
        let payload = serde_json::to_vec(claims).map_err(|_| KeyError::Signing)?;
        let mut out = String::with_capacity(1024);
        out.push_str(&URL_SAFE_NO_PAD.encode(header.to_string()));
        out.push('.');
        out.push_str(&URL_SAFE_NO_PAD.encode(payload));
        let mut sig = vec![0u8; pair.public_modulus_len()];
        pair.sign(&RSA_PKCS1_SHA256, &self.rng, out.as_bytes(), &mut sig)
            .map_err(|_| KeyError::Signing)?;
        out.push('.');
        out.push_str(&URL_SAFE_NO_PAD.encode(sig));
        Ok(out)
    }

    /// Verifies a token this server signed: RS256 only, a known `kid`, signature and `exp`.
    /// Issuer and audience are the caller's to check.
    pub async fn verify(&self, auth_server_id: &str, token: &str) -> Result<Value, TokenRejected> {
        self.verify_with(auth_server_id, token, true).await
    }

    /// As [`Self::verify`] but accepts an expired token: OIDC logout takes expired ID token hints.
    pub async fn verify_ignoring_expiry(
        &self,
        auth_server_id: &str,
        token: &str,
    ) -> Result<Value, TokenRejected> {
        self.verify_with(auth_server_id, token, false).await
    }

    async fn verify_with(
        &self,
        auth_server_id: &str,
        token: &str,
        check_exp: bool,
    ) -> Result<Value, TokenRejected> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenRejected::Malformed)?;
        if header.alg != Algorithm::RS256 {
            return Err(TokenRejected::Algorithm);
        }
        let kid = header.kid.ok_or(TokenRejected::UnknownKey)?;
        let mut set = self
            .key_set(auth_server_id)
            .await
            .map_err(|_| TokenRejected::UnknownKey)?;
        if !set.keys.iter().any(|k| k.kid == kid) {
            // A key rotated on another node: read the database once more.
            set = self
                .load(auth_server_id)
                .await
                .map_err(|_| TokenRejected::UnknownKey)?;
        }
        let key = set
            .keys
            .iter()
            .find(|k| k.kid == kid)
            .ok_or(TokenRejected::UnknownKey)?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_aud = false;
        validation.leeway = 0;
        validation.validate_exp = check_exp;
        validation.set_required_spec_claims(&["exp", "iss"]);
        jsonwebtoken::decode::<Value>(token, &key.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| TokenRejected::Invalid(e.to_string()))
    }
}
