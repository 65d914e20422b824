-- pgTAP: the catalog shape of the segmentation pipeline (README: "Segmentation pipeline")
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS segment;
SELECT plan(21);

SELECT has_function('segment', 'create_segmentation',
	ARRAY['text', 'regclass', 'integer', 'name', 'name', 'name', 'name', 'name', 'name', 'timestamp without time zone', 'bigint', 'text', 'interval']);
SELECT is(pg_get_function_arguments('segment.create_segmentation(text, regclass, integer, name, name, name, name, name, name, timestamp, bigint, text, interval)'::regprocedure),
	'name text, source regclass, k integer DEFAULT NULL::integer, customer_column name DEFAULT ''customer_id''::name, invoice_column name DEFAULT ''invoice_no''::name, time_column name DEFAULT ''invoice_date''::name, quantity_column name DEFAULT ''quantity''::name, price_column name DEFAULT ''unit_price''::name, country_column name DEFAULT ''country''::name, as_of timestamp without time zone DEFAULT NULL::timestamp without time zone, seed bigint DEFAULT 0, recipe text DEFAULT ''rfm''::text, value_horizon interval DEFAULT ''1 year''::interval',
	'create_segmentation has the arguments and defaults of the contract');
SELECT function_returns('segment', 'create_segmentation',
	ARRAY['text', 'regclass', 'integer', 'name', 'name', 'name', 'name', 'name', 'name', 'timestamp without time zone', 'bigint', 'text', 'interval'], 'void');
SELECT has_function('segment', 'refresh_segmentation', ARRAY['text', 'boolean']);
SELECT is(pg_get_function_arguments('segment.refresh_segmentation(text, boolean)'::regprocedure),
	'name text, refit boolean DEFAULT true', 'refresh_segmentation has the arguments and defaults of the contract');
SELECT function_returns('segment', 'refresh_segmentation', ARRAY['text', 'boolean'], 'void');
SELECT is(pg_get_function_arguments('segment.set_label(text, integer, text)'::regprocedure),
	'name text, cluster integer, label text', 'set_label has the arguments of the contract');
SELECT function_returns('segment', 'set_label', ARRAY['text', 'integer', 'text'], 'void');
SELECT is(pg_get_function_arguments('segment.trim_history(text, interval)'::regprocedure),
	'name text, older_than interval', 'trim_history has the arguments of the contract');
SELECT function_returns('segment', 'trim_history', ARRAY['text', 'interval'], 'bigint');
SELECT is(pg_get_function_arguments('segment.alter_segmentation(text, integer, name, name, name, name, name, name, timestamp, bigint, text, interval)'::regprocedure),
	'name text, k integer DEFAULT NULL::integer, customer_column name DEFAULT NULL::name, invoice_column name DEFAULT NULL::name, time_column name DEFAULT NULL::name, quantity_column name DEFAULT NULL::name, price_column name DEFAULT NULL::name, country_column name DEFAULT NULL::name, as_of timestamp without time zone DEFAULT NULL::timestamp without time zone, seed bigint DEFAULT NULL::bigint, recipe text DEFAULT NULL::text, value_horizon interval DEFAULT NULL::interval',
	'alter_segmentation has the arguments and defaults of the contract');
SELECT has_function('segment', 'drop_segmentation', ARRAY['text', 'boolean']);
SELECT is(pg_get_function_arguments('segment.drop_segmentation(text, boolean)'::regprocedure),
	'name text, cascade boolean DEFAULT false', 'drop_segmentation has the arguments and defaults of the contract');
SELECT function_returns('segment', 'drop_segmentation', ARRAY['text', 'boolean'], 'void');

-- security: nothing runs with its owner's rights, every SQL function pins search_path
SELECT is_empty($$
	SELECT p.oid::regprocedure::text FROM pg_proc p
	WHERE p.pronamespace = 'segment'::regnamespace AND p.prosecdef
		AND p.oid <> 'segment.forget_orphaned_segmentation(text)'::regprocedure $$,
	'no function is SECURITY DEFINER but forget_orphaned_segmentation (a record whose schema and role are gone)');
SELECT is_empty($$
	SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
	WHERE p.pronamespace = 'segment'::regnamespace AND l.lanname IN ('sql', 'plpgsql')
		AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)
		AND p.oid NOT IN ('segment.rfm_vector'::regproc, 'segment.rfm_quintile'::regproc) $$,
	'every SQL and PL/pgSQL function pins search_path (rfm_vector and rfm_quintile are inlined and qualify everything)');
SELECT ok((SELECT relrowsecurity FROM pg_class WHERE oid = 'segment.segmentations'::regclass),
	'the registry has row-level security');
SELECT ok((SELECT relrowsecurity FROM pg_class WHERE oid = 'segment.segmentation_scores'::regclass),
	'the scores have row-level security');

-- errors and their SQLSTATEs
SELECT throws_ok($$ SELECT segment.create_segmentation('bad name', 'pg_class') $$, '42602', NULL, 'a name that is not an identifier');
SELECT throws_ok($$ SELECT segment.create_segmentation('ok_name', 'pg_class') $$, '42703', NULL, 'a source without the mapped columns');
SELECT throws_ok($$ SELECT segment.refresh_segmentation('no_such') $$, '42704', NULL, 'an unknown segmentation');

SELECT * FROM finish();
ROLLBACK;
