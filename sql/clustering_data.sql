-- The building blocks against scikit-learn (Debian's python3-sklearn,
-- test/reference/sklearn_reference.py) on three matrices.  Two are the
-- standardized features of the 4,339 bundled customers with a purchase:
-- "rfm", nine recency, frequency and monetary features, and "rfm_country",
-- the same plus one-hot countries (46 elements).  The third, "gaussian_blobs", is
-- seeded random data with known structure: 2,000 rows from 5 Gaussian blobs
-- in 6 dimensions.  segment's values must equal scikit-learn's within 1e-9
-- relative (scaler, scores, PCA); k-means inertia must not be worse than
-- KMeans(n_init=10) by more than 0.1 %.
CREATE TABLE customer_raw AS
WITH per_customer AS (
	SELECT customer_id, min(country) AS country,
		segment.customer_features(invoice_no, invoice_date, quantity, unit_price) AS f
	FROM invoices
	WHERE customer_id IS NOT NULL
	GROUP BY customer_id
)
SELECT customer_id::bigint AS id,
	ARRAY[extract(epoch FROM (SELECT max(invoice_date) FROM invoices) - (f).last_purchase)::float8 / 86400,
		(f).invoices, (f).total_amount, (f).avg_invoice_amount, coalesce((f).mean_days_between, 0),
		(f).invoices_per_hour, (f).invoices_per_day, (f).invoices_per_month, (f).invoices_per_year] AS rfm,
	segment.one_hot(country, (SELECT array_agg(DISTINCT country ORDER BY country) FROM invoices
							  WHERE customer_id IS NOT NULL)) AS country
FROM per_customer
WHERE (f).invoices > 0;
CREATE TABLE scalers AS
SELECT segment.scaler_fit(rfm) AS rfm, segment.scaler_fit(rfm || country) AS rfm_country
FROM customer_raw;
CREATE TABLE rfm AS
SELECT id, segment.scale(rfm, (SELECT rfm FROM scalers)) AS vec FROM customer_raw;
CREATE TABLE rfm_country AS
SELECT id, segment.scale(rfm || country, (SELECT rfm_country FROM scalers)) AS vec FROM customer_raw;
-- gaussian_blobs: centres uniform in [-10, 10]^6, unit Gaussian noise (Box-Muller)
SELECT setseed(0.25);
CREATE TABLE blob_centres AS
SELECT b AS blob, array_agg(random() * 20 - 10 ORDER BY j) AS centre
FROM generate_series(1, 5) AS b, generate_series(1, 6) AS j GROUP BY b;
CREATE TABLE gaussian_blobs AS
SELECT i::bigint AS id, 1 + i % 5 AS blob,
	(SELECT array_agg(c.centre[j] + sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) ORDER BY j)
	 FROM generate_series(1, 6) AS j) AS vec
FROM generate_series(1, 2000) AS i JOIN blob_centres AS c ON c.blob = 1 + i % 5;
SELECT (SELECT count(*) FROM rfm) AS customers,
	(SELECT max(array_length(vec, 1)) FROM rfm) AS rfm_dims,
	(SELECT max(array_length(vec, 1)) FROM rfm_country) AS rfm_country_dims;

-- segment's k = 4 clusterings, the labels the scores are computed for
CREATE TABLE rfm_labels AS SELECT id, cluster FROM segment.kmeans('SELECT id, vec FROM rfm', 4);
CREATE TABLE rfm_country_labels AS SELECT id, cluster FROM segment.kmeans('SELECT id, vec FROM rfm_country', 4);
CREATE TABLE gaussian_blobs_labels AS SELECT id, cluster FROM segment.kmeans('SELECT id, vec FROM gaussian_blobs', 5);
-- k-means finds the five blobs exactly
SELECT count(DISTINCT (l.cluster, b.blob)) AS cluster_blob_pairs FROM gaussian_blobs_labels l JOIN gaussian_blobs b USING (id);

-- every row of kmeans() is labelled with its nearest centroid, at its
-- distance, as plain SQL computes them from the model's centroids (10, 47
-- and 6 elements, row counts not multiples of the kernels' blocks)
WITH matrices AS (
	SELECT 'rfm' AS matrix, 4 AS k, id, vec FROM rfm
	UNION ALL SELECT 'rfm_country', 4, id, vec FROM rfm_country
	UNION ALL SELECT 'gaussian_blobs', 5, id, vec FROM gaussian_blobs),
