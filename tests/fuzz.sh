#!/usr/bin/env bash
# make fuzz: runs every cargo-fuzz target for SECONDS each (default 600) on the nightly
# toolchain the machine carries, starting from the committed seeds (crates/*/fuzz/seeds);
# new inputs go to target/fuzz/corpus. Figures per target go to target/fuzz/<target>.json
# and a table is printed. A crash fails the run; its input is in crates/*/fuzz/artifacts.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-600}"
out="$repo/target/fuzz"
mkdir -p "$out"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
rustup toolchain list | grep -q '^nightly' || { echo "fuzz: no nightly toolchain" >&2; exit 1; }

status=0
echo "| target | seconds | runs | crashes |"
echo "|---|---|---|---|"
for spec in compose:parse compose:interpolate compose:short_syntax engine:translate; do
  crate="${spec%%:*}" target="${spec#*:}"
  corpus="$out/corpus/$target"
  mkdir -p "$corpus"
  seeds=()
  [[ -d "$repo/crates/$crate/fuzz/seeds/$target" ]] && seeds=("$repo/crates/$crate/fuzz/seeds/$target")
  log="$out/$target.log"
  crashes=0
  (cd "$repo/crates/$crate" && cargo +nightly fuzz run "$target" "$corpus" "${seeds[@]}" -- \
    -max_total_time="$seconds" -rss_limit_mb=4096 >"$log" 2>&1) || { crashes=1; status=1; }
  runs="$(grep -oE 'Done [0-9]+ runs' "$log" | grep -oE '[0-9]+' | tail -1 || true)"
  printf '{"target": "%s", "seconds": %s, "runs": %s, "crashes": %s}\n' \
    "$target" "$seconds" "${runs:-0}" "$crashes" >"$out/$target.json"
  echo "| $target | $seconds | ${runs:-0} | $crashes |"
done
exit "$status"
