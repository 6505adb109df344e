//! Validation rules: everything Azure would reject (or that would fail at apply time) that can be
//! known without the network.

use crate::diag::{Diagnostic, Sources};
use crate::load::Manifest;
use crate::resolve::{Resource, TenantSpec};

/// True for a GUID in the 8-4-4-4-12 hex form Azure uses.
pub fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Runs every rule; returns all problems.
pub fn check(
    _m: &Manifest,
    _sources: &Sources,
    _tenants: &[TenantSpec],
    _resources: &[Resource],
) -> Vec<Diagnostic> {
    Vec::new()
}
