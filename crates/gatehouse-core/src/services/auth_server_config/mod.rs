//! Custom authorization servers' scopes, claims, access policies and rules: Okta's rules for
//! creating and changing them, shared by `/api/v1/authorizationServers/...` and the console.
//! One file per kind of item, and `items` for what they share; callers use the names
//! re-exported here.

mod claims;
mod items;
mod policies;
mod rules;
mod scopes;

pub use claims::{ClaimSpec, create_claim, replace_claim};
pub use items::{delete, find, list};
pub use policies::{PolicySpec, create_policy, replace_policy, set_policy_status};
pub use rules::{
    RuleSpec, create_rule, delete_rule, find_rule, list_rules, replace_rule, rule_grant_types,
    set_rule_status,
};
pub use scopes::{ScopeSpec, create_scope, replace_scope, seed_default_server, seed_system_scopes};
