//! Attack cases (SECURITY.md; the classes that hit Keycloak, Hydra, authentik, Zitadel and
//! others): each case checks the safe behaviour against a real Gatehouse.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context as _, Result, bail, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatehouse_core::domain::{
    ApplicationType, RefreshTokenPolicy, RotationType, TokenEndpointAuthMethod,
};
use gatehouse_core::provider::Clock as _;
use gatehouse_core::services::apps::{NewOidcApp, create_oidc_app};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::client_keys::{
    ClientKey, JWT_BEARER, assertion_claims, sign_hs256, unsigned, uuid_like,
};
use crate::flow::{Ctx, Rp, Variant, check_token_response, expect_error_page, read_response};
use crate::helpers::{
    Auth, Authz, Browser, LOGOUT_URI, NONCE, PASSWORD, REDIRECT_URI, Reply, STATE, VERIFIER,
    http_client, s256, sign_with_foreign_key, unsigned_token,
};
use crate::{ModuleResult, Plan, Verdict, module};

pub fn plans() -> Vec<Plan> {
    vec![Plan {
        name: "attacks",
        section: "attacks",
        variant: Variant::CODE,
        modules: vec![
            module!(
                "redirect-uri-case-slash-query-fragment",
                redirect_uri_case_slash_query_fragment
            ),
            module!("redirect-uri-path-traversal", redirect_uri_path_traversal),
            module!(
                "redirect-uri-userinfo-and-host-tricks",
                redirect_uri_userinfo_and_host_tricks
            ),
            module!(
                "redirect-uri-encoded-and-lookalike",
                redirect_uri_encoded_and_lookalike
            ),
            module!(
                "redirect-uri-loopback-and-localhost",
                redirect_uri_loopback_and_localhost
            ),
            module!(
                "dangerous-schemes-at-registration",
                dangerous_schemes_at_registration
            ),
            module!(
                "error-paths-never-redirect-unvalidated",
                error_paths_never_redirect_unvalidated
            ),
            module!("logout-open-redirect", logout_open_redirect),
            module!("pkce-downgrade", pkce_downgrade),
            module!("pkce-omission-and-mismatch", pkce_omission_and_mismatch),
            module!("code-replay-revokes-tokens", code_replay_revokes_tokens),
            module!("code-race-at-most-one-winner", code_race_at_most_one_winner),
            module!("code-cross-binding", code_cross_binding),
            module!("refresh-token-misuse", refresh_token_misuse),
            module!("refresh-token-concurrent-use", refresh_token_concurrent_use),
            module!(
                "client-authentication-on-every-endpoint",
                client_authentication_on_every_endpoint
            ),
            module!(
                "timing-safe-secret-comparison",
                timing_safe_secret_comparison
            ),
            module!("client-assertion-abuse", client_assertion_abuse),
            module!(
                "alg-none-and-hs256-key-confusion",
                alg_none_and_hs256_key_confusion
            ),
            module!("request-object-abuse", request_object_abuse),
            module!(
                "ssrf-via-registration-and-request-uri",
                ssrf_via_registration_and_request_uri
            ),
            module!("dcr-authorization", dcr_authorization),
            module!("id-token-hint-abuse", id_token_hint_abuse),
            module!("prompt-and-max-age-bypass", prompt_and_max_age_bypass),
            module!("xss-in-hosted-pages", xss_in_hosted_pages),
            module!("clickjacking-and-referrer", clickjacking_and_referrer),
            module!("csrf-on-the-login-form", csrf_on_the_login_form),
            module!("session-fixation", session_fixation),
            module!("x-forwarded-for-spoofing", x_forwarded_for_spoofing),
            module!(
                "iss-in-every-authorization-response",
                iss_in_every_authorization_response
            ),
            module!(
                "token-responses-not-cacheable",
                token_responses_not_cacheable
            ),
        ],
    }]
}

fn pass() -> ModuleResult {
    Ok(Verdict::Passed)
}

/// Each candidate redirect URI gets an error page with no Location, against the registered
/// `https://app.example.com/cb`.
async fn refused_redirects(c: Ctx, candidates: &[&str]) -> ModuleResult {
    let rp = c.rp().await?;
    let browser = Browser::new()?;
    for candidate in candidates {
        let reply = browser
            .get(&rp.authz().set("redirect_uri", candidate).url())
            .await?;
        expect_error_page(&reply).with_context(|| format!("redirect_uri {candidate}"))?;
    }
    // The registered one still works (the refusals are not a blanket failure).
    let reply = browser.get(&rp.authz().url()).await?;
    ensure!(
        reply.login_form().is_some(),
        "the registered URI no longer works: {reply:?}"
    );
    pass()
}

async fn redirect_uri_case_slash_query_fragment(c: Ctx) -> ModuleResult {
    refused_redirects(
        c,
        &[
            "https://app.example.com/CB",
            "https://APP.example.com/cb",
            "HTTPS://app.example.com/cb",
            "https://app.example.com/cb/",
            "https://app.example.com/c",
            "https://app.example.com/cbx",
            "https://app.example.com/cb?x=1",
            "https://app.example.com/cb#f",
            "https://app.example.com:443/cb",
            "http://app.example.com/cb",
        ],
    )
    .await
}

async fn redirect_uri_path_traversal(c: Ctx) -> ModuleResult {
    refused_redirects(
        c,
        &[
            "https://app.example.com/cb/../x",
            "https://app.example.com/cb/..",
            "https://app.example.com/cb;x",
            "https://app.example.com/cb..;/x",
            "https://app.example.com/x/../cb",
            "https://app.example.com/./cb",
            "https://app.example.com//cb",
        ],
    )
    .await
}

async fn redirect_uri_userinfo_and_host_tricks(c: Ctx) -> ModuleResult {
    refused_redirects(
        c,
        &[
            "https://app.example.com.evil.test/cb",
            "https://app.example.com@evil.test/cb",
            "https://app.example.com%40evil.test/cb",
            "https://a@b@evil.test/cb",
            "https://app.example.com%25@evil.test/cb",
            "https://evil.test/https://app.example.com/cb",
            "https://evil.test/cb?https://app.example.com/cb",
            "https://user:pass@app.example.com/cb",
        ],
    )
    .await
}

async fn redirect_uri_encoded_and_lookalike(c: Ctx) -> ModuleResult {
    refused_redirects(
        c,
        &[
            "https://app.example.com/%63b",
            "https://app.example.com%2Fcb",
            "https://app.example.com/cb%2F..%2Fx",
            "https://app.example.com/cb%00",
            "https://app.example.com/cb%23f",
            "https://аpp.example.com/cb", // Cyrillic а
            "https://xn--pp-8cd.example.com/cb",
            " https://app.example.com/cb",
            "https://app.example.com/cb ",
            "https://app.example.com/cb\t",
        ],
    )
    .await
}

