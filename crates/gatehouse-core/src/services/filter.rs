//! Okta's user `filter=` / `search=` expressions (a SCIM-like subset). (`q=` is no expression:
//! the store matches it, see `UserStore::quick_search_users`.)
//!
//! Grammar (keywords and operators ignore case, attribute names do not):
//!
//! ```text
//! expr   := term ("or" term)*
//! term   := factor ("and" factor)*
//! factor := "not" factor | "(" expr ")" | attr op value | attr "pr"
//! op     := eq | ne | sw | co | gt | ge | lt | le
//! value  := "string" (with \" and \\ escapes) | true | false | null
//! ```
//!
//! Attributes: `id`, `status`, `profile.login|email|firstName|lastName|displayName`, and
//! `lastUpdated` (an ISO 8601 instant, compared with `eq ne gt ge lt le`, the only attribute
//! that takes the ordering operators).
//!
//! The System Log's `filter=` (in `system_log`) uses the same parser over its own attributes,
//! with quoted values only ([`FilterLanguage`]).

use crate::domain::{FilterOp, UserField, UserFilter, UserStatus};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FilterError(pub String);

fn err<T>(message: impl Into<String>) -> Result<T, FilterError> {
    Err(FilterError(message.into()))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    Word(String),
    Str(String),
    Open,
    Close,
}

pub(crate) fn tokenize(input: &str) -> Result<Vec<Token>, FilterError> {
    let mut tokens = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' => {
                chars.next();
                tokens.push(Token::Close);
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return err("unterminated string"),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e) => s.push(e),
                            None => return err("unterminated string"),
                        },
                        Some(other) => s.push(other),
                    }
                }
                tokens.push(Token::Str(s));
            }
            _ => {
                let mut w = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '"') {
                        break;
                    }
                    w.push(c);
                    chars.next();
                }
                tokens.push(Token::Word(w));
            }
        }
    }
    Ok(tokens)
}

/// One filter language: the attributes it knows and the expression tree it builds. The users'
/// `filter=`/`search=` and the System Log's `filter=` share the grammar above and differ only
/// here.
pub(crate) trait FilterLanguage: Sized {
    type Field: Copy;
    /// Unquoted `true`, `false` and `null` are accepted as values (lowercased).
    const BARE_LITERALS: bool;
    fn field(attr: &str) -> Option<Self::Field>;
    /// A comparison; the place to refuse a value the field can never hold.
    fn compare(field: Self::Field, op: FilterOp, value: String) -> Result<Self, FilterError>;
    fn and(left: Self, right: Self) -> Self;
    fn or(left: Self, right: Self) -> Self;
    fn not(inner: Self) -> Self;
    /// The error for text left after a complete expression.
    fn trailing(extra: &Token) -> FilterError;
}

/// Parses `input` in language `L` (bounded in length and nesting).
pub(crate) fn parse_filter<L: FilterLanguage>(input: &str) -> Result<L, FilterError> {
    if input.len() > 4096 {
        return err("the expression is too long");
    }
    let tokens = tokenize(input)?;
    if tokens.is_empty() {
        return err("the expression is empty");
    }
    let mut parser = Parser {
        tokens,
        pos: 0,
        language: std::marker::PhantomData::<L>,
    };
    let filter = parser.expr(0)?;
    if let Some(extra) = parser.peek() {
        return Err(L::trailing(extra));
    }
    Ok(filter)
}

struct Parser<L> {
    tokens: Vec<Token>,
    pos: usize,
    language: std::marker::PhantomData<L>,
}

