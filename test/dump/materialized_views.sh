#!/usr/bin/env bash
# test/dump/materialized_views.sh: a user's chain of materialized views over
# the aggregate forms survives what DBAs do.  The chain: customer vectors
# from a segmentation's features, a k-means model over them, each
# customer's segment (a unique index, refreshed CONCURRENTLY), a model per
# country through the window form, the scores of the segments, each
# customer's silhouette (the window function) and every candidate k.  It is dumped with pg_dump in the custom and plain formats
# and restored with pg_restore --exit-on-error and psql -v ON_ERROR_STOP=1:
# every view must come back populated and equal to the original, row for
# row, and refresh under SET search_path = ''.  The same chain written over
# source texts fails the same restore, which is why the aggregates exist.
# Run by tools/run-tests.sh inside the test cluster; prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 1
work=$(mktemp -d)
original=segment_views
custom=segment_views_custom
plain=segment_views_plain
text_form=segment_views_text_form
text_form_restored=segment_views_text_form_restored

cleanup() {
	for database in "$original" "$custom" "$plain" "$text_form" "$text_form_restored"; do
		dropdb --if-exists --force "$database" > /dev/null 2>&1
	done
	rm -rf "$work"
}
trap cleanup EXIT

. test/tap.sh
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

# Every row of every materialized view of schema shop, one sorted text per view
contents() {
	psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" <<'SQL'
SET extra_float_digits = 3;
SELECT format('SELECT %L || '': '' || coalesce(string_agg(x::text, E''\n'' ORDER BY x::text), ''(none)'') FROM shop.%I x',
		matviewname, matviewname)
FROM pg_matviews WHERE schemaname = 'shop' ORDER BY matviewname
\gexec
SQL
}

echo "1..10"
for database in "$original" "$custom" "$plain" "$text_form" "$text_form_restored"; do
	createdb "$database"
done
psql -X -q -v ON_ERROR_STOP=1 -d "$original" > "$work/setup.log" 2>&1 <<'SQL' || { cat "$work/setup.log"; exit 1; }
SET client_min_messages = warning;
CREATE EXTENSION segment;
\i data/load.sql
SELECT segment.create_segmentation('retail', 'invoices', k => 4);
CREATE SCHEMA shop;
-- standardized log recency, frequency and monetary value of each customer
CREATE MATERIALIZED VIEW shop.vectors AS
WITH raw AS (
	SELECT customer_id, country,
		ARRAY[ln(1 + recency_days), ln(1 + invoices), ln(1 + greatest(total_amount, 0))] AS raw
	FROM retail.features WHERE invoices > 0)
SELECT customer_id, country, segment.scale(raw, (SELECT segment.scaler_fit(raw) FROM raw)) AS vec
FROM raw;
CREATE UNIQUE INDEX ON shop.vectors (customer_id);
CREATE MATERIALIZED VIEW shop.model AS
SELECT segment.kmeans_fit(vec, 4) AS model, segment.pca_fit(vec) AS pca FROM shop.vectors;
CREATE MATERIALIZED VIEW shop.segments AS
SELECT v.customer_id, segment.kmeans_assign(v.vec, m.model) AS cluster,
	segment.kmeans_distance(v.vec, m.model) AS distance, segment.pca_transform(v.vec, m.pca) AS position
FROM shop.vectors v CROSS JOIN shop.model m;
CREATE UNIQUE INDEX ON shop.segments (customer_id);
CREATE MATERIALIZED VIEW shop.country_segments AS
SELECT customer_id, country,
	segment.kmeans_assign(vec, segment.kmeans_fit(vec, 3) OVER (PARTITION BY country)) AS cluster
FROM shop.vectors WHERE country IN ('United Kingdom', 'Germany', 'France');
CREATE MATERIALIZED VIEW shop.scores AS
SELECT segment.silhouette(v.vec, s.cluster) AS silhouette, segment.davies_bouldin(v.vec, s.cluster) AS davies_bouldin,
	segment.calinski_harabasz(v.vec, s.cluster) AS calinski_harabasz
FROM shop.vectors v JOIN shop.segments s USING (customer_id);
CREATE MATERIALIZED VIEW shop.silhouettes AS
SELECT v.customer_id, segment.silhouette_samples(v.vec, s.cluster) OVER () AS silhouette
FROM shop.vectors v JOIN shop.segments s USING (customer_id);
CREATE MATERIALIZED VIEW shop.candidates AS
SELECT e.k, e.inertia, e.silhouette, e.is_elbow
FROM (SELECT segment.evaluate(vec, 2, 6) AS evaluations FROM shop.vectors) AS q, unnest(q.evaluations) AS e;
SQL
contents "$original" > "$work/original.txt"
views=$(grep -c '^[a-z_]*: ' "$work/original.txt")
empty=$(grep -c ': (none)$' "$work/original.txt")
ok "$([ "$views" = 7 ] && [ "$empty" = 0 ] && echo t)" "the chain of $views materialized views is populated ($empty empty)"