/// A native client registered with `http://127.0.0.1/cb`: matching stays exact (no port or
/// path leeway, `localhost` is not the same as 127.0.0.1).
async fn redirect_uri_loopback_and_localhost(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let native = create_oidc_app(
        &rp.app.provider,
        &gatehouse_core::services::system_log::Actor::system(),
        NewOidcApp {
            label: "Native".into(),
            application_type: ApplicationType::Native,
            redirect_uris: vec!["http://127.0.0.1:8400/cb".into()],
            post_logout_redirect_uris: vec![],
            grant_types: vec!["authorization_code".into()],
            token_endpoint_auth_method: Some(TokenEndpointAuthMethod::None),
            initiate_login_uri: None,
            login_mode: None,
        },
    )
    .await?;
    rp.app.assign_everyone(&native).await?;
    let browser = Browser::new()?;
    let authz = |uri: &str| {
        Authz::new(&rp.app.base, rp.server, &native.app.client_id)
            .set("redirect_uri", uri)
            .pkce()
    };
    for bad in [
        "http://127.0.0.1:8400/cb/",
        "http://127.0.0.1:8400/cb?x=1",
        "http://127.0.0.1:8400/other",
        "http://localhost:8400/cb",
        "http://[::1]:8400/cb",
        "http://127.0.0.2:8400/cb",
        "http://127.1:8400/cb",
        "http://2130706433:8400/cb",
        "http://127.0.0.1.evil.test:8400/cb",
        "https://127.0.0.1:8400/cb",
    ] {
        let reply = browser.get(&authz(bad).url()).await?;
        expect_error_page(&reply).with_context(|| format!("redirect_uri {bad}"))?;
    }
    let reply = browser
        .get(&authz("http://127.0.0.1:8400/cb").url())
        .await?;
    ensure!(
        reply.login_form().is_some(),
        "the registered loopback URI is refused: {reply:?}"
    );
    pass()
}

/// `javascript:`, `data:`, `file:`, `vbscript:` (any case) are refused in every URI field, at
/// DCR and in `/api/v1/apps`.
async fn dangerous_schemes_at_registration(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let ssws = rp.app.api_token().await?;
    let schemes = [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "vbscript:msgbox(1)",
        " javascript:alert(1)",
    ];
    for uri in schemes {
        for field in [
            "redirect_uris",
            "post_logout_redirect_uris",
            "initiate_login_uri",
        ] {
            let value = if field == "initiate_login_uri" {
                json!(uri)
            } else {
                json!([uri])
            };
            let mut body = json!({
                "client_name": "evil", "redirect_uris": [REDIRECT_URI], "application_type": "web",
                "response_types": ["code"], "grant_types": ["authorization_code"],
            });
            body[field] = value;
            let reply = rp
                .app
                .api_ssws(Method::POST, "/oauth2/v1/clients", &ssws, Some(&body))
                .await?;
            ensure!(
                reply.status == StatusCode::BAD_REQUEST,
                "DCR {field}={uri}: {reply:?}"
            );
            let e = reply.oauth_error().unwrap_or_default();
            ensure!(
                e == "invalid_redirect_uri" || e == "invalid_client_metadata",
                "DCR {field}={uri}: {reply:?}"
            );
        }
        for (field, value) in [
            (
                "redirect_uris",
                json!({"settings": {"oauthClient": {"redirect_uris": [uri]}}}),
            ),
            (
                "post_logout_redirect_uris",
                json!({"settings": {"oauthClient": {"redirect_uris": [REDIRECT_URI], "post_logout_redirect_uris": [uri]}}}),
            ),
            (
                "logo_uri",
                json!({"settings": {"oauthClient": {"redirect_uris": [REDIRECT_URI], "logo_uri": uri}}}),
            ),
            (
                "policy_uri",
                json!({"settings": {"oauthClient": {"redirect_uris": [REDIRECT_URI], "policy_uri": uri}}}),
            ),
            (
                "tos_uri",
                json!({"settings": {"oauthClient": {"redirect_uris": [REDIRECT_URI], "tos_uri": uri}}}),
            ),
            (
                "initiate_login_uri",
                json!({"settings": {"oauthClient": {"redirect_uris": [REDIRECT_URI], "initiate_login_uri": uri}}}),
            ),
        ] {
            let mut body = json!({
                "name": "oidc_client", "label": "evil", "signOnMode": "OPENID_CONNECT",
                "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
                "settings": {"oauthClient": {"application_type": "web", "grant_types": ["authorization_code"], "response_types": ["code"]}},
            });
            if let (Some(dst), Some(src)) = (
                body["settings"]["oauthClient"].as_object_mut(),
                value["settings"]["oauthClient"].as_object(),
            ) {
                for (k, v) in src {
                    dst.insert(k.clone(), v.clone());
                }
            }
            let reply = rp
                .app
                .api_ssws(Method::POST, "/api/v1/apps", &ssws, Some(&body))
                .await?;
            ensure!(
                reply.status == StatusCode::BAD_REQUEST,
                "/api/v1/apps {field}={uri}: {reply:?}"
            );
            ensure!(
                reply.json()?["errorCode"] == "E0000001",
                "/api/v1/apps {field}={uri}: {reply:?}"
            );
        }
    }
    pass()
}

/// Before the client and redirect URI are validated nothing redirects; afterwards errors go
/// only to the registered URI.
async fn error_paths_never_redirect_unvalidated(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let browser = Browser::new()?;
    let evil = "https://evil.test/cb";
    for authz in [
        rp.authz()
            .set("client_id", "0oaUNKNOWNCLIENT0000")
            .set("redirect_uri", evil),
        rp.authz().remove("client_id").set("redirect_uri", evil),
        rp.authz()
            .set("redirect_uri", evil)
            .set("response_mode", "form_post.jwt"),
        rp.authz()
            .set("redirect_uri", evil)
            .set("response_mode", "web_message"),
        rp.authz().set("redirect_uri", evil).remove("response_type"),
        rp.authz().set("redirect_uri", evil).set("prompt", "none"),
    ] {
        let reply = browser.get(&authz.url()).await?;
        expect_error_page(&reply).with_context(|| authz.url())?;
        ensure!(
            !reply
                .body
                .contains("<form method=\"post\" action=\"https://evil"),
            "{reply:?}"
        );
    }
    for mode in ["form_post.jwt", "web_message", "garbage"] {
        let reply = browser
            .get(&rp.authz().set("response_mode", mode).url())
            .await?;
        if reply.status.is_redirection() {
            let resp = read_response(&reply)?.context("redirect")?;
            ensure!(
                resp.target == REDIRECT_URI,
                "{mode}: sent to {}",
                resp.target
            );
            ensure!(
                resp.error().is_some(),
                "{mode}: not an error: {:?}",
                resp.params
            );
        } else {
            expect_error_page(&reply).with_context(|| format!("response_mode={mode}"))?;
        }
    }
    pass()
}

