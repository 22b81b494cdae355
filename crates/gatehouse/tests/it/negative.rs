//! What must be refused, and how: error pages where the redirect URI cannot be trusted, error
//! redirects with `state` and `iss` where it can, and RFC 6749 JSON errors at the token endpoint.

use anyhow::{Context as _, Result, ensure};
use gatehouse_store::test_support::Backend;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{
    Auth, Browser, REDIRECT_URI, Server, Tokens, VERIFIER, http_client, jwt_parts, s256,
    sign_with_foreign_key, spawn_app, tamper_payload, unsigned_token,
};

backend_tests!(
    redirect_uri_variants_get_error_page,
    unknown_client_gets_error_page,
    bad_request_with_valid_redirect_is_redirected,
    replayed_code_revokes_its_tokens,
    wrong_client_credentials,
    unassigned_user_gets_access_denied,
    expired_code,
    redirect_uri_must_match_at_token_endpoint,
    pkce_failures,
    forged_tokens_rejected,
    malformed_input_never_fails_the_server,
    token_errors_are_not_cacheable,
);

async fn redirect_uri_variants_get_error_page(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    // Registered: https://app.example.com/cb
    let variants = [
        "https://APP.example.com/cb",
        "https://app.example.com/CB",
        "HTTPS://app.example.com/cb",
        "https://app.example.com/cb/",
        "https://app.example.com/cb?x=1",
        "https://app.example.com/cb?",
        "https://app.example.com/cb#frag",
        "https://app.example.com@evil.com/cb",
        "https://evil.com@app.example.com/cb",
        "http://app.example.com/cb",
        "https://app.example.com:443/cb",
        "https://app.example.com/c",
        "https://app.example.com/cb2",
        "https://app.example.com/cb/../cb",
        "https://app.example.com/cb%2F",
        "https://app.example.com.evil.com/cb",
        " https://app.example.com/cb",
        "",
    ];
    let browser = Browser::new()?;
    for server in Server::ALL {
        for uri in variants {
            let reply = browser
                .get(&app.authz(server).set("redirect_uri", uri).url())
                .await?;
            reply.assert_error_page("invalid_request");
            ensure!(
                reply.set_cookie("gh_csrf").is_none(),
                "no sign-in transaction for {uri:?}: {reply:?}"
            );
        }
        let missing = browser
            .get(&app.authz(server).remove("redirect_uri").url())
            .await?;
        missing.assert_error_page("invalid_request");
        // The exact URI still works.
        browser.open_login(&app.authz(server).url()).await?;
    }
    Ok(())
}

async fn unknown_client_gets_error_page(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let browser = Browser::new()?;
    for server in Server::ALL {
        let unknown = browser
            .get(&app.authz(server).set("client_id", "0oaUNKNOWN").url())
            .await?;
        unknown.assert_error_page("invalid_client");
        let missing = browser
            .get(&app.authz(server).remove("client_id").url())
            .await?;
        missing.assert_error_page("invalid_request");
        // A request object cannot make an unknown client's redirect URI trusted (that it is
        // refused once the client is known is in implicit_hybrid.rs).
        for param in ["request", "request_uri"] {
            let reply = browser
                .get(
                    &app.authz(server)
                        .set("client_id", "0oaUNKNOWN")
                        .set(param, "eyJhbGciOiJub25lIn0.e30.")
                        .url(),
                )
                .await?;
            reply.assert_error_page("invalid_client");
        }
        // Even a valid-looking error request must not bounce to the given redirect_uri.
        let bad_both = browser
            .get(
                &app.authz(server)
                    .set("client_id", "0oaUNKNOWN")
                    .remove("response_type")
                    .url(),
            )
            .await?;
        bad_both.assert_error_page("invalid_client");
    }
    Ok(())
}

