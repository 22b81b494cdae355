//! Signing keys: generation, the JWKS each authorization server publishes, JWT signing and
//! verification of our own tokens.
//!
//! Keys live in the database (sealed); each node caches the parsed keys. A key change is one
//! transaction (readers see the old active key or the new one, never none); other nodes drop
//! their copy when the database notifies them (`crate::services::changes`), at the latest when
//! it expires ([`CACHE_TTL`]), and re-read it for a token naming a `kid` they do not know.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair as RsaKeyPair;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, ParsedPublicKey,
    RSA_PKCS1_SHA256,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use serde::Serialize;
use serde_json::{Value, json};

use crate::crypto::{SecretBox, SecretBoxError};
use crate::domain::{KeyStatus, SigningAlg, SigningKey, Timestamp};
use crate::store::{KeyChange, Store, StoreError};

/// How long a node trusts its cached copy of a key set before reading the database again.
const CACHE_TTL: Duration = Duration::from_secs(30);
/// Tries of a key change that lost a race with another node's change of the same server.
const KEY_CHANGE_ATTEMPTS: usize = 5;
/// A token naming a `kid` this node does not know makes it read the server's keys again (a key
/// activated on another node), at most this often per server: unknown `kid`s are free to send.
const UNKNOWN_KID_RELOAD_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no active signing key for authorization server {0}")]
    NoActiveKey(String),
    #[error("no authorization server {0}")]
    NoServer(String),
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
    #[error("the signing keys of authorization server {0} kept changing; try again")]
    Contended(String),
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

/// The private half of the active key, parsed once per cache load.
enum Signer {
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

impl Signer {
    fn from_pkcs8(alg: SigningAlg, der: &[u8]) -> Result<Self, KeyError> {
        let corrupt = |e: aws_lc_rs::error::KeyRejected| KeyError::Corrupt(e.to_string());
        Ok(match alg {
            SigningAlg::Rs256 => Self::Rsa(RsaKeyPair::from_pkcs8(der).map_err(corrupt)?),
            SigningAlg::Es256 => Self::Ecdsa(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der).map_err(corrupt)?,
            ),
            SigningAlg::EdDsa => {
                Self::Ed25519(Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(corrupt)?)
            }
        })
    }

    /// The JWS signature of `input` (RSASSA-PKCS1-v1_5, fixed-size `r ‖ s`, or Ed25519).
    fn sign(&self, rng: &SystemRandom, input: &[u8]) -> Result<Vec<u8>, KeyError> {
        match self {
            Self::Rsa(pair) => {
                let mut sig = vec![0u8; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, rng, input, &mut sig)
                    .map_err(|_| KeyError::Signing)?;
                Ok(sig)
            }
            Self::Ecdsa(pair) => Ok(pair
                .sign(rng, input)
                .map_err(|_| KeyError::Signing)?
                .as_ref()
                .to_vec()),
            Self::Ed25519(pair) => Ok(pair.sign(input).as_ref().to_vec()),
        }
    }
}

struct LoadedKey {
    kid: String,
    alg: SigningAlg,
    /// Only the active key is parsed for signing.
    signer: Option<Signer>,
    /// The base64url JWS header `{"kid","alg"}` followed by `.`, for the active key.
    header_prefix: String,
    /// Parsed once, for every token this key verifies.
    verifier: ParsedPublicKey,
    /// The tokens it verified (see [`verify::VerifiedTokens`]), gone with this copy.
    verified: verify::VerifiedTokens,
    jwk: Value,
}

struct LoadedKeySet {
    loaded_at: Instant,
    active: Option<Arc<LoadedKey>>,
    keys: Vec<Arc<LoadedKey>>,
    jwks: Arc<Value>,
    /// `jwks`, serialized once.
    jwks_bytes: Bytes,
}

pub struct KeyRing {
    store: Arc<dyn Store>,
    secrets: Arc<SecretBox>,
    cache: RwLock<HashMap<String, Arc<LoadedKeySet>>>,
    /// When each server's keys were last re-read for an unknown `kid`.
    reloads: Mutex<HashMap<String, Instant>>,
    /// How long a new key is published (as `NEXT`) before it signs, in milliseconds.
    publication_delay_ms: AtomicU64,
    rng: SystemRandom,
}

/// The active signing key of one server, as loaded by this node.
pub struct ActiveKey<'a> {
    ring: &'a KeyRing,
    key: Arc<LoadedKey>,
}

