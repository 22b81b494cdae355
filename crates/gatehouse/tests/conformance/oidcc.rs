//! The OIDF OP modules (`oidcc-*`) and the certification plans that run them. Each function
//! is named after its module and makes the module's assertions; WARNING and SKIPPED are used
//! where the suite uses them.

use anyhow::{Context as _, Result, ensure};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::client_keys::{ClientKey, JWT_BEARER, assertion_claims};
use crate::flow::{
    Ctx, Flow, Rp, Variant, check_token_response, error_page_or_response, expect_error_page,
    read_response,
};
use crate::helpers::{
    Auth, Authz, Browser, DocumentServer, LOGOUT_URI, NONCE, REDIRECT_URI, STATE, VERIFIER,
    sign_with_foreign_key, unsigned_token,
};
use crate::{Expect, Module, ModuleResult, Plan, Verdict, module};

const IMPLICIT_HYBRID: Expect = Expect::Pass;
const REQUEST_ERRORS: Expect = Expect::Pass;

/// The modules of the Basic plan (OIDF `oidcc-basic-certification-test-plan`), in its order;
/// Form Post runs the same list with `response_mode=form_post`.
fn basic_modules(expect_all: Option<Expect>) -> Vec<Module> {
    let e = |x: Expect| expect_all.unwrap_or(x);
    vec![
        module!("oidcc-server", server, e(Expect::Pass)),
        module!(
            "oidcc-response-type-missing",
            response_type_missing,
            e(Expect::Pass)
        ),
        module!("oidcc-userinfo-get", userinfo_get, e(Expect::Pass)),
        module!(
            "oidcc-userinfo-post-header",
            userinfo_post_header,
            e(Expect::Pass)
        ),
        module!(
            "oidcc-userinfo-post-body",
            userinfo_post_body,
            e(Expect::Pass)
        ),
        module!(
            "oidcc-ensure-request-without-nonce-succeeds-for-code-flow",
            ensure_request_without_nonce_succeeds_for_code_flow,
            e(Expect::Pass)
        ),
        module!("oidcc-scope-profile", scope_profile, e(Expect::Pass)),
        module!("oidcc-scope-email", scope_email, e(Expect::Pass)),
        module!("oidcc-scope-address", scope_address, e(Expect::Pass)),
        module!("oidcc-scope-phone", scope_phone, e(Expect::Pass)),
        module!("oidcc-scope-all", scope_all, e(Expect::Pass)),
        module!(
            "oidcc-ensure-other-scope-order-succeeds",
            ensure_other_scope_order_succeeds,
            e(Expect::Pass)
        ),
        module!(
            "oidcc-alternate-happy-flow",
            alternate_happy_flow,
            e(Expect::Pass)
        ),
        module!("oidcc-display-page", display_page, e(Expect::Pass)),
        module!("oidcc-display-popup", display_popup, e(Expect::Pass)),
        module!("oidcc-prompt-login", prompt_login, e(Expect::Pass)),
        module!(
            "oidcc-prompt-none-not-logged-in",
            prompt_none_not_logged_in,
            e(Expect::Pass)
        ),
        module!(
            "oidcc-prompt-none-logged-in",
            prompt_none_logged_in,
            e(Expect::Pass)
        ),
        module!("oidcc-max-age-1", max_age_1, e(Expect::Pass)),
        module!("oidcc-max-age-10000", max_age_10000, e(Expect::Pass)),
        module!("oidcc-id-token-hint", id_token_hint, e(Expect::Pass)),
        module!("oidcc-login-hint", login_hint, e(Expect::Pass)),
        module!("oidcc-ui-locales", ui_locales, e(Expect::Pass)),
        module!("oidcc-claims-locales", claims_locales, e(Expect::Pass)),
        module!(
            "oidcc-ensure-request-with-acr-values-succeeds",
            ensure_request_with_acr_values_succeeds,
            e(Expect::Pass)
        ),
        module!("oidcc-codereuse", codereuse, e(Expect::Pass)),
        module!(
            "oidcc-codereuse-30seconds",
            codereuse_30seconds,
            e(Expect::Pass)
        ),
        module!(
            "oidcc-ensure-registered-redirect-uri",
            ensure_registered_redirect_uri,
            e(Expect::Pass)
        ),
        module!(
            "oidcc-server-client-secret-post",
            server_client_secret_post,
            e(Expect::Pass)
        ),
        module!(
            "oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported",
            unsigned_request_object_supported_correctly_or_rejected_as_unsupported,
            e(REQUEST_ERRORS)
        ),
        module!(
            "oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported",
            request_uri_unsigned_supported_correctly_or_rejected_as_unsupported,
            e(REQUEST_ERRORS)
        ),
        module!(
            "oidcc-ensure-request-object-with-redirect-uri",
            ensure_request_object_with_redirect_uri,
            e(REQUEST_ERRORS)
        ),
        module!("oidcc-claims-essential", claims_essential, e(Expect::Pass)),
        module!(
            "oidcc-ensure-request-with-unknown-parameter-succeeds",
            ensure_request_with_unknown_parameter_succeeds,
            e(Expect::Pass)
        ),
        module!(
            "oidcc-ensure-post-request-succeeds",
            ensure_post_request_succeeds,
            e(Expect::Pass)
        ),
        module!(
            "oidcc-ensure-request-with-valid-pkce-succeeds",
            ensure_request_with_valid_pkce_succeeds,
            e(Expect::Pass)
        ),
        module!(
            "oidcc-idtoken-signature",
            idtoken_signature,
            e(Expect::Pass)
        ),
        module!("oidcc-idtoken-unsigned", idtoken_unsigned, e(Expect::Pass)),
        module!("oidcc-refresh-token", refresh_token, e(Expect::Pass)),
    ]
}

/// The Implicit and Hybrid plans' modules (the B list without the code-only ones, plus the
/// nonce-required module).
fn front_channel_modules(with_access_token: bool, with_code: bool) -> Vec<Module> {
    let code_only = [
        "oidcc-ensure-request-without-nonce-succeeds-for-code-flow",
        "oidcc-ensure-post-request-succeeds",
        "oidcc-idtoken-unsigned",
    ];
    let needs_code = [
        "oidcc-codereuse",
        "oidcc-codereuse-30seconds",
        "oidcc-server-client-secret-post",
        "oidcc-refresh-token",
        "oidcc-ensure-request-with-valid-pkce-succeeds",
    ];
    let needs_token = [
        "oidcc-userinfo-get",
        "oidcc-userinfo-post-header",
        "oidcc-userinfo-post-body",
    ];
    // These two end before the response type matters.
    let independent = [
        "oidcc-response-type-missing",
        "oidcc-ensure-registered-redirect-uri",
    ];
    let mut list: Vec<Module> = basic_modules(Some(IMPLICIT_HYBRID))
        .into_iter()
        .map(|m| {
            if independent.contains(&m.name) {
                Module {
                    expect: Expect::Pass,
                    ..m
                }
            } else {
                m
            }
        })
        .filter(|m| !code_only.contains(&m.name))
        .filter(|m| with_code || !needs_code.contains(&m.name))
        .filter(|m| with_access_token || !needs_token.contains(&m.name))
        .collect();
    list.push(module!(
        "oidcc-ensure-request-without-nonce-fails",
        ensure_request_without_nonce_fails,
        IMPLICIT_HYBRID
    ));
    list
}

