//! Use cases shared by the CLI, the `/api/v1` API and the console: each caller is a thin
//! adapter over these.

pub mod admin_roles;
pub mod api_tokens;
pub mod app_grants;
pub mod apps;
pub mod auth_server_config;
pub mod auth_server_error;
pub mod auth_servers;
pub mod authn;
pub mod bootstrap;
pub mod changes;
pub mod clients;
pub mod device_activation;
pub mod directory;
pub mod directory_rules;
pub mod filter;
pub mod forward_auth;
pub mod groups;
pub mod import_users;
pub mod ldap;
pub mod lockout;
pub mod lockout_policy;
pub mod mfa;
pub mod org_import;
pub mod password_migration;
pub mod password_source;
pub mod rate_limit;
pub mod sessions;
pub mod sign_in;
pub mod sign_on_policy;
pub mod system_log;
pub mod token_preview;
pub mod trusted_origins;
pub mod user_grants;
pub mod users;
