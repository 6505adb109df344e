#!/usr/bin/env bash
# The whole test suite, from a fresh machine: Rust unit, integration and end-to-end tests, then the
# conformance test that drives the emulator with Azure's official Python SDK and CLI (installed into
# a virtualenv under target/ by scripts/conformance.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --all-targets --locked
scripts/conformance.sh