pub fn plans() -> Vec<Plan> {
    let v = |response_type, response_mode| Variant {
        response_type,
        response_mode,
    };
    let mut plans = vec![
        Plan {
            name: "oidcc-basic",
            section: "conformance",
            variant: Variant::CODE,
            modules: basic_modules(None),
        },
        Plan {
            name: "oidcc-config",
            section: "conformance",
            variant: Variant::CODE,
            modules: vec![
                module!(
                    "oidcc-discovery-endpoint-verification",
                    discovery_endpoint_verification
                ),
                module!("oidcc-idtoken-rs256", idtoken_rs256),
                module!("oidcc-userinfo-rs256", userinfo_rs256),
            ],
        },
        Plan {
            name: "oidcc-dynamic",
            section: "conformance",
            variant: Variant::CODE,
            modules: dynamic_modules(),
        },
        Plan {
            name: "oidcc-formpost-basic",
            section: "conformance",
            variant: v("code", Some("form_post")),
            modules: basic_modules(None),
        },
        Plan {
            name: "oidcc-rp-initiated-logout",
            section: "conformance",
            variant: Variant::CODE,
            modules: logout_modules(),
        },
    ];
    for rt in ["id_token", "id_token token"] {
        plans.push(Plan {
            name: if rt == "id_token" {
                "oidcc-implicit[id_token]"
            } else {
                "oidcc-implicit[id_token token]"
            },
            section: "conformance",
            variant: v(rt, None),
            modules: front_channel_modules(rt.contains("token "), false),
        });
    }
    for (name, rt) in [
        ("oidcc-hybrid[code id_token]", "code id_token"),
        ("oidcc-hybrid[code token]", "code token"),
        ("oidcc-hybrid[code id_token token]", "code id_token token"),
    ] {
        plans.push(Plan {
            name,
            section: "conformance",
            variant: v(rt, None),
            modules: front_channel_modules(true, true),
        });
    }
    plans
}

fn dynamic_modules() -> Vec<Module> {
    vec![
        module!("oidcc-server", dynamic_server),
        module!(
            "oidcc-discovery-endpoint-verification",
            discovery_endpoint_verification_dynamic
        ),
        module!("oidcc-idtoken-rs256", dynamic_idtoken_rs256),
        module!("oidcc-idtoken-unsigned", idtoken_unsigned),
        module!("oidcc-userinfo-rs256", userinfo_rs256),
        module!(
            "oidcc-ensure-redirect-uri-in-authorization-request",
            ensure_redirect_uri_in_authorization_request
        ),
        module!("oidcc-redirect-uri-query-OK", redirect_uri_query_ok),
        module!(
            "oidcc-redirect-uri-query-mismatch",
            redirect_uri_query_mismatch
        ),
        module!("oidcc-redirect-uri-query-added", redirect_uri_query_added),
        module!("oidcc-redirect-uri-regfrag", redirect_uri_regfrag),
        module!("oidcc-registration-logo-uri", registration_logo_uri),
        module!("oidcc-registration-policy-uri", registration_policy_uri),
        module!("oidcc-registration-tos-uri", registration_tos_uri),
        module!("oidcc-registration-jwks-uri", registration_jwks_uri),
        module!("oidcc-registration-sector-uri", registration_sector_uri),
        module!("oidcc-registration-sector-bad", registration_sector_bad),
        module!("oidcc-request-uri-unsigned", request_uri_unsigned),
        module!("oidcc-request-uri-signed-rs256", request_uri_signed_rs256),
        module!(
            "oidcc-ensure-request-object-with-redirect-uri",
            ensure_request_object_with_redirect_uri,
            REQUEST_ERRORS
        ),
        module!(
            "oidcc-ensure-client-assertion-with-iss-aud-succeeds",
            ensure_client_assertion_with_iss_aud_succeeds
        ),
        module!("oidcc-refresh-token", refresh_token),
        module!(
            "oidcc-refresh-token-rp-key-rotation",
            refresh_token_rp_key_rotation
        ),
        module!("oidcc-server-rotate-keys", server_rotate_keys),
    ]
}

fn logout_modules() -> Vec<Module> {
    vec![
        module!("oidcc-rp-initiated-logout", rp_initiated_logout),
        module!(
            "oidcc-rp-initiated-logout-no-state",
            rp_initiated_logout_no_state
        ),
        module!(
            "oidcc-rp-initiated-logout-bad-post-logout-redirect-uri",
            rp_initiated_logout_bad_post_logout_redirect_uri
        ),
        module!(
            "oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri",
            rp_initiated_logout_query_added_to_post_logout_redirect_uri
        ),
        module!(
            "oidcc-rp-initiated-logout-no-id-token-hint",
            rp_initiated_logout_no_id_token_hint
        ),
        module!(
            "oidcc-rp-initiated-logout-bad-id-token-hint",
            rp_initiated_logout_bad_id_token_hint
        ),
        module!(
            "oidcc-rp-initiated-logout-modified-id-token-hint",
            rp_initiated_logout_modified_id_token_hint
        ),
        module!(
            "oidcc-rp-initiated-logout-no-params",
            rp_initiated_logout_no_params
        ),
        module!(
            "oidcc-rp-initiated-logout-only-state",
            rp_initiated_logout_only_state
        ),
        module!(
            "oidcc-rp-initiated-logout-no-post-logout-redirect-uri",
            rp_initiated_logout_no_post_logout_redirect_uri
        ),
    ]
}

fn pass() -> ModuleResult {
    Ok(Verdict::Passed)
}

// ---------------------------------------------------------------------------------------------
// Core flow and token modules

/// Happy path: state and iss echoed, the code exchanged, the ID token checked, UserInfo 200.
async fn server(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let (_, flow) = rp.run(&rp.authz().scope("openid")).await?;
    if let Some(at) = &flow.access_token {
        let ui = rp.userinfo_get(at).await?;
        ensure!(ui.status == StatusCode::OK, "userinfo: {ui:?}");
        ensure!(
            ui.json()?["sub"] == flow.claims["sub"],
            "userinfo sub: {ui:?}"
        );
    }
    pass()
}

async fn server_client_secret_post(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let (_, resp) = rp.sign_in(&rp.authz().scope("openid")).await?;
    resp.expect_success(&rp)?;
    rp.finish(&resp, true, Some(NONCE)).await?;
    pass()
}

/// No `response_type`: an error page, or `unsupported_response_type`/`invalid_request` sent back.
async fn response_type_missing(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let reply = Browser::new()?
        .get(&rp.authz().remove("response_type").url())
        .await?;
    error_page_or_response(
        &rp,
        &reply,
        &["unsupported_response_type", "invalid_request"],
    )?;
    pass()
}

/// The default ID token is RS256 and verifies with a `kid` from the JWKS.
async fn idtoken_signature(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let (_, flow) = rp.run(&rp.authz()).await?;
    let (header, _) = crate::helpers::jwt_parts(&flow.id_token)?;
    ensure!(
        header["alg"] == "RS256" && header["kid"].is_string(),
        "{header}"
    );
    pass()
}

/// Run only when the server lists `none` for ID tokens (the suite skips it otherwise).
async fn idtoken_unsigned(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let doc = rp.discovery().await?;
    let none = doc["id_token_signing_alg_values_supported"]
        .as_array()
        .is_some_and(|a| a.iter().any(|v| v == "none"));
    ensure!(
        !none,
        "`none` is advertised: this module must then issue unsigned ID tokens"
    );
    Ok(Verdict::Skipped(
        "`none` is not in id_token_signing_alg_values_supported".into(),
    ))
}

/// Config: with the default (RS256) registration, the ID token is RS256.
async fn idtoken_rs256(c: Ctx) -> ModuleResult {
    idtoken_signature(c).await
}

/// Run only when RS256 is in `userinfo_signing_alg_values_supported`; skipped otherwise.
async fn userinfo_rs256(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let doc = rp.discovery().await?;
    ensure!(
        doc.get("userinfo_signing_alg_values_supported").is_none(),
        "signed userinfo is advertised: this module must then check it"
    );
    Ok(Verdict::Skipped(
        "userinfo_signing_alg_values_supported is not advertised (UserInfo is JSON only)".into(),
    ))
}

