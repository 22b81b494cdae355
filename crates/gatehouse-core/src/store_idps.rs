//! Storage for upstream identity providers and the states of sign-ins sent to them.
//! Re-exported by [`crate::store`], whose [`crate::store::Store`] includes [`IdpStore`].

use async_trait::async_trait;

use crate::domain::{Idp, IdpState, Timestamp};
use crate::store_error::StoreResult;

#[async_trait]
pub trait IdpStore: Send + Sync {
    /// Fails with `Conflict { constraint: "name" }` when the name is taken.
    async fn create_idp(&self, idp: &Idp) -> StoreResult<()>;
    async fn find_idp(&self, id: &str) -> StoreResult<Option<Idp>>;
    /// Every IdP, ordered by id (an org has a handful).
    async fn list_idps(&self) -> StoreResult<Vec<Idp>>;
    /// Fails with `NotFound` for an unknown id, `Conflict` on a taken name.
    async fn update_idp(&self, idp: &Idp) -> StoreResult<()>;
    /// Removes the IdP and its pending states; its users stay, with their source.
    async fn delete_idp(&self, id: &str) -> StoreResult<()>;
    /// Stores a sign-in state (and drops expired ones).
    async fn create_idp_state(&self, state: &IdpState, now: Timestamp) -> StoreResult<()>;
    /// Spends the state: deletes and returns it in one statement, so it is used at most once;
    /// `None` when unknown, already spent or expired.
    async fn take_idp_state(
        &self,
        state_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<IdpState>>;
    /// The user whose `source` record is `source` with `external_id`.
    async fn find_user_id_by_source(
        &self,
        source: &str,
        external_id: &str,
    ) -> StoreResult<Option<String>>;
}
