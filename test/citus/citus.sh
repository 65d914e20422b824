#!/usr/bin/env bash
# test/citus/citus.sh: segment on a Citus cluster.  The script makes its own
# cluster (a coordinator and two workers, initdb'd, on loopback ports, with
# citus preloaded; stopped and removed at exit) and needs nothing else from
# the caller; without Citus installed it prints one "skipped" line.  On the
# coordinator, over the bundled invoice lines distributed by customer
# (lines without a customer left out: Citus refuses a NULL distribution
# column), segmentation "dist" goes through create, set_label, alter,
# refresh (refit and assign-only, after new lines), trim_history, plot,
# report, readers' grants, the registry's row-level security and drop (with
# and without a dependent view).  Segmentation "here" does the same over a
# local copy of the same lines on the same coordinator: after each step
# every table of the two must be equal, row for row and bit for bit (the
# wall-clock columns aside), and no node may log an error of segment's
# DDL.  Run by tools/run-tests.sh (make test) and by make test-citus;
# prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 1
pg_config=${PG_CONFIG:-pg_config}
bindir=$("$pg_config" --bindir)
if [ ! -f "$("$pg_config" --pkglibdir)/citus.so" ]; then
	echo "skipped: Citus not installed (test/citus/citus.sh; README: Running on Citus)"
	exit 0
