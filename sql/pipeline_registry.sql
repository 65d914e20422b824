-- The registry is locked: a role can write only a row that
-- create_segmentation would have let it make, sees only its own
-- segmentations, and a row edited by hand can neither crash nor mislead a
-- refresh or a plot.  Ownership follows the schema (role changes).
CREATE ROLE regress_segment_intruder;
CREATE ROLE regress_segment_analyst;
CREATE ROLE regress_segment_heir;
CREATE TABLE secret_prices (invoice_no text, invoice_date timestamp, quantity integer,
	unit_price numeric, customer_id integer, country text);
GRANT SELECT ON invoices, invoices_small TO regress_segment_analyst, regress_segment_heir;
DO $$ BEGIN
	EXECUTE format('GRANT CREATE ON DATABASE %I TO regress_segment_analyst, regress_segment_heir', current_database());
END $$;

-- A role without privileges cannot write the registry: no row for a name it
-- has no schema of, nor for a source it cannot read, nor scores
SET ROLE regress_segment_intruder;
SELECT error_of($$ INSERT INTO segment.segmentations (name, source, customer_column, invoice_column, time_column,
		quantity_column, price_column, seed, time_zone)
	VALUES ('future_seg', 'invoices', 'customer_id', 'invoice_no', 'invoice_date', 'quantity', 'unit_price', 0, 'UTC') $$);
SELECT error_of($$ INSERT INTO segment.segmentations (name, source, customer_column, invoice_column, time_column,
		quantity_column, price_column, seed, time_zone)
	VALUES ('future_seg', 'secret_prices', 'customer_id', 'invoice_no', 'invoice_date', 'quantity', 'unit_price', 0, 'UTC') $$);
SELECT error_of($$ INSERT INTO segment.segmentation_scores (name, k, inertia, is_elbow, is_chosen)
	VALUES ('retail', 99, 0, false, false) $$);
RESET ROLE;
-- so the name stays free for whoever may create it
SELECT segment.create_segmentation('future_seg', 'invoices_small', k => 3);
-- and the intruder neither sees nor changes another role's segmentation
SET ROLE regress_segment_intruder;
SELECT count(*) AS rows_visible FROM segment.segmentations;
SELECT count(*) AS scores_visible FROM segment.segmentation_scores;
UPDATE segment.segmentations SET k = 9 WHERE name = 'future_seg';
DELETE FROM segment.segmentations WHERE name = 'future_seg';
DELETE FROM segment.segmentation_scores WHERE name = 'future_seg';
SELECT error_of($$ SELECT segment.refresh_segmentation('future_seg') $$);
SELECT error_of($$ SELECT segment.drop_segmentation('future_seg') $$);
SELECT error_of($$ SELECT segment.create_segmentation('future_seg', 'invoices_small') $$);
RESET ROLE;
SELECT k = 3 AS k_unchanged, (SELECT count(*) FROM segment.segmentation_scores WHERE name = 'future_seg') AS scores
FROM segment.segmentations s WHERE name = 'future_seg';
SELECT segment.drop_segmentation('future_seg');

-- An analyst with CREATE on the database and SELECT on a source
SET ROLE regress_segment_analyst;
SELECT segment.create_segmentation('analysed', 'invoices_small', k => 3);
SELECT name, owner, source FROM segment.segmentations;
-- its own row, edited by hand: never towards a source it cannot read or a
-- schema it does not own
SELECT error_of($$ UPDATE segment.segmentations SET source = 'secret_prices' WHERE name = 'analysed' $$);
SELECT error_of($$ UPDATE segment.segmentations SET name = 'retail' WHERE name = 'analysed' $$);
SELECT error_of($$ UPDATE segment.segmentations SET owner = 'regress_segment_heir' WHERE name = 'analysed' $$);
-- a crafted model (other dimensions, non-finite centroids) or scaler:
-- the next refresh recomputes it or raises a clear error that changes
-- nothing; the plots draw from the tables
CREATE TEMP TABLE assignments_before AS SELECT * FROM analysed.assignments;
UPDATE segment.segmentations SET model = ROW(2, 3, '{{1,2,3},{4,5,6}}', 1, 1, 1, 0)::segment.kmeans_model WHERE name = 'analysed';
SELECT length(segment.plot('analysed', 'clusters')) > 0 AS clusters_plot_drawn;
SELECT segment.refresh_segmentation('analysed');
UPDATE segment.segmentations SET model = ROW(3, 10, array_fill('NaN'::float8, ARRAY[3, 10]), 1, 1, 1, 0)::segment.kmeans_model,
	scaler = ROW(1, '{1}', '{0}')::segment.scaler, pca = NULL, labels = '{a,a}' WHERE name = 'analysed';
