use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("the hashing task was cancelled")]
    Cancelled,
}

/// OWASP's first recommended argon2id configuration: m = 19 MiB, t = 2, p = 1.
const M_COST_KIB: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

fn params() -> Result<Params, PasswordError> {
    Params::new(M_COST_KIB, T_COST, P_COST, None).map_err(|e| PasswordError::Hash(e.to_string()))
}

/// The working memory of one argon2id hash: `M_COST_KIB` blocks of 1 KiB.
///
/// It is reserved with room for more blocks than it holds, so that the reservation is above
/// glibc's largest mmap threshold (32 MiB on 64-bit): glibc then always maps it on its own and
/// unmaps it when it is freed, and the 19 MiB go back to the system at once. A smaller block
/// would raise glibc's dynamic mmap threshold after its first free, come from a per-thread
/// arena from then on and stay resident there for good (one 19 MiB block in each arena that a
/// blocking thread had used: 239 MiB under sign-in load). Only the blocks in use are ever
/// touched, so the spare capacity costs address space and no memory.
const RESERVED_BLOCKS: usize = 33 * 1024;

fn new_memory(blocks: usize) -> Vec<Block> {
    let mut memory = Vec::with_capacity(RESERVED_BLOCKS.max(blocks));
    memory.resize(blocks, Block::new());
    memory
}

/// Hashes in progress at once, at most: one per core this process may run on (more would only
/// share the cores). Waiting requests queue in order (the semaphore is fair); every sign-in,
/// known user or not, takes the same path, so the wait reveals nothing.
///
/// The working memory goes from one hash to the next while others wait, so a burst of
/// sign-ins neither allocates and faults in 19 MiB per hash nor clears it (argon2's first
/// pass overwrites every block before any is read). When nobody is waiting the memory is
/// freed, so an idle server holds none of it.
struct Hashing {
    permits: Arc<Semaphore>,
    /// Hashes waiting for a permit.
    waiting: AtomicUsize,
    /// Working memory kept for the next hash: at most one per permit.
    spare: Mutex<Vec<Vec<Block>>>,
    most: usize,
}

impl Hashing {
    fn new(permits: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(permits)),
            waiting: AtomicUsize::new(0),
            spare: Mutex::new(Vec::new()),
            most: permits,
        }
    }

    fn take_memory(&self, blocks: usize) -> Vec<Block> {
        let reused = self
            .spare
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match reused {
            Some(memory) if memory.len() == blocks => memory,
            _ => new_memory(blocks),
        }
    }

    /// Keeps `memory` for a hash that waits for a permit, or frees it.
    fn give_back(&self, memory: Vec<Block>) {
        if self.waiting.load(Ordering::SeqCst) == 0 {
            return;
        }
        let mut spare = self.spare.lock().unwrap_or_else(PoisonError::into_inner);
        if spare.len() < self.most {
            spare.push(memory);
        }
    }

    #[cfg(test)]
    fn spare_count(&self) -> usize {
        self.spare
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Runs `work` on a blocking thread once a permit is free, with working memory of
    /// `blocks` blocks. The permit travels with the work, so a request that gives up does not
    /// free it while its hash still runs.
    async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        blocks: usize,
        work: impl FnOnce(&mut [Block]) -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let permit = self.permits.clone().acquire_owned().await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        let permit = permit.map_err(|_| PasswordError::Cancelled)?;
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let mut memory = this.take_memory(blocks);
            let out = work(&mut memory);
            this.give_back(memory);
            drop(permit);
            out
        })
        .await
        .map_err(|_| PasswordError::Cancelled)
    }
}

static HASHING: LazyLock<Arc<Hashing>> = LazyLock::new(|| {
    Arc::new(Hashing::new(
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
    ))
});

/// Hashes on a blocking thread: argon2id takes tens of milliseconds and must not stall the runtime.
pub async fn hash_password(password: String) -> Result<String, PasswordError> {
    let params = params()?;
    let blocks = params.block_count();
    HASHING
        .run(blocks, move |memory| {
            let mut salt_bytes = [0u8; 16];
            rand::Rng::fill(&mut rand::rng(), &mut salt_bytes);
            let salt = SaltString::encode_b64(&salt_bytes)
                .map_err(|e| PasswordError::Hash(e.to_string()))?;
            let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
            let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
            argon2
                .hash_password_into_with_memory(password.as_bytes(), &salt_bytes, &mut out, memory)
                .map_err(|e| PasswordError::Hash(e.to_string()))?;
            let output = argon2::password_hash::Output::new(&out)
                .map_err(|e| PasswordError::Hash(e.to_string()))?;
            let hash = PasswordHash {
                algorithm: Algorithm::Argon2id.ident(),
                version: Some(Version::V0x13.into()),
                params: argon2::password_hash::ParamsString::try_from(&params)
                    .map_err(|e| PasswordError::Hash(e.to_string()))?,
                salt: Some(salt.as_salt()),
                hash: Some(output),
            };
            Ok(hash.to_string())
        })
        .await?
}

/// A dummy hash verified when the user does not exist, so the response time does not reveal
/// whether an account exists.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$9n7hYWJbZ0FjXxpOVdSbQ6XzCwPfb8RQmTb1vI1xXUw";

/// What verifying against one stored PHC string needs, parsed before taking a permit.
struct Stored {
    argon2: Argon2<'static>,
    salt: Vec<u8>,
    expected: Vec<u8>,
    blocks: usize,
}

