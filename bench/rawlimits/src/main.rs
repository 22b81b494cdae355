//! Prints JSON with the per-core raw limits: RS256 (RSA-2048), ES256 (P-256) and EdDSA (Ed25519)
//! sign/verify per second (aws-lc-rs, the crate and calls Gatehouse signs with) and argon2id hash time at m=19456 KiB, t=2, p=1 (RustCrypto argon2). Single-threaded; run it
//! pinned (`taskset -c 1`). Usage: gatehouse-rawlimits [seconds-per-measurement]

use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{
    self, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, ED25519, EcdsaKeyPair,
    Ed25519KeyPair, KeyPair as _, RSA_PKCS1_SHA256, UnparsedPublicKey,
};

fn per_second(budget: Duration, mut op: impl FnMut()) -> (u64, f64) {
    // One warm-up call, then as many calls as fit in the budget.
    op();
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        op();
        n += 1;
    }
    (n, start.elapsed().as_secs_f64())
}

fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let budget = Duration::from_secs_f64(secs);
    let rng = SystemRandom::new();

    // A JWT signing input of the size Gatehouse signs (header.claims of an access token, ~400 B).
    let message = vec![b'a'; 400];
    let pair = KeyPair::generate(KeySize::Rsa2048).expect("rsa keygen");
    let mut sig = vec![0u8; pair.public_modulus_len()];
    let (sign_n, sign_t) = per_second(budget, || {
        pair.sign(&RSA_PKCS1_SHA256, &rng, &message, &mut sig)
            .expect("sign");
    });
    let public = UnparsedPublicKey::new(
        &signature::RSA_PKCS1_2048_8192_SHA256,
        pair.public_key().as_ref().to_vec(),
    );
    let (verify_n, verify_t) = per_second(budget, || {
        public.verify(&message, &sig).expect("verify");
    });

    let ec = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("p256 keygen");
    let mut ec_sig = ec.sign(&rng, &message).expect("sign");
    let (es_sign_n, es_sign_t) = per_second(budget, || {
        ec_sig = ec.sign(&rng, &message).expect("sign");
    });
    let ec_public = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, ec.public_key().as_ref().to_vec());
    let (es_verify_n, es_verify_t) = per_second(budget, || {
        ec_public.verify(&message, ec_sig.as_ref()).expect("verify");
    });

    let ed = Ed25519KeyPair::generate().expect("ed25519 keygen");
    let mut ed_sig = ed.sign(&message);
    let (ed_sign_n, ed_sign_t) = per_second(budget, || {
        ed_sig = ed.sign(&message);
    });
    let ed_public = UnparsedPublicKey::new(&ED25519, ed.public_key().as_ref().to_vec());
    let (ed_verify_n, ed_verify_t) = per_second(budget, || {
        ed_public.verify(&message, ed_sig.as_ref()).expect("verify");
    });

    let params = Params::new(19 * 1024, 2, 1, None).expect("params");
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let salt = SaltString::from_b64("c29tZXNhbHRzb21lc2FsdA").expect("salt");
    let (hash_n, hash_t) = per_second(budget, || {
        argon
            .hash_password(b"correct horse battery staple", &salt)
            .expect("hash");
    });

    println!(
        "{{\"rs256_sign_per_s\":{:.1},\"rs256_verify_per_s\":{:.1},\"es256_sign_per_s\":{:.1},\"es256_verify_per_s\":{:.1},\"eddsa_sign_per_s\":{:.1},\"eddsa_verify_per_s\":{:.1},\"argon2id_ms\":{:.2},\"argon2id_per_s\":{:.2},\"argon2id_params\":\"m=19456,t=2,p=1\",\"implementation\":\"aws-lc-rs 1.19.0 (RSA-2048 PKCS#1 v1.5 SHA-256, P-256 fixed-size ECDSA, Ed25519), RustCrypto argon2 0.5.3\"}}",
        sign_n as f64 / sign_t,
        verify_n as f64 / verify_t,
        es_sign_n as f64 / es_sign_t,
        es_verify_n as f64 / es_verify_t,
        ed_sign_n as f64 / ed_sign_t,
        ed_verify_n as f64 / ed_verify_t,
        hash_t * 1000.0 / hash_n as f64,
        hash_n as f64 / hash_t,
    );
}
