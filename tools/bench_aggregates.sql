-- tools/bench_aggregates.sql: the aggregate forms next to the source-text
-- forms, run by tools/bench.sh after tools/bench_clustering.sql made the
-- 100,000 × 10 table "synthetic".  Each query sets its own parallel
-- settings; interleaved runs in one backend, medians.
--
-- A parallel scan feeds the aggregate through its combine function; the fit
-- then runs in the leader with its own workers, as the text form's does.
-- The scan-bound Calinski-Harabasz index shows what the scan's workers
-- cost on a plain table: each passes its rows to the leader.
\set QUIET on
\pset footer off
SET maintenance_work_mem = '1GB';
ALTER TABLE synthetic SET (parallel_workers = 2);
\i tools/bench_harness.sql

\echo
\echo 'aggregates: 100,000 rows of 10 elements (tools/bench_clustering.sql), median of' :runs 'runs'
\set serial 'SET max_parallel_workers_per_gather = 0; '
\set parallel 'SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; '
CREATE TEMP TABLE aggregates_bench AS
SELECT * FROM pg_temp.bench(
	ARRAY['kmeans_fit k=8: text form', 'kmeans_fit k=8: aggregate, 0 scan workers', 'kmeans_fit k=8: aggregate, 2 scan workers',
		  'calinski_harabasz: text form', 'calinski_harabasz: aggregate, 0 scan workers', 'calinski_harabasz: aggregate, 2 scan workers',
		  'kmeans_fit k=8, 5 groups: GROUP BY', 'kmeans_fit k=8, 5 groups: window PARTITION BY'],
	ARRAY[
		:'serial' || $$SELECT segment.kmeans_fit('SELECT id, vec FROM synthetic', 8)$$,
		:'serial' || $$SELECT segment.kmeans_fit(vec, 8) FROM synthetic$$,
		:'parallel' || $$SELECT segment.kmeans_fit(vec, 8) FROM synthetic$$,
		:'serial' || $$SELECT segment.calinski_harabasz('SELECT id, vec, 1 + id % 8 FROM synthetic')$$,
		:'serial' || $$SELECT segment.calinski_harabasz(vec, 1 + (id % 8)::integer) FROM synthetic$$,
		:'parallel' || $$SELECT segment.calinski_harabasz(vec, 1 + (id % 8)::integer) FROM synthetic$$,
		:'serial' || $$SELECT sum((m).inertia) FROM (SELECT segment.kmeans_fit(vec, 8) AS m FROM synthetic GROUP BY id % 5) AS g$$,
		:'serial' || $$SELECT sum((m).inertia) FROM (SELECT segment.kmeans_fit(vec, 8) OVER (PARTITION BY id % 5) AS m FROM synthetic) AS w$$],
	:runs);
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
SELECT * FROM aggregates_bench;

SELECT round(a.median_ms / t.median_ms, 2) AS aggregate_over_text,
	round(w.median_ms / g.median_ms, 2) AS window_over_group_by
FROM aggregates_bench a, aggregates_bench t, aggregates_bench w, aggregates_bench g
WHERE a.query = 'kmeans_fit k=8: aggregate, 0 scan workers' AND t.query = 'kmeans_fit k=8: text form'
	AND w.query = 'kmeans_fit k=8, 5 groups: window PARTITION BY' AND g.query = 'kmeans_fit k=8, 5 groups: GROUP BY'
\gset
-- one fit per partition: the window form keeps the GROUP BY's time (a fit
-- per row would be 100,000 fits)
SELECT count(DISTINCT m::text) AS window_models
FROM (SELECT segment.kmeans_fit(vec, 8) OVER (PARTITION BY id % 5) AS m FROM synthetic) AS w \gset
\echo 'target: the aggregate within 1.25x of the text form:' :aggregate_over_text 'x'
\echo 'target: the window form within 1.5x of GROUP BY:    ' :window_over_group_by 'x (' :window_models 'models for 100,000 rows)'
SELECT (:aggregate_over_text <= 1.25 AND :window_over_group_by <= 1.5 AND :window_models = 5) AS targets_met \gset
\if :targets_met
\echo 'all targets met'
\else
DO $$ BEGIN RAISE EXCEPTION 'a benchmark target was missed'; END $$;
\endif
