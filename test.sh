#!/usr/bin/env bash
# Runs every test in the solution and ends with one line "N passed, N failed[, N skipped]".
set -uo pipefail
cd "$(dirname "$0")"

# The dashboard tests drive Debian's Chromium headless (Playwright downloads no browser here). Install it when it is
# missing, as root or through passwordless sudo; otherwise say plainly why the browser tests will fail.
if [ ! -x /usr/bin/chromium ]; then
  as_root=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null && as_root="sudo -n"
  if [ "$(id -u)" -eq 0 ] || [ -n "$as_root" ]; then
    echo "Installing Chromium for the dashboard tests (apt-get install chromium)..." >&2
    $as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq chromium fonts-dejavu-core fonts-noto-color-emoji >/dev/null \
      || echo "Could not install Chromium: the dashboard browser tests will fail." >&2
  else
    echo "Chromium is not installed and this user cannot install it: run 'sudo apt-get install chromium' or the dashboard browser tests will fail." >&2
  fi
fi

# The PostgreSQL tests start a throw-away cluster from the server binaries (initdb, pg_ctl); the server itself is not
# run as a service. Install them the same way when missing.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  as_root=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null && as_root="sudo -n"
  if [ "$(id -u)" -eq 0 ] || [ -n "$as_root" ]; then
    echo "Installing PostgreSQL for the PostgreSQL tests (apt-get install postgresql)..." >&2
    $as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq postgresql >/dev/null \
      || echo "Could not install PostgreSQL: the PostgreSQL tests will fail." >&2
  else
    echo "PostgreSQL is not installed and this user cannot install it: run 'sudo apt-get install postgresql' or the PostgreSQL tests will fail." >&2
  fi
fi

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
