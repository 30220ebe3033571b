#!/usr/bin/env bash
# Runs AgentChain's whole test suite:
#   1. formatting check (cargo fmt), and a check that each pallet's weights.rs was generated from
#      its current dispatch code
#   2. Rust unit and integration tests of every crate (cargo test, release profile, so the
#      node binary and the tests share one build of the dependencies), the pallets' benchmarks
#      and storage migrations' try-runtime checks run as tests, then the adversary suite (attack strategies played against the real
#      runtime; it prints its table), then a bounded run of the call fuzzer (random sequences of
#      signed calls and blocks through the real runtime's Executive; it prints its summary line)
#   3. end-to-end tests: polkadot.js and the `agentchain` CLI against a real `agentchain-node --dev`, including an agent
#      node whose off-chain worker calls the reference inference server, and its duties landing
#      while a flood of transfers fills every block
#   4. a zombienet local testnet of four validators and three agent nodes: block production,
#      finality, a task executed by the agent nodes, a validator stopped and back, an agent node
#      restarted in the middle of a task
# and ends with one line: "summary: N passed, N failed" over the stages that are not cargo's.
#
# CARGO_TARGET_DIR is honoured. Set SKIP_ZOMBIENET=1 to leave out stage 4.
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

stage() { printf '\n\033[1m=== %s\033[0m (at %d s)\n' "$*" "$((SECONDS - ${started:-SECONDS}))"; }
fail_now() { printf '\033[1;31m[test] %s\033[0m\n' "$*" >&2; echo "summary: 0 passed, 1 failed"; exit 1; }

scripts/setup.sh --e2e || fail_now "setup failed"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
export AGENTCHAIN_NODE="$target_dir/release/agentchain-node"
passed=0
failed=0
started=$SECONDS

stage "cargo fmt --check"
if cargo fmt --all -- --check; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

stage "weights match the code they were measured on"
# Each pallet's weights.rs records the digest of its dispatch code (scripts/benchmark.sh writes
# it); a change of that code without new weights fails here.
if scripts/weights-digest.sh --check; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

stage "cargo test (release)"
# No crate has doc-tests, and the node's own tests run after its build below (with the node's
# features alone, so they reuse that build): leaving both out here spares compiling the node and
# the runtime a second time. The four AgentChain pallets are tested apart, with their benchmarks.
cargo test --locked --release --workspace --exclude agentchain-node --exclude agentchain-economics \
	--exclude agentchain-fuzz --exclude agentchain-cli --exclude pallet-agents --exclude pallet-inference --exclude pallet-challenges \
	--exclude pallet-data-rewards --lib --tests || fail_now "cargo test failed"

stage "the pallets' unit tests, benchmarks and try-runtime checks (release)"
# Every benchmark runs once as a test, on each pallet's mock runtime: a benchmark whose setup or
# verification breaks fails here, not at the next weight generation. With try-runtime, the
# storage migrations' pre_upgrade/post_upgrade checks run too, with try_state before and after.
# Built apart from the runtime (the features change the FRAME crates' build), which spares
# building the runtime twice.
cargo test --locked --release -p pallet-agents -p pallet-inference -p pallet-challenges \
	-p pallet-data-rewards --features runtime-benchmarks,try-runtime --lib ||
	fail_now "the pallets' tests or benchmarks failed"

stage "adversary suite: attack strategies against the real runtime"
# Every strategy must lose money and no honest party may lose any; the table is the one in
# docs/economics.md.
if cargo test --locked --release -p agentchain-economics -- --nocapture; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
fi

stage "call fuzzer: random call sequences through the real runtime (bounded run)"
# A fixed number of sequences from a fixed seed (a failure reproduces), every saved regression
# input replayed, and checks that each invariant check fails when broken. The long run is
# scripts/fuzz.sh (docs/reliability.md).
if cargo test --locked --release -p agentchain-fuzz -- --nocapture --test-threads 1; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
fi

stage "build agentchain-node, agentchain-inference-server and agentchain (release)"
# Two invocations: built together, their features would unify and change the node's build.
cargo build --locked --release -p agentchain-node || fail_now "building agentchain-node failed"
cargo build --locked --release -p agentchain-inference-server ||
	fail_now "building agentchain-inference-server failed"
