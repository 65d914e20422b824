-- The pipeline on data shaped like real shops': prices in another unit,
-- stray lines, a cut-off date, sources that change, degenerate customers,
-- readers who draw, names and privileges

-- Prices in pence, in dong (x 30,000) and in thousands: every customer keeps
-- its segment, and the segments keep their labels
CREATE VIEW invoices_pence AS
	SELECT invoice_no, stock_code, description, quantity, invoice_date, unit_price * 100 AS unit_price, customer_id, country FROM invoices;
CREATE VIEW invoices_dong AS
	SELECT invoice_no, stock_code, description, quantity, invoice_date, unit_price * 30000 AS unit_price, customer_id, country FROM invoices;
CREATE VIEW invoices_thousands AS
	SELECT invoice_no, stock_code, description, quantity, invoice_date, unit_price / 1000 AS unit_price, customer_id, country FROM invoices;
SELECT segment.create_segmentation('pence', 'invoices_pence');
SELECT segment.create_segmentation('dong', 'invoices_dong');
SELECT segment.create_segmentation('thousands', 'invoices_thousands');
SELECT (SELECT k FROM retail.model) AS k_pounds, (SELECT k FROM pence.model) AS k_pence,
	(SELECT k FROM dong.model) AS k_dong, (SELECT k FROM thousands.model) AS k_thousands;
SELECT count(*) AS customers,
	count(*) FILTER (WHERE p.cluster IS DISTINCT FROM r.cluster) AS moved_in_pence,
	count(*) FILTER (WHERE d.cluster IS DISTINCT FROM r.cluster) AS moved_in_dong,
	count(*) FILTER (WHERE t.cluster IS DISTINCT FROM r.cluster) AS moved_in_thousands
FROM retail.assignments r JOIN pence.assignments p USING (customer_id)
	JOIN dong.assignments d USING (customer_id) JOIN thousands.assignments t USING (customer_id);
SELECT count(*) FILTER (WHERE p.label IS DISTINCT FROM r.label OR d.label IS DISTINCT FROM r.label
		OR t.label IS DISTINCT FROM r.label) AS labels_changed
FROM retail.profiles r JOIN pence.profiles p USING (cluster) JOIN dong.profiles d USING (cluster)
	JOIN thousands.profiles t USING (cluster);
SELECT segment.drop_segmentation('pence');
SELECT segment.drop_segmentation('dong');
SELECT segment.drop_segmentation('thousands');
DROP VIEW invoices_pence, invoices_dong, invoices_thousands;

-- as_of: a typo line without a customer far in the future, a line at
-- 'infinity' and a future line whose numeric price is NaN, change nothing;
-- recency is relative to the latest line used
CREATE TABLE invoices_typos AS SELECT * FROM invoices;
INSERT INTO invoices_typos VALUES ('999999', 'X', 'typo', 1, '2101-12-09', 1, NULL, 'United Kingdom'),
	('999998', 'X', 'no end', 1, 'infinity', 1, 12347, 'Iceland'),
	('999997', 'X', 'no price', 1, '2101-12-10', 'NaN', 12347, 'Iceland');
SELECT segment.create_segmentation('typos', 'invoices_typos');
SELECT (SELECT as_of FROM typos.model) = (SELECT max(invoice_date) FROM invoices WHERE customer_id IS NOT NULL) AS as_of_of_the_lines_used,
	(SELECT count(*) FROM typos.assignments t JOIN retail.assignments r USING (customer_id)
	 WHERE t.cluster IS DISTINCT FROM r.cluster) AS moved,
	(SELECT ignored_lines FROM typos.features WHERE customer_id = 12347) AS non_finite_lines_ignored;
SELECT segment.refresh_segmentation('typos');
SELECT segment.drop_segmentation('typos');
DROP TABLE invoices_typos;

-- the finite-number check of a quantity or price column takes, for every
-- accepted type, the rows whose float8 value is finite (as the features
-- aggregate reads them)
CREATE TABLE finite_cases (n numeric, d double precision, r real, i integer, b bigint);
INSERT INTO finite_cases VALUES (1.5, 1.5, 1.5, 1, 1), ('NaN', 'NaN', 'NaN', NULL, -4),
	(-2e300, 'Infinity', '-Infinity', -3, NULL), (NULL, -1e300, 3e38, 0, 0);
