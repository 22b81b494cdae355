//! RP-initiated logout: `id_token_hint`, registered `post_logout_redirect_uri`, `state`, and the
//! session really ending.

use anyhow::{Context as _, Result, ensure};
use gatehouse_store::test_support::Backend;
use reqwest::StatusCode;

use crate::helpers::{Browser, LOGOUT_URI, Reply, Server, TestApp, Tokens, http_client, spawn_app};

backend_tests!(
    logout_redirects_to_registered_uri_with_state,
    unregistered_post_logout_redirect_uri_gets_error_page,
    logout_without_redirect_shows_signed_out_page,
    expired_id_token_hint_is_accepted,
);

/// Signs alice in on `server`; returns her browser, its session cookie and her ID token.
async fn signed_in(app: &TestApp, server: Server) -> Result<(Browser, String, String)> {
    let (browser, callback) = app.sign_in_with(&app.authz(server)).await?;
    let tokens = Tokens::from_reply(
        app.exchange(server, &callback.code()?, &[], app.basic())
            .await?,
    )?;
    let session = browser
        .cookie(&app.base, "gh_sid")
        .context("no session cookie")?;
    Ok((browser, session, tokens.id_token()?.to_owned()))
}

fn logout_url(app: &TestApp, server: Server, params: &[(&str, &str)]) -> Result<String> {
    Ok(reqwest::Url::parse_with_params(&app.endpoint(server, "logout"), params)?.to_string())
}

/// `prompt=none` with exactly this session cookie (not the jar), so the server's side is tested.
async fn session_is_live(app: &TestApp, server: Server, session: &str) -> Result<bool> {
    let res = http_client()?
        .get(app.authz(server).set("prompt", "none").url())
        .header("cookie", format!("gh_sid={session}"))
        .send()
        .await?;
    let reply = Reply::read(res).await?;
    ensure!(reply.status == StatusCode::FOUND, "{reply:?}");
    let location = reply.location().context("no Location")?;
    let param = |k: &str| {
        location
            .query_pairs()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.into_owned())
    };
    match (param("code"), param("error")) {
        (Some(_), None) => Ok(true),
        (None, Some(e)) if e == "login_required" => Ok(false),
        other => anyhow::bail!("unexpected answer {other:?}: {reply:?}"),
    }
}

fn clears_session_cookie(reply: &Reply) -> bool {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.starts_with("gh_sid=;") && c.contains("Max-Age=0"))
}

async fn logout_redirects_to_registered_uri_with_state(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    for server in Server::ALL {
        let (browser, session, id_token) = signed_in(&app, server).await?;
        ensure!(session_is_live(&app, server, &session).await?);
        for method in ["GET", "POST"] {
            let params = [
                ("id_token_hint", id_token.as_str()),
                ("post_logout_redirect_uri", LOGOUT_URI),
                ("state", "bye & see you"),
            ];
            let reply = if method == "GET" {
                browser.get(&logout_url(&app, server, &params)?).await?
            } else {
                browser
                    .post_form(&app.endpoint(server, "logout"), &params)
                    .await?
            };
            assert_eq!(reply.status, StatusCode::FOUND, "{method}: {reply:?}");
            let location = reply.location().context("no Location")?;
            let mut target = location.clone();
            target.set_query(None);
            assert_eq!(target.as_str(), LOGOUT_URI);
            let pairs: Vec<(String, String)> = location.query_pairs().into_owned().collect();
            assert_eq!(
                pairs,
                [("state".to_owned(), "bye & see you".to_owned())],
                "{location}"
            );
            ensure!(clears_session_cookie(&reply), "{reply:?}");
        }
        // The session is over on the server, not only in the browser.
        ensure!(
            !session_is_live(&app, server, &session).await?,
            "{server:?}: the session survived logout"
        );
        browser
            .authorize_redirect(&app.authz(server).set("prompt", "none").url())
            .await?
            .expect_error("login_required")?;
        // Without state, the bare registered URI.
        let (browser, _, id_token) = signed_in(&app, server).await?;
        let reply = browser
            .get(&logout_url(
                &app,
                server,
                &[
                    ("id_token_hint", id_token.as_str()),
                    ("post_logout_redirect_uri", LOGOUT_URI),
                ],
            )?)
            .await?;
        assert_eq!(reply.header("location"), Some(LOGOUT_URI), "{reply:?}");
    }
    Ok(())
}

