#!/usr/bin/env bash
# test/clients/clients.sh: the clients BI tools stand on find every table of a
# segmentation, every column with its type, and every description, exactly
# as the catalog has them: psqlODBC through unixODBC and pyodbc (SQLTables
# for "TABLE,VIEW", SQLColumns), pgjdbc (getTables for TABLE and VIEW,
# getColumns) and psql (\dt+, \d+).  information_schema is tested by
# test/metadata.sql.  Run by tools/run-tests.sh inside the test cluster, in
# the database where pg_regress left the segmentation "retail"; prints TAP.
set -u
cd "$(dirname "$0")/../.."
export PGDATABASE=${1:-contrib_regression}
schema=retail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

. test/tap.sh
# same FILE FILE DESCRIPTION: ok when the two sorted listings are equal and
# not empty, else the difference
same() {
	: > "$work/diff"
	sort "$1" > "$work/expected"
	sort "$2" > "$work/seen"
	if [ -s "$work/seen" ] && diff "$work/expected" "$work/seen" > "$work/diff"; then
		ok t "$3"
	else
		ok f "$3"
		[ -s "$work/seen" ] || echo "# the client listed nothing"
		head -n 20 "$work/diff" | sed 's/^/# /'
	fi
}
# columns FIELDS FILE: the listing with only these tab-separated fields
columns() { cut -f "$1" "$2"; }

echo "1..8"

# What the catalog says: every result table of the segmentation, its columns
# with the type's name, and the descriptions (tabs and line breaks as spaces)
psql -X -q -At -F $'\t' -v ON_ERROR_STOP=1 -v schema="$schema" > "$work/catalog" <<'SQL'
SELECT 'T', c.relname, 'TABLE', translate(coalesce(obj_description(c.oid, 'pg_class'), ''), E'\t\n', '  ')
FROM segment.segmentation_tables() t JOIN pg_class c ON c.relname = t.result_table
WHERE c.relnamespace = to_regnamespace(:'schema');
SELECT 'C', c.relname, a.attname, y.typname, translate(coalesce(col_description(c.oid, a.attnum), ''), E'\t\n', '  ')
FROM segment.segmentation_tables() t JOIN pg_class c ON c.relname = t.result_table
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type y ON y.oid = a.atttypid
WHERE c.relnamespace = to_regnamespace(:'schema');
SQL
[ $? -eq 0 ] || { echo "Bail out! could not read the catalog"; exit 1; }
tables=$(grep -c '^T' "$work/catalog")
undescribed=$(awk -F'\t' '($1 == "T" && $4 == "") || ($1 == "C" && $5 == "")' "$work/catalog" | wc -l)
ok "$([ "$tables" -eq 10 ] && [ "$undescribed" -eq 0 ] && echo t)" \
	"the catalog has the 10 tables of the segmentation, every table and column described ($tables tables, $undescribed undescribed)"

# psqlODBC (Debian's odbc-postgresql) through unixODBC and pyodbc
if /usr/bin/python3 test/clients/client_metadata_odbc.py "$schema" > "$work/odbc" 2> "$work/odbc.err"; then
	same <(grep '^T' "$work/catalog" | columns 1-3 /dev/stdin) <(grep '^T' "$work/odbc" | columns 1-3 /dev/stdin) \
		"psqlODBC SQLTables for \"TABLE,VIEW\" lists every table"
	same <(grep '^C' "$work/catalog" | columns 1-4 /dev/stdin) <(grep '^C' "$work/odbc" | columns 1-4 /dev/stdin) \
		"psqlODBC SQLColumns lists every column with its type"
	# psqlODBC leaves REMARKS empty for every table and column of every
	# database (it does not read pg_description); a remark it does give must
	# be the description
	wrong=$(join -t $'\t' -j 1 <(awk -F'\t' '{ print $1 "/" $2 "/" $3 "\t" ($1 == "T" ? $4 : $5) }' "$work/catalog" | sort) \
		<(awk -F'\t' '{ print $1 "/" $2 "/" $3 "\t" ($1 == "T" ? $4 : $5) }' "$work/odbc" | sort) |
		awk -F'\t' '$3 != "" && $3 != $2' | wc -l)
	ok "$([ "$wrong" -eq 0 ] && echo t)" "psqlODBC REMARKS are empty or the description ($wrong differ)"
else
	for check in tables columns remarks; do ok f "psqlODBC $check: the client failed"; done
	sed 's/^/# /' "$work/odbc.err"
fi

# pgjdbc (Debian's libpostgresql-jdbc-java) from a Java program
url="jdbc:postgresql://${PGHOST:-localhost}:${PGPORT:-5432}/$PGDATABASE"
if java -cp /usr/share/java/postgresql.jar test/clients/ClientMetadata.java "$url" "${PGUSER:-$USER}" "${PGPASSWORD:-}" "$schema" \
	> "$work/jdbc" 2> "$work/jdbc.err"; then
	same <(grep '^T' "$work/catalog") <(grep '^T' "$work/jdbc") \
		"pgjdbc getTables for TABLE and VIEW lists every table with its description"
	same <(grep '^C' "$work/catalog") <(grep '^C' "$work/jdbc") \
		"pgjdbc getColumns lists every column with its type and description"
else
	for check in tables columns; do ok f "pgjdbc $check: the client failed"; done
	sed 's/^/# /' "$work/jdbc.err"
fi

# psql: \dt+ lists the tables with descriptions, \d+ each table's columns
psql -X -q -At -F $'\t' -c "\\dt+ $schema.*" | awk -F'\t' '{ print "T\t" $2 "\tTABLE\t" $NF }' > "$work/psql_tables"
same <(grep '^T' "$work/catalog") "$work/psql_tables" "psql \\dt+ lists every table with its description"
grep '^T' "$work/catalog" | cut -f 2 | while read -r table; do
	psql -X -q -At -F $'\t' -c "\\d+ $schema.$table" | awk -F'\t' -v table="$table" 'NF > 5 { print "C\t" table "\t" $1 "\t" $NF }'
done > "$work/psql_columns"
same <(grep '^C' "$work/catalog" | cut -f 1-3,5) "$work/psql_columns" "psql \\d+ lists every column with its description"
