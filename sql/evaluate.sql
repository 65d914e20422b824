-- segment.evaluate: every k from one read of the vectors, the same bits as
-- the building blocks called one by one (kmeans_fit, kmeans_assign,
-- silhouette, davies_bouldin, calinski_harabasz, elbow, kmeans_fit_from)
-- on the bundled data's standardized features (table rfm of clustering_data)
CREATE TABLE evaluated AS SELECT * FROM segment.evaluate('SELECT id, vec FROM rfm', 2, 7, 4, 11);
CREATE FUNCTION pg_temp.labelled(model segment.kmeans_model) RETURNS text LANGUAGE sql AS $$
	SELECT format('SELECT id, vec, segment.kmeans_assign(vec, %L::segment.kmeans_model) FROM rfm', model) $$;
SELECT e.k,
	e.model = segment.kmeans_fit('SELECT id, vec FROM rfm', e.k, 4, 300, 1e-4, 11) AS model_same,
	e.inertia = (e.model).inertia AS inertia_same,
	e.silhouette = segment.silhouette(pg_temp.labelled(e.model)) AS silhouette_same,
	e.davies_bouldin = segment.davies_bouldin(pg_temp.labelled(e.model)) AS davies_bouldin_same,
	e.calinski_harabasz = segment.calinski_harabasz(pg_temp.labelled(e.model)) AS calinski_harabasz_same,
	e.sizes = (SELECT array_agg(coalesce(c.n, 0) ORDER BY s.cluster) FROM generate_series(1, e.k) AS s (cluster)
			   LEFT JOIN (SELECT segment.kmeans_assign(vec, e.model) AS cluster, count(*) AS n FROM rfm GROUP BY 1) AS c
			   USING (cluster)) AS sizes_same,
	e.smallest_share = (SELECT min(x)::float8 / (SELECT count(*) FROM rfm) FROM unnest(e.sizes) AS x WHERE x > 0) AS share_same,
	e.is_elbow = l.is_elbow AS elbow_same,
	NOT e.from_start AS cold
FROM evaluated e JOIN segment.elbow('SELECT id, vec FROM rfm', 2, 7, 4, 11) AS l USING (k)
ORDER BY e.k;

-- a sampled silhouette is silhouette's sample of the same size and seed
SELECT bool_and(e.silhouette = segment.silhouette(pg_temp.labelled(e.model), 500, 11)) AS sampled_same
FROM segment.evaluate('SELECT id, vec FROM rfm', 3, 4, 4, 11, 500) AS e;

-- a warm start from the centroids of the k = 4 model moved a little: the
-- row of k = 4 is one Lloyd step from them (kmeans_fit_from with max_iter
-- 1) unless the fresh fit is more than 2 % better; the other rows are cold
CREATE TABLE start_centroids AS
SELECT array_agg(ARRAY(SELECT (e.model).centroids[c][j] * 1.01 FROM generate_series(1, (e.model).dims) AS j) ORDER BY c) AS centroids
FROM evaluated e, generate_series(1, 4) AS c WHERE e.k = 4;
SELECT e.k, e.from_start,
	CASE WHEN e.from_start
		THEN ((e.model).centroids, (e.model).inertia, (e.model).n_init, (e.model).seed)
			 = ((w).centroids, (w).inertia, 1, 11::bigint)
		ELSE e.model = segment.kmeans_fit('SELECT id, vec FROM rfm', e.k, 4, 300, 1e-4, 11) END AS model_same
FROM segment.evaluate('SELECT id, vec FROM rfm', 3, 5, 4, 11, NULL, (SELECT centroids FROM start_centroids)) AS e,
	LATERAL segment.kmeans_fit_from('SELECT id, vec FROM rfm', (SELECT centroids FROM start_centroids), 1) AS w
ORDER BY e.k;