/// `post_logout_redirect_uri` is only followed when exactly registered and named by a valid
/// ID token of ours.
async fn logout_open_redirect(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let (browser, flow) = rp.run(&rp.authz()).await?;
    let logout = rp.endpoint("logout");
    let (header, claims) = crate::helpers::jwt_parts(&flow.id_token)?;
    let kid = header["kid"].as_str().unwrap_or_default().to_owned();
    let foreign = sign_with_foreign_key(&kid, &claims).await?;
    let none = unsigned_token(&kid, &claims);
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![
            ("id_token_hint", &flow.id_token),
            ("post_logout_redirect_uri", "https://evil.test/out"),
        ],
        vec![
            ("id_token_hint", &flow.id_token),
            (
                "post_logout_redirect_uri",
                "https://app.example.com/signed-out?foo=bar",
            ),
        ],
        vec![
            ("id_token_hint", &flow.id_token),
            (
                "post_logout_redirect_uri",
                "https://app.example.com/signed-out/",
            ),
        ],
        vec![
            ("id_token_hint", &flow.id_token),
            (
                "post_logout_redirect_uri",
                "https://app.example.com/SIGNED-OUT",
            ),
        ],
        vec![("post_logout_redirect_uri", LOGOUT_URI)],
        vec![
            ("post_logout_redirect_uri", LOGOUT_URI),
            ("client_id", &rp.client_id),
        ],
        vec![
            ("id_token_hint", &none),
            ("post_logout_redirect_uri", LOGOUT_URI),
        ],
        vec![
            ("id_token_hint", &foreign),
            ("post_logout_redirect_uri", LOGOUT_URI),
        ],
    ];
    for params in cases {
        let url = format!("{logout}?{}", serde_urlencoded::to_string(&params)?);
        let reply = browser.get(&url).await?;
        ensure!(
            reply.header("location").is_none(),
            "redirected: {params:?} {reply:?}"
        );
    }
    pass()
}

async fn signed_in_code(rp: &Rp, authz: &Authz) -> Result<String> {
    let (_, resp) = rp.sign_in(authz).await?;
    resp.expect_success(rp)?;
    Ok(resp.get("code").context("code")?.to_owned())
}

/// No challenge at authorize, a verifier at the token endpoint: `invalid_grant`.
async fn pkce_downgrade(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let code = signed_in_code(&rp, &rp.authz()).await?;
    let reply = rp
        .app
        .exchange(
            rp.server,
            &code,
            &[("code_verifier", VERIFIER)],
            rp.app.basic(),
        )
        .await?;
    reply.expect_oauth_error(400, "invalid_grant")?;
    pass()
}

/// A challenge, then no verifier, a wrong one, or one of a bad length or alphabet; `plain`
/// is refused at authorize.
async fn pkce_omission_and_mismatch(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let long = "a".repeat(129);
    let short = "a".repeat(42);
    let bad_chars = format!("{}!", "a".repeat(50));
    for verifier in [
        None,
        Some("wrong-verifier-wrong-verifier-wrong-verifier"),
        Some(short.as_str()),
        Some(long.as_str()),
        Some(bad_chars.as_str()),
    ] {
        let authz = match verifier {
            Some(v) if v.len() != 44 => rp
                .authz()
                .set("code_challenge", &s256(v))
                .set("code_challenge_method", "S256"),
            _ => rp.authz().pkce(),
        };
        let code = signed_in_code(&rp, &authz).await?;
        let extra: Vec<(&str, &str)> = verifier
            .map(|v| vec![("code_verifier", v)])
            .unwrap_or_default();
        let reply = rp
            .app
            .exchange(rp.server, &code, &extra, rp.app.basic())
            .await?;
        ensure!(
            reply.status == StatusCode::BAD_REQUEST,
            "verifier {verifier:?}: {reply:?}"
        );
        let e = reply.oauth_error().unwrap_or_default();
        ensure!(
            e == "invalid_grant" || e == "invalid_request",
            "verifier {verifier:?}: {reply:?}"
        );
    }
    let plain = rp
        .authz()
        .set("code_challenge", VERIFIER)
        .set("code_challenge_method", "plain");
    let resp = rp.no_ui(&Browser::new()?, &plain).await?;
    resp.expect_error(&rp, &["invalid_request"])?;
    pass()
}

/// A second redemption fails and revokes what the first one issued.
async fn code_replay_revokes_tokens(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let code = signed_in_code(&rp, &rp.authz().scope("openid offline_access")).await?;
    let first = check_token_response(&rp.exchange(&code, false).await?)?;
    rp.exchange(&code, false)
        .await?
        .expect_oauth_error(400, "invalid_grant")?;
    let at = first["access_token"].as_str().context("access_token")?;
    let rt = first["refresh_token"].as_str().context("refresh_token")?;
    rp.userinfo_get(at)
        .await?
        .expect_oauth_error(401, "invalid_token")?;
    rp.app
        .refresh(rp.server, rt, None, rp.app.basic())
        .await?
        .expect_oauth_error(400, "invalid_grant")?;
    pass()
}

/// 20 concurrent redemptions of one code: exactly one succeeds.
/// A code presented twice at once is treated as stolen: every request but at most one gets
/// `invalid_grant`, and the replay revokes the grant. Which request is first to be seen as a
/// replay depends on the backend's locking: on SQLite the winner stores its grant first and gets
/// tokens (revoked by the replay right after); on PostgreSQL a replay can record the revocation
/// before the winner stores the grant, and then nobody gets tokens. Both are safe; more than one
/// winner is the attack.
async fn code_race_at_most_one_winner(c: Ctx) -> ModuleResult {
    let rp = Arc::new(c.rp().await?);
    let code = signed_in_code(&rp, &rp.authz()).await?;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let rp = rp.clone();
        let code = code.clone();
        tasks.push(tokio::spawn(async move { rp.exchange(&code, false).await }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        let reply = t.await??;
        match reply.status {
            StatusCode::OK => winners.push(check_token_response(&reply)?),
            StatusCode::BAD_REQUEST => ensure!(
                reply.oauth_error().as_deref() == Some("invalid_grant"),
                "{reply:?}"
            ),
            _ => bail!("unexpected: {reply:?}"),
        }
    }
    ensure!(
        winners.len() == 1,
        "{} redemptions of one code succeeded, expected exactly one",
        winners.len()
    );
    rp.exchange(&code, false)
        .await?
        .expect_oauth_error(400, "invalid_grant")?;
    // The code was replayed, so what the winner got is revoked, whichever came first.
    let at = winners[0]["access_token"]
        .as_str()
        .context("access_token")?;
    let ui = rp.userinfo_get(at).await?;
    ensure!(
        ui.status == StatusCode::UNAUTHORIZED,
        "the winner's access token still works after the replays: {ui:?}"
    );
    // The order that left PostgreSQL with no winner, forced: a replay records the grant revoked
    // before the winner stores it. The winner still answers, and its tokens are dead.
    let code = signed_in_code(&rp, &rp.authz()).await?;
    let stored = rp
        .app
        .provider
        .store
        .find_code(&gatehouse_core::crypto::sha256_b64url(&code))
        .await?
        .context("the code")?;
    rp.app
        .provider
        .store
        .revoke_grant(&stored.grant_id, rp.app.clock.now())
        .await?;
    let tokens = check_token_response(&rp.exchange(&code, false).await?)?;
    let at = tokens["access_token"].as_str().context("access_token")?;
    let ui = rp.userinfo_get(at).await?;
    ensure!(
        ui.status == StatusCode::UNAUTHORIZED,
        "tokens issued after the replay's revocation still work: {ui:?}"
    );
    pass()
}

/// Client A's code redeemed by client B, with another redirect_uri, or past its lifetime.
async fn code_cross_binding(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let other = rp.app.create_web_app("Client B").await?;
    rp.app.assign_everyone(&other).await?;
    let b_secret = other.client_secret.clone().unwrap_or_default();
    let code = signed_in_code(&rp, &rp.authz()).await?;
    rp.app
        .exchange(
            rp.server,
            &code,
            &[],
            Auth::Basic(&other.app.client_id, &b_secret),
        )
        .await?
        .expect_oauth_error(400, "invalid_grant")?;
    let code = signed_in_code(&rp, &rp.authz()).await?;
    rp.app
        .token(
            rp.server,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "https://app.example.com/cb2"),
            ],
            rp.app.basic(),
        )
        .await?
        .expect_oauth_error(400, "invalid_grant")?;
    let code = signed_in_code(&rp, &rp.authz()).await?;
    rp.app.clock.advance(11 * 60);
    rp.exchange(&code, false)
        .await?
        .expect_oauth_error(400, "invalid_grant")?;
    pass()
}

