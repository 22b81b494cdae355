use super::Ctx;
use crate::domain::App;
use crate::oauth2::OAuthError;
use crate::oauth2::request_object;

/// A `request_uri` longer than this is refused unfetched (OIDC Core §6.2 asks for at most 512).
const MAX_REQUEST_URI_LEN: usize = 2048;

/// Replaces the query's parameters with those of the request object (`request`, or the one
/// fetched from `request_uri`), verified as [`request_object`] says. Runs once the client is
/// known and before its redirect URI is checked, since the object's `redirect_uri` wins.
///
/// On failure the parameters stay as they arrived (without `request`/`request_uri`), so the
/// pipeline can still check the query's redirect URI and send the error there (§3.1.2.6).
pub(super) async fn resolve(ctx: &mut Ctx<'_>) -> Result<(), OAuthError> {
    let jwt = match (ctx.params.request.take(), ctx.params.request_uri.take()) {
        (None, None) => return Ok(()),
        (Some(_), Some(_)) => {
            return Err(OAuthError::InvalidRequest(
                "`request` and `request_uri` cannot be used together.".into(),
            ));
        }
        (Some(jwt), None) => jwt,
        (None, Some(uri)) => {
            let app = client(ctx)?;
            fetch(ctx, app, &uri).await?
        }
    };
    let app = client(ctx)?;
    let header = request_object::header(app, &jwt)?;
    let fetched;
    let jwks = if header.is_unsigned() || app.settings.jwks.is_some() {
        app.settings.jwks.as_ref()
    } else if let Some(uri) = &app.settings.jwks_uri {
        fetched = ctx
            .provider
            .remote_jwks
            .keys(uri, header.kid.as_deref())
            .await
            .map_err(|e| {
                tracing::warn!(client_id = %app.client_id, reason = %e, "client jwks_uri unusable for a request object");
                OAuthError::InvalidRequestObject(
                    "The client's jwks_uri could not be used to verify the request object.".into(),
                )
            })?;
        Some(&fetched)
    } else {
        None
    };
    let claims = request_object::verify(
        app,
        jwks,
        &jwt,
        &ctx.params,
        &ctx.server.issuer,
        ctx.provider.now(),
    )
    .inspect_err(|e| {
        tracing::info!(client_id = %app.client_id, reason = %e, "request object refused");
    })?;
    ctx.params = request_object::apply(&claims, &ctx.params)?;
    Ok(())
}

fn client<'a>(ctx: &'a Ctx<'_>) -> Result<&'a App, OAuthError> {
    ctx.app
        .as_ref()
        .ok_or_else(|| OAuthError::InvalidRequest("Unknown client.".into()))
}

fn without_fragment(uri: &str) -> &str {
    uri.split_once('#').map_or(uri, |(u, _)| u)
}

/// The request object at `uri`, which must be one of the client's registered `request_uris`
/// (discovery says `require_request_uri_registration`), so the server only ever fetches what an
/// administrator or registration accepted; the fetch itself follows the SSRF rules of
/// [`crate::oauth2::remote_jwks`].
async fn fetch(ctx: &Ctx<'_>, app: &App, uri: &str) -> Result<String, OAuthError> {
    if app.settings.request_uris.is_empty() {
        return Err(OAuthError::RequestUriNotSupported(
            "This client registered no request_uris, and only registered ones are accepted.".into(),
        ));
    }
    let sent = without_fragment(uri);
    let registered = uri.len() <= MAX_REQUEST_URI_LEN
        && app
            .settings
            .request_uris
            .iter()
            .any(|r| without_fragment(r) == sent);
    if !registered {
        tracing::warn!(client_id = %app.client_id, "request_uri is not registered");
        return Err(OAuthError::InvalidRequestUri(
            "The request_uri is not one of the client's registered request_uris.".into(),
        ));
    }
    let body = ctx
        .provider
        .remote_jwks
        .fetch_document(sent)
        .await
        .map_err(|e| {
            tracing::warn!(client_id = %app.client_id, reason = %e, "request_uri unusable");
            let why = match e {
                crate::oauth2::remote_jwks::JwksFetchError::Refused(w)
                | crate::oauth2::remote_jwks::JwksFetchError::Failed(w) => w,
            };
            OAuthError::InvalidRequestUri(format!("The request_uri could not be used: {why}."))
        })?;
    String::from_utf8(body)
        .map(|s| s.trim().to_owned())
        .map_err(|_| {
            OAuthError::InvalidRequestUri("The request_uri does not hold a request object.".into())
        })
}
