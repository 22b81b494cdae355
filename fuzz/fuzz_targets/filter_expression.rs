//! The `/api/v1` filter/search expression parser (services/filter.rs). Oracle: no panic or
//! stack overflow, whatever the nesting.
#![no_main]

use gatehouse_core::services::filter::{parse_user_filter, user_quick_search};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_user_filter(text);
        let _ = user_quick_search(text);
    }
});