async fn userinfo_with(c: Ctx, how: &'static str) -> ModuleResult {
    let rp = c.rp().await?;
    let (_, flow) = rp.run(&rp.authz()).await?;
    let at = flow.access_token.as_deref().context("no access token")?;
    let reply = match how {
        "get" => rp.userinfo_get(at).await?,
        "header" => rp.userinfo_post_header(at).await?,
        _ => rp.userinfo_post_body(at).await?,
    };
    if how == "body" && reply.status != StatusCode::OK {
        return Ok(Verdict::Warning(format!(
            "POST with access_token in the body is not accepted: {}",
            reply.status
        )));
    }
    ensure!(
        reply.status == StatusCode::OK,
        "userinfo ({how}): {reply:?}"
    );
    ensure!(
        reply
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "{reply:?}"
    );
    ensure!(
        reply.json()?["sub"] == flow.claims["sub"],
        "sub differs: {reply:?}"
    );
    pass()
}

async fn userinfo_get(c: Ctx) -> ModuleResult {
    userinfo_with(c, "get").await
}

async fn userinfo_post_header(c: Ctx) -> ModuleResult {
    userinfo_with(c, "header").await
}

async fn userinfo_post_body(c: Ctx) -> ModuleResult {
    userinfo_with(c, "body").await
}

async fn ensure_request_without_nonce_succeeds_for_code_flow(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let (_, resp) = rp.sign_in(&rp.authz().remove("nonce")).await?;
    resp.expect_success(&rp)?;
    rp.finish(&resp, false, None).await?;
    pass()
}

/// Implicit/hybrid without `nonce`: an error page or `invalid_request`.
async fn ensure_request_without_nonce_fails(c: Ctx) -> ModuleResult {
    // OIDC Core §3.3.2.11: the nonce is OPTIONAL for `code token`, where no ID token travels
    // in the authorization response.
    if !c
        .variant
        .response_type
        .split_whitespace()
        .any(|t| t == "id_token")
    {
        return Ok(Verdict::Skipped(
            "nonce is optional for this response type (OIDC Core 3.3.2.11)".into(),
        ));
    }
    let rp = c.rp().await?;
    let reply = Browser::new()?
        .get(&rp.authz().remove("nonce").url())
        .await?;
    error_page_or_response(&rp, &reply, &["invalid_request"])?;
    pass()
}

/// The scope's claims come back (UserInfo, or the ID token for `id_token`); a missing claim is
/// a WARNING, as in the suite.
async fn scope_claims(c: Ctx, scope: &str, claims: &[&str]) -> ModuleResult {
    let rp = c.rp().await?;
    let doc = rp.discovery().await?;
    for s in scope.split(' ') {
        let listed = doc["scopes_supported"]
            .as_array()
            .is_some_and(|a| a.iter().any(|v| v == s));
        if !listed {
            return Ok(Verdict::Skipped(format!(
                "scope {s} not in scopes_supported"
            )));
        }
    }
    let (_, flow) = rp
        .run(&rp.authz().scope(&format!("openid {scope}")))
        .await?;
    let got = match &flow.access_token {
        Some(at) => {
            let ui = rp.userinfo_get(at).await?;
            ensure!(ui.status == StatusCode::OK, "userinfo: {ui:?}");
            ui.json()?
        }
        None => flow.claims.clone(),
    };
    let missing: Vec<&str> = claims
        .iter()
        .copied()
        .filter(|k| got.get(*k).is_none())
        .collect();
    if missing.is_empty() {
        pass()
    } else {
        Ok(Verdict::Warning(format!(
            "claims not returned: {missing:?}"
        )))
    }
}

async fn scope_profile(c: Ctx) -> ModuleResult {
    scope_claims(
        c,
        "profile",
        &[
            "name",
            "family_name",
            "given_name",
            "preferred_username",
            "locale",
            "zoneinfo",
            "updated_at",
        ],
    )
    .await
}

async fn scope_email(c: Ctx) -> ModuleResult {
    scope_claims(c, "email", &["email", "email_verified"]).await
}

async fn scope_address(c: Ctx) -> ModuleResult {
    scope_claims(c, "address", &["address"]).await
}

async fn scope_phone(c: Ctx) -> ModuleResult {
    scope_claims(c, "phone", &["phone_number"]).await
}

async fn scope_all(c: Ctx) -> ModuleResult {
    scope_claims(
        c,
        "profile email address phone",
        &["name", "email", "address", "phone_number"],
    )
    .await
}

async fn succeeds_with(c: Ctx, change: fn(Authz) -> Authz) -> ModuleResult {
    let rp = c.rp().await?;
    rp.run(&change(rp.authz())).await?;
    pass()
}

async fn ensure_other_scope_order_succeeds(c: Ctx) -> ModuleResult {
    succeeds_with(c, |a| a.scope("email openid")).await
}

/// Scopes reversed and parameters in another order (RFC 6749 §3.3).
async fn alternate_happy_flow(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let base = rp.authz();
    let url = base.url();
    let (path, query) = url.split_once('?').context("query")?;
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .map(|(k, v)| {
            if k == "scope" {
                (k, "email profile openid".to_owned())
            } else {
                (k, v)
            }
        })
        .collect();
    pairs.reverse();
    let reordered = format!("{path}?{}", serde_urlencoded::to_string(&pairs)?);
    let browser = Browser::new()?;
    let form = browser.open_login(&reordered).await?;
    let reply = browser
        .submit(&form, &rp.app.alice.login, crate::helpers::PASSWORD)
        .await?;
    let resp = read_response(&reply)?.context("no response")?;
    resp.expect_success(&rp)?;
    rp.finish(&resp, false, Some(NONCE)).await?;
    pass()
}

async fn display_page(c: Ctx) -> ModuleResult {
    succeeds_with(c, |a| a.set("display", "page")).await
}

async fn display_popup(c: Ctx) -> ModuleResult {
    succeeds_with(c, |a| a.set("display", "popup")).await
}

async fn login_hint(c: Ctx) -> ModuleResult {
    succeeds_with(c, |a| a.set("login_hint", "alice@example.com")).await
}

async fn ui_locales(c: Ctx) -> ModuleResult {
    succeeds_with(c, |a| a.set("ui_locales", "se")).await
}

async fn claims_locales(c: Ctx) -> ModuleResult {
    succeeds_with(c, |a| a.set("claims_locales", "se")).await
}

async fn ensure_request_with_unknown_parameter_succeeds(c: Ctx) -> ModuleResult {
    succeeds_with(c, |a| a.set("extra", "foobar")).await
}

/// `acr_values` causes no error; an `acr` that was not asked for is only a WARNING.
async fn ensure_request_with_acr_values_succeeds(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let (_, flow) = rp.run(&rp.authz().set("acr_values", "1 2")).await?;
    match flow.claims.get("acr").and_then(Value::as_str) {
        Some(acr) if acr != "1" && acr != "2" => Ok(Verdict::Warning(format!(
            "acr {acr} is not one of the requested values"
        ))),
        _ => pass(),
    }
}

/// `claims` asking for `name` as essential succeeds; a missing `name` is a WARNING.
async fn claims_essential(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let claims = json!({"userinfo": {"name": {"essential": true}}}).to_string();
    let (_, flow) = rp
        .run(&rp.authz().scope("openid").set("claims", &claims))
        .await?;
    let got = match &flow.access_token {
        Some(at) => rp.userinfo_get(at).await?.json()?,
        None => flow.claims.clone(),
    };
    if got.get("name").is_none() {
        return Ok(Verdict::Warning(
            "essential claim `name` not returned (claims_parameter_supported is false)".into(),
        ));
    }
    pass()
}