CREATE FUNCTION pg_temp.finite_rows(check_sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	found text;
BEGIN
	EXECUTE format('SELECT string_agg(ctid::text, %L ORDER BY ctid) FROM finite_cases WHERE %s', ',', check_sql) INTO found;
	RETURN found;
END
$$;
SELECT column_name, pg_temp.finite_rows(segment.segmentation_finite_sql('finite_cases', column_name))
	= pg_temp.finite_rows(format('%I::float8 BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308', column_name))
	AS same_rows_as_float8
FROM unnest(ARRAY['n', 'd', 'r', 'i', 'b']::name[]) AS column_name;
DROP TABLE finite_cases;

-- an explicit as_of is a cut-off: later lines are not used, no recency is
-- negative, and the features are those of the lines up to it
SELECT segment.create_segmentation('mid_year', 'invoices', as_of => '2011-06-30');
CREATE VIEW invoices_to_mid_year AS SELECT * FROM invoices WHERE invoice_date <= '2011-06-30';
SELECT count(*) AS customers, min(recency_days) >= 0 AS no_negative_recency,
	max(last_purchase) <= '2011-06-30' AS no_later_line,
	(SELECT as_of FROM mid_year.model) AS as_of
FROM mid_year.features;
SELECT count(*) AS differing_features
FROM mid_year.features m FULL JOIN (
	SELECT customer_id, (segment.customer_features(invoice_no, invoice_date, quantity, unit_price)).*
	FROM invoices_to_mid_year WHERE customer_id IS NOT NULL GROUP BY customer_id) AS r USING (customer_id)
WHERE (m.invoices, m.lines, m.total_amount, m.last_purchase) IS DISTINCT FROM (r.invoices, r.lines, r.total_amount, r.last_purchase);
SELECT segment.drop_segmentation('mid_year');
DROP VIEW invoices_to_mid_year;

-- Sources that change: a renamed column makes the refresh say which
-- segmentation and mapping, and change nothing; alter_segmentation remaps
CREATE TABLE shop AS SELECT * FROM invoices WHERE customer_id < 12700;
SELECT segment.create_segmentation('shop', 'shop', k => 3);
CREATE TEMP TABLE shop_before AS SELECT * FROM shop.assignments;
ALTER TABLE shop RENAME COLUMN invoice_date TO invoiced_at;
SELECT error_of($$ SELECT segment.refresh_segmentation('shop') $$);
SELECT count(*) FILTER (WHERE a IS DISTINCT FROM b) AS changed FROM shop.assignments a FULL JOIN shop_before b USING (customer_id);
SELECT error_of($$ SELECT segment.alter_segmentation('shop', time_column => 'no_such') $$);
SELECT error_of($$ SELECT segment.alter_segmentation('shop', time_column => 'country') $$);
SELECT error_of($$ SELECT segment.alter_segmentation('shop', k => 1) $$);
SELECT error_of($$ SELECT segment.alter_segmentation('no_such', k => 3) $$);
SELECT segment.alter_segmentation('shop', time_column => 'invoiced_at');
SELECT segment.refresh_segmentation('shop');
SELECT count(*) FILTER (WHERE a.cluster IS DISTINCT FROM b.cluster) AS moved FROM shop.assignments a FULL JOIN shop_before b USING (customer_id);
-- a dropped source: the refresh fails, the results stay; the table loaded
-- again under its name is found again
DROP TABLE shop;
SELECT error_of($$ SELECT segment.refresh_segmentation('shop') $$);
SELECT count(*) AS assignments_kept FROM shop.assignments;
CREATE TABLE shop AS SELECT invoice_no, invoice_date AS invoiced_at, quantity, unit_price, customer_id, country
FROM invoices WHERE customer_id < 12700;
SELECT segment.refresh_segmentation('shop');
SELECT count(*) FILTER (WHERE a.cluster IS DISTINCT FROM b.cluster) AS moved,
	(SELECT source_name FROM segment.segmentations WHERE name = 'shop') AS source
FROM shop.assignments a FULL JOIN shop_before b USING (customer_id);
-- a reload under way (TRUNCATE, then COPY): both kinds of refresh of the
-- empty source refuse and change nothing; after the load nobody has a
-- second history row
CREATE TABLE shop_history_before AS SELECT * FROM shop.history;
CREATE TABLE shop_model_before AS SELECT * FROM shop.model;
CREATE TABLE shop_reload AS SELECT * FROM shop;
TRUNCATE shop;
SELECT error_of($$ SELECT segment.refresh_segmentation('shop', refit => false) $$);
SELECT error_of($$ SELECT segment.refresh_segmentation('shop') $$);
INSERT INTO shop SELECT * FROM shop_reload;
SELECT (SELECT count(*) FROM shop.history h FULL JOIN shop_history_before b USING (customer_id, valid_from)
		WHERE h IS DISTINCT FROM b) AS history_changed,
	(SELECT m = b FROM shop.model m, shop_model_before b) AS model_unchanged,
	(SELECT count(*) FROM shop.assignments WHERE cluster IS NOT NULL) > 0 AS still_assigned;
SELECT segment.refresh_segmentation('shop', refit => false);
SELECT (SELECT count(*) FROM shop.history) - (SELECT count(*) FROM shop_history_before) AS history_rows_added,
	(SELECT count(*) FROM shop.history WHERE valid_to IS NOT NULL) - (SELECT count(*) FROM shop_history_before WHERE valid_to IS NOT NULL)
		AS history_rows_closed;
DROP TABLE shop_history_before, shop_model_before, shop_reload;
-- a temporary table, or a view over one, cannot be a source: the refreshes
-- run in other sessions
CREATE TEMP TABLE shop_this_session AS SELECT * FROM shop LIMIT 10;
CREATE VIEW shop_this_session_view AS SELECT * FROM shop_this_session;
SELECT error_of($$ SELECT segment.create_segmentation('temporary', 'shop_this_session', invoice_column => 'invoice_no', time_column => 'invoiced_at') $$);
SELECT error_of($$ SELECT segment.create_segmentation('temporary', 'shop_this_session_view', invoice_column => 'invoice_no', time_column => 'invoiced_at') $$);
DROP VIEW shop_this_session_view;
DROP TABLE shop_this_session;
-- a k, as_of and seed changed by alter_segmentation are used by the next refresh
SELECT segment.alter_segmentation('shop', k => 4, seed => 7, as_of => '2011-12-31');
SELECT segment.refresh_segmentation('shop');
SELECT k, seed, as_of FROM shop.model;
SELECT error_of($$ SELECT segment.alter_segmentation('no_country', country_column => 'country') $$);
SELECT segment.drop_segmentation('shop');
DROP TABLE shop;
-- mappings of the wrong type say what is accepted
SELECT error_of($$ SELECT segment.create_segmentation('x', 'invoices', time_column => 'country') $$);
SELECT error_of($$ SELECT segment.create_segmentation('x', 'invoices', price_column => 'description') $$);
SELECT error_of($$ SELECT segment.create_segmentation('x', 'invoices', quantity_column => 'invoice_date') $$);
SELECT error_of($$ SELECT segment.create_segmentation('x', 'invoices', invoice_column => 'unit_price') $$);

-- Degenerate customers: no k above the number of distinct customers; one
-- distinct customer is a clear error
CREATE TABLE twin_customers (invoice_no text, invoice_date timestamp, quantity integer, unit_price numeric, customer_id integer, country text);
INSERT INTO twin_customers SELECT 'i' || c, CASE WHEN c % 2 = 0 THEN timestamp '2011-12-01' ELSE '2011-01-01' END,
	1, CASE WHEN c % 2 = 0 THEN 100 ELSE 5 END, c, 'France'
FROM generate_series(1, 50) AS c;
SELECT segment.create_segmentation('twins', 'twin_customers');
SELECT k, (SELECT count(*) FROM twins.profiles) AS profiles, (SELECT count(*) FROM twins.elbow) AS candidates FROM twins.model;
SELECT error_of($$ SELECT segment.create_segmentation('twins3', 'twin_customers', k => 3) $$);
SELECT segment.drop_segmentation('twins');
UPDATE twin_customers SET invoice_date = '2011-12-01', unit_price = 100;
SELECT error_of($$ SELECT segment.create_segmentation('twins', 'twin_customers') $$);
DROP TABLE twin_customers;

-- Across a change to daylight saving time (Europe/London, 27 March 2011),
-- recency counts the days on the wall: 8, not the 8.0417 that elapsed
SET TimeZone = 'Europe/London';
CREATE TABLE dst_lines (invoice_no text, invoice_date timestamptz, quantity integer, unit_price numeric, customer_id integer);
INSERT INTO dst_lines VALUES ('a', '2011-03-21 12:00', 1, 5, 1), ('b', '2011-03-29 12:00', 2, 5, 2),
	('c', '2011-03-10 12:00', 3, 5, 3), ('d', '2011-03-15 12:00', 4, 7, 4), ('e', '2011-03-25 12:00', 5, 9, 5);
SELECT segment.create_segmentation('dst', 'dst_lines', k => 2, country_column => NULL);
SELECT customer_id, recency_days FROM dst.features WHERE customer_id = 1;
SELECT segment.drop_segmentation('dst');
DROP TABLE dst_lines;
RESET TimeZone;

-- A one-country shop: the domestic flag is constant, and its PCA loadings
-- are 0, never -0
CREATE VIEW uk_only AS SELECT * FROM invoices WHERE country = 'United Kingdom' AND customer_id < 13500;
SELECT segment.create_segmentation('ukonly', 'uk_only', k => 3);
SELECT component, loading, loading::text AS as_text FROM ukonly.pca WHERE feature = 'domestic' ORDER BY component;
SELECT segment.drop_segmentation('ukonly');
DROP VIEW uk_only;

-- A customer whose country is NULL is not domestic, whatever the others'
CREATE TABLE nowhere AS SELECT invoice_no, invoice_date, quantity, unit_price, customer_id, NULL::text AS country
FROM invoices WHERE customer_id < 12700;
SELECT segment.create_segmentation('nowhere', 'nowhere', k => 3);
SELECT max(max) AS domestic_max FROM nowhere.boxplots WHERE feature = 'domestic';
SELECT segment.drop_segmentation('nowhere');
DROP TABLE nowhere;

-- Names: upper case is refused with the name to use
SELECT error_of($$ SELECT segment.create_segmentation('Retail2', 'invoices') $$);

-- Readers draw: USAGE on the schema and SELECT on its tables let a role plot
-- and report a segmentation; without them it cannot
CREATE ROLE regress_segment_viewer;
CREATE ROLE regress_segment_stranger;
GRANT USAGE ON SCHEMA retail TO regress_segment_viewer;
GRANT SELECT ON ALL TABLES IN SCHEMA retail TO regress_segment_viewer;
SET ROLE regress_segment_viewer;
SELECT count(*) FILTER (WHERE segment.plot('retail', kind) LIKE '<svg%</svg>') AS plots_drawn
FROM unnest(ARRAY['elbow', 'clusters', 'profiles', 'silhouette']) AS kind;
SELECT segment.report('retail') LIKE '%</html>%' AS report_drawn;
SELECT error_of($$ SELECT segment.refresh_segmentation('retail') $$);
WITH changed AS (UPDATE segment.segmentations SET k = 9 WHERE name = 'retail' RETURNING 1) SELECT count(*) AS rows_a_reader_changed FROM changed;
SELECT error_of($$ INSERT INTO segment.segmentation_scores (name, k, inertia, is_elbow, is_chosen) VALUES ('retail', 99, 0, false, false) $$);
RESET ROLE;
SET ROLE regress_segment_stranger;
SELECT error_of($$ SELECT segment.plot('retail', 'elbow') $$);
SELECT error_of($$ SELECT segment.report('retail') $$);
RESET ROLE;
REVOKE ALL ON ALL TABLES IN SCHEMA retail FROM regress_segment_viewer;
REVOKE ALL ON SCHEMA retail FROM regress_segment_viewer;
DROP ROLE regress_segment_viewer;
DROP ROLE regress_segment_stranger;

-- Refreshing needs no TEMPORARY privilege on the database: its working
-- tables live in the segmentation's schema for the length of its
-- transaction, and none is left behind
CREATE ROLE regress_segment_no_temp;
GRANT SELECT ON invoices TO regress_segment_no_temp;
SELECT format('GRANT CREATE ON DATABASE %I TO regress_segment_no_temp', current_database()) \gexec
SELECT format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database()) \gexec
SET ROLE regress_segment_no_temp;
SELECT segment.create_segmentation('no_temp', 'invoices', k => 3);
SELECT segment.refresh_segmentation('no_temp', refit => false);
SELECT count(*) AS tables_in_schema, count(*) FILTER (WHERE c.relname LIKE 'segment\_refresh\_%') AS working_tables_left
FROM pg_class c WHERE c.relnamespace = 'no_temp'::regnamespace AND c.relkind = 'r';
-- a table of the user's in the way of a working table stops the refresh,
-- and stays as it was
CREATE TABLE no_temp.segment_refresh_vectors (note text);
INSERT INTO no_temp.segment_refresh_vectors VALUES ('mine');
SELECT error_of($$ SELECT segment.refresh_segmentation('no_temp') $$);
SELECT * FROM no_temp.segment_refresh_vectors;
DROP TABLE no_temp.segment_refresh_vectors;
SELECT segment.drop_segmentation('no_temp');
RESET ROLE;
SELECT format('GRANT TEMPORARY ON DATABASE %I TO PUBLIC', current_database()) \gexec
SELECT format('REVOKE CREATE ON DATABASE %I FROM regress_segment_no_temp', current_database()) \gexec
REVOKE ALL ON invoices FROM regress_segment_no_temp;
DROP ROLE regress_segment_no_temp;
