#!/usr/bin/env bash
# Runs one zombienet test (.zndsl) against the release agentchain-node, with the native provider.
#
#   scripts/zombienet-test.sh zombienet/smoke.zndsl
#
# zombienet prints no summary line, so this prints "zombienet: N passed, N failed" and writes
# "N N" (passed, failed) to $TMPDIR/agentchain-zombienet.counts for scripts/test.sh.
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
test_file="${1:?usage: scripts/zombienet-test.sh <file.zndsl>}"
counts="${TMPDIR:-/tmp}/agentchain-zombienet.counts"
echo "0 1" > "$counts"

target_dir="${CARGO_TARGET_DIR:-$repo/target}"
export AGENTCHAIN_NODE="${AGENTCHAIN_NODE:-$target_dir/release/agentchain-node}"
[ -x "$AGENTCHAIN_NODE" ] || {
	echo "agentchain-node not found at $AGENTCHAIN_NODE: run cargo build --release -p agentchain-node" >&2
	exit 1
}
zombienet="$repo/e2e/node_modules/.bin/zombienet"
[ -x "$zombienet" ] || { echo "zombienet is not installed: run scripts/setup.sh --e2e" >&2; exit 1; }

# Agent nodes: their wrapper (inserts the operator key) and one reference inference server each,
# for the networks that have them (INFERENCE_URL_1..3 in the network definition).
export AGENTCHAIN_AGENT_NODE="$repo/zombienet/agent-node.sh"
servers=()
stop_servers() { [ ${#servers[@]} -eq 0 ] || kill "${servers[@]}" 2>/dev/null || true; }
trap stop_servers EXIT
network_file="$(sed -n 's/^Network: *//p' "$test_file")"
if grep -q INFERENCE_URL_ "$(dirname "$test_file")/$network_file" 2>/dev/null; then
	server_bin="$target_dir/release/agentchain-inference-server"
	[ -x "$server_bin" ] || {
		echo "agentchain-inference-server not found at $server_bin: run cargo build --release -p agentchain-inference-server" >&2
		exit 1
	}
	for i in 1 2 3; do
		out="$(mktemp "${TMPDIR:-/tmp}/agentchain-inference-$i.XXXXXX")"
		"$server_bin" --listen 127.0.0.1:0 --model ngram-en >"$out" 2>"$out.log" &
		servers+=($!)
		for _ in $(seq 50); do grep -q "listening on" "$out" && break; sleep 0.1; done
		url="$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$out")"
		[ -n "$url" ] || { echo "inference server $i did not start (see $out.log)" >&2; exit 1; }
		export "INFERENCE_URL_$i=$url/v1"
		echo "[zombienet] inference server $i at $url"
	done
fi

run_dir="$(mktemp -d "${TMPDIR:-/tmp}/agentchain-zombienet.XXXXXX")"
rmdir "$run_dir" # zombienet creates it itself
log="$run_dir.log"
echo "[zombienet] network directory: $run_dir, output: $log"
# The whole run (launch, tests, teardown) is bounded, so a hung network cannot stall the suite.
timeout --kill-after=30 1200 "$zombienet" --provider native --dir "$run_dir" test "$test_file" 2>&1 |
	tee "$log"
status=${PIPESTATUS[0]}

# Stray node processes of this network, if the teardown could not stop them.
pkill -f -- "--base-path $run_dir" 2>/dev/null || true
# An edge agent a js-script started, if the script was stopped before it could stop it.
pkill -f -- "--state-dir ${TMPDIR:-/tmp}/agentchain-edge-" 2>/dev/null || true

result="$(sed -n 's/.*Result: \([0-9]*\)\/\([0-9]*\).*/\1 \2/p' "$log" | tail -n1)"
if [ -n "$result" ]; then
	read -r passed total <<<"$result"
	failed=$((total - passed))
else
	passed=0
	failed=1 # the network did not launch, or the run was cut off
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed $failed" > "$counts"
echo "zombienet: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
