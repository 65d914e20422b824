#!/usr/bin/env bash
# tools/bench_citus.sh (make bench-citus): segment on a Citus cluster of its
# own (a coordinator and two workers on loopback, test/citus/cluster.sh)
# against a single node on the same machine, at SCALE copies of the bundled
# data (default 25: 13.5 million lines, 109,000 customers).  The single
# node is the coordinator itself, over a local copy of the lines.  For each:
# create_segmentation and an assign-only refresh, in fresh backends, and
# the backend's peak resident memory (VmHWM).  Prints one table.
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
citus_cluster_start -c maintenance_work_mem=512MB -c work_mem=64MB ${CITUS_OPTIONS:-} || exit 1

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

# measure NAME SQL: seconds and the backend's peak memory, in a fresh backend
measure() {
	coordinator <<SQL
SET client_min_messages = warning;
SELECT clock_timestamp() AS started \gset
$2
SELECT format('%-48s %8s s %8s MB', '$1', round(extract(epoch FROM clock_timestamp() - :'started'::timestamptz)::numeric, 1),
	(regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s+(\d+) kB'))[1]::bigint / 1024);
SQL
}
printf '%-48s %10s %11s\n' "at SCALE=$scale, AMD EPYC $(nproc) cores" "time" "peak memory"
measure "single node: create_segmentation" "SELECT segment.create_segmentation('here', 'local_lines', k => 6) \g /dev/null"
measure "Citus (2 workers): create_segmentation" "SELECT segment.create_segmentation('dist', 'invoices', k => 6) \g /dev/null"
measure "single node: refresh (assign-only)" "SELECT segment.refresh_segmentation('here', refit => false) \g /dev/null"
measure "Citus (2 workers): refresh (assign-only)" "SELECT segment.refresh_segmentation('dist', refit => false) \g /dev/null"
same=$(coordinator -c "SELECT count(*) FROM dist.assignments d JOIN here.assignments h USING (customer_id)
	WHERE d.cluster IS NOT DISTINCT FROM h.cluster AND d.distance IS NOT DISTINCT FROM h.distance")
echo "customers with the same segment and distance on both: $same"
