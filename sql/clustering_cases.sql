-- The building blocks on hand-made cases whose answers are known
SET extra_float_digits = 0;

-- scaler_fit: mean, population standard deviation, scale 1 for a constant
-- element; NULL vectors are skipped; no rows give NULL
CREATE TABLE small (id bigint, vec float8[]);
INSERT INTO small VALUES (1, '{1,10}'), (2, '{2,10}'), (3, '{3,10}'), (4, NULL);
SELECT (s).n, (s).mean, (s).scale, round((s).scale[1]::numeric, 12) = round(sqrt(2.0 / 3), 12) AS population_std
FROM (SELECT segment.scaler_fit(vec) AS s FROM small) AS f;
SELECT segment.scaler_fit(vec) IS NULL AS no_rows_null FROM small WHERE false;
-- scale, unscale and their round trip
SELECT segment.scale('{3,10}', s) AS scaled, segment.unscale(segment.scale('{3,10}', s), s) AS round_trip
FROM (SELECT segment.scaler_fit(vec) AS s FROM small) AS f;
-- scaler_fit in a forced parallel plan equals the serial fit (Chan et al.'s merge)
CREATE TABLE wide AS SELECT i AS id, ARRAY[i % 97, (i * 7) % 13, sqrt(i)]::float8[] AS vec FROM generate_series(1, 200000) AS i;
ANALYZE wide;
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2; SET parallel_leader_participation = off;
CREATE TABLE wide_parallel AS SELECT segment.scaler_fit(vec) AS s FROM wide;
RESET max_parallel_workers_per_gather;
SET max_parallel_workers_per_gather = 0;
SELECT bool_and(abs(p - q) <= 1e-12 * abs(q)) AS parallel_equals_serial
FROM (SELECT segment.scaler_fit(vec) AS s FROM wide) AS serial, wide_parallel AS par,
	LATERAL unnest((par.s).mean || (par.s).scale, (serial.s).mean || (serial.s).scale) AS u(p, q);
RESET ALL;
SET extra_float_digits = 0;

-- one_hot
SELECT segment.one_hot('b', '{a,b,c}') AS b, segment.one_hot(NULL, '{a,b,c}') AS null_value,
	segment.one_hot('z', '{a,b,c}') AS unknown, segment.one_hot('a', NULL) AS null_categories,
	segment.one_hot('a', '{}') AS no_categories;

-- k = 1: the centroid is the mean, the inertia the total sum of squares
SELECT m.k, m.centroids, m.inertia,
	m.inertia = (SELECT sum((vec[1] - 2) ^ 2 + (vec[2] - 10) ^ 2) FROM small WHERE vec IS NOT NULL) AS total_sum_of_squares
FROM segment.kmeans_fit('SELECT id, vec FROM small WHERE vec IS NOT NULL', 1) AS m;
-- k = n: every row its own cluster, inertia 0
SELECT cluster, count(*) AS rows, max(distance) AS distance
FROM segment.kmeans('SELECT id, vec FROM small WHERE vec IS NOT NULL', 3)
GROUP BY cluster ORDER BY cluster;
-- duplicate points: ten at (0,0) and ten at (5,5); equal sizes are numbered
-- by coordinates; with k = 3 there are only two distinct points, so the
-- third cluster ends empty (its centroid repeats another)
CREATE TABLE twins AS SELECT i AS id, CASE WHEN i <= 10 THEN '{0,0}' ELSE '{5,5}' END::float8[] AS vec FROM generate_series(1, 20) AS i;
SELECT k, centroids, inertia FROM segment.kmeans_fit('SELECT id, vec FROM twins', 2);
SELECT cluster, count(*) AS rows, max(distance) AS distance
FROM segment.kmeans('SELECT id, vec FROM twins', 3) GROUP BY cluster ORDER BY cluster;
SELECT k, centroids, inertia FROM segment.kmeans_fit('SELECT id, vec FROM twins', 3);
-- a constant element: scale 1, and k-means ignores it
CREATE TABLE flat AS SELECT i AS id, ARRAY[i, 7]::float8[] AS vec FROM generate_series(1, 10) AS i;
SELECT ((SELECT segment.scaler_fit(vec) FROM flat)).scale AS scale,
	(segment.kmeans_fit('SELECT id, vec FROM flat', 2)).centroids AS centroids;

-- Two well-separated blobs are found exactly: 300 rows around the origin and
-- 200 around (100, 100, 100), uniform noise of ±1
SELECT setseed(0.5);
CREATE TABLE blobs AS
SELECT i AS id, CASE WHEN i <= 300 THEN 1 ELSE 2 END AS blob,
	ARRAY[random() * 2 - 1, random() * 2 - 1, random() * 2 - 1]::float8[]
		|| CASE WHEN i <= 300 THEN 0 ELSE 100 END AS shift
FROM generate_series(1, 500) AS i;
UPDATE blobs SET shift = ARRAY[shift[1] + shift[4], shift[2] + shift[4], shift[3] + shift[4]];
ALTER TABLE blobs RENAME shift TO vec;
SELECT k.cluster, b.blob, count(*) AS rows
FROM segment.kmeans('SELECT id, vec FROM blobs', 2) AS k JOIN blobs AS b USING (id)
GROUP BY k.cluster, b.blob ORDER BY k.cluster;

-- Bit for bit the same model whatever the row order, the id values, or a
-- parallel plan of the source
CREATE TABLE big_blobs AS
SELECT i AS id, ARRAY[(i % 5) * 10 + sin(i), (i % 3) * 10 + cos(i), (i % 7) * 1.5]::float8[] AS vec
FROM generate_series(1, 30000) AS i;
ANALYZE big_blobs;
CREATE TABLE orderings AS
SELECT 'by id' AS source, segment.kmeans_fit('SELECT id, vec FROM big_blobs ORDER BY id', 5)::text AS model
UNION ALL
SELECT 'reversed', segment.kmeans_fit('SELECT id, vec FROM big_blobs ORDER BY id DESC', 5)::text
UNION ALL
SELECT 'shuffled, new ids', segment.kmeans_fit('SELECT row_number() OVER (ORDER BY md5(id::text)), vec FROM big_blobs ORDER BY md5(id::text)', 5)::text;
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
INSERT INTO orderings SELECT 'parallel scan', segment.kmeans_fit('SELECT id, vec FROM big_blobs', 5)::text;
RESET ALL;
SET extra_float_digits = 0;
SELECT count(DISTINCT model) AS distinct_models, count(*) AS fits FROM orderings;

-- kmeans() agrees with kmeans_assign and kmeans_distance on every row, and
-- its inertia is the model's
WITH model AS (SELECT segment.kmeans_fit('SELECT id, vec FROM big_blobs', 5) AS m),
	rows AS (SELECT * FROM segment.kmeans('SELECT id, vec FROM big_blobs', 5))
SELECT count(*) AS rows,
	bool_and(r.cluster = segment.kmeans_assign(b.vec, (SELECT m FROM model))) AS assign_agrees,
	bool_and(r.distance = segment.kmeans_distance(b.vec, (SELECT m FROM model))) AS distance_agrees,
	abs(sum(r.distance ^ 2) - ((SELECT m FROM model)).inertia) <= 1e-9 * ((SELECT m FROM model)).inertia AS inertia_agrees,
	bool_and(r.cluster BETWEEN 1 AND 5) AS numbered_1_to_k
FROM rows AS r JOIN big_blobs AS b USING (id);
-- cluster 1 is the largest
SELECT bool_and(rows >= next_rows) AS largest_first
FROM (SELECT count(*) AS rows, lead(count(*), 1, 0) OVER (ORDER BY cluster) AS next_rows
	  FROM segment.kmeans('SELECT id, vec FROM big_blobs', 5) GROUP BY cluster) AS s;

-- every element counts in every distance kernel: rows that only their last
-- element tells apart (0, 10 or 10.5), for every width modulo 4 and for 3
-- and 7 rows (kernels take rows four at a time, then the rest one by one):
-- k = 2 separates the zeros from the others
CREATE TABLE last_element AS
SELECT d AS dims, n AS rows, i AS id,
	array_fill(0::float8, ARRAY[d - 1]) || ARRAY[CASE WHEN i % 3 = 0 THEN 0 WHEN i % 3 = 1 THEN 10 ELSE 10.5 END]::float8[] AS vec
FROM generate_series(5, 12) AS d, (VALUES (3), (7)) AS r (n), generate_series(1, n) AS i;
SELECT count(*) AS cases,
	count(*) FILTER (WHERE separated AND abs(inertia - expected) < 1e-12) AS zeros_apart_at_the_expected_inertia
FROM (SELECT l.dims, l.rows, m.inertia,
		-- the squared deviations of the last elements 10 and 10.5 from their mean
		var_pop(l.vec[l.dims]) FILTER (WHERE l.vec[l.dims] > 0) * count(*) FILTER (WHERE l.vec[l.dims] > 0) AS expected,
		count(DISTINCT segment.kmeans_assign(l.vec, m)) FILTER (WHERE l.vec[l.dims] = 0) = 1
		AND count(DISTINCT segment.kmeans_assign(l.vec, m)) FILTER (WHERE l.vec[l.dims] > 0) = 1
		AND count(DISTINCT segment.kmeans_assign(l.vec, m)) = 2 AS separated
	  FROM last_element l,
		LATERAL segment.kmeans_fit(format('SELECT id, vec FROM last_element WHERE dims = %s AND rows = %s', l.dims, l.rows), 2) AS m
	  GROUP BY l.dims, l.rows, m.inertia) AS c;
-- and in the silhouette's kernel: labelled zero or not, against plain SQL
WITH labelled AS (SELECT dims, rows, id, vec, (vec[dims] > 0)::integer + 1 AS cluster FROM last_element),
pairs AS (SELECT a.dims, a.rows, a.id, a.cluster,
			avg(sqrt((SELECT sum((a.vec[j] - b.vec[j]) ^ 2) FROM generate_series(1, a.dims) AS j)))
				FILTER (WHERE b.cluster = a.cluster AND b.id <> a.id) AS a_mean,
			avg(sqrt((SELECT sum((a.vec[j] - b.vec[j]) ^ 2) FROM generate_series(1, a.dims) AS j)))
				FILTER (WHERE b.cluster <> a.cluster) AS b_mean
		  FROM labelled a JOIN labelled b USING (dims, rows) GROUP BY a.dims, a.rows, a.id, a.cluster),
plain AS (SELECT dims, rows, avg(coalesce((b_mean - a_mean) / greatest(a_mean, b_mean), 0)) AS silhouette
		  FROM pairs GROUP BY dims, rows)
SELECT count(*) AS cases,
	count(*) FILTER (WHERE abs(segment.silhouette(format(
		'SELECT id, vec, (vec[%1$s] > 0)::integer + 1 FROM last_element WHERE dims = %1$s AND rows = %2$s', dims, rows)) - silhouette) < 1e-12)
		AS silhouette_as_plain_sql
FROM plain;
DROP TABLE last_element;

-- elbow: one row per k, exactly one elbow, each inertia that of kmeans_fit;
-- three separated blobs have their elbow at k = 3
CREATE TABLE three AS
SELECT i AS id, ARRAY[(i % 3) * 20 + sin(i * 1.7), (i % 3) * 5 + cos(i * 2.3)]::float8[] AS vec
FROM generate_series(1, 600) AS i;
SELECT e.k, e.is_elbow,
	e.inertia = (segment.kmeans_fit('SELECT id, vec FROM three', e.k)).inertia AS same_as_kmeans_fit
FROM segment.elbow('SELECT id, vec FROM three', 1, 8) AS e ORDER BY e.k;
SELECT k, is_elbow FROM segment.elbow('SELECT id, vec FROM three', 4, 4);
-- two candidates lie on a straight line: a tie, which goes to the smaller k
SELECT k, is_elbow FROM segment.elbow('SELECT id, vec FROM three', 2, 3) ORDER BY k;

-- silhouette: a singleton cluster scores 0; a sample as large as the data is
-- the exact value; a sample depends on the seed, not on the row order
CREATE TABLE labelled AS
SELECT id, vec, CASE WHEN id = 1 THEN 3 WHEN id % 2 = 0 THEN 1 ELSE 2 END AS cluster FROM three;
SELECT cluster, silhouette FROM segment.silhouette_samples('SELECT id, vec, cluster FROM labelled') WHERE id = 1;
SELECT segment.silhouette('SELECT id, vec, cluster FROM labelled', 600) = segment.silhouette('SELECT id, vec, cluster FROM labelled') AS full_sample_is_exact,
	segment.silhouette('SELECT id, vec, cluster FROM labelled', 100, 7) = segment.silhouette('SELECT id, vec, cluster FROM labelled ORDER BY id DESC', 100, 7) AS sample_ignores_order,
	segment.silhouette('SELECT id, vec, cluster FROM labelled', 100, 7) <> segment.silhouette('SELECT id, vec, cluster FROM labelled', 100, 8) AS sample_follows_seed,
	abs(segment.silhouette('SELECT id, vec, cluster FROM labelled') -
		(SELECT avg(silhouette) FROM segment.silhouette_samples('SELECT id, vec, cluster FROM labelled'))) < 1e-12 AS mean_of_samples;
-- a sample of n - 1 rows is n - 1 distinct rows: its silhouette is the
-- exact silhouette of the data without one of them; and the row left out is
-- drawn uniformly (over 40 seeds, a uniform draw leaves out about 25
-- different rows of 40; fewer than 15 would be a biased sampler)
CREATE TABLE sampled AS SELECT id, vec, cluster FROM labelled WHERE id <= 40;
CREATE TEMP TABLE left_out AS
SELECT s AS seed, r AS row_left_out
FROM generate_series(1, 40) AS s, generate_series(1, 40) AS r
WHERE abs(segment.silhouette(format('SELECT id, vec, cluster FROM sampled WHERE id <> %s', r))
	- segment.silhouette('SELECT id, vec, cluster FROM sampled', 39, s)) < 1e-12;
SELECT count(DISTINCT seed) AS seeds_with_a_row_left_out, count(*) AS matches,
	count(DISTINCT row_left_out) >= 15 AS rows_left_out_spread
FROM left_out;
DROP TABLE sampled, left_out;
-- the three blobs, labelled by blob, score near 1 on every index
SELECT round(segment.silhouette('SELECT id, vec, id % 3 FROM three')::numeric, 2) AS silhouette,
	round(segment.davies_bouldin('SELECT id, vec, id % 3 FROM three')::numeric, 2) AS davies_bouldin,
	segment.calinski_harabasz('SELECT id, vec, id % 3 FROM three') > 1000 AS calinski_harabasz_high;

-- PCA: points on the line y = 2x have one component with all the variance,
-- (1, 2) / sqrt(5), signed so that its largest loading is positive
CREATE TABLE line AS SELECT i AS id, ARRAY[-i, -2 * i]::float8[] AS vec FROM generate_series(1, 50) AS i;
SELECT round(p.explained_variance_ratio[1]::numeric, 12) AS ratio,
	round(p.components[1][1]::numeric, 12) AS x_loading, round(p.components[1][2]::numeric, 12) AS y_loading,
	round(p.explained_variance[1]::numeric, 6) AS variance,
	segment.pca_transform(p.mean, p) = '{0}' AS mean_maps_to_origin,
	round((segment.pca_transform('{-1,-2}', p))[1]::numeric, 9) AS projection
FROM segment.pca_fit('SELECT id, vec FROM line', 1) AS p;

-- match_clusters numbers the current centroids by the previous ones with the
-- least total squared distance: the same total as a brute force over every
-- permutation (k = 2..6, three dimensions, seeded centroids)
SELECT setseed(0.3) \g /dev/null
CREATE TABLE match_cases AS
SELECT k, s AS case_no,
	(SELECT array_agg(ARRAY[random() * 10, random() * 10, random() * 10] ORDER BY c) FROM generate_series(1, k) AS c) AS previous,
	(SELECT array_agg(ARRAY[random() * 10, random() * 10, random() * 10] ORDER BY c) FROM generate_series(1, k) AS c) AS current
FROM generate_series(2, 6) AS k, generate_series(1, 4) AS s ORDER BY k, s;
WITH RECURSIVE permutations (k, p) AS (
	SELECT k, '{}'::integer[] FROM generate_series(2, 6) AS k
	UNION ALL
	SELECT r.k, r.p || c FROM permutations r, generate_series(1, r.k) AS c WHERE cardinality(r.p) < r.k AND NOT c = ANY (r.p)),
costs AS (
	SELECT m.k, m.case_no, p.p, (SELECT sum((m.current[c][j] - m.previous[p.p[c]][j]) ^ 2)
		FROM generate_series(1, m.k) AS c, generate_series(1, 3) AS j) AS cost
	FROM match_cases m JOIN permutations p ON p.k = m.k AND cardinality(p.p) = m.k)
SELECT m.k, count(*) AS cases,
	count(*) FILTER (WHERE abs((SELECT cost FROM costs c WHERE c.k = m.k AND c.case_no = m.case_no
			AND c.p = segment.match_clusters(m.previous, m.current))
		- (SELECT min(cost) FROM costs c WHERE c.k = m.k AND c.case_no = m.case_no)) < 1e-9) AS least_total_distance
FROM match_cases m GROUP BY m.k ORDER BY m.k;
-- with more clusters than before, the new ones take the next numbers: the
-- numbers are 1..k, each once
SELECT m.k AS previous_k, m.k + e.extra AS k,
	(SELECT array_agg(n ORDER BY n) FROM unnest(segment.match_clusters(m.previous,
		m.current || (SELECT array_agg(ARRAY[20 + x, 20 + x, 20 + x] ORDER BY x) FROM generate_series(1, e.extra) AS x))) AS n)
		= ARRAY(SELECT generate_series(1, m.k + e.extra)) AS numbered_1_to_k
FROM match_cases m, (VALUES (1), (2)) AS e (extra) WHERE m.case_no = 1 ORDER BY m.k, e.extra;
DROP TABLE match_cases;
