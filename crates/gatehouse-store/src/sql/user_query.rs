//! The SQL of a filtered user search (`/api/v1/users` with `filter` or `search`, and `q` in
//! [`plan_quick_search`]), written so that an index serves it at a million users.
//!
//! Filtered results are always in `id` order, paged by keyset (`id > $after`), as Okta's are. An
//! equality on an indexed attribute then walks its `(attribute, id)` index (0029) with no sort.
//! A range (`sw`, `lastUpdated gt`) or an `OR` of them cannot give `id` order, so the
//! search first counts the range's rows up to [`PROBE_CAP`] through its index: a narrow range
//! is enumerated through the index and only the ids sorted; a wide one is dense along `id`, so
//! walking the primary key and filtering reaches a page after about `limit × rows / matches`
//! rows. Either way the work is bounded by about `PROBE_CAP` index entries, whatever the size.

use gatehouse_core::domain::{FilterOp, UserField, UserFilter};

use super::like_literal;

/// Rows counted before a range counts as wide. The two plans cost about `PROBE_CAP` index
/// entries (enumerate) and `limit × users / PROBE_CAP` rows (walk): near the square root of
/// `limit × users` at a million users, where they are equal.
pub(crate) const PROBE_CAP: i64 = 15_000;

/// Which database a query is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// A bound value of a dynamically built query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bind {
    Text(String),
    Int(i64),
}

/// How a comparison is written: `Indexed` in the spelling the 0029 indexes serve; `Walk` in one
/// no index matches (`|| ''`, `+ 0`), so the planner keeps to the primary key's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Indexed,
    Walk,
}

/// The statements of one search: an optional probe (`SELECT COUNT(*)`) whose answer picks
/// between `narrow` (below [`PROBE_CAP`]) and `wide`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SearchPlan {
    /// One statement; its binds end with the limit.
    Direct(String, Vec<Bind>),
    Probe {
        probe: (String, Vec<Bind>),
        narrow: (String, Vec<Bind>),
        wide: (String, Vec<Bind>),
    },
}

struct Writer {
    dialect: Dialect,
    binds: Vec<Bind>,
}

impl Writer {
    fn bind(&mut self, b: Bind) -> String {
        self.binds.push(b);
        format!("${}", self.binds.len())
    }

    /// A case-insensitive profile column, as the expression indexes spell it.
    fn text_column(&self, field: UserField, form: Form) -> Option<String> {
        let base = match field {
            UserField::Login => "login_lower",
            UserField::Email => "lower(email)",
            UserField::FirstName => "lower(first_name)",
            UserField::LastName => "lower(last_name)",
            _ => return None,
        };
        Some(match (form, self.dialect) {
            (Form::Walk, _) => format!("({base} || '')"),
            (Form::Indexed, Dialect::Sqlite) => base.to_owned(),
            // Byte order, like the index: a `>= AND <` range is then exactly a prefix match.
            (Form::Indexed, Dialect::Postgres) => format!("({base} COLLATE \"C\")"),
        })
    }

