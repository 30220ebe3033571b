#!/usr/bin/env bash
# Builds the runtime of an earlier release, which the upgrade test (e2e/test/upgrade.test.mjs)
# starts a chain on before upgrading it to the current runtime:
#
#   scripts/previous-runtime.sh [REVISION] [SPEC_VERSION]     (default: 213d683, spec 105)
#
# Checks REVISION out into a temporary worktree, builds its `agentchain-runtime` (release, in
# its own target directory under CARGO_TARGET_DIR, so the current build is left alone), checks
# the spec version it reports, and writes the compressed wasm to
# e2e/fixtures/agentchain-runtime-spec<SPEC_VERSION>.compact.compressed.wasm. The suite does not
# run this: the wasm is kept in the repository (about 600 kB), as a release's runtime is.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
revision="${1:-213d683}"
spec="${2:-105}"
target_dir="${CARGO_TARGET_DIR:-$repo/target}/previous-runtime"
scratch="$(mktemp -d)"
worktree="$scratch/agentchain-$revision"
out="$repo/e2e/fixtures/agentchain-runtime-spec$spec.compact.compressed.wasm"

scripts/setup.sh
git worktree add --detach "$worktree" "$revision"
trap 'git worktree remove --force "$worktree"; rm -rf "$scratch"' EXIT
(cd "$worktree" && CARGO_TARGET_DIR="$target_dir" cargo build --locked --release -p agentchain-runtime)
wasm="$target_dir/release/wbuild/agentchain-runtime/agentchain_runtime.compact.compressed.wasm"
found=$(grep -c "spec_version: $spec," "$worktree/runtime/src/lib.rs" || true)
[ "$found" = 1 ] || { echo "revision $revision is not spec $spec" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
cp "$wasm" "$out"
echo "wrote $out ($(stat -c %s "$out") bytes, sha256 $(sha256sum "$out" | cut -c1-64))"
