//! The evaluation table, without I/O: which rule applies, and what the two policies together
//! require.
//!
//! * Global session policy: the ACTIVE `OKTA_SIGN_ON` policies in priority order (the system
//!   default last); the first whose groups include the user and which has a matching ACTIVE
//!   rule decides, with its first matching rule. A policy whose rules all miss the user passes
//!   the decision on to the next policy, as in Okta.
//! * App policy: the app's ACTIVE `ACCESS_POLICY`, its first matching ACTIVE rule.
//! * Combined: denied if either denies; a factor if either asks for one (`requireFactor`, or
//!   `factorMode: 2FA`); the shorter re-authentication interval (the sign-on rule's
//!   `maxSessionLifetimeMinutes`, 0 = none, and the app rule's `reauthenticateIn`);
//!   "remember this device" from the sign-on rule (`factorPromptMode: DEVICE`, for
//!   `factorLifetime` minutes), offered only when a factor is required.

use crate::domain::*;

use super::SignOnRequirement;

/// The outcome of evaluating the policies for one sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignOnDecision {
    Allow(SignOnRequirement),
    /// A `DENY` rule matched: the sign-in is refused.
    Deny {
        policy_id: String,
        rule_id: String,
    },
}

/// The first rule of `policy` matching a member of `group_ids`, if the policy itself does.
fn matching_rule<'a>(p: &'a PolicyWithRules, group_ids: &[String]) -> Option<&'a SignOnRule> {
    if p.policy.status != AppStatus::Active || !p.policy.groups.matches(group_ids) {
        return None;
    }
    p.rules
        .iter()
        .find(|r| r.status == AppStatus::Active && r.groups.matches(group_ids))
}

