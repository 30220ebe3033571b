#!/usr/bin/env bash
# The digest of a pallet's dispatch code, which its weights.rs records when it is generated:
#
#   scripts/weights-digest.sh pallets/agents           prints the digest of the code now
#   scripts/weights-digest.sh --check [pallet dirs…]   fails if a pallet's code changed since
#                                                      its weights.rs was generated (all four
#                                                      AgentChain pallets by default)
#
# The digest covers what the benchmarks measure: every Rust file under the pallet's src/ except
# its tests, mock, weights, views (runtime APIs), try_state, off-chain worker and migrations,
# with comments and blank lines left out, so that documentation changes need no new weights.
# scripts/benchmark.sh writes it into each weights.rs as `//! DISPATCH CODE DIGEST: …`.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

digest() {
	local dir=$1
	find "$dir/src" -name '*.rs' \
		! -name tests.rs ! -name mock.rs ! -name weights.rs ! -name views.rs \
		! -name try_state.rs ! -name offchain.rs ! -path '*/offchain/*' ! -path '*/migrations/*' \
		! -path '*/tests/*' | LC_ALL=C sort | while read -r file; do
		echo "== ${file#"$dir/"}"
		sed -e 's#^[[:space:]]*//.*$##' -e 's/[[:space:]]*$//' "$file" | grep -v '^$' || true
	done | sha256sum | cut -c1-16
}

if [ "${1:-}" != --check ]; then
	[ $# -eq 1 ] && [ -d "$1/src" ] || { echo "usage: $0 PALLET_DIR | --check [PALLET_DIR…]" >&2; exit 2; }
	digest "$1"
	exit 0
fi
shift
dirs=("$@")
[ ${#dirs[@]} -gt 0 ] || dirs=(pallets/agents pallets/inference pallets/challenges pallets/data-rewards)
stale=0
for dir in "${dirs[@]}"; do
	recorded=$(sed -n 's#^//! DISPATCH CODE DIGEST: \([0-9a-f]*\)$#\1#p' "$dir/src/weights.rs")
	now=$(digest "$dir")
	if [ "$recorded" = "$now" ]; then
		echo "[weights] $dir: weights.rs matches the code ($now)"
	else
		echo "[weights] $dir: the code changed since weights.rs was generated (recorded ${recorded:-none}, now $now): run scripts/benchmark.sh pallet_$(basename "$dir" | tr - _)" >&2
		stale=1
	fi
done
exit "$stale"
