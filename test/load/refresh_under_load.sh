#!/usr/bin/env bash
# test/load/refresh_under_load.sh: while refresh_segmentation runs again and
# again, pgbench readers on loopback (bounded: 4 clients, 15 s) must never
# get an error or an empty view.  Run by tools/run-tests.sh after pg_regress,
# in its database, where the segmentation "retail" exists.  Prints TAP.
set -u
database=${1:-contrib_regression}
echo "1..1"
(
	end=$((SECONDS + 12))
	while [ $SECONDS -lt $end ]; do
		psql -X -q -d "$database" -c "SELECT segment.refresh_segmentation('retail')" > /dev/null || exit 1
	done
) &
refresher=$!
output=$(pgbench -n -h 127.0.0.1 -c 4 -j 2 -T 15 -f "$(dirname "$0")/readers.sql" "$database" 2>&1)
status=$?
wait $refresher
refresh_status=$?
failed=$(printf '%s\n' "$output" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
processed=$(printf '%s\n' "$output" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
if [ "$status" -eq 0 ] && [ "$refresh_status" -eq 0 ] && [ "${failed:-0}" -eq 0 ] && [ "${processed:-0}" -gt 0 ]; then
	echo "ok 1 - $processed reader transactions during repeated refreshes, none failed or saw an empty view"
else
	echo "not ok 1 - readers during refreshes: pgbench status $status, refresh status $refresh_status, failed ${failed:-?}"
	printf '%s\n' "$output" | tail -n 20 | sed 's/^/# /'
fi
