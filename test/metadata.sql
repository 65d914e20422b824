-- pgTAP: where clients look.  Every table of a segmentation is listed, with
-- every column, by information_schema (Npgsql's GetSchema, Grafana), and
-- every table and column has a description (pg_description, which ODBC,
-- JDBC and psql's \d+ read)
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS segment;
SELECT plan(9);

CREATE TABLE metadata_invoices AS
SELECT 'inv' || c || '-' || i AS invoice_no, (1 + (c * 7 + i) % 5)::integer AS quantity,
	timestamp '2011-12-09 12:00' - make_interval(days => (c % 60) * 4 + i * (1 + c % 9)) AS invoice_date,
	(1.5 + (c % 13) * 3.25)::numeric AS unit_price, 10000 + c AS customer_id,
	CASE WHEN c % 7 = 0 THEN 'France' ELSE 'United Kingdom' END AS country
FROM generate_series(1, 120) AS c, generate_series(1, 1 + c % 11) AS i;
SELECT segment.create_segmentation('metadata_shop', 'metadata_invoices', k => 3);

SELECT set_eq($$SELECT table_name::text FROM information_schema.tables
		WHERE table_schema = 'metadata_shop' AND table_type = 'BASE TABLE'$$,
	$$SELECT result_table FROM segment.segmentation_tables()$$,
	'information_schema.tables lists every table of the segmentation');
SELECT set_eq($$SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = 'metadata_shop'$$,
	$$SELECT c.relname::text, a.attname::text FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
	  WHERE c.relnamespace = 'metadata_shop'::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped$$,
	'information_schema.columns lists every column');
SELECT ok((SELECT count(*) FROM information_schema.columns WHERE table_schema = 'metadata_shop') > 80,
	'the ten tables have their columns');
SELECT is_empty($$SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'metadata_shop'::regnamespace AND c.relkind = 'r'
		AND obj_description(c.oid, 'pg_class') IS NULL$$,
	'every table has a description');
SELECT is_empty($$SELECT c.relname || '.' || a.attname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
		WHERE c.relnamespace = 'metadata_shop'::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
			AND col_description(c.oid, a.attnum) IS NULL$$,
	'every column has a description');

-- and the extension's own schema: every table, view and type, each of their
-- columns and fields, and every function and aggregate is described
SELECT is_empty($$SELECT c.relname || '.' || a.attname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
		WHERE c.relnamespace = 'segment'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c')
			AND a.attnum > 0 AND NOT a.attisdropped AND col_description(c.oid, a.attnum) IS NULL$$,
	'every column of every table, view and composite type of schema segment has a description');
SELECT is_empty($$SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'segment'::regnamespace
		AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND obj_description(c.oid, 'pg_class') IS NULL$$,
	'every table and view of schema segment has a description');
SELECT is_empty($$SELECT t.typname FROM pg_type t LEFT JOIN pg_class c ON c.oid = t.typrelid
		WHERE t.typnamespace = 'segment'::regnamespace AND t.typtype IN ('c', 'd', 'e', 'b')
			AND t.typcategory <> 'A' AND (c.oid IS NULL OR c.relkind = 'c') AND obj_description(t.oid, 'pg_type') IS NULL$$,
	'every type of schema segment has a description');
SELECT is_empty($$SELECT p.oid::regprocedure::text FROM pg_proc p
		WHERE p.pronamespace = 'segment'::regnamespace AND obj_description(p.oid, 'pg_proc') IS NULL$$,
	'every function and aggregate of schema segment has a description');

SELECT * FROM finish();
ROLLBACK;