fn err(e: impl std::fmt::Display) -> PasswordError {
    PasswordError::Hash(e.to_string())
}

fn parse_stored(phc: &str) -> Result<Stored, PasswordError> {
    let parsed = PasswordHash::new(phc).map_err(err)?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(err)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(err)?
        .unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(err)?;
    let expected = parsed
        .hash
        .ok_or_else(|| PasswordError::Hash("the stored hash has no output".into()))?;
    let salt = parsed
        .salt
        .ok_or_else(|| PasswordError::Hash("the stored hash has no salt".into()))?;
    let mut salt_buf = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_buf).map_err(err)?.to_vec();
    Ok(Stored {
        blocks: params.block_count(),
        argon2: Argon2::new(algorithm, version, params),
        salt,
        expected: expected.as_bytes().to_vec(),
    })
}

/// Verifies on a blocking thread. `hash = None` verifies against a dummy so timing is the same.
pub async fn verify_password(
    password: String,
    hash: Option<String>,
) -> Result<bool, PasswordError> {
    let real = hash.is_some();
    if let Some(imported) = hash
        .as_deref()
        .filter(|h| super::imported_hash::is_imported(h))
    {
        let imported = imported.to_owned();
        return tokio::task::spawn_blocking(move || {
            super::imported_hash::verify(&password, &imported)
        })
        .await
        .map_err(|_| PasswordError::Cancelled);
    }
    let stored = parse_stored(hash.as_deref().unwrap_or(DUMMY_HASH))?;
    HASHING
        .run(stored.blocks, move |memory| {
            let mut out = vec![0u8; stored.expected.len()];
            stored
                .argon2
                .hash_password_into_with_memory(password.as_bytes(), &stored.salt, &mut out, memory)
                .map_err(|e| PasswordError::Hash(e.to_string()))?;
            let ok = super::constant_time_eq(&out, &stored.expected);
            Ok(real && ok)
        })
        .await?
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_more_hashes_run_at_once_than_there_are_permits() {
        let hashing = Arc::new(Hashing::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let (hashing, running, most) = (hashing.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    hashing
                        .run(8, move |_| {
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn memory_goes_to_the_next_waiting_hash_and_is_freed_when_nobody_waits() {
        let hashing = Arc::new(Hashing::new(1));
        // Each hash marks the first block of its memory and reports the mark it found.
        let tasks: Vec<_> = (1..=6u64)
            .map(|i| {
                let hashing = hashing.clone();
                tokio::spawn(async move {
                    hashing
                        .run(4, move |memory| {
                            let found = memory[0].as_ref()[0];
                            memory[0].as_mut()[0] = i;
                            std::thread::sleep(std::time::Duration::from_millis(20));
                            found
                        })
                        .await
                })
            })
            .collect();
        let mut reused = 0;
        for t in tasks {
            if matches!(t.await, Ok(Ok(found)) if found != 0) {
                reused += 1;
            }
        }
        // Six queued hashes on one permit: every one after the first found its predecessor's
        // memory (at least most of them: the first few may start before the rest queue).
        assert!(reused >= 4, "only {reused} of 5 hashes reused memory");
        // Nobody waits now: the last hash freed its memory instead of keeping it.
        assert_eq!(hashing.spare_count(), 0);
        let fresh = hashing.run(4, |memory| memory[0].as_ref()[0]).await;
        assert!(matches!(fresh, Ok(0)));
    }

    #[test]
    fn working_memory_is_reserved_above_the_mmap_threshold_and_sized_to_the_params() {
        let blocks = params().map(|p| p.block_count()).unwrap_or_default();
        assert_eq!(blocks, 19 * 1024);
        let memory = new_memory(blocks);
        assert_eq!(memory.len(), blocks);
        assert!(memory.capacity() * Block::SIZE > 32 * 1024 * 1024);
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

    /// The hashes agree with the argon2 crate's own PHC hashing and verification both ways,
    /// so stored hashes from earlier releases still verify.
    #[tokio::test]
    async fn hashes_agree_with_the_argon2_crate_both_ways() {
        let argon2 = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            params().unwrap_or_default(),
        );
        let Ok(salt) = SaltString::from_b64("c29tZXNhbHRzb21lc2FsdA") else {
            unreachable!("a valid salt")
        };
        let theirs = argon2
            .hash_password(b"correct horse", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default();
        assert!(
            verify_password("correct horse".into(), Some(theirs.clone()))
                .await
                .unwrap_or(false)
        );
        assert!(
            !verify_password("correct horsf".into(), Some(theirs))
                .await
                .unwrap_or(true)
        );
        let ours = hash_password("battery staple".into())
            .await
            .unwrap_or_default();
        let parsed = PasswordHash::new(&ours);
        assert!(parsed.is_ok_and(|p| argon2.verify_password(b"battery staple", &p).is_ok()));
        // A stored hash with other parameters (an older policy) still verifies.
        let older = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 3, 1, None).unwrap_or_default(),
        )
        .hash_password(b"old one", &salt)
        .map(|h| h.to_string())
        .unwrap_or_default();
        assert!(older.contains("m=8192,t=3"));
        assert!(
            verify_password("old one".into(), Some(older))
                .await
                .unwrap_or(false)
        );
    }
}