/// The authorization endpoint accepts a form POST (OIDC Core §3.1.2.1).
async fn ensure_post_request_succeeds(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let url = rp.authz().url();
    let (endpoint, query) = url.split_once('?').context("query")?;
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let browser = Browser::new()?;
    let page =
        crate::helpers::Reply::read(browser.client.post(endpoint).form(&pairs).send().await?)
            .await?;
    let form = page
        .login_form()
        .with_context(|| format!("no sign-in form: {page:?}"))?;
    let reply = browser
        .submit(&form, &rp.app.alice.login, crate::helpers::PASSWORD)
        .await?;
    let resp = read_response(&reply)?.context("no response")?;
    resp.expect_success(&rp)?;
    rp.finish(&resp, false, Some(NONCE)).await?;
    pass()
}

/// A valid S256 PKCE request succeeds.
async fn ensure_request_with_valid_pkce_succeeds(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let (_, resp) = rp.sign_in(&rp.authz().pkce()).await?;
    resp.expect_success(&rp)?;
    let code = resp.get("code").context("code")?;
    let reply = rp
        .app
        .exchange(
            rp.server,
            code,
            &[("code_verifier", VERIFIER)],
            Auth::Basic(&rp.client_id, &rp.secret),
        )
        .await?;
    check_token_response(&reply)?;
    pass()
}

/// A second redemption gets `invalid_grant`; success would be a WARNING.
async fn codereuse(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let (_, resp) = rp.sign_in(&rp.authz()).await?;
    resp.expect_success(&rp)?;
    let code = resp.get("code").context("code")?.to_owned();
    check_token_response(&rp.exchange(&code, false).await?)?;
    let again = rp.exchange(&code, false).await?;
    if again.status == StatusCode::OK {
        return Ok(Verdict::Warning("the code was accepted twice".into()));
    }
    again.expect_oauth_error(400, "invalid_grant")?;
    pass()
}

/// Reuse after 30 s MUST fail; the first access token should be revoked (WARNING if not).
async fn codereuse_30seconds(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let (_, resp) = rp.sign_in(&rp.authz()).await?;
    resp.expect_success(&rp)?;
    let code = resp.get("code").context("code")?.to_owned();
    let first = check_token_response(&rp.exchange(&code, false).await?)?;
    let at = first["access_token"].as_str().context("access_token")?;
    rp.app.clock.advance(30);
    let again = rp.exchange(&code, false).await?;
    again.expect_oauth_error(400, "invalid_grant")?;
    let ui = rp.userinfo_get(at).await?;
    if ui.status == StatusCode::OK {
        return Ok(Verdict::Warning(
            "the first access token still works after the code was reused".into(),
        ));
    }
    ensure!(ui.status == StatusCode::UNAUTHORIZED, "userinfo: {ui:?}");
    pass()
}

/// The refresh token works, is made of allowed characters, its response is not cacheable, the
/// new ID token keeps iss, sub, aud and auth_time; another client cannot use it.
async fn refresh_token(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let (_, flow) = rp.run(&rp.authz().scope("openid offline_access")).await?;
    let Some(rt) = flow.refresh_token.clone() else {
        return Ok(Verdict::Skipped("no refresh token was issued".into()));
    };
    ensure!(
        rt.chars().all(|c| ('\x20'..='\x7e').contains(&c)),
        "refresh token characters: {rt}"
    );
    let reply = rp
        .app
        .refresh(rp.server, &rt, None, Auth::Basic(&rp.client_id, &rp.secret))
        .await?;
    let body = check_token_response(&reply)?;
    ensure!(
        reply.header("pragma") == Some("no-cache") || reply.header("cache-control").is_some(),
        "{reply:?}"
    );
    if let Some(idt) = body["id_token"].as_str() {
        // A refreshed ID token may omit the nonce (OIDC Core §12.2); if present it is the same.
        let (_, raw) = crate::helpers::jwt_parts(idt)?;
        let nonce = raw.get("nonce").and_then(Value::as_str).map(str::to_owned);
        ensure!(
            nonce.as_deref().is_none_or(|n| n == NONCE),
            "refreshed nonce: {raw}"
        );
        let claims = rp
            .check_id_token(idt, nonce.as_deref(), body["access_token"].as_str(), None)
            .await?;
        for k in ["iss", "sub", "aud", "auth_time"] {
            ensure!(
                claims.get(k) == flow.claims.get(k),
                "refreshed ID token {k} differs: {claims} vs {}",
                flow.claims
            );
        }
    }
    // Client 2's refresh token used by client 1.
    let other = rp.app.create_web_app("Second client").await?;
    rp.app.assign_everyone(&other).await?;
    let other_id = other.app.client_id.clone();
    let other_secret = other.client_secret.clone().unwrap_or_default();
    let authz = Authz::new(&rp.app.base, rp.server, &other_id).scope("openid offline_access");
    let (_, resp) = rp.sign_in(&authz).await?;
    let code = resp.get("code").context("client 2 code")?;
    let tokens = check_token_response(
        &rp.app
            .exchange(rp.server, code, &[], Auth::Basic(&other_id, &other_secret))
            .await?,
    )?;
    let rt2 = tokens["refresh_token"]
        .as_str()
        .context("client 2 refresh token")?;
    let stolen = rp
        .app
        .refresh(rp.server, rt2, None, Auth::Basic(&rp.client_id, &rp.secret))
        .await?;
    stolen.expect_oauth_error(400, "invalid_grant")?;
    pass()
}

// ---------------------------------------------------------------------------------------------
// Session, prompt and hint modules

async fn prompt_none_not_logged_in(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let resp = rp
        .no_ui(&Browser::new()?, &rp.authz().set("prompt", "none"))
        .await?;
    resp.expect_error(
        &rp,
        &[
            "login_required",
            "interaction_required",
            "consent_required",
            "account_selection_required",
        ],
    )?;
    pass()
}

/// A second request with `prompt=none` succeeds silently; same sub and auth_time.
async fn prompt_none_logged_in(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let (browser, first) = rp.run(&rp.authz()).await?;
    let resp = rp
        .no_ui(&browser, &rp.authz().set("prompt", "none"))
        .await?;
    resp.expect_success(&rp)?;
    let second = rp.finish(&resp, false, Some(NONCE)).await?;
    same_subject_and_auth_time(&first, &second)
}

fn same_subject_and_auth_time(first: &Flow, second: &Flow) -> ModuleResult {
    ensure!(first.claims["sub"] == second.claims["sub"], "sub changed");
    ensure!(
        first.claims.get("auth_time") == second.claims.get("auth_time"),
        "auth_time changed without a new sign-in"
    );
    pass()
}

/// `prompt=login` shows the sign-in page again and the new auth_time is later.
async fn prompt_login(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let (browser, first) = rp.run(&rp.authz()).await?;
    rp.app.clock.advance(2);
    let again = rp.authz().set("prompt", "login");
    ensure!(
        rp.shows_login(&browser, &again).await?,
        "prompt=login did not ask to sign in"
    );
    let resp = rp.sign_in_with(&browser, &again).await?;
    resp.expect_success(&rp)?;
    let second = rp.finish(&resp, false, Some(NONCE)).await?;
    later_auth_time(&first, &second)
}

fn later_auth_time(first: &Flow, second: &Flow) -> ModuleResult {
    let a = first.claims["auth_time"]
        .as_i64()
        .context("auth_time missing")?;
    let b = second.claims["auth_time"]
        .as_i64()
        .context("auth_time missing")?;
    ensure!(b > a, "auth_time did not move on: {a} then {b}");
    ensure!(first.claims["sub"] == second.claims["sub"], "sub changed");
    pass()
}