impl ActiveKey<'_> {
    pub fn alg(&self) -> SigningAlg {
        self.key.alg
    }

    pub fn kid(&self) -> &str {
        &self.key.kid
    }

    /// Signs `claims` as a compact JWS with header `{"kid","alg"}` (Okta sends no `typ`).
    pub fn sign<C: Serialize>(&self, claims: &C) -> Result<String, KeyError> {
        let signer = self.key.signer.as_ref().ok_or(KeyError::Signing)?;
        // Sized for a typical access token's claims: written once, not grown from 128 bytes.
        let mut payload = Vec::with_capacity(512);
        serde_json::to_writer(&mut payload, claims).map_err(|_| KeyError::Signing)?;
        let prefix = &self.key.header_prefix;
        let mut out = String::with_capacity(prefix.len() + payload.len() * 4 / 3 + 400);
        out.push_str(prefix);
        URL_SAFE_NO_PAD.encode_string(payload, &mut out);
        let sig = signer.sign(&self.ring.rng, out.as_bytes())?;
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(sig, &mut out);
        Ok(out)
    }

    /// Signs `claims` as a compact JWS with header `{"kid","alg","typ"}` (a logout token's
    /// `logout+jwt`, OpenID Connect Back-Channel Logout 1.0 §2.4).
    pub fn sign_typed<C: Serialize>(&self, claims: &C, typ: &str) -> Result<String, KeyError> {
        let signer = self.key.signer.as_ref().ok_or(KeyError::Signing)?;
        let header = json!({"kid": self.key.kid, "alg": self.key.alg.as_str(), "typ": typ});
        let mut out = URL_SAFE_NO_PAD.encode(header.to_string());
        out.push('.');
        let payload = serde_json::to_vec(claims).map_err(|_| KeyError::Signing)?;
        URL_SAFE_NO_PAD.encode_string(payload, &mut out);
        let sig = signer.sign(&self.ring.rng, out.as_bytes())?;
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(sig, &mut out);
        Ok(out)
    }
}

mod detached;
mod material;
mod verify;
pub use detached::{DetachedKey, generate_detached, sign_detached};
use material::generate;

fn sealing_context(kid: &str) -> String {
    format!("signing-key:{kid}")
}

impl KeyRing {
    pub fn new(store: Arc<dyn Store>, secrets: Arc<SecretBox>) -> Self {
        Self {
            store,
            secrets,
            cache: RwLock::new(HashMap::new()),
            reloads: Mutex::new(HashMap::new()),
            publication_delay_ms: AtomicU64::new(0),
            rng: SystemRandom::new(),
        }
    }

    /// With several nodes: a key that replaces an active one is first stored as `NEXT`, in every
    /// node's JWKS (the change feed tells them), and signs only after `delay`, so no token names
    /// a key some node's JWKS lacks. Zero (the default, one node) activates it at once.
    pub fn set_publication_delay(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.publication_delay_ms.store(ms, Ordering::Relaxed);
    }

    /// Stores `key` as `NEXT` (published, not signing) and waits the publication delay, if any.
    async fn publish_ahead(&self, key: &SigningKey) -> Result<(), KeyError> {
        let delay = Duration::from_millis(self.publication_delay_ms.load(Ordering::Relaxed));
        if delay.is_zero() {
            return Ok(());
        }
        let next = SigningKey {
            status: KeyStatus::Next,
            ..key.clone()
        };
        self.store.add_signing_key(&next).await?;
        self.invalidate(&key.auth_server_id);
        tokio::time::sleep(delay).await;
        Ok(())
    }

    /// A new key of `alg` (RSA-2048, P-256 or Ed25519), sealed, not stored yet.
    async fn new_key(
        &self,
        auth_server_id: &str,
        alg: SigningAlg,
        status: KeyStatus,
        now: Timestamp,
    ) -> Result<SigningKey, KeyError> {
        // RSA generation takes ~100 ms; keep it off the async runtime.
        let new = tokio::task::spawn_blocking(move || generate(alg))
            .await
            .map_err(|_| KeyError::Generation)??;
        Ok(SigningKey {
            private_key_sealed: self.secrets.seal(&sealing_context(&new.kid), &new.pkcs8),
            kid: new.kid,
            auth_server_id: auth_server_id.to_owned(),
            alg: alg.as_str().into(),
            status,
            public_jwk: new.jwk.to_string(),
            created: now,
        })
    }

