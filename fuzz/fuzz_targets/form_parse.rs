//! Form bodies and Basic headers as the token, authorize and logout endpoints read them.
//! Oracle: no panic; no NUL gets through; a parameter sent twice is refused (RFC 6749 §3.1).
#![no_main]

use gatehouse_core::oauth2::authorize::AuthorizeParams;
use gatehouse_core::oauth2::client_auth::ClientCredentials;
use gatehouse_core::oauth2::grants::TokenParams;
use gatehouse_core::oidc::logout::LogoutParams;
use libfuzzer_sys::fuzz_target;

/// The token request's own parameters (unknown ones are ignored, repeated or not).
const KNOWN: &[&str] = &[
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    "client_id",
    "client_secret",
    "client_assertion_type",
    "client_assertion",
];

fuzz_target!(|data: &[u8]| {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(data).into_owned().collect();
    let has_nul = pairs
        .iter()
        .any(|(k, v)| k.contains('\0') || v.contains('\0'));
    let duplicated = KNOWN
        .iter()
        .any(|k| pairs.iter().filter(|(name, _)| name == k).count() > 1);
    let token = gatehouse_web::parse_form::<TokenParams>(data);
    let _ = gatehouse_web::parse_form::<AuthorizeParams>(data);
    let _ = gatehouse_web::parse_form::<LogoutParams>(data);
    if has_nul {
        assert!(token.is_err(), "a NUL got through");
    }
    if duplicated {
        assert!(token.is_err(), "a repeated parameter was accepted");
    }
    if let Ok(header) = std::str::from_utf8(data) {
        let _ = ClientCredentials::parse_basic(header);
    }
});
