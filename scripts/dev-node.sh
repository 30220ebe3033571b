#!/usr/bin/env bash
# Builds agentchain-node and starts a single-validator development chain.
#
#   scripts/dev-node.sh                   a fresh dev chain (--dev: Alice validates, state in a
#                                         temporary directory, RPC on ws://127.0.0.1:9944)
#   scripts/dev-node.sh --base-path d     extra arguments go to the node
#
# CARGO_TARGET_DIR is honoured; the binary is $CARGO_TARGET_DIR/release/agentchain-node.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

scripts/setup.sh
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
echo "[dev-node] building agentchain-node (release; a first build takes a long while)"
cargo build --locked --release -p agentchain-node
exec "$target_dir/release/agentchain-node" --dev "$@"