cargo test --locked --release -p agentchain-node --bins || fail_now "agentchain-node tests failed"
# The operator CLI, with its unit tests (built apart too: its subxt client shares no features
# with the node's).
cargo build --locked --release -p agentchain-cli || fail_now "building agentchain (the CLI) failed"
cargo test --locked --release -p agentchain-cli || fail_now "agentchain (the CLI) tests failed"

stage "end-to-end: polkadot.js and the agentchain CLI against agentchain-node --dev"
# Each test file runs its own dev node, mostly waiting on 3 s blocks (the machine's two cores
# were a fifth busy on average with six files at a time): twelve files at a time, the longest
# first (in the order given: e2e/run.mjs, since `node --test` would sort them by name and start
# a long file last), so that the run lasts about as long as its longest file; their nodes start
# one at a time (e2e/lib/node.mjs: a start takes both cores for about 6 s, and a dozen at once
# each took a minute or more). (The agent node's
# endpoint-fault checks once failed now and then at three at a time; the cause was a kept-alive
# connection closed by the server as it was reused, which off-chain calls survive since.) The
# liveness test and the load script's short form then run alone, one after the other, since each
# fills blocks and needs the machine to itself.
e2e() {
	local concurrency=$1
	shift
	local tap
	tap="$(mktemp)"
	# e2e/run.mjs: `node --test --test-reporter=tap`, but the files start in the order given
	# (`node --test` sorts them by name).
	(cd e2e && node run.mjs --concurrency "$concurrency" "$@") | tee "$tap"
	local status=${PIPESTATUS[0]}
	local e2e_pass e2e_fail e2e_cancelled
	e2e_pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap" | tail -n1)
	e2e_fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tap" | tail -n1)
	# Tests cancelled because their suite's hook failed did not pass: node counts them apart.
	e2e_cancelled=$(sed -n 's/^# cancelled \([0-9]*\)$/\1/p' "$tap" | tail -n1)
	e2e_fail=$((${e2e_fail:-0} + ${e2e_cancelled:-0}))
	if [ -z "$e2e_pass" ]; then e2e_pass=0; e2e_fail=$((e2e_fail + 1)); fi
	# A run that failed without a failed test to show for it (a hook, a file that would not load).
	if [ "$status" -ne 0 ] && [ "$e2e_fail" -eq 0 ]; then e2e_fail=1; fi
	passed=$((passed + e2e_pass))
	failed=$((failed + e2e_fail))
	rm -f "$tap"
}
# The files that take two minutes or more, longest first (their durations in a run of the
# stage); then the others.
longest=(batch-load batches edge-batches appeals cli-docs edge-agent data-rewards agent-node-faults cli challenges agents
	validators agent-node inference cli-data registry-calls upgrade)
e2e_files=()
for name in "${longest[@]}"; do
	[ -f "e2e/test/$name.test.mjs" ] && e2e_files+=("test/$name.test.mjs")
done
for file in $(cd e2e && ls test/*.test.mjs); do
	case " ${e2e_files[*]} " in *" $file "*) continue ;; esac
	case "$file" in test/liveness.test.mjs | test/load.test.mjs) continue ;; esac
	e2e_files+=("$file")
done
e2e 12 "${e2e_files[@]}"
e2e 1 test/liveness.test.mjs test/load.test.mjs

if [ "${SKIP_ZOMBIENET:-0}" != 1 ]; then
	stage "zombienet: four validators and three agent nodes"
	scripts/zombienet-test.sh zombienet/agent-testnet.zndsl
	zn_status=$?
	read -r zn_pass zn_fail < "${TMPDIR:-/tmp}/agentchain-zombienet.counts" || { zn_pass=0; zn_fail=1; }
	if [ "$zn_status" -ne 0 ] && [ "${zn_fail:-0}" -eq 0 ]; then zn_fail=1; fi
	passed=$((passed + zn_pass))
	failed=$((failed + zn_fail))
fi

stage "done in $((SECONDS - started)) s"
echo "summary: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
