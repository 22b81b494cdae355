//! `acr_values` (OIDC Core §3.1.2.1) in Okta's vocabulary: which requested values need a
//! second factor on this sign-in.
//!
//! * `urn:okta:loa:2fa:any` — a second factor, enrolling one first if the person has none
//!   (a live session without one is stepped up).
//! * `urn:okta:loa:2fa:any:ifpossible`, `urn:okta:loa:1fa:any`, `urn:okta:loa:1fa:pwd` and
//!   unknown values — nothing beyond what the sign-on policies ask (an enrolled factor is
//!   always asked anyway).

/// Okta's value asking for two factors.
pub const TWO_FACTOR: &str = "urn:okta:loa:2fa:any";

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
}
