//! `offline_access` and the `refresh_token` grant. Refresh tokens are static (Okta's STATIC
//! rotation type): the same token comes back and stays valid until revoked or expired.

use anyhow::{Context as _, Result, ensure};
use gatehouse_core::provider::Clock as _;
use gatehouse_store::test_support::Backend;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Auth, Authz, Server, Tokens, VERIFIER, jwt_parts, spawn_app};

backend_tests!(
    refresh_token_only_with_offline_access,
    refresh_grant_issues_new_tokens,
    refresh_token_is_bound_to_client_and_server,
    refresh_scope_narrowing_and_widening,
    public_client_refresh,
    refresh_token_expiry,
);

async fn refresh_token_only_with_offline_access(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    for server in Server::ALL {
        let without = app.sign_in_and_exchange(server, "openid profile").await?;
        ensure!(
            without.refresh_token.is_none() && without.response.get("refresh_token").is_none(),
            "{server:?}: a refresh token without offline_access: {}",
            without.response
        );
        let with = app
            .sign_in_and_exchange(server, "openid profile offline_access")
            .await?;
        let rt = with.refresh_token.as_deref().context("no refresh token")?;
        ensure!(rt.len() >= 32, "{rt}");
        // OIDC Core A.17: refresh tokens are opaque, URL-safe strings.
        ensure!(
            rt.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')),
            "{rt}"
        );
        assert_eq!(with.response["scope"], "openid profile offline_access");
        let introspected = app.introspect(server, rt).await?;
        assert_eq!(introspected["active"], true, "{introspected}");
        assert_eq!(introspected["token_type"], "refresh_token");
        assert_eq!(introspected["client_id"], app.client_id());
        assert_eq!(introspected["scope"], "openid profile offline_access");
        assert_eq!(introspected["sub"], app.alice.login.as_str());
    }
    Ok(())
}

async fn refresh_grant_issues_new_tokens(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    for server in Server::ALL {
        let audience = match server {
            Server::Org => app.base.clone(),
            Server::Default => "api://default".to_owned(),
        };
        let first = app
            .sign_in_and_exchange(server, "openid profile email offline_access")
            .await?;
        let rt = first.refresh_token.clone().context("no refresh token")?;
        let first_id = app
            .verify_jwt(server, first.id_token()?, app.client_id())
            .await?;
        let signed_in_at = app.clock.now();

        // An hour later the access token has expired; the refresh token has not.
        app.clock.advance(3601);
        app.userinfo(server, &first.access_token)
            .await?
            .expect_oauth_error(401, "invalid_token")?;
        let reply = app.refresh(server, &rt, None, app.basic()).await?;
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        let second = Tokens::from_reply(reply)?;
        assert_ne!(second.access_token, first.access_token);
        assert_eq!(
            second.response["scope"],
            "openid profile email offline_access"
        );
        assert_eq!(second.response["token_type"], "Bearer");
        assert_eq!(second.response["expires_in"], 3600);
        // Static refresh tokens: the one presented comes back.
        assert_eq!(second.refresh_token.as_deref(), Some(rt.as_str()));

        let id = app
            .verify_jwt(server, second.id_token()?, app.client_id())
            .await?;
        for same in ["sub", "iss", "aud", "auth_time", "idp", "amr"] {
            assert_eq!(id[same], first_id[same], "{same} changes on refresh");
        }
        assert_eq!(id["sub"], app.alice.id.as_str());
        assert_eq!(id["auth_time"], signed_in_at, "auth_time is the sign-in's");
        assert_eq!(id["iat"], app.clock.now());
        ensure!(id.get("nonce").is_none(), "no nonce on refresh: {id}");
        assert_ne!(id["jti"], first_id["jti"]);

        let at = app
            .verify_jwt(server, &second.access_token, &audience)
            .await?;
        assert_eq!(at["sub"], app.alice.login.as_str());
        assert_eq!(at["uid"], app.alice.id.as_str());
        assert_eq!(at["cid"], app.client_id());
        assert_eq!(
            at["scp"],
            json!(["openid", "profile", "email", "offline_access"])
        );
        assert_eq!(at["exp"], app.clock.now() + 3600);

        let info = app.userinfo(server, &second.access_token).await?;
        assert_eq!(info.status, StatusCode::OK, "{info:?}");
        assert_eq!(info.json()?["sub"], app.alice.id.as_str());

        // Static: the token works again, and each use mints a distinct access token.
        let third = Tokens::from_reply(app.refresh(server, &rt, None, app.basic()).await?)?;
        assert_ne!(third.access_token, second.access_token);
        ensure!(app.is_active(server, &second.access_token).await?);
        ensure!(app.is_active(server, &third.access_token).await?);
        // client_secret_post works as well as Basic.
        Tokens::from_reply(
            app.refresh(
                server,
                &rt,
                None,
                Auth::Post(app.client_id(), app.client_secret()),
            )
            .await?,
        )?;
        // A refresh token is not an authorization code, nor the other way round.
        app.exchange(server, &rt, &[], app.basic())
            .await?
            .expect_oauth_error(400, "invalid_grant")?;
        app.refresh(server, "not-a-refresh-token", None, app.basic())
            .await?
            .expect_oauth_error(400, "invalid_grant")?;
        app.refresh(server, &third.access_token, None, app.basic())
            .await?
            .expect_oauth_error(400, "invalid_grant")?;
        app.token(server, &[("grant_type", "refresh_token")], app.basic())
            .await?
            .expect_oauth_error(400, "invalid_request")?;
    }
    Ok(())
}

