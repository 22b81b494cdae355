//! A custom server's claims: Okta's rules for their names, values and scopes.

use crate::authz::claims::{RESERVED_CLAIMS, parse_expression, validate_group_filter};
use crate::authz::model::*;
use crate::crypto::okta_id;
use crate::domain::AppStatus;
use crate::provider::Provider;
use crate::services::auth_server_error::AuthServerError;

use super::items::{find, insert, invalid, list, update};

#[derive(Debug, Clone)]
pub struct ClaimSpec {
    pub name: String,
    pub status: AppStatus,
    pub claim_type: ClaimType,
    pub value_type: ClaimValueType,
    pub value: String,
    pub group_filter_type: Option<GroupFilterType>,
    pub always_include_in_token: bool,
    pub scopes: Vec<String>,
}

async fn check_claim(
    provider: &Provider,
    server_id: &str,
    spec: &mut ClaimSpec,
) -> Result<(), AuthServerError> {
    if spec.name.trim().is_empty() {
        return Err(invalid("name", "The claim name must not be empty."));
    }
    if RESERVED_CLAIMS.contains(&spec.name.as_str()) {
        return Err(invalid(
            "name",
            format!("'{}' is a reserved claim name.", spec.name),
        ));
    }
    match spec.value_type {
        ClaimValueType::Expression => {
            parse_expression(&spec.value).map_err(|e| invalid("value", e))?;
            spec.group_filter_type = None;
        }
        ClaimValueType::Groups => {
            let kind = spec.group_filter_type.ok_or_else(|| {
                invalid(
                    "group_filter_type",
                    "A GROUPS claim needs a group_filter_type: STARTS_WITH, EQUALS, CONTAINS or REGEX.",
                )
            })?;
            validate_group_filter(kind, &spec.value).map_err(|e| invalid("value", e))?;
        }
    }
    // Access-token claims always go into their token (Okta stores them so).
    if spec.claim_type == ClaimType::Resource {
        spec.always_include_in_token = true;
    }
    let known: Vec<OAuthScope> = list(provider, server_id).await?;
    if let Some(unknown) = spec
        .scopes
        .iter()
        .find(|s| !known.iter().any(|k| &k.name == *s))
    {
        return Err(invalid(
            "conditions.scopes",
            format!("The scope '{unknown}' does not exist on this authorization server."),
        ));
    }
    Ok(())
}

pub async fn create_claim(
    provider: &Provider,
    server_id: &str,
    mut spec: ClaimSpec,
) -> Result<OAuthClaim, AuthServerError> {
    check_claim(provider, server_id, &mut spec).await?;
    let now = provider.now();
    let item = OAuthClaim {
        id: okta_id("ocl"),
        name: spec.name,
        status: spec.status,
        claim_type: spec.claim_type,
        value_type: spec.value_type,
        value: spec.value,
        group_filter_type: spec.group_filter_type,
        always_include_in_token: spec.always_include_in_token,
        scopes: spec.scopes,
        system: false,
        created: now,
        last_updated: now,
    };
    insert(provider, server_id, &item).await?;
    Ok(item)
}

pub async fn replace_claim(
    provider: &Provider,
    server_id: &str,
    id: &str,
    mut spec: ClaimSpec,
) -> Result<OAuthClaim, AuthServerError> {
    let mut item: OAuthClaim = find(provider, server_id, id).await?;
    check_claim(provider, server_id, &mut spec).await?;
    item.name = spec.name;
    item.status = spec.status;
    item.claim_type = spec.claim_type;
    item.value_type = spec.value_type;
    item.value = spec.value;
    item.group_filter_type = spec.group_filter_type;
    item.always_include_in_token = spec.always_include_in_token;
    item.scopes = spec.scopes;
    item.last_updated = provider.now();
    update(provider, server_id, &item).await?;
    Ok(item)
}
