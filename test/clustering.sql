-- pgTAP: the catalog shape of the building blocks (README: "Building blocks") and
-- their errors' SQLSTATEs
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS segment;
SELECT plan(41);

SELECT has_composite('segment', 'scaler', 'segment.scaler is a composite type');
SELECT columns_are('segment', 'scaler', ARRAY['n', 'mean', 'scale']);
SELECT has_composite('segment', 'kmeans_model', 'segment.kmeans_model is a composite type');
SELECT columns_are('segment', 'kmeans_model', ARRAY['k', 'dims', 'centroids', 'inertia', 'iterations', 'n_init', 'seed']);
SELECT has_composite('segment', 'pca_model', 'segment.pca_model is a composite type');
SELECT columns_are('segment', 'pca_model', ARRAY['mean', 'components', 'explained_variance', 'explained_variance_ratio']);

-- scaler_fit: combinable, with a state Citus can ship (not internal)
SELECT is_aggregate('segment', 'scaler_fit', ARRAY['double precision[]']);
SELECT is(a.aggtranstype::regtype::text, 'double precision[]', 'the scaler_fit state is float8[], not internal')
FROM pg_aggregate a WHERE a.aggfnoid = 'segment.scaler_fit(double precision[])'::regprocedure;
SELECT isnt(a.aggcombinefn::oid, 0::oid, 'scaler_fit has a combine function')
FROM pg_aggregate a WHERE a.aggfnoid = 'segment.scaler_fit(double precision[])'::regprocedure;
SELECT is(p.proparallel, 's', 'scaler_fit is parallel safe')
FROM pg_proc p WHERE p.oid = 'segment.scaler_fit(double precision[])'::regprocedure;

-- the functions of the building blocks, with their argument names and defaults
SELECT has_function('segment', 'scale', ARRAY['double precision[]', 'segment.scaler']);
SELECT has_function('segment', 'unscale', ARRAY['double precision[]', 'segment.scaler']);
SELECT has_function('segment', 'one_hot', ARRAY['text', 'text[]']);
SELECT has_function('segment', 'kmeans_fit', ARRAY['text', 'integer', 'integer', 'integer', 'double precision', 'bigint']);
SELECT has_function('segment', 'kmeans', ARRAY['text', 'integer', 'integer', 'integer', 'double precision', 'bigint']);
SELECT has_function('segment', 'kmeans_assign', ARRAY['double precision[]', 'segment.kmeans_model']);
SELECT has_function('segment', 'kmeans_distance', ARRAY['double precision[]', 'segment.kmeans_model']);
SELECT has_function('segment', 'elbow', ARRAY['text', 'integer', 'integer', 'integer', 'bigint']);
SELECT has_function('segment', 'silhouette', ARRAY['text', 'integer', 'bigint']);
SELECT has_function('segment', 'silhouette_samples', ARRAY['text']);
SELECT has_function('segment', 'davies_bouldin', ARRAY['text']);
SELECT has_function('segment', 'calinski_harabasz', ARRAY['text']);
SELECT has_function('segment', 'pca_fit', ARRAY['text', 'integer']);
SELECT has_function('segment', 'pca_transform', ARRAY['double precision[]', 'segment.pca_model']);
SELECT is(pg_get_function_arguments('segment.kmeans_fit(text, integer, integer, integer, double precision, bigint)'::regprocedure),
	'source text, k integer, n_init integer DEFAULT 10, max_iter integer DEFAULT 300, tol double precision DEFAULT 0.0001, seed bigint DEFAULT 0',
	'kmeans_fit has the arguments and defaults of the contract');
SELECT is(pg_get_function_result('segment.kmeans(text, integer, integer, integer, double precision, bigint)'::regprocedure),
	'TABLE(id bigint, cluster integer, distance double precision)', 'kmeans returns id, cluster, distance');
SELECT is(pg_get_function_arguments('segment.elbow(text, integer, integer, integer, bigint)'::regprocedure),
	'source text, k_min integer DEFAULT 1, k_max integer DEFAULT 10, n_init integer DEFAULT 10, seed bigint DEFAULT 0',
	'elbow has the arguments and defaults of the contract');
SELECT is(pg_get_function_arguments('segment.evaluate(text, integer, integer, integer, bigint, integer, double precision[])'::regprocedure),
	'source text, k_min integer DEFAULT 2, k_max integer DEFAULT 10, n_init integer DEFAULT 10, seed bigint DEFAULT 0, silhouette_sample integer DEFAULT NULL::integer, start double precision[] DEFAULT NULL::double precision[]',
	'evaluate has its arguments and defaults');

-- labels: the per-vector functions are immutable and parallel safe; the ones
-- that run a source query are volatile and parallel unsafe
SELECT is_empty($$
	SELECT p.oid::regprocedure::text FROM pg_proc p
	WHERE p.pronamespace = 'segment'::regnamespace AND 'source' = ANY (p.proargnames)
		AND (p.provolatile <> 'v' OR p.proparallel <> 'u') $$,
	'functions that run a source are VOLATILE and PARALLEL UNSAFE');
SELECT volatility_is('segment', 'kmeans_assign', ARRAY['double precision[]', 'segment.kmeans_model'], 'immutable');
SELECT volatility_is('segment', 'pca_transform', ARRAY['double precision[]', 'segment.pca_model'], 'immutable');
SELECT isnt_strict('segment', 'one_hot', ARRAY['text', 'text[]']);
SELECT isnt_strict('segment', 'silhouette', ARRAY['text', 'integer', 'bigint']);

-- errors and their SQLSTATEs
SELECT throws_ok($$ SELECT segment.kmeans_fit('SELECT 1, ''{1}''::float8[]', 2) $$, '22023', NULL, 'k larger than the rows');
SELECT throws_ok($$ SELECT segment.kmeans_fit('SELECT 1, ''{1}''::int[]', 1) $$, '42804', NULL, 'a vector column that is not float8[]');
SELECT throws_ok($$ SELECT segment.kmeans_fit('SELECT 1, ''{NaN}''::float8[]', 1) $$, '22000', NULL, 'NaN in a vector');
SELECT throws_ok($$ SELECT segment.kmeans_fit('SELECT 1, NULL::float8[]', 1) $$, '22004', NULL, 'a NULL vector');
SELECT throws_ok($$ SELECT segment.kmeans_fit('SELECT 1, ''{{1}}''::float8[]', 1) $$, '2202E', NULL, 'a multi-dimensional vector');
SELECT throws_ok($$ SELECT segment.kmeans_fit('SELECT oops', 1) $$, '42703', NULL, 'a source that fails');
SELECT throws_ok($$ SELECT segment.silhouette('SELECT 1, ''{1}''::float8[], 1', 1) $$, '22023', NULL, 'a sample_size below 2');
SELECT throws_ok($$ SET LOCAL maintenance_work_mem = '1MB'; SELECT segment.kmeans_fit('SELECT i, ARRAY[i,i,i,i,i,i,i,i,i,i]::float8[] FROM generate_series(1, 20000) i', 2) $$,
	'54000', NULL, 'a source larger than maintenance_work_mem');

SELECT * FROM finish();
ROLLBACK;