async fn unregistered_post_logout_redirect_uri_gets_error_page(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    for server in Server::ALL {
        let (browser, _, id_token) = signed_in(&app, server).await?;
        let other_server = match server {
            Server::Org => Server::Default,
            Server::Default => Server::Org,
        };
        let (_, _, foreign_server_token) = signed_in(&app, other_server).await?;
        let bad_uris = [
            "https://evil.com/signed-out",
            "https://app.example.com/signed-out/",
            "https://app.example.com/signed-out?x=1",
            "https://app.example.com@evil.com/signed-out",
            "http://app.example.com/signed-out",
            // The sign-in redirect URI is not a sign-out one.
            crate::helpers::REDIRECT_URI,
        ];
        for uri in bad_uris {
            let reply = browser
                .get(&logout_url(
                    &app,
                    server,
                    &[
                        ("id_token_hint", id_token.as_str()),
                        ("post_logout_redirect_uri", uri),
                        ("state", "s"),
                    ],
                )?)
                .await?;
            reply.assert_error_page("invalid_request");
        }
        // No hint, a hint from the other server, a hint that is no token: no redirect either.
        for params in [
            vec![("post_logout_redirect_uri", LOGOUT_URI)],
            vec![
                ("id_token_hint", foreign_server_token.as_str()),
                ("post_logout_redirect_uri", LOGOUT_URI),
            ],
            vec![
                ("id_token_hint", "not-a-token"),
                ("post_logout_redirect_uri", LOGOUT_URI),
            ],
        ] {
            let reply = browser.get(&logout_url(&app, server, &params)?).await?;
            reply.assert_error_page("invalid_request");
        }
    }
    Ok(())
}

async fn logout_without_redirect_shows_signed_out_page(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    for server in Server::ALL {
        for with_hint in [false, true] {
            let (browser, session, id_token) = signed_in(&app, server).await?;
            let params: Vec<(&str, &str)> = if with_hint {
                vec![("id_token_hint", id_token.as_str()), ("state", "s")]
            } else {
                vec![]
            };
            let reply = browser.get(&logout_url(&app, server, &params)?).await?;
            assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
            ensure!(reply.header("location").is_none(), "{reply:?}");
            ensure!(reply.body.contains("Signed out"), "{reply:?}");
            ensure!(clears_session_cookie(&reply), "{reply:?}");
            ensure!(!session_is_live(&app, server, &session).await?);
            browser
                .authorize_redirect(&app.authz(server).set("prompt", "none").url())
                .await?
                .expect_error("login_required")?;
        }
    }
    Ok(())
}

async fn expired_id_token_hint_is_accepted(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let (browser, session, id_token) = signed_in(&app, Server::Default).await?;
    // The ID token (1 h) has expired; the session (2 h) has not.
    app.clock.advance(3601);
    ensure!(session_is_live(&app, Server::Default, &session).await?);
    let reply = browser
        .get(&logout_url(
            &app,
            Server::Default,
            &[
                ("id_token_hint", id_token.as_str()),
                ("post_logout_redirect_uri", LOGOUT_URI),
                ("state", "late"),
            ],
        )?)
        .await?;
    assert_eq!(
        reply.header("location"),
        Some(format!("{LOGOUT_URI}?state=late").as_str()),
        "{reply:?}"
    );
    ensure!(!session_is_live(&app, Server::Default, &session).await?);
    Ok(())
}
