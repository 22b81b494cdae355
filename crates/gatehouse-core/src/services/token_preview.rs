//! Token preview (a Gatehouse extension, for the console): the claims of the ID and access
//! tokens a client would get on a custom server for a user, grant type and scopes, and which
//! access policy and rule decide it, or why none does. Nothing is signed or stored.

use serde_json::{Map, Value};

use crate::authz::policy::{self, Decision, PolicyRequest};
use crate::authz::server_config;
use crate::domain::{AccessPolicy, Grant, PolicyRule};
use crate::oauth2::scope;
use crate::oidc::tokens::{self, Issue, RefreshPlan};
use crate::provider::Provider;
use crate::services::auth_servers::AuthServerError;

#[derive(Debug, Clone)]
pub struct PreviewRequest {
    pub client_id: String,
    /// Required for `authorization_code` (and other user grants); none for
    /// `client_credentials`.
    pub user_id: Option<String>,
    pub grant_type: String,
    /// Empty for `client_credentials`: the server's default scopes.
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Preview {
    pub policy: Option<AccessPolicy>,
    pub rule: Option<PolicyRule>,
    /// `(error, error_description, why)` when the request would fail.
    pub error: Option<(String, String, String)>,
    pub scopes: Vec<String>,
    pub id_token: Option<Map<String, Value>>,
    pub access_token: Option<Map<String, Value>>,
}

fn invalid(field: &str, message: impl Into<String>) -> AuthServerError {
    AuthServerError::Invalid {
        field: field.to_owned(),
        message: message.into(),
    }
}

fn denied(error: &str, description: &str, why: String, scopes: Vec<String>) -> Preview {
    Preview {
        policy: None,
        rule: None,
        error: Some((error.into(), description.into(), why)),
        scopes,
        id_token: None,
        access_token: None,
    }
}

/// Previews a request to server `auth_server_id` as seen from `origin`.
pub async fn preview(
    provider: &Provider,
    origin: &str,
    auth_server_id: &str,
    req: PreviewRequest,
) -> Result<Preview, AuthServerError> {
    crate::services::auth_servers::find_custom(provider, auth_server_id).await?;
    let server = provider
        .server_context(origin, Some(auth_server_id))
        .await
        .map_err(|e| AuthServerError::Forbidden(e.description()))?;
    let app = provider
        .store
        .find_app_by_client_id(&req.client_id)
        .await?
        .ok_or_else(|| {
            invalid(
                "clientId",
                format!("There is no client '{}'.", req.client_id),
            )
        })?;
    let user = match &req.user_id {
        Some(id) => Some(
            provider
                .store
                .find_user(id)
                .await?
                .ok_or_else(|| invalid("userId", format!("There is no user '{id}'.")))?,
        ),
        None => None,
    };
    let client_credentials = req.grant_type == "client_credentials";
    if !client_credentials && user.is_none() {
        return Err(invalid("userId", "A user grant type needs a userId."));
    }
    let config = server_config(provider, auth_server_id).await?;
    let scopes = if client_credentials && req.scopes.is_empty() {
        config.default_scopes()
    } else {
        req.scopes.clone()
    };
    if let Some(unknown) = scopes.iter().find(|s| config.scope(s).is_none()) {
        return Ok(denied(
            "invalid_scope",
            "One or more scopes are not configured for the authorization server resource.",
            format!("the server has no scope '{unknown}'"),
            scopes,
        ));
    }
    if scopes.is_empty() {
        return Ok(denied(
            "invalid_scope",
            "No scopes were requested.",
            "no scope was requested and the server has no default scope".into(),
            scopes,
        ));
    }
    let groups = match &user {
        Some(u) => provider.store.list_user_groups(&u.id).await?,
        None => Vec::new(),
    };
    let request = PolicyRequest {
        client_id: &app.client_id,
        grant_type: &req.grant_type,
        scopes: &scopes,
        user: user.as_ref().map(|u| (u, groups.as_slice())),
    };
    let at = match policy::evaluate_at(&config, &request) {
        Ok(at) => at,
        Err(why) => {
            let mut out = denied(
                "access_denied",
                policy::POLICY_EVALUATION_FAILED,
                why.to_string(),
                scopes,
            );
            if let policy::NoMatch::NoRule { policy_id, .. } = why {
                out.policy = config
                    .policies
                    .iter()
                    .find(|(p, _)| p.id == policy_id)
                    .map(|(p, _)| p.clone());
            }
            return Ok(out);
        }
    };
    let decision = Decision::new(config.clone(), at, groups);
    let (matched_policy, matched_rule) = (decision.policy().clone(), decision.rule().clone());
    let now = provider.now();
    let grant = Grant {
        id: "preview".into(),
        client_id: app.client_id.clone(),
        user_id: user.as_ref().map(|u| u.id.clone()),
        auth_server_id: auth_server_id.to_owned(),
        scopes: scopes.clone(),
        auth_time: user.as_ref().map(|_| now),
        amr: if user.is_some() {
            vec!["pwd".into()]
        } else {
            vec![]
        },
        acr: None,
        created: now,
        revoked_at: None,
    };
    let issue = Issue {
        server: &server,
        app: &app,
        user: user.as_ref(),
        grant: &grant,
        nonce: None,
        refresh: RefreshPlan::None,
        store_grant: false,
        decision: Some(&decision),
        log: None,
        claim: None,
        sid: None,
    };
    let ttl = tokens::access_ttl(provider, &issue);
    // Shown as a JSON object (the claims by name).
    let access =
        match serde_json::to_value(tokens::access_token_claims(&issue, "AT.preview", now, ttl)) {
            Ok(serde_json::Value::Object(claims)) => claims,
            _ => serde_json::Map::new(),
        };
    let id = if scope::has(&scopes, scope::OPENID) {
        tokens::id_token_claims(provider, &issue, now)
            .await
            .map_err(|e| AuthServerError::Forbidden(e.description()))?
    } else {
        None
    };
    Ok(Preview {
        policy: Some(matched_policy),
        rule: Some(matched_rule),
        error: None,
        scopes,
        id_token: id,
        access_token: Some(access),
    })
}
