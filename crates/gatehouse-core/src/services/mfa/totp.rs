//! TOTP (RFC 6238 over RFC 4226's HOTP) as authenticator apps use it: HMAC-SHA-1, 6 digits,
//! 30-second steps, a base32 seed in an `otpauth://` URI, shown as a QR code.
//!
//! HMAC-SHA-1 comes from aws-lc-rs, the crypto library the workspace already uses for its AEAD
//! and HMAC-SHA-256: the algorithm is a dozen lines over it, so a TOTP crate would add a
//! dependency (and its own HMAC stack) for little. SHA-1 is what every authenticator app
//! defaults to; HMAC-SHA-1 is not affected by SHA-1's collision weaknesses (RFC 6238 §5.1 / RFC 4226 Appendix A).
//!
//! Clock skew: a code of the current step or of the step before or after is accepted
//! ([`WINDOW`]), i.e. codes live about 30 s on either side of their own 30 s. The step a code
//! matched is returned so that the store can refuse it (and any older step) the next time.

use aws_lc_rs::hmac;
use data_encoding::BASE32_NOPAD;
use rand::Rng as _;

use crate::crypto::constant_time_eq;

/// Seconds per time step (RFC 6238's X).
pub const STEP_SECONDS: i64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Steps accepted on either side of the current one (clock skew).
pub const WINDOW: i64 = 1;
/// Seed length in bytes: 160 bits, RFC 4226's recommendation for HMAC-SHA-1.
pub const SECRET_BYTES: usize = 20;

/// A new random seed.
pub fn generate_secret() -> Vec<u8> {
    let mut secret = vec![0u8; SECRET_BYTES];
    rand::rng().fill(&mut secret[..]);
    secret
}

/// The seed as authenticator apps take it: base32 (RFC 4648), no padding.
pub fn to_base32(secret: &[u8]) -> String {
    BASE32_NOPAD.encode(secret)
}

/// A base32 seed as typed or copied (spaces and case ignored); `None` if it is not base32.
pub fn from_base32(s: &str) -> Option<Vec<u8>> {
    let cleaned: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    BASE32_NOPAD.decode(cleaned.as_bytes()).ok()
}

/// The time step containing Unix time `now`.
pub fn step_at(now: i64) -> i64 {
    now.div_euclid(STEP_SECONDS)
}

/// The code of time step `step` (RFC 4226 §5.3: dynamic truncation, modulo 10^digits).
pub fn code_at(secret: &[u8], step: i64) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let mac = hmac::sign(&key, &step.to_be_bytes());
    let mac = mac.as_ref();
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        mac[offset] & 0x7f,
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ]);
    format!(
        "{:0width$}",
        binary % 10u32.pow(DIGITS),
        width = DIGITS as usize
    )
}

/// The time step whose code `code` is, within [`WINDOW`] of `now`; `None` for a wrong code.
/// Spaces in the code are ignored (apps show "123 456"). The comparison is constant-time.
pub fn matching_step(secret: &[u8], code: &str, now: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = step_at(now);
    let mut found = None;
    // Every candidate is computed, so timing does not tell which step matched.
    for step in current - WINDOW..=current + WINDOW {
        if constant_time_eq(code_at(secret, step).as_bytes(), code.as_bytes()) {
            found = Some(step);
        }
    }
    found
}

/// Google's key URI format: `otpauth://totp/Issuer:account?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30`.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        encode(issuer),
        encode(account),
        to_base32(secret),
        encode(issuer),
    )
}

/// Percent-encodes everything but RFC 3986's unreserved characters (so a space is `%20`, as
/// the key URI format asks, never `+`).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The URI as a QR code, an `<svg>` element to put inline in a page (no script, no style).
pub fn qr_svg(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // Drop the XML declaration: the element goes inside an HTML page.
    let start = svg.find("<svg")?;
    Some(svg[start..].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SEED: &[u8] = b"12345678901234567890";

    /// RFC 6238 Appendix B (SHA-1), the last six digits of its eight-digit codes.
    #[test]
    fn rfc_6238_vectors() {
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ] {
            assert_eq!(code_at(RFC_SEED, step_at(time)), code, "T={time}");
        }
    }

    #[test]
    fn window_is_one_step_each_side() {
        let now = 1_111_111_111;
        let here = step_at(now);
        for (offset, ok) in [(-2, false), (-1, true), (0, true), (1, true), (2, false)] {
            let code = code_at(RFC_SEED, here + offset);
            assert_eq!(
                matching_step(RFC_SEED, &code, now),
                ok.then_some(here + offset),
                "offset {offset}"
            );
        }
    }

    #[test]
    fn malformed_codes_are_refused() {
        let now = 59;
        let good = code_at(RFC_SEED, step_at(now));
        assert!(matching_step(RFC_SEED, &format!("{} {}", &good[..3], &good[3..]), now).is_some());
        for bad in ["", "12345", "1234567", "abcdef", "２８７０８２"] {
            assert_eq!(matching_step(RFC_SEED, bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn uri_and_qr() {
        let uri = otpauth_uri("Gatehouse Org", "a b@example.com", RFC_SEED);
        assert_eq!(
            uri,
            "otpauth://totp/Gatehouse%20Org:a%20b%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Gatehouse%20Org&algorithm=SHA1&digits=6&period=30"
        );
        let svg = qr_svg(&uri).unwrap_or_default();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(!svg.contains("<script") && !svg.contains("style="));
    }
}
