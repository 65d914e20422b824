-- tools/bench_clustering.sql: the clustering benchmarks' SQL side, run by
-- tools/bench.sh.  Builds the two matrices, writes them (with segment's
-- k = 4 labels) to :dir for scikit-learn, and times segment on them.
\set QUIET on
\pset footer off
SET max_parallel_workers_per_gather = 0;
SET maintenance_work_mem = '1GB';
\i tools/bench_harness.sql

-- The bundled data's standardized feature matrix: nine recency, frequency
-- and monetary features and one-hot countries, 46 elements, 4,339 customers
CREATE TABLE bundled AS
WITH per_customer AS (
	SELECT customer_id, min(country) AS country,
		segment.customer_features(invoice_no, invoice_date, quantity, unit_price) AS f
	FROM invoices WHERE customer_id IS NOT NULL GROUP BY customer_id
), raw AS (
	SELECT customer_id::bigint AS id,
		ARRAY[extract(epoch FROM (SELECT max(invoice_date) FROM invoices) - (f).last_purchase)::float8 / 86400,
			(f).invoices, (f).total_amount, (f).avg_invoice_amount, coalesce((f).mean_days_between, 0),
			(f).invoices_per_hour, (f).invoices_per_day, (f).invoices_per_month, (f).invoices_per_year]
		|| segment.one_hot(country, (SELECT array_agg(DISTINCT country ORDER BY country) FROM invoices
									 WHERE customer_id IS NOT NULL)) AS vec
	FROM per_customer WHERE (f).invoices > 0
)
SELECT id, segment.scale(vec, (SELECT segment.scaler_fit(vec) FROM raw)) AS vec FROM raw;

-- 100,000 synthetic rows: 8 Gaussian blobs (sd 2) in 10 dimensions, seeded
SELECT setseed(0.25) \g /dev/null
CREATE TABLE synthetic_centres AS
SELECT b AS blob, array_agg(random() * 20 - 10 ORDER BY j) AS centre
FROM generate_series(1, 8) AS b, generate_series(1, 10) AS j GROUP BY b;
CREATE TABLE synthetic AS
SELECT i::bigint AS id,
	(SELECT array_agg(c.centre[j] + 2 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) ORDER BY j)
	 FROM generate_series(1, 10) AS j) AS vec
FROM generate_series(1, 100000) AS i JOIN synthetic_centres AS c ON c.blob = 1 + i % 8;
ANALYZE bundled;
ANALYZE synthetic;

CREATE TABLE bundled_labels AS SELECT id, cluster FROM segment.kmeans('SELECT id, vec FROM bundled', 4);
CREATE TABLE synthetic_labels AS SELECT id, cluster FROM segment.kmeans('SELECT id, vec FROM synthetic', 4);
SET extra_float_digits = 3;
\set bundled_csv :dir '/bundled.csv'
\set synthetic_csv :dir '/synthetic.csv'
COPY (SELECT v.id || ',' || l.cluster || ',' || array_to_string(v.vec, ',') FROM bundled v JOIN bundled_labels l USING (id) ORDER BY v.id) TO STDOUT \g :bundled_csv
COPY (SELECT v.id || ',' || l.cluster || ',' || array_to_string(v.vec, ',') FROM synthetic v JOIN synthetic_labels l USING (id) ORDER BY v.id) TO STDOUT \g :synthetic_csv

CREATE TEMP TABLE timings AS
SELECT 'bundled' AS matrix, * FROM pg_temp.bench(
	ARRAY['kmeans_fit', 'elbow', 'silhouette'],
	ARRAY[
		$$SELECT segment.kmeans_fit('SELECT id, vec FROM bundled', 4, 10)$$,
		$$SELECT count(*) FROM segment.elbow('SELECT id, vec FROM bundled', 1, 10, 10)$$,
		$$SELECT segment.silhouette('SELECT v.id, v.vec, l.cluster FROM bundled v JOIN bundled_labels l USING (id)')$$],
	:runs);
INSERT INTO timings
SELECT 'synthetic', * FROM pg_temp.bench(
	ARRAY['kmeans_fit', 'elbow', 'silhouette'],
	ARRAY[
		$$SELECT segment.kmeans_fit('SELECT id, vec FROM synthetic', 4, 10)$$,
		$$SELECT count(*) FROM segment.elbow('SELECT id, vec FROM synthetic', 1, 10, 10)$$,
		$$SELECT segment.silhouette('SELECT v.id, v.vec, l.cluster FROM synthetic v JOIN synthetic_labels l USING (id)')$$],
	:runs_large);
\set timings_csv :dir '/segment_timings.csv'
COPY (SELECT matrix, query, median_ms FROM timings) TO STDOUT WITH (FORMAT csv) \g :timings_csv
\set inertia_csv :dir '/segment_inertia.csv'
COPY (SELECT 'bundled', (segment.kmeans_fit('SELECT id, vec FROM bundled', 4, 10)).inertia
	  UNION ALL
	  SELECT 'synthetic', (segment.kmeans_fit('SELECT id, vec FROM synthetic', 4, 10)).inertia)
TO STDOUT WITH (FORMAT csv) \g :inertia_csv