async fn bad_request_with_valid_redirect_is_redirected(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let browser = Browser::new()?;
    for server in Server::ALL {
        let cases = [
            (app.authz(server).remove("response_type"), "invalid_request"),
            (
                app.authz(server).set("response_type", ""),
                "invalid_request",
            ),
            (
                app.authz(server).set("response_type", "none"),
                "unsupported_response_type",
            ),
            (
                app.authz(server).set("response_type", "code bogus"),
                "unsupported_response_type",
            ),
            (app.authz(server).remove("scope"), "invalid_scope"),
            (app.authz(server).scope("openid bogus"), "invalid_scope"),
            (
                // okta_post_message is supported (see spa.rs); unknown modes are not.
                app.authz(server).set("response_mode", "web_message"),
                "invalid_request",
            ),
            (
                app.authz(server).set("prompt", "none login"),
                "invalid_request",
            ),
            (app.authz(server).set("max_age", "-1"), "invalid_request"),
            (
                app.authz(server)
                    .set("code_challenge", &s256(VERIFIER))
                    .set("code_challenge_method", "plain"),
                "invalid_request",
            ),
        ];
        for (authz, code) in cases {
            let callback = browser
                .authorize_redirect(&authz.url())
                .await
                .with_context(|| format!("{server:?} {}", authz.url()))?;
            callback
                .expect_error(code)
                .with_context(|| format!("{server:?} {}", authz.url()))?;
        }
    }
    // The org server only serves OpenID Connect requests.
    let callback = browser
        .authorize_redirect(&app.authz(Server::Org).scope("profile email").url())
        .await?;
    callback.expect_error("invalid_scope")?;
    Ok(())
}

async fn replayed_code_revokes_its_tokens(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    for server in Server::ALL {
        let authz = app.authz(server).scope("openid profile offline_access");
        let (_, callback) = app.sign_in_with(&authz).await?;
        let code = callback.code()?;
        let first = Tokens::from_reply(app.exchange(server, &code, &[], app.basic()).await?)?;
        let refresh_token = first.refresh_token.clone().context("no refresh token")?;
        ensure!(app.is_active(server, &first.access_token).await?);
        ensure!(app.is_active(server, &refresh_token).await?);
        ensure!(app.userinfo(server, &first.access_token).await?.status == StatusCode::OK);

        let replay = app.exchange(server, &code, &[], app.basic()).await?;
        replay.expect_oauth_error(400, "invalid_grant")?;

        // Everything issued from the first redemption is gone.
        ensure!(
            !app.is_active(server, &first.access_token).await?,
            "{server:?}: the access token survived the replay"
        );
        ensure!(
            !app.is_active(server, &refresh_token).await?,
            "{server:?}: the refresh token survived the replay"
        );
        let info = app.userinfo(server, &first.access_token).await?;
        assert_eq!(info.status, StatusCode::UNAUTHORIZED, "{info:?}");
        app.refresh(server, &refresh_token, None, app.basic())
            .await?
            .expect_oauth_error(400, "invalid_grant")?;
        // A third try is just as dead.
        app.exchange(server, &code, &[], app.basic())
            .await?
            .expect_oauth_error(400, "invalid_grant")?;
    }
    Ok(())
}

async fn wrong_client_credentials(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    for server in Server::ALL {
        let (_, callback) = app.sign_in_with(&app.authz(server)).await?;
        let code = callback.code()?;
        let id = app.client_id();
        let attempts = [
            Auth::Basic(id, "wrong-secret"),
            Auth::Basic(id, ""),
            Auth::Basic("0oaUNKNOWN", app.client_secret()),
            Auth::BasicIdOnly(id),
            Auth::Post(id, "wrong-secret"),
            Auth::Public(id),
            Auth::None,
        ];
        for auth in attempts {
            let reply = app.exchange(server, &code, &[], auth).await?;
            reply
                .expect_oauth_error(401, "invalid_client")
                .with_context(|| format!("{server:?} {auth:?}"))?;
            if matches!(auth, Auth::Basic(..) | Auth::BasicIdOnly(_)) {
                // RFC 6749 §5.2: a failed Authorization-header attempt gets a challenge.
                ensure!(
                    reply
                        .header("www-authenticate")
                        .is_some_and(|h| h.to_ascii_lowercase().starts_with("basic")),
                    "{server:?} {auth:?}: no Basic challenge: {reply:?}"
                );
            }
        }
        // Two credential kinds at once are refused outright.
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("client_secret", app.client_secret()),
        ];
        app.token(server, &form, app.basic())
            .await?
            .expect_oauth_error(400, "invalid_request")?;
        form.pop();
        // Failed client authentication never consumed the code.
        Tokens::from_reply(app.token(server, &form, app.basic()).await?)
            .with_context(|| format!("{server:?}: the code was burnt by a failed attempt"))?;
    }
    // Introspection and revocation check client credentials the same way.
    let tokens = app.sign_in_and_exchange(Server::Default, "openid").await?;
    for name in ["introspect", "revoke"] {
        let reply = app
            .post_form(
                Server::Default,
                name,
                &[("token", &tokens.access_token)],
                Auth::Basic(app.client_id(), "wrong-secret"),
            )
            .await?;
        reply.expect_oauth_error(401, "invalid_client")?;
    }
    Ok(())
}

