#!/usr/bin/env bash
# End-to-end tests too long for the default suite (./scripts/test.sh): each waits for a period of
# the runtime in real time (the 20-minute unbonding period) or runs a real workload (a batch of
# 1,000 items). Builds what they run, then runs e2e/long/*.test.mjs (or the files given) against
# the release binaries. About 42 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/agentchain/target}"
scripts/setup.sh --e2e
# One package a build, as ./scripts/test.sh builds them, so that both share its artifacts.
cargo build --locked --release -p agentchain-node
cargo build --locked --release -p agentchain-cli
export AGENTCHAIN_NODE="$CARGO_TARGET_DIR/release/agentchain-node"
cd e2e
if [ "$#" -eq 0 ]; then set -- long/*.test.mjs; fi
node --test --test-concurrency=1 --test-reporter=spec "$@"
