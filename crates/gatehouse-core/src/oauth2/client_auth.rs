//! Client authentication at the token, introspection and revocation endpoints.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::crypto::constant_time_eq;
use crate::domain::{App, AppStatus, ClientSecret, TokenEndpointAuthMethod};
use crate::oauth2::OAuthError;
use crate::oauth2::client_assertion::{self, AssertionError};
use crate::oauth2::types::ClientId;
use crate::provider::{Provider, ServerContext};

/// The credentials a request carried, before they are checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientCredentials {
    /// From `Authorization: Basic`: (client_id, secret). okta-auth-js sends `Basic b64(client_id)`
    /// with no colon for public clients; that arrives as (id, None).
    pub basic: Option<(String, Option<String>)>,
    pub form_client_id: Option<String>,
    pub form_client_secret: Option<String>,
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
}

impl ClientCredentials {
    /// Parses an `Authorization` header value; anything but a well-formed Basic header is ignored.
    pub fn parse_basic(header: &str) -> Option<(String, Option<String>)> {
        let (scheme, rest) = header.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = STANDARD.decode(rest.trim()).ok()?;
        let text = String::from_utf8(decoded)
            .ok()
            .filter(|t| !t.contains('\0'))?;
        // RFC 6749 §2.3.1 form-encodes id and secret before Basic; clients that don't (requests)
        // send values with no reserved characters, for which decoding is the identity.
        let unescape = |s: &str| form_urlencoded_decode(s).unwrap_or_else(|| s.to_owned());
        let parsed = match text.split_once(':') {
            Some((id, secret)) => (unescape(id), Some(unescape(secret))),
            None => (unescape(&text), None),
        };
        // A NUL (raw or `%00`) is in no client id or secret; it is not a credential.
        let has_nul =
            parsed.0.contains('\0') || parsed.1.as_ref().is_some_and(|s| s.contains('\0'));
        (!has_nul).then_some(parsed)
    }
}

fn form_urlencoded_decode(s: &str) -> Option<String> {
    // Most ids and secrets have nothing to decode: no second parse for them.
    if !s.contains(['%', '+']) {
        return Some(s.to_owned());
    }
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(&format!("v={}", s.replace('&', "%26"))).ok()?;
    pairs.into_iter().next().map(|(_, v)| v)
}

fn bad_client() -> OAuthError {
    OAuthError::InvalidClient(
        "Client authentication failed. Either the client or the client credentials are invalid."
            .into(),
    )
}

/// Which endpoint a client authenticates at: a JWT assertion's `aud` must name the server's
/// token endpoint, or this endpoint itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Token,
    Introspect,
    Revoke,
    /// RFC 8628 §3.1, authenticated as at the token endpoint.
    DeviceAuthorize,
}

impl Endpoint {
    fn name(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::Introspect => "introspect",
            Self::Revoke => "revoke",
            Self::DeviceAuthorize => "device/authorize",
        }
    }
}