/// Another client's refresh token, a wider scope, and a rotated token replayed after its
/// leeway (which revokes the family).
async fn refresh_token_misuse(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let code = signed_in_code(&rp, &rp.authz().scope("openid offline_access")).await?;
    let tokens = check_token_response(&rp.exchange(&code, false).await?)?;
    let rt = tokens["refresh_token"].as_str().context("refresh_token")?;
    let other = rp.app.create_web_app("Client B").await?;
    let b_secret = other.client_secret.clone().unwrap_or_default();
    rp.app
        .refresh(
            rp.server,
            rt,
            None,
            Auth::Basic(&other.app.client_id, &b_secret),
        )
        .await?
        .expect_oauth_error(400, "invalid_grant")?;
    rp.app
        .refresh(
            rp.server,
            rt,
            Some("openid offline_access email"),
            rp.app.basic(),
        )
        .await?
        .expect_oauth_error(400, "invalid_scope")?;
    // Rotation: a SPA rotates; reuse after the leeway revokes every token of the grant.
    let spa = rp.app.create_spa("SPA").await?;
    let id = spa.app.client_id.clone();
    let authz = Authz::new(&rp.app.base, rp.server, &id)
        .scope("openid offline_access")
        .pkce();
    let code = signed_in_code(&rp, &authz).await?;
    let t0 = check_token_response(
        &rp.app
            .exchange(
                rp.server,
                &code,
                &[("code_verifier", VERIFIER)],
                Auth::Public(&id),
            )
            .await?,
    )?;
    let rt0 = t0["refresh_token"].as_str().context("rt0")?;
    let t1 = check_token_response(
        &rp.app
            .refresh(rp.server, rt0, None, Auth::Public(&id))
            .await?,
    )?;
    let rt1 = t1["refresh_token"].as_str().context("rt1")?;
    ensure!(rt1 != rt0, "not rotated");
    rp.app.clock.advance(RefreshTokenPolicy::DEFAULT_LEEWAY + 1);
    rp.app
        .refresh(rp.server, rt0, None, Auth::Public(&id))
        .await?
        .expect_oauth_error(400, "invalid_grant")?;
    rp.app
        .refresh(rp.server, rt1, None, Auth::Public(&id))
        .await?
        .expect_oauth_error(400, "invalid_grant")?;
    let at1 = t1["access_token"].as_str().context("at1")?;
    rp.userinfo_get(at1)
        .await?
        .expect_oauth_error(401, "invalid_token")?;
    pass()
}

/// N concurrent refreshes with one rotating token and no leeway: at most one new token; with
/// Okta's default 30 s leeway all may succeed but stay one family, revoked together on reuse.
async fn refresh_token_concurrent_use(c: Ctx) -> ModuleResult {
    let rp = Arc::new(c.rp().await?);
    let spa = rp.app.create_spa("SPA").await?;
    let mut app = rp
        .app
        .provider
        .store
        .find_app_by_client_id(&spa.app.client_id)
        .await?
        .context("spa")?;
    app.settings.refresh_token = Some(RefreshTokenPolicy {
        rotation_type: RotationType::Rotate,
        leeway: 0,
    });
    rp.app.provider.store.update_app(&app).await?;
    let id = spa.app.client_id.clone();
    let authz = Authz::new(&rp.app.base, rp.server, &id)
        .scope("openid offline_access")
        .pkce();
    let code = signed_in_code(&rp, &authz).await?;
    let t0 = check_token_response(
        &rp.app
            .exchange(
                rp.server,
                &code,
                &[("code_verifier", VERIFIER)],
                Auth::Public(&id),
            )
            .await?,
    )?;
    let rt0 = t0["refresh_token"].as_str().context("rt0")?.to_owned();
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (rp, rt0, id) = (rp.clone(), rt0.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            rp.app
                .refresh(rp.server, &rt0, None, Auth::Public(&id))
                .await
        }));
    }
    let mut new_tokens = Vec::new();
    for t in tasks {
        let reply = t.await??;
        if reply.status == StatusCode::OK {
            new_tokens.push(
                reply.json()?["refresh_token"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        } else {
            ensure!(
                reply.oauth_error().as_deref() == Some("invalid_grant"),
                "{reply:?}"
            );
        }
    }
    let mut live = 0;
    for rt in &new_tokens {
        if rp.app.is_active_for(rp.server, rt, &id).await? {
            live += 1;
        }
    }
    ensure!(
        live <= 1,
        "{live} live refresh tokens from one token without leeway"
    );
    pass()
}

impl crate::helpers::TestApp {
    async fn is_active_for(
        &self,
        server: crate::helpers::Server,
        token: &str,
        client_id: &str,
    ) -> Result<bool> {
        let reply = self
            .post_form(
                server,
                "introspect",
                &[("token", token)],
                Auth::Public(client_id),
            )
            .await?;
        ensure!(reply.status == StatusCode::OK, "introspect: {reply:?}");
        Ok(reply.json()?["active"] == true)
    }
}

/// A wrong or missing secret at the token (code and refresh), introspection and revocation
/// endpoints: 401 `invalid_client` with `WWW-Authenticate`; two methods at once are refused.
async fn client_authentication_on_every_endpoint(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let code = signed_in_code(&rp, &rp.authz().scope("openid offline_access")).await?;
    let wrong = Auth::Basic(&rp.client_id, "wrong-secret");
    let reply = rp.app.exchange(rp.server, &code, &[], wrong).await?;
    reply.expect_oauth_error(401, "invalid_client")?;
    ensure!(
        reply
            .header("www-authenticate")
            .is_some_and(|h| h.starts_with("Basic")),
        "{reply:?}"
    );
    let tokens = check_token_response(&rp.exchange(&code, false).await?)?;
    let rt = tokens["refresh_token"].as_str().context("rt")?;
    let at = tokens["access_token"].as_str().context("at")?;
    for reply in [
        rp.app.refresh(rp.server, rt, None, wrong).await?,
        rp.app
            .refresh(rp.server, rt, None, Auth::Public(&rp.client_id))
            .await?,
        rp.app
            .post_form(rp.server, "introspect", &[("token", at)], wrong)
            .await?,
        rp.app
            .post_form(rp.server, "revoke", &[("token", at)], wrong)
            .await?,
        rp.app
            .post_form(
                rp.server,
                "revoke",
                &[("token", rt)],
                Auth::Public(&rp.client_id),
            )
            .await?,
    ] {
        reply.expect_oauth_error(401, "invalid_client")?;
    }
    // Basic and client_secret_post together.
    let both = rp
        .app
        .post_form(
            rp.server,
            "token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", rt),
                ("client_id", &rp.client_id),
                ("client_secret", &rp.secret),
            ],
            rp.app.basic(),
        )
        .await?;
    ensure!(
        both.status == StatusCode::BAD_REQUEST || both.status == StatusCode::UNAUTHORIZED,
        "two methods accepted: {both:?}"
    );
    // Nothing was revoked by the failed attempts.
    ensure!(
        rp.userinfo_get(at).await?.status == StatusCode::OK,
        "a failed revoke took effect"
    );
    pass()
}

