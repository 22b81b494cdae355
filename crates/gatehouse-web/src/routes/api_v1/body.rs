//! JSON request bodies and their typed accessors, in Okta's error shape.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use gatehouse_core::domain::text;
use serde_json::Value;

use super::ApiError;

/// A JSON object body. Whatever the `Content-Type`, a body that is not a JSON object is
/// `E0000003`; field types are checked by the accessors below (`E0000001` naming the field).
pub(crate) struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::MalformedBody(e.body_text()))?;
        JsonBody::from_bytes(&bytes)
    }
}

impl JsonBody {
    /// Parses a JSON object body. Strings must pass the shared input rule
    /// ([`text::forbidden_json_path`]: no control characters but tab and line breaks).
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self, ApiError> {
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| ApiError::MalformedBody(format!("The body is not valid JSON: {e}")))?;
        if !value.is_object() {
            return Err(ApiError::MalformedBody(
                "The body must be a JSON object.".into(),
            ));
        }
        if let Some(path) = text::forbidden_json_path(&value) {
            return Err(ApiError::validation(path, text::FORBIDDEN_CHAR_MESSAGE));
        }
        Ok(JsonBody(value))
    }

    /// The value at a dotted path: `None` when it, or an object on the way, is absent or null.
    fn at(&self, path: &str) -> Result<Option<&Value>, ApiError> {
        let mut cur = &self.0;
        let mut walked = String::new();
        for key in path.split('.') {
            match cur {
                Value::Null => return Ok(None),
                Value::Object(map) => match map.get(key) {
                    Some(v) => cur = v,
                    None => return Ok(None),
                },
                _ => return Err(ApiError::validation(walked, "must be an object")),
            }
            if !walked.is_empty() {
                walked.push('.');
            }
            walked.push_str(key);
        }
        Ok((!cur.is_null()).then_some(cur))
    }

    /// Absent → `None`, null → `Some(None)`, a string → `Some(Some(..))`; anything else is a
    /// validation error naming the field (its last path segment, as Okta does).
    pub(crate) fn string(&self, path: &str) -> Result<Option<Option<String>>, ApiError> {
        let field = path.rsplit('.').next().unwrap_or(path);
        let present = self.present(path)?;
        match self.at(path)? {
            None if present => Ok(Some(None)),
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
            Some(_) => Err(ApiError::validation(field, "must be a string")),
        }
    }

    /// A string field where null means absent.
    pub(crate) fn str_opt(&self, path: &str) -> Result<Option<String>, ApiError> {
        Ok(self.string(path)?.flatten())
    }

    /// Whether the key exists (even as null).
    fn present(&self, path: &str) -> Result<bool, ApiError> {
        let (parent, key) = match path.rsplit_once('.') {
            Some((p, k)) => (self.at(p)?, k),
            None => (Some(&self.0), path),
        };
        Ok(matches!(parent, Some(Value::Object(m)) if m.contains_key(key)))
    }

    pub(crate) fn object(&self, path: &str) -> Result<Option<&Value>, ApiError> {
        match self.at(path)? {
            None => Ok(None),
            Some(v @ Value::Object(_)) => Ok(Some(v)),
            Some(_) => Err(ApiError::validation(path, "must be an object")),
        }
    }

    /// A boolean field; absent or null is `None`.
    pub(crate) fn bool_opt(&self, path: &str) -> Result<Option<bool>, ApiError> {
        let field = path.rsplit('.').next().unwrap_or(path);
        match self.at(path)? {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::validation(field, "must be true or false")),
        }
    }

    /// An integer field; absent or null is `None`.
    pub(crate) fn i64_opt(&self, path: &str) -> Result<Option<i64>, ApiError> {
        let field = path.rsplit('.').next().unwrap_or(path);
        match self.at(path)? {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| ApiError::validation(field, "must be an integer")),
        }
    }

    pub(crate) fn string_list(&self, path: &str) -> Result<Vec<String>, ApiError> {
        match self.at(path)? {
            None => Ok(vec![]),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| ApiError::validation(path, "must be a list of strings"))
                })
                .collect(),
            Some(_) => Err(ApiError::validation(path, "must be a list of strings")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_accessors_name_the_field() {
        let body = JsonBody(serde_json::json!({
            "profile": {"login": "a@b.cd", "firstName": 5, "displayName": null},
            "credentials": "nope",
        }));
        assert_eq!(
            body.str_opt("profile.login").ok().flatten().as_deref(),
            Some("a@b.cd")
        );
        assert!(matches!(body.string("profile.displayName"), Ok(Some(None))));
        assert!(matches!(body.string("profile.email"), Ok(None)));
        assert!(matches!(
            body.string("profile.firstName"),
            Err(ApiError::Validation { field, .. }) if field == "firstName"
        ));
        assert!(matches!(
            body.str_opt("credentials.password.value"),
            Err(ApiError::Validation { field, .. }) if field == "credentials"
        ));
    }

    #[test]
    fn nul_characters_are_refused_naming_the_field() {
        assert!(matches!(
            JsonBody::from_bytes(br#"{"profile":{"names":["a","b\u0000"]}}"#),
            Err(ApiError::Validation { field, .. }) if field == "profile.names"
        ));
        assert!(matches!(
            JsonBody::from_bytes(br#"{"label":"ok","x":{"k\u0000":1}}"#),
            Err(ApiError::Validation { field, .. }) if field == "x.k"
        ));
        assert!(matches!(
            JsonBody::from_bytes(br#"{"label":"a\u0007b"}"#),
            Err(ApiError::Validation { field, .. }) if field == "label"
        ));
        assert!(JsonBody::from_bytes(br#"{"label":"ok","description":"two\nlines"}"#).is_ok());
    }
}
