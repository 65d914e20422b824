-- pgTAP: the catalog shape of segment.customer_features and its errors
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS segment;
SELECT plan(32);

SELECT has_schema('segment');
SELECT has_composite('segment', 'features', 'segment.features is a composite type');
SELECT columns_are('segment', 'features', ARRAY[
	'invoices', 'returns', 'lines', 'ignored_lines', 'items', 'total_amount',
	'purchase_amount', 'returned_amount', 'avg_invoice_amount', 'first_purchase',
	'last_purchase', 'tenure_days', 'mean_days_between', 'active_hours', 'active_days',
	'active_months', 'active_years', 'invoices_per_hour', 'invoices_per_day',
	'invoices_per_month', 'invoices_per_year']);

-- the four overloads of customer_features are aggregates
SELECT is_aggregate('segment', 'customer_features', ARRAY['text', 'timestamp without time zone', 'double precision', 'double precision']);
SELECT is_aggregate('segment', 'customer_features', ARRAY['text', 'timestamp with time zone', 'double precision', 'double precision']);
SELECT is_aggregate('segment', 'customer_features', ARRAY['bigint', 'timestamp without time zone', 'double precision', 'double precision']);
SELECT is_aggregate('segment', 'customer_features', ARRAY['bigint', 'timestamp with time zone', 'double precision', 'double precision']);
SELECT function_returns('segment', 'customer_features', ARRAY['text', 'timestamp without time zone', 'double precision', 'double precision'], 'segment.features');

-- each has combine, serialize and deserialize functions and is parallel safe
SELECT is(count(*), 4::bigint, 'every customer_features aggregate has combine, serialize and deserialize functions')
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
WHERE p.pronamespace = 'segment'::regnamespace AND p.proname = 'customer_features'
	AND a.aggcombinefn <> 0 AND a.aggserialfn <> 0 AND a.aggdeserialfn <> 0 AND a.aggtranstype = 'internal'::regtype;
SELECT is_empty($$
	SELECT p.oid::regprocedure::text FROM pg_proc p
	JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
	WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'segment')
		AND ((p.provolatile = 'i' AND p.proparallel <> 's') OR (p.provolatile = 's' AND p.proparallel = 'u')) $$,
	'IMMUTABLE functions are PARALLEL SAFE, STABLE ones at least PARALLEL RESTRICTED');
SELECT is_empty($$
	SELECT p.oid::regprocedure::text FROM pg_proc p
	JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
	WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'segment')
		AND obj_description(p.oid, 'pg_proc') IS NULL $$,
	'every function and aggregate of the extension has a comment');
SELECT is_empty($$
	SELECT a.attname::text FROM pg_attribute a
	WHERE a.attrelid = 'segment.features'::regclass AND a.attnum > 0
		AND col_description(a.attrelid, a.attnum) IS NULL $$,
	'every column of segment.features has a comment');
SELECT isnt(obj_description('segment.features'::regtype, 'pg_type'), NULL, 'segment.features has a comment');
SELECT is_empty($$
	SELECT p.proname::text FROM pg_proc p
	WHERE p.pronamespace = 'segment'::regnamespace AND p.prokind = 'a'
		AND p.proname IN (SELECT proname FROM pg_proc WHERE pronamespace = 'pg_catalog'::regnamespace AND prokind = 'a') $$,
	'no aggregate shares a name with a built-in one');
SELECT is_empty($$
	SELECT p.oid::regprocedure::text FROM pg_proc p
	WHERE p.pronamespace = 'segment'::regnamespace AND p.prosecdef
		AND p.oid <> 'segment.forget_orphaned_segmentation(text)'::regprocedure $$,
	'no function is SECURITY DEFINER but forget_orphaned_segmentation (a record whose schema and role are gone)');

-- volatility: timestamptz transitions read the session time zone
SELECT volatility_is('segment', 'customer_features_accum', ARRAY['internal', 'text', 'timestamp without time zone', 'double precision', 'double precision'], 'immutable');
SELECT volatility_is('segment', 'customer_features_accum', ARRAY['internal', 'text', 'timestamp with time zone', 'double precision', 'double precision'], 'stable');
SELECT volatility_is('segment', 'customer_features_accum', ARRAY['internal', 'bigint', 'timestamp without time zone', 'double precision', 'double precision'], 'immutable');
SELECT volatility_is('segment', 'customer_features_accum', ARRAY['internal', 'bigint', 'timestamp with time zone', 'double precision', 'double precision'], 'stable');
-- transition functions see NULLs (to count them); serialization is strict
SELECT isnt_strict('segment', 'customer_features_accum', ARRAY['internal', 'text', 'timestamp without time zone', 'double precision', 'double precision']);
SELECT isnt_strict('segment', 'customer_features_combine', ARRAY['internal', 'internal']);
SELECT is_strict('segment', 'customer_features_serialize', ARRAY['internal']);
SELECT is_strict('segment', 'customer_features_deserialize', ARRAY['bytea', 'internal']);

-- errors and their SQLSTATEs
SELECT throws_ok($$ SELECT segment.customer_features('1', '2011-01-01'::timestamp, 1e300, 1e300) $$,
	'22003', NULL, 'an amount that overflows float8 is out of range');
SELECT throws_ok($$ SELECT segment.customer_features(i::text, '2011-01-01'::timestamp, 4e18, 1) FROM generate_series(1, 2) AS i $$,
	'22003', NULL, 'a sum beyond 2^62 is out of range');
SELECT throws_ok($$ SELECT segment.customer_features(1.5, now(), 1, 1) $$,
	'42883', NULL, 'no overload takes a numeric invoice number');
SELECT throws_ok($$ SELECT segment.customer_features_combine(NULL, NULL) $$,
	'42883', NULL, 'support functions taking internal cannot be called from SQL');

-- the NULL policy in one line each
SELECT is((segment.customer_features(NULL::text, '2011-01-01'::timestamp, 1, 1)).ignored_lines, 1::bigint, 'a NULL invoice is ignored');
SELECT is((segment.customer_features('1', '2011-01-01'::timestamp, 'NaN', 1)).ignored_lines, 1::bigint, 'a NaN quantity is ignored');
SELECT is((segment.customer_features('1', 'infinity'::timestamp, 1, 1)).ignored_lines, 1::bigint, 'an infinite time is ignored');
SELECT is((segment.customer_features('1', '2011-01-01'::timestamp, 1, '-Infinity')).lines, 0::bigint, 'an infinite price is not used');

-- dropping the extension drops its schema
DROP EXTENSION segment;
SELECT hasnt_schema('segment', 'DROP EXTENSION removes schema segment');

SELECT * FROM finish();
ROLLBACK;
