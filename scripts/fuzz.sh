#!/usr/bin/env bash
# Runs every Go fuzz target of the module for a budget each, e.g.
#   scripts/fuzz.sh          # 10s per target (CI)
#   scripts/fuzz.sh 10m      # a long run, by hand or on a schedule
# New failing inputs are written to the package's testdata/fuzz/<Target>/,
# where they become part of the seed corpus once committed.
set -euo pipefail
cd "$(dirname "$0")/.."
budget="${1:-${ALLIANCE_FUZZ_TIME:-10s}}"
status=0
targets=0
while IFS= read -r file; do
	pkg="$(dirname "$file")"
	for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/'); do
		targets=$((targets + 1))
		printf '%-20s %-28s ' "$pkg" "$target"
		start=$(date +%s)
		if out=$(go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$budget" 2>&1); then
			printf 'ok (%ss)\n' "$(($(date +%s) - start))"
		else
			printf 'FAILED\n%s\n' "$out"
			status=1
		fi
	done
done < <(grep -rlE '^func Fuzz[A-Za-z0-9_]+\(' --include='*_test.go' . | sort)
echo "$targets fuzz targets, $budget each"
exit $status
