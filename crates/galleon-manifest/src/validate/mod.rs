//! Validation rules: everything Azure would reject (or that would fail at apply time) that can be
//! known without the network. Every rule reports every violation, with its position.

pub mod compat;
pub mod images;
pub mod names;
pub mod network;
pub mod refs;
pub mod tags;
pub mod vms;

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

/// Runs every rule over the merged manifest and its resolved resources; returns all problems.
pub fn check(
    m: &Manifest,
    sources: &Sources,
    tenants: &[TenantSpec],
    resources: &[Resource],
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    names::check(m, resources, &mut out);
    network::check(m, &mut out);
    images::check(m, &mut out);
    vms::check(m, tenants, resources, &mut out);
    tags::check(m, resources, &mut out);
    refs::check(sources, resources, &mut out);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn guids() {
        assert!(super::is_guid("11111111-1111-4111-8111-111111111111"));
        assert!(!super::is_guid("11111111-1111-4111-8111-11111111111"));
        assert!(!super::is_guid("not-a-guid"));
    }
}
