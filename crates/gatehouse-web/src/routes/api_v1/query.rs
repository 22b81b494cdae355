//! Query parameters, page limits, and the `Link` header of paginated lists.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};

use super::ApiError;

/// Query parameters, decoded leniently (never a rejection; a NUL character never gets this far,
/// see `hygiene.rs`).
pub(crate) struct Query(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.query().unwrap_or_default();
        Ok(Query(
            url::form_urlencoded::parse(raw.as_bytes())
                .into_owned()
                .collect(),
        ))
    }
}

impl Query {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// `limit`, defaulting to `default` and capped at `max`.
    pub(crate) fn limit(&self, default: u32, max: u32) -> Result<u32, ApiError> {
        match self.get("limit") {
            None => Ok(default),
            Some(raw) => match raw.parse::<i64>() {
                Ok(n) if n < 0 => Ok(default),
                Ok(n) => Ok(u32::try_from(n).unwrap_or(max).clamp(1, max)),
                Err(_) => Err(ApiError::validation("limit", "must be an integer")),
            },
        }
    }

    /// A boolean parameter (`true`/`false`, any case).
    pub(crate) fn bool(&self, name: &str, default: bool) -> Result<bool, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(_) => Err(ApiError::validation(name, "must be true or false")),
        }
    }

    /// The same query with `after` replaced.
    fn with_after(&self, after: Option<&str>) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            if k != "after" {
                out.append_pair(k, v);
            }
        }
        if let Some(a) = after {
            out.append_pair("after", a);
        }
        out.finish()
    }
}

/// `Link: <…>; rel="self"` and, when there is a next page, `, <…>; rel="next"`: absolute URLs
/// built from the request's origin (Node's SDK follows `next` as is), in one comma-joined
/// header (the Python SDK reads only one `Link` header).
pub(crate) fn pagination_links(
    origin: &str,
    path: &str,
    query: &Query,
    next: Option<&str>,
) -> HeaderMap {
    let url = |q: String| {
        if q.is_empty() {
            format!("{origin}{path}")
        } else {
            format!("{origin}{path}?{q}")
        }
    };
    let mut link = format!(
        "<{}>; rel=\"self\"",
        url(query.with_after(query.get("after")))
    );
    if let Some(next) = next {
        link.push_str(&format!(
            ", <{}>; rel=\"next\"",
            url(query.with_after(Some(next)))
        ));
    }
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&link) {
        headers.insert(header::LINK, v);
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(raw: &str) -> Query {
        Query(
            url::form_urlencoded::parse(raw.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    #[test]
    fn limits_default_cap_and_reject_garbage() {
        assert_eq!(query("").limit(200, 200).ok(), Some(200));
        assert_eq!(query("limit=5").limit(200, 200).ok(), Some(5));
        assert_eq!(query("limit=100000").limit(200, 200).ok(), Some(200));
        assert_eq!(query("limit=0").limit(200, 200).ok(), Some(1));
        assert_eq!(query("limit=-1").limit(200, 200).ok(), Some(200));
        assert!(query("limit=ten").limit(200, 200).is_err());
    }

    #[test]
    fn next_link_is_absolute_and_keeps_the_query() {
        let q = query("search=status+eq+%22ACTIVE%22&limit=2&after=00u1");
        let h = pagination_links("http://h:1", "/api/v1/users", &q, Some("00u9"));
        let link = h
            .get(header::LINK)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert_eq!(
            link,
            "<http://h:1/api/v1/users?search=status+eq+%22ACTIVE%22&limit=2&after=00u1>; rel=\"self\", \
             <http://h:1/api/v1/users?search=status+eq+%22ACTIVE%22&limit=2&after=00u9>; rel=\"next\""
        );
        let last = pagination_links("http://h:1", "/api/v1/users", &query(""), None);
        assert_eq!(
            last.get(header::LINK).and_then(|v| v.to_str().ok()),
            Some("<http://h:1/api/v1/users>; rel=\"self\"")
        );
    }
}
