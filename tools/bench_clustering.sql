-- tools/bench_clustering.sql: the clustering benchmarks' data, made by
-- tools/bench.sh.  Builds the two matrices and writes them (with segment's
-- k = 4 labels) to :dir for scikit-learn; tools/bench_sklearn.py times both
-- sides on them.
\set QUIET on
\pset footer off
SET max_parallel_workers_per_gather = 0;
SET maintenance_work_mem = '1GB';

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
