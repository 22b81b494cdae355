//! RFC 7009 revocation at `/v1/revoke`: refresh and access tokens, client authentication, and
//! clients revoking only their own tokens.

use anyhow::{Context as _, Result, ensure};
use gatehouse_store::test_support::Backend;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Auth, Reply, Server, TestApp, Tokens, spawn_app, tamper_payload};

backend_tests!(
    revoke_refresh_token_ends_the_grant,
    revoke_access_token,
    revoke_unknown_tokens_succeeds,
    revoke_requires_client_authentication,
    client_cannot_revoke_another_clients_tokens,
    revoke_client_credentials_token,
);

fn expect_revoked(reply: &Reply) -> Result<()> {
    ensure!(reply.status == StatusCode::OK, "{reply:?}");
    ensure!(reply.body.is_empty(), "RFC 7009: empty body: {reply:?}");
    Ok(())
}

async fn offline_tokens(app: &TestApp, server: Server) -> Result<(Tokens, String)> {
    let tokens = app
        .sign_in_and_exchange(server, "openid profile offline_access")
        .await?;
    let rt = tokens.refresh_token.clone().context("no refresh token")?;
    Ok((tokens, rt))
}

async fn revoke_refresh_token_ends_the_grant(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    for server in Server::ALL {
        let (first, rt) = offline_tokens(&app, server).await?;
        let refreshed = Tokens::from_reply(app.refresh(server, &rt, None, app.basic()).await?)?;
        // A second, unrelated grant of the same user and client.
        let (bystander, bystander_rt) = offline_tokens(&app, server).await?;

        expect_revoked(&app.revoke(server, &rt, app.basic()).await?)?;
        ensure!(!app.is_active(server, &rt).await?, "{server:?}");
        app.refresh(server, &rt, None, app.basic())
            .await?
            .expect_oauth_error(400, "invalid_grant")?;
        // The whole grant goes: access tokens from the code and from the refresh alike.
        for at in [&first.access_token, &refreshed.access_token] {
            ensure!(!app.is_active(server, at).await?, "{server:?}");
            app.userinfo(server, at)
                .await?
                .expect_oauth_error(401, "invalid_token")?;
        }
        // Revoking again is still a success.
        expect_revoked(&app.revoke(server, &rt, app.basic()).await?)?;
        // Other grants are untouched.
        ensure!(app.is_active(server, &bystander.access_token).await?);
        ensure!(app.is_active(server, &bystander_rt).await?);
        Tokens::from_reply(
            app.refresh(server, &bystander_rt, None, app.basic())
                .await?,
        )?;
    }
    Ok(())
}

async fn revoke_access_token(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    for server in Server::ALL {
        let (tokens, rt) = offline_tokens(&app, server).await?;
        let sibling = Tokens::from_reply(app.refresh(server, &rt, None, app.basic()).await?)?;
        // With a misleading type hint: the server must look the token up anyway.
        let reply = app
            .post_form(
                server,
                "revoke",
                &[
                    ("token", &tokens.access_token),
                    ("token_type_hint", "refresh_token"),
                ],
                app.basic(),
            )
            .await?;
        expect_revoked(&reply)?;
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        ensure!(!app.is_active(server, &tokens.access_token).await?);
        app.userinfo(server, &tokens.access_token)
            .await?
            .expect_oauth_error(401, "invalid_token")?;
        // Only that access token: the refresh token and its other access tokens live on.
        ensure!(app.is_active(server, &sibling.access_token).await?);
        ensure!(app.is_active(server, &rt).await?);
        Tokens::from_reply(app.refresh(server, &rt, None, app.basic()).await?)?;
        // client_secret_post authenticates revocation as well.
        expect_revoked(
            &app.revoke(
                server,
                &sibling.access_token,
                Auth::Post(app.client_id(), app.client_secret()),
            )
            .await?,
        )?;
        ensure!(!app.is_active(server, &sibling.access_token).await?);
    }
    Ok(())
}

async fn revoke_unknown_tokens_succeeds(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let other_server_token = app.sign_in_and_exchange(Server::Org, "openid").await?;
    for server in Server::ALL {
        for token in [
            "unknown-token",
            "eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
            &"x".repeat(4000),
        ] {
            expect_revoked(&app.revoke(server, token, app.basic()).await?)?;
        }
        // An ID token is not revocable; the answer reveals nothing either.
        expect_revoked(
            &app.revoke(server, other_server_token.id_token()?, app.basic())
                .await?,
        )?;
        // But `token` itself is required.
        app.post_form(server, "revoke", &[], app.basic())
            .await?
            .expect_oauth_error(400, "invalid_request")?;
        app.post_form(server, "revoke", &[("token", "")], app.basic())
            .await?
            .expect_oauth_error(400, "invalid_request")?;
    }
    // The org token posted to default's endpoint is not revoked by it.
    ensure!(
        app.is_active(Server::Org, &other_server_token.access_token)
            .await?
    );
    Ok(())
}