impl<L: FilterLanguage> Parser<L> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn peek_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn expr(&mut self, depth: usize) -> Result<L, FilterError> {
        if depth > 32 {
            return err("the expression is nested too deeply");
        }
        let mut left = self.term(depth)?;
        while self.peek_keyword("or") {
            self.pos += 1;
            let right = self.term(depth)?;
            left = L::or(left, right);
        }
        Ok(left)
    }

    fn term(&mut self, depth: usize) -> Result<L, FilterError> {
        let mut left = self.factor(depth)?;
        while self.peek_keyword("and") {
            self.pos += 1;
            let right = self.factor(depth)?;
            left = L::and(left, right);
        }
        Ok(left)
    }

    fn factor(&mut self, depth: usize) -> Result<L, FilterError> {
        if self.peek_keyword("not") {
            self.pos += 1;
            return Ok(L::not(self.factor(depth + 1)?));
        }
        match self.next() {
            Some(Token::Open) => {
                let inner = self.expr(depth + 1)?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => err("missing ')'"),
                }
            }
            Some(Token::Word(attr)) => self.comparison(&attr),
            Some(Token::Str(s)) => err(format!("expected an attribute, found \"{s}\"")),
            Some(Token::Close) => err("unexpected ')'"),
            None => err("unexpected end of expression"),
        }
    }

    fn comparison(&mut self, attr: &str) -> Result<L, FilterError> {
        let field =
            L::field(attr).ok_or_else(|| FilterError(format!("'{attr}' cannot be filtered on")))?;
        let op = match self.next() {
            Some(Token::Word(op)) => match op.to_ascii_lowercase().as_str() {
                "eq" => FilterOp::Eq,
                "ne" => FilterOp::Ne,
                "sw" => FilterOp::Sw,
                "co" => FilterOp::Co,
                "pr" => FilterOp::Pr,
                "gt" => FilterOp::Gt,
                "ge" => FilterOp::Ge,
                "lt" => FilterOp::Lt,
                "le" => FilterOp::Le,
                other => return err(format!("unsupported operator '{other}'")),
            },
            _ => return err(format!("expected an operator after '{attr}'")),
        };
        if op == FilterOp::Pr {
            return L::compare(field, op, String::new());
        }
        let value = match self.next() {
            Some(Token::Str(s)) => s,
            Some(Token::Word(w))
                if L::BARE_LITERALS
                    && matches!(w.to_ascii_lowercase().as_str(), "true" | "false" | "null") =>
            {
                w.to_ascii_lowercase()
            }
            _ => return err(format!("expected a quoted value after '{attr}'")),
        };
        L::compare(field, op, value)
    }
}

impl FilterLanguage for UserFilter {
    type Field = UserField;
    const BARE_LITERALS: bool = true;

    fn field(attr: &str) -> Option<UserField> {
        Some(match attr {
            "id" => UserField::Id,
            "status" => UserField::Status,
            "profile.login" => UserField::Login,
            "profile.email" => UserField::Email,
            "profile.firstName" => UserField::FirstName,
            "profile.lastName" => UserField::LastName,
            "profile.displayName" => UserField::DisplayName,
            "lastUpdated" => UserField::LastUpdated,
            _ => return None,
        })
    }

    fn compare(field: UserField, op: FilterOp, value: String) -> Result<Self, FilterError> {
        let ordering = matches!(
            op,
            FilterOp::Gt | FilterOp::Ge | FilterOp::Lt | FilterOp::Le
        );
        if field == UserField::LastUpdated {
            if matches!(op, FilterOp::Sw | FilterOp::Co | FilterOp::Pr) {
                return err("lastUpdated is compared with eq, ne, gt, ge, lt or le");
            }
            let ms = crate::audit::parse_instant_ms(&value)
                .ok_or_else(|| FilterError(format!("'{value}' is not an ISO 8601 instant")))?;
            return Ok(UserFilter::Compare {
                field,
                op,
                value: ms.to_string(),
            });
        }
        if ordering {
            return err("gt, ge, lt and le apply to lastUpdated only");
        }
        if field == UserField::Status
            && matches!(op, FilterOp::Eq | FilterOp::Ne)
            && UserStatus::parse(&value).is_none()
        {
            return err(format!("'{value}' is not a user status"));
        }
        Ok(UserFilter::Compare { field, op, value })
    }

    fn and(left: Self, right: Self) -> Self {
        UserFilter::And(Box::new(left), Box::new(right))
    }

    fn or(left: Self, right: Self) -> Self {
        UserFilter::Or(Box::new(left), Box::new(right))
    }

    fn not(inner: Self) -> Self {
        UserFilter::Not(Box::new(inner))
    }

    fn trailing(extra: &Token) -> FilterError {
        FilterError(format!("unexpected {extra:?} after the expression"))
    }
}

