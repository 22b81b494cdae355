//! Access-policy evaluation, as Okta does it: the first ACTIVE policy (by priority) whose
//! clients include the client is the one; in it, the first ACTIVE rule (by priority) whose
//! grant types, scopes and people all match decides. No such policy or rule: the request fails.

use std::sync::Arc;

use super::model::{ANY_SCOPE, AccessPolicy, EVERYONE_GROUP, PolicyRule, ServerConfig};
use crate::domain::{AppStatus, Group, Timestamp, User};
use crate::oauth2::OAuthError;

/// Okta's `error_description` when no policy or rule allows a request.
pub const POLICY_EVALUATION_FAILED: &str =
    "Policy evaluation failed for this request, please check the policy configurations.";

/// The request being decided.
#[derive(Debug, Clone, Copy)]
pub struct PolicyRequest<'a> {
    pub client_id: &'a str,
    /// `authorization_code`, `client_credentials`, `implicit`, ... A refresh is decided as the
    /// grant that started it (`authorization_code` or the device grant for a user,
    /// `client_credentials` otherwise).
    pub grant_type: &'a str,
    pub scopes: &'a [String],
    /// The user and their groups (`Everyone` included); `None` for `client_credentials`.
    pub user: Option<(&'a User, &'a [Group])>,
}

/// Why no rule decided a request (shown by the token preview).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoMatch {
    NoPolicy,
    NoRule {
        policy_id: String,
        policy_name: String,
    },
}

impl std::fmt::Display for NoMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoPolicy => f.write_str("no active access policy includes this client"),
            Self::NoRule { policy_name, .. } => write!(
                f,
                "no active rule of the policy '{policy_name}' matches this grant type, these scopes and this user"
            ),
        }
    }
}

/// What a request was allowed by, with what it needs to mint its tokens. The policy and rule
/// are named by their places in `config` (which holds them), not copied: every token request
/// makes a decision, and a rule's lists would otherwise be cloned each time.
#[derive(Debug, Clone)]
pub struct Decision {
    pub config: Arc<ServerConfig>,
    policy: usize,
    rule: usize,
    /// The user's groups (for `GROUPS` claims); empty without a user, or when nothing on the
    /// server depends on them ([`ServerConfig::depends_on_groups`]).
    pub groups: Vec<Group>,
}

impl Decision {
    /// The decision [`evaluate_at`] found in `config` (`at` is its answer for that config).
    pub fn new(config: Arc<ServerConfig>, at: (usize, usize), groups: Vec<Group>) -> Self {
        let (policy, rule) = at;
        Self {
            config,
            policy,
            rule,
            groups,
        }
    }

    /// The policy that allowed the request.
    pub fn policy(&self) -> &AccessPolicy {
        &self.config.policies[self.policy].0
    }

    /// The rule that allowed the request.
    pub fn rule(&self) -> &PolicyRule {
        &self.config.policies[self.policy].1[self.rule]
    }

    pub fn access_token_ttl(&self) -> i64 {
        self.rule().access_token_lifetime_minutes * 60
    }

    /// When a refresh token used (or issued) at `now` in a grant started at `grant_created`
    /// expires: after the idle window, and never after the absolute lifetime (0: none).
    pub fn refresh_expiry(&self, grant_created: Timestamp, now: Timestamp) -> Timestamp {
        let rule = self.rule();
        let idle = now.saturating_add(rule.refresh_token_window_minutes.saturating_mul(60));
        match rule.refresh_token_lifetime_minutes {
            0 => idle,
            life => idle.min(grant_created.saturating_add(life.saturating_mul(60))),
        }
    }
}

pub fn evaluate<'c>(
    config: &'c ServerConfig,
    req: &PolicyRequest<'_>,
) -> Result<(&'c AccessPolicy, &'c PolicyRule), NoMatch> {
    let (p, r) = evaluate_at(config, req)?;
    let (policy, rules) = &config.policies[p];
    Ok((policy, &rules[r]))
}

/// [`evaluate`], answering with the places of the policy and the rule in `config.policies`
/// (what [`Decision::new`] takes).
pub fn evaluate_at(
    config: &ServerConfig,
    req: &PolicyRequest<'_>,
) -> Result<(usize, usize), NoMatch> {
    let (p, (policy, rules)) = config
        .policies
        .iter()
        .enumerate()
        .find(|(_, (p, _))| p.status == AppStatus::Active && p.includes_client(req.client_id))
        .ok_or(NoMatch::NoPolicy)?;
    rules
        .iter()
        .position(|r| rule_matches(r, req))
        .map(|r| (p, r))
        .ok_or_else(|| NoMatch::NoRule {
            policy_id: policy.id.clone(),
            policy_name: policy.name.clone(),
        })
}

fn rule_matches(rule: &PolicyRule, req: &PolicyRequest<'_>) -> bool {
    if rule.status != AppStatus::Active || !rule.grant_types.iter().any(|g| g == req.grant_type) {
        return false;
    }
    let any_scope = rule.scopes.iter().any(|s| s == ANY_SCOPE);
    if !any_scope && !req.scopes.iter().all(|s| rule.scopes.contains(s)) {
        return false;
    }
    match req.user {
        // client_credentials: the people condition does not apply.
        None => true,
        Some((user, groups)) => people_match(rule, user, groups),
    }
}

fn people_match(rule: &PolicyRule, user: &User, groups: &[Group]) -> bool {
    let in_group = |ids: &[String]| {
        ids.iter()
            .any(|id| id == EVERYONE_GROUP || groups.iter().any(|g| &g.id == id))
    };
    if rule.users_exclude.contains(&user.id) || in_group(&rule.groups_exclude) {
        return false;
    }
    (rule.users_include.is_empty() && rule.groups_include.is_empty())
        || rule.users_include.contains(&user.id)
        || in_group(&rule.groups_include)
}

/// Loads the server's configuration and (if it needs them) the user's groups, and decides the
/// request; a failure is Okta's `access_denied` "Policy evaluation failed".
pub async fn decide(
    provider: &crate::provider::Provider,
    auth_server_id: &str,
    client_id: &str,
    grant_type: &str,
    scopes: &[String],
    user: Option<&User>,
) -> Result<Decision, OAuthError> {
    let config = super::server_config(provider, auth_server_id).await?;
    let groups = match user {
        Some(u) if config.depends_on_groups() => provider.store.list_user_groups(&u.id).await?,
        _ => Vec::new(),
    };
    let req = PolicyRequest {
        client_id,
        grant_type,
        scopes,
        user: user.map(|u| (u, groups.as_slice())),
    };
    match evaluate_at(&config, &req) {
        Ok(at) => Ok(Decision::new(config, at, groups)),
        Err(why) => {
            tracing::info!(auth_server_id, client_id, grant_type, reason = %why, "policy evaluation failed");
            Err(OAuthError::PolicyDenied(POLICY_EVALUATION_FAILED.into()))
        }
    }
}
