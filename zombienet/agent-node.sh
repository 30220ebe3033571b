#!/usr/bin/env bash
# Starts an agent node under zombienet: inserts its operator key (sr25519, type `agnt`), given as
# `--operator-suri <secret URI>` among the node's arguments, into the keystore of the base path and
# chain zombienet gives the node, then runs agentchain-node with the other arguments. This is what
# an operator does by hand with `agentchain-node key insert` before starting a real agent node.
# (A development testnet's well-known keys only: a real operator never puts a secret on a command
# line.)
set -euo pipefail

node="${AGENTCHAIN_NODE:?AGENTCHAIN_NODE must point to agentchain-node}"

base_path=""
chain=""
operator_suri=""
node_args=()
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
	case "${args[$i]}" in
	--operator-suri) operator_suri="${args[$((i + 1))]}"; i=$((i + 1)); continue ;;
	--base-path) base_path="${args[$((i + 1))]}" ;;
	--base-path=*) base_path="${args[$i]#--base-path=}" ;;
	--chain) chain="${args[$((i + 1))]}" ;;
	--chain=*) chain="${args[$i]#--chain=}" ;;
	esac
	node_args+=("${args[$i]}")
done
[ -n "$operator_suri" ] || { echo "agent-node.sh: no --operator-suri" >&2; exit 1; }
[ -n "$base_path" ] && [ -n "$chain" ] || {
	echo "agent-node.sh: zombienet gave no --base-path or --chain" >&2
	exit 1
}
"$node" key insert --base-path "$base_path" --chain "$chain" \
	--key-type agnt --scheme sr25519 --suri "$operator_suri"
exec "$node" "${node_args[@]}"