/// After a wait, `max_age=1` forces a new sign-in; auth_time present and later.
async fn max_age_1(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let (browser, first) = rp.run(&rp.authz()).await?;
    rp.app.clock.advance(2);
    let again = rp.authz().set("max_age", "1");
    ensure!(
        rp.shows_login(&browser, &again).await?,
        "max_age=1 did not ask to sign in"
    );
    let resp = rp.sign_in_with(&browser, &again).await?;
    resp.expect_success(&rp)?;
    let second = rp.finish(&resp, false, Some(NONCE)).await?;
    later_auth_time(&first, &second)
}

/// `max_age=15000`, then `max_age=10000`: no new sign-in; auth_time present and unchanged.
async fn max_age_10000(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let (browser, first) = rp.run(&rp.authz().set("max_age", "15000")).await?;
    ensure!(
        first.claims["auth_time"].is_i64(),
        "auth_time missing with max_age"
    );
    rp.app.clock.advance(2);
    let resp = rp
        .no_ui(&browser, &rp.authz().set("max_age", "10000"))
        .await?;
    resp.expect_success(&rp)?;
    let second = rp.finish(&resp, false, Some(NONCE)).await?;
    ensure!(
        second.claims["auth_time"].is_i64(),
        "auth_time missing with max_age"
    );
    same_subject_and_auth_time(&first, &second)
}

/// `prompt=none` with the first ID token as `id_token_hint` succeeds silently; same sub.
async fn id_token_hint(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let (browser, first) = rp.run(&rp.authz()).await?;
    let resp = rp
        .no_ui(
            &browser,
            &rp.authz()
                .set("prompt", "none")
                .set("id_token_hint", &first.id_token),
        )
        .await?;
    resp.expect_success(&rp)?;
    let second = rp.finish(&resp, false, Some(NONCE)).await?;
    ensure!(first.claims["sub"] == second.claims["sub"], "sub changed");
    pass()
}

// ---------------------------------------------------------------------------------------------
// Redirect URI and request object modules

async fn ensure_registered_redirect_uri(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let reply = Browser::new()?
        .get(
            &rp.authz()
                .set("redirect_uri", &format!("{REDIRECT_URI}/not-registered"))
                .url(),
        )
        .await?;
    expect_error_page(&reply)?;
    pass()
}

/// A request object (or request_uri) is processed or refused with `<param>_not_supported`,
/// sent back to the client; ignoring it is a failure. The suite SKIPS the module on the
/// refusal (it cannot test what is not supported), and so does this.
async fn request_object_or_not_supported(
    rp: &Rp,
    authz: Authz,
    error: &str,
    object_state: Option<&str>,
) -> ModuleResult {
    let browser = Browser::new()?;
    let reply = browser.get(&authz.url()).await?;
    if let Some(form) = reply.login_form() {
        // Processed: the object's parameters must win.
        let reply = browser
            .submit(&form, &rp.app.alice.login, crate::helpers::PASSWORD)
            .await?;
        let resp = read_response(&reply)?.context("no response")?;
        if let Some(s) = object_state {
            ensure!(
                resp.get("state") == Some(s),
                "the request object was ignored: {:?}",
                resp.params
            );
        }
        return pass();
    }
    let resp = read_response(&reply)?
        .with_context(|| format!("expected {error} sent back to the client: {reply:?}"))?;
    let e = resp.error().context("no error")?;
    ensure!(e == error, "error {e}, expected {error}");
    ensure!(
        resp.get("iss") == Some(rp.issuer().as_str()),
        "iss: {:?}",
        resp.params
    );
    Ok(Verdict::Skipped(format!(
        "{error}: {}",
        resp.get("error_description").unwrap_or_default()
    )))
}

fn request_object(rp: &Rp, state: &str, redirect_uri: &str) -> String {
    unsigned_token(
        "",
        &json!({
            "iss": rp.client_id, "aud": rp.issuer(), "client_id": rp.client_id,
            "response_type": rp.variant.response_type, "scope": "openid", "state": state,
            "nonce": NONCE, "redirect_uri": redirect_uri,
        }),
    )
}

async fn unsigned_request_object_supported_correctly_or_rejected_as_unsupported(
    c: Ctx,
) -> ModuleResult {
    let rp = c.rp().await?;
    let object = request_object(&rp, "object-state", REDIRECT_URI);
    let authz = rp.authz().set("request", &object);
    request_object_or_not_supported(&rp, authz, "request_not_supported", Some("object-state")).await
}

async fn request_uri_unsigned_supported_correctly_or_rejected_as_unsupported(
    c: Ctx,
) -> ModuleResult {
    let rp = c.rp().await?;
    let authz = rp
        .authz()
        .set("request_uri", "https://rp.example.test/request.jwt");
    request_object_or_not_supported(&rp, authz, "request_uri_not_supported", None).await
}

/// The object's redirect_uri differs from the query's: use the object's, or reject.
async fn ensure_request_object_with_redirect_uri(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let object = request_object(&rp, STATE, REDIRECT_URI);
    let authz = rp
        .authz()
        .set("redirect_uri", &format!("{REDIRECT_URI}/other"))
        .set("request", &object);
    let browser = Browser::new()?;
    let reply = browser.get(&authz.url()).await?;
    if let Some(form) = reply.login_form() {
        // Processed: the response goes to the object's (registered) redirect_uri.
        let reply = browser
            .submit(&form, &rp.app.alice.login, crate::helpers::PASSWORD)
            .await?;
        let resp = read_response(&reply)?.context("no response after sign-in")?;
        resp.expect_success(&rp)?;
        return pass();
    }
    if let Some(resp) = read_response(&reply)? {
        ensure!(
            resp.target == REDIRECT_URI,
            "redirected to the query's redirect_uri {}",
            resp.target
        );
        resp.expect_error(
            &rp,
            &[
                "request_not_supported",
                "invalid_request",
                "invalid_request_object",
            ],
        )?;
        return pass();
    }
    // Gatehouse does not process request objects (discovery: `request_parameter_supported: false`),
    // so the query's unregistered redirect_uri stands and gets the error page, never a redirect.
    // The OIDF suite skips this module for such providers.
    if reply.status.as_u16() == 400 && reply.login_form().is_none() {
        return Ok(Verdict::Skipped(
            "request objects are not supported; the unregistered redirect_uri got the error page"
                .into(),
        ));
    }
    anyhow::bail!("neither processed nor refused with an error response: {reply:?}")
}

// ---------------------------------------------------------------------------------------------
// Config and Dynamic

