//! Sizes a subscription may not deploy in a region: the Resource SKUs `restrictions` entry with
//! `reasonCode: NotAvailableForSubscription` (azure-rest-api-specs Compute `ResourceSkuRestrictions`;
//! "NotAvailableForSubscription is related to capacity at DC"). Azure sets these per
//! subscription, so the emulator holds them as subscription state (admin
//! `PUT /_emulator/subscriptions/{id}/restrictions`), and Compute refuses a VM of such a size.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::providers::rp::{RpError, normalize_location};
use crate::state::State;

/// Where the restrictions live in `State::extensions` (not ARM resources).
const EXTENSION: &str = "compute.restrictions";

/// Replaces a subscription's restrictions: region -> restricted size names.
pub fn set(state: &mut State, subscription: &str, by_region: &BTreeMap<String, Vec<String>>) {
    let normalised: BTreeMap<String, Vec<String>> = by_region
        .iter()
        .map(|(r, sizes)| (normalize_location(r), sizes.clone()))
        .collect();
    let all = state
        .extensions
        .entry(EXTENSION.to_owned())
        .or_insert_with(|| json!({}));
    all[subscription.to_ascii_lowercase()] = json!(normalised);
}

/// Whether `size` is restricted for the subscription in the region (names compared as Compute
/// does, case-insensitively).
pub fn is_restricted(state: &State, subscription: &str, location: &str, size: &str) -> bool {
    state
        .extensions
        .get(EXTENSION)
        .map(|all| &all[subscription.to_ascii_lowercase()][normalize_location(location)])
        .and_then(Value::as_array)
        .is_some_and(|sizes| {
            sizes
                .iter()
                .filter_map(Value::as_str)
                .any(|s| s.eq_ignore_ascii_case(size))
        })
}

/// The refusal. The message is the SkuNotAvailable article's [V, arm-errors.md §4.5]; the
/// status is assumed to be SkuNotAvailable's 409, which the article groups it with [R].
pub fn not_available_for_subscription() -> RpError {
    RpError::service(
        409,
        "NotAvailableForSubscription",
        "This size is currently unavailable in this location for this subscription",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restrictions_are_per_subscription_and_region_and_replaced_whole() {
        let mut s = State::default();
        let sub = "BBBB-1";
        set(
            &mut s,
            sub,
            &BTreeMap::from([("North Europe".into(), vec!["Standard_D2s_v5".into()])]),
        );
        assert!(is_restricted(
            &s,
            "bbbb-1",
            "northeurope",
            "standard_d2s_v5"
        ));
        assert!(!is_restricted(
            &s,
            "bbbb-1",
            "westeurope",
            "Standard_D2s_v5"
        ));
        assert!(!is_restricted(
            &s,
            "aaaa-1",
            "northeurope",
            "Standard_D2s_v5"
        ));
        assert!(!is_restricted(
            &s,
            "bbbb-1",
            "northeurope",
            "Standard_D4s_v5"
        ));
        set(&mut s, sub, &BTreeMap::new());
        assert!(!is_restricted(
            &s,
            "bbbb-1",
            "northeurope",
            "Standard_D2s_v5"
        ));
        let e = not_available_for_subscription();
        assert_eq!(
            (e.status, e.code.as_str()),
            (409, "NotAvailableForSubscription")
        );
    }
}
