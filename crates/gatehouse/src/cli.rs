use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Gatehouse: a self-hosted, Okta-compatible OpenID Connect provider.
#[derive(Debug, Parser)]
#[command(name = "gatehouse", version, about)]
pub struct Cli {
    /// TOML configuration file (see gatehouse.example.toml).
    #[arg(long, global = true, env = "GATEHOUSE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Directory for the SQLite database and the generated encryption key [default: ./data].
    #[arg(long, global = true, env = "GATEHOUSE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite://… or postgres://… [default: SQLite in the data directory].
    #[arg(long, global = true, env = "GATEHOUSE_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Log level filter, e.g. `info` or `debug` (RUST_LOG wins if set).
    #[arg(long, global = true, env = "GATEHOUSE_LOG")]
    pub log: Option<String>,
    /// Log format: `text`, or `json` (one object a line, with the request id).
    #[arg(
        long,
        global = true,
        env = "GATEHOUSE_LOG_FORMAT",
        value_enum,
        default_value_t
    )]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default command).
    Serve(ServeArgs),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage groups.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Manage app integrations.
    #[command(subcommand)]
    App(AppCommand),
    /// Manage management API tokens (`Authorization: SSWS <token>` on /api/v1).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Make a local development CA (kept in the data directory, reused) and a certificate for
    /// localhost signed by it, and print how to serve https with it and trust it.
    DevCert(DevCertArgs),
    /// Manage authorization servers (`org`, `default`, …): signing algorithm and keys.
    #[command(subcommand)]
    AuthServer(AuthServerCommand),
    /// Upstream OpenID Connect identity providers (Google, Microsoft Entra ID, any OIDC
    /// provider): people sign in there and come back signed in.
    #[command(subcommand)]
    Idp(crate::commands::idp::IdpCommand),
    /// LDAP / Active Directory: the full import, a settings check (`[ldap]` in the config).
    #[command(subcommand)]
    Ldap(crate::commands::ldap::LdapCommand),
    /// Show the System Log (sign-ins, lockouts, token grants, admin changes).
    Logs(crate::logs_cmd::LogsArgs),
    /// Manage sign-on policies: who must use a second factor, for which apps.
    #[command(subcommand)]
    Policy(crate::commands::policy::PolicyCommand),
    /// Back up the database and the encryption key into one file (SQLite), or print how to
    /// with pg_dump (PostgreSQL).
    Backup(crate::backup::BackupArgs),
    /// Restore a `gatehouse backup` file into the data directory (SQLite).
    Restore(crate::backup::RestoreArgs),
    /// Explain what would break an app's sign-ins (redirect URIs, public URL, assignments,
    /// scopes and claims, CORS) and print the relying parties' configuration lines.
    Doctor(crate::commands::doctor::DoctorArgs),
    /// Import another org: `gatehouse import okta --org-url URL --token TOKEN [--dry-run]`.
    #[command(subcommand)]
    Import(crate::import::ImportCommand),
    /// Outgoing mail: `gatehouse email test --to ADDRESS` checks the [smtp] settings.
    #[command(subcommand)]
    Email(EmailCommand),
}

#[derive(Debug, Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]; port 0 picks a free port.
    #[arg(long, env = "GATEHOUSE_BIND")]
    pub bind: Option<String>,
    /// Public base URL (issuer origin), e.g. https://id.example.com [default: from the Host header].
    #[arg(long, env = "GATEHOUSE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// PEM certificate chain to serve https with (needs --tls-key; see `gatehouse dev-cert`).
    #[arg(long, env = "GATEHOUSE_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of --tls-cert.
    #[arg(long, env = "GATEHOUSE_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Serve Prometheus `/metrics` (and `/healthz`, `/readyz`) on this address, e.g.
    /// 127.0.0.1:9464 [default: no metrics]. Never on the public listener.
    #[arg(long, env = "GATEHOUSE_METRICS_BIND")]
    pub metrics_bind: Option<String>,
}

