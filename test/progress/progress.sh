#!/usr/bin/env bash
# test/progress/progress.sh: another session sees where a refresh is.  A
# refresh is held in one phase by a lock another session holds (EXCLUSIVE on
# the assignments table: the refresh waits to refill it); meanwhile
# segment.progress and pg_stat_activity show the phase to a monitor with
# pg_read_all_stats and to nobody else, and after it the statement's own text
# comes back, also when the refresh fails or a subtransaction that ran it
# rolls back.  With segment.report_phases on the refresh prints each phase
# and its time.  Run by tools/run-tests.sh inside the test cluster, in a
# database of its own; prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 1
work=$(mktemp -d)
database=segment_progress

cleanup() {
	psql -X -q -d postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$database'" > /dev/null 2>&1
	dropdb --if-exists --force "$database" > /dev/null 2>&1
	psql -X -q -d postgres -c "DROP ROLE IF EXISTS progress_stranger" -c "DROP ROLE IF EXISTS progress_monitor" > /dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

. test/tap.sh
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$database" -c "$1"; }

# wait_for QUERY: poll until QUERY returns a row that is 't' (at most 30 s)
wait_for() {
	for _ in $(seq 1 300); do
		[ "$(sql "$1")" = "t" ] && return 0
		sleep 0.1
	done
	return 1
}

# hold_lock NAME SECONDS: a session (application_name NAME) that holds an
# EXCLUSIVE lock on shop.assignments for SECONDS, in the background
hold_lock() {
	PGAPPNAME=$1 psql -X -q -d "$database" -c "BEGIN" -c "LOCK TABLE shop.assignments IN EXCLUSIVE MODE" \
		-c "SELECT pg_sleep($2)" -c "COMMIT" > /dev/null 2>&1 &
	wait_for "SELECT EXISTS (SELECT FROM pg_locks l JOIN pg_stat_activity a USING (pid)
		WHERE a.application_name = '$1' AND l.relation = 'shop.assignments'::regclass AND l.granted)"
}

# release_lock NAME: end the lock holder's transaction
release_lock() {
	sql "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity WHERE application_name = '$1'" > /dev/null
}

dropdb --if-exists --force "$database" > /dev/null 2>&1
createdb "$database"
psql -X -q -v ON_ERROR_STOP=1 -d "$database" -f sql/load_data.sql > "$work/load.log" 2>&1 || { cat "$work/load.log"; exit 1; }
psql -X -q -d postgres -c "SET client_min_messages = warning" \
	-c "DROP ROLE IF EXISTS progress_stranger" -c "DROP ROLE IF EXISTS progress_monitor" -c "CREATE ROLE progress_stranger" -c "CREATE ROLE progress_monitor IN ROLE pg_read_all_stats" > /dev/null
sql "SELECT segment.create_segmentation('shop', 'invoices')" > /dev/null
echo "1..12"

# 1. A refit held in the phase that refills the assignments (a new customer:
# the data changed, so the refit fits every k anew)
sql "INSERT INTO invoices SELECT invoice_no || '-new', stock_code, description, quantity, invoice_date, unit_price,
	99999, country FROM invoices WHERE customer_id = 12347" > /dev/null
hold_lock holder 60
PGAPPNAME=refresher psql -X -q -d "$database" -c "SET segment.report_phases = on" \
	-c "SELECT segment.refresh_segmentation('shop')" > "$work/refresh.out" 2> "$work/refresh.err" &
