-- The building blocks as aggregates over the rows themselves: the same bits
-- as the source-text forms on the same rows (compared as text), whatever the
-- row order, the plan or the parallel workers; one model per group with
-- GROUP BY and per partition as a window aggregate; NULL policy, arguments
-- and memory errors.
--
-- Vectors: the standardized log recency, frequency and monetary value of
-- the bundled customers (4,339 × 3), and 1,500 seeded rows of 7 elements
-- spread over 9 countries.
CREATE TABLE agg_customers AS
WITH per_customer AS (
	SELECT customer_id, min(country) AS country,
		segment.customer_features(invoice_no, invoice_date, quantity, unit_price) AS f
	FROM invoices WHERE customer_id IS NOT NULL GROUP BY customer_id
), raw AS (
	SELECT customer_id::bigint AS id, country,
		ARRAY[ln(1 + extract(epoch FROM (SELECT max(invoice_date) FROM invoices) - (f).last_purchase)::float8 / 86400),
			ln(1 + (f).invoices), ln(1 + greatest((f).total_amount, 0))]::float8[] AS raw
	FROM per_customer WHERE (f).invoices > 0)
SELECT id, country, segment.scale(raw, (SELECT segment.scaler_fit(raw) FROM raw)) AS vec FROM raw;
SELECT setseed(0.5);
CREATE TABLE agg_random AS
SELECT i::bigint AS id, 'country ' || (i % 9) AS country,
	(SELECT array_agg(round((random() * 10 + (i % 3) * 4)::numeric, 3)::float8 ORDER BY j)
	 FROM generate_series(1, 7) AS j WHERE i > 0) AS vec
FROM generate_series(1, 1500) AS i;
SELECT (SELECT count(*) FROM agg_customers) AS customers, (SELECT count(*) FROM agg_random) AS random_rows;
ANALYZE agg_customers, agg_random;

-- A string literal resolves to the text form, a float8[] column to the aggregate
SELECT p.prokind, count(*) AS calls
FROM (VALUES ('segment.kmeans_fit(text,integer,integer,integer,double precision,bigint)'),
			 ('segment.kmeans_fit(double precision[],integer)'),
			 ('segment.evaluate(double precision[],integer,integer)'),
			 ('segment.silhouette(double precision[],integer)'),
			 ('segment.pca_fit(double precision[])')) AS f (signature)
JOIN pg_proc p ON p.oid = f.signature::regprocedure GROUP BY p.prokind ORDER BY 1;
SELECT segment.kmeans_fit('SELECT id, vec FROM agg_customers', 3) IS NOT NULL AS literal_is_text_form,
	segment.pca_fit('SELECT id, vec FROM agg_customers') IS NOT NULL AS literal_pca,
	segment.silhouette('SELECT id, vec, 1 + id % 3 FROM agg_customers', 500) IS NOT NULL AS literal_silhouette;

-- Same bits as the text form: in the table's order, shuffled, and reversed
CREATE TABLE agg_labels AS
SELECT t.name, r.id, r.vec, segment.kmeans_assign(r.vec, m.model) AS cluster
FROM (VALUES ('agg_customers'), ('agg_random')) AS t (name),
	LATERAL (SELECT segment.kmeans_fit(format('SELECT id, vec FROM %I', t.name), 4) AS model) AS m,
	LATERAL (SELECT id, vec FROM agg_customers WHERE t.name = 'agg_customers'
			 UNION ALL SELECT id, vec FROM agg_random WHERE t.name = 'agg_random') AS r;
CREATE FUNCTION agg_text_forms(name text) RETURNS TABLE (block text, answer text) LANGUAGE sql AS $$
	SELECT 'kmeans_fit k=4', segment.kmeans_fit(format('SELECT id, vec FROM %I', name), 4)::text
	UNION ALL SELECT 'kmeans_fit k=3 n_init=4 seed=7', segment.kmeans_fit(format('SELECT id, vec FROM %I', name), 3, 4, seed => 7)::text
	UNION ALL SELECT 'evaluate 2..5', (SELECT string_agg(e::text, ' ' ORDER BY e.k) FROM segment.evaluate(format('SELECT id, vec FROM %I', name), 2, 5) e)
	UNION ALL SELECT 'silhouette', segment.silhouette(format('SELECT id, vec, cluster FROM agg_labels WHERE name = %L', name))::text
	UNION ALL SELECT 'davies_bouldin', segment.davies_bouldin(format('SELECT id, vec, cluster FROM agg_labels WHERE name = %L', name))::text
	UNION ALL SELECT 'calinski_harabasz', segment.calinski_harabasz(format('SELECT id, vec, cluster FROM agg_labels WHERE name = %L', name))::text
	UNION ALL SELECT 'pca_fit', segment.pca_fit(format('SELECT id, vec FROM %I', name))::text
	UNION ALL SELECT 'pca_fit 3', segment.pca_fit(format('SELECT id, vec FROM %I', name), 3)::text