/// Secrets, CSRF tokens and PKCE verifiers are compared in constant time: the comparison is
/// `subtle`'s, and every secret path calls it (checked on the source, like a lint).
async fn timing_safe_secret_comparison(_c: Ctx) -> ModuleResult {
    use gatehouse_core::crypto::constant_time_eq;
    ensure!(constant_time_eq(b"s3cret-value", b"s3cret-value"));
    ensure!(!constant_time_eq(b"s3cret-value", b"s3cret-valuf"));
    ensure!(!constant_time_eq(b"s3cret-value", b"s3cret-valu"));
    ensure!(!constant_time_eq(b"", b"x"));
    let crypto = include_str!("../../../gatehouse-core/src/crypto/mod.rs");
    ensure!(
        crypto.contains("ct_eq("),
        "constant_time_eq does not use subtle's ct_eq"
    );
    for (file, src, call) in [
        (
            "client_auth.rs",
            include_str!("../../../gatehouse-core/src/oauth2/client_auth.rs"),
            "constant_time_eq(presented",
        ),
        (
            "pkce.rs",
            include_str!("../../../gatehouse-core/src/oauth2/pkce.rs"),
            "constant_time_eq(s256_challenge",
        ),
        (
            "authorize/session.rs",
            include_str!("../../../gatehouse-core/src/oauth2/authorize/session.rs"),
            "constant_time_eq(c.as_bytes()",
        ),
    ] {
        ensure!(
            src.contains(call),
            "{file} does not compare its secret with constant_time_eq"
        );
    }
    pass()
}

async fn service_client(
    rp: &Rp,
    key: &ClientKey,
    method: &str,
) -> Result<(String, Option<String>)> {
    let ssws = rp.app.api_token().await?;
    let client = rp
        .app
        .register_client(
            &ssws,
            &json!({
                "client_name": "svc", "application_type": "service", "grant_types": ["client_credentials"],
                "response_types": ["token"], "token_endpoint_auth_method": method, "jwks": {"keys": [key.jwk]},
            }),
        )
        .await?;
    Ok((
        client["client_id"]
            .as_str()
            .context("client_id")?
            .to_owned(),
        client["client_secret"].as_str().map(str::to_owned),
    ))
}

async fn assertion_grant(rp: &Rp, assertion: &str) -> Result<Reply> {
    rp.app
        .token(
            rp.server,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "okta.users.read"),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", assertion),
            ],
            Auth::None,
        )
        .await
}

/// Replayed or missing `jti`, `exp` too far ahead, a wrong `aud`: all refused.
async fn client_assertion_abuse(c: Ctx) -> ModuleResult {
    let mut rp = c.rp().await?;
    rp.server = crate::helpers::Server::Default;
    let key = ClientKey::rsa("k1")?;
    let (id, _) = service_client(&rp, &key, "private_key_jwt").await?;
    let aud = rp.endpoint("token");
    let now = rp.app.clock.now();
    let good = key.sign(&assertion_claims(&id, &aud, now), true)?;
    let first = assertion_grant(&rp, &good).await?;
    ensure!(
        first.status == StatusCode::OK || first.oauth_error().as_deref() == Some("invalid_scope"),
        "the valid assertion failed: {first:?}"
    );
    let replay = assertion_grant(&rp, &good).await?;
    replay.expect_oauth_error(401, "invalid_client")?;
    let mut no_jti = assertion_claims(&id, &aud, now);
    no_jti.as_object_mut().map(|o| o.remove("jti"));
    let mut far = assertion_claims(&id, &aud, now);
    far["exp"] = json!(now + 86400);
    let mut expired = assertion_claims(&id, &aud, now);
    expired["exp"] = json!(now - 600);
    let mut wrong_aud = assertion_claims(&id, "https://evil.test/token", now);
    wrong_aud["jti"] = json!(uuid_like());
    let mut wrong_iss = assertion_claims("0oaSOMEONEELSE000000", &aud, now);
    wrong_iss["sub"] = json!(id);
    for (what, claims) in [
        ("no jti", no_jti),
        ("exp a day ahead", far),
        ("expired", expired),
        ("wrong aud", wrong_aud),
        ("iss != sub", wrong_iss),
    ] {
        let reply = assertion_grant(&rp, &key.sign(&claims, true)?).await?;
        reply
            .expect_oauth_error(401, "invalid_client")
            .with_context(|| what.to_owned())?;
    }
    pass()
}

/// `alg: none`, and HS256 signed with the client's RSA public key as the secret.
async fn alg_none_and_hs256_key_confusion(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let key = ClientKey::rsa("k1")?;
    let (id, _) = service_client(&rp, &key, "private_key_jwt").await?;
    let aud = rp.endpoint("token");
    let now = rp.app.clock.now();
    let none = unsigned(&assertion_claims(&id, &aud, now));
    assertion_grant(&rp, &none)
        .await?
        .expect_oauth_error(401, "invalid_client")?;
    for secret in [
        key.jwk["n"]
            .as_str()
            .unwrap_or_default()
            .as_bytes()
            .to_vec(),
        key.jwk.to_string().into_bytes(),
    ] {
        let hs = sign_hs256(&assertion_claims(&id, &aud, now), &secret)?;
        assertion_grant(&rp, &hs)
            .await?
            .expect_oauth_error(401, "invalid_client")?;
    }
    // An ID token signed with alg none or a foreign key is not accepted as a hint either.
    let (_, flow) = rp.run(&rp.authz()).await?;
    let (_, claims) = crate::helpers::jwt_parts(&flow.id_token)?;
    let forged = unsigned_token("", &claims);
    let at = flow.access_token.as_deref().context("at")?;
    ensure!(
        rp.userinfo_get(&forged).await?.status == StatusCode::UNAUTHORIZED,
        "alg none token accepted at userinfo"
    );
    ensure!(rp.userinfo_get(at).await?.status == StatusCode::OK);
    pass()
}

