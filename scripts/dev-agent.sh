#!/usr/bin/env bash
# Builds agentchain-node and agentchain-inference-server, starts the reference inference server,
# and runs a development chain whose node is also an agent node: its off-chain worker executes
# the tasks assigned to Alice's operator key (//Alice//operator) with model `ngram-en`.
#
#   scripts/dev-agent.sh                  server on 127.0.0.1:8080, node RPC on ws://127.0.0.1:9944
#   INFERENCE_PORT=8081 scripts/dev-agent.sh --rpc-port 9945   extra arguments go to the node
#
# Register Alice as an executor of `ngram-en` and set her operator key (docs/agent-node.md), then
# submit tasks from any other account. CARGO_TARGET_DIR is honoured.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

scripts/setup.sh
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
echo "[dev-agent] building agentchain-node and agentchain-inference-server (release)"
cargo build --locked --release -p agentchain-node
cargo build --locked --release -p agentchain-inference-server

port="${INFERENCE_PORT:-8080}"
"$target_dir/release/agentchain-inference-server" --listen "127.0.0.1:$port" --model ngram-en &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT INT TERM
"$target_dir/release/agentchain-node" --dev \
	--inference-endpoint "http://127.0.0.1:$port/v1" \
	--inference-model ngram-en \
	"$@"
