//! An arbitrary authorize query string, parsed as the web layer parses it, through the whole
//! authorize pipeline (no session, and a bogus session cookie). Oracle: no panic; a redirect
//! only ever goes to the registered URI.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use gatehouse_core::oauth2::authorize::{AuthorizeOutcome, AuthorizeParams, authorize};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut params) = gatehouse_web::parse_form::<AuthorizeParams>(data) else {
        return;
    };
    let w = common::world();
    // Half the inputs talk about the registered client, so the later checks are reached.
    if data.first().is_some_and(|b| b % 2 == 0) {
        params.client_id = Some(w.client_id.clone());
    }
    w.runtime.block_on(async {
        for cookie in [None, Some("not-a-session")] {
            let outcome = authorize(&w.provider, &w.server, params.clone(), cookie).await;
            if let AuthorizeOutcome::Respond(resp) = outcome {
                assert_eq!(
                    resp.redirect_uri,
                    common::REDIRECT_URI,
                    "redirected elsewhere"
                );
                assert!(
                    resp.params.iter().any(|(k, _)| k == "iss"),
                    "no iss: {resp:?}"
                );
            }
        }
    });
});
