//! `grant_type=client_credentials` (RFC 6749 §4.4) on the custom server, and the token
//! endpoint's registry refusing what a client may not ask for.

use anyhow::{Result, ensure};
use gatehouse_core::oauth2::OAuthError;
use gatehouse_core::oauth2::grants::{self, GrantType};
use gatehouse_store::test_support::Backend;

use crate::support::{refused, setup, token_params};

/// A client id and its secret, if any.
type Credentials<'a> = (&'a str, Option<&'a str>);

/// The scopes granted are those asked for when the server has them all and none is an OpenID
/// Connect user scope, else the server's default scopes; anything else is `invalid_scope`.
async fn client_credentials_scopes(backend: Backend) -> Result<()> {
    let f = setup(backend).await?;
    let server = &f.default;
    let cc = |scope: Option<&'static str>| {
        let mut pairs = vec![("grant_type", "client_credentials")];
        pairs.extend(scope.map(|s| ("scope", s)));
        pairs
    };
    let e = refused(f.token(server, &f.svc, &cc(None)).await)?;
    ensure!(
        matches!(e, OAuthError::InvalidScope(_)),
        "no default scope yet: {e:?}"
    );

    f.add_default_server_scope("inventory:read", true).await?;
    f.add_default_server_scope("inventory:write", false).await?;
    let defaults = f.token(server, &f.svc, &cc(None)).await?;
    ensure!(defaults.scope == "inventory:read", "{}", defaults.scope);
    ensure!(defaults.refresh_token.is_none() && defaults.id_token.is_none());
    ensure!(f.access_token_live(server, &defaults.access_token).await);

    let both = f
        .token(
            server,
            &f.svc,
            &cc(Some("inventory:write inventory:read inventory:write")),
        )
        .await?;
    ensure!(
        both.scope == "inventory:write inventory:read",
        "{}",
        both.scope
    );

    let refusals = [
        (
            "inventory:read billing:read",
            "One or more scopes are not configured for the authorization server resource: 'billing:read'.",
        ),
        (
            "inventory:read openid profile",
            "The following scopes are not allowed for the client_credentials grant: openid profile.",
        ),
        (
            "inventory:read in\"valid",
            "The scope 'in\"valid' is malformed.",
        ),
        (
            "inventory:read\tinventory:write",
            "The scope 'inventory:read\tinventory:write' is malformed.",
        ),
    ];
    for (scope, description) in refusals {
        let e = refused(f.token(server, &f.svc, &cc(Some(scope))).await)?;
        ensure!(
            matches!(&e, OAuthError::InvalidScope(d) if d == description),
            "{scope:?}: {e:?}"
        );
    }

    // The org server: only for private_key_jwt clients, as Okta requires.
    let e = refused(
        f.token(&f.server, &f.svc, &cc(Some("okta.users.read")))
            .await,
    )?;
    ensure!(matches!(e, OAuthError::InvalidClient(_)), "{e:?}");
    Ok(())
}

/// The registry refuses a missing or unknown grant type before authenticating anyone, and a
/// grant the app does not hold after; the client's credentials are checked in between.
async fn the_registry_refuses_disallowed_grants(backend: Backend) -> Result<()> {
    let f = setup(backend).await?;
    let server = &f.default;
    f.add_default_server_scope("inventory:read", true).await?;
    ensure!(
        grants::handler(GrantType::ClientCredentials).is_some_and(|h| h.parameters() == ["scope"])
    );

    let svc = (f.svc.app.client_id.as_str(), f.svc.client_secret.as_deref());
    let web = (f.web.app.client_id.as_str(), f.web.client_secret.as_deref());
    let spa = (f.spa.app.client_id.as_str(), None);
    let cases: [(&str, Credentials, Option<&str>, &str); 11] = [
        ("no grant_type", svc, None, "invalid_request"),
        ("empty grant_type", svc, Some(""), "invalid_request"),
        ("unknown", svc, Some("magic"), "unsupported_grant_type"),
        (
            "not implemented",
            svc,
            Some("password"),
            "unsupported_grant_type",
        ),
        (
            "implicit has no handler",
            web,
            Some("implicit"),
            "unsupported_grant_type",
        ),
        (
            "web app, client_credentials",
            web,
            Some("client_credentials"),
            "unauthorized_client",
        ),
        (
            "spa, client_credentials",
            spa,
            Some("client_credentials"),
            "unauthorized_client",
        ),
        (
            "service app, code",
            svc,
            Some("authorization_code"),
            "unauthorized_client",
        ),
        (
            "service app, refresh",
            svc,
            Some("refresh_token"),
            "unauthorized_client",
        ),
        (
            "wrong secret",
            (svc.0, Some("wrong")),
            Some("client_credentials"),
            "invalid_client",
        ),
        (
            "malformed client id",
            ("cli\u{eb}nt", None),
            Some("client_credentials"),
            "invalid_client",
        ),
    ];
    for (name, (client_id, secret), grant_type, code) in cases {
        let mut p = token_params(client_id, secret, &[]);
        p.grant_type = grant_type.map(str::to_owned);
        let e = refused(grants::token(&f.provider, server, p, None, None).await)?;
        ensure!(e.code() == code, "{name}: {e:?}");
    }
    let mut p = token_params(svc.0, svc.1, &[("scope", "inventory:read")]);
    p.grant_type = Some("client_credentials".into());
    grants::token(&f.provider, server, p, None, None).await?;
    Ok(())
}

both_backends!(
    client_credentials_scopes,
    the_registry_refuses_disallowed_grants
);
