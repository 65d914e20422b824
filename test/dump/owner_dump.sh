#!/usr/bin/env bash
# test/dump/owner_dump.sh: the owner of a database, not a superuser, dumps
# and restores its segmentations as the README says: pg_dump
# --enable-row-security --inserts (the registry has row-level security, and
# COPY cannot load a table that has it), pg_restore --no-owner
# --enable-row-security with the extension's comment left out (only the
# extension's owner may set it).  Every table and the registry row must
# come back row for row, the owner must refresh, and DROP EXTENSION must
# refuse in the restored database (the restored registry row gives the
# tables their dependency on the extension).  Then a one-schema dump
# (pg_dump -n), which carries no registry row: create_segmentation of the
# same name takes the restored schema back with its history.  Run by
# tools/run-tests.sh inside the test cluster; prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 1
work=$(mktemp -d)
owner=regress_segment_database_owner
password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
original=segment_owned
restored=segment_owned_restored
one_schema=segment_owned_one_schema

cleanup() {
	for database in "$original" "$restored" "$one_schema"; do
		dropdb --if-exists --force "$database" > /dev/null 2>&1
	done
	psql -X -q -d postgres -c "DROP ROLE IF EXISTS $owner" > /dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

. test/tap.sh
# as the superuser of the test cluster, and as the database's owner
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
as_owner() { PGUSER=$owner PGPASSWORD=$password "$@"; }

# Every row of every table of segmentation shop and its registry rows, as
# one sorted text per table
contents() {
	psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" <<'SQL'
SELECT 'registry: ' || string_agg(s::text, E'\n' ORDER BY s.name) FROM segment.segmentations s;
SELECT 'scores: ' || string_agg(s::text, E'\n' ORDER BY s.name, s.k) FROM segment.segmentation_scores s;
SELECT format('SELECT %L || '': '' || coalesce(string_agg(x::text, E''\n'' ORDER BY x::text), '''') FROM shop.%I x',
		t.result_table, t.result_table)
FROM segment.segmentation_tables() t ORDER BY t.result_table
\gexec
SQL
}

echo "1..10"
psql -X -q -d postgres -c "DROP ROLE IF EXISTS $owner" -c "CREATE ROLE $owner LOGIN PASSWORD '$password'" > /dev/null
for database in "$original" "$restored" "$one_schema"; do
	createdb -O "$owner" "$database"
	# the extension is a superuser's to create
	sql "$database" "SET client_min_messages = warning; CREATE EXTENSION segment;"
done
as_owner psql -X -q -v ON_ERROR_STOP=1 -d "$original" > "$work/setup.log" 2>&1 <<'SQL' || { cat "$work/setup.log"; exit 1; }
SET client_min_messages = warning;
\i data/load.sql
CREATE TABLE shop_lines AS SELECT * FROM invoices WHERE customer_id < 13000;
DROP TABLE invoices;
SELECT segment.create_segmentation('shop', 'shop_lines', k => 3);
SELECT segment.set_label('shop', 1, 'first');
SQL
contents "$original" > "$work/original.txt"

# a plain pg_dump by the owner stops at the registry's row-level security
as_owner pg_dump -Fc -f "$work/plain.dump" "$original" > "$work/plain.log" 2>&1
plain_status=$?
ok "$([ "$plain_status" -ne 0 ] && grep -q 'row-level security' "$work/plain.log" && echo t)" \
	"pg_dump without --enable-row-security stops at the registry, as the README says"

as_owner pg_dump --enable-row-security --inserts -Fc -f "$work/owner.dump" "$original" > "$work/dump.log" 2>&1
dump_status=$?
[ "$dump_status" -eq 0 ] || sed 's/^/# /' "$work/dump.log"
ok "$([ "$dump_status" -eq 0 ] && echo t)" "the database's owner dumps with --enable-row-security --inserts"

pg_restore -l "$work/owner.dump" | grep -v 'COMMENT - EXTENSION segment' > "$work/restore.list"
as_owner pg_restore --no-owner --enable-row-security --exit-on-error -L "$work/restore.list" -d "$restored" "$work/owner.dump" \
	> "$work/restore.log" 2>&1
restore_status=$?
[ "$restore_status" -eq 0 ] || sed 's/^/# /' "$work/restore.log"
ok "$([ "$restore_status" -eq 0 ] && echo t)" "the database's owner restores with --no-owner --enable-row-security, without an error"

contents "$restored" > "$work/restored.txt"
if cmp -s "$work/original.txt" "$work/restored.txt"; then same=t; else same=f; diff "$work/original.txt" "$work/restored.txt" | head -n 10 | sed 's/^/# /'; fi
ok "$same" "the registry row, the scores and every table of the segmentation equal the original row for row"

drop_extension=$(psql -X -q -At -d "$restored" -c "DROP EXTENSION segment" 2>&1)
ok "$(echo "$drop_extension" | grep -q 'other objects depend on it' && echo t)" \
	"DROP EXTENSION refuses in the restored database before any refresh of it (the restored registry row recorded the dependency)"
[ "$(sql "$restored" "SELECT count(*) FROM segment.segmentations")" = 1 ] || echo "# the registry lost its row"

refreshed=$(as_owner psql -X -q -At -v ON_ERROR_STOP=1 -d "$restored" \
	-c "SELECT segment.refresh_segmentation('shop', refit => false)" \
	-c "SELECT label FROM shop.profiles WHERE cluster = 1" 2>&1 | tail -n 1)
ok "$([ "$refreshed" = first ] && echo t)" "the owner refreshes the restored segmentation, its label kept ($refreshed)"


# a one-schema dump: the tables and their history, no registry row
# (and the source, a table of another schema, in a dump of its own)
as_owner pg_dump -Fc -t public.shop_lines -f "$work/source.dump" "$original" > "$work/one_schema.log" 2>&1
as_owner pg_dump -Fc -n shop -f "$work/one_schema.dump" "$original" >> "$work/one_schema.log" 2>&1
as_owner pg_restore --no-owner --exit-on-error -d "$one_schema" "$work/source.dump" >> "$work/one_schema.log" 2>&1 &&
	as_owner pg_restore --no-owner --exit-on-error -d "$one_schema" "$work/one_schema.dump" >> "$work/one_schema.log" 2>&1
one_schema_status=$?
[ "$one_schema_status" -eq 0 ] || sed 's/^/# /' "$work/one_schema.log"
registry_rows=$(sql "$one_schema" "SELECT count(*) FROM segment.segmentations")
ok "$([ "$one_schema_status" -eq 0 ] && [ "$registry_rows" = 0 ] && echo t)" \
	"pg_dump -n restores the segmentation's schema without its registry row ($registry_rows rows)"

sql "$one_schema" "CREATE TABLE history_restored AS SELECT * FROM shop.history" > /dev/null
taken_back=$(as_owner psql -X -q -At -v ON_ERROR_STOP=1 -d "$one_schema" \
	-c "SELECT segment.create_segmentation('shop', 'shop_lines', k => 3)" 2>&1)
ok "$(echo "$taken_back" | grep -q 'takes back the tables of schema "shop"' && echo t)" \
	"create_segmentation of the same name takes the restored schema back, and says so"
kept=$(sql "$one_schema" "SELECT count(*) FROM history_restored b LEFT JOIN shop.history h USING (customer_id, valid_from)
	WHERE h.customer_id IS NULL OR h.cluster IS DISTINCT FROM b.cluster")
ok "$([ "$kept" = 0 ] && echo t)" "every history row of the dump is still there ($kept lost or changed)"

ok "$([ "$test_number" -eq 9 ] && echo t)" "every step ran"
exit 0