SELECT error_of($$ SELECT segment.refresh_segmentation('analysed') $$);
UPDATE segment.segmentations SET model = ROW(3, 10, '{{1,2},{3,4}}', 1, 1, 1, 0)::segment.kmeans_model WHERE name = 'analysed';
SELECT error_of($$ SELECT segment.refresh_segmentation('analysed') $$);
SELECT error_of($$ SELECT segment.plot('analysed', 'clusters') $$);
SELECT error_of($$ SELECT segment.report('analysed') $$);
-- a crafted mapping or time zone
UPDATE segment.segmentations SET model = NULL WHERE name = 'analysed';
UPDATE segment.segmentations SET customer_column = 'no_such_column' WHERE name = 'analysed';
SELECT error_of($$ SELECT segment.refresh_segmentation('analysed') $$);
UPDATE segment.segmentations SET customer_column = 'customer_id', time_zone = 'Mars/Olympus_Mons' WHERE name = 'analysed';
SELECT error_of($$ SELECT segment.refresh_segmentation('analysed') $$);
UPDATE segment.segmentations SET time_zone = 'UTC' WHERE name = 'analysed';
-- put right, a refresh gives the segments back
SELECT segment.refresh_segmentation('analysed');
SELECT count(*) AS customers, count(*) FILTER (WHERE a.cluster IS DISTINCT FROM b.cluster) AS moved
FROM assignments_before b FULL JOIN analysed.assignments a USING (customer_id);
DROP TABLE assignments_before;
RESET ROLE;

-- A role change: the segmentation belongs to the owner of its schema
REASSIGN OWNED BY regress_segment_analyst TO regress_segment_heir;
SET ROLE regress_segment_analyst;
SELECT count(*) AS analyst_sees FROM segment.segmentations;
SELECT error_of($$ SELECT segment.refresh_segmentation('analysed') $$);
RESET ROLE;
SET ROLE regress_segment_heir;
SELECT segment.refresh_segmentation('analysed');
SELECT name, owner FROM segment.segmentations;
SELECT length(segment.report('analysed')) > 0 AS report_drawn;
SELECT segment.drop_segmentation('analysed');
RESET ROLE;

-- A refresh runs as the segmentation's owner: a trigger the owner put on its
-- tables runs with the owner's rights even when a superuser refreshes
-- (as REFRESH MATERIALIZED VIEW runs as the view's owner)
SET ROLE regress_segment_analyst;
SELECT segment.create_segmentation('triggered', 'invoices_small', k => 3);
CREATE TABLE triggered.who_refreshed (role name);
CREATE FUNCTION triggered.note_role() RETURNS trigger LANGUAGE plpgsql AS
	$f$BEGIN INSERT INTO triggered.who_refreshed VALUES (current_user); RETURN NULL; END$f$;
CREATE TRIGGER note_role AFTER INSERT ON triggered.model FOR EACH STATEMENT EXECUTE FUNCTION triggered.note_role();
RESET ROLE;
SELECT segment.refresh_segmentation('triggered');
SELECT role, current_user AS refreshed_by FROM triggered.who_refreshed;
SELECT current_user = session_user AS role_restored_after_refresh;
-- only a member of the owner may refresh it
SET ROLE regress_segment_heir;
SELECT error_of($$ SELECT segment.refresh_segmentation('triggered') $$);
RESET ROLE;
SELECT segment.drop_segmentation('triggered', cascade => true);

-- A schema made later under the name of another role's segmentation whose
-- schema was renamed gives its maker nothing
SET ROLE regress_segment_analyst;
SELECT segment.create_segmentation('renamed', 'invoices_small', k => 3);
ALTER SCHEMA renamed RENAME TO renamed_archive;
RESET ROLE;
SET ROLE regress_segment_heir;
CREATE SCHEMA renamed;
SELECT count(*) AS rows_seen_by_the_schema_maker FROM segment.segmentations WHERE name = 'renamed';
WITH changed AS (UPDATE segment.segmentations SET k = 9 WHERE name = 'renamed' RETURNING 1) SELECT count(*) AS rows_changed FROM changed;
SELECT error_of($$ SELECT segment.drop_segmentation('renamed') $$);
DROP SCHEMA renamed;
RESET ROLE;
SET ROLE regress_segment_analyst;
SELECT count(*) AS rows_seen_by_the_owner FROM segment.segmentations WHERE name = 'renamed';
SELECT error_of($$ SELECT segment.refresh_segmentation('renamed') $$);
SELECT segment.drop_segmentation('renamed');
SELECT to_regnamespace('renamed_archive') IS NOT NULL AS renamed_schema_left_to_its_owner;
DROP SCHEMA renamed_archive CASCADE;
RESET ROLE;

-- A role whose name needs quotes segments like any other
CREATE ROLE "Regress Segment Quoted";
GRANT SELECT ON invoices_small TO "Regress Segment Quoted";
SELECT format('GRANT CREATE ON DATABASE %I TO "Regress Segment Quoted"', current_database()) \gexec
SET ROLE "Regress Segment Quoted";
SELECT segment.create_segmentation('quoted', 'invoices_small', k => 3);
SELECT name, owner FROM segment.segmentations;
SELECT segment.refresh_segmentation('quoted');
SELECT segment.drop_segmentation('quoted');
RESET ROLE;
SELECT format('REVOKE CREATE ON DATABASE %I FROM "Regress Segment Quoted"', current_database()) \gexec
REVOKE ALL ON invoices_small FROM "Regress Segment Quoted";
DROP ROLE "Regress Segment Quoted";

DROP TABLE secret_prices;
DO $$ BEGIN
	EXECUTE format('REVOKE CREATE ON DATABASE %I FROM regress_segment_analyst, regress_segment_heir', current_database());
END $$;
REVOKE ALL ON invoices, invoices_small FROM regress_segment_analyst, regress_segment_heir;
DROP ROLE regress_segment_intruder;
DROP ROLE regress_segment_analyst;
DROP ROLE regress_segment_heir;
DROP VIEW invoices_small;
