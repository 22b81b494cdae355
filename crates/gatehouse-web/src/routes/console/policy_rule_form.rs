//! The rule form of the console's sign-on policy pages (`policies.rs`): its values, read from
//! a submitted form or from a stored rule, turned into a [`RuleSpec`] with the fields in
//! error; and the one-line summary of a rule.

use gatehouse_core::domain::*;
use gatehouse_core::services::sign_on_policy::manage::RuleSpec;

use super::{FieldErrors, Form};

/// The rule form's values, for an empty form or one to show again.
pub(super) struct RuleForm {
    pub(super) name: String,
    pub(super) include: Vec<String>,
    pub(super) exclude: Vec<String>,
    pub(super) deny: bool,
    pub(super) require_factor: bool,
    pub(super) prompt: &'static str,
    pub(super) factor_lifetime: String,
    pub(super) remember_by_default: bool,
    pub(super) session_lifetime: String,
    pub(super) two_factor: bool,
    pub(super) reauthenticate_in: String,
}

impl RuleForm {
    pub(super) fn empty() -> Self {
        Self {
            name: String::new(),
            include: vec![],
            exclude: vec![],
            deny: false,
            require_factor: true,
            prompt: "ALWAYS",
            factor_lifetime: String::new(),
            remember_by_default: false,
            session_lifetime: "0".into(),
            two_factor: true,
            reauthenticate_in: String::new(),
        }
    }

    pub(super) fn of(rule: &SignOnRule) -> Self {
        let mut f = Self::empty();
        f.name = rule.name.clone();
        f.include = rule.groups.include.clone();
        f.exclude = rule.groups.exclude.clone();
        match &rule.actions {
            RuleActions::SignOn(a) => {
                f.deny = a.access == RuleAccess::Deny;
                f.require_factor = a.factor.is_some();
                if let Some(p) = a.factor {
                    f.prompt = p.mode().as_str();
                    if let FactorPrompt::Device { lifetime_minutes }
                    | FactorPrompt::Session {
                        lifetime_minutes: Some(lifetime_minutes),
                    } = p
                    {
                        f.factor_lifetime = lifetime_minutes.to_string();
                    }
                }
                f.remember_by_default = a.remember_device_by_default;
                f.session_lifetime = a.max_session_lifetime_minutes.to_string();
            }
            RuleActions::AppSignOn(a) => {
                f.deny = a.access == RuleAccess::Deny;
                f.two_factor = a.factor_mode == FactorMode::TwoFactor;
                f.reauthenticate_in = a
                    .reauthenticate_in
                    .map(|d| d.to_string())
                    .unwrap_or_default();
            }
        }
        f
    }

    pub(super) fn read(form: &Form) -> Self {
        Self {
            name: form.get("name").to_owned(),
            include: form.all("include"),
            exclude: form.all("exclude"),
            deny: form.get("access") == "DENY",
            require_factor: form.checked("require_factor"),
            prompt: FactorPromptMode::parse(form.get("prompt"))
                .unwrap_or(FactorPromptMode::Always)
                .as_str(),
            factor_lifetime: form.get("factor_lifetime").to_owned(),
            remember_by_default: form.checked("remember_by_default"),
            session_lifetime: form.get("session_lifetime").to_owned(),
            two_factor: form.get("factor_mode") != "1FA",
            reauthenticate_in: form.get("reauthenticate_in").to_owned(),
        }
    }

    /// The rule this form describes for a policy of `kind`, or the fields in error.
    pub(super) fn spec(&self, kind: PolicyType) -> Result<RuleSpec, FieldErrors> {
        let mut errors = FieldErrors::default();
        let access = if self.deny {
            RuleAccess::Deny
        } else {
            RuleAccess::Allow
        };
        let minutes = |errors: &mut FieldErrors, field: &str, raw: &str, min: u32| -> Option<u32> {
            if raw.is_empty() {
                return None;
            }
            match raw.parse::<u32>() {
                Ok(m) if (min..=525_600).contains(&m) => Some(m),
                _ => {
                    errors.add(field, format!("Enter whole minutes from {min} to 525600."));
                    None
                }
            }
        };
        let actions = match kind {
            PolicyType::OktaSignOn => {
                let lifetime = minutes(&mut errors, "factor_lifetime", &self.factor_lifetime, 1);
                let factor = match (self.require_factor, FactorPromptMode::parse(self.prompt)) {
                    (false, _) => None,
                    (true, Some(FactorPromptMode::Device)) => match lifetime {
                        Some(m) => Some(FactorPrompt::Device {
                            lifetime_minutes: m,
                        }),
                        None => {
                            if errors.get("factor_lifetime").is_none() {
                                errors.add(
                                    "factor_lifetime",
                                    "Say how many minutes a device is remembered.",
                                );
                            }
                            None
                        }
                    },
                    (true, Some(FactorPromptMode::Session)) => Some(FactorPrompt::Session {
                        lifetime_minutes: lifetime,
                    }),
                    (true, _) => Some(FactorPrompt::Always),
                };
                RuleActions::SignOn(SignOnActions {
                    access,
                    factor,
                    remember_device_by_default: self.remember_by_default,
                    max_session_lifetime_minutes: minutes(
                        &mut errors,
                        "session_lifetime",
                        &self.session_lifetime,
                        0,
                    )
                    .unwrap_or(0),
                    ..SignOnActions::default()
                })
            }
            PolicyType::AccessPolicy => {
                let reauthenticate_in = if self.reauthenticate_in.is_empty() {
                    None
                } else {
                    let parsed = IsoDuration::parse(&self.reauthenticate_in);
                    if parsed.is_none() {
                        errors.add(
                            "reauthenticate_in",
                            "Enter an ISO-8601 duration such as PT2H, PT30M or PT0S.",
                        );
                    }
                    parsed
                };
                RuleActions::AppSignOn(AppSignOnActions {
                    access,
                    factor_mode: if self.two_factor {
                        FactorMode::TwoFactor
                    } else {
                        FactorMode::OneFactor
                    },
                    reauthenticate_in,
                })
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(RuleSpec {
            name: self.name.clone(),
            priority: None,
            status: None,
            groups: GroupCondition {
                include: self.include.clone(),
                exclude: self.exclude.clone(),
            },
            actions,
        })
    }
}

/// `MFA (ALWAYS)`, `2FA, re-authenticate after PT30M`, `DENY`.
pub(super) fn summary(rule: &SignOnRule) -> String {
    let what = match &rule.actions {
        RuleActions::SignOn(a) if a.access == RuleAccess::Deny => "DENY".to_owned(),
        RuleActions::SignOn(a) => match a.factor {
            None => "password only".to_owned(),
            Some(FactorPrompt::Device { lifetime_minutes }) => {
                format!("MFA, device remembered {lifetime_minutes} min")
            }
            Some(p) => format!("MFA ({})", p.mode()),
        },
        RuleActions::AppSignOn(a) if a.access == RuleAccess::Deny => "DENY".to_owned(),
        RuleActions::AppSignOn(a) => match a.reauthenticate_in {
            Some(d) => format!("{}, re-authenticate after {d}", a.factor_mode),
            None => a.factor_mode.to_string(),
        },
    };
    let off = if rule.status == AppStatus::Inactive {
        " (inactive)"
    } else {
        ""
    };
    format!("{}: {what}{off}", rule.name)
}