async fn revoke_requires_client_authentication(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    for server in Server::ALL {
        let (tokens, rt) = offline_tokens(&app, server).await?;
        let id = app.client_id();
        for auth in [
            Auth::None,
            Auth::Public(id),
            Auth::BasicIdOnly(id),
            Auth::Basic(id, "wrong"),
            Auth::Post(id, "wrong"),
        ] {
            for token in [&tokens.access_token, &rt] {
                app.revoke(server, token, auth)
                    .await?
                    .expect_oauth_error(401, "invalid_client")
                    .with_context(|| format!("{server:?} {auth:?}"))?;
            }
        }
        ensure!(app.is_active(server, &tokens.access_token).await?);
        ensure!(app.is_active(server, &rt).await?);
    }
    Ok(())
}

async fn client_cannot_revoke_another_clients_tokens(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let other = app.create_web_app("Other").await?;
    app.assign_everyone(&other).await?;
    let other_auth = Auth::Basic(
        &other.app.client_id,
        other.client_secret.as_deref().unwrap_or_default(),
    );
    let spa = app.create_spa("SPA").await?;
    for server in Server::ALL {
        let (tokens, rt) = offline_tokens(&app, server).await?;
        for auth in [other_auth, Auth::Public(&spa.app.client_id)] {
            for token in [&tokens.access_token, &rt] {
                // 200 (RFC 7009 reveals nothing), but nothing happens.
                expect_revoked(&app.revoke(server, token, auth).await?)?;
            }
        }
        ensure!(
            app.is_active(server, &tokens.access_token).await?,
            "{server:?}: another client revoked the access token"
        );
        ensure!(
            app.is_active(server, &rt).await?,
            "{server:?}: another client revoked the refresh token"
        );
        assert_eq!(
            app.userinfo(server, &tokens.access_token).await?.status,
            StatusCode::OK
        );
        // The owner can.
        expect_revoked(&app.revoke(server, &rt, app.basic()).await?)?;
        ensure!(!app.is_active(server, &rt).await?);
    }
    Ok(())
}

/// A `client_credentials` access token of the client `id`.
async fn client_credentials_token(app: &TestApp, id: &str, secret: &str) -> Result<String> {
    let reply = app
        .token(
            Server::Default,
            &[("grant_type", "client_credentials")],
            Auth::Basic(id, secret),
        )
        .await?;
    ensure!(reply.status == StatusCode::OK, "{reply:?}");
    reply.json()?["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("access_token")
}

/// Whether introspection by the client `id` finds `token` live.
async fn active_for(app: &TestApp, id: &str, secret: &str, token: &str) -> Result<bool> {
    let reply = app
        .post_form(
            Server::Default,
            "introspect",
            &[("token", token)],
            Auth::Basic(id, secret),
        )
        .await?;
    let body: Value = reply.json()?;
    body["active"].as_bool().context("active")
}

/// `client_credentials` tokens are self-contained: nothing is stored when one is issued, so
/// they are live by signature and `exp` alone until revoked. Revoking one records it revoked
/// (in the database, so on every node); the client's other tokens live on, and another client
/// can neither revoke it nor see it.
async fn revoke_client_credentials_token(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let ssws = app.api_token().await?;
    app.add_default_scope("svc:revocable").await?;
    let client = app
        .register_secret_service_app(&ssws, "revocable service", "client_secret_basic")
        .await?;
    let id = client["client_id"].as_str().context("client_id")?;
    let secret = client["client_secret"].as_str().context("client_secret")?;
    let token = client_credentials_token(&app, id, secret).await?;
    let sibling = client_credentials_token(&app, id, secret).await?;
    ensure!(
        active_for(&app, id, secret, &token).await?,
        "a fresh token is not live"
    );

    // Another client cannot revoke it, and does not see it.
    expect_revoked(&app.revoke(Server::Default, &token, app.basic()).await?)?;
    ensure!(!app.is_active(Server::Default, &token).await?);
    ensure!(
        active_for(&app, id, secret, &token).await?,
        "revoked by another client"
    );

    let own = Auth::Basic(id, secret);
    expect_revoked(&app.revoke(Server::Default, &token, own).await?)?;
    ensure!(
        !active_for(&app, id, secret, &token).await?,
        "still live after revocation"
    );
    ensure!(
        active_for(&app, id, secret, &sibling).await?,
        "the other token went too"
    );
    // Revoking again is still a success; a tampered token is no token at all.
    expect_revoked(
        &app.revoke(Server::Default, &token, Auth::Basic(id, secret))
            .await?,
    )?;
    ensure!(
        !active_for(&app, id, secret, &tamper_payload(&sibling)).await?,
        "a tampered token is live"
    );
    Ok(())
}