#[derive(Debug, Args)]
pub struct DevCertArgs {
    /// Another DNS name or IP address for the certificate (repeatable); localhost, 127.0.0.1
    /// and ::1 are always included.
    #[arg(long = "name")]
    pub names: Vec<String>,
    /// Where to write dev-cert.pem and dev-key.pem [default: the data directory]. The CA
    /// (dev-ca.pem, dev-ca-key.pem) always lives in the data directory and is reused.
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum Output {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add an active user with a password.
    Add {
        #[arg(long)]
        login: String,
        /// Defaults to the login when it is an email address.
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        first_name: String,
        #[arg(long)]
        last_name: String,
        /// The password (prefer --password-stdin; arguments are visible to other local users).
        #[arg(long, conflicts_with = "password_stdin")]
        password: Option<String>,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// List users.
    List {
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// Give a user (login or id) Okta's SUPER_ADMIN role: the admin console, and API tokens
    /// acting as them. `--revoke` takes it away (never from the last administrator).
    Admin {
        #[arg(long)]
        user: String,
        #[arg(long)]
        revoke: bool,
    },
    /// Unlock a user (login or id) locked out by failed sign-ins, and forgive those failures:
    /// the way back in for an administrator locked out of the console.
    Unlock {
        #[arg(long)]
        user: String,
    },
    /// Activate a STAGED or PROVISIONED user (login or id) and print their one-time
    /// activation link (Okta's `lifecycle/activate?sendEmail=false`).
    Activate {
        login: String,
        /// Mail the link too (needs [smtp]).
        #[arg(long)]
        send_email: bool,
        /// The public base URL the link is under [default: the configured public URL or http://<bind>].
        #[arg(long, env = "GATEHOUSE_PUBLIC_URL")]
        public_url: Option<String>,
    },
    /// Put a user (login or id) in RECOVERY and print a one-time reset-password link (Okta's
    /// `lifecycle/reset_password?sendEmail=false`).
    ResetPassword {
        login: String,
        /// Mail the link too (needs [smtp]).
        #[arg(long)]
        send_email: bool,
        /// The public base URL the link is under [default: the configured public URL or http://<bind>].
        #[arg(long, env = "GATEHOUSE_PUBLIC_URL")]
        public_url: Option<String>,
    },
    /// Sign a user (login or id) out of every session now (Okta's "clear user sessions"); the
    /// apps they signed in to are told by back-channel logout. The account stays active.
    SignOut {
        user: String,
        /// Also revoke their refresh and access tokens.
        #[arg(long)]
        oauth_tokens: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum EmailCommand {
    /// Send a test mail through the configured SMTP server and wait for the answer.
    Test {
        /// The recipient.
        #[arg(long)]
        to: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Add a group.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// Add a user (by login or id) to a group (by name or id).
    AddMember {
        #[arg(long)]
        group: String,
        #[arg(long)]
        user: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum AppType {
    /// A server-side web app (confidential client).
    Web,
    /// A single-page app (public client, PKCE).
    Spa,
    /// A native app (public client, PKCE).
    Native,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Consent {
    /// Okta's REQUIRED: users are asked to allow the scopes that require consent.
    Required,
    /// Okta's TRUSTED: users are asked only when the client sends `prompt=consent`.
    Trusted,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum RefreshRotation {
    /// Okta's ROTATE: each use of a refresh token returns a new one.
    Rotate,
    /// Okta's STATIC: the same refresh token until it expires.
    Static,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub enum AppCommand {
    /// Create an OIDC app integration and print its credentials and the app-side config lines.
    CreateOidc {
        #[arg(long, value_enum)]
        r#type: AppType,
        #[arg(long)]
        label: String,
        /// Sign-in redirect URI (repeatable). Matched byte for byte.
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// Sign-out redirect URI (repeatable).
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// Where the app takes back-channel logout tokens (OpenID Connect Back-Channel Logout).
        #[arg(long)]
        backchannel_logout_uri: Option<String>,
        /// The app needs `sid` in its logout tokens.
        #[arg(long)]
        backchannel_logout_session_required: bool,
        /// Grant type (repeatable) [default: authorization_code, plus refresh_token].
        #[arg(long = "grant-type")]
        grant_types: Vec<String>,
        /// Client authentication at the token endpoint [default: client_secret_basic for web].
        #[arg(long)]
        auth_method: Option<String>,
        /// Refresh-token rotation: `rotate` (a new refresh token on every use) or `static`
        /// [default: rotate for spa, static otherwise].
        #[arg(long, value_enum)]
        refresh_rotation: Option<RefreshRotation>,
        /// Seconds (0-60) a rotated refresh token still works (grace period) [default: 30].
        #[arg(long)]
        refresh_leeway: Option<i64>,
        /// The app's initiate-login URI (IdP-initiated sign-in from the dashboard).
        #[arg(long)]
        initiate_login_uri: Option<String>,
        /// User consent: `required` shows the consent page for scopes that require consent
        /// [default: trusted].
        #[arg(long, value_enum)]
        consent: Option<Consent>,
        /// The Terms of Service URI the consent page links to.
        #[arg(long)]
        tos_uri: Option<String>,
        /// The privacy policy URI the consent page links to.
        #[arg(long)]
        policy_uri: Option<String>,
        /// The Sign On tab's groups claim in org-server ID tokens (with the `groups` scope):
        /// its name, e.g. `groups`; needs --groups-claim-filter.
        #[arg(long, requires = "groups_claim_filter")]
        groups_claim_name: Option<String>,
        /// The groups claim filter: `STARTS_WITH:<prefix>`, `EQUALS:<name>`, `CONTAINS:<text>`
        /// or `REGEX:<pattern>` (e.g. `REGEX:.*` for all the person's groups).
        #[arg(long, requires = "groups_claim_name")]
        groups_claim_filter: Option<String>,
        /// Assign a group by name or id (repeatable), e.g. Everyone.
        #[arg(long = "assign")]
        assign_groups: Vec<String>,
        /// The public base URL to print in config lines [default: the configured public URL or http://<bind>].
        #[arg(long, env = "GATEHOUSE_PUBLIC_URL")]
        public_url: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// Create a service app (`client_credentials`, no user): its client authenticates with
    /// a signed JWT (`private_key_jwt`, public keys from --jwks) or a client secret.
    CreateService {
        #[arg(long)]
        label: String,
        /// A JWKS file (`{"keys": [...]}`) with the client's public keys: `private_key_jwt`.
        /// Without it the app gets a client secret (`client_secret_basic`).
        #[arg(long)]
        jwks: Option<PathBuf>,
        /// Grant an Okta API scope on the org server (repeatable), e.g. okta.users.read.
        #[arg(long = "grant-scope")]
        grant_scopes: Vec<String>,
        /// The public base URL to print [default: the configured public URL or http://<bind>].
        #[arg(long, env = "GATEHOUSE_PUBLIC_URL")]
        public_url: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// List app integrations.
    List {
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token and print its value (shown this once; only its hash is stored).
    Create {
        #[arg(long)]
        name: String,
        /// The administrator the token acts as (login or id) [default: the bootstrap
        /// administrator if it exists, else the first user].
        #[arg(long)]
        user: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// List API tokens (never their values).
    List {
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// Revoke an API token by id.
    Revoke {
        #[arg(long)]
        id: String,
    },
}

/// The JWS algorithm of an authorization server's tokens.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256, RSA-2048 (Okta's; what its clients expect).
    #[value(name = "RS256")]
    Rs256,
    /// ECDSA P-256 with SHA-256.
    #[value(name = "ES256")]
    Es256,
    /// Ed25519.
    #[value(name = "EdDSA")]
    EdDsa,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Debug, Subcommand)]
pub enum AuthServerCommand {
    /// List authorization servers and their signing algorithms.
    List {
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// Set the signing algorithm of ID and access tokens. A new key of that algorithm becomes
    /// active; old keys stay published, so tokens already issued still verify.
    SetAlg {
        /// The server's id: `org` or a custom server such as `default`.
        #[arg(long)]
        id: String,
        #[arg(long, value_enum)]
        alg: Alg,
    },
    /// RFC 9207: `on` puts `iss` in every authorization response, errors included, and says so
    /// in discovery; `off` (the default, as Okta) leaves it off error responses.
    SetIss {
        /// The server's id: `org` or a custom server such as `default`.
        #[arg(long)]
        id: String,
        #[arg(long, value_enum)]
        mode: OnOff,
    },
    /// Rotate the signing key: a new key becomes active, the old one stays published.
    RotateKey {
        #[arg(long)]
        id: String,
    },
    /// Add a scope to a custom server (`--default`: granted to `client_credentials` requests
    /// that name none; `--publish`: listed in discovery).
    AddScope {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        default: bool,
        #[arg(long)]
        publish: bool,
    },
    /// List a server's signing keys (public halves only).
    Keys {
        #[arg(long)]
        id: String,
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// A custom server's claims: add, list, remove.
    #[command(subcommand)]
    Claim(ClaimCommand),
}

#[derive(Debug, Subcommand)]
pub enum ClaimCommand {
    /// Add a claim, e.g. `--name groups --groups REGEX:.* --scope groups` (the person's groups
    /// in ID tokens and userinfo) or `--name email --value user.email --token access`.
    Add {
        /// The custom server's id, e.g. `default`.
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        /// An expression: `user.email`, `user.login`, ... or a quoted literal.
        #[arg(long, conflicts_with = "groups", required_unless_present = "groups")]
        value: Option<String>,
        /// A groups filter: `STARTS_WITH:<prefix>`, `EQUALS:<name>`, `CONTAINS:<text>` or
        /// `REGEX:<pattern>`.
        #[arg(long)]
        groups: Option<String>,
        /// Which token: `id` (ID token and userinfo, Okta's IDENTITY) or `access` (RESOURCE).
        #[arg(long, value_enum, default_value_t)]
        token: ClaimToken,
        /// Only when one of these scopes is granted (repeatable) [default: any scope].
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// ID-token claims: also in ID tokens issued with an access token (Okta's "Always").
        #[arg(long)]
        always: bool,
    },
    /// List a custom server's claims.
    List {
        #[arg(long)]
        id: String,
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// Remove a claim by id or name (a name on both token types removes both).
    Remove {
        #[arg(long)]
        id: String,
        /// The claim's id or name.
        claim: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum ClaimToken {
    #[default]
    Id,
    Access,
}
