-- Long loops are interruptible: with statement_timeout = 1s, k-means, the
-- elbow and the exact silhouette on 200,000 rows (each takes far longer
-- uncancelled) stop within 2 s of the timeout
CREATE TABLE big_vectors AS
SELECT i AS id, ARRAY[sin(i), cos(i), sin(2 * i), cos(3 * i), sin(5 * i), cos(7 * i), sin(11 * i), cos(13 * i)]::float8[] AS vec,
	i % 7 AS cluster
FROM generate_series(1, 200000) AS i;
SET maintenance_work_mem = '256MB';
SET max_parallel_maintenance_workers = 0;
CREATE TABLE started (at timestamptz);
INSERT INTO started VALUES (clock_timestamp());
SET statement_timeout = '1s';
SELECT segment.kmeans_fit('SELECT id, vec FROM big_vectors', 10, 50);
RESET statement_timeout;
SELECT clock_timestamp() - at < interval '3 seconds' AS kmeans_fit_stopped_in_time FROM started;
UPDATE started SET at = clock_timestamp();
SET statement_timeout = '1s';
SELECT * FROM segment.elbow('SELECT id, vec FROM big_vectors', 1, 10, 10);
RESET statement_timeout;
SELECT clock_timestamp() - at < interval '3 seconds' AS elbow_stopped_in_time FROM started;
UPDATE started SET at = clock_timestamp();
SET statement_timeout = '1s';
SELECT segment.silhouette('SELECT id, vec, cluster FROM big_vectors');
RESET statement_timeout;
SELECT clock_timestamp() - at < interval '3 seconds' AS silhouette_stopped_in_time FROM started;
-- with parallel workers the timeout stops them all: none is left behind
SET max_parallel_maintenance_workers = 2;
UPDATE started SET at = clock_timestamp();
SET statement_timeout = '1s';
SELECT segment.kmeans_fit('SELECT id, vec FROM big_vectors', 10, 50);
RESET statement_timeout;
SELECT clock_timestamp() - at < interval '3 seconds' AS parallel_kmeans_fit_stopped_in_time FROM started;
SELECT pg_sleep(0.5);
SELECT count(*) AS parallel_workers_left FROM pg_stat_activity WHERE backend_type = 'parallel worker';
RESET max_parallel_maintenance_workers;
DROP TABLE big_vectors, started;

-- fewer distinct points than clusters on many rows: a run stops as soon as
-- nothing changes instead of moving a duplicate into an empty cluster and back
-- until max_iter (k = n_distinct + 1 and k = 10 within a bound of seconds)
CREATE TABLE triplets AS SELECT i AS id, ARRAY[(i % 3)::float8, (i % 3 * 2)::float8] AS vec FROM generate_series(1, 200000) AS i;
SET statement_timeout = '5s';
SELECT k, inertia, iterations <= 3 AS converged_at_once, centroids[1:3][1:2] AS filled_centroids
FROM segment.kmeans_fit('SELECT id, vec FROM triplets', 4, n_init => 3);
SELECT k, inertia, iterations <= 3 AS converged_at_once FROM segment.kmeans_fit('SELECT id, vec FROM triplets', 10, n_init => 3);
SELECT count(*) AS ks, count(*) FILTER (WHERE k >= 3 AND inertia = 0) AS exact_from_3, min(k) FILTER (WHERE is_elbow) AS elbow
FROM segment.elbow('SELECT id, vec FROM triplets', 1, 10, n_init => 3);
SELECT cluster, count(*) AS rows FROM segment.kmeans('SELECT id, vec FROM triplets', 5, n_init => 3) GROUP BY cluster ORDER BY cluster;
RESET statement_timeout;
DROP TABLE triplets;

