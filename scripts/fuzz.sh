#!/usr/bin/env bash
# The long run of AgentChain's runtime call fuzzer (fuzz/, docs/reliability.md): random sequences
# of signed calls and blocks applied through the real runtime's Executive, every invariant
# checked after each extrinsic and block. Built with try-runtime, so that every pallet's try_state
# runs after each block, FRAME's own (balances, session, collator selection, GRANDPA, Aura…)
# included: a second native build of the runtime, which the test suite's bounded run spares.
#
#   scripts/fuzz.sh [SEQUENCES]      run SEQUENCES sequences in all (default 100000), split over
#                                    JOBS processes (default: one per core), process i from seed
#                                    SEED+i (SEED defaults to the date, YYYYMMDD)
#   scripts/fuzz.sh replay FILE...   replay inputs (a crash, or fuzz/regressions/*.bin)
# A failing input is written to fuzz/crashes/ and its process stops; the others go on. Copy it to
# fuzz/regressions/ with the fix, so that the test suite replays it. CARGO_TARGET_DIR is honoured.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
scripts/setup.sh
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
jobs="${JOBS:-$(nproc)}"

# The fuzzer runs the runtime natively: no Wasm build of the try-runtime runtime is needed.
SKIP_WASM_BUILD=1 cargo build --locked --release -p agentchain-fuzz --features try-runtime
fuzzer="$target_dir/release/agentchain-fuzz"
# First, that each check fails when what it checks is broken, in this build (FRAME's pallets'
# try_state included).
SKIP_WASM_BUILD=1 cargo test --locked --release -p agentchain-fuzz --features try-runtime \
	--test bounded -- --quiet the_checks_catch the_storage_walk_catches

if [ "${1:-}" = replay ]; then
	shift
	exec "$fuzzer" replay "$@"
fi

sequences="${1:-100000}"
seed="${SEED:-$(date +%Y%m%d)}"
per_job=$(((sequences + jobs - 1) / jobs))
logs="$(mktemp -d)"
started=$SECONDS
echo "fuzz: $sequences sequences over $jobs processes, seeds $seed..$((seed + jobs - 1))"
pids=()
for i in $(seq 0 $((jobs - 1))); do
	"$fuzzer" run --seed $((seed + i)) --sequences "$per_job" --crashes fuzz/crashes \
		>"$logs/$i.out" 2>"$logs/$i.err" &
	pids+=($!)
done
status=0
for i in "${!pids[@]}"; do
	if ! wait "${pids[$i]}"; then status=1; fi
	echo "process $i (seed $((seed + i))): $(tail -n1 "$logs/$i.out")"
	grep -h "FAILURE\|written to" "$logs/$i.err" || true
done
# One line for the whole run: the processes' figures summed.
cat "$logs"/*.out | grep '^fuzz summary' | awk -v s=$((SECONDS - started)) -v jobs="$jobs" '
	{ gsub(/[(),]/, ""); for (i = 1; i < NF; i++) if ($i ~ /^[0-9]+$/) sum[$(i + 1)] += $i }
	END { printf "fuzz total: %d sequences, %d blocks, %d extrinsics (%d succeeded, %d refused), %d invariant checks, %d failures, %d processes, %d s\n",
		sum["sequences"], sum["blocks"], sum["extrinsics"], sum["succeeded"], sum["refused"], sum["invariant"], sum["failures"] + sum["failure"], jobs, s }'
rm -rf "$logs"
exit $status
