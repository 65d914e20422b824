-- Parallel workers inside a call: the runs of a k-means fit and the chunks
-- of an exact silhouette spread over workers (max_parallel_maintenance_workers;
-- for problems large enough to pay for them) give the same bits as one
-- process, for kmeans_fit, kmeans, elbow, silhouette and a whole
-- segmentation; workers do start, a cancel stops them all, none is left
CREATE TABLE parallel_vectors AS
SELECT i AS id, ARRAY[sin(i), cos(i), sin(2 * i), cos(3 * i), sin(5 * i), cos(7 * i)]::float8[] AS vec, i % 5 + 1 AS cluster
FROM generate_series(1, 30000) AS i;
CREATE FUNCTION pg_temp.results() RETURNS TABLE (what text, result text) LANGUAGE sql AS $$
	SELECT 'kmeans_fit', segment.kmeans_fit('SELECT id, vec FROM parallel_vectors', 6, 100, seed => 3)::text
	UNION ALL
	SELECT 'kmeans', md5(string_agg(r::text, ',' ORDER BY r.id))
	FROM segment.kmeans('SELECT id, vec FROM parallel_vectors', 5, 120) AS r
	UNION ALL
	SELECT 'elbow', string_agg(e::text, ',' ORDER BY e.k) FROM segment.elbow('SELECT id, vec FROM parallel_vectors', 5, 6, 100) AS e
	UNION ALL
	SELECT 'silhouette', segment.silhouette('SELECT id, vec, cluster FROM parallel_vectors')::text
	UNION ALL
	SELECT 'silhouette_samples', md5(string_agg(s::text, ',' ORDER BY s.id))
	FROM segment.silhouette_samples('SELECT id, vec, cluster FROM parallel_vectors') AS s
$$;
SET max_parallel_maintenance_workers = 0;
CREATE TEMP TABLE one_process AS SELECT * FROM pg_temp.results();
SELECT segment.create_segmentation('one_process', 'invoices');
SET max_parallel_maintenance_workers = 2;
CREATE TEMP TABLE two_workers AS SELECT * FROM pg_temp.results();
SELECT segment.create_segmentation('two_workers', 'invoices');
RESET max_parallel_maintenance_workers;
SELECT o.what, o.result = t.result AS same_bits FROM one_process o JOIN two_workers t USING (what) ORDER BY o.what;
SELECT (SELECT md5(string_agg(a::text, ',' ORDER BY a.customer_id)) FROM one_process.assignments a)
	= (SELECT md5(string_agg(a::text, ',' ORDER BY a.customer_id)) FROM two_workers.assignments a) AS same_assignments,
	(SELECT md5(string_agg(e::text, ',' ORDER BY e.k)) FROM one_process.elbow e)
	= (SELECT md5(string_agg(e::text, ',' ORDER BY e.k)) FROM two_workers.elbow e) AS same_elbow,
	(SELECT model FROM segment.segmentations WHERE name = 'one_process')::text
	= (SELECT model FROM segment.segmentations WHERE name = 'two_workers')::text AS same_model;
SELECT segment.drop_segmentation('one_process');
SELECT segment.drop_segmentation('two_workers');

-- every (k, run) is run and the best of each k is picked by (inertia, run)
-- with workers as without: on 320,000 rows, the elbow's one run per k (k =
-- 10 is the first item handed out); on four corners of a square,
-- 12,500 customers each, k = 2 splits them into two halves either way with
-- exactly the same inertia, and the first run's halves are the model
CREATE TABLE parallel_many AS
SELECT i AS id, ARRAY[sin(i), cos(i), sin(2 * i), cos(3 * i), sin(5 * i), cos(7 * i)]::float8[] AS vec
FROM generate_series(1, 320000) AS i;
CREATE TABLE parallel_square AS
SELECT i AS id, ARRAY[2 * (i % 2), 2 * (i / 2 % 2)]::float8[] AS vec FROM generate_series(1, 50000) AS i;
CREATE FUNCTION pg_temp.picks() RETURNS TABLE (what text, result text) LANGUAGE sql AS $$
	SELECT 'elbow', string_agg(e::text, ',' ORDER BY e.k) FROM segment.elbow('SELECT id, vec FROM parallel_many', 2, 10, 1, 5) AS e
	UNION ALL
	SELECT 'square', segment.kmeans_fit('SELECT id, vec FROM parallel_square', 2, 600, seed => 1)::text
$$;
SET maintenance_work_mem = '256MB';
SET max_parallel_maintenance_workers = 0;
CREATE TEMP TABLE picks_one_process AS SELECT * FROM pg_temp.picks();
SET max_parallel_maintenance_workers = 2;
CREATE TEMP TABLE picks_two_workers AS SELECT * FROM pg_temp.picks();
RESET max_parallel_maintenance_workers;
RESET maintenance_work_mem;
SELECT o.what, o.result = t.result AS same_bits FROM picks_one_process o JOIN picks_two_workers t USING (what) ORDER BY o.what;
DROP TABLE parallel_many, parallel_square;

-- workers start, and a cancel stops them all within 2 s: a long fit in a
-- second session, watched from this one
CREATE EXTENSION dblink;
SELECT dblink_connect('fitting', format('host=%s port=%s dbname=%s',
	split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'), current_database()));
SELECT dblink_exec('fitting', 'SET max_parallel_maintenance_workers = 2');
CREATE TEMP TABLE fitting AS SELECT * FROM dblink('fitting', 'SELECT pg_backend_pid()') AS t (pid integer);
SELECT dblink_send_query('fitting', $$SELECT segment.kmeans_fit('SELECT id, vec FROM parallel_vectors', 10, 1000)::text$$);
DO $$
BEGIN
	FOR i IN 1 .. 100 LOOP
		EXIT WHEN EXISTS (SELECT FROM pg_stat_activity WHERE backend_type = 'parallel worker' AND leader_pid = (SELECT pid FROM fitting));
		PERFORM pg_sleep(0.05);
		PERFORM pg_stat_clear_snapshot();
	END LOOP;
END
$$;
SELECT count(*) > 0 AS workers_started FROM pg_stat_activity WHERE backend_type = 'parallel worker' AND leader_pid = (SELECT pid FROM fitting);
CREATE TEMP TABLE cancelled AS SELECT clock_timestamp() AS at, pg_cancel_backend((SELECT pid FROM fitting)) AS sent;
DO $$
BEGIN
	FOR i IN 1 .. 100 LOOP
		EXIT WHEN NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = (SELECT pid FROM fitting) AND state = 'active')
			AND NOT EXISTS (SELECT FROM pg_stat_activity WHERE backend_type = 'parallel worker' AND leader_pid = (SELECT pid FROM fitting));
		PERFORM pg_sleep(0.05);
		PERFORM pg_stat_clear_snapshot();
	END LOOP;
END
$$;
SELECT sent, clock_timestamp() - at < interval '2 seconds' AS stopped_within_2_s,
	NOT EXISTS (SELECT FROM pg_stat_activity WHERE backend_type = 'parallel worker') AS no_worker_left
FROM cancelled;
SET client_min_messages = warning;
SELECT count(*) AS rows_of_the_cancelled_fit FROM dblink_get_result('fitting', false) AS t (result text);
RESET client_min_messages;
SELECT dblink_error_message('fitting');
SELECT dblink_disconnect('fitting');
DROP EXTENSION dblink;
DROP TABLE parallel_vectors;
