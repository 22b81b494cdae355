use super::Ctx;
use crate::oauth2::OAuthError;

pub(super) struct Prompt {
    pub login: bool,
    pub none: bool,
    pub consent: bool,
    pub max_age: Option<i64>,
}

/// `prompt` (none, login, consent; `none` alone) and `max_age` (a non-negative integer).
pub(super) fn run(ctx: &Ctx<'_>) -> Result<Prompt, OAuthError> {
    let values: Vec<&str> = ctx
        .params
        .prompt
        .as_deref()
        .unwrap_or_default()
        .split(' ')
        .filter(|p| !p.is_empty())
        .collect();
    if let Some(bad) = values
        .iter()
        .find(|v| !matches!(**v, "none" | "login" | "consent" | "select_account"))
    {
        return Err(OAuthError::InvalidRequest(format!(
            "The `prompt` value '{bad}' is not supported."
        )));
    }
    let none = values.contains(&"none");
    if none && values.len() > 1 {
        return Err(OAuthError::InvalidRequest(
            "The `prompt` value 'none' cannot be combined with other values.".into(),
        ));
    }
    let max_age = match ctx.params.max_age.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(raw.parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| {
            OAuthError::InvalidRequest(
                "The `max_age` parameter must be a non-negative integer.".into(),
            )
        })?),
    };
    Ok(Prompt {
        login: values.contains(&"login"),
        none,
        consent: values.contains(&"consent"),
        max_age,
    })
}
