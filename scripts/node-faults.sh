#!/usr/bin/env bash
# Node fault injection on real nodes (docs/reliability.md), a few minutes, outside the default
# suite: a follower killed with SIGKILL while importing blocks, FAULT_KILLS times (default 5),
# keeps every finalized block and finalizes again; an agent node killed while its off-chain
# worker waits on the inference endpoint commits and reveals the task, once, after its restart;
# an agent node whose clock jumps 10 minutes ahead during that wait, then back, executes each
# task once; an agent node whose disk fills up during that wait commits and reveals the task once
# after its restart; an agent node whose clock is a minute behind imports no block until it is set
# right, then follows and executes; a follower whose disk fills up keeps its finalized blocks and
# finalizes again once space is freed (the disks as root only: size-limited tmpfs).
#
# Builds the node and the reference inference server first (CARGO_TARGET_DIR is honoured), and
# installs libfaketime (Debian package faketime), which fakes the agent node's clock.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
scripts/setup.sh --e2e
if ! ls /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1 >/dev/null 2>&1; then
	command -v apt-get >/dev/null 2>&1 || { echo "libfaketime is missing: install your system's faketime package" >&2; exit 1; }
	if [ "$(id -u)" = 0 ]; then as_root=(); else as_root=(sudo); fi
	"${as_root[@]}" apt-get install -y -qq faketime >/dev/null
fi
cargo build --locked --release -p agentchain-node
cargo build --locked --release -p agentchain-inference-server
export AGENTCHAIN_NODE="${CARGO_TARGET_DIR:-$repo/target}/release/agentchain-node"
cd e2e
exec node --test --test-reporter=spec faults/node-faults.test.mjs