/// Discovery: 200 JSON; issuer is the discovery URL's prefix; the required members and
/// consistent values; the JWKS has unique kids and public members only.
async fn discovery_checks(rp: &Rp, dynamic: bool) -> ModuleResult {
    let url = format!("{}/.well-known/openid-configuration", rp.issuer());
    let reply = rp.app.get(&url).await?;
    ensure!(reply.status == StatusCode::OK, "{reply:?}");
    ensure!(
        reply
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "{reply:?}"
    );
    let doc = reply.json()?;
    ensure!(
        doc["issuer"] == rp.issuer().as_str(),
        "issuer {} is not the discovery prefix",
        doc["issuer"]
    );
    let mut required = vec![
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "userinfo_endpoint",
    ];
    if dynamic {
        required.push("registration_endpoint");
    }
    for k in &required {
        let v = doc[*k].as_str().with_context(|| format!("{k} missing"))?;
        ensure!(
            v.starts_with(&rp.app.base),
            "{k} {v} is not on the issuer's origin"
        );
    }
    let has = |k: &str, v: &str| doc[k].as_array().is_some_and(|a| a.iter().any(|x| x == v));
    ensure!(
        has("scopes_supported", "openid"),
        "openid not in scopes_supported"
    );
    ensure!(
        has("response_types_supported", "code"),
        "code not in response_types_supported"
    );
    ensure!(
        has("subject_types_supported", "public") || has("subject_types_supported", "pairwise"),
        "subject_types_supported"
    );
    ensure!(
        has("id_token_signing_alg_values_supported", "RS256"),
        "RS256 not in id_token_signing_alg_values_supported"
    );
    if let Some(g) = doc.get("grant_types_supported") {
        ensure!(
            g.as_array()
                .is_some_and(|a| a.iter().any(|x| x == "authorization_code")),
            "grant_types_supported"
        );
    }
    ensure!(
        doc["code_challenge_methods_supported"].is_array(),
        "code_challenge_methods_supported"
    );
    ensure!(
        doc["claims_parameter_supported"].is_boolean()
            || doc.get("claims_parameter_supported").is_none()
    );
    let jwks = rp.app.jwks(rp.server).await?;
    let keys = jwks["keys"].as_array().context("keys")?;
    let mut kids: Vec<&str> = keys.iter().filter_map(|k| k["kid"].as_str()).collect();
    ensure!(kids.len() == keys.len(), "a key without kid");
    kids.sort_unstable();
    kids.dedup();
    ensure!(kids.len() == keys.len(), "duplicate kids");
    for k in keys {
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            ensure!(
                k.get(private).is_none(),
                "private member {private} published: {k}"
            );
        }
    }
    if dynamic {
        ensure!(
            has("request_object_signing_alg_values_supported", "RS256"),
            "Dynamic OPs must accept RS256 request objects"
        );
    }
    if !rp.app.base.starts_with("https://") {
        return Ok(Verdict::Warning(
            "endpoints are http: the test server runs on loopback without TLS".into(),
        ));
    }
    pass()
}

async fn discovery_endpoint_verification(c: Ctx) -> ModuleResult {
    discovery_checks(&c.rp().await?, false).await
}

async fn discovery_endpoint_verification_dynamic(c: Ctx) -> ModuleResult {
    discovery_checks(&c.rp().await?, true).await
}

/// Registers a client through Okta's DCR (`/oauth2/v1/clients`, SSWS) and points the RP at it.
pub(crate) async fn register(rp: &mut Rp, extra: Value) -> Result<Value> {
    let ssws = rp.app.api_token().await?;
    let mut metadata = json!({
        "client_name": "oidf-dynamic",
        "redirect_uris": [REDIRECT_URI],
        "post_logout_redirect_uris": [LOGOUT_URI],
        "response_types": ["code"],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "client_secret_basic",
        "application_type": "web",
    });
    if let (Some(m), Some(e)) = (metadata.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            m.insert(k.clone(), v.clone());
        }
    }
    let client = rp.app.register_client(&ssws, &metadata).await?;
    let id = client["client_id"]
        .as_str()
        .context("client_id")?
        .to_owned();
    // A registered client signs in once it is assigned (Okta's model).
    let app = rp
        .app
        .provider
        .store
        .find_app_by_client_id(&id)
        .await?
        .context("registered app")?;
    let everyone =
        gatehouse_core::services::directory::find_group_by_id_or_name(&rp.app.provider, "Everyone")
            .await?;
    gatehouse_core::services::apps::assign_group_to_app(&rp.app.provider, &app, &everyone).await?;
    rp.client_id = id;
    rp.secret = client["client_secret"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    Ok(client)
}

/// Registration that must fail with 400 and one of `codes`.
async fn register_refused(rp: &Rp, extra: Value, codes: &[&str]) -> ModuleResult {
    let ssws = rp.app.api_token().await?;
    let mut metadata = json!({
        "client_name": "oidf-dynamic", "redirect_uris": [REDIRECT_URI],
        "response_types": ["code"], "grant_types": ["authorization_code"], "application_type": "web",
    });
    if let (Some(m), Some(e)) = (metadata.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            m.insert(k.clone(), v.clone());
        }
    }
    let reply = rp
        .app
        .api_ssws(
            reqwest::Method::POST,
            "/oauth2/v1/clients",
            &ssws,
            Some(&metadata),
        )
        .await?;
    ensure!(
        reply.status == StatusCode::BAD_REQUEST,
        "registration was accepted: {reply:?}"
    );
    let e = reply
        .oauth_error()
        .with_context(|| format!("no RFC 7591 error: {reply:?}"))?;
    ensure!(codes.contains(&e.as_str()), "error {e}, expected {codes:?}");
    pass()
}

async fn dynamic_server(c: Ctx) -> ModuleResult {
    let mut rp = c.rp().await?;
    register(&mut rp, json!({})).await?;
    rp.run(&rp.authz().scope("openid")).await?;
    pass()
}

async fn dynamic_idtoken_rs256(c: Ctx) -> ModuleResult {
    let mut rp = c.rp().await?;
    register(&mut rp, json!({"id_token_signed_response_alg": "RS256"})).await?;
    let (_, flow) = rp.run(&rp.authz()).await?;
    let (header, _) = crate::helpers::jwt_parts(&flow.id_token)?;
    ensure!(header["alg"] == "RS256", "{header}");
    pass()
}

/// Two registered URIs and none in the request: an error page, no redirect.
async fn ensure_redirect_uri_in_authorization_request(c: Ctx) -> ModuleResult {
    let mut rp = c.rp().await?;
    register(
        &mut rp,
        json!({"redirect_uris": [REDIRECT_URI, format!("{REDIRECT_URI}2")]}),
    )
    .await?;
    let reply = Browser::new()?
        .get(&rp.authz().remove("redirect_uri").url())
        .await?;
    expect_error_page(&reply)?;
    pass()
}

/// A registered URI with a query is matched and its query kept.
async fn redirect_uri_query_ok(c: Ctx) -> ModuleResult {
    let mut rp = c.rp().await?;
    let with_query = format!("{REDIRECT_URI}?foo=bar");
    register(&mut rp, json!({"redirect_uris": [with_query]})).await?;
    let (_, resp) = rp
        .sign_in(&rp.authz().set("redirect_uri", &with_query))
        .await?;
    ensure!(resp.target == REDIRECT_URI, "{}", resp.target);
    ensure!(
        resp.get("foo") == Some("bar"),
        "the registered query was lost: {:?}",
        resp.params
    );
    ensure!(
        resp.get("code").is_some() && resp.get("state") == Some(STATE),
        "{:?}",
        resp.params
    );
    let code = resp.get("code").context("code")?;
    let reply = rp
        .app
        .token(
            rp.server,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &with_query),
            ],
            Auth::Basic(&rp.client_id, &rp.secret),
        )
        .await?;
    check_token_response(&reply)?;
    pass()
}

async fn redirect_uri_query_mismatch(c: Ctx) -> ModuleResult {
    let mut rp = c.rp().await?;
    register(
        &mut rp,
        json!({"redirect_uris": [format!("{REDIRECT_URI}?foo=bar")]}),
    )
    .await?;
    let reply = Browser::new()?
        .get(
            &rp.authz()
                .set("redirect_uri", &format!("{REDIRECT_URI}?foo=zap"))
                .url(),
        )
        .await?;
    expect_error_page(&reply)?;
    pass()
}

async fn redirect_uri_query_added(c: Ctx) -> ModuleResult {
    let mut rp = c.rp().await?;
    register(&mut rp, json!({})).await?;
    let reply = Browser::new()?
        .get(
            &rp.authz()
                .set("redirect_uri", &format!("{REDIRECT_URI}?foo=bar"))
                .url(),
        )
        .await?;
    expect_error_page(&reply)?;
    pass()
}

async fn redirect_uri_regfrag(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    register_refused(
        &rp,
        json!({"redirect_uris": [format!("{REDIRECT_URI}#fragment")]}),
        &["invalid_redirect_uri", "invalid_client_metadata"],
    )
    .await
}