$$;
-- the aggregates over agg_labels's rows of one table, in the order given by row_order
CREATE FUNCTION agg_aggregates(name text, row_order text) RETURNS TABLE (block text, answer text) LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE format($q$
		WITH r AS MATERIALIZED (SELECT vec, cluster FROM agg_labels WHERE name = %L ORDER BY %s),
		a AS (SELECT segment.kmeans_fit(vec, 4) AS k4, segment.kmeans_fit(vec, 3, 4, 7) AS k3,
				segment.evaluate(vec, 2, 5) AS e, segment.silhouette(vec, cluster) AS s,
				segment.davies_bouldin(vec, cluster) AS d, segment.calinski_harabasz(vec, cluster) AS c,
				segment.pca_fit(vec) AS p, segment.pca_fit(vec, 3) AS p3 FROM r)
		SELECT 'kmeans_fit k=4', k4::text FROM a
		UNION ALL SELECT 'kmeans_fit k=3 n_init=4 seed=7', k3::text FROM a
		UNION ALL SELECT 'evaluate 2..5', (SELECT string_agg(x::text, ' ' ORDER BY x.k) FROM unnest(e) x) FROM a
		UNION ALL SELECT 'silhouette', s::text FROM a
		UNION ALL SELECT 'davies_bouldin', d::text FROM a
		UNION ALL SELECT 'calinski_harabasz', c::text FROM a
		UNION ALL SELECT 'pca_fit', p::text FROM a
		UNION ALL SELECT 'pca_fit 3', p3::text FROM a$q$, name, row_order);
END
$$;
CREATE TABLE agg_expected AS
SELECT t.name, f.block, f.answer FROM (VALUES ('agg_customers'), ('agg_random')) AS t (name), agg_text_forms(t.name) AS f;
SELECT o.row_order, count(*) AS blocks, count(*) FILTER (WHERE a.answer = e.answer) AS same_bits
FROM (VALUES ('agg_customers'), ('agg_random')) AS t (name)
	CROSS JOIN (VALUES ('id'), ('md5(id::text)'), ('id DESC')) AS o (row_order)
	CROSS JOIN LATERAL agg_aggregates(t.name, o.row_order) AS a
	JOIN agg_expected e ON e.name = t.name AND e.block = a.block
GROUP BY o.row_order ORDER BY o.row_order;

-- -0 is 0, as a source read makes it: a cluster of -0 elements has the centre 0
CREATE TABLE agg_signed_zeros AS SELECT * FROM (VALUES (1::bigint, '{-0, 1}'::float8[]), (2, '{-0, 2}'), (3, '{5, 5}'), (4, '{6, 5}')) AS r (id, vec);
SELECT segment.kmeans_fit(vec, 2)::text AS model,
	segment.kmeans_fit(vec, 2)::text = segment.kmeans_fit('SELECT id, vec FROM agg_signed_zeros', 2)::text AS same_bits
FROM agg_signed_zeros;

