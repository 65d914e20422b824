-- drop_segmentation drops what the segmentation made and nothing else:
-- another object that depends on its tables or lives in its schema makes it
-- refuse (2BP01, listing them) unless called with cascade => true
CREATE VIEW invoices_small AS SELECT * FROM invoices WHERE customer_id < 12600;
SELECT segment.create_segmentation('dropme', 'invoices_small', k => 3);
CREATE SCHEMA dashboards;
CREATE VIEW dashboards.segment_sizes AS SELECT cluster, customers FROM dropme.profiles;
CREATE TABLE dropme.notes (note text);
INSERT INTO dropme.notes VALUES ('a table of a user''s in the segmentation''s schema');
CREATE FUNCTION dropme.top_cluster() RETURNS integer LANGUAGE sql AS 'SELECT 1';
CREATE TABLE dashboards.campaigns (customer_id integer REFERENCES dropme.features (customer_id));
SELECT error_of($$ SELECT segment.drop_segmentation('dropme') $$);
-- nothing went
SELECT to_regclass('dashboards.segment_sizes') IS NOT NULL AS dashboard_kept,
	(SELECT count(*) FROM dropme.notes) AS notes_kept,
	(SELECT count(*) FROM dropme.profiles) AS profiles_kept,
	EXISTS (SELECT FROM segment.segmentations WHERE name = 'dropme') AS record_kept;
-- the dependents moved out of the way, the drop goes through and leaves them
DROP VIEW dashboards.segment_sizes;
ALTER TABLE dashboards.campaigns DROP CONSTRAINT campaigns_customer_id_fkey;
ALTER TABLE dropme.notes SET SCHEMA dashboards;
ALTER FUNCTION dropme.top_cluster() SET SCHEMA dashboards;
SELECT segment.drop_segmentation('dropme');
SELECT to_regnamespace('dropme') IS NULL AS schema_dropped,
	NOT EXISTS (SELECT FROM segment.segmentations WHERE name = 'dropme') AS record_dropped,
	(SELECT count(*) FROM dashboards.notes) AS notes_kept,
	to_regprocedure('dashboards.top_cluster()') IS NOT NULL AS function_kept;

-- what hangs on the segmentation's tables counts too: a trigger, a policy,
-- an index, statistics, a rule, a function of their row type
SELECT segment.create_segmentation('dropme', 'invoices_small', k => 3);
CREATE FUNCTION dashboards.nothing() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END';
CREATE TRIGGER nothing AFTER INSERT ON dropme.model FOR EACH STATEMENT EXECUTE FUNCTION dashboards.nothing();
CREATE POLICY everyone ON dropme.profiles USING (true);
CREATE INDEX ON dropme.features (recency_days);
CREATE STATISTICS dashboards.features_stats ON invoices, total_amount FROM dropme.features;
CREATE RULE no_delete AS ON DELETE TO dropme.pca DO INSTEAD NOTHING;
CREATE FUNCTION dashboards.best_customers() RETURNS SETOF dropme.features LANGUAGE sql AS 'SELECT * FROM dropme.features LIMIT 10';
SELECT error_of($$ SELECT segment.drop_segmentation('dropme') $$);
SELECT segment.drop_segmentation('dropme', cascade => true);
SELECT to_regprocedure('dashboards.best_customers()') IS NULL AS function_dropped_with_cascade;

-- one dependent is enough: each kind alone makes it refuse
SELECT segment.create_segmentation('dropme', 'invoices_small', k => 3);
CREATE VIEW dashboards.one_view AS SELECT cluster FROM dropme.profiles;
SELECT error_of($$ SELECT segment.drop_segmentation('dropme') $$);
DROP VIEW dashboards.one_view;
CREATE TABLE dropme.one_table (note text);
SELECT error_of($$ SELECT segment.drop_segmentation('dropme') $$);
DROP TABLE dropme.one_table;
CREATE INDEX one_index ON dropme.assignments (distance);
SELECT error_of($$ SELECT segment.drop_segmentation('dropme') $$);
DROP INDEX dropme.one_index;
SELECT segment.drop_segmentation('dropme');

-- cascade => true drops the dependents too, and says so
SELECT segment.create_segmentation('dropme', 'invoices_small', k => 3);
CREATE VIEW dashboards.segment_sizes AS SELECT cluster, customers FROM dropme.profiles;
CREATE TABLE dropme.more_notes (note text);
SELECT segment.drop_segmentation('dropme', cascade => true);
SELECT to_regnamespace('dropme') IS NULL AS schema_dropped,
	to_regclass('dashboards.segment_sizes') IS NULL AS dashboard_dropped,
	NOT EXISTS (SELECT FROM segment.segmentations WHERE name = 'dropme') AS record_dropped;

-- a segmentation whose schema was dropped by hand: its name stays taken
-- until drop_segmentation removes the record
SELECT segment.create_segmentation('orphan', 'invoices_small', k => 3);
DROP SCHEMA orphan CASCADE;
SELECT error_of($$ SELECT segment.create_segmentation('orphan', 'invoices_small', k => 3) $$);
SELECT error_of($$ SELECT segment.refresh_segmentation('orphan') $$);
SELECT segment.drop_segmentation('orphan');
SELECT NOT EXISTS (SELECT FROM segment.segmentations WHERE name = 'orphan') AS record_dropped;

-- dropping the source (no CASCADE needed: nothing depends on it) leaves the
-- results in place; a refresh then says what happened and changes nothing
CREATE TABLE invoices_copy AS SELECT * FROM invoices_small;
SELECT segment.create_segmentation('dropme', 'invoices_copy', k => 3);
CREATE TEMP TABLE profiles_before AS SELECT * FROM dropme.profiles;
DROP TABLE invoices_copy;
SELECT error_of($$ SELECT segment.refresh_segmentation('dropme') $$);
SELECT count(*) AS profiles, count(*) FILTER (WHERE p IS DISTINCT FROM b) AS changed
FROM dropme.profiles p FULL JOIN profiles_before b USING (cluster);
SELECT segment.drop_segmentation('dropme');

-- bad arguments
SELECT error_of($$ SELECT segment.drop_segmentation('no_such') $$);
SELECT error_of($$ SELECT segment.drop_segmentation(NULL) $$);
SELECT segment.create_segmentation('dropme', 'invoices_small', k => 3);
SELECT error_of($$ SELECT segment.drop_segmentation('dropme', cascade => NULL) $$);
SELECT segment.drop_segmentation('dropme');
DROP SCHEMA dashboards CASCADE;
