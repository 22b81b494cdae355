//! OIDC app integrations, one job per file: the app's spec and label (`spec`), Okta's rules for
//! its client settings (`settings`) and for the URIs the server fetches (`fetched_uris`),
//! creation (`create`), replacement, activation and deletion (`lifecycle`), listing
//! (`listing`), group and user assignments (`group_assignments`, `user_assignments`), and
//! client secrets (`secrets`). Callers use the names re-exported here.

mod create;
mod fetched_uris;
mod group_assignments;
mod lifecycle;
mod listing;
mod secrets;
mod settings;
mod spec;
mod user_assignments;

#[cfg(test)]
mod tests;

pub use create::{CreatedApp, NewOidcApp, create, create_oidc_app};
pub(crate) use fetched_uris::check_fetched_uri_policy;
pub use group_assignments::{
    assign_group, assign_group_to_app, group_assignment, list_group_assignments, unassign_group,
};
pub use lifecycle::{delete, replace, set_status};
pub use listing::{list, parse_app_filter, user_apps};
pub use secrets::{
    ClientSecretView, add_client_secret, current_client_secret, delete_client_secret,
    find_client_secret, list_client_secrets, new_client_secret, reveal_secret,
    set_client_secret_status,
};
pub use settings::{build_settings, groups_claim_value};
pub use spec::{OidcAppSpec, keep_registration_only_settings};
pub use user_assignments::{
    AssignmentScope, assign_user, assign_user_to_app, list_users, unassign_user, user_assignment,
};
