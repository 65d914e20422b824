-- tools/bench.sql: the benchmark queries and their targets, run by tools/bench.sh
\set QUIET on
\pset footer off
SET max_parallel_workers_per_gather = 0;

\i tools/bench_harness.sql

\echo 'customer_features: 541,909 invoice lines, 4,372 customers, serial plans, median of' :runs 'runs'
-- count(s) keeps every output column alive, so no aggregate is optimized away
CREATE TEMP TABLE features_bench AS
SELECT * FROM pg_temp.bench(
	ARRAY['segment.customer_features', 'hand-written SQL', 'bare GROUP BY'],
	ARRAY[
		$$SELECT count(s) FROM (SELECT customer_id, segment.customer_features(invoice_no, invoice_date, quantity, unit_price)
			FROM invoices WHERE customer_id IS NOT NULL GROUP BY customer_id) AS s$$,
		$$SELECT count(s) FROM features_plain AS s$$,
		$$SELECT count(s) FROM (SELECT customer_id, count(*), sum(quantity * unit_price), max(invoice_date)
			FROM invoices WHERE customer_id IS NOT NULL GROUP BY customer_id) AS s$$],
	:runs);
SELECT * FROM features_bench;

SELECT round(p.median_ms / s.median_ms, 2) AS speedup_over_sql,
	round(s.median_ms / b.median_ms, 2) AS cost_over_bare_group_by
FROM features_bench s, features_bench p, features_bench b
WHERE s.query = 'segment.customer_features' AND p.query = 'hand-written SQL' AND b.query = 'bare GROUP BY'
\gset
\echo 'target: at least 4x faster than the hand-written SQL:' :speedup_over_sql 'x'
\echo 'target: within 1.5x of the bare GROUP BY:           ' :cost_over_bare_group_by 'x'
SELECT (:speedup_over_sql >= 4 AND :cost_over_bare_group_by <= 1.5) AS targets_met \gset
\if :targets_met
\echo 'all targets met'
\else
DO $$ BEGIN RAISE EXCEPTION 'a benchmark target was missed'; END $$;
\endif
