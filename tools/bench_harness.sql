-- tools/bench_harness.sql: timing in one backend, shared by the benchmarks
-- Run each query once to warm up, then :runs times round-robin; report the
-- median, fastest and slowest run in milliseconds.
CREATE FUNCTION pg_temp.bench(names text[], queries text[], runs integer)
RETURNS TABLE (query text, median_ms numeric, min_ms numeric, max_ms numeric)
LANGUAGE plpgsql AS $$
DECLARE
	started timestamptz;
BEGIN
	CREATE TEMP TABLE IF NOT EXISTS bench_runs (query text, ms float8);
	FOR i IN 1 .. array_length(queries, 1) LOOP
		EXECUTE queries[i];
	END LOOP;
	FOR r IN 1 .. runs LOOP
		FOR i IN 1 .. array_length(queries, 1) LOOP
			started := clock_timestamp();
			EXECUTE queries[i];
			INSERT INTO bench_runs VALUES (names[i], extract(epoch FROM clock_timestamp() - started) * 1000);
		END LOOP;
	END LOOP;
	RETURN QUERY
	SELECT b.query, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY b.ms)::numeric, 1),
		round(min(b.ms)::numeric, 1), round(max(b.ms)::numeric, 1)
	FROM bench_runs AS b JOIN unnest(names) WITH ORDINALITY AS n(name, position) ON n.name = b.query
	GROUP BY b.query, n.position
	ORDER BY n.position;
	DROP TABLE bench_runs;
END
$$;

