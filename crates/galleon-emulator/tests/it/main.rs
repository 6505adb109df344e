//! The emulator's integration tests: one binary, every test drives a real emulator over HTTPS
//! through `TestContext` (see `common`).

mod common;

mod arm_auth;
mod identity;
mod resource_groups;
