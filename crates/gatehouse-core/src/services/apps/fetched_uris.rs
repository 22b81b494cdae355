//! The URIs the server fetches for a client (`jwks_uri`, `sector_identifier_uri`,
//! `request_uris`): their form, and the address rules that depend on the server's settings.

use crate::domain::OAuthClientSettings;
use crate::provider::Provider;
use crate::services::directory_rules::{DirectoryError, check_uri_chars, invalid};

pub(super) const MAX_REQUEST_URIS: usize = 20;

/// A URI the server fetches (`jwks_uri`, `sector_identifier_uri`, `request_uris`): an absolute
/// https URL without credentials, and without a fragment unless `fragment_ok` (http to a
/// loopback host passes here; [`check_fetched_uri_policy`] allows it only under the development
/// setting).
pub(super) fn validate_fetched_uri(
    field: &'static str,
    uri: &str,
    fragment_ok: bool,
) -> Result<(), DirectoryError> {
    check_uri_chars(field, uri)?;
    let parsed =
        url::Url::parse(uri).map_err(|_| invalid(field, format!("'{uri}' is not a URL")))?;
    let loopback_http =
        parsed.scheme() == "http" && crate::oauth2::remote_jwks::check_uri(&parsed, true).is_ok();
    if !(parsed.scheme() == "https" || loopback_http) || parsed.host_str().is_none_or(str::is_empty)
    {
        return Err(invalid(field, "must be an https URL"));
    }
    if (parsed.fragment().is_some() && !fragment_ok)
        || !parsed.username().is_empty()
        || parsed.password().is_some()
    {
        return Err(invalid(field, "must not contain a fragment or credentials"));
    }
    Ok(())
}

/// The address rules for the URIs the server fetches that need the server's settings: no
/// private, loopback or link-local address literal, and http only to loopback under the
/// development setting.
pub(crate) fn check_fetched_uri_policy(
    provider: &Provider,
    settings: &OAuthClientSettings,
) -> Result<(), DirectoryError> {
    let uris = settings
        .jwks_uri
        .iter()
        .map(|u| ("jwks_uri", u))
        .chain(
            settings
                .sector_identifier_uri
                .iter()
                .map(|u| ("sector_identifier_uri", u)),
        )
        .chain(settings.request_uris.iter().map(|u| ("request_uris", u)))
        .chain(
            settings
                .backchannel_logout_uri
                .iter()
                .map(|u| ("backchannel_logout_uri", u)),
        );
    for (field, uri) in uris {
        let parsed =
            url::Url::parse(uri).map_err(|_| invalid(field, format!("'{uri}' is not a URL")))?;
        crate::oauth2::remote_jwks::check_uri(&parsed, provider.remote_jwks.allows_loopback_http())
            .map_err(|e| match e {
                crate::oauth2::remote_jwks::JwksFetchError::Refused(why)
                | crate::oauth2::remote_jwks::JwksFetchError::Failed(why) => {
                    invalid(field, format!("is not allowed: {why}"))
                }
            })?;
    }
    Ok(())
}
