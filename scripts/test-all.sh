#!/usr/bin/env bash
# Sets up tunstack and runs every test: Rust format and lint checks, the
# engine/device/runtime cargo tests (virtual-time scripted exchanges,
# simulations, smoltcp interop, bad input), the TypeScript API docs build and
# the ava tests (MemoryLink always; TUN tests with the Linux kernel as peer
# when running as root with /dev/net/tun). Ends with one summary line
# "tests: N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || { echo "tests: 0 passed, 1 failed"; exit 1; }

logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT
status=0
passed=0 failed=0 skipped=0

step() { # name, command...
  local name=$1; shift
  echo "== $name"
  if "$@"; then return 0; fi
  echo "!! $name failed" >&2
  status=1
  return 1
}

step "cargo fmt --check" cargo fmt --all -- --check || failed=$((failed + 1))
step "cargo clippy" cargo clippy --workspace --all-targets --quiet -- -D warnings || failed=$((failed + 1))

echo "== cargo test"
cargo test --workspace --profile test 2>&1 | tee "$logdir/cargo.log"
[ "${PIPESTATUS[0]}" = 0 ] || status=1
while read -r p f i; do
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + i))
done < <(sed -nE 's/^test result: [a-zA-Z]+\. ([0-9]+) passed; ([0-9]+) failed; ([0-9]+) ignored.*/\1 \2 \3/p' "$logdir/cargo.log")

step "typedoc" npm run --silent docs || failed=$((failed + 1))

echo "== ava"
npx ava 2>&1 | tee "$logdir/ava.log"
[ "${PIPESTATUS[0]}" = 0 ] || status=1
count() { grep -oE "^ *([0-9]+) $1" "$logdir/ava.log" | grep -oE '[0-9]+' | tail -1; }
passed=$((passed + $(count 'tests? passed' || echo 0)))
failed=$((failed + $(count 'tests? failed' || echo 0) + $(count 'uncaught exceptions?' || echo 0)))
skipped=$((skipped + $(count 'tests? skipped' || echo 0)))

[ "$status" = 0 ] || [ "$failed" -gt 0 ] || failed=1
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit "$status"
