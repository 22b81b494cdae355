//! The input rules every entry point shares: which characters text may hold, and how long the
//! free-text fields may be. One place, so `/api/v1`, client registration, the console and the
//! OAuth endpoints cannot drift apart.

use serde_json::Value;

/// Control characters are in no name, URI or profile value; tab, line feed and carriage return
/// are the exceptions (descriptions and claim expressions may span lines). NUL matters most:
/// PostgreSQL cannot store it in text, so it would turn a write into a database error.
pub fn is_forbidden_char(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// Whether `s` holds a character [`is_forbidden_char`] refuses.
pub fn has_forbidden_char(s: &str) -> bool {
    s.chars().any(is_forbidden_char)
}

/// The message every entry point gives for [`has_forbidden_char`].
pub const FORBIDDEN_CHAR_MESSAGE: &str = "must not contain control characters";

/// The dotted path (`profile.name`, array items under their array's path) of the first string
/// in a JSON document, key or value, that holds a forbidden character; `None` when all are
/// clean. A forbidden key is named without its forbidden characters.
pub fn forbidden_json_path(value: &Value) -> Option<String> {
    walk(value, "")
}

fn walk(value: &Value, path: &str) -> Option<String> {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_owned()
        } else {
            format!("{path}.{k}")
        }
    };
    match value {
        Value::String(s) if has_forbidden_char(s) => Some(path.to_owned()),
        Value::Array(items) => items.iter().find_map(|i| walk(i, path)),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if has_forbidden_char(k) {
                Some(join(&k.replace(is_forbidden_char, "")))
            } else {
                walk(v, &join(k))
            }
        }),
        _ => None,
    }
}

/// Free-text limits, counted in characters as Okta's (and JSON Schema's) limits are. A request
/// body is at most 64 kB anyway; these keep single values to what a person would type.
pub mod limits {
    /// A user's `displayName` (and other free-text profile strings).
    pub const PROFILE_TEXT: usize = 1024;
    /// A user's `firstName` and `lastName` (Okta's base profile).
    pub const PERSON_NAME: usize = 50;
    /// A group's `name` (Okta's).
    pub const GROUP_NAME: usize = 255;
    /// A group's `description` (Okta's).
    pub const GROUP_DESCRIPTION: usize = 1024;
    /// An app's `label`.
    pub const APP_LABEL: usize = 100;
    /// Other names an administrator gives (authorization servers, scopes, policies, rules).
    pub const NAME: usize = 255;
    /// Other descriptions.
    pub const DESCRIPTION: usize = 1024;
}

/// [`check_max_chars`] and no forbidden character: the rule for free text.
pub fn check_free_text(value: &str, max: usize) -> Result<(), String> {
    check_max_chars(value, max)?;
    if has_forbidden_char(value) {
        return Err(FORBIDDEN_CHAR_MESSAGE.to_owned());
    }
    Ok(())
}

/// `Err(message)` when `value` has more than `max` characters.
pub fn check_max_chars(value: &str, max: usize) -> Result<(), String> {
    if value.chars().count() > max {
        Err(format!("must be at most {max} characters"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_except_line_breaks_and_tabs() {
        assert!(has_forbidden_char("a\0b"));
        assert!(has_forbidden_char("a\u{1}b"));
        assert!(has_forbidden_char("a\u{7f}"));
        assert!(has_forbidden_char("a\u{85}"));
        assert!(!has_forbidden_char("line one\r\nline two\tend"));
        assert!(!has_forbidden_char("Zoë ✓"));
    }

    #[test]
    fn paths_name_the_field() {
        let v = serde_json::json!({"a": {"b": ["ok", "x\u{0}"]}});
        assert_eq!(forbidden_json_path(&v).as_deref(), Some("a.b"));
        let v = serde_json::json!({"k\u{0}": 1});
        assert_eq!(forbidden_json_path(&v).as_deref(), Some("k"));
        assert_eq!(forbidden_json_path(&serde_json::json!({"a": "b\n"})), None);
    }

    #[test]
    fn lengths_count_characters() {
        assert!(check_max_chars(&"é".repeat(10), 10).is_ok());
        assert!(check_max_chars(&"é".repeat(11), 10).is_err());
    }
}
