//! Okta's JSON bodies parsed into the services' specs.

use gatehouse_core::domain::{
    AppStatus, ClaimType, ClaimValueType, GroupFilterType, IssuerMode, MetadataPublish, PolicyRule,
    ScopeConsent,
};
use gatehouse_core::services::auth_server_config::{ClaimSpec, PolicySpec, RuleSpec, ScopeSpec};
use gatehouse_core::services::auth_servers::AuthServerSpec;

use super::super::{ApiError, JsonBody};

pub(super) fn required(body: &JsonBody, path: &str) -> Result<String, ApiError> {
    body.str_opt(path)?
        .ok_or_else(|| ApiError::validation(path, "this field is required"))
}

pub(super) fn wire<T>(
    body: &JsonBody,
    path: &str,
    parse: fn(&str) -> Option<T>,
    names: &[&str],
    default: T,
) -> Result<T, ApiError> {
    match body.str_opt(path)? {
        None => Ok(default),
        Some(raw) => parse(&raw).ok_or_else(|| {
            ApiError::validation(path, format!("must be one of {}", names.join(", ")))
        }),
    }
}

pub(super) fn status(body: &JsonBody) -> Result<AppStatus, ApiError> {
    wire(
        body,
        "status",
        AppStatus::parse,
        &["ACTIVE", "INACTIVE"],
        AppStatus::Active,
    )
}

pub(super) fn server_spec(body: &JsonBody) -> Result<AuthServerSpec, ApiError> {
    Ok(AuthServerSpec {
        name: required(body, "name")?,
        description: body.str_opt("description")?.unwrap_or_default(),
        audiences: body.string_list("audiences")?,
        issuer_mode: wire(
            body,
            "issuerMode",
            IssuerMode::parse,
            &["ORG_URL", "DYNAMIC", "CUSTOM_URL"],
            IssuerMode::Dynamic,
        )?,
        // A Gatehouse extension (Okta has no such setting): RFC 9207 `iss` on every
        // authorization response, errors included.
        authorization_response_iss: body.bool_opt("authorizationResponseIss")?,
    })
}

pub(super) fn scope_spec(body: &JsonBody) -> Result<ScopeSpec, ApiError> {
    Ok(ScopeSpec {
        name: required(body, "name")?,
        display_name: body.str_opt("displayName")?,
        description: body.str_opt("description")?,
        consent: wire(
            body,
            "consent",
            ScopeConsent::parse,
            ScopeConsent::names(),
            ScopeConsent::Implicit,
        )?,
        default: body.bool_opt("default")?.unwrap_or(false),
        metadata_publish: wire(
            body,
            "metadataPublish",
            MetadataPublish::parse,
            MetadataPublish::names(),
            MetadataPublish::NoClients,
        )?,
        optional: body.bool_opt("optional")?.unwrap_or(false),
    })
}

pub(super) fn claim_spec(body: &JsonBody) -> Result<ClaimSpec, ApiError> {
    let claim_type = ClaimType::parse(&required(body, "claimType")?)
        .ok_or_else(|| ApiError::validation("claimType", "must be one of RESOURCE, IDENTITY"))?;
    let group_filter_type = match body.str_opt("group_filter_type")? {
        None => None,
        Some(raw) => Some(GroupFilterType::parse(&raw).ok_or_else(|| {
            ApiError::validation(
                "group_filter_type",
                format!("must be one of {}", GroupFilterType::names().join(", ")),
            )
        })?),
    };
    Ok(ClaimSpec {
        name: required(body, "name")?,
        status: status(body)?,
        claim_type,
        value_type: wire(
            body,
            "valueType",
            ClaimValueType::parse,
            ClaimValueType::names(),
            ClaimValueType::Expression,
        )?,
        value: required(body, "value")?,
        group_filter_type,
        always_include_in_token: body.bool_opt("alwaysIncludeInToken")?.unwrap_or(false),
        scopes: body.string_list("conditions.scopes")?,
    })
}

pub(super) fn policy_spec(body: &JsonBody) -> Result<PolicySpec, ApiError> {
    if let Some(kind) = body.str_opt("type")?
        && kind != "OAUTH_AUTHORIZATION_POLICY"
    {
        return Err(ApiError::validation(
            "type",
            "must be OAUTH_AUTHORIZATION_POLICY",
        ));
    }
    Ok(PolicySpec {
        name: required(body, "name")?,
        description: required(body, "description")?,
        priority: body.i64_opt("priority")?,
        status: status(body)?,
        clients: body.string_list("conditions.clients.include")?,
    })
}

pub(super) fn rule_spec(body: &JsonBody) -> Result<RuleSpec, ApiError> {
    if let Some(kind) = body.str_opt("type")?
        && kind != "RESOURCE_ACCESS"
    {
        return Err(ApiError::validation("type", "must be RESOURCE_ACCESS"));
    }
    let mut groups_include = body.string_list("conditions.people.groups.include")?;
    let users_include = body.string_list("conditions.people.users.include")?;
    if body.object("conditions.people")?.is_none() {
        // No people condition: everyone, as Okta's console fills in.
        groups_include = vec![gatehouse_core::domain::EVERYONE_GROUP.into()];
    }
    let token = "actions.token";
    let minutes = |field: &str, default: i64| -> Result<i64, ApiError> {
        Ok(body
            .i64_opt(&format!("{token}.{field}"))?
            .unwrap_or(default))
    };
    let scopes = match body.object("conditions.scopes")? {
        None => vec![gatehouse_core::domain::ANY_SCOPE.into()],
        Some(_) => body.string_list("conditions.scopes.include")?,
    };
    Ok(RuleSpec {
        name: required(body, "name")?,
        priority: body.i64_opt("priority")?,
        status: status(body)?,
        grant_types: body.string_list("conditions.grantTypes.include")?,
        scopes,
        users_include,
        users_exclude: body.string_list("conditions.people.users.exclude")?,
        groups_include,
        groups_exclude: body.string_list("conditions.people.groups.exclude")?,
        access_token_lifetime_minutes: minutes(
            "accessTokenLifetimeMinutes",
            PolicyRule::DEFAULT_ACCESS_TOKEN_LIFETIME,
        )?,
        refresh_token_lifetime_minutes: minutes(
            "refreshTokenLifetimeMinutes",
            PolicyRule::DEFAULT_REFRESH_TOKEN_LIFETIME,
        )?,
        refresh_token_window_minutes: minutes(
            "refreshTokenWindowMinutes",
            PolicyRule::DEFAULT_REFRESH_TOKEN_WINDOW,
        )?,
    })
}
