#!/usr/bin/env bash
# Runs the benchmarks of AgentChain's pallets on the real runtime (wasm) and writes their
# weights.rs files, from .maintain/frame-weight-template.hbs.
#
#   scripts/benchmark.sh                  every AgentChain pallet
#   scripts/benchmark.sh pallet_agents    one pallet
#
# Builds agentchain-node with `--features runtime-benchmarks` first (a separate build from the
# normal one; CARGO_TARGET_DIR is honoured). STEPS and REPEAT may be set in the environment.
# Each weights.rs records the digest of the code it was measured on (scripts/weights-digest.sh).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
scripts/setup.sh
cargo build --locked --release -p agentchain-node --features runtime-benchmarks
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
node="$target_dir/release/agentchain-node"

# One `benchmark pallet` run on the runtime's wasm, with the settings of this script.
bench() {
	"$node" benchmark pallet \
		--runtime "$target_dir/release/wbuild/agentchain-runtime/agentchain_runtime.compact.compressed.wasm" \
		--genesis-builder=runtime \
		--genesis-builder-preset=development \
		--steps "${STEPS:-20}" \
		--repeat "${REPEAT:-10}" \
		--heap-pages 4096 \
		"$@"
}

pallets=("$@")
[ ${#pallets[@]} -gt 0 ] || pallets=(pallet_agents pallet_inference pallet_challenges pallet_data_rewards)
for pallet in "${pallets[@]}"; do
	dir="pallets/${pallet#pallet_}"
	dir="${dir//_/-}"
	[ -d "$dir" ] || { echo "no folder $dir for $pallet" >&2; exit 1; }
	echo "[benchmark] $pallet -> $dir/src/weights.rs"
	bench --pallet "$pallet" --extrinsic '*' \
		--template .maintain/frame-weight-template.hbs \
		--output "$dir/src/weights.rs"
	# The code these weights were measured on: `scripts/weights-digest.sh --check` (run by the
	# test suite) fails once it changes.
	sed -i "1a //!\\n//! DISPATCH CODE DIGEST: $(scripts/weights-digest.sh "$dir")" "$dir/src/weights.rs"
done

# The baseline that docs/benchmarks.md compares every figure with: the same binary, settings and
# machine, right after.
echo "[benchmark] baseline: pallet_balances transfer_keep_alive"
bench --pallet pallet_balances --extrinsic transfer_keep_alive
