#!/usr/bin/env bash
# The long run of AgentChain's runtime call fuzzer (fuzz/, docs/reliability.md): random sequences
# of signed calls and blocks applied through the real runtime's Executive, every invariant
# checked after each extrinsic and block. Built with try-runtime, so that every pallet's try_state
# runs after each block, FRAME's own included where they have one (balances, session, collator
# selection, Aura): a second native build of the runtime, which the suite's bounded run spares.
#
#   scripts/fuzz.sh [SEQUENCES]      run SEQUENCES sequences in all (default 100000), split over
#                                    JOBS processes (default: one per core), process i from seed
#                                    SEED+i (SEED defaults to the date, YYYYMMDD)
#   scripts/fuzz.sh replay FILE...   replay inputs (a crash, or fuzz/regressions/*.bin)
#   scripts/fuzz.sh coverage [SECONDS]
#                                    the same sequences chosen by libFuzzer, coverage-guided
#                                    (fuzz/libfuzzer), for SECONDS (default 3600) over JOBS
#                                    processes; corpus in fuzz/corpus/ (kept between runs),
#                                    crashing inputs in fuzz/crashes/
# A failing input is written to fuzz/crashes/ and its process stops; the others go on. Copy it to
# fuzz/regressions/ with the fix, so that the test suite replays it. CARGO_TARGET_DIR is honoured.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
scripts/setup.sh
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
jobs="${JOBS:-$(nproc)}"

if [ "${1:-}" = coverage ]; then
	# Everything the target links is built with LLVM's coverage instrumentation (what cargo-fuzz
	# does, without a sanitizer, so on a stable toolchain), in a target directory of its own:
	# the flags change every crate's build. `--target` keeps them off build scripts and macros.
	seconds="${2:-3600}"
	host="$(rustc -vV | sed -n 's/^host: //p')"
	coverage_target="$(realpath -m "${CARGO_TARGET_DIR:-$repo/target}")-libfuzzer"
	(cd fuzz/libfuzzer && SKIP_WASM_BUILD=1 CARGO_TARGET_DIR="$coverage_target" \
		RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
			-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
			-Cllvm-args=-sanitizer-coverage-pc-table -Cllvm-args=-sanitizer-coverage-trace-compares \
			--cfg fuzzing" \
		cargo build --locked --release --target "$host" --bin runtime_calls)
	mkdir -p fuzz/corpus fuzz/crashes
	# Each saved regression input starts the corpus, as do the inputs of earlier runs.
	cp -n fuzz/regressions/*.bin fuzz/corpus/ 2>/dev/null || true
	started=$SECONDS
	status=0
	"$coverage_target/$host/release/runtime_calls" fuzz/corpus -max_len=512 -len_control=0 \
		-max_total_time="$seconds" -jobs="$jobs" -workers="$jobs" \
		-artifact_prefix=fuzz/crashes/ -print_final_stats=1 >"${TMPDIR:-/tmp}/agentchain-libfuzzer.log" 2>&1 ||
		status=$?
	# libFuzzer's workers log to fuzz-N.log in the working directory.
	for log in fuzz-*.log; do
		[ -e "$log" ] || continue
		echo "$log: $(grep -a '^#[0-9]' "$log" | tail -n1)"
		grep -a -h "stat::number_of_executed_units\|stat::average_exec_per_sec\|panicked\|SUMMARY\|Test unit written" "$log" || true
		rm -f "$log"
	done
	if [ "$status" -ne 0 ]; then tail -n 20 "${TMPDIR:-/tmp}/agentchain-libfuzzer.log"; fi
	echo "libfuzzer: $jobs processes, $((SECONDS - started)) s, corpus $(ls fuzz/corpus | wc -l) inputs"
	exit $status
fi

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