async fn unassigned_user_gets_access_denied(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let bob = app.create_user("bob@example.com").await?;
    let restricted = app.create_web_app("Alice only").await?;
    let group = app.create_group_with("Alice's team", &[&app.alice]).await?;
    gatehouse_core::services::apps::assign_group_to_app(&app.provider, &restricted.app, &group)
        .await?;
    for server in Server::ALL {
        let url = crate::helpers::Authz::new(&app.base, server, &restricted.app.client_id).url();
        // Bob signs in (a valid user), but may not use the app.
        let bob_browser = Browser::new()?;
        let callback = bob_browser
            .sign_in(&url, &bob.login, crate::helpers::PASSWORD)
            .await?;
        callback.expect_error("access_denied")?;
        // With his session, single sign-on to the app is refused the same way.
        bob_browser
            .authorize_redirect(&url)
            .await?
            .expect_error("access_denied")?;
        // Alice, a member of the assigned group, gets a code.
        let alice = Browser::new()?;
        let ok = alice
            .sign_in(&url, &app.alice.login, crate::helpers::PASSWORD)
            .await?;
        ok.code()?;
    }
    Ok(())
}

async fn expired_code(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    for server in Server::ALL {
        let (_, fresh) = app.sign_in_with(&app.authz(server)).await?;
        let (_, stale) = app.sign_in_with(&app.authz(server)).await?;
        app.clock.advance(299);
        Tokens::from_reply(
            app.exchange(server, &fresh.code()?, &[], app.basic())
                .await?,
        )
        .context("a code is good for five minutes")?;
        app.clock.advance(2);
        app.exchange(server, &stale.code()?, &[], app.basic())
            .await?
            .expect_oauth_error(400, "invalid_grant")?;
    }
    Ok(())
}

async fn redirect_uri_must_match_at_token_endpoint(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    for server in Server::ALL {
        for bad in [
            Some("https://app.example.com/cb/"),
            Some("https://app.example.com/other"),
            Some(""),
            None,
        ] {
            let (_, callback) = app.sign_in_with(&app.authz(server)).await?;
            let code = callback.code()?;
            let mut form = vec![
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
            ];
            if let Some(uri) = bad {
                form.push(("redirect_uri", uri));
            }
            app.token(server, &form, app.basic())
                .await?
                .expect_oauth_error(400, "invalid_grant")
                .with_context(|| format!("{server:?} redirect_uri={bad:?}"))?;
        }
        // A code of one server is not valid at the other.
        let (_, callback) = app.sign_in_with(&app.authz(server)).await?;
        let other = match server {
            Server::Org => Server::Default,
            Server::Default => Server::Org,
        };
        app.exchange(other, &callback.code()?, &[], app.basic())
            .await?
            .expect_oauth_error(400, "invalid_grant")?;
    }
    Ok(())
}

async fn pkce_failures(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let spa = app.create_spa("SPA").await?;
    let spa_id = spa.app.client_id.as_str();
    let wrong = "wrong-verifier-wrong-verifier-wrong-verifier-00";
    for server in Server::ALL {
        // Confidential client with a challenge: wrong, missing, malformed verifier.
        for verifier in [Some(wrong), None, Some("short"), Some("")] {
            let (_, callback) = app.sign_in_with(&app.authz(server).pkce()).await?;
            let extra: Vec<(&str, &str)> = verifier
                .map(|v| vec![("code_verifier", v)])
                .unwrap_or_default();
            app.exchange(server, &callback.code()?, &extra, app.basic())
                .await?
                .expect_oauth_error(400, "invalid_grant")
                .with_context(|| format!("{server:?} verifier={verifier:?}"))?;
        }
        // A verifier for a code issued without a challenge (downgrade) is refused.
        let (_, callback) = app.sign_in_with(&app.authz(server)).await?;
        app.exchange(
            server,
            &callback.code()?,
            &[("code_verifier", VERIFIER)],
            app.basic(),
        )
        .await?
        .expect_oauth_error(400, "invalid_grant")?;

        // A public client must use PKCE.
        let spa_authz = crate::helpers::Authz::new(&app.base, server, spa_id);
        let browser = Browser::new()?;
        browser
            .authorize_redirect(&spa_authz.url())
            .await?
            .expect_error("invalid_request")?;
        // With PKCE it works, and the verifier is checked.
        let (_, callback) = app.sign_in_with(&spa_authz.clone().pkce()).await?;
        app.exchange(
            server,
            &callback.code()?,
            &[("code_verifier", wrong)],
            Auth::Public(spa_id),
        )
        .await?
        .expect_oauth_error(400, "invalid_grant")?;
        let (_, callback) = app.sign_in_with(&spa_authz.pkce()).await?;
        Tokens::from_reply(
            app.exchange(
                server,
                &callback.code()?,
                &[("code_verifier", VERIFIER)],
                Auth::Public(spa_id),
            )
            .await?,
        )?;
    }
    Ok(())
}