/// Registration with the URI works and so does a flow; showing it on the sign-in page is the
/// suite's REVIEW (screenshot) step.
async fn registration_with_uri(c: Ctx, member: &str) -> ModuleResult {
    let mut rp = c.rp().await?;
    register(
        &mut rp,
        json!({member: format!("https://rp.example.test/{member}")}),
    )
    .await?;
    let page = Browser::new()?.get(&rp.authz().url()).await?;
    let shown = page.body.contains("rp.example.test");
    rp.run(&rp.authz()).await?;
    if shown {
        pass()
    } else {
        Ok(Verdict::Warning(format!(
            "REVIEW: {member} is not shown on the sign-in page"
        )))
    }
}

async fn registration_logo_uri(c: Ctx) -> ModuleResult {
    registration_with_uri(c, "logo_uri").await
}

async fn registration_policy_uri(c: Ctx) -> ModuleResult {
    registration_with_uri(c, "policy_uri").await
}

async fn registration_tos_uri(c: Ctx) -> ModuleResult {
    registration_with_uri(c, "tos_uri").await
}

/// DCR with `jwks_uri`, then private_key_jwt at the token endpoint.
async fn registration_jwks_uri(c: Ctx) -> ModuleResult {
    let mut rp = c.rp().await?;
    register(
        &mut rp,
        json!({"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "https://rp.example.test/jwks.json"}),
    )
    .await?;
    pass()
}

/// The suite runs the sector modules only for OPs that advertise pairwise subjects; Gatehouse's
/// are public, so they end SKIPPED, after the checks they would make have been made anyway.
async fn skipped_without_pairwise(rp: &Rp, checked: &str) -> ModuleResult {
    let doc = rp.discovery().await?;
    let pairwise = doc["subject_types_supported"]
        .as_array()
        .is_some_and(|a| a.iter().any(|t| t == "pairwise"));
    if pairwise {
        return pass();
    }
    Ok(Verdict::Skipped(format!(
        "the suite skips it: subject_types_supported has no pairwise (checked anyway: {checked})"
    )))
}

/// A sector_identifier_uri whose document lists the redirect URIs: registration fetches it
/// once and accepts it, and the flow works.
async fn registration_sector_uri(c: Ctx) -> ModuleResult {
    let mut rp = c.rp_fetching().await?;
    let docs = DocumentServer::start().await?;
    let sector = docs.publish(
        "/redirect_uris.json",
        "application/json",
        &json!([REDIRECT_URI, format!("{REDIRECT_URI}/other")]).to_string(),
    );
    let client = register(&mut rp, json!({"sector_identifier_uri": sector})).await?;
    ensure!(
        client["sector_identifier_uri"] == sector.as_str(),
        "{client}"
    );
    ensure!(
        docs.hits() == 1,
        "the sector document was fetched {} times",
        docs.hits()
    );
    rp.run(&rp.authz()).await?;
    skipped_without_pairwise(&rp, "the listed redirect URI registers, and the flow works").await
}

/// A sector document that does not list every redirect URI is `invalid_client_metadata`.
async fn registration_sector_bad(c: Ctx) -> ModuleResult {
    let rp = c.rp_fetching().await?;
    let docs = DocumentServer::start().await?;
    let sector = docs.publish(
        "/redirect_uris.json",
        "application/json",
        &json!(["https://rp.example.test/another-cb"]).to_string(),
    );
    // The suite also asks for pairwise subjects, which Gatehouse refuses on their own; the
    // sector check is shown first without them.
    register_refused(
        &rp,
        json!({"sector_identifier_uri": sector}),
        &["invalid_client_metadata"],
    )
    .await?;
    ensure!(
        docs.hits() == 1,
        "the sector document was fetched {} times",
        docs.hits()
    );
    register_refused(
        &rp,
        json!({"sector_identifier_uri": sector, "subject_type": "pairwise"}),
        &["invalid_client_metadata"],
    )
    .await?;
    skipped_without_pairwise(&rp, "a sector document without the redirect URI is refused").await
}

/// `request_uri` pointing at an unsigned, or an RS256-signed, request object holding the whole
/// request: registered in `request_uris` (and, signed, with `request_object_signing_alg` and
/// the key in `jwks`), fetched, processed. `state` and `nonce` are only inside the object, so
/// the callback and the ID token show it was used.
async fn request_uri_flow(c: Ctx, signed: bool) -> ModuleResult {
    let mut rp = c.rp_fetching().await?;
    let doc = rp.discovery().await?;
    ensure!(
        doc["request_uri_parameter_supported"] == true,
        "request_uri_parameter_supported is not true"
    );
    if signed {
        ensure!(
            doc["request_object_signing_alg_values_supported"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == "RS256")),
            "RS256 not in request_object_signing_alg_values_supported"
        );
    }
    let docs = DocumentServer::start().await?;
    let path = format!("/requests/{}.jwt", crate::client_keys::uuid_like());
    let request_uri = docs.url(&path);
    let key = ClientKey::rsa("rp-request-key")?;
    let mut extra = json!({"request_uris": [request_uri]});
    if signed {
        extra["request_object_signing_alg"] = json!("RS256");
        extra["jwks"] = json!({"keys": [key.jwk]});
    }
    let client = register(&mut rp, extra).await?;
    ensure!(client["request_uris"] == json!([request_uri]), "{client}");
    let mut claims = json!({
        "client_id": rp.client_id, "response_type": rp.variant.response_type,
        "redirect_uri": REDIRECT_URI, "scope": "openid", "state": STATE, "nonce": NONCE,
    });
    if let Some(mode) = rp.variant.response_mode {
        claims["response_mode"] = json!(mode);
    }
    let object = if signed {
        claims["iss"] = json!(rp.client_id);
        claims["aud"] = json!(rp.issuer());
        key.sign(&claims, true)?
    } else {
        unsigned_token("", &claims)
    };
    docs.publish(&path, "application/oauth-authz-req+jwt", &object);
    // As the suite builds it: response_type, client_id, scope and redirect_uri repeated in the
    // query (OAuth 2.0 needs them), the rest only in the object.
    let authz = rp
        .authz()
        .remove("state")
        .remove("nonce")
        .remove("response_mode")
        .scope("openid")
        .set("request_uri", &request_uri);
    rp.run(&authz).await?;
    ensure!(docs.hits() >= 1, "the request_uri was never fetched");
    pass()
}

async fn request_uri_unsigned(c: Ctx) -> ModuleResult {
    request_uri_flow(c, false).await
}

async fn request_uri_signed_rs256(c: Ctx) -> ModuleResult {
    request_uri_flow(c, true).await
}

/// private_key_jwt with `aud` = the issuer (not the token endpoint) is accepted; a refusal is
/// a WARNING.
async fn ensure_client_assertion_with_iss_aud_succeeds(c: Ctx) -> ModuleResult {
    let mut rp = c.rp().await?;
    let key = ClientKey::rsa("rp-key")?;
    register(
        &mut rp,
        json!({"token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [key.jwk]}}),
    )
    .await?;
    let (_, resp) = rp.sign_in(&rp.authz()).await?;
    resp.expect_success(&rp)?;
    let code = resp.get("code").context("code")?;
    let assertion = key.sign(
        &assertion_claims(
            &rp.client_id,
            &rp.issuer(),
            gatehouse_core::provider::Clock::now(&*rp.app.clock),
        ),
        true,
    )?;
    let reply = rp
        .app
        .token(
            rp.server,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT_URI),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &assertion),
            ],
            Auth::None,
        )
        .await?;
    if reply.status != StatusCode::OK {
        return Ok(Verdict::Warning(format!(
            "aud = issuer refused: {}",
            reply.body
        )));
    }
    check_token_response(&reply)?;
    pass()
}