refresher=$!
wait_for "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'refresher' AND wait_event_type = 'Lock')"
seen=$(sql "SET ROLE progress_monitor; SELECT concat_ws(' | ', segmentation, phase, wait_event_type, statement)
	FROM segment.progress WHERE database = current_database()")
ok "$([ "$seen" = "shop | assigning the customers | Lock | SELECT segment.refresh_segmentation('shop')" ] && echo t)" \
	"a member of pg_read_all_stats sees the refresh, its phase, what it waits for and its statement (got: $seen)"
query=$(sql "SELECT query FROM pg_stat_activity WHERE application_name = 'refresher'")
ok "$([ "$query" = "/* segment \"shop\": assigning the customers */ SELECT segment.refresh_segmentation('shop')" ] && echo t)" \
	"pg_stat_activity shows the phase as a comment before the statement (got: $query)"
started=$(sql "SELECT phase_started >= statement_started AND phase_started > statement_started + interval '1 microsecond'
	FROM segment.progress WHERE segmentation = 'shop'")
ok "$([ "$started" = "t" ] && echo t)" "the phase began after the statement (phase_started)"
stranger=$(sql "SET ROLE progress_stranger; SELECT count(*) FROM segment.progress")
stranger_activity=$(sql "SET ROLE progress_stranger; SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%segment \"shop\"%'")
ok "$([ "$stranger" = "0" ] && [ "$stranger_activity" = "0" ] && echo t)" \
	"a role without pg_read_all_stats sees neither the refresh nor its phase (progress: $stranger, pg_stat_activity: $stranger_activity)"
sleep 1.5
release_lock holder
wait "$refresher"
status=$?
ok "$([ "$status" -eq 0 ] && echo t)" "the refresh ends once the lock is released"
phases=$(sed -n 's/^INFO:  segmentation "shop": \(.*\): [0-9.]* s$/\1/p' "$work/refresh.err" | paste -sd ',' -)
expected="grouping the lines by customer,fitting the customer-value models,writing the features,standardizing the vectors,fitting and scoring k = 2..10,drawing the silhouettes' sample,assigning the customers,filling profiles,filling elbow,filling silhouette,filling boxplots,filling pca,filling model,filling transitions,recording history"
ok "$([ "$phases" = "$expected" ] && grep -qE '^INFO:  segmentation "shop": refreshed in [0-9]+\.[0-9]{2} s$' "$work/refresh.err" && echo t)" \
	"segment.report_phases prints every phase of a refit in order, then the total (got: $phases)"
waited=$(sed -n 's/^INFO:  segmentation "shop": assigning the customers: \([0-9]*\)\..*/\1/p' "$work/refresh.err")
ok "$([ "${waited:-0}" -ge 1 ] && echo t)" "the time printed for the phase that waited for the lock includes the wait (${waited:-?} s)"

# 2. The statement's text comes back: after a refresh, after one that fails,
# and after a subtransaction that ran one rolls back
PGAPPNAME=idler psql -X -q -d "$database" -c "SELECT segment.refresh_segmentation('shop', refit => false)" \
	-c "\\! sleep 5" > /dev/null 2>&1 &
idler=$!
wait_for "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'idler' AND state = 'idle')"
query=$(sql "SELECT query FROM pg_stat_activity WHERE application_name = 'idler'")
ok "$([ "$query" = "SELECT segment.refresh_segmentation('shop', refit => false)" ] && echo t)" \
	"an idle session after a refresh shows the statement it ran, not a phase (got: $query)"
wait "$idler"

hold_lock holder 60
PGAPPNAME=failer psql -X -q -d "$database" -c "SET lock_timeout = '500ms'" \
	-c "SELECT segment.refresh_segmentation('shop')" -c "\\! sleep 5" > /dev/null 2> "$work/failer.err" &
failer=$!
wait_for "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'failer' AND state = 'idle')"
query=$(sql "SELECT query FROM pg_stat_activity WHERE application_name = 'failer'")
ok "$(grep -q 'lock timeout' "$work/failer.err" && [ "$query" = "SELECT segment.refresh_segmentation('shop')" ] && echo t)" \
	"after a refresh that fails (lock_timeout) the session shows its statement, not the phase it failed in (got: $query)"
wait "$failer"

block="DO \$\$ BEGIN BEGIN PERFORM segment.refresh_segmentation('shop'); EXCEPTION WHEN lock_not_available THEN NULL; END; PERFORM pg_sleep(5); END \$\$"
PGAPPNAME=catcher psql -X -q -d "$database" -c "SET lock_timeout = '500ms'" -c "$block" > /dev/null 2>&1 &
catcher=$!
wait_for "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'catcher' AND wait_event = 'PgSleep')"
query=$(sql "SELECT query FROM pg_stat_activity WHERE application_name = 'catcher'")
rows=$(sql "SELECT count(*) FROM segment.progress")
ok "$([ "$query" = "$block" ] && [ "$rows" = "0" ] && echo t)" \
	"a refresh rolled back with its subtransaction leaves no phase behind while its transaction goes on (got: $query)"
wait "$catcher"
release_lock holder
sleep 0.5

# 3. Without segment.report_phases nothing is printed
PGAPPNAME=quiet psql -X -q -d "$database" -c "SELECT segment.refresh_segmentation('shop')" > /dev/null 2> "$work/quiet.err"
ok "$([ ! -s "$work/quiet.err" ] && echo t)" "without segment.report_phases a refresh prints nothing"

ok "$([ "$test_number" -eq 11 ] && echo t)" "every step ran"
exit 0
