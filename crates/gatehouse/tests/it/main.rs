//! Gatehouse end to end: the real application on `127.0.0.1:<port 0>`, driven over HTTP by a
//! browser-like client and by the `openidconnect` crate as an independent relying party.
//!
//! Every test runs once per storage backend: `module::test_name::sqlite` and
//! `module::test_name::postgres`, each on a fresh database.

/// For each `async fn name(backend: Backend) -> anyhow::Result<()>` listed, generates the test
/// functions `name::sqlite` and `name::postgres`.
macro_rules! backend_tests {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                use gatehouse_store::test_support::Backend;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() -> anyhow::Result<()> {
                    super::$name(Backend::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() -> anyhow::Result<()> {
                    super::$name(Backend::Postgres).await
                }
            }
        )+
    };
}

mod api_apps;
mod api_policies;
mod api_rate_limit;
mod api_sessions;
mod api_tokens;
mod app_gaps;
mod audit_accounts;
mod audit_low;
mod audit_scopes;
mod authn;
mod authn_mfa;
mod authn_webauthn;
mod authz_servers;
mod backup_restore;
mod claims;
mod client_jwks_uri;
mod client_keys;
mod client_registration;
mod client_secrets;
mod consent;
mod console;
mod console_authz;
mod console_import;
mod console_links;
mod console_policies;
mod console_response_iss;
mod device_grant;
mod discovery;
mod doctor;
mod entra;
mod forward_auth;
mod helpers;
mod http_stack;
mod hygiene;
mod idp_client_auth;
mod idp_console;
mod idp_keys;
mod idp_signin;
mod idp_upstream;
mod implicit_hybrid;
mod issuer_modes;
mod ldap;
mod list_bytes;
mod lockout;
mod logout;
mod mfa_console;
mod mfa_totp;
mod mfa_totp_budget;
mod multi_node;
mod negative;
mod nodes;
mod observability;
mod openidconnect_rp;
mod passwords;
mod passwords_expired;
mod refresh;
mod reliability;
mod reports;
mod request_objects;
mod revocation;
mod rough_edges;
mod service_apps;
mod session_clear;
mod sign_on_enforce;
mod signing_algs;
mod spa;
mod sso;
mod system_log;
mod tls;
mod user_links;
mod userinfo;
mod users_quick_search;
mod webauthn;
mod webauthn_sign_in;
mod webauthn_soft;