async fn forged_tokens_rejected(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    for server in Server::ALL {
        let tokens = app.sign_in_and_exchange(server, "openid profile").await?;
        let id_token = tokens.id_token()?.to_owned();
        let (header, claims) = jwt_parts(&tokens.access_token)?;
        let kid = header["kid"].as_str().context("no kid")?;
        let (_, id_claims) = jwt_parts(&id_token)?;
        let forged_access = [
            ("tampered", tamper_payload(&tokens.access_token)),
            ("foreign key", sign_with_foreign_key(kid, &claims).await?),
            ("alg none", unsigned_token(kid, &claims)),
            ("garbage", "not.a.jwt".to_owned()),
            // A real ID token is not an access token.
            ("id token", id_token.clone()),
        ];
        for (what, token) in &forged_access {
            let info = app.userinfo(server, token).await?;
            info.expect_oauth_error(401, "invalid_token")
                .with_context(|| format!("{server:?} {what}"))?;
            ensure!(
                info.header("www-authenticate")
                    .is_some_and(|h| h.starts_with("Bearer") && h.contains("invalid_token")),
                "{server:?} {what}: {info:?}"
            );
            ensure!(
                !app.is_active(server, token).await?,
                "{server:?} {what}: introspection says active"
            );
        }
        // The genuine token still works, and is accepted only by its own server.
        assert_eq!(
            app.userinfo(server, &tokens.access_token).await?.status,
            StatusCode::OK
        );
        let other = match server {
            Server::Org => Server::Default,
            Server::Default => Server::Org,
        };
        app.userinfo(other, &tokens.access_token)
            .await?
            .expect_oauth_error(401, "invalid_token")?;
        ensure!(!app.is_active(other, &tokens.access_token).await?);

        // Forged ID token hints never earn a redirect at logout.
        let id_kid = jwt_parts(&id_token)?.0["kid"]
            .as_str()
            .context("no kid")?
            .to_owned();
        let forged_hints = [
            tamper_payload(&id_token),
            sign_with_foreign_key(&id_kid, &id_claims).await?,
            unsigned_token(&id_kid, &id_claims),
        ];
        for hint in forged_hints {
            let url = reqwest::Url::parse_with_params(
                &app.endpoint(server, "logout"),
                [
                    ("id_token_hint", hint.as_str()),
                    ("post_logout_redirect_uri", crate::helpers::LOGOUT_URI),
                    ("state", "s"),
                ],
            )?;
            let reply = app.get(url.as_str()).await?;
            reply.assert_error_page("invalid_request");
        }
    }
    // The foreign signer makes well-formed RS256 tokens with the claims asked for, so the
    // rejections above are the signature check's doing.
    let (h, c) = jwt_parts(&sign_with_foreign_key("k", &json!({"a": 1})).await?)?;
    assert_eq!(h["alg"], "RS256");
    assert_eq!(c, json!({"a": 1}));
    Ok(())
}

/// Every reply must be an answer, not a crash: no 5xx, and the server still serves afterwards.
fn no_server_error(what: &str, status: StatusCode) -> Result<()> {
    ensure!(
        status.is_client_error(),
        "{what}: expected a 4xx, got {status}"
    );
    Ok(())
}

