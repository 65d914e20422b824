-- pgTAP: updates keep users' work.  The chain from the first release reaches
-- the current version with exactly the objects of a fresh installation; a
-- segmentation made with 0.2 keeps its rows, owner, privileges and comments
-- through ALTER EXTENSION segment UPDATE, refreshes, and every customer keeps
-- its segment; an update that would take a user's object stops instead.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(34);

-- Every object of the extension with its definition: functions, tables,
-- types and their comments, policies, constraints, what pg_dump keeps
CREATE FUNCTION pg_temp.extension_objects()
	RETURNS TABLE (object text, definition text)
	LANGUAGE sql AS $$
	WITH member AS (
		SELECT d.classid, d.objid, d.objsubid FROM pg_depend d
		WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'segment') AND d.deptype = 'e'),
	relation_columns AS (
		SELECT a.attrelid, string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
			|| CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
			|| coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '')
			|| coalesce(' -- ' || col_description(a.attrelid, a.attnum), ''), ', ' ORDER BY a.attnum) AS columns
		FROM pg_attribute a LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
		WHERE a.attnum > 0 AND NOT a.attisdropped GROUP BY a.attrelid)
	SELECT pg_describe_object(m.classid, m.objid, m.objsubid),
		concat_ws(' | ',
			CASE WHEN m.classid = 'pg_proc'::regclass THEN
				(SELECT CASE WHEN p.prokind = 'a'
					THEN (SELECT concat_ws(', ', g.aggtransfn, g.aggfinalfn, g.aggcombinefn, g.aggserialfn,
							g.aggdeserialfn, g.aggtranstype::regtype, g.aggfinalmodify) FROM pg_aggregate g WHERE g.aggfnoid = p.oid)
					ELSE pg_get_functiondef(p.oid) END || ' acl ' || coalesce(p.proacl::text, 'default')
				 FROM pg_proc p WHERE p.oid = m.objid) END,
			CASE WHEN m.classid = 'pg_class'::regclass THEN
				(SELECT rc.columns || ' acl ' || coalesce(c.relacl::text, 'default') || ' rls ' || c.relrowsecurity
				 FROM pg_class c JOIN relation_columns rc ON rc.attrelid = c.oid WHERE c.oid = m.objid) END,
			CASE WHEN m.classid = 'pg_type'::regclass THEN
				(SELECT rc.columns FROM pg_type t JOIN relation_columns rc ON rc.attrelid = t.typrelid WHERE t.oid = m.objid) END,
			obj_description(m.objid, (SELECT relname FROM pg_class WHERE oid = m.classid)))
	FROM member m
	UNION ALL
	SELECT format('policy %s on %s', p.polname, p.polrelid::regclass),
		concat_ws(' | ', p.polcmd, p.polroles::regrole[]::text, pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))
	FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE c.relnamespace = to_regnamespace('segment')
	UNION ALL
	SELECT format('constraint %s on %s', k.conname, k.conrelid::regclass), pg_get_constraintdef(k.oid)
	FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid WHERE c.relnamespace = to_regnamespace('segment')
	UNION ALL
	SELECT 'kept by pg_dump', extconfig::regclass[]::text || ' ' || extcondition::text FROM pg_extension WHERE extname = 'segment'
	$$;

-- The rows (as text, sorted) and column comments of each result of the
-- segmentation "upgraded"
CREATE FUNCTION pg_temp.result_rows(old_columns boolean DEFAULT false)
	RETURNS TABLE (result_table text, relkind "char", rows text[], comments text[])
	LANGUAGE plpgsql AS $$
DECLARE
	relation record;
	columns text;
	value_columns name[] := ARRAY['repeat_purchase_days', 'repeat_span_days', 'age_days', 'spend_per_day', 'probability_alive',
		'expected_purchases', 'expected_value', 'probability_alive_mean', 'expected_revenue', 'value_horizon'];
