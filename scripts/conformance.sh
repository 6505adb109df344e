#!/usr/bin/env bash
# Conformance: Azure's official Python SDK and CLI, unchanged, against galleon's emulator.
# Installs the pinned clients into a virtualenv under target/ (reused across runs), builds the
# emulator, and runs the pytest suite in tests/conformance.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/conformance-venv
req=tests/conformance/requirements.txt
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$req" "$venv/requirements.txt"; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  cp "$req" "$venv/requirements.txt"
fi
cargo build --locked -p galleon-emulator --bin galleon-emulator
# Where cargo put it: a CARGO_TARGET_DIR (relative to here, like cargo reads it) wins.
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$PWD/$target" ;; esac
export GALLEON_EMULATOR_BIN="$target/debug/galleon-emulator"
export PATH="$PWD/$venv/bin:$PATH"
cd tests/conformance
exec python -m pytest -q -p no:cacheprovider "$@"