async fn refresh_token_is_bound_to_client_and_server(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let other = app.create_web_app("Other").await?;
    app.assign_everyone(&other).await?;
    let other_auth = Auth::Basic(
        &other.app.client_id,
        other.client_secret.as_deref().unwrap_or_default(),
    );
    for server in Server::ALL {
        let tokens = app
            .sign_in_and_exchange(server, "openid offline_access")
            .await?;
        let rt = tokens.refresh_token.context("no refresh token")?;
        app.refresh(server, &rt, None, other_auth)
            .await?
            .expect_oauth_error(400, "invalid_grant")?;
        let wrong_server = match server {
            Server::Org => Server::Default,
            Server::Default => Server::Org,
        };
        app.refresh(wrong_server, &rt, None, app.basic())
            .await?
            .expect_oauth_error(400, "invalid_grant")?;
        // The other client learns nothing by introspecting it either.
        let seen = app
            .post_form(server, "introspect", &[("token", &rt)], other_auth)
            .await?
            .json()?;
        assert_eq!(seen, json!({"active": false}));
        // The rightful client still can.
        Tokens::from_reply(app.refresh(server, &rt, None, app.basic()).await?)?;
    }
    Ok(())
}

async fn refresh_scope_narrowing_and_widening(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    for server in Server::ALL {
        let tokens = app
            .sign_in_and_exchange(server, "openid profile email offline_access")
            .await?;
        let rt = tokens.refresh_token.context("no refresh token")?;

        let narrow = Tokens::from_reply(
            app.refresh(server, &rt, Some("openid email"), app.basic())
                .await?,
        )?;
        assert_eq!(narrow.response["scope"], "openid email");
        let (_, at) = jwt_parts(&narrow.access_token)?;
        assert_eq!(at["scp"], json!(["openid", "email"]));
        let info = app.userinfo(server, &narrow.access_token).await?.json()?;
        assert_eq!(info["email"], app.alice.email.as_str());
        ensure!(info.get("name").is_none(), "profile was dropped: {info}");
        let (_, id) = jwt_parts(narrow.id_token()?)?;
        ensure!(id.get("name").is_none(), "{id}");
        assert_eq!(id["email"], app.alice.email.as_str());

        // Wider than granted: refused, whatever the mix.
        for wider in [
            "openid profile email offline_access phone",
            "groups",
            "openid bogus",
        ] {
            app.refresh(server, &rt, Some(wider), app.basic())
                .await?
                .expect_oauth_error(400, "invalid_scope")
                .with_context(|| format!("{server:?} scope={wider}"))?;
        }
        // Narrowing once does not shrink the refresh token: the full set is still available.
        let full = Tokens::from_reply(
            app.refresh(
                server,
                &rt,
                Some("openid profile email offline_access"),
                app.basic(),
            )
            .await?,
        )?;
        assert_eq!(
            full.response["scope"],
            "openid profile email offline_access"
        );
        // Without `openid`, no ID token.
        let no_openid =
            Tokens::from_reply(app.refresh(server, &rt, Some("email"), app.basic()).await?)?;
        ensure!(no_openid.id_token.is_none(), "{}", no_openid.response);
        assert_eq!(no_openid.response["scope"], "email");
    }
    Ok(())
}

async fn public_client_refresh(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let spa = app.create_spa("SPA").await?;
    let spa_id = spa.app.client_id.as_str();
    for server in Server::ALL {
        let authz = Authz::new(&app.base, server, spa_id)
            .scope("openid offline_access")
            .pkce();
        let (_, callback) = app.sign_in_with(&authz).await?;
        let tokens = Tokens::from_reply(
            app.exchange(
                server,
                &callback.code()?,
                &[("code_verifier", VERIFIER)],
                Auth::Public(spa_id),
            )
            .await?,
        )?;
        let rt = tokens.refresh_token.context("no refresh token")?;
        // okta-auth-js: client_id in the body, no secret.
        let refreshed = Tokens::from_reply(
            app.refresh(
                server,
                &rt,
                Some("openid offline_access"),
                Auth::Public(spa_id),
            )
            .await?,
        )?;
        let (_, at) = jwt_parts(&refreshed.access_token)?;
        assert_eq!(at["cid"], spa_id);
        // ... or `Basic b64(client_id)` without a colon.
        Tokens::from_reply(
            app.refresh(server, &rt, None, Auth::BasicIdOnly(spa_id))
                .await?,
        )?;
        // A public client presenting a secret is not a public client.
        app.refresh(server, &rt, None, Auth::Post(spa_id, "made-up"))
            .await?
            .expect_oauth_error(401, "invalid_client")?;
        // And the confidential app cannot use the SPA's token.
        app.refresh(server, &rt, None, app.basic())
            .await?
            .expect_oauth_error(400, "invalid_grant")?;
    }
    Ok(())
}

async fn refresh_token_expiry(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let tokens = app
        .sign_in_and_exchange(Server::Org, "openid offline_access")
        .await?;
    let rt = tokens.refresh_token.context("no refresh token")?;
    // Okta's org-server lifetime: 90 days (custom servers' come from their policy rules:
    // authz_servers.rs).
    app.clock.advance(90 * 24 * 3600 - 1);
    Tokens::from_reply(app.refresh(Server::Org, &rt, None, app.basic()).await?)?;
    app.clock.advance(1);
    app.refresh(Server::Org, &rt, None, app.basic())
        .await?
        .expect_oauth_error(400, "invalid_grant")?;
    ensure!(!app.is_active(Server::Org, &rt).await?);
    Ok(())
}
