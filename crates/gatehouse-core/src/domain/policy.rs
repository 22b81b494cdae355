//! Sign-on policies as Okta models them: a policy (`OKTA_SIGN_ON`, the global session policy, or
//! `ACCESS_POLICY`, an app's authentication policy) holds prioritised rules; a rule's conditions
//! select people by group and its actions say what a sign-in needs.
//!
//! The rule actions are parsed types: a stored or received rule cannot say "require a factor"
//! without a prompt mode, nor carry a re-authentication interval that is not a duration.

use serde::{Deserialize, Serialize};

use super::{AppStatus, Timestamp};

macro_rules! policy_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $wire)] $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $wire),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($wire => Some(Self::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

policy_enum!(
    /// `OKTA_SIGN_ON`: the global session policy (who may sign in, and with which factors);
    /// `ACCESS_POLICY`: an app's authentication policy, assigned to apps.
    PolicyType { OktaSignOn => "OKTA_SIGN_ON", AccessPolicy => "ACCESS_POLICY" }
);

impl PolicyType {
    /// Okta's `type` of this policy's rules.
    pub fn rule_type(self) -> &'static str {
        match self {
            Self::OktaSignOn => "SIGN_ON",
            Self::AccessPolicy => "ACCESS_POLICY",
        }
    }
}

policy_enum!(
    /// `actions.signon.access` / `actions.appSignOn.access`.
    RuleAccess { Allow => "ALLOW", Deny => "DENY" }
);

policy_enum!(
    /// When a required factor is asked: at every sign-in (`ALWAYS`), once per device
    /// (`DEVICE`, the device may be remembered for `factorLifetime` minutes), or once per
    /// session (`SESSION`).
    FactorPromptMode { Always => "ALWAYS", Device => "DEVICE", Session => "SESSION" }
);

policy_enum!(
    /// `actions.appSignOn.verificationMethod.factorMode`.
    FactorMode { OneFactor => "1FA", TwoFactor => "2FA" }
);

/// `conditions.people.groups`: an empty `include` selects everyone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupCondition {
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
}

impl GroupCondition {
    /// Whether a member of `group_ids` is selected: in an included group (or `include` is
    /// empty) and in no excluded group.
    pub fn matches(&self, group_ids: &[String]) -> bool {
        let included =
            self.include.is_empty() || self.include.iter().any(|g| group_ids.contains(g));
        included && !self.exclude.iter().any(|g| group_ids.contains(g))
    }
}

/// A policy (without its rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOnPolicy {
    pub id: String,
    pub policy_type: PolicyType,
    pub name: String,
    pub description: String,
    /// 1 is evaluated first. The system policy is evaluated after every other policy.
    pub priority: i64,
    pub status: AppStatus,
    /// The built-in default `OKTA_SIGN_ON` policy: cannot be deleted.
    pub system: bool,
    /// Only `include` is used at the policy level.
    pub groups: GroupCondition,
    pub created: Timestamp,
    pub last_updated: Timestamp,
}

/// The id of the default `OKTA_SIGN_ON` policy (and its rule), created by migration 0017.
pub const DEFAULT_SIGN_ON_POLICY_ID: &str = "00psignondefault0000";
pub const DEFAULT_SIGN_ON_RULE_ID: &str = "0prsignondefault0000";

/// An ISO-8601 duration limited to days, hours, minutes and seconds (`PT2H`, `P1D`, `PT0S`),
/// held as whole seconds. Years, months and weeks are refused: their length is not fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsoDuration(i64);

impl IsoDuration {
    /// At most ten years: anything longer is a typo, and the product stays far from overflow.
    pub const MAX_SECONDS: i64 = 10 * 366 * 86_400;

    pub fn from_seconds(seconds: i64) -> Option<Self> {
        (0..=Self::MAX_SECONDS)
            .contains(&seconds)
            .then_some(Self(seconds))
    }

    pub fn seconds(self) -> i64 {
        self.0
    }

