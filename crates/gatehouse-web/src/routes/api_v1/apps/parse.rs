//! The create/replace body, Okta's `OpenIdConnectApplication`, as an `OidcAppSpec`.

use gatehouse_core::domain::{
    ApplicationType, ClientMetadata, IssuerMode, RotationType, TokenEndpointAuthMethod,
};
use gatehouse_core::services::apps::OidcAppSpec;

use super::{opt_str, required};
use crate::routes::api_v1::{ApiError, JsonBody};

const CREDS: &str = "credentials.oauthClient";
const SETTINGS: &str = "settings.oauthClient";

fn parse_enum<T>(
    body: &JsonBody,
    path: &str,
    parse: fn(&str) -> Option<T>,
    allowed: &str,
) -> Result<Option<T>, ApiError> {
    let field = path.rsplit('.').next().unwrap_or(path);
    match body.str_opt(path)? {
        None => Ok(None),
        Some(v) => parse(&v)
            .map(Some)
            .ok_or_else(|| ApiError::validation(field, format!("'{v}' is not one of {allowed}"))),
    }
}

/// The create/replace body: Okta's `OpenIdConnectApplication`. Unknown fields are ignored.
pub(super) fn parse_spec(body: &JsonBody, active: bool) -> Result<OidcAppSpec, ApiError> {
    match body.str_opt("name")? {
        None => return Err(required("name")),
        Some(n) if n != "oidc_client" => {
            return Err(ApiError::validation(
                "name",
                format!("only OIDC apps (name 'oidc_client') are supported, not '{n}'"),
            ));
        }
        Some(_) => {}
    }
    if let Some(mode) = body.str_opt("signOnMode")?
        && mode != "OPENID_CONNECT"
    {
        return Err(ApiError::validation(
            "signOnMode",
            format!("only OPENID_CONNECT is supported, not '{mode}'"),
        ));
    }
    let label = body.str_opt("label")?.ok_or_else(|| required("label"))?;
    for path in ["credentials", CREDS, "settings", SETTINGS] {
        body.object(path)?;
    }
    let at = |leaf: &str| format!("{SETTINGS}.{leaf}");
    let cred = |leaf: &str| format!("{CREDS}.{leaf}");
    let application_type = parse_enum(
        body,
        &at("application_type"),
        ApplicationType::parse,
        "web, browser, service, native",
    )?
    .unwrap_or(ApplicationType::Web);
    let mut spec = OidcAppSpec::new(label, application_type);
    spec.active = active;
    spec.token_endpoint_auth_method = parse_enum(
        body,
        &cred("token_endpoint_auth_method"),
        TokenEndpointAuthMethod::parse,
        "none, client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt",
    )?;
    spec.pkce_required = body.bool_opt(&cred("pkce_required"))?;
    body.bool_opt(&cred("autoKeyRotation"))?;
    spec.client_id = opt_str(body, &cred("client_id"))?;
    spec.client_secret = opt_str(body, &cred("client_secret"))?;
    spec.redirect_uris = body.string_list(&at("redirect_uris"))?;
    spec.post_logout_redirect_uris = body.string_list(&at("post_logout_redirect_uris"))?;
    spec.grant_types = body.string_list(&at("grant_types"))?;
    spec.response_types = body.string_list(&at("response_types"))?;
    spec.initiate_login_uri = opt_str(body, &at("initiate_login_uri"))?;
    // private_key_jwt clients bring their public keys (private members are stripped).
    spec.jwks = body.object(&at("jwks"))?.cloned();
    spec.jwks_uri = opt_str(body, &at("jwks_uri"))?;
    spec.backchannel_logout_uri = opt_str(body, &at("backchannel_logout_uri"))?;
    spec.backchannel_logout_session_required = body
        .bool_opt(&at("backchannel_logout_session_required"))?
        .unwrap_or(false);
    body.object(&at("idp_initiated_login"))?;
    spec.login_mode = opt_str(body, &at("idp_initiated_login.mode"))?;
    spec.issuer_mode = parse_enum(
        body,
        &at("issuer_mode"),
        IssuerMode::parse,
        "ORG_URL, CUSTOM_URL, DYNAMIC",
    )?;
    body.object(&at("refresh_token"))?;
    spec.refresh_rotation = parse_enum(
        body,
        &at("refresh_token.rotation_type"),
        RotationType::parse,
        "ROTATE, STATIC",
    )?;
    spec.refresh_leeway = body.i64_opt(&at("refresh_token.leeway"))?;
    spec.consent_method = opt_str(body, &at("consent_method"))?;
    spec.wildcard_redirect = opt_str(body, &at("wildcard_redirect"))?;
    spec.metadata = ClientMetadata {
        client_uri: opt_str(body, &at("client_uri"))?,
        logo_uri: opt_str(body, &at("logo_uri"))?,
        policy_uri: opt_str(body, &at("policy_uri"))?,
        tos_uri: opt_str(body, &at("tos_uri"))?,
        default_scope: body.string_list(&at("idp_initiated_login.default_scope"))?,
    };
    Ok(spec)
}
