//! Okta's rules for an OIDC app's client settings (`settings.oauthClient`), with the defaults
//! for each application type filled in; shared by `/api/v1/apps`, dynamic client registration
//! and the CLI.

use crate::authz::claims::{RESERVED_CLAIMS, group_names, validate_group_filter};
use crate::domain::*;
use crate::oauth2::client_assertion::sanitize_jwks;
use crate::oauth2::grants::{DEVICE_CODE, GrantType};
use crate::services::directory_rules::{
    DirectoryError, check_uri_chars, invalid, validate_redirect_uri,
};

use super::OidcAppSpec;
use super::fetched_uris::{MAX_REQUEST_URIS, validate_fetched_uri};

const RESPONSE_TYPES: [&str; 3] = ["code", "token", "id_token"];
const LOGIN_MODES: [&str; 3] = ["DISABLED", "SPEC", "OKTA"];

fn dedup(items: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in items {
        if !out.contains(i) {
            out.push(i.clone());
        }
    }
    out
}

fn validate_web_uri(field: &'static str, uri: &str) -> Result<(), DirectoryError> {
    check_uri_chars(field, uri)?;
    let ok = url::Url::parse(uri)
        .ok()
        .is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
    if ok {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("'{uri}' is not an absolute http(s) URL"),
        ))
    }
}

/// The auth method after defaults, checked against the application type.
fn auth_method(spec: &OidcAppSpec) -> Result<TokenEndpointAuthMethod, DirectoryError> {
    use ApplicationType as T;
    use TokenEndpointAuthMethod as M;
    let kind = spec.application_type;
    let method = spec.token_endpoint_auth_method.unwrap_or(match kind {
        T::Browser | T::Native => M::None,
        T::Web | T::Service => M::ClientSecretBasic,
    });
    const FIELD: &str = "token_endpoint_auth_method";
    match (kind, method) {
        (T::Browser, m) if m != M::None => Err(invalid(
            FIELD,
            "single-page (browser) apps are public clients and must use 'none'",
        )),
        (T::Web | T::Service, M::None) => Err(invalid(
            FIELD,
            format!("{kind} apps are confidential clients and cannot use 'none'"),
        )),
        // private_key_jwt has no secret; `build_settings` requires its `jwks`.
        (_, m) => Ok(m),
    }
}

fn grant_types(spec: &OidcAppSpec) -> Result<Vec<String>, DirectoryError> {
    use ApplicationType as T;
    const FIELD: &str = "grant_types";
    let kind = spec.application_type;
    let grants = if spec.grant_types.is_empty() {
        vec![match kind {
            T::Service => "client_credentials".to_owned(),
            _ => "authorization_code".to_owned(),
        }]
    } else {
        dedup(&spec.grant_types)
    };
    // Only grant types the engine implements parse; Okta's others are refused by name.
    for g in &grants {
        GrantType::parse(g).map_err(|e| invalid(FIELD, e.to_string()))?;
    }
    let has = |g: &str| grants.iter().any(|x| x == g);
    match kind {
        T::Service if grants != ["client_credentials"] => {
            return Err(invalid(
                FIELD,
                "service apps can only use the client_credentials grant",
            ));
        }
        T::Browser | T::Native if has("client_credentials") => {
            return Err(invalid(
                FIELD,
                format!("{kind} apps are public clients and cannot use client_credentials"),
            ));
        }
        T::Web if !has("authorization_code") => {
            return Err(invalid(
                FIELD,
                "web apps must use the authorization_code grant",
            ));
        }
        // RFC 8628 is for devices: native apps (where it may be the only grant) and web apps.
        T::Browser if has(DEVICE_CODE) => {
            return Err(invalid(
                FIELD,
                format!("{kind} apps cannot use the device authorization grant"),
            ));
        }
        T::Native if has(DEVICE_CODE) => {}
        T::Browser | T::Native if !has("authorization_code") && !has("implicit") => {
            return Err(invalid(
                FIELD,
                format!("{kind} apps need the authorization_code or implicit grant"),
            ));
        }
        _ => {}
    }
    if has("refresh_token") && !has("authorization_code") && !has(DEVICE_CODE) {
        return Err(invalid(
            FIELD,
            "refresh_token needs the authorization_code grant",
        ));
    }
    Ok(grants)
}

