-- tools/bench_pipeline.sql: the pipeline benchmark's SQL side, run by
-- tools/bench.sh: create_segmentation from scratch, refresh_segmentation (a
-- refit) and refresh_segmentation(refit => false) on the bundled data, medians written to :dir for tools/bench_pipeline.py
\set QUIET on
\pset footer off
\i tools/bench_harness.sql
CREATE FUNCTION pg_temp.recreate() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM segment.drop_segmentation(name) FROM segment.segmentations WHERE name = 'bench';
	PERFORM segment.create_segmentation('bench', 'invoices');
END
$$;
-- a refit of a source that changed: another seed each time (a source
-- unchanged since the last fit would keep its model and skip the work)
CREATE SEQUENCE pg_temp.bench_seed;
CREATE FUNCTION pg_temp.refit() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM segment.alter_segmentation('bench', seed => nextval('pg_temp.bench_seed'));
	PERFORM segment.refresh_segmentation('bench');
END
$$;
SELECT pg_temp.recreate() \g /dev/null
CREATE TEMP TABLE pipeline_timings AS
SELECT * FROM pg_temp.bench(
	ARRAY['create_segmentation', 'refresh_segmentation', 'refresh_segmentation(refit => false)'],
	ARRAY[$$SELECT pg_temp.recreate()$$, $$SELECT pg_temp.refit()$$,
		  $$SELECT segment.refresh_segmentation('bench', refit => false)$$],
	:runs);
\set pipeline_csv :dir '/segment_pipeline.csv'
COPY (SELECT query, median_ms FROM pipeline_timings) TO STDOUT WITH (FORMAT csv) \g :pipeline_csv
