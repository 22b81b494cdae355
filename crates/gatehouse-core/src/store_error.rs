//! The storage error every store trait returns, in a file of its own so that the traits split
//! across `store` and `store_setup` share it without importing each other.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness constraint was violated; `constraint` names the field (e.g. `login`).
    #[error("conflict on {constraint}")]
    Conflict { constraint: String },
    #[error("storage backend error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The database cannot be reached now (down, restarting, every connection busy): the
    /// request may succeed if retried later. Answered 503, not 500.
    #[error("{0}")]
    Unavailable(#[source] DatabaseUnavailable),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Why the database cannot be reached, inside [`StoreError::Unavailable`]. A type of its own so
/// that [`is_unavailable`] finds it in an error's source chain whatever wraps it (wrappers
/// marked `#[error(transparent)]` hide the `StoreError` itself, not its source).
#[derive(Debug, thiserror::Error)]
#[error("database unavailable: {0}")]
pub struct DatabaseUnavailable(pub Box<dyn std::error::Error + Send + Sync>);

impl StoreError {
    pub fn unavailable(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Unavailable(DatabaseUnavailable(e.into()))
    }
}

/// Whether `e`, or anything in its source chain, is the database being unavailable: the one
/// test the web layer makes to answer 503 instead of 500.
pub fn is_unavailable(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(err) = next {
        if err.is::<DatabaseUnavailable>()
            || matches!(
                err.downcast_ref::<StoreError>(),
                Some(StoreError::Unavailable(_))
            )
        {
            return true;
        }
        next = err.source();
    }
    false
}