fn min_some(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Combines the sign-on policies and the app's access policy (as
/// [`crate::store::SignOnPolicyStore::sign_on_policies_for`] returns them: evaluation order)
/// for a member of `group_ids`.
pub fn decide(policies: &[PolicyWithRules], group_ids: &[String]) -> SignOnDecision {
    let mut requirement = SignOnRequirement::default();
    let sign_on = policies
        .iter()
        .filter(|p| p.policy.policy_type == PolicyType::OktaSignOn)
        .find_map(|p| matching_rule(p, group_ids));
    if let Some(rule) = sign_on
        && let RuleActions::SignOn(a) = rule.actions
    {
        if a.access == RuleAccess::Deny {
            return deny(rule);
        }
        if let Some(prompt) = a.factor {
            requirement.require_mfa = true;
            if let FactorPrompt::Device { lifetime_minutes } = prompt {
                requirement.remember_device_for = Some(i64::from(lifetime_minutes) * 60);
                requirement.remember_device_by_default = a.remember_device_by_default;
            }
        }
        if a.max_session_lifetime_minutes > 0 {
            requirement.reauthenticate_after = Some(i64::from(a.max_session_lifetime_minutes) * 60);
        }
    }
    let app = policies
        .iter()
        .filter(|p| p.policy.policy_type == PolicyType::AccessPolicy)
        .find_map(|p| matching_rule(p, group_ids));
    if let Some(rule) = app
        && let RuleActions::AppSignOn(a) = rule.actions
    {
        if a.access == RuleAccess::Deny {
            return deny(rule);
        }
        if a.factor_mode == FactorMode::TwoFactor {
            requirement.require_mfa = true;
        }
        requirement.reauthenticate_after = min_some(
            requirement.reauthenticate_after,
            a.reauthenticate_in.map(IsoDuration::seconds),
        );
    }
    if !requirement.require_mfa {
        requirement.remember_device_for = None;
        requirement.remember_device_by_default = false;
    }
    SignOnDecision::Allow(requirement)
}

fn deny(rule: &SignOnRule) -> SignOnDecision {
    SignOnDecision::Deny {
        policy_id: rule.policy_id.clone(),
        rule_id: rule.id.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    fn policy(
        id: &str,
        kind: PolicyType,
        include: &[&str],
        rules: Vec<SignOnRule>,
    ) -> PolicyWithRules {
        PolicyWithRules {
            policy: SignOnPolicy {
                id: id.into(),
                policy_type: kind,
                name: id.into(),
                description: String::new(),
                priority: 1,
                status: AppStatus::Active,
                system: false,
                groups: GroupCondition {
                    include: ids(include),
                    exclude: vec![],
                },
                created: 0,
                last_updated: 0,
            },
            rules,
        }
    }

    fn rule(id: &str, include: &[&str], exclude: &[&str], actions: RuleActions) -> SignOnRule {
        SignOnRule {
            id: id.into(),
            policy_id: format!("p-{id}"),
            name: id.into(),
            priority: 1,
            status: AppStatus::Active,
            system: false,
            groups: GroupCondition {
                include: ids(include),
                exclude: ids(exclude),
            },
            actions,
            created: 0,
            last_updated: 0,
        }
    }

    fn sign_on(factor: Option<FactorPrompt>, lifetime_minutes: u32) -> RuleActions {
        RuleActions::SignOn(SignOnActions {
            factor,
            max_session_lifetime_minutes: lifetime_minutes,
            ..SignOnActions::default()
        })
    }

    fn app(mode: FactorMode, reauth: Option<&str>) -> RuleActions {
        RuleActions::AppSignOn(AppSignOnActions {
            access: RuleAccess::Allow,
            factor_mode: mode,
            reauthenticate_in: reauth.and_then(IsoDuration::parse),
        })
    }

    fn default_policy() -> PolicyWithRules {
        policy(
            DEFAULT_SIGN_ON_POLICY_ID,
            PolicyType::OktaSignOn,
            &[],
            vec![rule(DEFAULT_SIGN_ON_RULE_ID, &[], &[], sign_on(None, 0))],
        )
    }

    /// The requirement of an allowed sign-in; a denial reads as a requirement no rule makes
    /// (so the assertions on it fail).
    fn allow(d: SignOnDecision) -> SignOnRequirement {
        match d {
            SignOnDecision::Allow(r) => r,
            SignOnDecision::Deny { .. } => SignOnRequirement {
                require_mfa: true,
                reauthenticate_after: Some(-1),
                remember_device_for: Some(-1),
                remember_device_by_default: true,
            },
        }
    }

    #[test]
    fn default_policy_is_password_only() {
        let r = allow(decide(&[default_policy()], &ids(&["everyone"])));
        assert_eq!(r, SignOnRequirement::default());
        assert_eq!(allow(decide(&[], &[])), SignOnRequirement::default());
    }

    #[test]
    fn group_policy_requires_mfa_only_for_members() {
        let admins = policy(
            "admins",
            PolicyType::OktaSignOn,
            &["g-admins"],
            vec![rule(
                "mfa",
                &[],
                &[],
                sign_on(Some(FactorPrompt::Always), 0),
            )],
        );
        let set = [admins, default_policy()];
        assert!(allow(decide(&set, &ids(&["everyone", "g-admins"]))).require_mfa);
        assert!(!allow(decide(&set, &ids(&["everyone"]))).require_mfa);
    }

    #[test]
    fn first_policy_and_first_matching_rule_win() {
        let p = policy(
            "p",
            PolicyType::OktaSignOn,
            &[],
            vec![
                rule(
                    "r1",
                    &["g-a"],
                    &[],
                    sign_on(
                        Some(FactorPrompt::Session {
                            lifetime_minutes: None,
                        }),
                        0,
                    ),
                ),
                rule("r2", &[], &[], sign_on(None, 60)),
            ],
        );
        let set = [p, default_policy()];
        let a = allow(decide(&set, &ids(&["g-a"])));
        assert!(a.require_mfa);
        assert_eq!(a.reauthenticate_after, None);
        let b = allow(decide(&set, &ids(&["g-b"])));
        assert!(!b.require_mfa);
        assert_eq!(b.reauthenticate_after, Some(3_600));
    }

    #[test]
    fn excluded_group_skips_the_rule_and_unmatched_policy_falls_through() {
        let p = policy(
            "p",
            PolicyType::OktaSignOn,
            &[],
            vec![rule(
                "r",
                &[],
                &["g-exempt"],
                sign_on(Some(FactorPrompt::Always), 0),
            )],
        );
        let set = [p, default_policy()];
        assert!(allow(decide(&set, &ids(&["g-x"]))).require_mfa);
        assert!(!allow(decide(&set, &ids(&["g-x", "g-exempt"]))).require_mfa);
    }

    #[test]
    fn inactive_policies_and_rules_are_skipped() {
        let mut p = policy(
            "p",
            PolicyType::OktaSignOn,
            &[],
            vec![rule("r", &[], &[], sign_on(Some(FactorPrompt::Always), 0))],
        );
        p.policy.status = AppStatus::Inactive;
        assert!(!allow(decide(&[p.clone(), default_policy()], &[])).require_mfa);
        p.policy.status = AppStatus::Active;
        p.rules[0].status = AppStatus::Inactive;
        assert!(!allow(decide(&[p, default_policy()], &[])).require_mfa);
    }

    #[test]
    fn deny_rules_deny() {
        let mut deny_rule = rule("r", &["g-banned"], &[], sign_on(None, 0));
        if let RuleActions::SignOn(a) = &mut deny_rule.actions {
            a.access = RuleAccess::Deny;
        }
        let set = [
            policy("p", PolicyType::OktaSignOn, &[], vec![deny_rule]),
            default_policy(),
        ];
        assert!(matches!(
            decide(&set, &ids(&["g-banned"])),
            SignOnDecision::Deny { .. }
        ));
        let mut app_deny = policy(
            "a",
            PolicyType::AccessPolicy,
            &[],
            vec![rule("ar", &[], &[], app(FactorMode::OneFactor, None))],
        );
        if let RuleActions::AppSignOn(a) = &mut app_deny.rules[0].actions {
            a.access = RuleAccess::Deny;
        }
        assert!(matches!(
            decide(&[default_policy(), app_deny], &[]),
            SignOnDecision::Deny { .. }
        ));
    }

    #[test]
    fn app_policy_adds_mfa_and_the_shorter_reauthentication_wins() {
        let session = policy(
            "s",
            PolicyType::OktaSignOn,
            &[],
            vec![rule("sr", &[], &[], sign_on(None, 120))],
        );
        let app2fa = policy(
            "a",
            PolicyType::AccessPolicy,
            &[],
            vec![rule(
                "ar",
                &[],
                &[],
                app(FactorMode::TwoFactor, Some("PT30M")),
            )],
        );
        let r = allow(decide(&[session.clone(), app2fa], &[]));
        assert!(r.require_mfa);
        assert_eq!(r.reauthenticate_after, Some(1_800));
        let app_long = policy(
            "a",
            PolicyType::AccessPolicy,
            &[],
            vec![rule(
                "ar",
                &[],
                &[],
                app(FactorMode::OneFactor, Some("PT12H")),
            )],
        );
        let r = allow(decide(&[session, app_long], &[]));
        assert!(!r.require_mfa);
        assert_eq!(r.reauthenticate_after, Some(7_200));
        let every_time = policy(
            "a",
            PolicyType::AccessPolicy,
            &[],
            vec![rule(
                "ar",
                &[],
                &[],
                app(FactorMode::OneFactor, Some("PT0S")),
            )],
        );
        let r = allow(decide(&[default_policy(), every_time], &[]));
        assert_eq!(r.reauthenticate_after, Some(0));
    }

    #[test]
    fn remember_device_comes_from_the_sign_on_rule() {
        let device = policy(
            "s",
            PolicyType::OktaSignOn,
            &[],
            vec![rule(
                "sr",
                &[],
                &[],
                sign_on(
                    Some(FactorPrompt::Device {
                        lifetime_minutes: 60 * 24,
                    }),
                    0,
                ),
            )],
        );
        let r = allow(decide(&[device], &[]));
        assert!(r.require_mfa);
        assert_eq!(r.remember_device_for, Some(86_400));
        // MFA from the app alone: nothing to remember.
        let app2fa = policy(
            "a",
            PolicyType::AccessPolicy,
            &[],
            vec![rule("ar", &[], &[], app(FactorMode::TwoFactor, None))],
        );
        let r = allow(decide(&[default_policy(), app2fa], &[]));
        assert!(r.require_mfa);
        assert_eq!(r.remember_device_for, None);
    }
}