-- Parallel: workers collect the rows, the leader combines their states
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
CREATE TABLE agg_parallel AS SELECT * FROM agg_labels;
ANALYZE agg_parallel;
EXPLAIN (COSTS OFF) SELECT segment.kmeans_fit(vec, 4) FROM agg_parallel WHERE name = 'agg_random';
CREATE TABLE agg_parallel_answers AS
SELECT name, 'kmeans_fit k=4' AS block, segment.kmeans_fit(vec, 4)::text AS answer FROM agg_parallel GROUP BY name
UNION ALL SELECT name, 'kmeans_fit k=3 n_init=4 seed=7', segment.kmeans_fit(vec, 3, 4, 7)::text FROM agg_parallel GROUP BY name
UNION ALL SELECT name, 'evaluate 2..5', (SELECT string_agg(x::text, ' ' ORDER BY x.k) FROM unnest(segment.evaluate(vec, 2, 5)) x) FROM agg_parallel GROUP BY name
UNION ALL SELECT name, 'silhouette', segment.silhouette(vec, cluster)::text FROM agg_parallel GROUP BY name
UNION ALL SELECT name, 'davies_bouldin', segment.davies_bouldin(vec, cluster)::text FROM agg_parallel GROUP BY name
UNION ALL SELECT name, 'calinski_harabasz', segment.calinski_harabasz(vec, cluster)::text FROM agg_parallel GROUP BY name
UNION ALL SELECT name, 'pca_fit', segment.pca_fit(vec)::text FROM agg_parallel GROUP BY name
UNION ALL SELECT name, 'pca_fit 3', segment.pca_fit(vec, 3)::text FROM agg_parallel GROUP BY name;
SELECT count(*) AS blocks, count(*) FILTER (WHERE a.answer = e.answer) AS same_bits_with_workers
FROM agg_parallel_answers a JOIN agg_expected e USING (name, block);
-- the same with every worker's rows passing through serialize and deserialize
SET parallel_leader_participation = off;
SELECT segment.kmeans_fit(vec, 4)::text = (SELECT answer FROM agg_expected WHERE name = 'agg_random' AND block = 'kmeans_fit k=4')
	AS same_bits_leader_not_participating
FROM agg_parallel WHERE name = 'agg_random';
RESET parallel_leader_participation;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;

-- One model per group: GROUP BY country equals the text form on each
-- country's rows; the window form assigns each customer with its
-- country's model, one fit per partition (a fit per row, thousands of
-- fits, would run into the statement timeout)
CREATE TABLE agg_countries AS
SELECT country FROM agg_random GROUP BY country
UNION ALL SELECT country FROM agg_customers GROUP BY country HAVING count(*) >= 30;
SELECT count(*) AS countries,
	count(*) FILTER (WHERE g.model::text = segment.kmeans_fit(
		format('SELECT id, vec FROM agg_random WHERE country = %L UNION ALL SELECT id, vec FROM agg_customers WHERE country = %L',
			   g.country, g.country), 3)::text) AS same_bits_as_text_form
FROM (SELECT country, segment.kmeans_fit(vec, 3) AS model
	  FROM (SELECT country, vec FROM agg_random UNION ALL SELECT country, vec FROM agg_customers) AS r
	  WHERE country IN (SELECT country FROM agg_countries) GROUP BY country) AS g;
SET statement_timeout = '20s';
CREATE TABLE agg_window AS
SELECT id, country, segment.kmeans_assign(vec, segment.kmeans_fit(vec, 3) OVER (PARTITION BY country)) AS cluster
FROM agg_customers WHERE country IN (SELECT country FROM agg_countries);
RESET statement_timeout;
WITH models AS (SELECT country, segment.kmeans_fit(vec, 3) AS model FROM agg_customers
				WHERE country IN (SELECT country FROM agg_countries) GROUP BY country)
SELECT count(*) AS customers, count(DISTINCT w.country) AS countries,
	count(*) FILTER (WHERE w.cluster = segment.kmeans_assign(c.vec, m.model)) AS with_their_country_model
FROM agg_window w JOIN agg_customers c USING (id) JOIN models m ON m.country = w.country;
-- every aggregate works over a window
SELECT count(DISTINCT (s, p)) AS distinct_per_partition
FROM (SELECT segment.silhouette(vec, cluster) OVER w AS s, segment.pca_fit(vec) OVER w AS p
	  FROM agg_labels WINDOW w AS (PARTITION BY name)) AS x;

-- Per-row silhouettes as a window function: the same bits as the text
-- form's rows, NULL for a row without a cluster, and their mean the
-- silhouette aggregate's
CREATE TABLE agg_samples AS
SELECT name, id, cluster, segment.silhouette_samples(vec, cluster) OVER (PARTITION BY name) AS silhouette
FROM (SELECT name, id, vec, cluster FROM agg_labels
	  UNION ALL SELECT 'agg_random', 0, ARRAY[1, 2, 3, 4, 5, 6, 7]::float8[], NULL) AS r;
WITH text_form AS MATERIALIZED (
	SELECT n.name, t.id, t.silhouette
	FROM (VALUES ('agg_customers'), ('agg_random')) AS n (name),
		segment.silhouette_samples(format('SELECT id, vec, cluster FROM agg_labels WHERE name = %L', n.name)) AS t)
SELECT s.name, count(*) AS rows, count(*) FILTER (WHERE s.silhouette::text = t.silhouette::text) AS same_bits,
	count(*) FILTER (WHERE s.silhouette IS NULL) AS without_cluster
