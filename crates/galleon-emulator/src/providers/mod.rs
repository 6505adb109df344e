//! The resource providers: one module per Azure namespace (or shared helper), each exposing
//! `register(&mut Registry)`. The routing table itself lives in `arm::registry`; the contract
//! for writing a provider is in `providers/README.md`.

use crate::arm::registry::Registry;

pub mod authorization;
pub mod blob;
pub mod blob_routes;
pub mod compute;
pub mod deploy_routes;
pub mod generic;
pub mod glue;
pub mod graph;
pub mod graph_routes;
pub mod network;
pub mod network_routes;
pub mod resources;
pub mod rp;
pub mod tags;
pub mod template;

/// Registers the providers beyond the ARM core (`Microsoft.Resources` resource groups/tags and
/// `Microsoft.Authorization`, which `Registry::standard` adds itself).
pub fn register_all(registry: &mut Registry) {
    compute::routes::register(registry);
    network_routes::register(registry);
    deploy_routes::register(registry);
    graph_routes::register(registry);
    blob_routes::register(registry);
}
