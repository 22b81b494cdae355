//! LDAP search filters built from configured templates (`(uid={login})`), with every value
//! put in escaped as RFC 4515 §3 requires, so a login like `*)(uid=*` matches only itself.

/// Escapes a value for the inside of an LDAP filter (RFC 4515 §3): `*`, `(`, `)`, `\` and NUL
/// become `\2a`, `\28`, `\29`, `\5c` and `\00`. Other characters, non-ASCII included, pass as
/// their UTF-8 (which the RFC allows).
pub fn escape_filter_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '*' => out.push_str("\\2a"),
            '(' => out.push_str("\\28"),
            ')' => out.push_str("\\29"),
            '\\' => out.push_str("\\5c"),
            '\0' => out.push_str("\\00"),
            c => out.push(c),
        }
    }
    out
}

/// Replaces each `{name}` of `template` with the escaped value given for it. Placeholders with
/// no value are left as they are (the configuration check reports them).
pub fn render_filter(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), &escape_filter_value(value));
    }
    out
}

/// The filter that lists every user: the user filter with its `{login}` as a presence
/// test (`(uid={login})` → `(uid=*)`).
pub fn list_filter(template: &str) -> String {
    template.replace("{login}", "*")
}

/// Checks a configured filter: parenthesised, balanced, and naming only `allowed`
/// placeholders. The message says what is wrong.
pub fn check_template(template: &str, allowed: &[&str]) -> Result<(), String> {
    let t = template.trim();
    if !(t.starts_with('(') && t.ends_with(')')) {
        return Err(format!("'{template}' must be enclosed in parentheses"));
    }
    let mut depth = 0i32;
    for c in t.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return Err(format!("'{template}' has unbalanced parentheses"));
        }
    }
    if depth != 0 {
        return Err(format!("'{template}' has unbalanced parentheses"));
    }
    let mut rest = t;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            return Err(format!("'{template}' has an unclosed '{{'"));
        };
        let name = &after[..end];
        if !allowed.contains(&name) {
            return Err(format!(
                "'{template}' names {{{name}}}; allowed here: {}",
                allowed
                    .iter()
                    .map(|a| format!("{{{a}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        rest = &after[end + 1..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_characters_are_escaped() {
        assert_eq!(escape_filter_value("alice"), "alice");
        assert_eq!(escape_filter_value("a*b"), "a\\2ab");
        assert_eq!(escape_filter_value("(x)"), "\\28x\\29");
        assert_eq!(escape_filter_value("back\\slash"), "back\\5cslash");
        assert_eq!(escape_filter_value("nul\0"), "nul\\00");
        assert_eq!(escape_filter_value("Zoë"), "Zoë");
    }

    #[test]
    fn injection_stays_one_value() {
        // Without escaping, this login would widen the filter to every entry.
        let f = render_filter("(uid={login})", &[("login", "*)(uid=*")]);
        assert_eq!(f, "(uid=\\2a\\29\\28uid=\\2a)");
        assert_eq!(f.matches('(').count(), 1);
        assert_eq!(f.matches(')').count(), 1);
        let f = render_filter(
            "(&(objectClass=person)(|(uid={login})(mail={login})))",
            &[("login", "x)(|(objectClass=*")],
        );
        assert_eq!(
            f,
            "(&(objectClass=person)(|(uid=x\\29\\28|\\28objectClass=\\2a)(mail=x\\29\\28|\\28objectClass=\\2a)))"
        );
    }

    #[test]
    fn group_filters_take_the_dn_and_login() {
        let f = render_filter(
            "(|(member={dn})(memberUid={login}))",
            &[("dn", "uid=a(1),ou=people,dc=example"), ("login", "a(1)")],
        );
        assert_eq!(
            f,
            "(|(member=uid=a\\281\\29,ou=people,dc=example)(memberUid=a\\281\\29))"
        );
    }

    #[test]
    fn listing_uses_a_presence_test() {
        assert_eq!(
            list_filter("(&(objectClass=inetOrgPerson)(uid={login}))"),
            "(&(objectClass=inetOrgPerson)(uid=*))"
        );
    }

    #[test]
    fn templates_are_checked() {
        assert!(check_template("(uid={login})", &["login"]).is_ok());
        assert!(check_template("uid={login}", &["login"]).is_err());
        assert!(check_template("(uid={login}", &["login"]).is_err());
        assert!(check_template("(uid={login}))(", &["login"]).is_err());
        assert!(check_template("(member={dn})", &["login"]).is_err());
        assert!(check_template("(member={dn", &["dn"]).is_err());
    }
}
