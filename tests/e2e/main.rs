//! End-to-end tests: the real `galleon` binary against the emulator over a loopback socket.
//!
//! Each test copies an example workspace, starts an emulator process seeded for it, and runs
//! `galleon` as a user would. Assertions look at what the binary printed and at what the emulator
//! holds and saw (its admin API), never at galleon's internals.

mod apply;
mod apply_errors;
mod context;
mod crash;
mod explained;
mod gitops;
mod hostile;
mod invariants;
mod plan;
mod readme;
mod reliability;
mod secrets;
