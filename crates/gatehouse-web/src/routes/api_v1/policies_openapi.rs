//! The OpenAPI part of `/api/v1/policies` (`policies.rs`): its operations and schemas, merged
//! into the document `openapi.rs` serves.

use serde::Serialize;
use serde_json::Value;
use utoipa::{OpenApi, ToSchema};

use super::policies;

#[derive(OpenApi)]
#[openapi(
    paths(
        policies::list,
        policies::create,
        policies::find,
        policies::replace,
        policies::delete,
        policies::lifecycle,
        policies::list_rules,
        policies::create_rule,
        policies::find_rule,
        policies::replace_rule,
        policies::delete_rule,
        policies::rule_lifecycle,
        policies::policy_apps,
        policies::assign_app,
    ),
    components(schemas(PolicyDoc, PolicyRuleDoc, PolicyAppDoc, PolicyBody, PolicyRuleBody))
)]
pub(crate) struct PoliciesDoc;

/// A sign-on (`OKTA_SIGN_ON`) or app authentication (`ACCESS_POLICY`) policy.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Policy)]
#[allow(dead_code)]
pub(crate) struct PolicyDoc {
    id: String,
    #[schema(pattern = "^(OKTA_SIGN_ON|ACCESS_POLICY)$")]
    r#type: String,
    name: String,
    description: String,
    priority: i64,
    #[schema(pattern = "^(ACTIVE|INACTIVE)$")]
    status: String,
    system: bool,
    /// `{"people": {"groups": {"include": [groupId]}}}`; null for an `ACCESS_POLICY`.
    #[schema(value_type = Option<Object>)]
    conditions: Value,
    created: String,
    last_updated: String,
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    links: Value,
}

/// A policy rule: `SIGN_ON` (`actions.signon`) or `ACCESS_POLICY` (`actions.appSignOn`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = PolicyRule)]
#[allow(dead_code)]
pub(crate) struct PolicyRuleDoc {
    id: String,
    #[schema(pattern = "^(SIGN_ON|ACCESS_POLICY)$")]
    r#type: String,
    name: String,
    priority: i64,
    #[schema(pattern = "^(ACTIVE|INACTIVE)$")]
    status: String,
    system: bool,
    #[schema(value_type = Object)]
    conditions: Value,
    #[schema(value_type = Object)]
    actions: Value,
    created: String,
    last_updated: String,
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    links: Value,
}

/// An app using an access policy.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub(crate) struct PolicyAppDoc {
    id: String,
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    links: Value,
}

/// A policy to create or replace.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub(crate) struct PolicyBody {
    #[schema(example = "OKTA_SIGN_ON")]
    r#type: Option<String>,
    #[schema(min_length = 1, max_length = 255, example = "Admins need MFA")]
    name: String,
    description: Option<String>,
    #[schema(minimum = 1)]
    priority: Option<i64>,
    #[schema(example = json!({"people": {"groups": {"include": []}}}), value_type = Option<Object>)]
    conditions: Value,
}

/// A rule to create or replace.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub(crate) struct PolicyRuleBody {
    #[schema(min_length = 1, max_length = 255, example = "MFA")]
    name: String,
    #[schema(minimum = 1)]
    priority: Option<i64>,
    #[schema(value_type = Option<Object>)]
    conditions: Value,
    #[schema(example = json!({"signon": {"access": "ALLOW", "requireFactor": true, "factorPromptMode": "ALWAYS"}}), value_type = Option<Object>)]
    actions: Value,
}
