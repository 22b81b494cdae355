//! Redirect-URI matching through the real authorize pipeline. Input: `registered\ncandidate`.
//! A client is registered with `registered` (if registration accepts it); the authorize
//! request with `candidate` must reach the sign-in step iff the two are byte-equal, and end
//! on the error page (never a redirect) otherwise.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use gatehouse_core::oauth2::authorize::{AuthorizeOutcome, AuthorizeParams, authorize};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some((registered, candidate)) = text.split_once('\n') else {
        return;
    };
    if registered.contains('\0') || candidate.contains('\0') {
        return; // refused before routing (hygiene.rs)
    }
    let w = common::world();
    w.runtime.block_on(async {
        let Some(client_id) = common::new_app(&w.provider, vec![registered.to_owned()]).await
        else {
            return;
        };
        let params = AuthorizeParams {
            client_id: Some(client_id),
            redirect_uri: Some(candidate.to_owned()),
            response_type: Some("code".into()),
            scope: Some("openid".into()),
            state: Some("s".into()),
            ..AuthorizeParams::default()
        };
        let outcome = authorize(&w.provider, &w.server, params, None).await;
        if candidate == registered {
            assert!(
                matches!(outcome, AuthorizeOutcome::Login(_)),
                "the registered URI {registered:?} was refused: {outcome:?}"
            );
        } else {
            assert!(
                matches!(outcome, AuthorizeOutcome::ErrorPage(_)),
                "{candidate:?} matched {registered:?}: {outcome:?}"
            );
        }
    });
});
