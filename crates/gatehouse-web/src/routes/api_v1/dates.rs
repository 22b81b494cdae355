//! Okta's date format in `/api/v1` JSON.

use gatehouse_core::domain::Timestamp;

/// Okta's date format, `YYYY-MM-DDTHH:mm:ss.SSSZ`.
pub(crate) fn okta_date(ts: Timestamp) -> String {
    const FORMAT: &[time::format_description::FormatItem<'static>] =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].000Z");
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| t.format(FORMAT).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_have_okta_shape() {
        assert_eq!(okta_date(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(okta_date(1_700_000_000), "2023-11-14T22:13:20.000Z");
    }
}