    /// Generates a key of `alg`, stores it sealed with `status`, and returns its record. (To
    /// change the active key, use [`Self::rotate`] or [`Self::ensure_active_key`]: they do it
    /// in one transaction.)
    pub async fn generate_key(
        &self,
        auth_server_id: &str,
        alg: SigningAlg,
        status: KeyStatus,
        now: Timestamp,
    ) -> Result<SigningKey, KeyError> {
        let key = self.new_key(auth_server_id, alg, status, now).await?;
        self.store.add_signing_key(&key).await?;
        self.invalidate(auth_server_id);
        Ok(key)
    }

    /// Makes sure the server has an active key of its configured algorithm: on first start, and
    /// after the algorithm changed (then the old key is retired but stays published). Safe on
    /// several nodes at once: one of them creates the key, the others find it.
    pub async fn ensure_active_key(
        &self,
        auth_server_id: &str,
        now: Timestamp,
    ) -> Result<(), KeyError> {
        let alg = self.server_alg(auth_server_id).await?;
        let mut new_key = None;
        for _ in 0..KEY_CHANGE_ATTEMPTS {
            let keys = self.store.list_signing_keys(auth_server_id).await?;
            let active = keys.iter().find(|k| k.status == KeyStatus::Active);
            if active.is_some_and(|k| k.alg == alg.as_str()) {
                return Ok(());
            }
            let key = match new_key.take() {
                Some(k) => k,
                None => {
                    let k = self
                        .new_key(auth_server_id, alg, KeyStatus::Active, now)
                        .await?;
                    // Nothing signs before a server's first key: no need to wait for that one.
                    if active.is_some() {
                        self.publish_ahead(&k).await?;
                    }
                    k
                }
            };
            let expected = active.map(|k| k.kid.as_str());
            if self.replace_active(auth_server_id, expected, &key).await? {
                return Ok(());
            }
            // Another node changed the keys first: look again (the unused key can still serve).
            new_key = Some(key);
        }
        Err(KeyError::Contended(auth_server_id.to_owned()))
    }

    async fn server_alg(&self, auth_server_id: &str) -> Result<SigningAlg, KeyError> {
        Ok(self
            .store
            .find_auth_server(auth_server_id)
            .await?
            .ok_or_else(|| KeyError::NoServer(auth_server_id.to_owned()))?
            .signing_alg)
    }

    /// Retires the active key (it stays published, for verification, until purged) and activates
    /// a new one of the server's configured algorithm, in one transaction: every reader, on any
    /// node, sees either the old active key or the new one.
    pub async fn rotate(
        &self,
        auth_server_id: &str,
        now: Timestamp,
    ) -> Result<SigningKey, KeyError> {
        let alg = self.server_alg(auth_server_id).await?;
        let key = self
            .new_key(auth_server_id, alg, KeyStatus::Active, now)
            .await?;
        self.publish_ahead(&key).await?;
        for _ in 0..KEY_CHANGE_ATTEMPTS {
            let keys = self.store.list_signing_keys(auth_server_id).await?;
            let expected = keys
                .iter()
                .find(|k| k.status == KeyStatus::Active)
                .map(|k| k.kid.as_str());
            if self.replace_active(auth_server_id, expected, &key).await? {
                return Ok(key);
            }
        }
        Err(KeyError::Contended(auth_server_id.to_owned()))
    }

    /// [`crate::store::SetupStore::replace_active_signing_key`], then forgets this node's copy.
    async fn replace_active(
        &self,
        auth_server_id: &str,
        expected_active: Option<&str>,
        key: &SigningKey,
    ) -> Result<bool, KeyError> {
        let done = self
            .store
            .replace_active_signing_key(&KeyChange {
                auth_server_id,
                expected_active,
                new_active: key,
            })
            .await?;
        self.invalidate(auth_server_id);
        Ok(done)
    }

    /// True at most once per [`UNKNOWN_KID_RELOAD_INTERVAL`] per server.
    fn may_reload(&self, auth_server_id: &str) -> bool {
        let Ok(mut last) = self.reloads.lock() else {
            return false;
        };
        let now = Instant::now();
        match last.get(auth_server_id) {
            Some(at) if now.duration_since(*at) < UNKNOWN_KID_RELOAD_INTERVAL => false,
            _ => {
                if last.len() > 1024 {
                    last.clear();
                }
                last.insert(auth_server_id.to_owned(), now);
                true
            }
        }
    }

