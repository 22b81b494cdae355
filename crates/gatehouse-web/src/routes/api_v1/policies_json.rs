//! Okta's JSON for `/api/v1/policies`: policies and rules rendered by hand, and request bodies
//! parsed into the core's specs (rule actions into their parsed types, so a bad duration or
//! prompt mode is an `E0000001` naming the field).

use gatehouse_core::domain::*;
use gatehouse_core::services::sign_on_policy::manage::{PolicySpec, RuleSpec};
use serde_json::{Value, json};

use super::{ApiError, JsonBody, okta_date};

/// One year, in minutes: the longest `factorLifetime` and session lifetime accepted.
const MAX_MINUTES: i64 = 525_600;

fn link(href: String, methods: &[&str]) -> Value {
    json!({ "href": href, "hints": { "allow": methods } })
}

fn lifecycle_link(base: &str, status: AppStatus) -> (&'static str, Value) {
    match status {
        AppStatus::Active => (
            "deactivate",
            link(format!("{base}/lifecycle/deactivate"), &["POST"]),
        ),
        AppStatus::Inactive => (
            "activate",
            link(format!("{base}/lifecycle/activate"), &["POST"]),
        ),
    }
}

pub(crate) fn policy_json(origin: &str, p: &SignOnPolicy) -> Value {
    let base = format!("{origin}/api/v1/policies/{}", p.id);
    let (op, op_link) = lifecycle_link(&base, p.status);
    let conditions = match p.policy_type {
        PolicyType::OktaSignOn => {
            json!({ "people": { "groups": { "include": p.groups.include } } })
        }
        PolicyType::AccessPolicy => Value::Null,
    };
    let self_methods: &[&str] = if p.system {
        &["GET", "PUT"]
    } else {
        &["GET", "PUT", "DELETE"]
    };
    let mut links = json!({
        "self": link(base.clone(), self_methods),
        "rules": link(format!("{base}/rules"), &["GET", "POST"]),
    });
    if let Some(map) = links.as_object_mut() {
        map.insert(op.into(), op_link);
    }
    json!({
        "id": p.id,
        "type": p.policy_type.as_str(),
        "name": p.name,
        "description": p.description,
        "priority": p.priority,
        "status": p.status.as_str(),
        "system": p.system,
        "conditions": conditions,
        "created": okta_date(p.created),
        "lastUpdated": okta_date(p.last_updated),
        "_links": links,
    })
}

fn sign_on_actions_json(a: &SignOnActions) -> Value {
    let mut signon = json!({
        "access": a.access.as_str(),
        "requireFactor": a.factor.is_some(),
        "rememberDeviceByDefault": a.remember_device_by_default,
        "session": {
            "usePersistentCookie": a.use_persistent_cookie,
            "maxSessionIdleMinutes": a.max_session_idle_minutes,
            "maxSessionLifetimeMinutes": a.max_session_lifetime_minutes,
        },
    });
    if let (Some(prompt), Some(map)) = (a.factor, signon.as_object_mut()) {
        map.insert("factorPromptMode".into(), json!(prompt.mode().as_str()));
        match prompt {
            FactorPrompt::Device { lifetime_minutes }
            | FactorPrompt::Session {
                lifetime_minutes: Some(lifetime_minutes),
            } => {
                map.insert("factorLifetime".into(), json!(lifetime_minutes));
            }
            _ => {}
        }
    }
    json!({ "signon": signon })
}

fn app_sign_on_actions_json(a: &AppSignOnActions) -> Value {
    let mut method = json!({
        "type": "ASSURANCE",
        "factorMode": a.factor_mode.as_str(),
    });
    if let (Some(d), Some(map)) = (a.reauthenticate_in, method.as_object_mut()) {
        map.insert("reauthenticateIn".into(), json!(d.to_string()));
    }
    json!({ "appSignOn": { "access": a.access.as_str(), "verificationMethod": method } })
}

