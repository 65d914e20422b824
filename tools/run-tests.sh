#!/usr/bin/env bash
# tools/run-tests.sh: run inside a cluster (pg_virtualenv sets PGHOST etc.):
# pg_regress (make installcheck) and pg_prove on test/*.sql, then one line
# "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p results

regress_passed=0
regress_failed=0
make -s installcheck PG_CONFIG="$PG_CONFIG" 2>&1 | tee results/installcheck.log
# PG 15 prints "test x ... ok"; PG 16+ prints TAP ("ok 1 - x", "not ok 2 - x")
regress_passed=$(grep -cE '(\.\.\. ok|^ok [0-9]+ )' results/installcheck.log || true)
regress_failed=$(grep -cE '(\.\.\. FAILED|^not ok [0-9]+ )' results/installcheck.log || true)
if ! grep -qE "All [0-9]+ tests passed" results/installcheck.log && [ "$regress_failed" -eq 0 ]; then
	regress_failed=1	# pg_regress itself failed (could not connect, crashed, ...)
fi
if [ -f regression.diffs ]; then
	head -n 200 regression.diffs
fi

createdb segment_tap
pg_prove -v -d segment_tap test/*.sql 2>&1 | tee results/pg_prove.log
prove_status=${PIPESTATUS[0]}
tap_passed=$(grep -cE '^\s*ok [0-9]+' results/pg_prove.log || true)
tap_failed=$(grep -cE '^\s*not ok [0-9]+' results/pg_prove.log || true)
if [ "$prove_status" -ne 0 ] && [ "$tap_failed" -eq 0 ]; then
	tap_failed=1	# a file died or planned more tests than it ran
fi

# Readers during repeated refreshes (pgbench on loopback, bounded)
test/load/refresh_under_load.sh contrib_regression 2>&1 | tee results/load.log
tap_passed=$((tap_passed + $(grep -c '^ok ' results/load.log || true)))
tap_failed=$((tap_failed + $(grep -c '^not ok ' results/load.log || true)))

# The clients BI tools stand on (psqlODBC, pgjdbc, psql) find every table,
# column and description
test/clients/clients.sh contrib_regression 2>&1 | tee results/clients.log
tap_passed=$((tap_passed + $(grep -c '^ok ' results/clients.log || true)))
tap_failed=$((tap_failed + $(grep -c '^not ok ' results/clients.log || true)))
if [ "$(grep -cE '^(not )?ok ' results/clients.log || true)" -ne 8 ]; then
	tap_failed=$((tap_failed + 1))	# the script stopped early
fi

# docs/walkthrough.md runs as pasted and gives what recipe => 'notebook' gives
test/walkthrough/walkthrough.sh 2>&1 | tee results/walkthrough.log
tap_passed=$((tap_passed + $(grep -c '^ok ' results/walkthrough.log || true)))
tap_failed=$((tap_failed + $(grep -c '^not ok ' results/walkthrough.log || true)))
if [ "$(grep -cE '^(not )?ok ' results/walkthrough.log || true)" -ne 5 ]; then
	tap_failed=$((tap_failed + 1))	# the script stopped early
fi

# run_suite SCRIPT LOG: a shell suite that ends with "every step ran", its
# TAP lines counted (and one failure more when it stopped early); a suite
# that says "skipped: ..." (what it needs is not installed) counts nothing
run_suite() {
	"$1" 2>&1 | tee "$2"
	grep -q '^skipped: ' "$2" && return
	tap_passed=$((tap_passed + $(grep -c '^ok ' "$2" || true)))
	tap_failed=$((tap_failed + $(grep -c '^not ok ' "$2" || true)))
	if ! grep -q '^ok [0-9]* - every step ran' "$2"; then
		tap_failed=$((tap_failed + 1))	# the script stopped early
	fi
}

# Segmentations survive pg_dump and pg_restore (custom and plain formats)
run_suite test/dump/dump_restore.sh results/dump.log
# A user's materialized views over the aggregates restore, populated, and
# refresh under an empty search_path
run_suite test/dump/materialized_views.sh results/materialized_views.log
# The database's owner, not a superuser, dumps and restores its
# segmentations; a one-schema dump is taken back
run_suite test/dump/owner_dump.sh results/owner_dump.log
# A segmentation's whole life replicates to a subscriber cluster (logical
# replication; needs wal_level = logical, set by tools/test.sh)
run_suite test/replication/subscriber.sh results/replication.log

# META.json says what segment.control and the tree say
run_suite test/package/meta_json.sh results/meta_json.log

# Another session sees a refresh's phase (segment.progress,
# pg_stat_activity), and segment.report_phases times each phase
run_suite test/progress/progress.sh results/progress.log

# segment on a Citus cluster of its own (a coordinator and two workers),
# when Citus is installed; one "skipped" line otherwise
run_suite test/citus/citus.sh results/citus.log

# No backend may have died during the run: look in the cluster's log
crashes=0
log=$(pg_lsclusters -h 2>/dev/null | awk -v port="$PGPORT" '$3 == port { print $7 }')
if [ -n "$log" ] && [ -r "$log" ]; then
	crashes=$(grep -c "terminated by signal" "$log" || true)
	echo "server log: $crashes backends terminated by a signal"
fi
[ "$crashes" -eq 0 ] || regress_failed=$((regress_failed + 1))

passed=$((regress_passed + tap_passed))
failed=$((regress_failed + tap_failed))
echo "pg_regress: $regress_passed passed, $regress_failed failed; pgTAP: $tap_passed passed, $tap_failed failed"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