fits AS (SELECT matrix, k, segment.kmeans_fit(format('SELECT id, vec FROM %I', matrix), k) AS model
		 FROM (VALUES ('rfm', 4), ('rfm_country', 4), ('gaussian_blobs', 5)) AS m (matrix, k)),
plain AS (
	SELECT m.matrix, m.id, c.c AS cluster,
		sqrt((SELECT sum((m.vec[j] - (f.model).centroids[c.c][j]) ^ 2) FROM generate_subscripts(m.vec, 1) AS j)) AS distance
	FROM matrices m JOIN fits f USING (matrix), generate_series(1, m.k) AS c (c)),
nearest AS (SELECT DISTINCT ON (matrix, id) matrix, id, cluster, distance FROM plain ORDER BY matrix, id, distance, cluster),
ours AS (SELECT f.matrix, r.id, r.cluster, r.distance FROM fits f,
		 LATERAL segment.kmeans(format('SELECT id, vec FROM %I', f.matrix), f.k) AS r)
SELECT o.matrix, count(*) AS rows, count(*) FILTER (WHERE o.cluster = n.cluster) AS labelled_nearest,
	count(*) FILTER (WHERE abs(o.distance - n.distance) <= 1e-12 * n.distance + 1e-15) AS at_its_distance
FROM ours o JOIN nearest n USING (matrix, id)
GROUP BY o.matrix ORDER BY o.matrix;

-- Hand the vectors (exact float8 text) and labels to scikit-learn
SET extra_float_digits = 3;
\copy (SELECT id || ',0,' || array_to_string(rfm || country, ',') FROM customer_raw ORDER BY id) TO 'results/raw.csv'
\copy (SELECT v.id || ',' || l.cluster || ',' || array_to_string(v.vec, ',') FROM rfm v JOIN rfm_labels l USING (id) ORDER BY v.id) TO 'results/rfm.csv'
\copy (SELECT v.id || ',' || l.cluster || ',' || array_to_string(v.vec, ',') FROM rfm_country v JOIN rfm_country_labels l USING (id) ORDER BY v.id) TO 'results/rfm_country.csv'
\copy (SELECT v.id || ',' || l.cluster || ',' || array_to_string(v.vec, ',') FROM gaussian_blobs v JOIN gaussian_blobs_labels l USING (id) ORDER BY v.id) TO 'results/gaussian_blobs.csv'
CREATE TABLE sk (matrix text, metric text, idx bigint, value float8);
CREATE TEMP TABLE sk_load (metric text, idx bigint, value float8);
\copy sk_load FROM PROGRAM '/usr/bin/python3 test/reference/sklearn_reference.py results/raw.csv --scaler' WITH (FORMAT csv)
INSERT INTO sk SELECT 'raw', * FROM sk_load;
TRUNCATE sk_load;
\copy sk_load FROM PROGRAM '/usr/bin/python3 test/reference/sklearn_reference.py results/rfm.csv --scores --pca 3 --k 1,2,3,4,5,6,7,8,9,10 --seeds 5' WITH (FORMAT csv)
INSERT INTO sk SELECT 'rfm', * FROM sk_load;
TRUNCATE sk_load;
\copy sk_load FROM PROGRAM '/usr/bin/python3 test/reference/sklearn_reference.py results/rfm_country.csv --scores --pca 3 --k 4' WITH (FORMAT csv)
INSERT INTO sk SELECT 'rfm_country', * FROM sk_load;
TRUNCATE sk_load;
\copy sk_load FROM PROGRAM '/usr/bin/python3 test/reference/sklearn_reference.py results/gaussian_blobs.csv --scores --pca 3 --k 1,2,3,4,5,6,7,8 --seeds 3' WITH (FORMAT csv)
INSERT INTO sk SELECT 'gaussian_blobs', * FROM sk_load;
-- A cluster that empties during Lloyd's iterations: the third starting
-- centre is far from every row, so the first assignment leaves it empty and
-- it moves to the row farthest from its centre; scikit-learn's Lloyd from
-- the same centres does the same
SELECT setseed(0.5) \g /dev/null
CREATE TABLE emptying AS
SELECT i::bigint AS id, ARRAY[b.cx + sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()),
	b.cy + sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())] AS vec
