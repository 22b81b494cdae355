//! Revoking everything a user holds (grants, refresh and access tokens, API tokens, sessions)
//! in one transaction: [`LogoutStore::end_sessions`] of all the user's sessions, which also
//! queues their back-channel logouts.

use async_trait::async_trait;
use gatehouse_core::domain::Timestamp;
use gatehouse_core::store::{
    AccountRevocationStore, EndSessions, LogoutStore, SessionScope, StoreResult,
};

use crate::sql::SqlStore;

macro_rules! impl_account_store {
    ($db:ty) => {
        #[async_trait]
        impl AccountRevocationStore for SqlStore<$db> {
            async fn revoke_user_credentials(
                &self,
                user_id: &str,
                now: Timestamp,
                keep_api_tokens: bool,
            ) -> StoreResult<()> {
                self.end_sessions(&EndSessions {
                    scope: SessionScope::User {
                        user_id,
                        except: None,
                    },
                    oauth_tokens: true,
                    api_tokens: !keep_api_tokens,
                    now,
                })
                .await?;
                Ok(())
            }
        }
    };
}

impl_account_store!(sqlx::Sqlite);
impl_account_store!(sqlx::Postgres);
