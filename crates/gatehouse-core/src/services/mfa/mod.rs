//! TEMP until the challenge is merged

pub mod webauthn;