    /// `P[nD][T[nH][nM][nS]]`, upper case as ISO-8601 writes it (lower case accepted).
    pub fn parse(raw: &str) -> Option<Self> {
        let s = raw.trim().to_ascii_uppercase();
        let rest = s.strip_prefix('P')?;
        let (date, time) = match rest.split_once('T') {
            Some((d, t)) => {
                if t.is_empty() {
                    return None;
                }
                (d, Some(t))
            }
            None => (rest, None),
        };
        if date.is_empty() && time.is_none() {
            return None;
        }
        let mut total: i64 = 0;
        total = total.checked_add(Self::fields(date, &[('D', 86_400)])?)?;
        if let Some(t) = time {
            total = total.checked_add(Self::fields(t, &[('H', 3_600), ('M', 60), ('S', 1)])?)?;
        }
        Self::from_seconds(total)
    }

    /// `digits unit` pairs in `units` order, each at most once.
    fn fields(mut s: &str, units: &[(char, i64)]) -> Option<i64> {
        let mut total: i64 = 0;
        let mut next_unit = 0;
        while !s.is_empty() {
            let digits = s.find(|c: char| !c.is_ascii_digit())?;
            if digits == 0 || digits > 9 {
                return None;
            }
            let value: i64 = s[..digits].parse().ok()?;
            let unit = s[digits..].chars().next()?;
            let pos = units[next_unit..].iter().position(|(u, _)| *u == unit)? + next_unit;
            total = total.checked_add(value.checked_mul(units[pos].1)?)?;
            next_unit = pos + 1;
            s = &s[digits + unit.len_utf8()..];
        }
        Some(total)
    }
}

/// Stored as whole seconds.
impl Serialize for IsoDuration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.0)
    }
}

impl<'de> Deserialize<'de> for IsoDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let seconds = i64::deserialize(d)?;
        Self::from_seconds(seconds).ok_or_else(|| serde::de::Error::custom("duration out of range"))
    }
}

impl std::fmt::Display for IsoDuration {
    /// The shortest form in hours, minutes and seconds: `PT2H`, `PT1H30M`, `PT0S`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (h, m, s) = (self.0 / 3_600, self.0 % 3_600 / 60, self.0 % 60);
        f.write_str("PT")?;
        if h > 0 {
            write!(f, "{h}H")?;
        }
        if m > 0 {
            write!(f, "{m}M")?;
        }
        if s > 0 || self.0 == 0 {
            write!(f, "{s}S")?;
        }
        Ok(())
    }
}

/// A required factor on an `OKTA_SIGN_ON` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FactorPrompt {
    Always,
    /// The device may be remembered for this many minutes (Okta's `factorLifetime`).
    Device {
        lifetime_minutes: u32,
    },
    /// Once per session; `lifetime_minutes` (Okta's `factorLifetime`) is stored and echoed,
    /// a session's factor is not asked again within it.
    Session {
        lifetime_minutes: Option<u32>,
    },
}

impl FactorPrompt {
    pub fn mode(self) -> FactorPromptMode {
        match self {
            Self::Always => FactorPromptMode::Always,
            Self::Device { .. } => FactorPromptMode::Device,
            Self::Session { .. } => FactorPromptMode::Session,
        }
    }
}

/// `actions.signon` of an `OKTA_SIGN_ON` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOnActions {
    pub access: RuleAccess,
    /// `None`: the password alone (`requireFactor: false`).
    pub factor: Option<FactorPrompt>,
    /// `rememberDeviceByDefault`: the "remember this device" box starts checked.
    pub remember_device_by_default: bool,
    /// `session.maxSessionIdleMinutes`.
    pub max_session_idle_minutes: u32,
    /// `session.maxSessionLifetimeMinutes`; 0 means no limit.
    pub max_session_lifetime_minutes: u32,
    /// `session.usePersistentCookie`.
    pub use_persistent_cookie: bool,
}

