//! The authorize pipeline (`oauth2/authorize/`) on invalid requests: until the client and its
//! redirect URI are trusted, an error is shown (an error page, never a redirect); after, it
//! goes back to the redirect URI in the response mode asked for, with `state` and `iss`.

use anyhow::{Result, bail, ensure};
use gatehouse_core::oauth2::authorize::{
    AuthorizeOutcome, AuthorizeParams, ResponseMode, authorize,
};
use gatehouse_store::test_support::Backend;

use crate::support::{Flow, REDIRECT_URI, code_request, param, setup};

/// What the pipeline answers.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Answer {
    /// An error page with this `error`.
    Shown(&'static str),
    /// A redirect to the client with this `error`, in this mode.
    Redirected(&'static str, ResponseMode),
}

use Answer::{Redirected, Shown};
use ResponseMode::{Fragment, Query};

#[derive(Clone, Copy)]
enum Client {
    /// The confidential web app.
    Web,
    /// The public SPA (PKCE required).
    Spa,
}

#[derive(Clone, Copy)]
enum On {
    Org,
    Default,
}

type Tweak = fn(&mut AuthorizeParams);

const CASES: &[(&str, Client, On, Tweak, Answer)] = &[
    // Before the redirect URI is trusted: shown.
    (
        "no client_id",
        Client::Web,
        On::Org,
        |p| p.client_id = None,
        Shown("invalid_request"),
    ),
    (
        "empty client_id",
        Client::Web,
        On::Org,
        |p| p.client_id = Some(String::new()),
        Shown("invalid_request"),
    ),
    (
        "unknown client_id",
        Client::Web,
        On::Org,
        |p| p.client_id = Some("0oanobody".into()),
        Shown("invalid_client"),
    ),
    (
        "malformed client_id",
        Client::Web,
        On::Org,
        |p| p.client_id = Some("cli\u{eb}nt".into()),
        Shown("invalid_client"),
    ),
    (
        "over-long client_id",
        Client::Web,
        On::Org,
        |p| p.client_id = Some("x".repeat(257)),
        Shown("invalid_request"),
    ),
    (
        "no redirect_uri",
        Client::Web,
        On::Org,
        |p| p.redirect_uri = None,
        Shown("invalid_request"),
    ),
    (
        "trailing slash",
        Client::Web,
        On::Org,
        |p| p.redirect_uri = Some(format!("{REDIRECT_URI}/")),
        Shown("invalid_request"),
    ),
    (
        "other case",
        Client::Web,
        On::Default,
        |p| p.redirect_uri = Some("https://APP.example/cb".into()),
        Shown("invalid_request"),
    ),
    (
        "extra query",
        Client::Web,
        On::Org,
        |p| p.redirect_uri = Some(format!("{REDIRECT_URI}?next=/")),
        Shown("invalid_request"),
    ),
    (
        "fragment",
        Client::Web,
        On::Org,
        |p| p.redirect_uri = Some(format!("{REDIRECT_URI}#x")),
        Shown("invalid_request"),
    ),
    (
        "relative",
        Client::Web,
        On::Org,
        |p| p.redirect_uri = Some("/cb".into()),
        Shown("invalid_request"),
    ),
    (
        "javascript:",
        Client::Web,
        On::Org,
        |p| p.redirect_uri = Some("javascript:alert(1)".into()),
        Shown("invalid_request"),
    ),
    (
        "over-long redirect_uri",
        Client::Web,
        On::Org,
        |p| p.redirect_uri = Some(format!("{REDIRECT_URI}?{}", "x".repeat(2048))),
        Shown("invalid_request"),
    ),
    // After: redirected.
    (
        "no response_type",
        Client::Web,
        On::Org,
        |p| p.response_type = None,
        Redirected("invalid_request", Query),
    ),
    (
        "unknown response_type",
        Client::Web,
        On::Org,
        |p| p.response_type = Some("ticket".into()),
        Redirected("unsupported_response_type", Query),
    ),
    (
        "code twice",
        Client::Web,
        On::Org,
        |p| p.response_type = Some("code code".into()),
        Redirected("unsupported_response_type", Query),
    ),
    (
        "bare token on the org server",
        Client::Web,
        On::Org,
        |p| p.response_type = Some("token".into()),
        Redirected("unsupported_response_type", Fragment),
    ),
    (
        "implicit not allowed",
        Client::Web,
        On::Default,
        |p| p.response_type = Some("id_token token".into()),
        Redirected("unauthorized_client", Fragment),
    ),
    (
        "unknown response_mode",
        Client::Web,
        On::Org,
        |p| p.response_mode = Some("smoke".into()),
        Redirected("invalid_request", Query),
    ),
    (
        "no scope",
        Client::Web,
        On::Org,
        |p| p.scope = None,
        Redirected("invalid_scope", Query),
    ),
    (
        "blank scope",
        Client::Web,
        On::Default,
        |p| p.scope = Some("  ".into()),
        Redirected("invalid_scope", Query),
    ),
    (
        "no openid on the org server",
        Client::Web,
        On::Org,
        |p| p.scope = Some("profile".into()),
        Redirected("invalid_scope", Query),
    ),
    (
        "unknown scope, org",
        Client::Web,
        On::Org,
        |p| p.scope = Some("openid payroll".into()),
        Redirected("invalid_scope", Query),
    ),
    (
        "unknown scope, custom",
        Client::Web,
        On::Default,
        |p| p.scope = Some("openid payroll".into()),
        Redirected("invalid_scope", Query),
    ),
    (
        "malformed scope, org",
        Client::Web,
        On::Org,
        |p| p.scope = Some("openid \"profile\"".into()),
        Redirected("invalid_scope", Query),
    ),
    (
        "malformed scope, custom",
        Client::Web,
        On::Default,
        |p| p.scope = Some("openid pro\\file".into()),
        Redirected("invalid_scope", Query),
    ),
    (
        "over-long scope",
        Client::Web,
        On::Org,
        |p| p.scope = Some("x ".repeat(1025)),
        Redirected("invalid_request", Query),
    ),
    (
        "plain PKCE",
        Client::Spa,
        On::Org,
        |p| p.code_challenge_method = Some("plain".into()),
        Redirected("invalid_request", Query),
    ),
    (
        "short challenge",
        Client::Spa,
        On::Org,
        |p| p.code_challenge = Some("abc".into()),
        Redirected("invalid_request", Query),
    ),
    (
        "method without challenge",
        Client::Web,
        On::Org,
        |p| p.code_challenge = None,
        Redirected("invalid_request", Query),
    ),
    (
        "public client without PKCE",
        Client::Spa,
        On::Default,
        |p| {
            p.code_challenge = None;
            p.code_challenge_method = None;
        },
        Redirected("invalid_request", Query),
    ),
    (
        "prompt none with login",
        Client::Web,
        On::Org,
        |p| p.prompt = Some("none login".into()),
        Redirected("invalid_request", Query),
    ),
    (
        "unknown prompt",
        Client::Web,
        On::Org,
        |p| p.prompt = Some("later".into()),
        Redirected("invalid_request", Query),
    ),
    (
        "negative max_age",
        Client::Web,
        On::Org,
        |p| p.max_age = Some("-1".into()),
        Redirected("invalid_request", Query),
    ),
    (
        "prompt none, no session",
        Client::Web,
        On::Default,
        |p| p.prompt = Some("none".into()),
        Redirected("login_required", Query),
    ),
    (
        "request and request_uri",
        Client::Web,
        On::Org,
        |p| {
            p.request = Some("e30.e30.".into());
            p.request_uri = Some("https://app.example/r".into());
        },
        Redirected("invalid_request", Query),
    ),
    (
        "unregistered request_uri",
        Client::Web,
        On::Org,
        |p| p.request_uri = Some("https://app.example/r".into()),
        Redirected("request_uri_not_supported", Query),
    ),
    (
        "form_post mode",
        Client::Web,
        On::Org,
        |p| {
            p.response_mode = Some("form_post".into());
            p.scope = None;
        },
        Redirected("invalid_scope", ResponseMode::FormPost),
    ),
];

async fn invalid_authorize_requests(backend: Backend) -> Result<()> {
    let f = setup(backend).await?;
    for (name, client, on, tweak, expected) in CASES {
        let (server, app) = scene(&f, *client, *on);
        let mut request = code_request(app, "openid");
        tweak(&mut request);
        let outcome = authorize(&f.provider, server, request, None, None).await;
        let answer = match &outcome {
            AuthorizeOutcome::ErrorPage(e) => Shown(e.code()),
            AuthorizeOutcome::Respond(r) => {
                let error = param(r, "error").unwrap_or("none");
                ensure!(r.redirect_uri == REDIRECT_URI, "{name}: {r:?}");
                ensure!(
                    param(r, "state") == Some("st4te"),
                    "{name}: no state: {r:?}"
                );
                // Okta's error responses carry no `iss` (RFC 9207 is a server setting).
                ensure!(param(r, "iss").is_none(), "{name}: {r:?}");
                ensure!(param(r, "code").is_none(), "{name}: a code: {r:?}");
                match CODES.iter().find(|c| **c == error) {
                    Some(code) => Redirected(code, r.mode),
                    None => bail!("{name}: unexpected error {error}: {r:?}"),
                }
            }
            other => bail!("{name}: not refused: {other:?}"),
        };
        ensure!(
            answer == *expected,
            "{name}: {answer:?}, expected {expected:?}: {outcome:?}"
        );
    }
    Ok(())
}

/// Every `error` a redirect above may carry (as `&'static str`, for `Answer`).
const CODES: &[&str] = &[
    "invalid_request",
    "invalid_scope",
    "unsupported_response_type",
    "unauthorized_client",
    "login_required",
    "request_uri_not_supported",
];

fn scene(
    f: &Flow,
    client: Client,
    on: On,
) -> (
    &gatehouse_core::ServerContext,
    &gatehouse_core::services::apps::CreatedApp,
) {
    let server = match on {
        On::Org => &f.server,
        On::Default => &f.default,
    };
    let app = match client {
        Client::Web => &f.web,
        Client::Spa => &f.spa,
    };
    (server, app)
}

/// Over-long values are cleared before the error goes back, so nothing echoes them: the
/// redirect carries no `state` then.
async fn over_long_state_is_not_echoed(backend: Backend) -> Result<()> {
    let f = setup(backend).await?;
    let mut request = code_request(&f.web, "openid");
    request.state = Some("s".repeat(2049));
    match authorize(&f.provider, &f.server, request, None, None).await {
        AuthorizeOutcome::Respond(r) => {
            ensure!(param(&r, "error") == Some("invalid_request"), "{r:?}");
            ensure!(param(&r, "state").is_none(), "echoed: {r:?}");
        }
        other => bail!("{other:?}"),
    }
    Ok(())
}

/// The same requests, valid, lead to the sign-in page, and a code comes back to the exact
/// redirect URI with `state` and `iss`.
async fn valid_requests_reach_sign_in(backend: Backend) -> Result<()> {
    let f = setup(backend).await?;
    for on in [On::Org, On::Default] {
        for client in [Client::Web, Client::Spa] {
            let (server, app) = scene(&f, client, on);
            let response = f
                .sign_in(server, code_request(app, "openid profile"))
                .await?;
            ensure!(response.redirect_uri == REDIRECT_URI && response.mode == Query);
            ensure!(param(&response, "code").is_some(), "{response:?}");
            ensure!(param(&response, "state") == Some("st4te"));
            ensure!(param(&response, "iss") == Some(server.issuer.as_str()));
        }
    }
    Ok(())
}

both_backends!(
    invalid_authorize_requests,
    over_long_state_is_not_echoed,
    valid_requests_reach_sign_in,
);
