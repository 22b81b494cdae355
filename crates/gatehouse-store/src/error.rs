//! Errors: connecting, and mapping `sqlx` errors onto [`StoreError`].

use gatehouse_core::store::StoreError;
use sqlx::error::DatabaseError;

/// Why [`crate::connect`] (or [`crate::test_support::TestDatabase::new`]) failed. The
/// underlying `sqlx` error is the [`std::error::Error::source`], not part of the message, so
/// error chains (`anyhow`'s `{:#}`) print it once.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("unsupported database URL scheme {0:?}: expected sqlite:, postgres: or postgresql:")]
    UnsupportedScheme(String),
    #[error("invalid {backend} database URL")]
    InvalidUrl {
        backend: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot connect to the {backend} database")]
    Connect {
        backend: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Only from [`crate::test_support`]: the scratch database could not be created.
    #[error("cannot create the test database: {0}")]
    TestSetup(String),
}

/// Unique keys of the schema: PostgreSQL constraint/index name, SQLite's `table.column` as it
/// appears in "UNIQUE constraint failed: …", and the field reported in `StoreError::Conflict`.
/// The names are fixed by the migrations (PostgreSQL's default names for primary keys, and
/// explicitly named unique indexes).
const UNIQUE_KEYS: &[(&str, &str, &str)] = &[
    ("users_pkey", "users.id", "id"),
    ("users_login_lower_key", "users.login_lower", "login"),
    ("groups_pkey", "groups.id", "id"),
    ("groups_name_key", "groups.name", "name"),
    ("apps_pkey", "apps.id", "id"),
    ("apps_client_id_key", "apps.client_id", "client_id"),
    ("auth_servers_pkey", "auth_servers.id", "id"),
    ("signing_keys_kid_key", "signing_keys.kid", "kid"),
    ("sessions_pkey", "sessions.id_hash", "id_hash"),
    ("login_transactions_pkey", "login_transactions.id", "id"),
    ("auth_codes_pkey", "auth_codes.code_hash", "code_hash"),
    ("grants_pkey", "grants.id", "id"),
    (
        "refresh_tokens_pkey",
        "refresh_tokens.token_hash",
        "token_hash",
    ),
    ("access_tokens_pkey", "access_tokens.jti", "jti"),
    ("meta_pkey", "meta.name", "name"),
    ("api_tokens_pkey", "api_tokens.id", "id"),
    ("app_grants_pkey", "app_grants.id", "id"),
    ("consent_grants_pkey", "consent_grants.id", "id"),
    (
        "app_grants_app_scope_key",
        "app_grants.app_id, app_grants.scope_id",
        "scope_id",
    ),
    (
        "client_assertion_jtis_pkey",
        "client_assertion_jtis.client_id, client_assertion_jtis.jti",
        "jti",
    ),
    (
        "api_tokens_token_hash_key",
        "api_tokens.token_hash",
        "token_hash",
    ),
    ("trusted_origins_pkey", "trusted_origins.id", "id"),
    ("idps_pkey", "idps.id", "id"),
    ("idps_name_key", "idps.name", "name"),
    ("auth_server_objects_pkey", "auth_server_objects.id", "id"),
    (
        "auth_server_objects_unique_key",
        "auth_server_objects.auth_server_id, auth_server_objects.kind, auth_server_objects.unique_key",
        "name",
    ),
    (
        "sign_on_policies_type_name_key",
        "sign_on_policies.policy_type, sign_on_policies.name",
        "name",
    ),
    (
        "sign_on_policy_rules_name_key",
        "sign_on_policy_rules.policy_id, sign_on_policy_rules.name",
        "name",
    ),
    (
        "password_policies_name_key",
        "password_policies.name",
        "name",
    ),
    (
        "trusted_origins_origin_key",
        "trusted_origins.origin",
        "origin",
    ),
];

const SQLITE_UNIQUE_PREFIX: &str = "UNIQUE constraint failed: ";

/// The field name to report for a unique violation.
fn conflict_field(err: &dyn DatabaseError) -> String {
    if let Some(name) = err.constraint() {
        // PostgreSQL reports the constraint (or unique index) name.
        if let Some((_, _, field)) = UNIQUE_KEYS.iter().find(|(pg, _, _)| *pg == name) {
            return (*field).to_owned();
        }
        return name.to_owned();
    }
    // SQLite: "UNIQUE constraint failed: users.login_lower" (never translated).
    let message = err.message();
    let columns = message
        .strip_prefix(SQLITE_UNIQUE_PREFIX)
        .unwrap_or(message)
        .trim();
    if let Some((_, _, field)) = UNIQUE_KEYS.iter().find(|(_, lite, _)| *lite == columns) {
        return (*field).to_owned();
    }
    // An unknown key: report its column(s) without the table name.
    columns
        .split(", ")
        .map(|c| c.rsplit_once('.').map_or(c, |(_, col)| col))
        .collect::<Vec<_>>()
        .join(",")
}

/// Maps a query error: unique violations become `Conflict`, foreign-key violations (a
/// membership or assignment naming a user, group or app that does not exist) `NotFound`, the
/// database being out of reach `Unavailable` (see [`is_unavailable`]), and everything else
/// `Backend`.
pub(crate) fn db_err(err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::Database(e) if e.is_unique_violation() => StoreError::Conflict {
            constraint: conflict_field(e.as_ref()),
        },
        sqlx::Error::Database(e) if e.is_foreign_key_violation() => StoreError::NotFound,
        other if is_unavailable(&other) => StoreError::unavailable(other),
        other => StoreError::Backend(Box::new(other)),
    }
}

/// Errors that say the database cannot be reached now, not that the request is wrong: no
/// connection within the acquire timeout, a refused or dropped connection, PostgreSQL shutting
/// down or starting up (SQLSTATE classes 08 and 57P), SQLite's lock still held after the busy
/// timeout.
fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Database(e) => e.code().is_some_and(|code| {
            code.starts_with("08")
                || code.starts_with("57P")
                // SQLITE_BUSY and its extended codes.
                || code == "5"
                || code.parse::<u32>().is_ok_and(|c| c & 0xff == 5)
        }),
        _ => false,
    }
}

/// A stored value that cannot be decoded (bad enum spelling, bad JSON).
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("corrupt stored {what}: {detail}").into())
}
