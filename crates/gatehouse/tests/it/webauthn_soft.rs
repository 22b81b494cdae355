//! A software WebAuthn authenticator for the tests: a P-256 key (aws-lc-rs) answering
//! registrations with `none` attestation and assertions with ES256 signatures, encoded with a
//! CBOR library. It lets the tests choose what a browser never would: another origin, a
//! replayed answer, a counter that does not move.

use anyhow::{Context as _, Result};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_cbor_2::Value as Cbor;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

const FLAG_UP: u8 = 0x01;
const FLAG_UV: u8 = 0x04;
const FLAG_AT: u8 = 0x40;

pub struct SoftKey {
    pair: EcdsaKeyPair,
    pub credential_id: Vec<u8>,
    pub counter: u32,
    /// Whether the authenticator says it verified the person.
    pub user_verified: bool,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn challenge_of(options: &Value) -> Result<String> {
    options["publicKey"]["challenge"]
        .as_str()
        .map(str::to_owned)
        .context("no challenge in the options")
}

fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
    json!({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false})
        .to_string()
        .into_bytes()
}

impl SoftKey {
    pub fn new() -> Result<Self> {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING)
            .map_err(|_| anyhow::anyhow!("cannot generate a P-256 key"))?;
        let id: [u8; 16] = rand_bytes();
        Ok(Self {
            pair,
            credential_id: id.to_vec(),
            counter: 0,
            user_verified: true,
        })
    }

    pub fn credential_id_b64(&self) -> String {
        b64(&self.credential_id)
    }

    fn flags(&self) -> u8 {
        if self.user_verified {
            FLAG_UP | FLAG_UV
        } else {
            FLAG_UP
        }
    }

    /// The credential's public key as a COSE_Key (EC2, P-256, ES256).
    fn cose_key(&self) -> Result<Vec<u8>> {
        let point = self.pair.public_key().as_ref();
        anyhow::ensure!(
            point.len() == 65 && point[0] == 4,
            "not an uncompressed point"
        );
        let mut map = BTreeMap::new();
        map.insert(Cbor::Integer(1), Cbor::Integer(2));
        map.insert(Cbor::Integer(3), Cbor::Integer(-7));
        map.insert(Cbor::Integer(-1), Cbor::Integer(1));
        map.insert(Cbor::Integer(-2), Cbor::Bytes(point[1..33].to_vec()));
        map.insert(Cbor::Integer(-3), Cbor::Bytes(point[33..].to_vec()));
        Ok(serde_cbor_2::to_vec(&Cbor::Map(map))?)
    }

    /// `navigator.credentials.create`'s answer to `options`, as sent from `origin`.
    pub fn register(&self, options: &Value, origin: &str) -> Result<Value> {
        let rp_id = options["publicKey"]["rp"]["id"]
            .as_str()
            .context("no rp.id")?;
        let mut auth_data = Sha256::digest(rp_id.as_bytes()).to_vec();
        auth_data.push(self.flags() | FLAG_AT);
        auth_data.extend_from_slice(&self.counter.to_be_bytes());
        auth_data.extend_from_slice(&[0u8; 16]); // AAGUID: none
        let id_len = u16::try_from(self.credential_id.len())?;
        auth_data.extend_from_slice(&id_len.to_be_bytes());
        auth_data.extend_from_slice(&self.credential_id);
        auth_data.extend_from_slice(&self.cose_key()?);
        let mut attestation = BTreeMap::new();
        attestation.insert(Cbor::Text("fmt".into()), Cbor::Text("none".into()));
        attestation.insert(Cbor::Text("attStmt".into()), Cbor::Map(BTreeMap::new()));
        attestation.insert(Cbor::Text("authData".into()), Cbor::Bytes(auth_data));
        let client_data = client_data("webauthn.create", &challenge_of(options)?, origin);
        Ok(json!({
            "id": self.credential_id_b64(),
            "rawId": self.credential_id_b64(),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&serde_cbor_2::to_vec(&Cbor::Map(attestation))?),
                "clientDataJSON": b64(&client_data),
                "transports": ["internal"],
            },
            "extensions": {},
        }))
    }

    /// `navigator.credentials.get`'s answer to `options`, as sent from `origin`; the counter
    /// advances first unless `counter` says otherwise.
    pub fn assert(&mut self, options: &Value, origin: &str, rp_id: &str) -> Result<Value> {
        self.counter += 1;
        self.assert_with_counter(options, origin, rp_id, self.counter)
    }

    pub fn assert_with_counter(
        &self,
        options: &Value,
        origin: &str,
        rp_id: &str,
        counter: u32,
    ) -> Result<Value> {
        let mut auth_data = Sha256::digest(rp_id.as_bytes()).to_vec();
        auth_data.push(self.flags());
        auth_data.extend_from_slice(&counter.to_be_bytes());
        let client_data = client_data("webauthn.get", &challenge_of(options)?, origin);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let signature = self
            .pair
            .sign(&SystemRandom::new(), &signed)
            .map_err(|_| anyhow::anyhow!("signing failed"))?;
        Ok(json!({
            "id": self.credential_id_b64(),
            "rawId": self.credential_id_b64(),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client_data),
                "signature": b64(signature.as_ref()),
                "userHandle": null,
            },
            "extensions": {},
        }))
    }
}

fn rand_bytes<const N: usize>() -> [u8; N] {
    use aws_lc_rs::rand::SecureRandom as _;
    let mut out = [0u8; N];
    // Only a credential id: a fixed one would do if the system RNG ever failed.
    let _ = SystemRandom::new().fill(&mut out);
    out
}
