//! RFC 6749 / OIDC protocol errors. The web crate maps these to JSON bodies, redirects or the
//! error page in one place.

use crate::keys::KeyError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    InvalidClient(String),
    #[error("{0}")]
    InvalidGrant(String),
    #[error("{0}")]
    UnauthorizedClient(String),
    #[error("{0}")]
    UnsupportedGrantType(String),
    #[error("{0}")]
    UnsupportedResponseType(String),
    #[error("{0}")]
    InvalidScope(String),
    #[error("{0}")]
    AccessDenied(String),
    /// `access_denied` because no access policy or rule of the server allows the request
    /// (answered with 400 at the token endpoint, as Okta does).
    #[error("{0}")]
    PolicyDenied(String),
    #[error("{0}")]
    LoginRequired(String),
    /// OIDC Core §3.1.2.6: `prompt=none`, but the user must first consent.
    #[error("{0}")]
    ConsentRequired(String),
    #[error("{0}")]
    InvalidToken(String),
    /// OIDC Core §3.1.2.6: request objects (`request`) are not supported.
    #[error("{0}")]
    RequestNotSupported(String),
    /// OIDC Core §3.1.2.6: `request_uri` is not supported (for this client: it registered none).
    #[error("{0}")]
    RequestUriNotSupported(String),
    /// OIDC Core §3.1.2.6: the request object is invalid (signature, claims, format).
    #[error("{0}")]
    InvalidRequestObject(String),
    /// OIDC Core §3.1.2.6: the `request_uri` is not registered, cannot be fetched, or holds no
    /// usable request object.
    #[error("{0}")]
    InvalidRequestUri(String),
    /// RFC 6749 §4.1.2.1: a per-address budget is spent; try again later (429 when answered
    /// directly).
    #[error("{0}")]
    TemporarilyUnavailable(String),
    /// `invalid_client` (401) without checking the credentials: too many failed client
    /// authentications for this client or address (see `client_throttle`).
    #[error("Too many failed client authentications. Retry after {retry_after} seconds.")]
    ClientThrottled { retry_after: i64 },
    /// RFC 8628 §3.5: the user has not answered yet.
    #[error("{0}")]
    AuthorizationPending(String),
    /// RFC 8628 §3.5: polling faster than the interval; it grows by 5 seconds.
    #[error("{0}")]
    SlowDown(String),
    /// RFC 8628 §3.5: the device code expired.
    #[error("{0}")]
    ExpiredToken(String),
    /// RFC 8628 §3.5: the user denied the device (400 `access_denied`).
    #[error("{0}")]
    DeviceDenied(String),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl OAuthError {
    /// The RFC 6749 `error` code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient(_) | Self::ClientThrottled { .. } => "invalid_client",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::UnauthorizedClient(_) => "unauthorized_client",
            Self::UnsupportedGrantType(_) => "unsupported_grant_type",
            Self::UnsupportedResponseType(_) => "unsupported_response_type",
            Self::InvalidScope(_) => "invalid_scope",
            Self::AccessDenied(_) | Self::PolicyDenied(_) | Self::DeviceDenied(_) => {
                "access_denied"
            }
            Self::AuthorizationPending(_) => "authorization_pending",
            Self::SlowDown(_) => "slow_down",
            Self::ExpiredToken(_) => "expired_token",
            Self::LoginRequired(_) => "login_required",
            Self::ConsentRequired(_) => "consent_required",
            Self::InvalidToken(_) => "invalid_token",
            Self::RequestNotSupported(_) => "request_not_supported",
            Self::RequestUriNotSupported(_) => "request_uri_not_supported",
            Self::InvalidRequestObject(_) => "invalid_request_object",
            Self::InvalidRequestUri(_) => "invalid_request_uri",
            Self::TemporarilyUnavailable(_) => "temporarily_unavailable",
            Self::Internal(e) if crate::store::is_unavailable(e.as_ref()) => {
                "temporarily_unavailable"
            }
            Self::Internal(_) => "server_error",
        }
    }

    /// An internal error caused by the database being unreachable (answered 503).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Internal(e) if crate::store::is_unavailable(e.as_ref()))
    }

    /// The `error_description`. Internal errors never leak their cause.
    pub fn description(&self) -> String {
        match self {
            Self::Internal(_) if self.is_unavailable() => {
                "The service is temporarily unavailable. Try again later.".into()
            }
            Self::Internal(_) => "The server encountered an internal error.".into(),
            other => other.to_string(),
        }
    }

    /// The HTTP status for a direct (JSON) response, as Okta answers.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidClient(_) | Self::InvalidToken(_) | Self::ClientThrottled { .. } => 401,
            Self::AccessDenied(_) => 403,
            Self::TemporarilyUnavailable(_) => 429,
            Self::Internal(_) if self.is_unavailable() => 503,
            Self::Internal(_) => 500,
            _ => 400,
        }
    }

    /// Seconds the client should wait before retrying (`Retry-After`), when that is known.
    pub fn retry_after(&self) -> Option<i64> {
        match self {
            Self::ClientThrottled { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(e))
    }
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        Self::internal(e)
    }
}

impl From<KeyError> for OAuthError {
    fn from(e: KeyError) -> Self {
        Self::internal(e)
    }
}