    fn compare(&mut self, field: UserField, op: FilterOp, value: &str, form: Form) -> String {
        if field == UserField::LastUpdated {
            return self.last_updated(op, value, form);
        }
        if let Some(column) = self.text_column(field, form) {
            let value = value.to_lowercase();
            return match op {
                FilterOp::Eq => format!("{column} = {}", self.bind(Bind::Text(value))),
                FilterOp::Ne => format!("{column} <> {}", self.bind(Bind::Text(value))),
                FilterOp::Sw if form == Form::Indexed => {
                    let low = format!("{column} >= {}", self.bind(Bind::Text(value.clone())));
                    match prefix_upper_bound(&value) {
                        Some(high) => {
                            format!("({low} AND {column} < {})", self.bind(Bind::Text(high)))
                        }
                        None => low,
                    }
                }
                FilterOp::Sw => self.like(&column, format!("{}%", like_literal(&value))),
                FilterOp::Co => self.like(&column, format!("%{}%", like_literal(&value))),
                FilterOp::Pr => format!("{column} <> ''"),
                FilterOp::Gt | FilterOp::Ge | FilterOp::Lt | FilterOp::Le => never(),
            };
        }
        let column = match (field, form) {
            (UserField::Id, Form::Indexed) => "id",
            (UserField::Id, Form::Walk) => "(id || '')",
            (UserField::Status, Form::Indexed) => "status",
            (UserField::Status, Form::Walk) => "(status || '')",
            _ => "lower(COALESCE(display_name, ''))",
        };
        let exact = matches!(field, UserField::Id | UserField::Status);
        let value = if exact {
            value.to_owned()
        } else {
            value.to_lowercase()
        };
        match op {
            FilterOp::Eq => format!("{column} = {}", self.bind(Bind::Text(value))),
            FilterOp::Ne => format!("{column} <> {}", self.bind(Bind::Text(value))),
            FilterOp::Sw => self.like(column, format!("{}%", like_literal(&value))),
            FilterOp::Co => self.like(column, format!("%{}%", like_literal(&value))),
            FilterOp::Pr if field == UserField::DisplayName => {
                "(display_name IS NOT NULL AND display_name <> '')".to_owned()
            }
            FilterOp::Pr => format!("{column} <> ''"),
            FilterOp::Gt | FilterOp::Ge | FilterOp::Lt | FilterOp::Le => never(),
        }
    }

    fn like(&mut self, column: &str, pattern: String) -> String {
        format!(
            "{column} LIKE {} ESCAPE '\\'",
            self.bind(Bind::Text(pattern))
        )
    }

    /// `last_updated` holds Unix seconds; the filter's value is milliseconds (see
    /// [`UserField::LastUpdated`]), turned into the equivalent bound on whole seconds.
    fn last_updated(&mut self, op: FilterOp, value: &str, form: Form) -> String {
        let Ok(ms) = value.parse::<i64>() else {
            // The parser normalises the value; anything else matches nothing.
            return never();
        };
        let column = match form {
            Form::Indexed => "last_updated",
            Form::Walk => "(last_updated + 0)",
        };
        let floor = ms.div_euclid(1000);
        let ceil = floor + i64::from(ms.rem_euclid(1000) != 0);
        let (cmp, secs) = match op {
            FilterOp::Gt => (">", floor),
            FilterOp::Ge => (">=", ceil),
            FilterOp::Lt => ("<", ceil),
            FilterOp::Le => ("<=", floor),
            FilterOp::Eq if floor == ceil => ("=", floor),
            FilterOp::Ne if floor == ceil => ("<>", floor),
            FilterOp::Ne => return "1 = 1".to_owned(),
            _ => return never(),
        };
        format!("{column} {cmp} {}", self.bind(Bind::Int(secs)))
    }

    /// `filter` in `form`, except `indexed` (a conjunct of it) in the indexed form.
    fn filter(&mut self, f: &UserFilter, form: Form, indexed: Option<&UserFilter>) -> String {
        if indexed.is_some_and(|i| std::ptr::eq(i, f)) {
            return self.filter(f, Form::Indexed, None);
        }
        match f {
            UserFilter::And(a, b) => format!(
                "({} AND {})",
                self.filter(a, form, indexed),
                self.filter(b, form, indexed)
            ),
            UserFilter::Or(a, b) => format!(
                "({} OR {})",
                self.filter(a, form, indexed),
                self.filter(b, form, indexed)
            ),
            UserFilter::Not(a) => format!("(NOT {})", self.filter(a, form, indexed)),
            UserFilter::Compare { field, op, value } => self.compare(*field, *op, value, form),
        }
    }
}

fn never() -> String {
    "1 = 0".to_owned()
}

/// The smallest string greater than every string starting with `prefix` (byte order), if any.
fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The top-level conjuncts of a filter.
fn conjuncts(f: &UserFilter) -> Vec<&UserFilter> {
    match f {
        UserFilter::And(a, b) => {
            let mut all = conjuncts(a);
            all.extend(conjuncts(b));
            all
        }
        other => vec![other],
    }
}