async fn refresh_token_rp_key_rotation(c: Ctx) -> ModuleResult {
    registration_jwks_uri(c).await
}

/// After the OP rotates its keys, the JWKS has the new key and still the old one, and new ID
/// tokens are signed with the new one.
async fn server_rotate_keys(c: Ctx) -> ModuleResult {
    let rp = c.rp().await?;
    let (_, first) = rp.run(&rp.authz()).await?;
    let (h1, _) = crate::helpers::jwt_parts(&first.id_token)?;
    gatehouse_core::services::auth_servers::rotate_key(&rp.app.provider, "default").await?;
    let jwks = rp.app.jwks(rp.server).await?;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .context("keys")?
        .iter()
        .filter_map(|k| k["kid"].as_str())
        .collect();
    let (_, second) = rp.run(&rp.authz()).await?;
    let (h2, _) = crate::helpers::jwt_parts(&second.id_token)?;
    ensure!(h1["kid"] != h2["kid"], "still signing with the old key");
    ensure!(
        kids.iter().any(|k| h2["kid"] == *k),
        "the new key is not in the JWKS"
    );
    ensure!(
        kids.iter().any(|k| h1["kid"] == *k),
        "the old key was dropped from the JWKS at once"
    );
    pass()
}

// ---------------------------------------------------------------------------------------------
// RP-initiated logout

struct LoggedIn {
    rp: Rp,
    browser: Browser,
    id_token: String,
}

async fn logged_in(c: Ctx) -> Result<LoggedIn> {
    let rp = c.rp().await?;
    let (browser, flow) = rp.run(&rp.authz()).await?;
    Ok(LoggedIn {
        rp,
        browser,
        id_token: flow.id_token,
    })
}

impl LoggedIn {
    async fn logout(&self, params: &[(&str, &str)]) -> Result<crate::helpers::Reply> {
        let doc = self.rp.discovery().await?;
        let endpoint = doc["end_session_endpoint"]
            .as_str()
            .context("end_session_endpoint")?;
        let url = format!("{endpoint}?{}", serde_urlencoded::to_string(params)?);
        self.browser.get(&url).await
    }

    /// After logout, `prompt=none` must fail: the session is gone.
    async fn session_ended(&self) -> Result<()> {
        let resp = self
            .rp
            .no_ui(&self.browser, &self.rp.authz().set("prompt", "none"))
            .await?;
        resp.expect_error(&self.rp, &["login_required", "interaction_required"])
    }

    async fn session_alive(&self) -> Result<bool> {
        let resp = self
            .rp
            .no_ui(&self.browser, &self.rp.authz().set("prompt", "none"))
            .await?;
        Ok(resp.error().is_none())
    }
}

/// No redirect anywhere but the OP: an error or a logged-out/confirmation page.
fn no_redirect_away(li: &LoggedIn, reply: &crate::helpers::Reply) -> Result<()> {
    if let Some(l) = reply.header("location") {
        ensure!(l.starts_with(&li.rp.app.base), "redirected to {l}");
    }
    ensure!(
        reply.status.is_client_error() || reply.status == StatusCode::OK,
        "{reply:?}"
    );
    Ok(())
}

async fn rp_initiated_logout(c: Ctx) -> ModuleResult {
    let li = logged_in(c).await?;
    let reply = li
        .logout(&[
            ("id_token_hint", &li.id_token),
            ("post_logout_redirect_uri", LOGOUT_URI),
            ("state", "lo-state"),
        ])
        .await?;
    ensure!(reply.status.is_redirection(), "{reply:?}");
    ensure!(
        reply.header("location") == Some(format!("{LOGOUT_URI}?state=lo-state").as_str()),
        "{reply:?}"
    );
    li.session_ended().await?;
    pass()
}

async fn rp_initiated_logout_no_state(c: Ctx) -> ModuleResult {
    let li = logged_in(c).await?;
    let reply = li
        .logout(&[
            ("id_token_hint", &li.id_token),
            ("post_logout_redirect_uri", LOGOUT_URI),
        ])
        .await?;
    ensure!(reply.header("location") == Some(LOGOUT_URI), "{reply:?}");
    li.session_ended().await?;
    pass()
}

async fn rp_initiated_logout_bad_post_logout_redirect_uri(c: Ctx) -> ModuleResult {
    let li = logged_in(c).await?;
    let reply = li
        .logout(&[
            ("id_token_hint", &li.id_token),
            (
                "post_logout_redirect_uri",
                "https://app.example.com/not-registered",
            ),
            ("state", "s"),
        ])
        .await?;
    no_redirect_away(&li, &reply)?;
    pass()
}

async fn rp_initiated_logout_query_added_to_post_logout_redirect_uri(c: Ctx) -> ModuleResult {
    let li = logged_in(c).await?;
    let reply = li
        .logout(&[
            ("id_token_hint", &li.id_token),
            ("post_logout_redirect_uri", &format!("{LOGOUT_URI}?foo=bar")),
        ])
        .await?;
    no_redirect_away(&li, &reply)?;
    pass()
}

async fn rp_initiated_logout_no_id_token_hint(c: Ctx) -> ModuleResult {
    let li = logged_in(c).await?;
    let reply = li
        .logout(&[
            ("post_logout_redirect_uri", LOGOUT_URI),
            ("state", "s"),
            ("client_id", &li.rp.client_id),
        ])
        .await?;
    no_redirect_away(&li, &reply)?;
    pass()
}

async fn rp_initiated_logout_bad_id_token_hint(c: Ctx) -> ModuleResult {
    let li = logged_in(c).await?;
    let (header, claims) = crate::helpers::jwt_parts(&li.id_token)?;
    let forged = sign_with_foreign_key(header["kid"].as_str().unwrap_or_default(), &claims).await?;
    let reply = li
        .logout(&[
            ("id_token_hint", &forged),
            ("post_logout_redirect_uri", LOGOUT_URI),
        ])
        .await?;
    no_redirect_away(&li, &reply)?;
    pass()
}

/// An `alg: none` copy of the ID token as the hint.
async fn rp_initiated_logout_modified_id_token_hint(c: Ctx) -> ModuleResult {
    let li = logged_in(c).await?;
    let (header, claims) = crate::helpers::jwt_parts(&li.id_token)?;
    let forged = unsigned_token(header["kid"].as_str().unwrap_or_default(), &claims);
    let reply = li
        .logout(&[
            ("id_token_hint", &forged),
            ("post_logout_redirect_uri", LOGOUT_URI),
        ])
        .await?;
    no_redirect_away(&li, &reply)?;
    ensure!(li.session_alive().await?, "a forged hint ended the session");
    pass()
}

async fn logged_out_page(li: &LoggedIn, params: &[(&str, &str)]) -> ModuleResult {
    let reply = li.logout(params).await?;
    ensure!(
        reply.status == StatusCode::OK,
        "expected a logged-out page: {reply:?}"
    );
    ensure!(reply.header("location").is_none(), "{reply:?}");
    li.session_ended().await?;
    pass()
}

async fn rp_initiated_logout_no_params(c: Ctx) -> ModuleResult {
    let li = logged_in(c).await?;
    logged_out_page(&li, &[]).await
}

async fn rp_initiated_logout_only_state(c: Ctx) -> ModuleResult {
    let li = logged_in(c).await?;
    logged_out_page(&li, &[("state", "only-state")]).await
}

async fn rp_initiated_logout_no_post_logout_redirect_uri(c: Ctx) -> ModuleResult {
    let li = logged_in(c).await?;
    let hint = li.id_token.clone();
    logged_out_page(&li, &[("id_token_hint", &hint)]).await
}
