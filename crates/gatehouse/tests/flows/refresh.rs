//! `grant_type=refresh_token` (RFC 6749 §6), as `grants/refresh_token.rs` does it: static
//! tokens (Okta's default outside SPAs) come back unchanged; rotating ones (SPAs) are replaced
//! on each use, a replaced one still works within the grace period (30 s), and used after it
//! revokes the whole grant (every refresh and access token of the sign-in), as Okta's reuse
//! detection does.

use anyhow::{Context as _, Result, ensure};
use gatehouse_core::domain::RefreshTokenPolicy;
use gatehouse_core::oauth2::OAuthError;
use gatehouse_store::test_support::Backend;

use crate::support::{refused, setup};

const INVALID: &str = "The refresh token is invalid or expired.";

fn is_invalid(e: &OAuthError) -> bool {
    matches!(e, OAuthError::InvalidGrant(d) if d == INVALID)
}

/// A web app's static refresh token: the same token again, a new access token each time.
async fn static_refresh_token_comes_back_unchanged(backend: Backend) -> Result<()> {
    let f = setup(backend).await?;
    for server in [&f.server, &f.default] {
        let code = f.code(server, &f.web, "openid offline_access").await?;
        let first = f.redeem(server, &f.web, &code).await?;
        let rt = first.refresh_token.clone().context("offline_access")?;
        f.advance(60);
        let second = f.refresh(server, &f.web, &rt, None).await?;
        ensure!(second.refresh_token.as_deref() == Some(rt.as_str()));
        ensure!(second.access_token != first.access_token);
        ensure!(second.scope == "openid offline_access", "{}", second.scope);
        let third = f.refresh(server, &f.web, &rt, None).await?;
        ensure!(third.refresh_token.as_deref() == Some(rt.as_str()));
    }
    Ok(())
}

/// A SPA's rotating refresh token: each use returns a new one; the old one works within the
/// grace period (a fresh pair of its own), and after it revokes the family.
async fn rotation_and_reuse_detection(backend: Backend) -> Result<()> {
    let f = setup(backend).await?;
    let server = &f.default;
    let code = f.code(server, &f.spa, "openid offline_access").await?;
    let first = f.redeem(server, &f.spa, &code).await?;
    let rt1 = first.refresh_token.clone().context("offline_access")?;

    let second = f.refresh(server, &f.spa, &rt1, None).await?;
    let rt2 = second.refresh_token.clone().context("rotated")?;
    ensure!(rt2 != rt1, "not rotated");

    // Within the grace period: the replaced token gets a pair of its own, the family lives.
    f.advance(RefreshTokenPolicy::DEFAULT_LEEWAY - 1);
    let racing = f.refresh(server, &f.spa, &rt1, None).await?;
    let rt3 = racing.refresh_token.clone().context("a fresh pair")?;
    ensure!(rt3 != rt1 && rt3 != rt2);
    ensure!(f.access_token_live(server, &second.access_token).await);

    // After it: reuse, so the whole grant goes.
    f.advance(2);
    let e = refused(f.refresh(server, &f.spa, &rt1, None).await)?;
    ensure!(is_invalid(&e), "{e:?}");
    for rt in [&rt2, &rt3] {
        let e = refused(f.refresh(server, &f.spa, rt, None).await)?;
        ensure!(is_invalid(&e), "a descendant survived the reuse: {e:?}");
    }
    for at in [
        &first.access_token,
        &second.access_token,
        &racing.access_token,
    ] {
        ensure!(
            !f.access_token_live(server, at).await,
            "an access token survived"
        );
    }
    Ok(())
}

/// A refresh token works only for its client and at its server.
async fn refresh_token_is_bound_to_client_and_server(backend: Backend) -> Result<()> {
    let f = setup(backend).await?;
    let code = f.code(&f.server, &f.web, "openid offline_access").await?;
    let rt = f
        .redeem(&f.server, &f.web, &code)
        .await?
        .refresh_token
        .context("offline_access")?;
    let e = refused(f.refresh(&f.server, &f.spa, &rt, None).await)?;
    ensure!(is_invalid(&e), "another client: {e:?}");
    let e = refused(f.refresh(&f.default, &f.web, &rt, None).await)?;
    ensure!(is_invalid(&e), "another server: {e:?}");
    let e = refused(f.refresh(&f.server, &f.web, "not-a-token", None).await)?;
    ensure!(is_invalid(&e), "{e:?}");
    f.refresh(&f.server, &f.web, &rt, None).await?;
    Ok(())
}

/// A narrower scope may be asked for, never a wider one; a malformed scope is one that was
/// not granted.
async fn refresh_scope_narrows_never_widens(backend: Backend) -> Result<()> {
    let f = setup(backend).await?;
    let server = &f.server;
    let code = f
        .code(server, &f.web, "openid profile offline_access")
        .await?;
    let rt = f
        .redeem(server, &f.web, &code)
        .await?
        .refresh_token
        .context("offline_access")?;
    let narrow = f
        .refresh(server, &f.web, &rt, Some("openid profile openid"))
        .await?;
    ensure!(narrow.scope == "openid profile", "{}", narrow.scope);
    for (scope, named) in [
        ("openid email", "email"),
        ("openid \"profile\"", "\"profile\""),
        ("openid\tprofile", "openid\tprofile"),
    ] {
        let e = refused(f.refresh(server, &f.web, &rt, Some(scope)).await)?;
        let expected = format!("The scope '{named}' was not granted to the refresh token.");
        ensure!(
            matches!(&e, OAuthError::InvalidScope(d) if *d == expected),
            "{scope:?}: {e:?}"
        );
    }
    // No scope, or an empty one: the token's own.
    let all = f.refresh(server, &f.web, &rt, Some("")).await?;
    ensure!(
        all.scope == "openid profile offline_access",
        "{}",
        all.scope
    );
    Ok(())
}

both_backends!(
    static_refresh_token_comes_back_unchanged,
    rotation_and_reuse_detection,
    refresh_token_is_bound_to_client_and_server,
    refresh_scope_narrows_never_widens,
);
