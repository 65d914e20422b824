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
