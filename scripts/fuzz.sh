#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time each (default 30 s), starting from
# the committed seed corpora (fuzz/corpus/<target>/; new finds go to a scratch copy so the
# committed seeds stay small). Needs nightly and cargo-fuzz: `cargo install cargo-fuzz`.
# Not part of scripts/test.sh (CI budget). A crash leaves its input in fuzz/artifacts/<target>/
# and makes this script fail; turn it into a regression test, then fix.
#
#   scripts/fuzz.sh [seconds-per-target] [target ...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-30}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list --fuzz-dir fuzz)
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/fuzz/target}"
# No sanitizer: the code under test forbids `unsafe`; what we look for is panics, overflows,
# hangs and broken invariants (the targets' asserts). -s address works too, just slower.
cargo +nightly fuzz build --fuzz-dir fuzz -s none
failed=()
for t in "${targets[@]}"; do
  work="$(mktemp -d)"
  cp -r "fuzz/corpus/$t/." "$work/" 2>/dev/null || true
  echo "== $t (${secs}s)"
  log="$work.log"
  status=0
  cargo +nightly fuzz run --fuzz-dir fuzz -s none "$t" "$work" "fuzz/corpus/$t" -- \
    -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    >"$log" 2>&1 || status=$?
  grep -E "^stat::(number_of_executed_units|new_units_added)|panicked|SUMMARY" "$log" || true
  if [ "$status" -ne 0 ]; then
    failed+=("$t")
    grep -v "^\s*\[" "$log" | cut -c1-300 | tail -30
  fi
  rm -f "$log"
  rm -rf "$work"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashes in ${failed[*]} (inputs in fuzz/artifacts/)"
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${secs}s each, no crash"