fn response_types(spec: &OidcAppSpec, grants: &[String]) -> Result<Vec<String>, DirectoryError> {
    const FIELD: &str = "response_types";
    let has_grant = |g: &str| grants.iter().any(|x| x == g);
    if spec.response_types.is_empty() {
        let mut out = Vec::new();
        if has_grant("authorization_code") {
            out.push("code".to_owned());
        }
        if has_grant("implicit") {
            out.extend(["token".to_owned(), "id_token".to_owned()]);
        }
        return Ok(out);
    }
    let types = dedup(&spec.response_types);
    for t in &types {
        if !RESPONSE_TYPES.contains(&t.as_str()) {
            return Err(invalid(
                FIELD,
                format!("'{t}' is not a valid response type"),
            ));
        }
    }
    let has = |t: &str| types.iter().any(|x| x == t);
    if has("code") != has_grant("authorization_code") {
        return Err(invalid(
            FIELD,
            "'code' goes with, and only with, the authorization_code grant",
        ));
    }
    // Okta's registration examples for service apps pair `client_credentials` with
    // `response_types: ["token"]` (the token endpoint's response), so that is accepted too.
    let token_only_service = has_grant("client_credentials")
        && !has_grant("implicit")
        && has("token")
        && !has("id_token");
    if (has("token") || has("id_token")) != has_grant("implicit") && !token_only_service {
        return Err(invalid(
            FIELD,
            "'token' and 'id_token' go with, and only with, the implicit grant",
        ));
    }
    Ok(types)
}

/// Okta's rules for an OIDC app's client settings, with its defaults filled in.
pub fn build_settings(spec: &OidcAppSpec) -> Result<OAuthClientSettings, DirectoryError> {
    use ApplicationType as T;
    let kind = spec.application_type;
    let method = auth_method(spec)?;
    let grants = grant_types(spec)?;
    let response_types = response_types(spec, &grants)?;
    let redirect_uris = dedup(&spec.redirect_uris);
    let post_logout = dedup(&spec.post_logout_redirect_uris);
    for uri in &redirect_uris {
        validate_redirect_uri("redirect_uris", uri)?;
    }
    for uri in &post_logout {
        validate_redirect_uri("post_logout_redirect_uris", uri)?;
    }
    if let Some(uri) = &spec.initiate_login_uri {
        validate_web_uri("initiate_login_uri", uri)?;
    }
    let m = &spec.metadata;
    for (field, uri) in [
        ("client_uri", &m.client_uri),
        ("logo_uri", &m.logo_uri),
        ("policy_uri", &m.policy_uri),
        ("tos_uri", &m.tos_uri),
    ] {
        if let Some(uri) = uri {
            validate_web_uri(field, uri)?;
        }
    }
    if kind == T::Service {
        for (field, empty) in [
            ("redirect_uris", redirect_uris.is_empty()),
            ("post_logout_redirect_uris", post_logout.is_empty()),
            ("initiate_login_uri", spec.initiate_login_uri.is_none()),
        ] {
            if !empty {
                return Err(invalid(field, "service apps have no browser redirects"));
            }
        }
    }
    let redirecting = grants
        .iter()
        .any(|g| g == "authorization_code" || g == "implicit");
    if redirecting && redirect_uris.is_empty() {
        return Err(invalid(
            "redirect_uris",
            "at least one sign-in redirect URI is required for the authorization_code and implicit grants",
        ));
    }
    let pkce_required = match (method, spec.pkce_required) {
        (TokenEndpointAuthMethod::None, Some(false)) => {
            return Err(invalid(
                "pkce_required",
                "public clients (token_endpoint_auth_method 'none') must require PKCE",
            ));
        }
        (TokenEndpointAuthMethod::None, _) => true,
        (_, p) => p.unwrap_or(false),
    };
    let login_mode = match &spec.login_mode {
        Some(mode) if !LOGIN_MODES.contains(&mode.as_str()) => {
            return Err(invalid(
                "mode",
                format!("'{mode}' is not one of DISABLED, SPEC, OKTA"),
            ));
        }
        Some(mode) => mode.clone(),
        None if spec.initiate_login_uri.is_some() => "SPEC".to_owned(),
        None => "DISABLED".to_owned(),
    };
    if login_mode == "SPEC" && spec.initiate_login_uri.is_none() {
        return Err(invalid(
            "initiate_login_uri",
            "required when idp_initiated_login.mode is SPEC",
        ));
    }
    let consent_method = match spec.consent_method.as_deref() {
        None => ConsentMethod::Trusted,
        Some(raw) => ConsentMethod::parse(raw).ok_or_else(|| {
            invalid(
                "consent_method",
                format!("'{raw}' is not one of REQUIRED, TRUSTED"),
            )
        })?,
    };
    match spec.wildcard_redirect.as_deref() {
        None | Some("DISABLED") => {}
        Some("SUBDOMAIN") => {
            return Err(invalid(
                "wildcard_redirect",
                "SUBDOMAIN is not supported: redirect URIs match exactly",
            ));
        }
        Some(other) => {
            return Err(invalid(
                "wildcard_redirect",
                format!("'{other}' is not one of DISABLED, SUBDOMAIN"),
            ));
        }
    }
    let jwks = spec
        .jwks
        .as_ref()
        .map(sanitize_jwks)
        .transpose()
        .map_err(|e| invalid("jwks", e.to_string()))?;
    if let Some(uri) = &spec.jwks_uri {
        validate_fetched_uri("jwks_uri", uri, false)?;
    }
    if let Some(uri) = &spec.sector_identifier_uri {
        validate_fetched_uri("sector_identifier_uri", uri, false)?;
    }
    if let Some(uri) = &spec.backchannel_logout_uri {
        // Back-Channel Logout §2.2: absolute, may have a query, no fragment.
        validate_fetched_uri("backchannel_logout_uri", uri, false)?;
    }
    let request_uris = dedup(&spec.request_uris);
    if request_uris.len() > MAX_REQUEST_URIS {
        return Err(invalid(
            "request_uris",
            format!("at most {MAX_REQUEST_URIS} may be registered"),
        ));
    }
    for uri in &request_uris {
        // A fragment may carry a hash of the contents (OIDC Registration §2); it is not sent.
        validate_fetched_uri("request_uris", uri, true)?;
    }
    if let Some(alg) = &spec.request_object_signing_alg
        && !crate::oauth2::request_object::ALG_NAMES.contains(&alg.as_str())
    {
        return Err(invalid(
            "request_object_signing_alg",
            format!(
                "'{alg}' is not one of {}",
                crate::oauth2::request_object::ALG_NAMES.join(", ")
            ),
        ));
    }
    if method == TokenEndpointAuthMethod::PrivateKeyJwt && jwks.is_none() && spec.jwks_uri.is_none()
    {
        return Err(invalid(
            "jwks",
            "private_key_jwt needs the client's public keys: inline in 'jwks', or published at 'jwks_uri'",
        ));
    }
    let refresh_token = refresh_policy(spec)?;
    let groups_claim = spec.groups_claim.clone().flatten();
    if let Some(claim) = &groups_claim {
        validate_groups_claim(claim)?;
    }
    Ok(OAuthClientSettings {
        application_type: kind,
        token_endpoint_auth_method: method,
        redirect_uris,
        post_logout_redirect_uris: post_logout,
        grant_types: grants,
        response_types,
        initiate_login_uri: spec.initiate_login_uri.clone(),
        metadata: ClientMetadata {
            default_scope: dedup(&m.default_scope),
            ..m.clone()
        },
        login_mode,
        pkce_required,
        issuer_mode: spec.issuer_mode.unwrap_or(IssuerMode::Dynamic),
        jwks,
        jwks_uri: spec.jwks_uri.clone(),
        refresh_token: Some(refresh_token),
        groups_claim,
        request_uris,
        request_object_signing_alg: spec.request_object_signing_alg.clone(),
        sector_identifier_uri: spec.sector_identifier_uri.clone(),
        consent_method,
        backchannel_logout_uri: spec.backchannel_logout_uri.clone(),
        backchannel_logout_session_required: spec.backchannel_logout_session_required,
    })
}