pub(crate) fn rule_json(origin: &str, policy: &SignOnPolicy, r: &SignOnRule) -> Value {
    let base = format!("{origin}/api/v1/policies/{}/rules/{}", r.policy_id, r.id);
    let (op, op_link) = lifecycle_link(&base, r.status);
    let self_methods: &[&str] = if r.system {
        &["GET", "PUT"]
    } else {
        &["GET", "PUT", "DELETE"]
    };
    let mut links = json!({ "self": link(base.clone(), self_methods) });
    if let Some(map) = links.as_object_mut() {
        map.insert(op.into(), op_link);
    }
    let actions = match &r.actions {
        RuleActions::SignOn(a) => sign_on_actions_json(a),
        RuleActions::AppSignOn(a) => app_sign_on_actions_json(a),
    };
    let mut conditions = json!({
        "people": { "groups": { "include": r.groups.include, "exclude": r.groups.exclude } },
    });
    if let (PolicyType::OktaSignOn, Some(map)) = (policy.policy_type, conditions.as_object_mut()) {
        map.insert("network".into(), json!({ "connection": "ANYWHERE" }));
        map.insert("authContext".into(), json!({ "authType": "ANY" }));
    }
    json!({
        "id": r.id,
        "type": policy.policy_type.rule_type(),
        "name": r.name,
        "priority": r.priority,
        "status": r.status.as_str(),
        "system": r.system,
        "conditions": conditions,
        "actions": actions,
        "created": okta_date(r.created),
        "lastUpdated": okta_date(r.last_updated),
        "_links": links,
    })
}

/// A boolean; also the strings `"true"`/`"false"` some SDK models default to.
fn flag(body: &JsonBody, path: &str) -> Result<Option<bool>, ApiError> {
    match body.str_opt(path) {
        Ok(Some(s)) => match s.as_str() {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            _ => Err(ApiError::validation(path, "must be true or false")),
        },
        Ok(None) => Ok(None),
        Err(_) => body.bool_opt(path),
    }
}

fn enum_field<T>(
    body: &JsonBody,
    path: &str,
    parse: fn(&str) -> Option<T>,
    all: &[T],
    name: fn(&T) -> &'static str,
) -> Result<Option<T>, ApiError> {
    match body.str_opt(path)? {
        None => Ok(None),
        Some(raw) => parse(&raw).map(Some).ok_or_else(|| {
            let allowed: Vec<&str> = all.iter().map(name).collect();
            ApiError::validation(
                path,
                format!("'{raw}' is not one of {}", allowed.join(", ")),
            )
        }),
    }
}

fn status(body: &JsonBody) -> Result<Option<AppStatus>, ApiError> {
    match body.str_opt("status")? {
        None => Ok(None),
        Some(s) => AppStatus::parse(&s)
            .map(Some)
            .ok_or_else(|| ApiError::validation("status", "must be ACTIVE or INACTIVE")),
    }
}

fn minutes(body: &JsonBody, path: &str, min: i64) -> Result<Option<u32>, ApiError> {
    match body.i64_opt(path)? {
        None => Ok(None),
        Some(m) if (min..=MAX_MINUTES).contains(&m) => Ok(u32::try_from(m).ok()),
        Some(_) => Err(ApiError::validation(
            path,
            format!("must be from {min} to {MAX_MINUTES} minutes"),
        )),
    }
}

fn name(body: &JsonBody) -> Result<String, ApiError> {
    body.str_opt("name")?
        .ok_or_else(|| ApiError::validation("name", "this field is required"))
}

/// `{type, name, description, priority, status, conditions.people.groups.include}`; on a
/// replace, `type` defaults to the policy's own.
pub(crate) fn parse_policy(
    body: &JsonBody,
    current: Option<PolicyType>,
) -> Result<PolicySpec, ApiError> {
    let policy_type = match (
        enum_field(body, "type", PolicyType::parse, PolicyType::ALL, |t| {
            t.as_str()
        })?,
        current,
    ) {
        (Some(t), _) | (None, Some(t)) => t,
        (None, None) => return Err(ApiError::validation("type", "this field is required")),
    };
    Ok(PolicySpec {
        policy_type,
        name: name(body)?,
        description: body.str_opt("description")?.unwrap_or_default(),
        priority: body.i64_opt("priority")?,
        status: status(body)?,
        groups_include: body.string_list("conditions.people.groups.include")?,
    })
}

