#!/usr/bin/env bash
# Regenerates crates/gatehouse/link/symbol-order.txt: the functions that start-up, a sign-in and
# the common requests run, which the release build's linker lays out first and together (see
# crates/gatehouse/build.rs). Rerun it after a toolchain or dependency upgrade (the names carry
# hashes that change with them; stale names are skipped, and the idle RSS in BENCHMARKS.md
# creeps back up) or after large changes to those paths. About three minutes plus the build.
#
#   scripts/symbol-order.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "installing valgrind (Debian)"; apt-get install -y -q valgrind >/dev/null; }
[[ -d bench/node_modules ]] || (cd bench && npm ci --silent)
echo "== building the release binary"
cargo build --release -p gatehouse --locked
echo "== running it under callgrind (start-up, one sign-in, one request of each kind)"
node bench/memory.mjs --layout crates/gatehouse/link/symbol-order.txt
echo "== relinking with the new order"
cargo build --release -p gatehouse --locked
echo "== idle and peak memory with the new layout"
node bench/memory.mjs --flows 16 --concurrency 4 | grep -E 'RSS'
