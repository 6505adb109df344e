//! The resource providers: one module per Azure namespace (or shared helper), each exposing
//! `register(&mut Registry)`. The routing table itself lives in `arm::registry`; the contract
//! for writing a provider is in `providers/README.md`.

use crate::arm::registry::Registry;

pub mod authorization;
pub mod generic;
pub mod resources;

/// Registers the providers beyond the ARM core (`Microsoft.Resources` resource groups/tags and
/// `Microsoft.Authorization`, which `Registry::standard` adds itself).
pub fn register_all(registry: &mut Registry) {
    let _ = registry;
}