/// A groups claim needs a name that is no registered claim, and a filter that can run.
fn validate_groups_claim(claim: &GroupsClaim) -> Result<(), DirectoryError> {
    let name = claim.name.as_str();
    if name.is_empty() || name.len() > 100 || name.trim() != name {
        return Err(invalid(
            "groups_claim_name",
            "the claim name must be 1 to 100 characters, without surrounding spaces",
        ));
    }
    if RESERVED_CLAIMS.contains(&name) {
        return Err(invalid(
            "groups_claim_name",
            format!("'{name}' is a reserved claim"),
        ));
    }
    validate_group_filter(claim.filter_type, &claim.value)
        .map_err(|e| invalid("groups_claim_value", e))
}

/// The app's groups claim for this user: the names of their groups that pass the filter.
pub fn groups_claim_value(claim: &GroupsClaim, groups: &[Group]) -> Vec<String> {
    group_names(claim.filter_type, &claim.value, groups)
}

/// `refresh_token.{rotation_type,leeway}` with Okta's defaults and bounds.
fn refresh_policy(spec: &OidcAppSpec) -> Result<RefreshTokenPolicy, DirectoryError> {
    let default = RefreshTokenPolicy::default_for(spec.application_type);
    let leeway = spec.refresh_leeway.unwrap_or(default.leeway);
    if !RefreshTokenPolicy::LEEWAY.contains(&leeway) {
        return Err(invalid("leeway", "must be between 0 and 60 seconds"));
    }
    Ok(RefreshTokenPolicy {
        rotation_type: spec.refresh_rotation.unwrap_or(default.rotation_type),
        leeway,
    })
}