BEGIN
	FOR relation IN SELECT c.oid, c.relname, c.relkind FROM pg_class c
		WHERE c.relnamespace = to_regnamespace('upgraded') AND c.relkind IN ('r', 'm')
			AND (NOT old_columns OR c.relname IN (SELECT b.result_table FROM rows_before b))
	LOOP
		result_table := relation.relname;
		relkind := relation.relkind;
		-- the columns the 0.2 view had (0.3 adds some), without 0.4's
		-- customer-value columns (filled by the update, checked below)
		columns := (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
					WHERE a.attrelid = relation.oid AND a.attnum > 0 AND NOT a.attisdropped
						AND a.attname <> ALL (value_columns)
						AND (NOT old_columns OR a.attname NOT IN ('label_source', 'assigned_at', 'r_score', 'f_score', 'm_score', 'rfm_score',
							'rfm_segment', 'revenue', 'revenue_share', 'r_score_mean', 'f_score_mean', 'm_score_mean', 'action', 'smallest_share')));
		EXECUTE format('SELECT array_agg(x::text ORDER BY x::text) FROM (SELECT %s FROM upgraded.%I) x', columns, relation.relname) INTO rows;
		comments := ARRAY(SELECT a.attname || ': ' || col_description(a.attrelid, a.attnum)
			FROM pg_attribute a WHERE a.attrelid = relation.oid AND a.attnum > 0 AND a.attname <> ALL (value_columns)
				AND (NOT old_columns OR a.attname NOT IN ('label_source', 'assigned_at', 'r_score', 'f_score', 'm_score', 'rfm_score',
							'rfm_segment', 'revenue', 'revenue_share', 'r_score_mean', 'f_score_mean', 'm_score_mean', 'action', 'smallest_share')) ORDER BY a.attnum);
		RETURN NEXT;
	END LOOP;
END
$$;

-- A small shop: 240 customers whose recency, frequency and spending differ
CREATE TABLE upgrade_invoices AS
SELECT 'inv' || c || '-' || i AS invoice_no, 'item' AS stock_code, 'an item' AS description,
	(1 + (c * 7 + i) % 5)::integer AS quantity,
	timestamp '2011-12-09 12:00' - make_interval(days => (c % 60) * 4 + i * (1 + c % 9)) AS invoice_date,
	(1.5 + (c % 13) * 3.25)::numeric AS unit_price, 10000 + c AS customer_id,
	CASE WHEN c % 7 = 0 THEN 'France' ELSE 'United Kingdom' END AS country
FROM generate_series(1, 240) AS c, generate_series(1, 1 + c % 11) AS i;

-- 0.1 -> 0.2 -> 0.3 has the objects of a fresh 0.3
CREATE EXTENSION segment VERSION '0.1';
SELECT lives_ok('ALTER EXTENSION segment UPDATE', 'ALTER EXTENSION segment UPDATE from 0.1 runs');
SELECT is((SELECT extversion FROM pg_extension WHERE extname = 'segment'),
	(SELECT default_version FROM pg_available_extensions WHERE name = 'segment'), 'the update reaches the default version');
CREATE TEMP TABLE updated_objects AS SELECT * FROM pg_temp.extension_objects();
DROP EXTENSION segment;
CREATE EXTENSION segment;
CREATE TEMP TABLE fresh_objects AS SELECT * FROM pg_temp.extension_objects();
SELECT ok((SELECT count(*) FROM fresh_objects WHERE definition <> '') > 80, 'the object list covers the extension, with definitions');
SELECT set_eq('SELECT * FROM updated_objects', 'SELECT * FROM fresh_objects',
	'the extension updated from 0.1 has exactly the objects and definitions of a fresh installation');
DROP EXTENSION segment;

-- A segmentation made with 0.2, with a reader, keeps everything through the update
CREATE EXTENSION segment VERSION '0.2';
CREATE ROLE regress_segment_upgrade_owner;
CREATE ROLE "Regress Upgrade Reader";
GRANT SELECT ON upgrade_invoices TO regress_segment_upgrade_owner;
GRANT CREATE ON SCHEMA public TO regress_segment_upgrade_owner;
DO $$ BEGIN
	EXECUTE format('GRANT CREATE ON DATABASE %I TO regress_segment_upgrade_owner', current_database());
