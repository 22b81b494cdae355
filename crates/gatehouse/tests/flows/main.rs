//! Flows without HTTP (issue 18 item 4, after oxide-auth's `endpoint/tests` and fosite's
//! `flow_*_test.go`): a `Provider` on a test database, the authorize pipeline
//! (`oauth2::authorize::authorize`, then the sign-in's `complete_login`) and the token endpoint's
//! grant registry (`oauth2::grants::token`) called directly, beside the HTTP tests in
//! `tests/it/`. Every flow runs on SQLite and on PostgreSQL (`both_backends!`).
//!
//! * `authorize`: a table of invalid authorize requests, each with the error it gets and
//!   whether it is shown (error page) or redirected to the client.
//! * `authorization_code`: single use (a replay revokes what the code gave), PKCE, the exact
//!   redirect URI, the client and the server a code is bound to.
//! * `refresh`: static tokens, rotation with its grace period and reuse detection, scopes.
//! * `client_credentials`: scopes on the custom server, and the grants the registry refuses.
//! * `device`: the device authorization grant.

/// One `#[tokio::test]` per backend for each named flow `async fn(Backend) -> Result<()>` of
/// the module it is used in.
macro_rules! both_backends {
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

mod authorization_code;
mod authorize;
mod client_credentials;
mod device;
mod refresh;
mod support;
