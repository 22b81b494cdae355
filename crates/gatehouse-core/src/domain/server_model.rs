//! The configuration of a custom authorization server, as Okta models it: scopes, claims,
//! access policies and their rules. Each item is stored as one JSON document
//! ([`AuthServerObject`]), so that new Okta fields need no migration.

use serde::{Deserialize, Serialize};

use super::{AppStatus, Timestamp};

macro_rules! authz_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $wire)] $variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $wire),+ }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($wire => Some(Self::$variant),)+ _ => None }
            }
            /// The wire spellings, for error messages.
            pub fn names() -> &'static [&'static str] {
                &[$($wire),+]
            }
        }
    };
}

authz_enum!(
    /// What a stored [`AuthServerObject`] holds.
    AuthServerObjectKind { Scope => "SCOPE", Claim => "CLAIM", Policy => "POLICY", Rule => "RULE" }
);

authz_enum!(ScopeConsent { Implicit => "IMPLICIT", Required => "REQUIRED", Flexible => "FLEXIBLE" });

authz_enum!(
    /// Whether the scope is listed in the discovery documents' `scopes_supported`.
    MetadataPublish { AllClients => "ALL_CLIENTS", NoClients => "NO_CLIENTS" }
);

authz_enum!(
    /// `RESOURCE` claims go into the access token, `IDENTITY` claims into the ID token.
    ClaimType { Resource => "RESOURCE", Identity => "IDENTITY" }
);

authz_enum!(ClaimValueType { Expression => "EXPRESSION", Groups => "GROUPS" });

authz_enum!(
    GroupFilterType {
        StartsWith => "STARTS_WITH",
        Equals => "EQUALS",
        Contains => "CONTAINS",
        Regex => "REGEX",
    }
);

/// One stored configuration item of an authorization server; `body` is the item's JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthServerObject {
    pub id: String,
    pub auth_server_id: String,
    pub kind: AuthServerObjectKind,
    /// A rule's policy.
    pub parent_id: Option<String>,
    /// Unique per server and kind (a scope's name); the id for kinds without a unique name.
    pub unique_key: String,
    /// Orders policies and rules (lowest first); 0 for other kinds.
    pub priority: i64,
    pub body: String,
    pub created: Timestamp,
}