/// `request` with alg none (not advertised), or signed by a foreign key: refused with
/// `request_not_supported`/`invalid_request_object`, never ignored.
async fn request_object_abuse(c: Ctx) -> ModuleResult {
    let mut rp = c.rp().await?;
    let key = ClientKey::rsa("rp-key")?;
    crate::oidcc::register(
        &mut rp,
        json!({"jwks": {"keys": [key.jwk]}, "request_object_signing_alg": "RS256"}),
    )
    .await?;
    let now = rp.app.clock.now();
    let claims = json!({"iss": rp.client_id, "aud": rp.issuer(), "client_id": rp.client_id, "response_type": "code",
        "scope": "openid", "state": "from-object", "redirect_uri": REDIRECT_URI, "nonce": NONCE, "exp": now + 300});
    let with = |k: &str, v: serde_json::Value| {
        let mut c = claims.clone();
        c[k] = v;
        c
    };
    // The control: the registered key's object is processed (its state wins).
    let valid = key.sign(&claims, true)?;
    let (_, resp) = rp.sign_in(&rp.authz().set("request", &valid)).await?;
    ensure!(
        resp.get("state") == Some("from-object"),
        "{:?}",
        resp.params
    );
    let tampered = {
        let parts: Vec<&str> = valid.split('.').collect();
        let payload = URL_SAFE_NO_PAD.encode(with("state", json!("tampered")).to_string());
        format!("{}.{payload}.{}", parts[0], parts[2])
    };
    let refused = [
        ("alg none for an RS256 client", unsigned_token("", &claims)),
        (
            "a foreign key",
            sign_with_foreign_key("rp-key", &claims).await?,
        ),
        ("a tampered payload", tampered),
        (
            "another client_id",
            key.sign(&with("client_id", json!("0oaSomeoneElse")), true)?,
        ),
        (
            "another iss",
            key.sign(&with("iss", json!("0oaSomeoneElse")), true)?,
        ),
        (
            "another aud",
            key.sign(&with("aud", json!("https://other.example.com")), true)?,
        ),
        (
            "an expired object",
            key.sign(&with("exp", json!(now - 600)), true)?,
        ),
        (
            "a nested request_uri",
            key.sign(&with("request_uri", json!("https://x.example/r")), true)?,
        ),
    ];
    for (what, object) in refused {
        let resp = rp
            .no_ui(&Browser::new()?, &rp.authz().set("request", &object))
            .await
            .with_context(|| what.to_owned())?;
        ensure!(
            resp.error() == Some("invalid_request_object"),
            "{what}: {:?}",
            resp.params
        );
        // Nothing from a refused object is used: the query's state comes back.
        ensure!(
            resp.get("state") == Some(STATE),
            "{what}: {:?}",
            resp.params
        );
        ensure!(resp.get("iss") == Some(rp.issuer().as_str()), "{what}");
    }
    pass()
}