fi
work=$(mktemp -d)
superuser=$(id -un)
[ "$(id -u)" -eq 0 ] && superuser=postgres
reader=regress_segment_citus_reader
. test/tap.sh
. test/citus/cluster.sh
cleanup() {
	citus_cluster_stop
	# CITUS_KEEP=1 keeps the nodes' logs to read
	if [ -n "${CITUS_KEEP:-}" ]; then echo "# logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# contents SEGMENTATION: every table of a segmentation, one line per row,
# sorted, without the wall-clock columns (fitted_at, assigned_at,
# recorded_at) and with the schema's name taken out
contents() {
	coordinator <<SQL
SET TimeZone = 'UTC';
SET extra_float_digits = 3;
SELECT format('SELECT %L || string_agg(row_text, E''\n'' ORDER BY row_text COLLATE "C") FROM (SELECT (to_jsonb(x) - ''fitted_at'' - ''assigned_at'' - ''recorded_at'')::text AS row_text FROM %I.%I x) AS q',
		t.result_table || ': ', '$1', t.result_table)
FROM segment.segmentation_tables() t ORDER BY t.result_table
\gexec
SQL
}
# same DESCRIPTION: the two segmentations' tables are equal
same() {
	contents dist > "$work/dist.txt" 2>&1
	contents here > "$work/here.txt" 2>&1
	if [ "$(grep -c '^[a-z_]*: ' "$work/dist.txt")" -ge 10 ] && cmp -s "$work/dist.txt" "$work/here.txt"; then
		ok t "$1: every table over the distributed source equals the single node's, row for row"
	else
		ok f "$1: every table over the distributed source equals the single node's, row for row"
		diff "$work/here.txt" "$work/dist.txt" | head -n 10 | cut -c 1-200 | sed 's/^/# /'
	fi
}
# both DESCRIPTION SQL: run SQL for both segmentations (:name), then compare
both() {
	local status=0
	for name in dist here; do
		coordinator -v name="$name" > "$work/step.log" 2>&1 <<< "$2" || { status=1; sed 's/^/# /' "$work/step.log"; }
	done
	if [ "$status" -ne 0 ]; then
		ok f "$1: runs on the coordinator"
		return
	fi
	same "$1"
}

echo "1..21"
# The cluster: three nodes on free loopback ports
citus_cluster_start -c max_parallel_maintenance_workers=2
started=$?
workers=$(coordinator -c "SELECT count(*) FROM citus_get_active_worker_nodes()" 2> /dev/null)
ok "$([ "$started" = 0 ] && [ "$workers" = 2 ] && echo t)" \
	"a coordinator and $workers workers with Citus $(coordinator -c "SELECT extversion FROM pg_extension WHERE extname = 'citus'" 2> /dev/null) start on loopback"
[ "$started" = 0 ] || exit 1

# segment on the coordinator reaches the workers; the lines, distributed by
# customer, and a local copy of them
coordinator > "$work/load.log" 2>&1 <<'SQL' || { echo "Bail out! could not load the data"; sed 's/^/# /' "$work/load.log"; exit 1; }
SET client_min_messages = warning;
CREATE EXTENSION segment;
\i data/load.sql
DELETE FROM invoices WHERE customer_id IS NULL;
CREATE TABLE local_lines AS SELECT * FROM invoices;
SELECT create_distributed_table('invoices', 'customer_id');
SQL
versions=$(for node in worker1 worker2; do on "$node" -c "SELECT extversion FROM pg_extension WHERE extname = 'segment'"; done | sort -u)
ok "$([ "$versions" = "$(coordinator -c "SELECT extversion FROM pg_extension WHERE extname = 'segment'")" ] && echo t)" \
	"CREATE EXTENSION segment on the coordinator installs it on both workers ($versions)"

# the features aggregate runs on the workers, grouped by customer
plan=$(coordinator -c "EXPLAIN (COSTS OFF) SELECT customer_id, segment.customer_features(invoice_no, invoice_date, quantity, unit_price) FROM invoices GROUP BY customer_id")
ok "$(echo "$plan" | grep -q 'Custom Scan (Citus Adaptive)' && echo "$plan" | grep -q 'GroupAggregate\|HashAggregate' && echo t)" \
	"customer_features grouped by customer is pushed down to the workers"

both "create_segmentation" "SET client_min_messages = warning;
SELECT segment.create_segmentation(:'name', CASE :'name' WHEN 'dist' THEN 'invoices' ELSE 'local_lines' END::regclass, k => 4);"
# where the tables live: per customer, co-located with the source; the
# small ones on the coordinator; over the local copy, all local
layout=$(coordinator -c "SELECT string_agg(c.relname || ':' || CASE
		WHEN t.colocation_id = (SELECT colocation_id FROM citus_tables WHERE table_name = 'invoices'::regclass) THEN 'co-located'
		WHEN t.table_name IS NOT NULL THEN 'distributed otherwise' ELSE 'coordinator' END, ' ' ORDER BY c.relname)
	FROM pg_class c LEFT JOIN citus_tables t ON t.table_name = c.oid
	WHERE c.relnamespace = 'dist'::regnamespace AND c.relkind = 'r'" 2>&1)
expected="assignments:co-located boxplots:coordinator elbow:coordinator features:co-located history:co-located model:coordinator pca:coordinator profiles:coordinator silhouette:coordinator transitions:coordinator"
ok "$([ "$layout" = "$expected" ] && echo t)" "features, assignments and history are co-located with the source, the small tables on the coordinator ($layout)"
[ "$layout" = "$expected" ] || echo "# expected: $expected"
local_tables=$(coordinator -c "SELECT count(*) FROM citus_tables WHERE table_name::text LIKE 'here.%'")
ok "$([ "$local_tables" = 0 ] && echo t)" "over the local copy no table is distributed ($local_tables)"
join_query="SELECT count(*) FROM invoices i JOIN dist.assignments a USING (customer_id) WHERE a.cluster = 1"
joined=$(coordinator -c "$join_query" 2>&1)
join_plan=$(coordinator -c "EXPLAIN (COSTS OFF) $join_query" 2>&1)
ok "$([ "$joined" -gt 0 ] 2> /dev/null && echo "$join_plan" | grep -q 'Citus Adaptive' && ! echo "$join_plan" | grep -qi 'subplan' && echo t)" \
	"the user's lines join the assignments shard by shard on the workers, no subplan ($joined lines of segment 1)"

both "set_label" "SELECT segment.set_label(:'name', 1, 'first');"
both "alter_segmentation (k => 3) and a refit" "SET client_min_messages = warning;
SELECT segment.alter_segmentation(:'name', k => 3);
SELECT segment.refresh_segmentation(:'name');"

# new lines in both sources, then an assign-only refresh and a refit
coordinator > "$work/grow.log" 2>&1 <<'SQL' || sed 's/^/# /' "$work/grow.log"
INSERT INTO invoices (invoice_no, invoice_date, quantity, unit_price, customer_id, country)
	VALUES ('C900001', '2011-12-09 13:00', 12, 2.5, 12347, 'Iceland'), ('900002', '2011-12-09 14:00', 40, 1.25, 99001, 'France');
INSERT INTO local_lines (invoice_no, invoice_date, quantity, unit_price, customer_id, country)
	VALUES ('C900001', '2011-12-09 13:00', 12, 2.5, 12347, 'Iceland'), ('900002', '2011-12-09 14:00', 40, 1.25, 99001, 'France');
SQL
both "an assign-only refresh after new lines" "SELECT segment.refresh_segmentation(:'name', refit => false);"
both "a refit" "SELECT segment.refresh_segmentation(:'name');"
# the silhouettes' sample under half the customers (1,260 fit 1 MB): each
# shard sends only the customers under a bound on the hash
both "an assign-only refresh with the silhouettes' sample drawn under a hash bound" "SET maintenance_work_mem = '1MB';
SELECT segment.refresh_segmentation(:'name', refit => false);"
# the customers are assigned on the workers: the statement that fills the
# assignments runs on each shard alone (no subplan, nothing through the
# coordinator), and the silhouettes' sample is bounded on each shard
assign_plan=$(coordinator 2>&1 <<'SQL'
SET maintenance_work_mem = '1MB';
SELECT 'EXPLAIN (COSTS OFF) INSERT INTO dist.assignments (customer_id, cluster, distance, silhouette, pc1, pc2)
	SELECT customer_id, cluster, distance, silhouette, pc1, pc2
	FROM (' || segment.segmentation_query('dist', 'assignments') || ') AS q' \gexec
SQL
)
sample_plan=$(coordinator 2>&1 <<'SQL'
SET maintenance_work_mem = '1MB';
SELECT 'EXPLAIN (COSTS OFF) ' || segment.segmentation_query('dist', 'sample') \gexec
SQL
)
ok "$(echo "$assign_plan" | grep -q 'Insert on assignments_[0-9]' && ! echo "$assign_plan" | grep -qi 'subplan\|INSERT/SELECT method' &&
	echo "$sample_plan" | grep -q "md5((customer_id)::text) < '" && echo t)" \
	"the customers are assigned on the workers (each shard's INSERT ... SELECT alone), the silhouettes' sample bounded on each shard"
echo "$assign_plan" | grep -q 'Insert on assignments_[0-9]' || echo "$assign_plan" | head -n 20 | sed 's/^/# /'
both "trim_history" "SELECT segment.trim_history(:'name', '1 day');"

# pictures and the report
plot=$(coordinator -c "SELECT segment.plot('dist', 'clusters')" 2>&1)
report=$(coordinator -c "SELECT segment.report('dist')" 2>&1)
ok "$(echo "$plot" | grep -q '^<svg' && echo "$report" | grep -q '</html>' && echo t)" "plot and report draw the distributed segmentation"

# a reader: the README's grants; the registry's row-level security
coordinator > "$work/reader.log" 2>&1 <<SQL || sed 's/^/# /' "$work/reader.log"
CREATE ROLE $reader;
GRANT USAGE ON SCHEMA dist TO $reader;
GRANT SELECT ON ALL TABLES IN SCHEMA dist TO $reader;
SQL
read_back=$(coordinator -c "SET ROLE $reader" -c "SELECT count(*) FROM dist.profiles" \
	-c "SELECT string_agg(name, ',' ORDER BY name) FROM segment.segmentations" 2>&1 | tr '\n' ' ')
ok "$([ "$read_back" = "3 dist " ] && echo t)" \
	"a reader granted schema dist reads its profiles and sees only its registry row ($read_back)"
refused=$(coordinator -c "SET ROLE $reader" -c "SELECT segment.refresh_segmentation('dist')" 2>&1)
ok "$(echo "$refused" | grep -q 'permission denied\|must be' && echo t)" "the reader may not refresh it"

# drop: refused while a user's view depends on it, then with cascade
coordinator -c "CREATE VIEW my_view AS SELECT * FROM dist.profiles" > /dev/null 2>&1
refused=$(coordinator -c "SELECT segment.drop_segmentation('dist')" 2>&1)
ok "$(echo "$refused" | grep -q 'my_view' && ! echo "$refused" | grep -q 'trigger' && echo t)" \
	"drop_segmentation refuses while a user's view depends on it, naming the view (and not Citus's own triggers)"
dropped=$(coordinator -c "SET client_min_messages = warning" -c "DROP VIEW my_view" -c "SELECT segment.drop_segmentation('dist')" \
	-c "SELECT segment.drop_segmentation('here')" \
	-c "SELECT count(*) || ' schemas, ' || (SELECT count(*) FROM segment.segmentations) || ' registry rows'
		FROM pg_namespace WHERE nspname IN ('dist', 'here')" 2>&1 | tail -n 1)
ok "$([ "$dropped" = "0 schemas, 0 registry rows" ] && echo t)" "without the view, both segmentations drop without cascade: $dropped left"

# no node logged an error while segment ran (Citus's DDL propagation
# included), and no backend died
errors=$(grep -h 'ERROR:\|terminated by signal' "$work"/coordinator.log "$work"/worker1.log "$work"/worker2.log 2> /dev/null |
	grep -v 'permission denied\|must be\|depends on\|depend on\|cannot drop' | head -n 5)
[ -n "$errors" ] && echo "$errors" | sed 's/^/# /'
ok "$([ -z "$errors" ] && echo t)" "no node logged an unexpected error or a crash"

ok "$([ "$test_number" -eq 20 ] && echo t)" "every step ran"
exit 0