END $$;
SET ROLE regress_segment_upgrade_owner;
SELECT segment.create_segmentation('upgraded', 'upgrade_invoices', k => 4);
GRANT USAGE ON SCHEMA upgraded TO "Regress Upgrade Reader";
GRANT SELECT ON ALL TABLES IN SCHEMA upgraded TO "Regress Upgrade Reader";
GRANT UPDATE (k) ON upgraded.model TO "Regress Upgrade Reader";
RESET ROLE;
CREATE TEMP TABLE rows_before (result_table text, relkind "char", rows text[], comments text[]);
INSERT INTO rows_before SELECT * FROM pg_temp.result_rows() WHERE relkind = 'm';
SELECT is((SELECT count(*) FROM rows_before), 8::bigint, 'version 0.2 made eight materialized views');

SELECT lives_ok('ALTER EXTENSION segment UPDATE', 'ALTER EXTENSION segment UPDATE from 0.2 runs with a segmentation');
SELECT is((SELECT extversion FROM pg_extension WHERE extname = 'segment'),
	(SELECT default_version FROM pg_available_extensions WHERE name = 'segment'), 'the update from 0.2 reaches the default version');
SELECT set_eq($$SELECT c.relname::text, c.relkind::text, c.relowner::regrole::text FROM pg_class c
		WHERE c.relnamespace = 'upgraded'::regnamespace AND c.relkind IN ('r', 'm', 'v')$$,
	$$SELECT result_table, 'r' AS relkind, 'regress_segment_upgrade_owner' AS owner FROM rows_before
	  UNION ALL VALUES ('transitions', 'r', 'regress_segment_upgrade_owner'), ('history', 'r', 'regress_segment_upgrade_owner')$$,
	'the eight views are now tables of the same names and owner, with the two tables 0.3 adds');
SELECT set_eq($$SELECT result_table, rows, comments FROM pg_temp.result_rows(true) WHERE relkind = 'r'$$,
	'SELECT result_table, rows, comments FROM rows_before', 'every table has the rows and column comments of its view');
SELECT ok(has_table_privilege('Regress Upgrade Reader', 'upgraded.profiles', 'SELECT')
		AND has_table_privilege('Regress Upgrade Reader', 'upgraded.assignments', 'SELECT')
		AND NOT has_table_privilege('Regress Upgrade Reader', 'upgraded.profiles', 'INSERT'),
	'the reader keeps SELECT, and only SELECT');
SELECT ok(has_column_privilege('Regress Upgrade Reader', 'upgraded.model', 'k', 'UPDATE')
		AND NOT has_column_privilege('Regress Upgrade Reader', 'upgraded.model', 'inertia', 'UPDATE'),
	'a column privilege is kept');
SELECT is_empty($$SELECT pg_describe_object(classid, objid, objsubid) FROM pg_depend
		WHERE refobjid = (SELECT oid FROM pg_extension WHERE extname = 'segment') AND deptype = 'e'
			AND classid = 'pg_class'::regclass AND objid IN (SELECT oid FROM pg_class WHERE relnamespace = 'upgraded'::regnamespace)$$,
	'the tables belong to the segmentation, not to the extension');
SELECT is((SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
		WHERE c.relnamespace = 'upgraded'::regnamespace AND i.indisunique), 10::bigint, 'every table has its unique key');
SELECT is((SELECT count(*) FROM upgraded.history WHERE valid_to IS NULL), 240::bigint, 'history starts at the update, one open row per customer');
SELECT ok((SELECT max(greatest(h.valid_from, h.valid_to)) FROM upgraded.history h)
		= (SELECT history_as_of AT TIME ZONE time_zone FROM segment.segmentations WHERE name = 'upgraded'),
	'history a 0.2 segmentation starts at the update runs to its as_of, not past it');