FROM agg_samples s LEFT JOIN text_form t USING (name, id)
GROUP BY s.name ORDER BY s.name;
SELECT abs(avg(s.silhouette) - a.silhouette) < 1e-12 AS mean_is_the_aggregate
FROM agg_samples s, (SELECT segment.silhouette(vec, cluster) AS silhouette FROM agg_labels WHERE name = 'agg_random') AS a
WHERE s.name = 'agg_random' GROUP BY a.silhouette;
SELECT segment.silhouette_samples(vec, cluster) FROM agg_labels;
SELECT segment.silhouette_samples(vec, 1) OVER () FROM agg_labels WHERE name = 'agg_random';
SELECT segment.silhouette_samples(vec, cluster) OVER () FROM agg_labels;

-- NULLs: a NULL vector or cluster skips its row; no rows give NULL
SELECT segment.kmeans_fit(vec, 2)::text = segment.kmeans_fit(vec, 2) FILTER (WHERE vec IS NOT NULL)::text AS null_vector_skipped,
	segment.silhouette(vec, cluster) = segment.silhouette(vec, cluster) FILTER (WHERE cluster IS NOT NULL) AS null_cluster_skipped
FROM (SELECT vec, cluster FROM agg_labels WHERE name = 'agg_random'
	  UNION ALL VALUES (NULL::float8[], 1), (ARRAY[1, 2, 3, 4, 5, 6, 7]::float8[], NULL::integer)) AS r;
SELECT segment.kmeans_fit(vec, 2) IS NULL AS no_rows, segment.evaluate(vec, 2, 3) IS NULL AS no_rows_evaluate,
	segment.silhouette(vec, 1) IS NULL AS no_rows_silhouette, segment.pca_fit(vec) IS NULL AS no_rows_pca
FROM agg_random WHERE false;
SELECT segment.kmeans_fit(vec, 2) IS NULL AS only_null_vectors FROM (VALUES (NULL::float8[])) AS r (vec);

-- Errors
\set VERBOSITY sqlstate
SELECT segment.kmeans_fit(vec, NULL) FROM agg_random;
SELECT segment.kmeans_fit(vec, 3, 4, NULL) FROM agg_random;
SELECT segment.pca_fit(vec, NULL) FROM agg_random;
SELECT segment.evaluate(vec, 2, NULL) FROM agg_random;
\set VERBOSITY default
SELECT segment.kmeans_fit(vec, 2 + (id % 2)::integer) FROM agg_random;
SELECT segment.kmeans_fit(vec, 0) FROM agg_random;
SELECT segment.evaluate(vec, 1, 3) FROM agg_random;
SELECT segment.evaluate(vec, 4, 3) FROM agg_random;
SELECT segment.pca_fit(vec, 0) FROM agg_random;
SELECT segment.pca_fit(vec, 8) FROM agg_random;
SELECT segment.kmeans_fit(vec, 5) FROM agg_random WHERE id <= 4;
SELECT segment.evaluate(vec, 2, 5) FROM agg_random WHERE id <= 4;
SELECT segment.silhouette(vec, 1) FROM agg_random;
SELECT segment.kmeans_fit(v, 1) FROM (VALUES (ARRAY[1, 2]::float8[]), (ARRAY[1, 2, 3]::float8[])) AS r (v);
SELECT segment.kmeans_fit(v, 1) FROM (VALUES (ARRAY[1, 'NaN']::float8[])) AS r (v);
SELECT segment.kmeans_fit(v, 1) FROM (VALUES (ARRAY[1, NULL]::float8[])) AS r (v);
SELECT segment.kmeans_fit(v, 1) FROM (VALUES ('{}'::float8[])) AS r (v);
SELECT segment.pca_fit(v) FROM (VALUES (ARRAY[[1, 2], [3, 4]]::float8[])) AS r (v);
-- memory is checked against maintenance_work_mem as the state grows, in
-- one process and in parallel workers
SET maintenance_work_mem = '1MB';
SELECT segment.kmeans_fit(vec || vec || vec || vec, 8) FROM agg_labels;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SELECT segment.evaluate(vec || vec || vec || vec, 2, 8) FROM agg_parallel;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;
RESET maintenance_work_mem;

DROP FUNCTION agg_text_forms(text);
DROP FUNCTION agg_aggregates(text, text);
DROP TABLE agg_samples, agg_signed_zeros, agg_customers, agg_random, agg_labels, agg_expected, agg_parallel, agg_parallel_answers, agg_countries, agg_window;
