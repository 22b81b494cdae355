//! The client-assertion path: `unverified_client_id` and `verify` on arbitrary compact JWS
//! text, for a private_key_jwt client (RSA + EC keys) and a client_secret_jwt client.
//! Oracle: nothing panics; `alg: none` and HMAC never verify for private_key_jwt.
#![no_main]

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatehouse_core::domain::{
    App, AppStatus, JwkSet, OAuthClientSettings, TokenEndpointAuthMethod,
};
use gatehouse_core::oauth2::client_assertion::{sanitize_jwks, unverified_client_id, verify};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

const RSA_N: &str = "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw";

fn app(method: TokenEndpointAuthMethod, jwks: Option<JwkSet>) -> App {
    let settings: OAuthClientSettings = serde_json::from_value(json!({
        "application_type": "service",
        "token_endpoint_auth_method": method,
        "grant_types": ["client_credentials"],
    }))
    .expect("settings");
    App {
        id: "0oafuzz".into(),
        name: "oidc_client".into(),
        label: "fuzz".into(),
        status: AppStatus::Active,
        client_id: "0oafuzzclient".into(),
        client_secret_sealed: None,
        settings: OAuthClientSettings { jwks, ..settings },
        created: 0,
        last_updated: 0,
    }
}

fn apps() -> &'static (App, App) {
    static APPS: OnceLock<(App, App)> = OnceLock::new();
    APPS.get_or_init(|| {
        let jwks = sanitize_jwks(&json!({"keys": [
            {"kty": "RSA", "kid": "rsa", "e": "AQAB", "n": RSA_N},
            {"kty": "EC", "kid": "ec", "crv": "P-256",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
        ]}))
        .expect("jwks");
        (
            app(TokenEndpointAuthMethod::PrivateKeyJwt, Some(jwks)),
            app(TokenEndpointAuthMethod::ClientSecretJwt, None),
        )
    })
}

fn header_alg(token: &str) -> Option<String> {
    let h = token.split('.').next()?;
    let v: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
    v["alg"].as_str().map(str::to_owned)
}

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let _ = unverified_client_id(token);
    let (pk, cs) = apps();
    let aud = ["https://idp.example.com/oauth2/default/v1/token".to_owned()];
    if verify(pk, token, None, &aud, 1_700_000_000).is_ok() {
        let alg = header_alg(token).unwrap_or_default();
        assert!(
            !alg.eq_ignore_ascii_case("none") && !alg.starts_with("HS"),
            "private_key_jwt accepted alg {alg}"
        );
    }
    if verify(
        cs,
        token,
        Some(b"a-client-secret-of-sufficient-length-0123456789"),
        &aud,
        1_700_000_000,
    )
    .is_ok()
    {
        let alg = header_alg(token).unwrap_or_default();
        assert!(
            alg.starts_with("HS"),
            "client_secret_jwt accepted alg {alg}"
        );
    }
});