/// An equality an `(attribute, id)` index serves in `id` order.
fn keyed_equality(f: &UserFilter) -> bool {
    matches!(
        f,
        UserFilter::Compare { field, op: FilterOp::Eq, .. } if !matches!(
            field,
            UserField::DisplayName | UserField::LastUpdated
        )
    )
}

/// A condition an index can enumerate (not in `id` order): a prefix, an instant range, an
/// equality, or an `OR` of them.
fn enumerable(f: &UserFilter) -> bool {
    match f {
        UserFilter::Or(a, b) => enumerable(a) && enumerable(b),
        UserFilter::Compare { field, op, .. } => match field {
            UserField::Login | UserField::Email | UserField::FirstName | UserField::LastName => {
                matches!(op, FilterOp::Eq | FilterOp::Sw)
            }
            UserField::Id | UserField::Status => *op == FilterOp::Eq,
            UserField::LastUpdated => *op != FilterOp::Ne,
            UserField::DisplayName => false,
        },
        _ => false,
    }
}

impl SearchPlan {
    /// Every statement the plan may run, for plan tests.
    pub(crate) fn statements(self) -> Vec<(String, Vec<Bind>)> {
        match self {
            SearchPlan::Direct(sql, binds) => vec![(sql, binds)],
            SearchPlan::Probe {
                probe,
                narrow,
                wide,
            } => vec![probe, narrow, wide],
        }
    }
}

/// Plans `search_users`: `cols` are the selected columns.
pub(crate) fn plan_search(
    dialect: Dialect,
    cols: &str,
    filter: Option<&UserFilter>,
    after: Option<&str>,
    limit: i64,
) -> SearchPlan {
    let parts = filter.map(conjuncts).unwrap_or_default();
    let keyed = parts.iter().copied().find(|c| keyed_equality(c));
    let driver = parts.iter().copied().find(|c| enumerable(c));
    match (filter, keyed, driver) {
        (Some(f), None, Some(driver)) => {
            let mut w = Writer {
                dialect,
                binds: Vec::new(),
            };
            let range = w.filter(driver, Form::Indexed, None);
            let probe = format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM users WHERE {range} LIMIT {PROBE_CAP}) AS probe"
            );
            let probe = (probe, w.binds);
            let mut w = Writer {
                dialect,
                binds: Vec::new(),
            };
            let mut inner = w.filter(f, Form::Walk, Some(driver));
            if let Some(after) = after {
                let b = w.bind(Bind::Text(after.to_owned()));
                inner.push_str(&format!(" AND (id || '') > {b}"));
            }
            let l = w.bind(Bind::Int(limit));
            // Only ids are sorted; the rows are read for the page alone.
            let narrow = format!(
                "SELECT {cols} FROM users WHERE id IN (SELECT id FROM users WHERE {inner} \
                 ORDER BY (id || '') LIMIT {l}) ORDER BY id"
            );
            let narrow = (narrow, w.binds);
            let wide = walk(dialect, cols, Some(f), None, after, limit);
            SearchPlan::Probe {
                probe,
                narrow,
                wide,
            }
        }
        _ => {
            let (sql, binds) = walk(dialect, cols, filter, keyed, after, limit);
            SearchPlan::Direct(sql, binds)
        }
    }
}

/// In `id` order: through the `keyed` equality's `(attribute, id)` index if any, else along
/// the primary key with every condition as a filter.
fn walk(
    dialect: Dialect,
    cols: &str,
    filter: Option<&UserFilter>,
    keyed: Option<&UserFilter>,
    after: Option<&str>,
    limit: i64,
) -> (String, Vec<Bind>) {
    let mut w = Writer {
        dialect,
        binds: Vec::new(),
    };
    let mut conditions = Vec::new();
    if let Some(f) = filter {
        conditions.push(w.filter(f, Form::Walk, keyed));
    }
    if let Some(after) = after {
        let b = w.bind(Bind::Text(after.to_owned()));
        conditions.push(format!("id > {b}"));
    }
    let mut sql = format!("SELECT {cols} FROM users");
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    let l = w.bind(Bind::Int(limit));
    sql.push_str(&format!(" ORDER BY id LIMIT {l}"));
    (sql, w.binds)
}