FROM generate_series(1, 90) AS i JOIN (VALUES (0, 0, 0), (1, 10, 0), (2, 0, 10)) AS b (blob, cx, cy) ON b.blob = i % 3;
\copy (SELECT id || ',0,' || array_to_string(vec, ',') FROM emptying ORDER BY id) TO 'results/emptying.csv'
\copy (VALUES ('0.5,0.5'), ('9.5,0.5'), ('50,50')) TO 'results/emptying_start.csv'
\copy sk_load FROM PROGRAM '/usr/bin/python3 test/reference/sklearn_reference.py results/emptying.csv --init results/emptying_start.csv' WITH (FORMAT csv)
INSERT INTO sk SELECT 'emptying', * FROM sk_load;
TRUNCATE sk_load;
-- Lloyd's iterations from eight given rows of the bundled matrix (k × dims = 80: the
-- bounded assignment), here and in scikit-learn
CREATE TABLE rfm_start AS SELECT array_agg(vec ORDER BY md5(id::text)) AS centroids
FROM (SELECT id, vec FROM rfm ORDER BY md5(id::text) LIMIT 8) AS r;
\copy (SELECT array_to_string(vec, ',') FROM rfm ORDER BY md5(id::text) LIMIT 8) TO 'results/rfm_start.csv'
\copy sk_load FROM PROGRAM '/usr/bin/python3 test/reference/sklearn_reference.py results/rfm.csv --init results/rfm_start.csv' WITH (FORMAT csv)
INSERT INTO sk SELECT 'rfm_lloyd', * FROM sk_load;
SET extra_float_digits = 0;
-- Lloyd's iterations from the same centres, here and in scikit-learn: the
-- emptying cluster (it is empty at the start) and the eight rows of the
-- bundled matrix (4,339 customers) end in scikit-learn's partition, at its
-- inertia
WITH starts (matrix, source_table, centroids) AS (VALUES
	('emptying', 'emptying', '{{0.5,0.5},{9.5,0.5},{50,50}}'::float8[]),
	('rfm_lloyd', 'rfm', (SELECT centroids FROM rfm_start))),
fits AS (SELECT matrix, segment.kmeans_fit_from(format('SELECT id, vec FROM %I', source_table), centroids) AS m FROM starts),
rows AS (SELECT 'emptying' AS matrix, id, vec FROM emptying UNION ALL SELECT 'rfm_lloyd', id, vec FROM rfm),
ours AS (SELECT r.matrix, r.id, segment.kmeans_assign(r.vec, f.m) AS cluster FROM rows r JOIN fits f USING (matrix))
SELECT f.matrix,
	(SELECT value FROM sk WHERE matrix = f.matrix AND metric = 'lloyd_empty_at_start') AS empty_at_start,
	(SELECT count(DISTINCT (o.cluster, t.value)) FROM ours o
	 JOIN sk t ON t.matrix = o.matrix AND t.metric = 'lloyd_label' AND t.idx = o.id WHERE o.matrix = f.matrix) AS label_pairs,
	(SELECT count(DISTINCT cluster) FROM ours o WHERE o.matrix = f.matrix) AS clusters_filled,
	(SELECT count(DISTINCT value) FROM sk WHERE matrix = f.matrix AND metric = 'lloyd_label') AS scikit_learns_filled,
	abs((f.m).inertia - (SELECT value FROM sk WHERE matrix = f.matrix AND metric = 'lloyd_inertia'))
		<= 1e-9 * (f.m).inertia AS inertia_as_scikit_learn
FROM fits f ORDER BY f.matrix;
DROP TABLE emptying, rfm_start;

-- |a - b| <= 1e-9 |b| (absolute 1e-12 for values within 1e-3 of 0, such as means of z-scores)
CREATE FUNCTION close_to(a float8, b float8) RETURNS boolean
LANGUAGE sql IMMUTABLE
AS $$ SELECT abs(a - b) <= greatest(1e-9 * abs(b), 1e-12) $$;

-- scaler_fit equals StandardScaler (46 means and 46 scales)
SELECT count(*) AS compared, bool_and(close_to(
		CASE metric WHEN 'scaler_mean' THEN ((SELECT rfm_country FROM scalers)).mean[idx]
		ELSE ((SELECT rfm_country FROM scalers)).scale[idx] END, value)) AS scaler_equal
FROM sk WHERE matrix = 'raw';

