-- tools/bench_scale.sql: the scale benchmark, run by tools/bench.sh when
-- SCALE > 1: the bundled lines copied :scale times (new customer ids and
-- invoice numbers, same times), then the targets of a large segmentation:
-- create_segmentation within 20 s up to SCALE=25, within 60 s beyond (up to
-- SCALE=100); the peak resident memory is the backend's own (VmHWM), the
-- parallel workers' is their own
\set QUIET on
\pset footer off
\timing off
\echo 'building' :scale 'copies of the bundled data ...'
INSERT INTO invoices
SELECT invoice_no || '-' || copy, stock_code, description, quantity, invoice_date, unit_price,
	customer_id + copy * 100000, country
FROM invoices, generate_series(1, :scale - 1) AS copy;
VACUUM ANALYZE invoices;
SELECT count(*) AS invoice_lines, count(DISTINCT customer_id) AS customers FROM invoices;
\i tools/bench_harness.sql

\echo 'customer_features grouped by customer: no parallel workers against two (median of 3)'
CREATE TEMP TABLE parallel_timings (workers integer, median_ms numeric);
SET max_parallel_workers_per_gather = 0;
INSERT INTO parallel_timings SELECT 0, median_ms FROM pg_temp.bench(ARRAY['serial'],
	ARRAY[$$SELECT count(s) FROM (SELECT customer_id, segment.customer_features(invoice_no, invoice_date, quantity, unit_price)
		FROM invoices WHERE customer_id IS NOT NULL GROUP BY customer_id) AS s$$], 3);
SET max_parallel_workers_per_gather = 2;
INSERT INTO parallel_timings SELECT 2, median_ms FROM pg_temp.bench(ARRAY['parallel'],
	ARRAY[$$SELECT count(s) FROM (SELECT customer_id, segment.customer_features(invoice_no, invoice_date, quantity, unit_price)
		FROM invoices WHERE customer_id IS NOT NULL GROUP BY customer_id) AS s$$], 3);
RESET max_parallel_workers_per_gather;
SELECT * FROM parallel_timings ORDER BY workers;
SELECT round(s.median_ms / p.median_ms, 2) AS parallel_speedup FROM parallel_timings s, parallel_timings p
WHERE s.workers = 0 AND p.workers = 2 \gset

\echo 'create_segmentation end to end, in a fresh backend, with the time of each phase'
\connect
\set QUIET on
SET segment.report_phases = on;
SELECT clock_timestamp() AS started \gset
SELECT segment.create_segmentation('scaled', 'invoices') \g /dev/null
RESET segment.report_phases;
SELECT round(extract(epoch FROM clock_timestamp() - :'started'::timestamptz)::numeric, 1) AS create_seconds \gset
SELECT (regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s+(\d+) kB'))[1]::bigint / 1024 AS peak_mb \gset
SELECT k, customers_clustered FROM scaled.model;
SELECT cluster, label, customers, round(100 * share::numeric, 1) AS share_pct FROM scaled.profiles ORDER BY cluster;
SELECT coalesce(cluster::text, 'all') AS cluster, customers, sample_size, round(mean_silhouette::numeric, 3) AS mean_silhouette
FROM scaled.silhouette ORDER BY cluster NULLS LAST;

\echo 'bounded memory: the same segmentation (same k) with maintenance_work_mem = 8MB fits on a seeded sample'
SELECT k AS full_k FROM scaled.model \gset
SET maintenance_work_mem = '8MB';
SELECT clock_timestamp() AS started \gset
SELECT segment.create_segmentation('scaled_sample', 'invoices', k => :full_k) \g /dev/null
SELECT round(extract(epoch FROM clock_timestamp() - :'started'::timestamptz)::numeric, 1) AS sampled_seconds;
RESET maintenance_work_mem;
SELECT f.fitted_rows AS full_fit_rows, s.fitted_rows AS sampled_fit_rows, f.k AS full_k, s.k AS sampled_k,
	round(f.inertia::numeric, 1) AS full_inertia, round(s.inertia::numeric, 1) AS sampled_inertia,
	round((100 * (s.inertia / f.inertia - 1))::numeric, 3) AS inertia_cost_pct
FROM scaled.model AS f, scaled_sample.model AS s;
SELECT round(100 * avg((a.cluster = b.cluster)::integer)::numeric, 1) AS same_segment_pct
FROM scaled.assignments AS a JOIN scaled_sample.assignments AS b USING (customer_id) WHERE a.cluster IS NOT NULL;

SELECT CASE WHEN :scale <= 25 THEN 20 ELSE 60 END AS create_target \gset
\echo 'target: create_segmentation within' :create_target 's:          ' :create_seconds 's'
\echo 'target: peak resident memory of the backend under 1 GB:' :peak_mb 'MB'
\echo 'target: 2 parallel workers at least 1.6x faster:       ' :parallel_speedup 'x'
SELECT (:create_seconds <= :create_target AND :peak_mb < 1024 AND :parallel_speedup >= 1.6) AS targets_met \gset
\if :targets_met
\echo 'all scale targets met'
\else
DO $$ BEGIN RAISE EXCEPTION 'a scale target was missed'; END $$;
\endif
