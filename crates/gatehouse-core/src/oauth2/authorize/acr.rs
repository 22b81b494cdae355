//! `acr_values` (OIDC Core §3.1.2.1) in Okta's vocabulary: which requested values need a
//! second factor on this sign-in.
//!
//! * `urn:okta:loa:2fa:any` — a second factor, enrolling one first if the person has none
//!   (a live session without one is stepped up).
//! * `urn:okta:loa:2fa:any:ifpossible`, `urn:okta:loa:1fa:any`, `urn:okta:loa:1fa:pwd` and
//!   unknown values — nothing beyond what the sign-on policies ask (an enrolled factor is
//!   always asked anyway).
//!
//! The ID token's `acr` says what the sign-in met (from its `amr`), when the client named one
//! of these values or a second factor was given.

/// Okta's value asking for two factors.
pub const TWO_FACTOR: &str = "urn:okta:loa:2fa:any";
/// Okta's value for a password alone.
pub const PASSWORD: &str = "urn:okta:loa:1fa:pwd";
/// Okta's value for one factor of any kind (a passkey alone, an upstream identity provider).
pub const ONE_FACTOR: &str = "urn:okta:loa:1fa:any";

/// The values discovery advertises (`acr_values_supported`): those [`for_token`] may answer
/// with, and the one asking for a second factor only when possible, which is honoured as
/// "nothing beyond the policies".
pub const SUPPORTED: [&str; 4] = [
    ONE_FACTOR,
    PASSWORD,
    TWO_FACTOR,
    "urn:okta:loa:2fa:any:ifpossible",
];

/// The ID token's `acr` for a sign-in whose `amr` is `amr`: present when the client asked
/// (`acr_values`) or a second factor was given, as Okta does, and always what happened, never
/// merely what was asked (a 2fa request answered by a remembered device says 1fa).
pub fn for_token(acr_requested: bool, amr: &[String]) -> Option<String> {
    let has = |m: &str| amr.iter().any(|a| a == m);
    let value = if has("mfa") {
        TWO_FACTOR
    } else if has("pwd") {
        PASSWORD
    } else {
        ONE_FACTOR
    };
    (acr_requested || has("mfa")).then(|| value.to_owned())
}

/// Whether `acr_values` names one of the values of [`SUPPORTED`]: the ID token then says which
/// was met. Values in another vocabulary get no claim (the client could not read ours).
pub fn requests_acr(acr_values: Option<&str>) -> bool {
    acr_values.is_some_and(|v| v.split_ascii_whitespace().any(|a| SUPPORTED.contains(&a)))
}

/// Whether `acr_values` asks for a second factor.
pub fn requests_mfa(acr_values: Option<&str>) -> bool {
    acr_values.is_some_and(|v| v.split_ascii_whitespace().any(|a| a == TWO_FACTOR))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_two_factor_value_asks_for_one() {
        assert!(requests_mfa(Some("urn:okta:loa:2fa:any")));
        assert!(requests_mfa(Some(
            "urn:okta:loa:1fa:any urn:okta:loa:2fa:any"
        )));
        assert!(!requests_mfa(Some("urn:okta:loa:2fa:any:ifpossible")));
        assert!(!requests_mfa(Some("urn:okta:loa:1fa:any")));
        assert!(!requests_mfa(None));
    }

    #[test]
    fn acr_says_what_happened_when_asked_or_after_mfa() {
        let amr = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(for_token(false, &amr(&["pwd"])), None);
        assert_eq!(for_token(true, &amr(&["pwd"])).as_deref(), Some(PASSWORD));
        assert_eq!(
            for_token(false, &amr(&["pwd", "otp", "mfa"])).as_deref(),
            Some(TWO_FACTOR)
        );
        assert_eq!(
            for_token(true, &amr(&["pwd", "otp", "mfa"])).as_deref(),
            Some(TWO_FACTOR)
        );
        assert_eq!(
            for_token(true, &amr(&["hwk", "user"])).as_deref(),
            Some(ONE_FACTOR)
        );
        assert!(SUPPORTED.contains(&TWO_FACTOR) && SUPPORTED.contains(&PASSWORD));
        assert!(requests_acr(Some("urn:okta:loa:1fa:pwd")));
        assert!(requests_acr(Some("1 urn:okta:loa:1fa:any")));
        assert!(!requests_acr(Some("1 2")));
        assert!(!requests_acr(None));
    }
}
