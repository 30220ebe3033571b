#!/usr/bin/env bash
# Node fault injection on real nodes (docs/reliability.md), a few minutes, outside the default
# suite: a follower killed with SIGKILL while importing blocks, FAULT_KILLS times (default 5),
# keeps every finalized block and finalizes again; an agent node killed while its off-chain
# worker waits on the inference endpoint commits and reveals the task, once, after its restart.
#
# Builds the node and the reference inference server first (CARGO_TARGET_DIR is honoured).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
scripts/setup.sh --e2e
cargo build --locked --release -p agentchain-node
cargo build --locked --release -p agentchain-inference-server
export AGENTCHAIN_NODE="${CARGO_TARGET_DIR:-$repo/target}/release/agentchain-node"
cd e2e
exec node --test --test-reporter=spec faults/node-faults.test.mjs