CREATE TEMP TABLE assignments_before AS SELECT customer_id, cluster FROM upgraded.assignments;
CREATE TEMP TABLE scores_after_update AS SELECT customer_id, r_score, f_score, m_score, rfm_score, rfm_segment FROM upgraded.features;
CREATE TEMP TABLE marketing_after_update AS
	SELECT cluster, revenue, revenue_share, r_score_mean, f_score_mean, m_score_mean, rfm_segment, action FROM upgraded.profiles;
SET ROLE regress_segment_upgrade_owner;
SELECT lives_ok($$SELECT segment.refresh_segmentation('upgraded')$$, 'the owner refreshes the updated segmentation');
RESET ROLE;
SELECT is((SELECT count(*) FROM assignments_before b FULL JOIN upgraded.assignments a USING (customer_id)
		WHERE a.cluster IS DISTINCT FROM b.cluster), 0::bigint, 'on the unchanged source every customer keeps its segment');
SELECT ok((SELECT count(*) FROM upgraded.assignments WHERE cluster IS NOT NULL) = 240, 'every customer is assigned');
SELECT set_eq('SELECT customer_id, r_score, f_score, m_score, rfm_score, rfm_segment FROM upgraded.features',
	'SELECT * FROM scores_after_update WHERE r_score IS NOT NULL', 'the update gave every customer the RFM scores a refresh gives');
SELECT set_eq('SELECT cluster, revenue, revenue_share, r_score_mean, f_score_mean, m_score_mean, rfm_segment, action FROM upgraded.profiles',
	'SELECT * FROM marketing_after_update WHERE action IS NOT NULL', 'the update gave every segment the revenue and action a refresh gives');
SET ROLE "Regress Upgrade Reader";
SELECT ok((SELECT count(*) FROM upgraded.profiles) = 4, 'the reader reads the refreshed profiles');
RESET ROLE;
SELECT set_eq('SELECT * FROM pg_temp.extension_objects()', 'SELECT * FROM fresh_objects',
	'the extension updated from 0.2 has exactly the objects and definitions of a fresh installation');
SET ROLE regress_segment_upgrade_owner;
SELECT segment.drop_segmentation('upgraded');
RESET ROLE;
DROP EXTENSION segment;

-- A segmentation made with 0.3 keeps its rows through the update, and its
-- owner refreshes it as before
CREATE EXTENSION segment VERSION '0.3';
SET ROLE regress_segment_upgrade_owner;
SELECT segment.create_segmentation('upgraded', 'upgrade_invoices', k => 4);
RESET ROLE;
CREATE TEMP TABLE rows_0_3 AS SELECT * FROM pg_temp.result_rows();
CREATE TEMP TABLE assignments_0_3 AS SELECT customer_id, cluster FROM upgraded.assignments;
-- 0.3 recorded history in the refreshes' wall-clock time
CREATE TEMP TABLE history_0_3 AS
SELECT h.customer_id, h.cluster, h.label, h.valid_from, h.valid_to, s.used_as_of
FROM upgraded.history h, segment.segmentations s WHERE s.name = 'upgraded';
SELECT lives_ok('ALTER EXTENSION segment UPDATE', 'ALTER EXTENSION segment UPDATE from 0.3 runs with a segmentation');
SELECT set_eq('SELECT result_table, relkind, rows FROM pg_temp.result_rows() WHERE result_table <> ''history''',
	'SELECT result_table, relkind, rows FROM rows_0_3 WHERE result_table <> ''history''',
	'every table of the 0.3 segmentation but history keeps its rows (comments are 0.4''s)');
SELECT set_eq('SELECT customer_id, cluster, label, recorded_at, valid_to IS NULL FROM upgraded.history',
	'SELECT customer_id, cluster, label, valid_from, valid_to IS NULL FROM history_0_3',
	'history keeps its rows, with their wall-clock time in recorded_at');