# custom format, restored with pg_restore --exit-on-error
pg_dump -Fc -f "$work/views.dump" "$original" > "$work/dump.log" 2>&1 &&
	pg_restore --exit-on-error -d "$custom" "$work/views.dump" > "$work/restore.log" 2>&1
status=$?
[ "$status" -eq 0 ] || sed 's/^/# /' "$work/dump.log" "$work/restore.log"
ok "$([ "$status" -eq 0 ] && echo t)" "pg_dump -Fc and pg_restore --exit-on-error restore the database without an error"
contents "$custom" > "$work/custom.txt"
if cmp -s "$work/original.txt" "$work/custom.txt"; then same=t; else same=f; diff "$work/original.txt" "$work/custom.txt" | head -n 10 | sed 's/^/# /'; fi
ok "$same" "every view restored from the custom dump is populated and equals the original, row for row"

# plain format, through psql -v ON_ERROR_STOP=1
pg_dump -Fp -f "$work/views.sql" "$original" > "$work/dump_plain.log" 2>&1 &&
	psql -X -q -v ON_ERROR_STOP=1 -d "$plain" -f "$work/views.sql" > "$work/restore_plain.log" 2>&1
status=$?
[ "$status" -eq 0 ] || sed 's/^/# /' "$work/dump_plain.log" "$work/restore_plain.log" | tail -n 20
ok "$([ "$status" -eq 0 ] && echo t)" "a plain pg_dump loads through psql -v ON_ERROR_STOP=1 without an error"
contents "$plain" > "$work/plain.txt"
if cmp -s "$work/original.txt" "$work/plain.txt"; then same=t; else same=f; diff "$work/original.txt" "$work/plain.txt" | head -n 10 | sed 's/^/# /'; fi
ok "$same" "every view restored from the plain dump is populated and equals the original, row for row"

# the restored chain refreshes with an empty search_path (as pg_restore
# and PostgreSQL 17's REFRESH run it), the segments CONCURRENTLY
psql -X -q -v ON_ERROR_STOP=1 -d "$custom" > "$work/refresh.log" 2>&1 <<'SQL'
SET search_path = '';
REFRESH MATERIALIZED VIEW shop.vectors;
REFRESH MATERIALIZED VIEW shop.model;
REFRESH MATERIALIZED VIEW CONCURRENTLY shop.segments;
REFRESH MATERIALIZED VIEW shop.country_segments;
REFRESH MATERIALIZED VIEW shop.scores;
REFRESH MATERIALIZED VIEW shop.silhouettes;
REFRESH MATERIALIZED VIEW shop.candidates;
SQL
status=$?
[ "$status" -eq 0 ] || sed 's/^/# /' "$work/refresh.log"
ok "$([ "$status" -eq 0 ] && echo t)" "every restored view refreshes under SET search_path = '', the segments CONCURRENTLY"
contents "$custom" > "$work/refreshed.txt"
if cmp -s "$work/original.txt" "$work/refreshed.txt"; then same=t; else same=f; diff "$work/original.txt" "$work/refreshed.txt" | head -n 10 | sed 's/^/# /'; fi
ok "$same" "the refreshed views equal the original (the same rows give the same bits)"

# the segmentation under the views keeps refreshing: its features are
# updated in place, so the views over them stay
refreshed=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$custom" \
	-c "SET client_min_messages = warning" \
	-c "SELECT segment.refresh_segmentation('retail')" \
	-c "REFRESH MATERIALIZED VIEW shop.vectors" \
	-c "SELECT count(*) FROM shop.vectors" 2>&1 | tail -n 1)
ok "$([ "$refreshed" = "$(sql "$original" "SELECT count(*) FROM shop.vectors")" ] && echo t)" \
	"refresh_segmentation runs under the user's views, which refresh after it ($refreshed vectors)"

# the same chain over a source text: PostgreSQL sees no dependency inside
# the string, so the restore refreshes the model before the vectors it reads
psql -X -q -v ON_ERROR_STOP=1 -d "$text_form" > "$work/text_form.log" 2>&1 <<'SQL' || { cat "$work/text_form.log"; exit 1; }
SET client_min_messages = warning;
CREATE EXTENSION segment;
CREATE SCHEMA shop;
CREATE MATERIALIZED VIEW shop.z_vectors AS
SELECT i::bigint AS id, ARRAY[i % 7, i % 11]::float8[] AS vec FROM generate_series(1, 200) AS i;
CREATE MATERIALIZED VIEW shop.a_model AS
SELECT segment.kmeans_fit('SELECT id, vec FROM shop.z_vectors', 3) AS model;
SQL
pg_dump -Fc -f "$work/text_form.dump" "$text_form" > /dev/null 2>&1
pg_restore --exit-on-error -d "$text_form_restored" "$work/text_form.dump" > "$work/text_form_restore.log" 2>&1
status=$?
ok "$([ "$status" -ne 0 ] && grep -q 'has not been populated' "$work/text_form_restore.log" && echo t)" \
	"the same chain over a source text stops the restore ('has not been populated'): the README's reason for the aggregates"

ok "$([ "$test_number" -eq 9 ] && echo t)" "every step ran"
exit 0