async fn malformed_input_never_fails_the_server(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let client = http_client()?;
    let basic =
        |req: reqwest::RequestBuilder| req.basic_auth(app.client_id(), Some(app.client_secret()));
    for server in Server::ALL {
        let token_url = app.endpoint(server, "token");
        let authorize_url = app.endpoint(server, "authorize");
        let form = "application/x-www-form-urlencoded";
        let huge = "a".repeat(60 * 1024);
        let bodies: Vec<(&str, &str, Vec<u8>)> = vec![
            (
                "json body",
                "application/json",
                br#"{"grant_type":"authorization_code","code":"x"}"#.to_vec(),
            ),
            (
                "xml body",
                "text/xml",
                b"<grant_type>refresh_token</grant_type>".to_vec(),
            ),
            (
                "binary",
                "application/octet-stream",
                vec![0, 159, 146, 150, 255, 254, 0, 1],
            ),
            (
                "no content type",
                "",
                b"grant_type=authorization_code".to_vec(),
            ),
            (
                "duplicate grant_type",
                form,
                b"grant_type=authorization_code&grant_type=refresh_token&code=x".to_vec(),
            ),
            (
                "duplicate code",
                form,
                b"grant_type=authorization_code&code=a&code=b".to_vec(),
            ),
            (
                "non-UTF-8 percent-encoding",
                form,
                b"grant_type=authorization_code&code=%FF%FE%C3%28&redirect_uri=%E0%80%80".to_vec(),
            ),
            (
                "raw non-UTF-8",
                form,
                b"grant_type=authorization_code&code=\xff\xfe".to_vec(),
            ),
            (
                "broken escapes",
                form,
                b"grant_type=%ZZ&code=%&%%%".to_vec(),
            ),
            (
                "huge value",
                form,
                format!("grant_type=authorization_code&code={huge}").into_bytes(),
            ),
            ("too large", form, "a=b&".repeat(40 * 1024).into_bytes()),
            ("empty", form, Vec::new()),
            (
                "unknown grant",
                form,
                b"grant_type=password&username=a&password=b".to_vec(),
            ),
            (
                "nul bytes",
                form,
                b"grant_type=authorization_code&code=%00%00&redirect_uri=\x00".to_vec(),
            ),
        ];
        for (what, content_type, body) in bodies {
            let mut req = basic(client.post(&token_url)).body(body);
            if !content_type.is_empty() {
                req = req.header("content-type", content_type);
            }
            if what == "too large" {
                // The server answers 413 without reading the body and closes the connection;
                // without this, the client may reuse that closing connection for the next body.
                req = req.header("connection", "close");
            }
            let res = req
                .send()
                .await
                .with_context(|| format!("{server:?} token {what}"))?;
            let status = res.status();
            let text = res.text().await.unwrap_or_default();
            no_server_error(&format!("{server:?} token {what}: {text}"), status)?;
        }
        // The specific answers RFC 6749 asks for.
        let dup = basic(client.post(&token_url))
            .header("content-type", form)
            .body("grant_type=authorization_code&grant_type=authorization_code")
            .send()
            .await?;
        assert_eq!(dup.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            dup.json::<serde_json::Value>().await?["error"],
            "invalid_request"
        );
        let unknown = app
            .token(server, &[("grant_type", "password")], app.basic())
            .await?;
        unknown.expect_oauth_error(400, "unsupported_grant_type")?;
        let missing = app.token(server, &[], app.basic()).await?;
        missing.expect_oauth_error(400, "invalid_request")?;

        // Authorize: duplicates, non-UTF-8, huge and garbage query strings.
        let id = app.client_id();
        let queries = [
            format!(
                "client_id={id}&client_id={id}&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&state=s"
            ),
            format!(
                "client_id={id}&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&redirect_uri=https%3A%2F%2Fevil.com%2Fcb&state=s"
            ),
            "client_id=%FF%FE&response_type=code".to_owned(),
            format!(
                "client_id={id}&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb%FF&response_type=code&scope=openid"
            ),
            "%%%%&&&===".to_owned(),
            format!("client_id={id}&state={}", "x".repeat(60 * 1024)),
            "client_id=%00".to_owned(),
        ];
        for query in &queries {
            let res = client
                .get(format!("{authorize_url}?{query}"))
                .send()
                .await?;
            let status = res.status();
            ensure!(
                res.headers().get("location").is_none(),
                "{server:?} authorize {}: must not redirect",
                &query[..query.len().min(120)]
            );
            no_server_error(
                &format!("{server:?} authorize {}", &query[..query.len().min(120)]),
                status,
            )?;
        }
        // POSTed garbage to authorize, userinfo, introspect, revoke, logout.
        for (name, body) in [
            ("authorize", &b"client_id=%FF&client_id=x"[..]),
            ("userinfo", &b"access_token=%FF%FE&access_token=b"[..]),
            ("introspect", &b"token=\xff\xfe&token=a"[..]),
            ("revoke", &b"%ZZ=%ZZ&token&token"[..]),
            ("logout", &b"id_token_hint=%FF&id_token_hint=x"[..]),
        ] {
            let res = client
                .post(app.endpoint(server, name))
                .header("content-type", form)
                .body(body.to_vec())
                .send()
                .await?;
            no_server_error(&format!("{server:?} {name}"), res.status())?;
        }
        // Garbage Authorization headers.
        for header in [
            "Basic !!!",
            "Basic",
            "Bearer",
            "Basic Og==",
            "Negotiate abc",
            "Basic w7w6w7w=",
        ] {
            let res = client
                .post(&token_url)
                .header("authorization", header)
                .header("content-type", form)
                .body("grant_type=authorization_code&code=x&redirect_uri=x")
                .send()
                .await?;
            no_server_error(&format!("{server:?} token auth {header}"), res.status())?;
            let res = client
                .get(app.endpoint(server, "userinfo"))
                .header("authorization", header)
                .send()
                .await?;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "userinfo {header}");
        }
    }
    // NUL bytes, which PostgreSQL text cannot hold, wherever a value reaches a lookup.
    let nul_basic = format!(
        "Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "\0:x")
    );
    let res = client
        .post(app.endpoint(Server::Default, "token"))
        .header("authorization", nul_basic)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=authorization_code&code=x&redirect_uri=x")
        .send()
        .await?;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "NUL client id in Basic"
    );
    for path in [
        "/oauth2/%00/v1/keys",
        "/oauth2/%00/v1/authorize?client_id=x",
        "/oauth2/%00/.well-known/openid-configuration",
        "/.well-known/openid-configuration?client_id=%00",
        "/oauth2/default/.well-known/oauth-authorization-server?client_id=%00",
    ] {
        let res = client.get(format!("{}{path}", app.base)).send().await?;
        no_server_error(path, res.status())?;
    }
    let browser = Browser::new()?;
    let form = browser
        .open_login(&app.authz(Server::Default).url())
        .await?;
    for (tx, username) in [
        ("\0", "alice@example.com"),
        (form.tx.as_str(), "alice\0@example.com"),
    ] {
        let res = browser
            .post_form(
                &form.action,
                &[
                    ("tx", tx),
                    ("csrf", &form.csrf),
                    ("username", username),
                    ("password", "x"),
                ],
            )
            .await?;
        no_server_error(
            &format!("login tx={tx:?} username={username:?}"),
            res.status,
        )?;
        ensure!(res.set_cookie("gh_sid").is_none(), "{res:?}");
    }
    // The sign-in form with garbage.
    let login = format!("{}/login", app.base);
    for body in [
        &b""[..],
        b"tx=%FF&csrf=%FE",
        b"tx=a&tx=b",
        b"\xff\xfe\x00",
        b"username=a&password=b",
    ] {
        let res = client
            .post(&login)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_vec())
            .send()
            .await?;
        let status = res.status();
        assert_eq!(status, StatusCode::BAD_REQUEST, "login {body:?}");
        ensure!(res.headers().get("set-cookie").is_none(), "login {body:?}");
    }
    // Still alive and well.
    let tokens = app.sign_in_and_exchange(Server::Default, "openid").await?;
    assert_eq!(
        app.userinfo(Server::Default, &tokens.access_token)
            .await?
            .status,
        StatusCode::OK
    );
    Ok(())
}

