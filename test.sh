#!/usr/bin/env bash
# Runs every test in the solution and ends with one line "N passed, N failed[, N skipped]".
set -uo pipefail
cd "$(dirname "$0")"

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

dotnet test Tollgate.slnx --nologo --logger "trx" --results-directory "$results" "$@"
status=$?

passed=0; failed=0; skipped=0; found=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  found=1
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed)))
  skipped=$((skipped + $(get notExecuted)))
done

if [ "$found" -eq 0 ]; then
  echo "no test results were written (build failed?)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
