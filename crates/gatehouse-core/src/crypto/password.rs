use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::{Arc, LazyLock};
use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("the hashing task was cancelled")]
    Cancelled,
}

/// OWASP's first recommended argon2id configuration: m = 19 MiB, t = 2, p = 1.
fn argon2() -> Result<Argon2<'static>, PasswordError> {
    let params =
        Params::new(19 * 1024, 2, 1, None).map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes in progress at once, at most: one per core this process may run on. Each argon2id
/// hash holds its 19 MiB for its whole run; unbounded, a burst of sign-ins held that much per
/// request (0.9 GiB for the benchmark's 8 concurrent flows, glibc keeping the blocks in
/// per-thread arenas), and more hashes than cores only share the cores anyway. Waiting
/// requests queue in order (the semaphore is fair); every sign-in, known user or not, takes
/// the same path, so the wait reveals nothing.
static HASHING: LazyLock<Arc<Semaphore>> = LazyLock::new(|| {
    Arc::new(Semaphore::new(
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
    ))
});

/// Runs `work` on a blocking thread once a hashing permit is free. The permit travels with
/// the work, so a request that gives up does not free it while its hash still runs.
async fn bounded<T: Send + 'static>(
    permits: &Arc<Semaphore>,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, PasswordError> {
    let permit = permits
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| PasswordError::Cancelled)?;
    tokio::task::spawn_blocking(move || {
        let out = work();
        drop(permit);
        out
    })
    .await
    .map_err(|_| PasswordError::Cancelled)
}

/// Hashes on a blocking thread: argon2id takes tens of milliseconds and must not stall the runtime.
pub async fn hash_password(password: String) -> Result<String, PasswordError> {
    bounded(&HASHING, move || {
        let mut salt_bytes = [0u8; 16];
        rand::Rng::fill(&mut rand::rng(), &mut salt_bytes);
        let salt =
            SaltString::encode_b64(&salt_bytes).map_err(|e| PasswordError::Hash(e.to_string()))?;
        argon2()?
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| PasswordError::Hash(e.to_string()))
    })
    .await?
}

/// A dummy hash verified when the user does not exist, so the response time does not reveal
/// whether an account exists.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$9n7hYWJbZ0FjXxpOVdSbQ6XzCwPfb8RQmTb1vI1xXUw";

/// Verifies on a blocking thread. `hash = None` verifies against a dummy so timing is the same.
pub async fn verify_password(
    password: String,
    hash: Option<String>,
) -> Result<bool, PasswordError> {
    bounded(&HASHING, move || {
        let real = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let parsed = PasswordHash::new(&hash).map_err(|e| PasswordError::Hash(e.to_string()))?;
        let ok = argon2()?
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(real && ok)
    })
    .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_more_hashes_run_at_once_than_there_are_permits() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let permits = Arc::new(Semaphore::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let (permits, running, most) = (permits.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    bounded(&permits, move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
                })
            })
            .collect();
        for t in tasks {
            assert!(matches!(t.await, Ok(Ok(()))));
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let h = hash_password("correct horse".into())
            .await
            .unwrap_or_default();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            verify_password("correct horse".into(), Some(h.clone()))
                .await
                .unwrap_or(false)
        );
        assert!(
            !verify_password("wrong".into(), Some(h))
                .await
                .unwrap_or(true)
        );
        assert!(
            !verify_password("anything".into(), None)
                .await
                .unwrap_or(true)
        );
    }
}
