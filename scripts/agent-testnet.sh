#!/usr/bin/env bash
# Starts the local testnet with agent nodes (zombienet/agent-testnet.toml): four validators and
# three agent nodes, each with its own reference inference server. Runs until Ctrl-C. Builds the
# binaries and installs zombienet first if needed. Register the agents with
# zombienet/scripts/register-agents.js's calls (see docs/zombienet.md) before submitting tasks.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
scripts/setup.sh --e2e
cargo build --locked --release -p agentchain-node
cargo build --locked --release -p agentchain-inference-server
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
export AGENTCHAIN_NODE="$target_dir/release/agentchain-node"
export AGENTCHAIN_AGENT_NODE="$repo/zombienet/agent-node.sh"

servers=()
trap '[ ${#servers[@]} -eq 0 ] || kill "${servers[@]}" 2>/dev/null || true' EXIT INT TERM
for i in 1 2 3; do
	port=$((8080 + i))
	"$target_dir/release/agentchain-inference-server" --listen "127.0.0.1:$port" --model ngram-en &
	servers+=($!)
	export "INFERENCE_URL_$i=http://127.0.0.1:$port/v1"
done
e2e/node_modules/.bin/zombienet --provider native spawn zombienet/agent-testnet.toml