-- the margin: a start whose Lloyd step lands 1.6 % above the fresh fit is
-- kept, one 4.6 % above is not (the k = 4 centroids scaled by 1.9 and 2.8)
SELECT f AS scale, round((w.inertia / (SELECT inertia FROM evaluated WHERE k = 4))::numeric, 3) AS start_over_fresh, e.from_start
FROM (VALUES (1.9), (2.8)) AS s (f),
	LATERAL (SELECT array_agg(ARRAY(SELECT (v.model).centroids[c][j] * s.f FROM generate_series(1, (v.model).dims) AS j) ORDER BY c) AS centroids
			 FROM evaluated v, generate_series(1, 4) AS c WHERE v.k = 4) AS start,
	LATERAL segment.kmeans_fit_from('SELECT id, vec FROM rfm', start.centroids, 1) AS w,
	LATERAL segment.evaluate('SELECT id, vec FROM rfm', 4, 4, 4, 11, NULL, start.centroids) AS e
ORDER BY f;

-- a k whose nearest-centroid assignment fills one segment only (all rows
-- alike) has no scores (NULL), not an error; two distinct rows fill two
CREATE TABLE evaluate_twins AS SELECT i AS id, CASE WHEN i <= 10 THEN '{0,0}' ELSE '{5,5}' END::float8[] AS vec
FROM generate_series(1, 20) AS i;
CREATE TABLE evaluate_alike AS SELECT i AS id, '{1,1}'::float8[] AS vec FROM generate_series(1, 20) AS i;
SELECT 'alike' AS rows, k, silhouette, davies_bouldin, calinski_harabasz, sizes, smallest_share
FROM segment.evaluate('SELECT id, vec FROM evaluate_alike', 2, 2)
UNION ALL
SELECT 'twins', k, silhouette, davies_bouldin, calinski_harabasz, sizes, smallest_share
FROM segment.evaluate('SELECT id, vec FROM evaluate_twins', 2, 3) ORDER BY 1, 2;

-- the same bits with 0 and 2 parallel workers (the exact silhouette of
-- 25,000 rows is big enough for them)
CREATE TABLE evaluate_wide AS
SELECT i AS id, ARRAY[(i * 7919) % 1000 / 100.0, (i * 104729) % 997 / 100.0, sqrt(i) / 30, (i % 13) / 3.0]::float8[] AS vec
FROM generate_series(1::bigint, 25000) AS i;
SET max_parallel_maintenance_workers = 0;
CREATE TABLE evaluate_serial AS SELECT * FROM segment.evaluate('SELECT id, vec FROM evaluate_wide', 2, 3, 10, 3);
SET max_parallel_maintenance_workers = 2;
SELECT count(*) AS ks, bool_and(s::text = p::text) AS same_bits
FROM evaluate_serial s JOIN segment.evaluate('SELECT id, vec FROM evaluate_wide', 2, 3, 10, 3) AS p USING (k);
RESET max_parallel_maintenance_workers;

-- errors
SELECT error_of($$ SELECT * FROM segment.evaluate('SELECT id, vec FROM rfm', 1, 3) $$);
SELECT error_of($$ SELECT * FROM segment.evaluate('SELECT id, vec FROM rfm', 5, 3) $$);
SELECT error_of($$ SELECT * FROM segment.evaluate('SELECT id, vec FROM evaluate_twins', 2, 30) $$);
SELECT error_of($$ SELECT * FROM segment.evaluate(NULL, 2, 3) $$);
SELECT error_of($$ SELECT * FROM segment.evaluate('SELECT id, vec FROM rfm', 2, NULL) $$);
SELECT error_of($$ SELECT * FROM segment.evaluate('SELECT id, vec FROM rfm', 2, 3, 0) $$);
SELECT error_of($$ SELECT * FROM segment.evaluate('SELECT id, vec FROM rfm', 2, 3, 10, 0, 1) $$);
SELECT error_of($$ SELECT * FROM segment.evaluate('SELECT id, vec FROM rfm', 2, 3, 10, 0, NULL, '{{1,2},{3,4}}') $$);
SELECT error_of($$ SELECT * FROM segment.evaluate('SELECT id, vec FROM rfm', 2, 3, 10, 0, NULL, '{1,2}') $$);
DROP TABLE evaluated, start_centroids, evaluate_twins, evaluate_alike, evaluate_wide, evaluate_serial;