SELECT ok((SELECT history_as_of FROM segment.segmentations WHERE name = 'upgraded') = (SELECT min(used_as_of) FROM history_0_3)
		AND (SELECT max(greatest(valid_from, valid_to)) FROM upgraded.history) = (SELECT min(used_as_of) FROM history_0_3)::timestamptz
		AND NOT EXISTS (SELECT FROM upgraded.history WHERE valid_to <= valid_from),
	'history moves to the data''s time: it runs to the last refresh''s as_of, and no row ends before it starts');
SELECT throws_ok('DROP EXTENSION segment', '2BP01', NULL, 'the updated segmentation''s tables keep DROP EXTENSION from discarding it');
-- 0.4's customer-value columns, filled by the update from the features as
-- they stand
SELECT ok((SELECT bgnbd IS NOT NULL AND gamma_gamma IS NOT NULL FROM segment.segmentations WHERE name = 'upgraded')
		AND (SELECT count(*) FILTER (WHERE invoices > 0) = count(probability_alive)
			AND count(*) FILTER (WHERE invoices > 0) = count(expected_purchases)
			AND count(*) FILTER (WHERE total_amount > 0) = count(expected_value) FROM upgraded.features)
		AND (SELECT count(*) = count(expected_revenue) FROM upgraded.profiles),
	'the update fits the customer-value models and fills the new columns of features and profiles');
CREATE TEMP TABLE value_after_update AS SELECT customer_id, probability_alive, expected_purchases, expected_value FROM upgraded.features;
SET ROLE regress_segment_upgrade_owner;
SELECT segment.refresh_segmentation('upgraded');
RESET ROLE;
SELECT is((SELECT count(*) FROM assignments_0_3 b FULL JOIN upgraded.assignments a USING (customer_id)
		WHERE a.cluster IS DISTINCT FROM b.cluster), 0::bigint, 'after the owner''s refresh every customer keeps its segment');
SELECT is((SELECT count(*) FROM value_after_update u FULL JOIN upgraded.features f USING (customer_id)
		WHERE (f.probability_alive IS NULL) <> (u.probability_alive IS NULL) OR (f.expected_value IS NULL) <> (u.expected_value IS NULL)
			OR abs(f.probability_alive - u.probability_alive) > 1e-12 OR abs(f.expected_purchases - u.expected_purchases) > 1e-9 * f.expected_purchases
			OR abs(f.expected_value - u.expected_value) > 1e-9 * abs(f.expected_value)), 0::bigint,
	'the values the update gave are those the owner''s refit gives on the same lines');
SET ROLE regress_segment_upgrade_owner;
SELECT segment.drop_segmentation('upgraded');
RESET ROLE;
DROP EXTENSION segment;

-- A user's view on a 0.2 view: the update stops, says what to do, changes nothing
CREATE EXTENSION segment VERSION '0.2';
SELECT segment.create_segmentation('blocked', 'upgrade_invoices', k => 3);
CREATE VIEW public.blocked_dashboard AS SELECT cluster, customers FROM blocked.profiles;
SELECT throws_ok('ALTER EXTENSION segment UPDATE', '2BP01',
	'cannot update segmentation "blocked": other objects depend on its materialized views',
	'an update that would drop a user''s view stops');
SELECT ok((SELECT extversion FROM pg_extension WHERE extname = 'segment') = '0.2'
		AND (SELECT count(*) FROM pg_class WHERE relnamespace = 'blocked'::regnamespace AND relkind = 'm') = 8
		AND (SELECT count(*) FROM public.blocked_dashboard) = 3,
	'after the stopped update, version, views and the user''s view are as they were');
DROP VIEW public.blocked_dashboard;
CREATE INDEX blocked_recency ON blocked.features (recency_days);
SELECT throws_like('ALTER EXTENSION segment UPDATE', '%other objects depend on its materialized views%',
	'an update that would drop a user''s index on a 0.2 view stops');
SELECT ok((SELECT extversion FROM pg_extension WHERE extname = 'segment') = '0.2'
		AND to_regclass('blocked.blocked_recency') IS NOT NULL, 'after the stopped update, the index is there');

SELECT * FROM finish();
ROLLBACK;
