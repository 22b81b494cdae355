//! `sanitize_jwks` on arbitrary JSON. Oracle: no panic; what it keeps has no private member,
//! only RSA/EC keys, and unique kids.
#![no_main]

use gatehouse_core::oauth2::client_assertion::sanitize_jwks;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    if let Ok(set) = sanitize_jwks(&value) {
        let mut kids = Vec::new();
        for key in &set.keys {
            for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
                assert!(!key.contains_key(private), "private member {private} kept");
            }
            let kty = key.get("kty").and_then(Value::as_str).unwrap_or_default();
            assert!(kty == "RSA" || kty == "EC", "kty {kty} accepted");
            if let Some(kid) = key.get("kid").and_then(Value::as_str) {
                assert!(!kids.contains(&kid), "duplicate kid {kid}");
                kids.push(kid);
            }
        }
    }
});
