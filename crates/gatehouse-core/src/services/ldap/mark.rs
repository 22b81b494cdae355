//! The import's high-water mark: the greatest value of the change attribute
//! (`modifyTimestamp`; on Active Directory `uSNChanged` or `whenChanged`) among the entries an
//! import read, and the DNs that carry exactly that value.
//!
//! The incremental search asks for `(attribute>=mark)`, so the entries at the mark come back
//! each time; they are skipped unless their value moved (`is_new`). Values compare as numbers
//! when both are whole numbers (`uSNChanged`), else as text, which orders LDAP's generalized
//! time (`20261206204500Z`) correctly as long as a directory writes one format.

use std::cmp::Ordering;

use super::directory::DirectoryEntry;

/// Orders two change-attribute values.
pub fn compare(a: &str, b: &str) -> Ordering {
    match (a.parse::<u128>(), b.parse::<u128>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

/// The mark being computed during an import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MarkTracker {
    pub mark: Option<String>,
    pub entries: Vec<String>,
}

impl MarkTracker {
    /// Starting from a saved mark.
    pub fn from_saved(mark: Option<String>, entries: Vec<String>) -> Self {
        Self { mark, entries }
    }

    /// Whether `entry` changed since this mark: its value is above the mark, or at it without
    /// having been seen there. An entry without the attribute counts as changed (the
    /// directory did not say, so it is imported rather than missed).
    pub fn is_new(&self, entry: &DirectoryEntry, attribute: &str) -> bool {
        let (Some(mark), Some(value)) = (&self.mark, entry.first(attribute)) else {
            return true;
        };
        match compare(value, mark) {
            Ordering::Greater => true,
            Ordering::Less => false,
            Ordering::Equal => !self
                .entries
                .iter()
                .any(|dn| dn.eq_ignore_ascii_case(&entry.dn)),
        }
    }

    /// Takes `entry`'s value into the mark.
    pub fn observe(&mut self, entry: &DirectoryEntry, attribute: &str) {
        let Some(value) = entry.first(attribute) else {
            return;
        };
        let order = self.mark.as_deref().map(|m| compare(value, m));
        match order {
            None | Some(Ordering::Greater) => {
                self.mark = Some(value.to_owned());
                self.entries = vec![entry.dn.clone()];
            }
            Some(Ordering::Equal) => {
                if !self
                    .entries
                    .iter()
                    .any(|dn| dn.eq_ignore_ascii_case(&entry.dn))
                {
                    self.entries.push(entry.dn.clone());
                }
            }
            Some(Ordering::Less) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn e(dn: &str, value: Option<&str>) -> DirectoryEntry {
        DirectoryEntry {
            dn: dn.into(),
            attrs: value
                .map(|v| HashMap::from([("modifyTimestamp".to_owned(), vec![v.to_owned()])]))
                .unwrap_or_default(),
        }
    }

    const A: &str = "modifyTimestamp";

    #[test]
    fn numbers_compare_as_numbers_and_times_as_text() {
        assert_eq!(compare("999", "1000"), Ordering::Less);
        assert_eq!(
            compare("20261206204500Z", "20261206204459Z"),
            Ordering::Greater
        );
    }

    #[test]
    fn the_mark_keeps_the_greatest_value_and_its_entries() {
        let mut t = MarkTracker::default();
        t.observe(&e("uid=a", Some("20260101000000Z")), A);
        t.observe(&e("uid=b", Some("20260102000000Z")), A);
        t.observe(&e("uid=c", Some("20260102000000Z")), A);
        t.observe(&e("uid=d", Some("20251231000000Z")), A);
        t.observe(&e("uid=e", None), A);
        assert_eq!(t.mark.as_deref(), Some("20260102000000Z"));
        assert_eq!(t.entries, ["uid=b", "uid=c"]);
        // Seen at the mark: not new; the same value on another entry, or a later one: new.
        assert!(!t.is_new(&e("UID=B", Some("20260102000000Z")), A));
        assert!(t.is_new(&e("uid=x", Some("20260102000000Z")), A));
        assert!(t.is_new(&e("uid=b", Some("20260102000001Z")), A));
        assert!(!t.is_new(&e("uid=a", Some("20260101000000Z")), A));
        assert!(t.is_new(&e("uid=e", None), A));
        assert!(MarkTracker::default().is_new(&e("uid=a", Some("1")), A));
    }
}
