//! Okta's password-policy lockout settings, a plain value the `Provider` holds (defined apart
//! from the sign-in logic in [`super::lockout`], which needs the `Provider`).

/// Okta's password-policy `lockout` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Consecutive failed sign-ins that lock an account; 0 never locks (Okta's default is 10).
    pub max_attempts: u32,
    /// Minutes after which a locked account unlocks by itself; 0 waits for an administrator
    /// (Okta's default: no automatic unlock).
    pub auto_unlock_minutes: u32,
}

pub const DEFAULT_MAX_ATTEMPTS: u32 = 10;

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            auto_unlock_minutes: 0,
        }
    }
}