/// Identifies and authenticates the client. Public clients (`none`) are identified by id only.
pub async fn authenticate(
    provider: &Provider,
    creds: &ClientCredentials,
    server: &ServerContext,
    endpoint: Endpoint,
) -> Result<Arc<App>, OAuthError> {
    let kinds = [
        creds.basic.is_some(),
        creds.form_client_secret.is_some(),
        creds.client_assertion.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() > 1 {
        return Err(OAuthError::InvalidRequest(
            "Can't supply multiple client credentials. Use one of the following: credentials in the Authorization header, credentials in the post body, or a client_assertion in the post body.".into(),
        ));
    }
    if creds.client_assertion.is_some() || creds.client_assertion_type.is_some() {
        return authenticate_assertion(provider, creds, server, endpoint).await;
    }
    let (client_id, secret) = match (&creds.basic, &creds.form_client_id) {
        (Some((id, secret)), form_id) => {
            if form_id.as_ref().is_some_and(|f| f != id) {
                return Err(OAuthError::InvalidRequest(
                    "The client_id in the body does not match the Authorization header.".into(),
                ));
            }
            (id.as_str(), secret.as_deref())
        }
        (None, Some(id)) => (id.as_str(), creds.form_client_secret.as_deref()),
        (None, None) => {
            return Err(OAuthError::InvalidClient(
                "No client credentials found.".into(),
            ));
        }
    };
    // An id no client can have is answered as an unknown one, without a lookup.
    let Ok(client_id) = ClientId::parse(client_id) else {
        return Err(bad_client());
    };
    let client = provider
        .clients
        .find(provider.store.as_ref(), &client_id)
        .await?;
    let Some(client) = client.filter(|c| c.app.status == AppStatus::Active) else {
        return Err(bad_client());
    };
    let app = Arc::clone(&client.app);
    match app.settings.token_endpoint_auth_method {
        TokenEndpointAuthMethod::None => match secret {
            None | Some("") => Ok(app),
            Some(_) => Err(bad_client()),
        },
        TokenEndpointAuthMethod::ClientSecretBasic | TokenEndpointAuthMethod::ClientSecretPost => {
            let presented = secret.ok_or_else(bad_client)?;
            let context = fingerprint_context(&app.id);
            let expected = match client.secret_fingerprints.get() {
                Some(fingerprints) => fingerprints,
                None => {
                    let fingerprints = open_secrets(provider, &app, &client.active_secrets)?
                        .iter()
                        .map(|s| provider.secrets.fingerprint(&context, s))
                        .collect();
                    client.secret_fingerprints.get_or_init(|| fingerprints)
                }
            };
            // Keyed hashes are compared, so equal ones mean equal secrets; every active secret
            // is compared (in constant time each), whichever matches.
            let presented = provider.secrets.fingerprint(&context, presented.as_bytes());
            let mut matched = false;
            for expected in expected {
                matched |= constant_time_eq(presented.as_bytes(), expected.as_bytes());
            }
            if matched { Ok(app) } else { Err(bad_client()) }
        }
        TokenEndpointAuthMethod::ClientSecretJwt | TokenEndpointAuthMethod::PrivateKeyJwt => {
            Err(bad_client())
        }
    }
}

/// The client's active secrets in clear text.
fn open_secrets(
    provider: &Provider,
    app: &App,
    active: &[ClientSecret],
) -> Result<Vec<Vec<u8>>, OAuthError> {
    let context = secret_context(&app.id);
    active
        .iter()
        .map(|s| {
            provider
                .secrets
                .open(&context, &s.secret_sealed)
                .map_err(OAuthError::internal)
        })
        .collect()
}

/// `private_key_jwt` / `client_secret_jwt` (see [`client_assertion`] for the rules).
async fn authenticate_assertion(
    provider: &Provider,
    creds: &ClientCredentials,
    server: &ServerContext,
    endpoint: Endpoint,
) -> Result<Arc<App>, OAuthError> {
    let refuse = |e: AssertionError| OAuthError::InvalidClient(e.to_string());
    if creds.client_assertion_type.as_deref() != Some(client_assertion::JWT_BEARER) {
        return Err(refuse(AssertionError::WrongType));
    }
    let assertion = creds
        .client_assertion
        .as_deref()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| {
            OAuthError::InvalidRequest("The `client_assertion` parameter is required.".into())
        })?;
    let client_id = client_assertion::unverified_client_id(assertion).map_err(refuse)?;
    if creds
        .form_client_id
        .as_ref()
        .is_some_and(|f| *f != client_id)
    {
        return Err(OAuthError::InvalidClient(
            "The client_id does not match the client_assertion's iss and sub.".into(),
        ));
    }
    let client_id = ClientId::parse(&client_id).map_err(|_| bad_client())?;
    let client = provider
        .clients
        .find(provider.store.as_ref(), &client_id)
        .await?
        .filter(|c| c.app.status == AppStatus::Active)
        .ok_or_else(bad_client)?;
    let app = Arc::clone(&client.app);
    // `client_secret_jwt`: the assertion may be signed with any active secret.
    let secrets = match app.settings.token_endpoint_auth_method {
        TokenEndpointAuthMethod::PrivateKeyJwt => vec![None],
        TokenEndpointAuthMethod::ClientSecretJwt => {
            let open = open_secrets(provider, &app, &client.active_secrets)?;
            if open.is_empty() {
                return Err(bad_client());
            }
            open.into_iter().map(Some).collect()
        }
        _ => {
            return Err(OAuthError::InvalidClient(
                "The client is not configured to authenticate with a client_assertion.".into(),
            ));
        }
    };
    let mut audiences = vec![server.endpoint("token")];
    if endpoint != Endpoint::Token {
        audiences.push(server.endpoint(endpoint.name()));
    }
    let now = provider.now();
    // Keys registered inline win; otherwise the set published at the client's jwks_uri.
    let fetched = match (
        app.settings.token_endpoint_auth_method,
        &app.settings.jwks,
        &app.settings.jwks_uri,
    ) {
        (TokenEndpointAuthMethod::PrivateKeyJwt, None, Some(uri)) => {
            let kid = client_assertion::unverified_kid(assertion).map_err(refuse)?;
            let set = provider
                .remote_jwks
                .keys(uri, kid.as_deref())
                .await
                .map_err(|e| {
                    tracing::warn!(client_id = %app.client_id, reason = %e, "client jwks_uri unusable");
                    refuse(AssertionError::KeySetUnavailable)
                })?;
            Some(set)
        }
        _ => None,
    };
    let jwks = fetched.as_ref().or(app.settings.jwks.as_ref());
    // With two secrets, the wrong one fails on the signature; the reason worth reporting is
    // the other key's (an expired assertion, say), if any.
    let mut outcome = Err(AssertionError::NoKey);
    for secret in &secrets {
        let attempt = client_assertion::verify_with_jwks(
            &app,
            jwks,
            assertion,
            secret.as_deref(),
            &audiences,
            now,
        );
        let keep = match (&outcome, &attempt) {
            (_, Ok(_)) | (Err(AssertionError::NoKey), _) => true,
            (Err(AssertionError::Signature), Err(e)) => !matches!(e, AssertionError::Signature),
            _ => false,
        };
        if keep {
            outcome = attempt;
        }
        if outcome.is_ok() {
            break;
        }
    }
    let verified = outcome.map_err(|e| {
        tracing::info!(client_id = %app.client_id, reason = %e, "client assertion refused");
        refuse(e)
    })?;
    // Only a valid assertion consumes its jti, so nobody can burn another client's jtis.
    let fresh = provider
        .store
        .consume_client_assertion_jti(
            &app.client_id,
            &verified.jti,
            // The assertion is accepted until `exp` + skew; its jti must be remembered as long.
            verified.exp + client_assertion::CLOCK_SKEW,
            now,
        )
        .await?;
    if !fresh {
        tracing::warn!(client_id = %app.client_id, "client assertion replayed");
        return Err(refuse(AssertionError::Replayed));
    }
    Ok(app)
}

/// What a presented client secret's fingerprint is keyed with, apart from other fingerprints.
fn fingerprint_context(app_id: &str) -> String {
    format!("client-secret-check:{app_id}")
}

/// The associated data a client secret is sealed under.
pub fn secret_context(app_id: &str) -> String {
    format!("client-secret:{app_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_forms() {
        let enc = STANDARD.encode("abc:s3cr%2Bt");
        assert_eq!(
            ClientCredentials::parse_basic(&format!("Basic {enc}")),
            Some(("abc".into(), Some("s3cr+t".into())))
        );
        let id_only = STANDARD.encode("abc");
        assert_eq!(
            ClientCredentials::parse_basic(&format!("basic {id_only}")),
            Some(("abc".into(), None))
        );
        let plus = STANDARD.encode("a+b:c%20d");
        assert_eq!(
            ClientCredentials::parse_basic(&format!("Basic {plus}")),
            Some(("a b".into(), Some("c d".into())))
        );
        assert_eq!(ClientCredentials::parse_basic("Bearer x"), None);
        assert_eq!(ClientCredentials::parse_basic("Basic !!!"), None);
    }
}
