#!/usr/bin/env bash
# test/walkthrough/walkthrough.sh: runs docs/walkthrough.md as a reader
# would, every ```sql block in order with psql, in a database of its own
# where the bundled data is loaded as make demo loads it
# (segment_demo.invoices); then checks that the stages give what the one
# call with recipe => 'notebook' gives.  Run by tools/run-tests.sh inside
# the test cluster; prints TAP.
set -u
cd "$(dirname "$0")/../.."
export PGDATABASE=segment_walkthrough
work=$(mktemp -d)
trap 'rm -rf "$work"; dropdb --if-exists segment_walkthrough' EXIT

. test/tap.sh
# query SQL: one value
query() { psql -X -A -t -q -v ON_ERROR_STOP=1 -c "$1" 2>&1; }

echo "1..5"
dropdb --if-exists segment_walkthrough
createdb segment_walkthrough
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION segment" -c "CREATE SCHEMA segment_demo" \
	-c "SET search_path = segment_demo, public" -f data/load.sql > "$work/load.log" 2>&1 \
	|| { echo "Bail out! could not load the bundled data"; cat "$work/load.log"; exit 1; }

# the blocks, as the page has them
awk '/^```sql$/ { inside = 1; next } /^```$/ { inside = 0; next } inside' docs/walkthrough.md > "$work/walkthrough.sql"
blocks=$(grep -c '^```sql$' docs/walkthrough.md)
if psql -X -q -v ON_ERROR_STOP=1 -f "$work/walkthrough.sql" > "$work/walkthrough.log" 2>&1; then
	ok t "the $blocks SQL blocks of docs/walkthrough.md run as pasted"
else
	ok f "the $blocks SQL blocks of docs/walkthrough.md run as pasted"
	tail -n 20 "$work/walkthrough.log" | sed 's/^/# /'
fi

# the stages and the one call: the same vectors, segments and scores
# the one call's vectors, as the pipeline builds them (its own SQL)
ok "$(query "CREATE TEMP TABLE one_call (id bigint, vec float8[]);
	DO \$\$
	DECLARE
		r segment.segmentations;
	BEGIN
		SELECT * INTO r FROM segment.segmentations WHERE name = 'walkthrough_notebook';
		EXECUTE format('INSERT INTO one_call SELECT f.customer_id, segment.scale(%s, \$2)
			FROM walkthrough_notebook.features f, (SELECT \$1 AS categories) AS r WHERE %s',
			segment.segmentation_vector_sql(r.recipe, true), segment.segmentation_clustered_sql(r.recipe))
			USING r.categories, r.model_scaler;
	END
	\$\$;
	SELECT count(*) = 4372 AND bool_and(w.vec = o.vec) FROM walkthrough.vectors w JOIN one_call o USING (id)")" \
	"the scaled vectors of the stages are the one call's, bit for bit, for all 4,372 customers"
ok "$(query "SELECT count(*) = 4372 AND bool_and(a.cluster = c.cluster)
	FROM walkthrough_notebook.assignments a JOIN walkthrough.clusters c ON c.id = a.customer_id")" \
	"k-means of the stages puts every customer in the one call's segment"
ok "$(query "SELECT abs(segment.silhouette('SELECT v.id, v.vec, c.cluster FROM walkthrough.vectors v
		JOIN walkthrough.clusters c USING (id)') - s.mean_silhouette) < 1e-12
	FROM walkthrough_notebook.silhouette s WHERE s.cluster IS NULL")" \
	"the silhouette of the stages is the one call's (within 1e-12)"
ok "$(query "SELECT array_agg(customers ORDER BY cluster) = '{4230,97,31,14}' FROM walkthrough_notebook.profiles")" \
	"the notebook's segments are the README's: 4,230, 97, 31 and 14 customers"
