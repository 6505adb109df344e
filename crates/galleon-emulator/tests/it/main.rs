//! The emulator's integration tests: one binary, every test drives a real emulator over HTTPS
//! through `TestContext` (see `common`).

mod common;

mod admin;
mod arm_auth;
mod binary;
mod framework;
mod identity;
mod proxies;
mod resource_groups;
mod roles;

// Compute, Network, Resource Graph, deployments and blob (second engineer).
mod blob;
mod deployments;
mod gallery;
mod graph;
mod network;
mod usages;
mod vm;
mod vm_terms;
mod world;