-- the scores of segment's clusterings equal scikit-learn's
SELECT m.matrix,
	close_to(segment.silhouette(format('SELECT v.id, v.vec, l.cluster FROM %I v JOIN %I l USING (id)', m.matrix, m.matrix || '_labels')),
			 (SELECT value FROM sk WHERE matrix = m.matrix AND metric = 'silhouette')) AS silhouette,
	close_to(segment.davies_bouldin(format('SELECT v.id, v.vec, l.cluster FROM %I v JOIN %I l USING (id)', m.matrix, m.matrix || '_labels')),
			 (SELECT value FROM sk WHERE matrix = m.matrix AND metric = 'davies_bouldin')) AS davies_bouldin,
	close_to(segment.calinski_harabasz(format('SELECT v.id, v.vec, l.cluster FROM %I v JOIN %I l USING (id)', m.matrix, m.matrix || '_labels')),
			 (SELECT value FROM sk WHERE matrix = m.matrix AND metric = 'calinski_harabasz')) AS calinski_harabasz
FROM (VALUES ('rfm'), ('rfm_country'), ('gaussian_blobs')) AS m (matrix)
ORDER BY m.matrix;
SELECT count(*) AS rows_compared, bool_and(close_to(s.silhouette, sk.value)) AS silhouette_samples_equal
FROM segment.silhouette_samples('SELECT v.id, v.vec, l.cluster FROM rfm v JOIN rfm_labels l USING (id)') AS s
JOIN sk ON sk.matrix = 'rfm' AND sk.metric = 'silhouette_sample' AND sk.idx = s.id;

-- PCA: explained variance, its ratio and the components (sign rule applied to both)
SELECT m.matrix,
	bool_and(close_to(p.explained_variance_ratio[sk.idx], sk.value)) FILTER (WHERE sk.metric = 'pca_ratio') AS ratio,
	bool_and(close_to(p.explained_variance[sk.idx], sk.value)) FILTER (WHERE sk.metric = 'pca_variance') AS variance,
	bool_and(abs(p.components[sk.idx / 1000][sk.idx % 1000] - sk.value) <= 1e-9) FILTER (WHERE sk.metric = 'pca_component') AS components,
	count(*) FILTER (WHERE sk.metric = 'pca_component') AS loadings
FROM (VALUES ('rfm'), ('rfm_country'), ('gaussian_blobs')) AS m (matrix),
	LATERAL segment.pca_fit(format('SELECT id, vec FROM %I', m.matrix), 3) AS p
JOIN sk ON true
WHERE sk.matrix = m.matrix AND sk.metric LIKE 'pca%'
GROUP BY m.matrix
ORDER BY m.matrix;

-- k-means: at the benchmark setting (k = 4, n_init = 10, seed 0) on every
-- matrix, and for every k of the elbow the median over seeds (0..4 on rfm,
-- 0..2 on gaussian_blobs), segment's inertia is at most 0.1 % above scikit-learn's
SELECT m.matrix,
	(segment.kmeans_fit(format('SELECT id, vec FROM %I', m.matrix), 4)).inertia
		<= 1.001 * (SELECT value FROM sk WHERE matrix = m.matrix AND metric = 'kmeans_inertia' AND idx = 400) AS k4_within_0_1_percent
FROM (VALUES ('rfm'), ('rfm_country'), ('gaussian_blobs')) AS m (matrix)
ORDER BY m.matrix;
WITH ours AS (
	SELECT m.matrix, e.k, percentile_cont(0.5) WITHIN GROUP (ORDER BY e.inertia) AS inertia
	FROM (VALUES ('rfm', 4, 10), ('gaussian_blobs', 2, 8)) AS m (matrix, last_seed, k_max),
		generate_series(0, m.last_seed) AS seed,
		LATERAL segment.elbow(format('SELECT id, vec FROM %I', m.matrix), 1, m.k_max, 10, seed) AS e
	GROUP BY m.matrix, e.k
), theirs AS (
	SELECT matrix, idx / 100 AS k, percentile_cont(0.5) WITHIN GROUP (ORDER BY value) AS inertia
	FROM sk WHERE metric = 'kmeans_inertia' AND matrix IN ('rfm', 'gaussian_blobs')
	GROUP BY matrix, idx / 100
)
SELECT matrix, count(*) AS k_compared,
	bool_and(ours.inertia <= 1.001 * theirs.inertia) AS medians_within_0_1_percent
FROM ours JOIN theirs USING (matrix, k)
GROUP BY matrix ORDER BY matrix;