    /// Forgets every server's cached keys (the change feed missed changes).
    pub fn invalidate_all(&self) {
        if let Ok(mut cache) = self.cache.write() {
            cache.clear();
        }
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
            let alg = SigningAlg::parse(&rec.alg).ok_or_else(|| {
                KeyError::Corrupt(format!("key {} has algorithm {}", rec.kid, rec.alg))
            })?;
            let jwk: Value = serde_json::from_str(&rec.public_jwk)
                .map_err(|e| KeyError::Corrupt(e.to_string()))?;
            let verifier = verify::public_key(alg, &rec.kid, &jwk)?;
            let is_active = rec.status == KeyStatus::Active && active.is_none();
            let (signer, header_prefix) = if is_active {
                let der = self
                    .secrets
                    .open(&sealing_context(&rec.kid), &rec.private_key_sealed)?;
                let header = json!({"kid": rec.kid, "alg": alg.as_str()}).to_string();
                let mut prefix = URL_SAFE_NO_PAD.encode(header);
                prefix.push('.');
                (Some(Signer::from_pkcs8(alg, &der)?), prefix)
            } else {
                (None, String::new())
            };
            let loaded = Arc::new(LoadedKey {
                kid: rec.kid.clone(),
                alg,
                signer,
                header_prefix,
                verifier,
                verified: verify::VerifiedTokens::default(),
                jwk,
            });
            if is_active {
                active = Some(loaded.clone());
            }
            keys.push(loaded);
        }
        let jwks =
            Arc::new(json!({ "keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() }));
        let jwks_bytes = Bytes::from(jwks.to_string());
        let set = Arc::new(LoadedKeySet {
            loaded_at: Instant::now(),
            active,
            keys,
            jwks,
            jwks_bytes,
        });
        // A set without an active key is not kept: every reader would sign nothing until it
        // expired. (Key changes are atomic, so this is a server being created or deleted.)
        if set.active.is_some()
            && let Ok(mut cache) = self.cache.write()
        {
            cache.insert(auth_server_id.to_owned(), set.clone());
        }
        Ok(set)
    }

    /// The server's published key set (`{"keys":[…]}`).
    pub async fn jwks(&self, auth_server_id: &str) -> Result<Arc<Value>, KeyError> {
        Ok(self.key_set(auth_server_id).await?.jwks.clone())
    }

    /// The server's published key set as serialized JSON (what `keys` answers).
    pub async fn jwks_bytes(&self, auth_server_id: &str) -> Result<Bytes, KeyError> {
        Ok(self.key_set(auth_server_id).await?.jwks_bytes.clone())
    }

    /// The algorithms tokens of this server may be signed with: the active key's first, then
    /// those of retired keys that are still published (tokens they signed may still be live).
    pub async fn algorithms(&self, auth_server_id: &str) -> Result<Vec<SigningAlg>, KeyError> {
        let set = self.key_set(auth_server_id).await?;
        let mut algs: Vec<SigningAlg> = set.active.iter().map(|k| k.alg).collect();
        for k in &set.keys {
            if !algs.contains(&k.alg) {
                algs.push(k.alg);
            }
        }
        Ok(algs)
    }

    /// The server's active key, to sign one or more tokens with (the same key and algorithm).
    pub async fn active_key(&self, auth_server_id: &str) -> Result<ActiveKey<'_>, KeyError> {
        let set = self.key_set(auth_server_id).await?;
        let key = set
            .active
            .clone()
            .filter(|k| k.signer.is_some())
            .ok_or_else(|| KeyError::NoActiveKey(auth_server_id.to_owned()))?;
        Ok(ActiveKey { ring: self, key })
    }

    /// Signs `claims` with the server's active key (see [`ActiveKey::sign`]).
    pub async fn sign<C: Serialize>(
        &self,
        auth_server_id: &str,
        claims: &C,
    ) -> Result<String, KeyError> {
        self.active_key(auth_server_id).await?.sign(claims)
    }

    /// Verifies a token this server signed: a known `kid`, the algorithm of that key, signature
    /// and `exp`. Issuer and audience are the caller's to check.
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
        let token = verify::Compact::parse(token)?;
        if !matches!(token.header.alg.as_str(), "RS256" | "ES256" | "EdDSA") {
            return Err(TokenRejected::Algorithm);
        }
        let kid = token
            .header
            .kid
            .as_deref()
            .ok_or(TokenRejected::UnknownKey)?;
        let mut set = self
            .key_set(auth_server_id)
            .await
            .map_err(|_| TokenRejected::UnknownKey)?;
        if !set.keys.iter().any(|k| k.kid == kid) && self.may_reload(auth_server_id) {
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
        // The key decides the algorithm; a header naming another one is refused.
        token.verify_remembered(key.alg, &key.verifier, &key.verified, check_exp)
    }
}
