//! `PASSWORD` policies in `/api/v1/policies` (Okta's shape: `settings.password.complexity`,
//! `age`, `lockout`; `conditions.people.groups.include`). `policies.rs` hands a request here
//! when its `type` is `PASSWORD` or its id names a password policy. The rules live in
//! `gatehouse_core::services::passwords::manage`.

use gatehouse_core::domain::*;
use gatehouse_core::services::passwords::manage::PasswordPolicySpec;
use serde_json::{Value, json};

use super::{ApiError, JsonBody, okta_date};

pub(crate) const TYPE: &str = "PASSWORD";

fn link(href: String, methods: &[&str]) -> Value {
    json!({ "href": href, "hints": { "allow": methods } })
}

pub(crate) fn password_policy_json(origin: &str, p: &PasswordPolicy) -> Value {
    let base = format!("{origin}/api/v1/policies/{}", p.id);
    let (op, op_link) = match p.status {
        AppStatus::Active => (
            "deactivate",
            link(format!("{base}/lifecycle/deactivate"), &["POST"]),
        ),
        AppStatus::Inactive => (
            "activate",
            link(format!("{base}/lifecycle/activate"), &["POST"]),
        ),
    };
    let self_methods: &[&str] = if p.system {
        &["GET", "PUT"]
    } else {
        &["GET", "PUT", "DELETE"]
    };
    let mut links = json!({
        "self": link(base.clone(), self_methods),
        "rules": link(format!("{base}/rules"), &["GET"]),
    });
    if !p.system
        && let Some(map) = links.as_object_mut()
    {
        map.insert(op.into(), op_link);
    }
    let s = &p.settings;
    let c = &s.complexity;
    json!({
        "id": p.id,
        "type": TYPE,
        "name": p.name,
        "description": p.description,
        "priority": p.priority,
        "status": p.status.as_str(),
        "system": p.system,
        "conditions": {
            "people": { "groups": { "include": p.groups.include } },
            "authProvider": { "provider": "OKTA" },
        },
        "settings": {
            "password": {
                "complexity": {
                    "minLength": c.min_length,
                    "minLowerCase": c.min_lower_case,
                    "minUpperCase": c.min_upper_case,
                    "minNumber": c.min_number,
                    "minSymbol": c.min_symbol,
                    "excludeUsername": c.exclude_username,
                    "excludeAttributes": c.exclude_attributes,
                    "dictionary": { "common": { "exclude": c.exclude_common } },
                },
                "age": {
                    "maxAgeDays": s.age.max_age_days,
                    "expireWarnDays": s.age.expire_warn_days,
                    "minAgeMinutes": s.age.min_age_minutes,
                    "historyCount": s.age.history_count,
                },
                "lockout": {
                    "maxAttempts": s.lockout.max_attempts,
                    "autoUnlockMinutes": s.lockout.auto_unlock_minutes,
                    "showLockoutFailures": s.lockout.show_lockout_failures,
                    "userLockoutNotificationChannels": [],
                },
            },
            "recovery": { "factors": { "okta_email": { "status": "ACTIVE" } } },
            "delegation": { "options": { "skipUnlock": false } },
        },
        "created": okta_date(p.created),
        "lastUpdated": okta_date(p.last_updated),
        "_links": links,
    })
}

/// A whole number from 0 (the field keeps `current` when absent).
fn count(body: &JsonBody, path: &str, current: u32) -> Result<u32, ApiError> {
    let field = path.rsplit('.').next().unwrap_or(path);
    match body.i64_opt(path)? {
        None => Ok(current),
        Some(n) => u32::try_from(n)
            .map_err(|_| ApiError::validation(field, "must be a whole number from 0")),
    }
}

fn flag(body: &JsonBody, path: &str, current: bool) -> Result<bool, ApiError> {
    Ok(body.bool_opt(path)?.unwrap_or(current))
}

/// Okta's body; absent settings keep `current`'s (the defaults on create).
pub(crate) fn parse_password_policy(
    body: &JsonBody,
    current: Option<&PasswordPolicy>,
) -> Result<PasswordPolicySpec, ApiError> {
    let name = body
        .str_opt("name")?
        .or_else(|| current.map(|p| p.name.clone()))
        .ok_or_else(|| ApiError::validation("name", "this field is required"))?;
    let status = match body.str_opt("status")? {
        None => None,
        Some(s) => Some(
            AppStatus::parse(&s)
                .ok_or_else(|| ApiError::validation("status", "must be ACTIVE or INACTIVE"))?,
        ),
    };
    let d = current.map(|p| p.settings.clone()).unwrap_or_default();
    let cx = "settings.password.complexity";
    let age = "settings.password.age";
    let lk = "settings.password.lockout";
    let exclude_attributes = match body.object(cx)? {
        Some(c) if c.get("excludeAttributes").is_some() => {
            body.string_list(&format!("{cx}.excludeAttributes"))?
        }
        _ => d.complexity.exclude_attributes.clone(),
    };
    let settings = PasswordSettings {
        complexity: PasswordComplexity {
            min_length: count(body, &format!("{cx}.minLength"), d.complexity.min_length)?,
            min_lower_case: count(
                body,
                &format!("{cx}.minLowerCase"),
                d.complexity.min_lower_case,
            )?,
            min_upper_case: count(
                body,
                &format!("{cx}.minUpperCase"),
                d.complexity.min_upper_case,
            )?,
            min_number: count(body, &format!("{cx}.minNumber"), d.complexity.min_number)?,
            min_symbol: count(body, &format!("{cx}.minSymbol"), d.complexity.min_symbol)?,
            exclude_username: flag(
                body,
                &format!("{cx}.excludeUsername"),
                d.complexity.exclude_username,
            )?,
            exclude_attributes,
            exclude_common: flag(
                body,
                &format!("{cx}.dictionary.common.exclude"),
                d.complexity.exclude_common,
            )?,
        },
        age: PasswordAge {
            max_age_days: count(body, &format!("{age}.maxAgeDays"), d.age.max_age_days)?,
            expire_warn_days: count(
                body,
                &format!("{age}.expireWarnDays"),
                d.age.expire_warn_days,
            )?,
            min_age_minutes: count(body, &format!("{age}.minAgeMinutes"), d.age.min_age_minutes)?,
            history_count: count(body, &format!("{age}.historyCount"), d.age.history_count)?,
        },
        lockout: PasswordLockout {
            max_attempts: count(body, &format!("{lk}.maxAttempts"), d.lockout.max_attempts)?,
            auto_unlock_minutes: count(
                body,
                &format!("{lk}.autoUnlockMinutes"),
                d.lockout.auto_unlock_minutes,
            )?,
            show_lockout_failures: flag(
                body,
                &format!("{lk}.showLockoutFailures"),
                d.lockout.show_lockout_failures,
            )?,
        },
    };
    Ok(PasswordPolicySpec {
        name,
        description: body
            .str_opt("description")?
            .or_else(|| current.map(|p| p.description.clone()))
            .unwrap_or_default(),
        priority: body.i64_opt("priority")?,
        status,
        groups_include: body.string_list("conditions.people.groups.include")?,
        settings,
    })
}
