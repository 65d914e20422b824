#!/usr/bin/env bash
# test/dump/dump_restore.sh: segmentations survive pg_dump and pg_restore.
# Two roles each make a segmentation (one on a timestamptz source made in
# another time zone); the database is dumped in custom and plain format and
# restored into new databases, where every table of every segmentation and
# every registry row must equal the original row for row, and the owners
# must plot, report and refresh (an unchanged source keeps every customer's
# segment).  Run by tools/run-tests.sh inside the test cluster; prints TAP.
set -u
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
original=segment_dump

. test/tap.sh
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

# Every row of every table of every segmentation and of the registry, as one
# sorted text per table (the registry without its row-level security)
contents() {
	psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" <<'SQL'
SELECT 'registry: ' || string_agg(s::text, E'\n' ORDER BY s.name) FROM segment.segmentations s;
SELECT 'scores: ' || string_agg(s::text, E'\n' ORDER BY s.name, s.k) FROM segment.segmentation_scores s;
SELECT format('SELECT %L || '': '' || coalesce(string_agg(x::text, E''\n'' ORDER BY x::text), '''') FROM %I.%I x',
		s.name || '.' || t.result_table, s.name, t.result_table)
FROM segment.segmentations s, segment.segmentation_tables() t ORDER BY s.name, t.result_table
\gexec
SQL
}

echo "1..16"
createdb "$original"
psql -X -q -v ON_ERROR_STOP=1 -d "$original" > "$work/setup.log" 2>&1 <<'SQL' || { cat "$work/setup.log"; exit 1; }
SET client_min_messages = warning;
CREATE EXTENSION segment;
\i data/load.sql
CREATE VIEW invoices_new_york AS
	SELECT invoice_no, invoice_date AT TIME ZONE 'Europe/London' AS invoiced_at, quantity, unit_price, customer_id, country
	FROM invoices WHERE customer_id < 14000;
DROP ROLE IF EXISTS regress_segment_dump_a;
DROP ROLE IF EXISTS regress_segment_dump_b;
DROP ROLE IF EXISTS regress_segment_dump_reader;
CREATE ROLE regress_segment_dump_a;
CREATE ROLE regress_segment_dump_b;
CREATE ROLE regress_segment_dump_reader;
GRANT SELECT ON invoices TO regress_segment_dump_a;
GRANT SELECT ON invoices_new_york TO regress_segment_dump_b;
SELECT format('GRANT CREATE ON DATABASE %I TO regress_segment_dump_a, regress_segment_dump_b', current_database()) \gexec
SET ROLE regress_segment_dump_a;
SELECT segment.create_segmentation('shop_a', 'invoices');
GRANT USAGE ON SCHEMA shop_a TO regress_segment_dump_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA shop_a TO regress_segment_dump_reader;
RESET ROLE;
SET ROLE regress_segment_dump_b;
SET TimeZone = 'America/New_York';
SELECT segment.create_segmentation('shop_b', 'invoices_new_york', k => 4, time_column => 'invoiced_at',
	country_column => NULL, seed => 42);
RESET ROLE;
SQL
contents "$original" > "$work/original.txt"
ok "$([ "$(grep -c '^shop_[ab]\.' "$work/original.txt")" -eq 20 ] && echo t)" "two segmentations of two roles, twenty tables to compare"

pg_dump -Fc -f "$work/dump.custom" "$original"
pg_dump -Fp -f "$work/dump.sql" "$original"
for format in custom plain; do
	restored=segment_restored_$format
	createdb "$restored"
	if [ "$format" = custom ]; then
		pg_restore --exit-on-error -d "$restored" "$work/dump.custom" > "$work/restore.log" 2>&1
	else
		psql -X -q -v ON_ERROR_STOP=1 -d "$restored" -f "$work/dump.sql" > "$work/restore.log" 2>&1
	fi
	status=$?
	[ "$status" -eq 0 ] || sed 's/^/# /' "$work/restore.log"
	ok "$([ "$status" -eq 0 ] && echo t)" "$format dump restores without an error"

	contents "$restored" > "$work/restored.txt"
	if cmp -s "$work/original.txt" "$work/restored.txt"; then same=t; else same=f; diff "$work/original.txt" "$work/restored.txt" | head -n 10 | sed 's/^/# /'; fi
	ok "$same" "$format: every registry row and every table of both segmentations equal the original row for row"

	pictures=$(sql "$restored" "SET ROLE regress_segment_dump_a;
		SELECT count(*) FILTER (WHERE segment.plot('shop_a', kind) LIKE '<svg%</svg>') FROM unnest(ARRAY['elbow', 'clusters', 'profiles', 'silhouette']) AS kind;
		SELECT segment.report('shop_a') LIKE '%<html%</html>%';")
	ok "$([ "$pictures" = "$(printf '4\nt')" ] && echo t)" "$format: the owner plots and reports right after the restore"

	sql "$restored" "CREATE TABLE assignments_before AS SELECT * FROM shop_a.assignments;
		CREATE TABLE assignments_before_b AS SELECT * FROM shop_b.assignments;" > /dev/null
	refreshed=$(sql "$restored" "SET ROLE regress_segment_dump_a; SELECT segment.refresh_segmentation('shop_a');
		SET ROLE regress_segment_dump_b; SELECT segment.refresh_segmentation('shop_b');" 2>&1)
	ok "$([ $? -eq 0 ] && echo t)" "$format: each owner refreshes its restored segmentation"
	[ -z "$refreshed" ] || echo "$refreshed" | sed 's/^/# /'
	moved=$(sql "$restored" "SELECT (SELECT count(*) FROM assignments_before b FULL JOIN shop_a.assignments a USING (customer_id)
			WHERE (a.cluster, a.distance, a.silhouette) IS DISTINCT FROM (b.cluster, b.distance, b.silhouette))
		+ (SELECT count(*) FROM assignments_before_b b FULL JOIN shop_b.assignments a USING (customer_id)
			WHERE (a.cluster, a.distance, a.silhouette) IS DISTINCT FROM (b.cluster, b.distance, b.silhouette))")
	ok "$([ "$moved" = 0 ] && echo t)" "$format: after the refresh every customer keeps its segment, distance and silhouette ($moved changed)"

	readable=$(sql "$restored" "SET ROLE regress_segment_dump_reader; SELECT count(*) FROM shop_a.profiles;" 2>&1)
	ok "$([ "${readable:-0}" -gt 1 ] 2>/dev/null && echo t)" "$format: the reader still reads the profiles"

	invisible=$(sql "$restored" "SET ROLE regress_segment_dump_b; SELECT string_agg(name, ',') FROM segment.segmentations;")
	ok "$([ "$invisible" = shop_b ] && echo t)" "$format: each role still sees only its own registry row"
	dropdb "$restored"
done

dropdb "$original"
psql -X -q -d postgres -c "DROP ROLE regress_segment_dump_a" -c "DROP ROLE regress_segment_dump_b" -c "DROP ROLE regress_segment_dump_reader"
ok "$([ "$test_number" -eq 15 ] && echo t)" "every step ran"
exit 0
