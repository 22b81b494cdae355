//! Listing apps: pages of apps by Okta's `filter`, and the apps a user may sign in to.

use crate::domain::*;
use crate::provider::Provider;
use crate::services::directory_rules::DirectoryError;
use crate::services::filter::FilterError;
use crate::services::groups::split_page;
use crate::store::Page;

/// One page of apps matching `query`, and the next cursor.
pub async fn list(
    provider: &Provider,
    query: &AppQuery,
    after: Option<&str>,
    limit: u32,
) -> Result<(Vec<App>, Option<String>), DirectoryError> {
    let limit = limit.max(1);
    let page = Page {
        after,
        limit: limit.saturating_add(1),
    };
    let apps = provider.store.search_apps(query, page).await?;
    Ok(split_page(apps, limit, |a| &a.id))
}

/// Parses Okta's app `filter`: `attr eq "value"` clauses on `id`, `name` and `status`,
/// joined by `and`.
pub fn parse_app_filter(filter: &str) -> Result<AppQuery, FilterError> {
    let mut query = AppQuery::default();
    let mut rest = filter.trim();
    loop {
        let (attr, after_attr) = rest
            .split_once(char::is_whitespace)
            .ok_or_else(|| FilterError(format!("expected `attribute eq \"value\"` in '{rest}'")))?;
        let after_attr = after_attr.trim_start();
        let (op, after_op) = after_attr
            .split_once(char::is_whitespace)
            .ok_or_else(|| FilterError(format!("expected an operator after '{attr}'")))?;
        if !op.eq_ignore_ascii_case("eq") {
            return Err(FilterError(format!(
                "the operator '{op}' is not supported on apps (only eq)"
            )));
        }
        let after_op = after_op.trim_start();
        let quoted = after_op
            .strip_prefix('"')
            .ok_or_else(|| FilterError(format!("the value for '{attr}' must be quoted")))?;
        let (value, tail) = quoted
            .split_once('"')
            .ok_or_else(|| FilterError("unterminated string".into()))?;
        let value = value.to_owned();
        match attr {
            "id" => query.id = Some(value),
            "name" => query.name = Some(value),
            "status" => {
                query.status = Some(AppStatus::parse(&value).ok_or_else(|| {
                    FilterError(format!("'{value}' is not an app status (ACTIVE, INACTIVE)"))
                })?);
            }
            other => {
                return Err(FilterError(format!(
                    "filtering apps on '{other}' is not supported (id, name, status)"
                )));
            }
        }
        let tail = tail.trim();
        if tail.is_empty() {
            return Ok(query);
        }
        let (and, next) = tail
            .split_once(char::is_whitespace)
            .ok_or_else(|| FilterError(format!("unexpected '{tail}'")))?;
        if !and.eq_ignore_ascii_case("and") {
            return Err(FilterError(format!(
                "expected 'and' before '{tail}' (only 'and' joins app filters)"
            )));
        }
        rest = next.trim_start();
    }
}

/// The ACTIVE apps the user may sign in to (directly or through a group), by id.
pub async fn user_apps(provider: &Provider, user: &User) -> Result<Vec<App>, DirectoryError> {
    const CHUNK: u32 = 200;
    let query = AppQuery {
        status: Some(AppStatus::Active),
        ..AppQuery::default()
    };
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = Page {
            after: after.as_deref(),
            limit: CHUNK,
        };
        let apps = provider.store.search_apps(&query, page).await?;
        let done = apps.len() < CHUNK as usize;
        after = apps.last().map(|a| a.id.clone());
        for app in apps {
            if provider.store.is_user_assigned(&app.id, &user.id).await? {
                out.push(app);
            }
        }
        if done {
            return Ok(out);
        }
    }
}