/// The scopes every new custom server starts with (Okta's system scopes).
pub const SYSTEM_SCOPES: &[(&str, &str)] = &[
    ("openid", "Signals that a request is an OpenID request."),
    (
        "profile",
        "Allows access to the end-user's default profile claims.",
    ),
    (
        "email",
        "Allows access to the email and email_verified claims.",
    ),
    ("address", "Allows access to the address claim."),
    (
        "phone",
        "Allows access to the phone_number and phone_number_verified claims.",
    ),
    ("offline_access", "Allows access to a refresh token."),
    // Not in Okta's default server; Gatehouse ships it so apps (NetBox) can map groups.
    ("groups", "Allows access to the groups claim."),
    ("device_sso", "Allows a client to obtain a device secret."),
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OAuthScope {
    pub id: String,
    pub name: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub consent: ScopeConsent,
    /// Granted when a `client_credentials` request names no scope.
    pub default: bool,
    pub metadata_publish: MetadataPublish,
    pub system: bool,
    pub optional: bool,
    pub created: Timestamp,
    pub last_updated: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OAuthClaim {
    pub id: String,
    pub name: String,
    pub status: AppStatus,
    pub claim_type: ClaimType,
    pub value_type: ClaimValueType,
    /// An expression (`user.email`, `"literal"`) or, for `GROUPS`, the group filter's operand.
    pub value: String,
    pub group_filter_type: Option<GroupFilterType>,
    /// ID-token claims are only put in tokens minted with an access token when this is set
    /// (Okta's "Always"); access-token claims always are.
    pub always_include_in_token: bool,
    /// `conditions.scopes`: only when one of these is granted; empty means any scope.
    pub scopes: Vec<String>,
    pub system: bool,
    pub created: Timestamp,
    pub last_updated: Timestamp,
}

/// The pseudo client id of a policy that applies to every client.
pub const ALL_CLIENTS: &str = "ALL_CLIENTS";
/// The pseudo group id of a rule that applies to every user.
pub const EVERYONE_GROUP: &str = "EVERYONE";
/// A rule's `scopes.include` entry that allows any scope.
pub const ANY_SCOPE: &str = "*";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessPolicy {
    pub id: String,
    pub name: String,
    pub description: String,
    pub priority: i64,
    pub status: AppStatus,
    pub system: bool,
    /// `conditions.clients.include`: client ids, or [`ALL_CLIENTS`].
    pub clients: Vec<String>,
    pub created: Timestamp,
    pub last_updated: Timestamp,
}

impl AccessPolicy {
    pub fn includes_client(&self, client_id: &str) -> bool {
        self.clients
            .iter()
            .any(|c| c == ALL_CLIENTS || c == client_id)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyRule {
    pub id: String,
    pub policy_id: String,
    pub name: String,
    pub priority: i64,
    pub status: AppStatus,
    pub system: bool,
    /// `conditions.grantTypes.include`.
    pub grant_types: Vec<String>,
    /// `conditions.scopes.include`: the scopes the rule allows, or [`ANY_SCOPE`].
    pub scopes: Vec<String>,
    pub users_include: Vec<String>,
    pub users_exclude: Vec<String>,
    /// Group ids, or [`EVERYONE_GROUP`].
    pub groups_include: Vec<String>,
    pub groups_exclude: Vec<String>,
    pub access_token_lifetime_minutes: i64,
    /// 0: the refresh token never expires (only its idle window applies).
    pub refresh_token_lifetime_minutes: i64,
    /// How long a refresh token may go unused.
    pub refresh_token_window_minutes: i64,
    pub created: Timestamp,
    pub last_updated: Timestamp,
}

impl PolicyRule {
    /// Okta's bounds (minutes).
    pub const ACCESS_TOKEN_LIFETIME: std::ops::RangeInclusive<i64> = 5..=1440;
    pub const REFRESH_TOKEN_WINDOW: std::ops::RangeInclusive<i64> = 5..=7_776_000;
    pub const DEFAULT_ACCESS_TOKEN_LIFETIME: i64 = 60;
    pub const DEFAULT_REFRESH_TOKEN_LIFETIME: i64 = 0;
    pub const DEFAULT_REFRESH_TOKEN_WINDOW: i64 = 10_080;
}

/// Everything a server's protocol decisions need, read in one query and cached per node.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerConfig {
    pub scopes: Vec<OAuthScope>,
    pub claims: Vec<OAuthClaim>,
    /// By priority, each with its rules by priority.
    pub policies: Vec<(AccessPolicy, Vec<PolicyRule>)>,
}

impl ServerConfig {
    pub fn scope(&self, name: &str) -> Option<&OAuthScope> {
        self.scopes.iter().find(|s| s.name == name)
    }

    pub fn default_scopes(&self) -> Vec<String> {
        self.scopes
            .iter()
            .filter(|s| s.default)
            .map(|s| s.name.clone())
            .collect()
    }

    /// Whether a decision or a claim of this server can depend on which groups a user is in.
    /// If not (no rule names a group but `EVERYONE`, no `GROUPS` claim), the policy check
    /// does not read them.
    pub fn depends_on_groups(&self) -> bool {
        let names_a_group = |ids: &[String]| ids.iter().any(|id| id != EVERYONE_GROUP);
        self.policies
            .iter()
            .flat_map(|(_, rules)| rules)
            .any(|r| names_a_group(&r.groups_include) || names_a_group(&r.groups_exclude))
            || self
                .claims
                .iter()
                .any(|c| c.value_type == ClaimValueType::Groups)
    }

    /// `scopes_supported` in discovery: the scopes published to all clients.
    pub fn published_scopes(&self) -> Vec<String> {
        self.scopes
            .iter()
            .filter(|s| s.metadata_publish == MetadataPublish::AllClients)
            .map(|s| s.name.clone())
            .collect()
    }
}

/// A configuration item stored as an [`AuthServerObject`].
pub trait ConfigItem: Serialize + serde::de::DeserializeOwned + Clone {
    const KIND: AuthServerObjectKind;
    /// What Okta calls it in "not found" errors.
    const LABEL: &'static str;
    fn id(&self) -> &str;
    fn unique_key(&self) -> String {
        self.id().to_owned()
    }
    fn priority(&self) -> i64 {
        0
    }
    fn parent_id(&self) -> Option<&str> {
        None
    }
    fn created(&self) -> Timestamp;

    fn to_object(&self, auth_server_id: &str) -> AuthServerObject {
        AuthServerObject {
            id: self.id().to_owned(),
            auth_server_id: auth_server_id.to_owned(),
            kind: Self::KIND,
            parent_id: self.parent_id().map(str::to_owned),
            unique_key: self.unique_key(),
            priority: self.priority(),
            // Serialising these plain structs cannot fail.
            body: serde_json::to_string(self).unwrap_or_default(),
            created: self.created(),
        }
    }

    fn from_object(obj: &AuthServerObject) -> Option<Self> {
        if obj.kind != Self::KIND {
            return None;
        }
        serde_json::from_str(&obj.body).ok()
    }
}

impl ConfigItem for OAuthScope {
    const KIND: AuthServerObjectKind = AuthServerObjectKind::Scope;
    const LABEL: &'static str = "OAuth2Scope";
    fn id(&self) -> &str {
        &self.id
    }
    fn unique_key(&self) -> String {
        self.name.clone()
    }
    fn created(&self) -> Timestamp {
        self.created
    }
}

impl ConfigItem for OAuthClaim {
    const KIND: AuthServerObjectKind = AuthServerObjectKind::Claim;
    const LABEL: &'static str = "OAuth2Claim";
    fn id(&self) -> &str {
        &self.id
    }
    /// One claim of a name per token type.
    fn unique_key(&self) -> String {
        format!("{}:{}", self.claim_type.as_str(), self.name)
    }
    fn created(&self) -> Timestamp {
        self.created
    }
}

impl ConfigItem for AccessPolicy {
    const KIND: AuthServerObjectKind = AuthServerObjectKind::Policy;
    const LABEL: &'static str = "Policy";
    fn id(&self) -> &str {
        &self.id
    }
    fn unique_key(&self) -> String {
        self.name.clone()
    }
    fn priority(&self) -> i64 {
        self.priority
    }
    fn created(&self) -> Timestamp {
        self.created
    }
}

impl ConfigItem for PolicyRule {
    const KIND: AuthServerObjectKind = AuthServerObjectKind::Rule;
    const LABEL: &'static str = "PolicyRule";
    fn id(&self) -> &str {
        &self.id
    }
    fn unique_key(&self) -> String {
        format!("{}:{}", self.policy_id, self.name)
    }
    fn priority(&self) -> i64 {
        self.priority
    }
    fn parent_id(&self) -> Option<&str> {
        Some(&self.policy_id)
    }
    fn created(&self) -> Timestamp {
        self.created
    }
}

impl ServerConfig {
    /// Builds the configuration from a server's stored objects (in the store's order: kind,
    /// priority, creation, id). Unreadable documents are skipped.
    pub fn from_objects(objects: &[AuthServerObject]) -> Self {
        let mut config = Self::default();
        let mut rules: Vec<PolicyRule> = Vec::new();
        for obj in objects {
            match obj.kind {
                AuthServerObjectKind::Scope => config.scopes.extend(OAuthScope::from_object(obj)),
                AuthServerObjectKind::Claim => config.claims.extend(OAuthClaim::from_object(obj)),
                AuthServerObjectKind::Policy => config
                    .policies
                    .extend(AccessPolicy::from_object(obj).map(|p| (p, Vec::new()))),
                AuthServerObjectKind::Rule => rules.extend(PolicyRule::from_object(obj)),
            }
        }
        let by_order = |a: (i64, Timestamp, &str), b: (i64, Timestamp, &str)| a.cmp(&b);
        config.policies.sort_by(|(a, _), (b, _)| {
            by_order(
                (a.priority, a.created, &a.id),
                (b.priority, b.created, &b.id),
            )
        });
        rules.sort_by(|a, b| {
            by_order(
                (a.priority, a.created, &a.id),
                (b.priority, b.created, &b.id),
            )
        });
        for rule in rules {
            if let Some((_, list)) = config
                .policies
                .iter_mut()
                .find(|(p, _)| p.id == rule.policy_id)
            {
                list.push(rule);
            }
        }
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(include: &[&str], exclude: &[&str]) -> PolicyRule {
        PolicyRule {
            id: "0pr1".into(),
            policy_id: "00p1".into(),
            name: "rule".into(),
            priority: 1,
            status: AppStatus::Active,
            system: false,
            grant_types: vec!["authorization_code".into()],
            scopes: vec![ANY_SCOPE.into()],
            users_include: vec![],
            users_exclude: vec![],
            groups_include: include.iter().map(|g| (*g).to_owned()).collect(),
            groups_exclude: exclude.iter().map(|g| (*g).to_owned()).collect(),
            access_token_lifetime_minutes: 60,
            refresh_token_lifetime_minutes: 0,
            refresh_token_window_minutes: 10_080,
            created: 0,
            last_updated: 0,
        }
    }

    fn policy() -> AccessPolicy {
        AccessPolicy {
            id: "00p1".into(),
            name: "policy".into(),
            description: String::new(),
            priority: 1,
            status: AppStatus::Active,
            system: false,
            clients: vec![ALL_CLIENTS.into()],
            created: 0,
            last_updated: 0,
        }
    }

    fn with_rules(rules: Vec<PolicyRule>) -> ServerConfig {
        ServerConfig {
            policies: vec![(policy(), rules)],
            ..ServerConfig::default()
        }
    }

    #[test]
    fn groups_are_needed_only_when_a_rule_or_claim_names_one() {
        assert!(!ServerConfig::default().depends_on_groups());
        assert!(!with_rules(vec![rule(&[EVERYONE_GROUP], &[])]).depends_on_groups());
        assert!(
            with_rules(vec![rule(&[EVERYONE_GROUP], &[]), rule(&["00g1"], &[])])
                .depends_on_groups()
        );
        assert!(with_rules(vec![rule(&[EVERYONE_GROUP], &["00g1"])]).depends_on_groups());
        let mut config = with_rules(vec![rule(&[EVERYONE_GROUP], &[])]);
        config.claims.push(OAuthClaim {
            id: "ocl1".into(),
            name: "groups".into(),
            status: AppStatus::Active,
            claim_type: ClaimType::Identity,
            value_type: ClaimValueType::Groups,
            value: "net".into(),
            group_filter_type: Some(GroupFilterType::StartsWith),
            always_include_in_token: false,
            scopes: vec![],
            system: false,
            created: 0,
            last_updated: 0,
        });
        assert!(config.depends_on_groups());
    }
}
