#!/usr/bin/env bash
# Starts the zombienet local testnet (zombienet/local-testnet.toml) and keeps it running until
# Ctrl-C. Builds the node and installs zombienet first if needed.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
scripts/setup.sh --e2e
cargo build --locked --release -p agentchain-node
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
export AGENTCHAIN_NODE="$target_dir/release/agentchain-node"
exec e2e/node_modules/.bin/zombienet --provider native spawn "${1:-zombienet/local-testnet.toml}"
