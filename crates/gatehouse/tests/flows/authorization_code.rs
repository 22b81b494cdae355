//! `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636): what a code is bound to, and
//! that it is spent once. A request that fails a check redeems nothing, so the real client's
//! exchange still works afterwards (see `grants/authorization_code.rs`).

use anyhow::{Context as _, Result, ensure};
use gatehouse_core::oauth2::OAuthError;
use gatehouse_store::test_support::Backend;

use crate::support::{REDIRECT_URI, VERIFIER, code_request, param, refused, setup, web_app};

fn is_invalid_grant(e: &OAuthError, description: &str) -> bool {
    matches!(e, OAuthError::InvalidGrant(d) if d == description)
}

const CODE_INVALID: &str = "The authorization code is invalid or has expired.";
const PKCE_FAILED: &str = "PKCE verification failed.";
const REDIRECT_MISMATCH: &str =
    "The `redirect_uri` does not match the redirection URI used in the authorization request.";

/// On both servers: a code redeems once; a second redemption is refused and revokes what the
/// first one issued (RFC 6749 §4.1.2, §10.5), refresh token and access token alike.
async fn code_is_single_use_and_a_replay_revokes_the_grant(backend: Backend) -> Result<()> {
    let f = setup(backend).await?;
    for server in [&f.server, &f.default] {
        let code = f.code(server, &f.web, "openid offline_access").await?;
        let tokens = f.redeem(server, &f.web, &code).await?;
        let refresh_token = tokens.refresh_token.clone().context("offline_access")?;
        ensure!(tokens.id_token.is_some());
        ensure!(f.access_token_live(server, &tokens.access_token).await);

        let replay = refused(f.redeem(server, &f.web, &code).await)?;
        ensure!(is_invalid_grant(&replay, CODE_INVALID), "{replay:?}");
        ensure!(
            !f.access_token_live(server, &tokens.access_token).await,
            "the first redemption's access token outlived the replay"
        );
        let e = refused(f.refresh(server, &f.web, &refresh_token, None).await)?;
        ensure!(matches!(e, OAuthError::InvalidGrant(_)), "{e:?}");
    }
    Ok(())
}

/// PKCE S256: a wrong or missing verifier is refused and leaves the code as it was; a verifier
/// for a code issued without a challenge is a downgrade and refused too.
async fn pkce_mismatch_is_refused_and_spends_nothing(backend: Backend) -> Result<()> {
    let f = setup(backend).await?;
    let server = &f.server;
    let code = f.code(server, &f.spa, "openid").await?;
    let other_verifier = "x".repeat(43);
    for verifier in [Some(other_verifier.as_str()), Some("short"), None] {
        let mut pairs = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
        ];
        pairs.extend(verifier.map(|v| ("code_verifier", v)));
        let e = refused(f.token(server, &f.spa, &pairs).await)?;
        ensure!(is_invalid_grant(&e, PKCE_FAILED), "{verifier:?}: {e:?}");
    }
    f.redeem(server, &f.spa, &code).await?;

    let mut request = code_request(&f.web, "openid");
    request.code_challenge = None;
    request.code_challenge_method = None;
    let response = f.sign_in(server, request).await?;
    let code = param(&response, "code").context("a code")?;
    let e = refused(f.redeem(server, &f.web, code).await)?;
    ensure!(is_invalid_grant(&e, PKCE_FAILED), "downgrade: {e:?}");
    let without = f
        .token(
            server,
            &f.web,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT_URI),
            ],
        )
        .await;
    ensure!(without.is_ok(), "{without:?}");
    Ok(())
}

/// The redirect URI must be the one of the authorization request, byte for byte.
async fn redirect_uri_must_match_exactly(backend: Backend) -> Result<()> {
    let f = setup(backend).await?;
    let server = &f.server;
    let code = f.code(server, &f.web, "openid").await?;
    let variants = [
        None,
        Some(""),
        Some("https://app.example/cb/"),
        Some("https://APP.example/cb"),
        Some("https://app.example/cb?x=1"),
        Some("https://app.example:443/cb"),
        Some("https://app.example/cb#f"),
        Some("not a uri"),
    ];
    for redirect_uri in variants {
        let mut pairs = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("code_verifier", VERIFIER),
        ];
        pairs.extend(redirect_uri.map(|u| ("redirect_uri", u)));
        let e = refused(f.token(server, &f.web, &pairs).await)?;
        ensure!(
            is_invalid_grant(&e, REDIRECT_MISMATCH),
            "{redirect_uri:?}: {e:?}"
        );
    }
    f.redeem(server, &f.web, &code).await?;
    Ok(())
}

/// A code redeems only for the client and at the server it was issued to; another client's
/// or another server's attempt spends nothing.
async fn code_is_bound_to_its_client_and_server(backend: Backend) -> Result<()> {
    let f = setup(backend).await?;
    let other = web_app(&f.provider, "Other portal").await?;
    let code = f.code(&f.server, &f.web, "openid").await?;
    let e = refused(f.redeem(&f.server, &other, &code).await)?;
    ensure!(
        is_invalid_grant(&e, "The grant was issued to another client."),
        "{e:?}"
    );
    let e = refused(f.redeem(&f.default, &f.web, &code).await)?;
    ensure!(is_invalid_grant(&e, CODE_INVALID), "{e:?}");
    let e = refused(f.redeem(&f.server, &f.web, "not-a-code").await)?;
    ensure!(is_invalid_grant(&e, CODE_INVALID), "{e:?}");
    f.redeem(&f.server, &f.web, &code).await?;
    Ok(())
}

/// A code lives for the configured lifetime (Okta: 5 minutes), and not a second more.
async fn code_expires(backend: Backend) -> Result<()> {
    let f = setup(backend).await?;
    let code = f.code(&f.server, &f.web, "openid").await?;
    f.advance(f.provider.lifetimes.authorization_code);
    let e = refused(f.redeem(&f.server, &f.web, &code).await)?;
    ensure!(is_invalid_grant(&e, CODE_INVALID), "{e:?}");
    Ok(())
}

both_backends!(
    code_is_single_use_and_a_replay_revokes_the_grant,
    pkce_mismatch_is_refused_and_spends_nothing,
    redirect_uri_must_match_exactly,
    code_is_bound_to_its_client_and_server,
    code_expires,
);
