#!/usr/bin/env bash
# The long run of AgentChain's runtime call fuzzer (fuzz/, docs/reliability.md): random sequences
# of signed calls and blocks applied through the real runtime's Executive, every invariant
# checked after each extrinsic and block.
#
#   scripts/fuzz.sh [SEQUENCES]      run SEQUENCES sequences in all (default 100000), split over
#                                    JOBS processes (default: one per core), process i from seed
#                                    SEED+i (SEED defaults to the date, YYYYMMDD)
#   scripts/fuzz.sh replay FILE...   replay inputs (a crash, or fuzz/regressions/*.bin)
#   scripts/fuzz.sh libfuzzer [SECONDS]
#                                    the same sequences under libFuzzer, coverage-guided, for
#                                    SECONDS (default 600) over JOBS processes: `cargo fuzz`
#                                    (installed if missing) builds fuzz/libfuzzer with coverage
#                                    instrumentation, a build of its own (about 25 minutes cold on
#                                    2 cores) in ${CARGO_TARGET_DIR:-target}-libfuzzer; the corpus
#                                    grows in fuzz/corpus/runtime, crashes go to fuzz/crashes/
#
# TRY_RUNTIME=1 builds with the `try-runtime` feature, so that every pallet's try_state (FRAME's
# too) runs after each block: a separate build of the runtime (about 10 minutes cold).
# A failing input is written to fuzz/crashes/ and its process stops; the others go on. Copy it to
# fuzz/regressions/ with the fix, so that the test suite replays it. CARGO_TARGET_DIR is honoured.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
scripts/setup.sh
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
jobs="${JOBS:-$(nproc)}"

if [ "${1:-}" = libfuzzer ]; then
	seconds="${2:-600}"
	command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz --version 0.13.2
	# The same versions of every crate as the main workspace.
	cp Cargo.lock fuzz/libfuzzer/Cargo.lock
	mkdir -p fuzz/corpus/runtime fuzz/crashes
	if [ -z "$(ls -A fuzz/corpus/runtime)" ]; then
		for i in $(seq 1 32); do head -c 256 /dev/urandom >"fuzz/corpus/runtime/start-$i"; done
	fi
	# `cargo fuzz` passes unstable flags; without a sanitizer (the runtime is safe Rust, and
	# every check is the fuzzer's own) the stable toolchain builds it with RUSTC_BOOTSTRAP. The
	# native runtime needs no wasm.
	export RUSTC_BOOTSTRAP=1 SKIP_WASM_BUILD=1
	exec cargo fuzz run --fuzz-dir fuzz/libfuzzer --sanitizer none --target-dir "$target_dir-libfuzzer" \
		runtime fuzz/corpus/runtime -- -max_len=512 -max_total_time="$seconds" -fork="$jobs" \
		-artifact_prefix=fuzz/crashes/ -print_final_stats=1
fi

features=()
if [ "${TRY_RUNTIME:-0}" = 1 ]; then features=(--features try-runtime); fi
cargo build --locked --release -p agentchain-fuzz "${features[@]}"
fuzzer="$target_dir/release/agentchain-fuzz"

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