/// The profile columns `q=` matches, as their expression indexes spell them (0029).
const QUICK_FIELDS: [UserField; 4] = [
    UserField::FirstName,
    UserField::LastName,
    UserField::Email,
    UserField::Login,
];

/// `q=`: the first `limit` users with a first name, last name, email or login starting with
/// `q` (case-insensitive) and matching `filter`, ordered by the smallest of their matching
/// values (lower-cased, byte order), then `id`. There is no paging (as in Okta).
///
/// Each column's index gives its first `limit` matches in that order, and the first `limit`
/// overall are among their union: a user ahead of another in the overall order is also
/// ahead in the column holding the other's smallest value. So the work is at most four index
/// ranges of `limit` entries, whatever the number of matches.
pub(crate) fn plan_quick_search(
    dialect: Dialect,
    cols: &str,
    q: &str,
    filter: Option<&UserFilter>,
    limit: i64,
) -> (String, Vec<Bind>) {
    let mut w = Writer {
        dialect,
        binds: Vec::new(),
    };
    let l = w.bind(Bind::Int(limit));
    let mut branches = Vec::new();
    for field in QUICK_FIELDS {
        let Some(key) = w.text_column(field, Form::Indexed) else {
            continue;
        };
        let mut cond = w.compare(field, FilterOp::Sw, q, Form::Indexed);
        if let Some(f) = filter {
            cond = format!("{cond} AND {}", w.filter(f, Form::Walk, None));
        }
        branches.push(format!(
            "SELECT * FROM (SELECT id, {key} AS k FROM users WHERE {cond} \
             ORDER BY {key}, id LIMIT {l}) AS b{}",
            branches.len()
        ));
    }
    let sql = format!(
        "SELECT {cols} FROM users JOIN (SELECT id AS mid, MIN(k) AS mk FROM ({}) AS hits \
         GROUP BY id ORDER BY mk, mid LIMIT {l}) AS m ON users.id = m.mid ORDER BY m.mk, m.mid",
        branches.join(" UNION ALL ")
    );
    (sql, w.binds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_bounds() {
        assert_eq!(prefix_upper_bound("ab"), Some("ac".into()));
        assert_eq!(prefix_upper_bound("a\u{10FFFF}"), Some("b".into()));
        assert_eq!(prefix_upper_bound("\u{10FFFF}"), None);
        assert_eq!(prefix_upper_bound(""), None);
        // Skips the surrogate gap.
        assert_eq!(prefix_upper_bound("\u{D7FF}"), Some("\u{E000}".into()));
    }

    #[test]
    fn an_equality_drives_a_keyset_walk() {
        let f = UserFilter::And(
            Box::new(UserFilter::Compare {
                field: UserField::Email,
                op: FilterOp::Sw,
                value: "J".into(),
            }),
            Box::new(UserFilter::Compare {
                field: UserField::LastName,
                op: FilterOp::Eq,
                value: "Doe".into(),
            }),
        );
        let plan = plan_search(Dialect::Sqlite, "id", Some(&f), Some("00u1"), 3);
        assert!(
            matches!(plan, SearchPlan::Direct(..)),
            "an equality needs no probe"
        );
        let (sql, binds) = plan.statements().remove(0);
        assert!(sql.contains("lower(last_name) = $2"), "{sql}");
        assert!(sql.contains("(lower(email) || '') LIKE $1"), "{sql}");
        assert!(sql.ends_with("id > $3 ORDER BY id LIMIT $4"), "{sql}");
        assert_eq!(binds[1], Bind::Text("doe".into()));
    }
}
