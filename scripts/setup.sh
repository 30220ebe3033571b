#!/usr/bin/env bash
# Installs what building and testing AgentChain needs, and checks what it cannot install.
# Safe to run again: every step checks first and is a no-op once done.
#
#   scripts/setup.sh          Rust toolchain, wasm target, rust-src, protoc
#   scripts/setup.sh --e2e    the same, plus Node.js packages for the end-to-end tests
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[setup] error:\033[0m %s\n' "$*" >&2; exit 1; }

run_as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"
	elif command -v sudo >/dev/null 2>&1; then sudo "$@"
	else die "'$*' needs root and sudo is not available; run it as root, then run this again"
	fi
}

# --- System packages --------------------------------------------------------------------------
# litep2p (the node's networking) compiles protobuf definitions with protoc, and links OpenSSL
# (found through pkg-config) for its WebRTC transport. The node stores its database in ParityDB,
# so RocksDB's C++ build (clang, libclang) is not needed.
missing=()
command -v protoc >/dev/null 2>&1 || missing+=(protobuf-compiler)
command -v cc >/dev/null 2>&1 || missing+=(build-essential)
command -v git >/dev/null 2>&1 || missing+=(git)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
pkg-config --exists openssl 2>/dev/null || missing+=(libssl-dev)
if [ ${#missing[@]} -gt 0 ]; then
	command -v apt-get >/dev/null 2>&1 ||
		die "missing ${missing[*]}; install them with your system's package manager"
	say "installing ${missing[*]} (apt-get)"
	run_as_root apt-get update -qq
	DEBIAN_FRONTEND=noninteractive run_as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- Rust ---------------------------------------------------------------------------------------
command -v rustup >/dev/null 2>&1 ||
	die "rustup not found: install it from https://rustup.rs, then run this again"
toolchain="$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)"
if ! rustup run "$toolchain" rustc --version >/dev/null 2>&1; then
	say "installing Rust $toolchain"
	rustup toolchain install "$toolchain" --profile minimal
fi
installed_targets="$(rustup +"$toolchain" target list --installed)"
grep -qx wasm32v1-none <<<"$installed_targets" || {
	say "adding the wasm32v1-none target (the runtime is compiled to it)"
	rustup +"$toolchain" target add wasm32v1-none
}
installed_components="$(rustup +"$toolchain" component list --installed)"
for component in rust-src rustfmt clippy; do
	grep -q "^$component" <<<"$installed_components" || {
		say "adding the $component component"
		rustup +"$toolchain" component add "$component"
	}
done

# --- Node.js packages for the end-to-end tests -----------------------------------------------------
if [ "${1:-}" = "--e2e" ]; then
	command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
		die "Node.js 20 or newer (with npm) is needed for the end-to-end tests; install it, then run this again"
	node_major="$(node -p 'process.versions.node.split(".")[0]')"
	[ "$node_major" -ge 20 ] || die "Node.js $node_major found; the end-to-end tests need 20 or newer"
	if [ ! -d e2e/node_modules ] || [ e2e/package-lock.json -nt e2e/node_modules/.package-lock.json ]; then
		say "installing the end-to-end test packages (npm ci)"
		(cd e2e && npm ci --no-audit --no-fund --loglevel=error)
	fi
fi
