#!/usr/bin/env bash
# Passes cargo test's output through and ends it with one line totalling every test binary
# ("N passed, N failed"), since cargo's own last line is often an empty doc-test run.
set -uo pipefail
passed=0 failed=0 ignored=0
while IFS= read -r line; do
  printf '%s\n' "$line"
  if [[ "$line" =~ ^test\ result:.*\ ([0-9]+)\ passed\;\ ([0-9]+)\ failed\;\ ([0-9]+)\ ignored ]]; then
    passed=$((passed + BASH_REMATCH[1]))
    failed=$((failed + BASH_REMATCH[2]))
    ignored=$((ignored + BASH_REMATCH[3]))
  fi
done
echo "total: $passed passed, $failed failed, $ignored skipped"