async fn token_errors_are_not_cacheable(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    for server in Server::ALL {
        let tokens = app
            .sign_in_and_exchange(server, "openid offline_access")
            .await?;
        assert_eq!(
            tokens
                .headers
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
            Some("no-store")
        );
        assert_eq!(
            tokens.headers.get("pragma").and_then(|v| v.to_str().ok()),
            Some("no-cache")
        );
        let refresh_token = tokens.refresh_token.context("no refresh token")?;
        let refreshed = app
            .refresh(server, &refresh_token, None, app.basic())
            .await?;
        assert_eq!(
            refreshed.header("cache-control"),
            Some("no-store"),
            "{refreshed:?}"
        );
        assert_eq!(
            refreshed.header("pragma"),
            Some("no-cache"),
            "{refreshed:?}"
        );
        // expect_oauth_error checks no-store on each error.
        app.exchange(server, "bogus-code", &[], app.basic())
            .await?
            .expect_oauth_error(400, "invalid_grant")?;
        app.exchange(
            server,
            "bogus-code",
            &[],
            Auth::Basic(app.client_id(), "nope"),
        )
        .await?
        .expect_oauth_error(401, "invalid_client")?;
        let introspection = app
            .post_form(
                server,
                "introspect",
                &[("token", &refresh_token)],
                app.basic(),
            )
            .await?;
        assert_eq!(introspection.header("cache-control"), Some("no-store"));
    }
    Ok(())
}