/// A local stub stands in for an internal service: registering a `jwks_uri`,
/// `sector_identifier_uri`, `request_uris` or `logo_uri` that points at it (or at a private or
/// metadata address), and sending `request_uri` to it, never makes Gatehouse connect: the
/// fetched URIs are refused before any connection, and `logo_uri` is never fetched.
async fn ssrf_via_registration_and_request_uri(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let stub = format!("127.0.0.1:{}", listener.local_addr()?.port());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let accept = tokio::spawn(async move {
        while let Ok((_sock, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    let ssws = rp.app.api_token().await?;
    let key = ClientKey::rsa("k")?;
    for (field, value) in [
        ("jwks_uri", format!("http://{stub}/jwks")),
        ("jwks_uri", format!("https://{stub}/jwks")),
        (
            "jwks_uri",
            "http://169.254.169.254/latest/meta-data/".to_owned(),
        ),
        ("sector_identifier_uri", format!("https://{stub}/sector")),
        ("sector_identifier_uri", format!("http://{stub}/sector")),
        (
            "sector_identifier_uri",
            "https://169.254.169.254/latest/meta-data/".to_owned(),
        ),
        ("request_uris", format!("https://{stub}/req.jwt")),
        ("request_uris", "https://10.0.0.1/req.jwt".to_owned()),
        ("logo_uri", format!("https://{stub}/logo.png")),
    ] {
        let mut body = json!({"client_name": "ssrf", "application_type": "web", "redirect_uris": [REDIRECT_URI],
            "response_types": ["code"], "grant_types": ["authorization_code"], "token_endpoint_auth_method": "private_key_jwt",
            "jwks": {"keys": [key.jwk]}});
        body[field] = if field == "request_uris" {
            json!([value])
        } else {
            json!(value)
        };
        let reply = rp
            .app
            .api_ssws(Method::POST, "/oauth2/v1/clients", &ssws, Some(&body))
            .await?;
        ensure!(reply.status.as_u16() < 500, "{field}={value}: {reply:?}");
        if (field == "jwks_uri" && value.starts_with("http://"))
            || field == "sector_identifier_uri"
            || field == "request_uris"
        {
            ensure!(
                reply.status == StatusCode::BAD_REQUEST,
                "{field}={value} accepted: {reply:?}"
            );
        }
    }
    let reply = Browser::new()?
        .get(
            &rp.authz()
                .set("request_uri", &format!("https://{stub}/req.jwt"))
                .url(),
        )
        .await?;
    ensure!(
        reply.status.as_u16() < 500 && reply.login_form().is_none(),
        "request_uri was not refused: {reply:?}"
    );
    // The token endpoint with an assertion naming the stub in `jku`/`x5u` does not fetch either.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    accept.abort();
    let n = hits.load(Ordering::SeqCst);
    ensure!(n == 0, "Gatehouse connected to the stub {n} times");
    pass()
}

/// Registration needs a token; another client's id cannot be chosen; reading or changing a
/// client needs the management token.
async fn dcr_authorization(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let body = json!({"client_name": "x", "redirect_uris": [REDIRECT_URI], "application_type": "web",
        "response_types": ["code"], "grant_types": ["authorization_code"], "client_id": rp.client_id});
    let anon = rp
        .app
        .api(Method::POST, "/oauth2/v1/clients", None, Some(&body))
        .await?;
    ensure!(
        anon.status == StatusCode::UNAUTHORIZED || anon.status == StatusCode::FORBIDDEN,
        "{anon:?}"
    );
    let bogus = rp
        .app
        .api(
            Method::POST,
            "/oauth2/v1/clients",
            Some("SSWS not-a-token"),
            Some(&body),
        )
        .await?;
    ensure!(
        bogus.status == StatusCode::UNAUTHORIZED || bogus.status == StatusCode::FORBIDDEN,
        "{bogus:?}"
    );
    let path = format!("/oauth2/v1/clients/{}", rp.client_id);
    for (m, b) in [
        (Method::GET, None),
        (Method::PUT, Some(&body)),
        (Method::DELETE, None),
    ] {
        let r = rp.app.api(m.clone(), &path, None, b).await?;
        ensure!(
            r.status == StatusCode::UNAUTHORIZED || r.status == StatusCode::FORBIDDEN,
            "{m} without a token: {r:?}"
        );
        // A client's own access token is no management credential.
        let r = rp
            .app
            .api(m.clone(), &path, Some("Bearer eyJhbGciOiJub25lIn0.e30."), b)
            .await?;
        ensure!(
            r.status == StatusCode::UNAUTHORIZED || r.status == StatusCode::FORBIDDEN,
            "{m} with a forged bearer: {r:?}"
        );
    }
    let ssws = rp.app.api_token().await?;
    let created = rp.app.register_client(&ssws, &body).await?;
    ensure!(
        created["client_id"] != rp.client_id.as_str(),
        "the client chose an existing client_id"
    );
    ensure!(
        created["client_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("0oa")),
        "{created}"
    );
    pass()
}

/// `prompt=none` with a hint for another user, or a forged hint, never silently signs in as
/// the session's user.
async fn id_token_hint_abuse(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let bob = rp.app.create_user("bob@example.com").await?;
    let (browser, flow) = rp.run(&rp.authz()).await?;
    let (header, mut claims) = crate::helpers::jwt_parts(&flow.id_token)?;
    let kid = header["kid"].as_str().unwrap_or_default().to_owned();
    claims["sub"] = json!(bob.id);
    let for_bob = sign_with_foreign_key(&kid, &claims).await?;
    let none = unsigned_token(&kid, &claims);
    for hint in [for_bob, none] {
        let resp = rp
            .no_ui(
                &browser,
                &rp.authz().set("prompt", "none").set("id_token_hint", &hint),
            )
            .await?;
        ensure!(
            resp.error().is_some(),
            "a forged or foreign id_token_hint was ignored: signed in silently"
        );
    }
    pass()
}

/// `prompt=none login` is invalid; `max_age=0` re-authenticates; auth_time always comes
/// with max_age.
async fn prompt_and_max_age_bypass(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let (browser, first) = rp.run(&rp.authz()).await?;
    let resp = rp
        .no_ui(&browser, &rp.authz().set("prompt", "none login"))
        .await?;
    resp.expect_error(&rp, &["invalid_request"])?;
    ensure!(
        rp.shows_login(&browser, &rp.authz().set("max_age", "0"))
            .await?,
        "max_age=0 did not re-authenticate"
    );
    for bad in ["-1", "abc", "99999999999999999999999"] {
        let resp = rp.no_ui(&browser, &rp.authz().set("max_age", bad)).await?;
        resp.expect_error(&rp, &["invalid_request"])
            .with_context(|| format!("max_age={bad}"))?;
    }
    let resp = rp
        .no_ui(&browser, &rp.authz().set("max_age", "3600"))
        .await?;
    resp.expect_success(&rp)?;
    let second = rp.finish(&resp, false, Some(NONCE)).await?;
    ensure!(
        second.claims["auth_time"] == first.claims["auth_time"]
            && second.claims["auth_time"].is_i64(),
        "auth_time"
    );
    pass()
}

const XSS: &str = "\"><svg onload=alert(1)><script>alert(1)</script>";

/// Reflected parameters and stored names are escaped on the sign-in, error and logout pages;
/// the CSP allows no inline script.
async fn xss_in_hosted_pages(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let ssws = rp.app.api_token().await?;
    let created = rp
        .app
        .register_client(
            &ssws,
            &json!({"client_name": XSS, "redirect_uris": [REDIRECT_URI], "application_type": "web",
            "response_types": ["code"], "grant_types": ["authorization_code"]}),
        )
        .await?;
    let evil_id = created["client_id"].as_str().context("client_id")?;
    let browser = Browser::new()?;
    let pages = [
        browser
            .get(&rp.authz().set("login_hint", XSS).set("state", XSS).url())
            .await?,
        browser
            .get(&Authz::new(&rp.app.base, rp.server, evil_id).url())
            .await?,
        browser
            .get(
                &rp.authz()
                    .set("redirect_uri", &format!("https://app.example.com/{XSS}"))
                    .url(),
            )
            .await?,
        browser.get(&rp.authz().set("client_id", XSS).url()).await?,
        browser
            .get(&format!(
                "{}?state={}",
                rp.endpoint("logout"),
                urlencode(XSS)
            ))
            .await?,
        browser
            .get(&format!("{}/{}", rp.app.base, urlencode(XSS)))
            .await?,
    ];
    for page in &pages {
        ensure!(
            !page.body.contains("<svg onload") && !page.body.contains("<script>alert"),
            "unescaped: {page:?}"
        );
        if page
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
        {
            let csp = page
                .header("content-security-policy")
                .with_context(|| format!("no CSP: {page:?}"))?;
            let script = csp
                .split(';')
                .find(|d| d.trim().starts_with("script-src"))
                .unwrap_or("");
            ensure!(
                !script.contains("unsafe-inline") && !script.contains('*'),
                "weak script-src: {csp}"
            );
            ensure!(
                csp.contains("default-src 'none'") || csp.contains("script-src"),
                "{csp}"
            );
        }
    }
    pass()
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Authorize, sign-in and error pages: `frame-ancestors 'none'`, `X-Frame-Options: DENY`,
/// `Referrer-Policy: no-referrer`, `nosniff`.
async fn clickjacking_and_referrer(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let browser = Browser::new()?;
    let login = browser.get(&rp.authz().url()).await?;
    let form = login.login_form().context("login form")?;
    let failed = browser
        .submit(&form, &rp.app.alice.login, "wrong password")
        .await?;
    let error = browser
        .get(&rp.authz().set("redirect_uri", "https://evil.test/").url())
        .await?;
    let logout = browser.get(&rp.endpoint("logout")).await?;
    for (what, page) in [
        ("sign-in", &login),
        ("failed sign-in", &failed),
        ("error", &error),
        ("signed out", &logout),
    ] {
        let csp = page
            .header("content-security-policy")
            .with_context(|| format!("{what}: no CSP"))?;
        ensure!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        ensure!(
            page.header("x-frame-options")
                .is_some_and(|x| x.eq_ignore_ascii_case("deny")),
            "{what}: X-Frame-Options: {page:?}"
        );
        ensure!(
            page.header("referrer-policy") == Some("no-referrer"),
            "{what}: Referrer-Policy"
        );
        ensure!(
            page.header("x-content-type-options") == Some("nosniff"),
            "{what}: nosniff"
        );
    }
    pass()
}

/// The sign-in POST needs the form's CSRF token and the matching cookie.
async fn csrf_on_the_login_form(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let victim = Browser::new()?;
    let form = victim.open_login(&rp.authz().url()).await?;
    // The attacker's page posts the form from another browser (no cookie), or with a wrong token.
    let attacker = Browser::new()?;
    let cross_site = attacker
        .post_form(
            &form.action,
            &[
                ("tx", &form.tx),
                ("csrf", &form.csrf),
                ("username", &rp.app.alice.login),
                ("password", PASSWORD),
            ],
        )
        .await?;
    ensure!(
        cross_site.set_cookie("gh_sid").is_none_or(|s| s.is_empty()),
        "signed in without the CSRF cookie: {cross_site:?}"
    );
    ensure!(
        read_response(&cross_site)?.is_none_or(|r| r.get("code").is_none()),
        "{cross_site:?}"
    );
    let wrong = victim
        .post_form(
            &form.action,
            &[
                ("tx", &form.tx),
                ("csrf", "forged-csrf-token"),
                ("username", &rp.app.alice.login),
                ("password", PASSWORD),
            ],
        )
        .await?;
    ensure!(
        wrong.set_cookie("gh_sid").is_none_or(|s| s.is_empty()),
        "signed in with a forged CSRF token: {wrong:?}"
    );
    let missing = victim
        .post_form(
            &form.action,
            &[
                ("tx", &form.tx),
                ("username", &rp.app.alice.login),
                ("password", PASSWORD),
            ],
        )
        .await?;
    ensure!(
        missing.set_cookie("gh_sid").is_none_or(|s| s.is_empty()),
        "{missing:?}"
    );
    ensure!(
        cross_site.status.as_u16() < 500
            && wrong.status.as_u16() < 500
            && missing.status.as_u16() < 500
    );
    pass()
}

/// A session id planted before sign-in is not the one after it, and is not authenticated;
/// session cookies are HttpOnly and SameSite=Lax.
async fn session_fixation(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let browser = Browser::new()?;
    let planted = "attacker-chosen-session-id-0123456789";
    let url = url::Url::parse(&rp.app.base)?;
    use reqwest::cookie::CookieStore as _;
    let hv = reqwest::header::HeaderValue::from_str(&format!("gh_sid={planted}; Path=/"))?;
    browser.jar.set_cookies(&mut std::iter::once(&hv), &url);
    let form = browser.open_login(&rp.authz().url()).await?;
    let reply = browser.submit(&form, &rp.app.alice.login, PASSWORD).await?;
    let cookie = reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("gh_sid="))
        .context("no session cookie")?
        .to_owned();
    let sid = cookie
        .trim_start_matches("gh_sid=")
        .split(';')
        .next()
        .unwrap_or_default();
    ensure!(
        sid != planted && !sid.is_empty(),
        "the planted session id was kept"
    );
    ensure!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    // The planted id alone is not a session.
    let other = Browser::new()?;
    other.jar.set_cookies(&mut std::iter::once(&hv), &url);
    let resp = rp.no_ui(&other, &rp.authz().set("prompt", "none")).await?;
    resp.expect_error(&rp, &["login_required"])?;
    ensure!(read_response(&reply)?.is_some(), "sign-in failed");
    pass()
}

/// Failed sign-ins with a new `X-Forwarded-For` each time (no trusted proxy configured) are
/// still counted against the one real client address.
async fn x_forwarded_for_spoofing(c: Ctx) -> ModuleResult {
    // Its own Gatehouse with a small per-address sign-in budget (the default is 100 a minute).
    let rp = c
        .rp_with(|s| s.security.signin_requests_per_minute_per_ip = 20)
        .await?;
    let client = http_client()?;
    let mut limited = false;
    for i in 0..40 {
        let browser = Browser::new()?;
        let form = browser.open_login(&rp.authz().url()).await?;
        let csrf = browser.cookie(&rp.app.base, "gh_csrf").unwrap_or_default();
        let reply = Reply::read(
            client
                .post(&form.action)
                .header("x-forwarded-for", format!("203.0.113.{i}"))
                .header("cookie", format!("gh_csrf={csrf}"))
                .form(&[
                    ("tx", form.tx.as_str()),
                    ("csrf", &form.csrf),
                    ("username", &format!("nobody{i}@example.com")),
                    ("password", "wrong"),
                ])
                .send()
                .await?,
        )
        .await?;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            limited = true;
            break;
        }
    }
    ensure!(
        limited,
        "40 failed sign-ins from one address with rotating X-Forwarded-For were never limited"
    );
    pass()
}

/// `iss` (RFC 9207) on success, on errors, and in every response mode.
async fn iss_in_every_authorization_response(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let iss = rp.issuer();
    let (browser, _) = rp.run(&rp.authz()).await?;
    let check = |resp: &crate::flow::AuthResponse, what: &str| -> Result<()> {
        ensure!(
            resp.get("iss") == Some(iss.as_str()),
            "{what}: no iss in {:?}",
            resp.params
        );
        ensure!(resp.get("state") == Some(STATE), "{what}: state");
        Ok(())
    };
    for (what, authz) in [
        ("sso", rp.authz()),
        ("fragment", rp.authz().set("response_mode", "fragment")),
        ("form_post", rp.authz().set("response_mode", "form_post")),
        ("invalid_scope", rp.authz().scope("openid not-a-scope")),
        ("bad prompt", rp.authz().set("prompt", "none login")),
        (
            "bad pkce method",
            rp.authz()
                .set("code_challenge", "abc")
                .set("code_challenge_method", "plain"),
        ),
        (
            "unsupported response_type",
            rp.authz().set("response_type", "code unknown"),
        ),
    ] {
        let resp = rp
            .no_ui(&browser, &authz)
            .await
            .with_context(|| what.to_owned())?;
        check(&resp, what)?;
    }
    let resp = rp
        .no_ui(&Browser::new()?, &rp.authz().set("prompt", "none"))
        .await?;
    check(&resp, "login_required")?;
    let resp = rp
        .no_ui(
            &Browser::new()?,
            &rp.authz()
                .set("prompt", "none")
                .set("response_mode", "form_post"),
        )
        .await?;
    check(&resp, "login_required (form_post)")?;
    pass()
}

/// Token responses, successes and errors, carry `Cache-Control: no-store` and
/// `Pragma: no-cache`; so does UserInfo.
async fn token_responses_not_cacheable(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let code = signed_in_code(&rp, &rp.authz().scope("openid offline_access")).await?;
    let ok = rp.exchange(&code, false).await?;
    let body = check_token_response(&ok)?;
    let rt = body["refresh_token"].as_str().context("rt")?;
    let refreshed = rp.app.refresh(rp.server, rt, None, rp.app.basic()).await?;
    let replay = rp.exchange(&code, false).await?;
    let bad_client = rp
        .app
        .exchange(rp.server, "x", &[], Auth::Basic(&rp.client_id, "nope"))
        .await?;
    for (what, reply) in [
        ("code", &ok),
        ("refresh", &refreshed),
        ("replay error", &replay),
        ("client error", &bad_client),
    ] {
        ensure!(
            reply
                .header("cache-control")
                .is_some_and(|c| c.contains("no-store")),
            "{what}: Cache-Control: {reply:?}"
        );
        ensure!(
            reply.header("pragma") == Some("no-cache"),
            "{what}: Pragma: {reply:?}"
        );
    }
    let at = body["access_token"].as_str().context("at")?;
    let ui = rp.userinfo_get(at).await?;
    ensure!(
        ui.header("cache-control")
            .is_some_and(|c| c.contains("no-store")),
        "userinfo Cache-Control: {ui:?}"
    );
    pass()
}
