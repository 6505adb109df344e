#!/usr/bin/env bash
# The whole test suite, from a fresh machine: Rust unit, integration and end-to-end tests, the
# benchmark at a tiny size, then the conformance test that drives the emulator with Azure's
# official Python SDK and CLI (installed into a virtualenv under target/ by scripts/conformance.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --all-targets --locked
# The benchmark at a tiny size: proves it runs; its figures are read by people, never asserted.
cargo run --locked -q -p galleon-bench -- --small
scripts/conformance.sh