fn parse_sign_on_actions(body: &JsonBody) -> Result<SignOnActions, ApiError> {
    let d = SignOnActions::default();
    let access = enum_field(
        body,
        "actions.signon.access",
        RuleAccess::parse,
        RuleAccess::ALL,
        |a| a.as_str(),
    )?
    .unwrap_or(d.access);
    let mode = enum_field(
        body,
        "actions.signon.factorPromptMode",
        FactorPromptMode::parse,
        FactorPromptMode::ALL,
        |m| m.as_str(),
    )?;
    let lifetime = minutes(body, "actions.signon.factorLifetime", 1)?;
    let factor = match (
        flag(body, "actions.signon.requireFactor")?.unwrap_or(false),
        mode,
    ) {
        (false, _) => None,
        (true, None | Some(FactorPromptMode::Always)) => Some(FactorPrompt::Always),
        (true, Some(FactorPromptMode::Session)) => Some(FactorPrompt::Session {
            lifetime_minutes: lifetime,
        }),
        (true, Some(FactorPromptMode::Device)) => Some(FactorPrompt::Device {
            lifetime_minutes: lifetime.ok_or_else(|| {
                ApiError::validation(
                    "actions.signon.factorLifetime",
                    "required when factorPromptMode is DEVICE (minutes the device is remembered)",
                )
            })?,
        }),
    };
    Ok(SignOnActions {
        access,
        factor,
        remember_device_by_default: flag(body, "actions.signon.rememberDeviceByDefault")?
            .unwrap_or(false),
        max_session_idle_minutes: minutes(body, "actions.signon.session.maxSessionIdleMinutes", 1)?
            .unwrap_or(d.max_session_idle_minutes),
        max_session_lifetime_minutes: minutes(
            body,
            "actions.signon.session.maxSessionLifetimeMinutes",
            0,
        )?
        .unwrap_or(d.max_session_lifetime_minutes),
        use_persistent_cookie: flag(body, "actions.signon.session.usePersistentCookie")?
            .unwrap_or(false),
    })
}

fn parse_app_sign_on_actions(body: &JsonBody) -> Result<AppSignOnActions, ApiError> {
    let d = AppSignOnActions::default();
    let access = enum_field(
        body,
        "actions.appSignOn.access",
        RuleAccess::parse,
        RuleAccess::ALL,
        |a| a.as_str(),
    )?
    .unwrap_or(d.access);
    let factor_mode = enum_field(
        body,
        "actions.appSignOn.verificationMethod.factorMode",
        FactorMode::parse,
        FactorMode::ALL,
        |m| m.as_str(),
    )?
    .unwrap_or(d.factor_mode);
    let path = "actions.appSignOn.verificationMethod.reauthenticateIn";
    let reauthenticate_in = match body.str_opt(path)? {
        None => None,
        Some(raw) => Some(IsoDuration::parse(&raw).ok_or_else(|| {
            ApiError::validation(
                path,
                format!("'{raw}' is not an ISO-8601 duration in days, hours, minutes, seconds (e.g. PT2H)"),
            )
        })?),
    };
    Ok(AppSignOnActions {
        access,
        factor_mode,
        reauthenticate_in,
    })
}

/// A rule body for a policy of `policy_type`: `{name, priority, status, conditions.people.groups,
/// actions.signon | actions.appSignOn}`.
pub(crate) fn parse_rule(body: &JsonBody, policy_type: PolicyType) -> Result<RuleSpec, ApiError> {
    let actions = match policy_type {
        PolicyType::OktaSignOn => {
            if body.object("actions.appSignOn")?.is_some() {
                return Err(ApiError::validation(
                    "actions",
                    "an OKTA_SIGN_ON rule takes actions.signon",
                ));
            }
            RuleActions::SignOn(parse_sign_on_actions(body)?)
        }
        PolicyType::AccessPolicy => {
            if body.object("actions.signon")?.is_some() {
                return Err(ApiError::validation(
                    "actions",
                    "an ACCESS_POLICY rule takes actions.appSignOn",
                ));
            }
            RuleActions::AppSignOn(parse_app_sign_on_actions(body)?)
        }
    };
    Ok(RuleSpec {
        name: name(body)?,
        priority: body.i64_opt("priority")?,
        status: status(body)?,
        groups: GroupCondition {
            include: body.string_list("conditions.people.groups.include")?,
            exclude: body.string_list("conditions.people.groups.exclude")?,
        },
        actions,
    })
}
