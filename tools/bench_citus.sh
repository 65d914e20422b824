#!/usr/bin/env bash
# tools/bench_citus.sh (make bench-citus): segment on a Citus cluster of its
# own (a coordinator and two workers on loopback, test/citus/cluster.sh)
# against a single node on the same machine, at SCALE copies of the bundled
# data (default 25: 13.5 million lines, 109,000 customers).  The single
# node is the coordinator itself, over a local copy of the lines.  For each:
# create_segmentation and an assign-only refresh, in fresh backends, and
# the backend's peak resident memory (VmHWM); for the Citus calls, the rows
# that reach the coordinator: what the workers' SELECTs on their shards
# returned, as pg_stat_statements counts them there.  Prints one table.
cd "$(dirname "$0")/.."
. tools/common.sh
build_and_install
pg_config=${PG_CONFIG:-pg_config}
bindir=$("$pg_config" --bindir)
if [ ! -f "$("$pg_config" --pkglibdir)/citus.so" ]; then
	echo "Citus is not installed (README: Running on Citus)"
	exit 1
fi
scale=${SCALE:-25}
work=$(mktemp -d)
superuser=$(id -un)
[ "$(id -u)" -eq 0 ] && superuser=postgres
. test/tap.sh
. test/citus/cluster.sh
trap 'citus_cluster_stop; rm -rf "$work"' EXIT
citus_cluster_start -c maintenance_work_mem=512MB -c work_mem=64MB -c shared_preload_libraries=citus,pg_stat_statements \
	${CITUS_OPTIONS:-} || exit 1
# on the coordinator, which creates it on the workers
coordinator -c "CREATE EXTENSION pg_stat_statements" > /dev/null || exit 1

echo "loading $scale copies of the bundled data ..."
coordinator > "$work/load.log" 2>&1 <<SQL || { cat "$work/load.log"; exit 1; }
SET client_min_messages = warning;
CREATE EXTENSION segment;
\i data/load.sql
DELETE FROM invoices WHERE customer_id IS NULL;
INSERT INTO invoices
SELECT invoice_no || '-' || copy, stock_code, description, quantity, invoice_date, unit_price,
	customer_id + copy * 100000, country
FROM invoices, generate_series(1, $scale - 1) AS copy;
CREATE TABLE local_lines AS SELECT * FROM invoices;
SELECT create_distributed_table('invoices', 'customer_id');
VACUUM ANALYZE invoices;
VACUUM ANALYZE local_lines;
SQL
coordinator -c "SELECT count(*) || ' lines, ' || count(DISTINCT customer_id) || ' customers' FROM local_lines"

# measure NAME SQL: seconds and the backend's peak memory, in a fresh
# backend, after the time of each phase (segment.report_phases)
measure() {
	coordinator 2>&1 <<SQL | sed 's/^INFO:  segmentation /    /'
SET client_min_messages = warning;
SET segment.report_phases = on;
SELECT clock_timestamp() AS started \gset
$2
SELECT format('%-48s %8s s %8s MB', '$1', round(extract(epoch FROM clock_timestamp() - :'started'::timestamptz)::numeric, 1),
	(regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s+(\d+) kB'))[1]::bigint / 1024);
SQL
}
# reset_worker_counts / worker_rows NAME: the rows the workers' SELECTs
# returned (to the coordinator) since the reset
reset_worker_counts() {
	for node in worker1 worker2; do on "$node" -c "SELECT pg_stat_statements_reset()" > /dev/null; done
}
worker_rows() {
	local rows=0
	for node in worker1 worker2; do
		rows=$((rows + $(on "$node" -c "SELECT coalesce(sum(rows), 0) FROM pg_stat_statements
			WHERE query ~* '^\s*(SELECT|WITH)' AND query !~* 'pg_stat_statements'")))
	done
	printf '%-48s %10s rows to the coordinator\n' "$1" "$rows"
}
printf '%-48s %10s %11s\n' "at SCALE=$scale, AMD EPYC $(nproc) cores" "time" "peak memory"
measure "single node: create_segmentation" "SELECT segment.create_segmentation('here', 'local_lines', k => 6) \g /dev/null"
reset_worker_counts
measure "Citus (2 workers): create_segmentation" "SELECT segment.create_segmentation('dist', 'invoices', k => 6) \g /dev/null"
worker_rows "Citus: create_segmentation"
measure "single node: refresh (assign-only)" "SELECT segment.refresh_segmentation('here', refit => false) \g /dev/null"
reset_worker_counts
measure "Citus (2 workers): refresh (assign-only)" "SELECT segment.refresh_segmentation('dist', refit => false) \g /dev/null"
worker_rows "Citus: refresh (assign-only)"
same=$(coordinator -c "SELECT count(*) FROM dist.assignments d JOIN here.assignments h USING (customer_id)
	WHERE d.cluster IS NOT DISTINCT FROM h.cluster AND d.distance IS NOT DISTINCT FROM h.distance")
echo "customers with the same segment and distance on both: $same"