/// Parses a `filter=` or `search=` expression.
pub fn parse_user_filter(input: &str) -> Result<UserFilter, FilterError> {
    parse_filter(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(field: UserField, op: FilterOp, value: &str) -> UserFilter {
        UserFilter::Compare {
            field,
            op,
            value: value.into(),
        }
    }

    #[test]
    fn simple_comparisons() {
        assert_eq!(
            parse_user_filter(r#"status eq "ACTIVE""#),
            Ok(cmp(UserField::Status, FilterOp::Eq, "ACTIVE"))
        );
        assert_eq!(
            parse_user_filter(r#"profile.login eq "a@b.c""#),
            Ok(cmp(UserField::Login, FilterOp::Eq, "a@b.c"))
        );
        assert_eq!(
            parse_user_filter(r#"  profile.email   SW "x"  "#),
            Ok(cmp(UserField::Email, FilterOp::Sw, "x"))
        );
        assert_eq!(
            parse_user_filter(r#"id eq "00u1""#),
            Ok(cmp(UserField::Id, FilterOp::Eq, "00u1"))
        );
        assert_eq!(
            parse_user_filter("profile.displayName pr"),
            Ok(cmp(UserField::DisplayName, FilterOp::Pr, ""))
        );
    }

    #[test]
    fn and_binds_tighter_than_or_and_parentheses_group() {
        let a = cmp(UserField::Status, FilterOp::Eq, "ACTIVE");
        let b = cmp(UserField::FirstName, FilterOp::Sw, "J");
        let c = cmp(UserField::LastName, FilterOp::Eq, "Doe");
        assert_eq!(
            parse_user_filter(
                r#"status eq "ACTIVE" or profile.firstName sw "J" and profile.lastName eq "Doe""#
            ),
            Ok(UserFilter::Or(
                Box::new(a.clone()),
                Box::new(UserFilter::And(Box::new(b.clone()), Box::new(c.clone())))
            ))
        );
        assert_eq!(
            parse_user_filter(
                r#"(status eq "ACTIVE" OR profile.firstName sw "J") AND profile.lastName eq "Doe""#
            ),
            Ok(UserFilter::And(
                Box::new(UserFilter::Or(Box::new(a.clone()), Box::new(b))),
                Box::new(c)
            ))
        );
        assert_eq!(
            parse_user_filter(r#"not (status eq "ACTIVE")"#),
            Ok(UserFilter::Not(Box::new(a)))
        );
    }

    #[test]
    fn last_updated_is_an_instant_in_milliseconds() {
        assert_eq!(
            parse_user_filter(r#"lastUpdated gt "2024-01-02T03:04:05.678Z""#),
            Ok(cmp(UserField::LastUpdated, FilterOp::Gt, "1704164645678"))
        );
        assert_eq!(
            parse_user_filter(r#"lastUpdated LE "1970-01-01T00:00:01Z""#),
            Ok(cmp(UserField::LastUpdated, FilterOp::Le, "1000"))
        );
    }

    #[test]
    fn escapes_in_strings() {
        assert_eq!(
            parse_user_filter(r#"profile.lastName eq "O\"Brien\\""#),
            Ok(cmp(UserField::LastName, FilterOp::Eq, "O\"Brien\\"))
        );
    }

    #[test]
    fn syntax_errors() {
        for bad in [
            "",
            "status",
            "status eq",
            "status eq ACTIVE",
            r#"status eq "ACTIVE"#,
            r#"status eq "HAPPY""#,
            r#"status gt "ACTIVE""#,
            r#"profile.lastName lt "x""#,
            r#"lastUpdated gt "yesterday""#,
            r#"lastUpdated sw "2024""#,
            "lastUpdated pr",
            r#"profile.nickName eq "x""#,
            r#"(status eq "ACTIVE""#,
            r#"status eq "ACTIVE")"#,
            r#"status eq "ACTIVE" and"#,
            r#"status eq "ACTIVE" "x""#,
            r#""x" eq "y""#,
        ] {
            assert!(parse_user_filter(bad).is_err(), "{bad:?} should not parse");
        }
        let deep = format!("{}status eq \"ACTIVE\"{}", "(".repeat(100), ")".repeat(100));
        assert!(parse_user_filter(&deep).is_err());
    }
}
