-- No crash, ever: a seeded, bounded run of every function on malformed input.
-- Every call must return or raise an ordinary error: never crash the server
-- (the session would end and this file's output differ) and never raise an
-- internal error (SQLSTATE XX000).
CREATE TABLE fuzz_inputs (kind text, value text);
CREATE TABLE fuzz_scratch AS SELECT generate_series(1, 10) AS i;
INSERT INTO fuzz_inputs VALUES
	('vec', 'NULL::float8[]'), ('vec', '''{}''::float8[]'), ('vec', '''{{1,2},{3,4}}''::float8[]'),
	('vec', '''{NaN,1}''::float8[]'), ('vec', '''{Infinity,1}''::float8[]'), ('vec', '''{-Infinity}''::float8[]'),
	('vec', '''{1,NULL}''::float8[]'), ('vec', '''{1,2}''::float8[]'), ('vec', '''{1e308,-1e308}''::float8[]'),
	('vec', '''[0:1]={5,6}''::float8[]'), ('vec', 'array_fill(1::float8, ARRAY[5000])'),
	('int', 'NULL::integer'), ('int', '0'), ('int', '-1'), ('int', '1'), ('int', '2'), ('int', '2147483647'), ('int', '-2147483648'),
	('float', 'NULL::float8'), ('float', '''NaN''::float8'), ('float', '''Infinity''::float8'), ('float', '-1'), ('float', '0'), ('float', '1e-300'),
	('bigint', 'NULL::bigint'), ('bigint', '0'), ('bigint', '-9223372036854775808'), ('bigint', '9223372036854775807'),
	('text', 'NULL::text'), ('text', ''''''), ('text', '''x; DROP TABLE invoices; --'''), ('text', 'repeat(''é'', 300)'),
	('text', '''fuzz_seg'''), ('text', '''elbow'''), ('text', '''pg_catalog'''),
	('source', 'NULL::text'), ('source', '''SELECT'''), ('source', '''SELECT 1'''), ('source', '''SELECT 1, 2, 3'''),
	('source', '''SELECT 1, NULL::float8[], 1'''), ('source', '''SELECT 1, ''''{}''''::float8[], 1'''),
	('source', '''SELECT i, ARRAY[i, i]::float8[], i % 2 FROM generate_series(1, 20) i'''),
	('source', '''SELECT i, ARRAY[i]::float8[], 1 FROM generate_series(1, 5) i'''),
	('source', '''SELECT i, CASE WHEN i = 3 THEN ''''{1}'''' ELSE ''''{1,2}'''' END::float8[], i % 3 FROM generate_series(1, 9) i'''),
	('source', '''SELECT ''''a'''', ''''{1,2}''''::float8[], 1'''), ('source', '''SELECT 1, ''''{NaN}''''::float8[], 2'''),
	('source', '''SELECT 1/0, ''''{1}''''::float8[], 1'''), ('source', '''DELETE FROM fuzz_scratch RETURNING 1, ''''{1}''''::float8[], 1'''),
	('source', '''SELECT i, ARRAY[0, 0]::float8[], i FROM generate_series(1, 30) i'''),
	('source', '''SELECT i::smallint, ARRAY[i % 2, 0]::float8[], (i % 2)::bigint FROM generate_series(1, 30) i''');
CREATE TABLE fuzz_calls (template text);
INSERT INTO fuzz_calls VALUES
	('SELECT segment.scale(%vec, segment.scaler_fit(v)) FROM (VALUES (%vec)) AS t (v)'),
	('SELECT segment.unscale(%vec, ROW(%bigint, %vec, %vec)::segment.scaler)'),
	('SELECT segment.scaler_fit(v) FROM (VALUES (%vec), (%vec)) AS t (v)'),
	('SELECT segment.one_hot(%text, ARRAY[%text, %text])'),
	('SELECT segment.kmeans_fit(%source, %int, %int, %int, %float, %bigint)'),
	('SELECT * FROM segment.kmeans(%source, %int, %int, %int, %float, %bigint)'),
	('SELECT segment.kmeans_assign(%vec, ROW(%int, %int, %vec, %float, %int, %int, %bigint)::segment.kmeans_model)'),
	('SELECT segment.kmeans_distance(%vec, ROW(%int, %int, ARRAY[%vec], %float, %int, %int, %bigint)::segment.kmeans_model)'),
	('SELECT * FROM segment.elbow(%source, %int, %int, %int, %bigint)'),
	('SELECT segment.silhouette(%source, %int, %bigint)'),
	('SELECT * FROM segment.silhouette_samples(%source)'),
	('SELECT segment.davies_bouldin(%source)'),
	('SELECT segment.calinski_harabasz(%source)'),
	('SELECT segment.pca_fit(%source, %int)'),
	('SELECT segment.pca_transform(%vec, ROW(%vec, ARRAY[%vec], %vec, %vec)::segment.pca_model)'),
	('SELECT segment.match_clusters(ARRAY[%vec], ARRAY[%vec])'),
	('SELECT segment.kneedle(%vec, %vec)'),
	('SELECT segment.customer_features(%text, now()::timestamp, %float, %float)'),
	('SELECT segment.customer_features(%bigint, now(), %float, %float)'),
	('SELECT segment.plot(%text, %text)'),
	('SELECT segment.report(%text)'),
	('SELECT segment.refresh_segmentation(%text)'),
	('SELECT segment.drop_segmentation(%text)'),
	('SELECT segment.create_segmentation(%text, ''invoices'', %int)');
SELECT setseed(0.42);
DO $$
DECLARE
	call text;
	statement text;
	calls integer := 0;
	errors integer := 0;
	internal text[] := '{}';
	started timestamptz := clock_timestamp();
	slot text;
BEGIN
	SET LOCAL statement_timeout = '10s';
	FOR attempt IN 1 .. 600 LOOP
		SELECT template INTO call FROM fuzz_calls ORDER BY random() LIMIT 1;
		statement := call;
		FOREACH slot IN ARRAY ARRAY['%source', '%vec', '%int', '%float', '%bigint', '%text'] LOOP
			WHILE position(slot IN statement) > 0 LOOP
				statement := overlay(statement PLACING
					(SELECT value FROM fuzz_inputs WHERE kind = substr(slot, 2) ORDER BY random() LIMIT 1)
					FROM position(slot IN statement) FOR length(slot));
			END LOOP;
		END LOOP;
		BEGIN
			calls := calls + 1;
			EXECUTE statement;
		EXCEPTION WHEN OTHERS THEN
			errors := errors + 1;
			IF SQLSTATE = 'XX000' THEN
				internal := internal || (statement || ': ' || SQLERRM);
			END IF;
		END;
		EXIT WHEN clock_timestamp() - started > interval '60 seconds';
	END LOOP;
	-- (the count of calls depends on the machine's speed: bounded by 60 s)
	RAISE NOTICE 'fuzz: at least 20 calls: %, internal errors: %', calls >= 20, coalesce(array_length(internal, 1), 0);
	IF array_length(internal, 1) > 0 THEN
		RAISE EXCEPTION 'internal errors: %', array_to_string(internal, E'\n');
	END IF;
END
$$;
-- the server is still there, the data untouched, the other segmentation intact
SELECT count(*) AS invoices FROM invoices;
SELECT count(*) AS retail_profiles FROM retail.profiles;
SELECT segment.drop_segmentation(name) FROM segment.segmentations WHERE name IN ('fuzz_seg', 'elbow') \g /dev/null
