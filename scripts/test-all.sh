#!/usr/bin/env bash
# The whole test suite: unit, golden and integration tests, including the ones that need a real
# Kafka broker (started here and stopped afterwards). This is the README's test command and
# exactly what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings

# A real broker for the Kafka integration tests (crates/corral-kafka/tests), stopped on exit.
# The tests read its address from CORRAL_KAFKA_BOOTSTRAP and fail when it is missing under CI.
scripts/kafka.sh start
trap 'scripts/kafka.sh stop' EXIT
export CORRAL_KAFKA_BOOTSTRAP="127.0.0.1:${CORRAL_KAFKA_PORT:-19092}"

cargo test --workspace 2>&1
