//! The pure half of a password policy: does a password meet the complexity rules, and the
//! wording of the rules for people (Okta's "Password requirements: at least 8 characters, …").

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::domain::PasswordComplexity;

/// The 10,000 most common passwords (Royce Williams' list as Django ships it, lower case,
/// most common first).
static COMMON_TEXT: &str = include_str!("../../../data/common-passwords.txt");

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    COMMON_TEXT
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
});

/// Whether `password` is on the common-password list (compared in lower case).
pub fn is_common(password: &str) -> bool {
    COMMON.contains(password.to_lowercase().as_str())
}

/// How many passwords the deny list holds.
pub fn common_count() -> usize {
    COMMON.len()
}

/// A character-class rule: minimum, the test, its wording for one and for several.
type CharClass = (u32, fn(&char) -> bool, &'static str, &'static str);

/// Whom the password belongs to, for the rules that refuse parts of the profile.
#[derive(Debug, Clone, Copy, Default)]
pub struct Owner<'a> {
    pub login: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
}

/// Okta's list of requirements, e.g. "at least 8 characters, a lowercase letter, no parts of
/// your username".
pub fn requirements(c: &PasswordComplexity) -> String {
    let mut parts = vec![format!("at least {} characters", c.min_length.max(1))];
    let mut class = |n: u32, one: &str, many: &str| match n {
        0 => {}
        1 => parts.push(one.to_owned()),
        n => parts.push(format!("at least {n} {many}")),
    };
    class(c.min_lower_case, "a lowercase letter", "lowercase letters");
    class(c.min_upper_case, "an uppercase letter", "uppercase letters");
    class(c.min_number, "a number", "numbers");
    class(c.min_symbol, "a symbol", "symbols");
    if c.exclude_username {
        parts.push("no parts of your username".into());
    }
    for a in &c.exclude_attributes {
        match a.as_str() {
            "firstName" => parts.push("does not include your first name".into()),
            "lastName" => parts.push("does not include your last name".into()),
            _ => {}
        }
    }
    if c.exclude_common {
        parts.push("not a commonly used password".into());
    }
    parts.join(", ")
}

/// The first rule `password` breaks, in the words of [`requirements`]; `None` if it meets them.
pub fn first_violation(c: &PasswordComplexity, password: &str, owner: Owner<'_>) -> Option<String> {
    let count = |f: fn(&char) -> bool| password.chars().filter(f).count() as u64;
    if (password.chars().count() as u64) < u64::from(c.min_length.max(1)) {
        return Some(format!("at least {} characters", c.min_length.max(1)));
    }
    let classes: [CharClass; 4] = [
        (
            c.min_lower_case,
            |ch| ch.is_lowercase(),
            "a lowercase letter",
            "lowercase letters",
        ),
        (
            c.min_upper_case,
            |ch| ch.is_uppercase(),
            "an uppercase letter",
            "uppercase letters",
        ),
        (c.min_number, char::is_ascii_digit, "a number", "numbers"),
        (
            c.min_symbol,
            |ch| !ch.is_alphanumeric() && !ch.is_whitespace(),
            "a symbol",
            "symbols",
        ),
    ];
    for (min, pred, one, many) in classes {
        if count(pred) < u64::from(min) {
            return Some(if min == 1 {
                one.to_owned()
            } else {
                format!("at least {min} {many}")
            });
        }
    }
    let lower = password.to_lowercase();
    let contains = |part: &str| {
        let part = part.trim().to_lowercase();
        part.chars().count() >= 3 && lower.contains(&part)
    };
    if c.exclude_username {
        let name = owner.login.split('@').next().unwrap_or_default();
        if contains(name) {
            return Some("no parts of your username".into());
        }
    }
    for a in &c.exclude_attributes {
        let (value, what) = match a.as_str() {
            "firstName" => (owner.first_name, "first name"),
            "lastName" => (owner.last_name, "last name"),
            _ => continue,
        };
        if contains(value) {
            return Some(format!("does not include your {what}"));
        }
    }
    if c.exclude_common && is_common(password) {
        return Some("not a commonly used password".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> PasswordComplexity {
        PasswordComplexity {
            min_length: 10,
            min_lower_case: 1,
            min_upper_case: 1,
            min_number: 1,
            min_symbol: 1,
            exclude_username: true,
            exclude_attributes: vec!["firstName".into(), "lastName".into()],
            exclude_common: true,
        }
    }

    const ADA: Owner<'static> = Owner {
        login: "ada.lovelace@example.com",
        first_name: "Ada",
        last_name: "Lovelace",
    };

    #[test]
    fn the_list_is_shipped_and_holds_the_usual_suspects() {
        assert!(common_count() >= 9_900, "{}", common_count());
        for p in ["123456", "password", "qwerty", "Password", "iloveyou"] {
            assert!(is_common(p), "{p}");
        }
        assert!(!is_common("vX9#mq2!Lp7&"));
    }

    #[test]
    fn each_rule_is_reported() {
        let c = strict();
        let cases = [
            ("Sh0rt!", "at least 10 characters"),
            ("NOLOWER123!!", "lowercase"),
            ("noupper123!!", "uppercase"),
            ("NoNumbers!!!", "number"),
            ("NoSymbols123", "symbol"),
            ("Ada.Lovelace1!", "username"),
            ("Xx-lovelace-9", "last name"),
        ];
        for (pw, want) in cases {
            let got = first_violation(&c, pw, ADA).unwrap_or_default();
            assert!(got.contains(want), "{pw}: {got}");
        }
        assert_eq!(first_violation(&c, "Tr0ub4dor&3-horse", ADA), None);
        let loose = PasswordComplexity {
            exclude_common: true,
            ..Default::default()
        };
        assert!(first_violation(&loose, "password1", ADA).is_some());
        assert!(requirements(&c).starts_with("at least 10 characters, a lowercase letter"));
    }
}
