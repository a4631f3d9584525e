#!/usr/bin/env bash
# The whole test suite: unit, golden and integration tests, including the ones that need a real
# Kafka broker (started here and stopped afterwards). This is the README's test command and
# exactly what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# Tools the suite needs beyond Rust: a JDK and Maven (the Kafka broker), cmake (librdkafka),
# node and jq (the shipped Zabbix and Nagios integrations are exercised for real), Prometheus
# Alertmanager and amtool (the Alertmanager end-to-end test). Installed from Debian's packages
# when missing, so a fresh machine needs nothing by hand.
missing=()
command -v java >/dev/null || missing+=(default-jdk-headless)
command -v mvn >/dev/null || missing+=(maven)
command -v cmake >/dev/null || missing+=(cmake)
command -v node >/dev/null || missing+=(nodejs)
command -v jq >/dev/null || missing+=(jq)
{ command -v prometheus-alertmanager && command -v amtool; } >/dev/null || missing+=(prometheus-alertmanager)
if [ ${#missing[@]} -gt 0 ]; then
  echo "test-all: installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings

# A real broker for the Kafka integration tests (crates/corral-kafka/tests, and the Alertmanager
# end-to-end test in crates/corral-cli/tests), stopped on exit. The tests read its address from
# CORRAL_KAFKA_BOOTSTRAP (without it they start the broker themselves, and fail if they cannot).
scripts/kafka.sh start
trap 'scripts/kafka.sh stop' EXIT
export CORRAL_KAFKA_BOOTSTRAP="127.0.0.1:${CORRAL_KAFKA_PORT:-19092}"

cargo test --workspace 2>&1