impl Default for SignOnActions {
    /// Okta's default rule: allowed with the password alone, two hours idle, no lifetime limit.
    fn default() -> Self {
        Self {
            access: RuleAccess::Allow,
            factor: None,
            remember_device_by_default: false,
            max_session_idle_minutes: 120,
            max_session_lifetime_minutes: 0,
            use_persistent_cookie: false,
        }
    }
}

/// `actions.appSignOn` of an `ACCESS_POLICY` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppSignOnActions {
    pub access: RuleAccess,
    pub factor_mode: FactorMode,
    /// `verificationMethod.reauthenticateIn`: how long a sign-in is good for this app;
    /// `PT0S` asks every time.
    pub reauthenticate_in: Option<IsoDuration>,
}

impl Default for AppSignOnActions {
    fn default() -> Self {
        Self {
            access: RuleAccess::Allow,
            factor_mode: FactorMode::OneFactor,
            reauthenticate_in: None,
        }
    }
}

/// A rule's actions: always the kind its policy's type calls for. Stored as JSON with a
/// `kind` tag (`SignOn`, `AppSignOn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum RuleActions {
    SignOn(SignOnActions),
    AppSignOn(AppSignOnActions),
}

impl RuleActions {
    pub fn policy_type(&self) -> PolicyType {
        match self {
            Self::SignOn(_) => PolicyType::OktaSignOn,
            Self::AppSignOn(_) => PolicyType::AccessPolicy,
        }
    }

    pub fn default_for(policy_type: PolicyType) -> Self {
        match policy_type {
            PolicyType::OktaSignOn => Self::SignOn(SignOnActions::default()),
            PolicyType::AccessPolicy => Self::AppSignOn(AppSignOnActions::default()),
        }
    }
}

/// A policy rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOnRule {
    pub id: String,
    pub policy_id: String,
    pub name: String,
    /// 1 is evaluated first within its policy.
    pub priority: i64,
    pub status: AppStatus,
    /// The default policy's default rule: cannot be deleted.
    pub system: bool,
    pub groups: GroupCondition,
    pub actions: RuleActions,
    pub created: Timestamp,
    pub last_updated: Timestamp,
}

/// A policy with its rules in priority order: what evaluation reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyWithRules {
    pub policy: SignOnPolicy,
    pub rules: Vec<SignOnRule>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_days_hours_minutes_seconds() {
        let secs = |s: &str| IsoDuration::parse(s).map(IsoDuration::seconds);
        assert_eq!(secs("PT2H"), Some(7_200));
        assert_eq!(secs("PT1H30M"), Some(5_400));
        assert_eq!(secs("P1D"), Some(86_400));
        assert_eq!(secs("P1DT1S"), Some(86_401));
        assert_eq!(secs("PT0S"), Some(0));
        assert_eq!(secs("pt15m"), Some(900));
        for bad in [
            "",
            "P",
            "PT",
            "2H",
            "PT2",
            "PTH",
            "P1Y",
            "P1M",
            "P1W",
            "PT1M2H",
            "PT1H1H",
            "PT-1H",
            "PT1.5H",
            "P1H",
            "PT99999999999H",
            "P4000D",
        ] {
            assert_eq!(IsoDuration::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn durations_print_shortest() {
        let show = |s: i64| IsoDuration::from_seconds(s).map(|d| d.to_string());
        assert_eq!(show(0).as_deref(), Some("PT0S"));
        assert_eq!(show(7_200).as_deref(), Some("PT2H"));
        assert_eq!(show(5_430).as_deref(), Some("PT1H30M30S"));
        assert_eq!(show(86_400).as_deref(), Some("PT24H"));
        assert_eq!(show(-1), None);
    }

    #[test]
    fn group_conditions() {
        let g = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let everyone = GroupCondition::default();
        assert!(everyone.matches(&[]));
        let c = GroupCondition {
            include: g(&["a", "b"]),
            exclude: g(&["x"]),
        };
        assert!(c.matches(&g(&["b"])));
        assert!(!c.matches(&g(&["c"])));
        assert!(!c.matches(&g(&["a", "x"])));
    }
}
