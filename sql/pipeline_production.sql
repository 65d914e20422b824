-- What production databases do to a segmentation (the DBA's and the
-- analyst's day): a source whose key type changes, history kept in the
-- data's time, DROP EXTENSION, roles dropped, assign-only refreshes over
-- time, a segment of net returns
SET extra_float_digits = 0;

-- 1. The customer column changes type.  The tables follow it at the next
-- refresh (ALTER COLUMN ... TYPE: rows, history and labels kept); a type
-- the ids cannot convert to is refused at alter_segmentation, a value that
-- does not convert or a view over the column at the refresh, with the
-- column, both types and the fix, never an internal statement
CREATE TABLE typed_lines AS SELECT * FROM invoices WHERE customer_id < 12700;
SELECT segment.create_segmentation('typed', 'typed_lines', k => 3);
SELECT segment.set_label('typed', 1, 'first of all');
CREATE TEMP TABLE typed_history AS SELECT * FROM typed.history;
CREATE FUNCTION pg_temp.customer_id_types() RETURNS TABLE (result_table name, type text, replica_identity boolean)
LANGUAGE sql AS $$
	SELECT c.relname, format_type(a.atttypid, a.atttypmod),
		EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident AND a.attnum = ANY (i.indkey))
	FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'customer_id'
	WHERE c.relnamespace = 'typed'::regnamespace AND c.relkind = 'r' ORDER BY c.relname
$$;
-- integer widened to bigint, and an id beyond 2^31 (customer 12347 renamed:
-- at the same as_of, the row the creation opened for 12347 is taken back)
ALTER TABLE typed_lines ALTER COLUMN customer_id TYPE bigint;
UPDATE typed_lines SET customer_id = 3000012347 WHERE customer_id = 12347;
SELECT segment.refresh_segmentation('typed', refit => false);
SELECT * FROM pg_temp.customer_id_types();
SELECT (SELECT count(*) FROM typed.history h JOIN typed_history b USING (customer_id, valid_from)
		WHERE h.cluster IS NOT DISTINCT FROM b.cluster) = (SELECT count(*) FROM typed_history WHERE customer_id <> 12347) AS others_history_kept,
	(SELECT cluster IS NOT NULL FROM typed.assignments WHERE customer_id = 3000012347) AS wide_id_assigned,
	(SELECT count(*) FROM typed.history WHERE customer_id = 12347) AS rows_of_the_old_id,
	(SELECT count(*) FROM typed.history WHERE customer_id = 3000012347 AND valid_to IS NULL) AS open_rows_of_the_new_id,
	(SELECT label FROM typed.profiles WHERE cluster = 1) AS label_kept;
-- a uuid column cannot hold the ids the tables have: refused at once
ALTER TABLE typed_lines ADD COLUMN customer_uuid uuid;
SELECT error_of($$ SELECT segment.alter_segmentation('typed', customer_column => 'customer_uuid') $$);
SELECT customer_column FROM segment.segmentations WHERE name = 'typed';
-- integer ids made text, one of them with a prefix
ALTER TABLE typed_lines ALTER COLUMN customer_id TYPE text;
UPDATE typed_lines SET customer_id = 'C-' || customer_id WHERE customer_id = '12348';
SELECT segment.refresh_segmentation('typed', refit => false);
SELECT * FROM pg_temp.customer_id_types();
SELECT (SELECT count(*) FROM typed.history h JOIN typed_history b ON h.customer_id = b.customer_id::text AND h.valid_from = b.valid_from
		WHERE h.cluster IS NOT DISTINCT FROM b.cluster) = (SELECT count(*) FROM typed_history WHERE customer_id NOT IN (12347, 12348)) AS others_history_kept,
	(SELECT count(*) FROM typed.assignments WHERE customer_id = 'C-12348') AS prefixed_id_assigned;
-- back to integer ids: 'C-12348' does not convert, and nothing changes
ALTER TABLE typed_lines ADD COLUMN legacy_id integer;
UPDATE typed_lines SET legacy_id = CASE WHEN customer_id ~ '^\d{1,9}$' THEN customer_id::integer END;
SELECT segment.alter_segmentation('typed', customer_column => 'legacy_id');
SELECT error_of($$ SELECT segment.refresh_segmentation('typed') $$);
SELECT * FROM pg_temp.customer_id_types();
-- a view over the column is in the way: the error names it
SELECT segment.alter_segmentation('typed', customer_column => 'customer_id');
CREATE VIEW typed_customers AS SELECT DISTINCT customer_id FROM typed.history;
ALTER TABLE typed_lines ALTER COLUMN customer_id TYPE varchar(20);
SELECT error_of($$ SELECT segment.refresh_segmentation('typed') $$);
DROP VIEW typed_customers;
SELECT segment.refresh_segmentation('typed', refit => false);
SELECT * FROM pg_temp.customer_id_types();
SELECT segment.drop_segmentation('typed');
DROP TABLE typed_lines;

-- 2. History is in the data's time.  A backfill of monthly refreshes
-- records each at its as_of, the clock on the wall beside it; the
-- README's "segment of a customer on a date" finds it
SELECT segment.create_segmentation('backfill', 'invoices', k => 4, as_of => '2011-06-01');
SELECT segment.alter_segmentation('backfill', as_of => '2011-07-01');
SELECT segment.refresh_segmentation('backfill', refit => false);
CREATE TEMP TABLE backfill_july AS SELECT customer_id, cluster FROM backfill.assignments WHERE cluster IS NOT NULL;
SELECT segment.alter_segmentation('backfill', as_of => '2011-08-01');
SELECT segment.refresh_segmentation('backfill');
SELECT valid_from, count(*) AS rows_opened, count(valid_to) AS closed_since, count(recorded_at) AS with_recorded_at
FROM backfill.history GROUP BY valid_from ORDER BY valid_from;
SELECT count(*) FILTER (WHERE valid_from = '2011-08-01' AND recorded_at IS DISTINCT FROM (SELECT assigned_at FROM backfill.model))
		AS last_rows_not_recorded_at_their_refresh,
	count(*) FILTER (WHERE valid_from < '2011-08-01' AND recorded_at >= (SELECT assigned_at FROM backfill.model))
		AS earlier_rows_recorded_later
FROM backfill.history;
SELECT count(*) = (SELECT count(*) FROM backfill_july) AS everyone_of_july_on_15_july,
	count(*) FILTER (WHERE h.cluster IS DISTINCT FROM (SELECT j.cluster FROM backfill_july j WHERE j.customer_id = h.customer_id)) AS differ_from_the_july_refresh
FROM backfill.history h
WHERE h.valid_from <= '2011-07-15' AND (h.valid_to IS NULL OR h.valid_to > '2011-07-15') AND h.cluster IS NOT NULL;
-- going back in time is refused, at alter_segmentation and at the refresh
SELECT error_of($$ SELECT segment.alter_segmentation('backfill', as_of => '2011-07-01') $$);
UPDATE segment.segmentations SET as_of = '2011-07-01' WHERE name = 'backfill';
SELECT error_of($$ SELECT segment.refresh_segmentation('backfill') $$);
UPDATE segment.segmentations SET as_of = '2011-08-01' WHERE name = 'backfill';
SELECT segment.drop_segmentation('backfill');

-- a correction that deletes the latest line moves as_of (and recency)
-- back, not history's clock: its rows stay at the time it ran to
CREATE TABLE corrected_lines AS SELECT * FROM invoices WHERE customer_id < 12700;
SELECT segment.create_segmentation('corrected', 'corrected_lines', k => 3);
CREATE TEMP TABLE corrected_before AS SELECT as_of FROM corrected.model;
DELETE FROM corrected_lines WHERE invoice_date = (SELECT max(invoice_date) FROM corrected_lines);
SELECT segment.refresh_segmentation('corrected');
SELECT m.as_of < b.as_of AS as_of_moved_back,
	(SELECT max(valid_from) FROM corrected.history) = b.as_of::timestamptz AS history_clock_kept,
	(SELECT history_as_of FROM segment.segmentations WHERE name = 'corrected') = b.as_of AS registry_clock_kept,
	(SELECT count(*) FROM corrected.history WHERE valid_to <= valid_from) AS rows_ending_before_they_start
FROM corrected.model m, corrected_before b;
SELECT segment.drop_segmentation('corrected');
DROP TABLE corrected_lines;

-- 3. DROP EXTENSION refuses while segmentations live (their tables depend
-- on it), naming them; CASCADE, asked in so many words, takes them with the
-- registry.  In a database of its own, so that only its segmentation shows.
CREATE DATABASE regress_segment_drop_extension;
\c regress_segment_drop_extension
SET client_min_messages = warning;
CREATE EXTENSION segment;
CREATE TABLE lines (invoice_no text, invoice_date timestamp, quantity integer, unit_price numeric, customer_id integer, country text);
INSERT INTO lines SELECT 'i' || g, timestamp '2011-01-01' + g * interval '1 day', 1 + g % 5, 1 + g % 7, g % 40, 'X'
FROM generate_series(1, 400) AS g;
SELECT segment.create_segmentation('kept', 'lines', k => 3);
\set VERBOSITY default
DROP EXTENSION segment;
\set VERBOSITY terse
SELECT count(*) AS registry_rows_left FROM segment.segmentations;
BEGIN;
DROP EXTENSION segment CASCADE;
SELECT count(*) AS tables_left_in_kept FROM pg_class WHERE relnamespace = 'kept'::regnamespace AND relkind = 'r';
ROLLBACK;
SELECT segment.refresh_segmentation('kept', refit => false);
-- a drop of the segmentation takes the dependencies with its tables
SELECT segment.drop_segmentation('kept');
DROP EXTENSION segment;
\c contrib_regression
DROP DATABASE regress_segment_drop_extension;
SET extra_float_digits = 0;

-- 4. DROP OWNED BY and DROP ROLE leave a registry row nobody can own: the
-- next create_segmentation of that name forgets it.  A row whose schema is
-- gone but whose role lives is its owner's to drop, and stays.
CREATE ROLE regress_segment_leaver;
CREATE VIEW left_behind_lines AS SELECT * FROM invoices WHERE customer_id < 12700;
GRANT SELECT ON left_behind_lines TO regress_segment_leaver;
SELECT format('GRANT CREATE ON DATABASE %I TO regress_segment_leaver', current_database()) \gexec
SET ROLE regress_segment_leaver;
SELECT segment.create_segmentation('left_behind', 'left_behind_lines', k => 3);
RESET ROLE;
SELECT format('REVOKE CREATE ON DATABASE %I FROM regress_segment_leaver', current_database()) \gexec
DROP OWNED BY regress_segment_leaver;
DROP ROLE regress_segment_leaver;
SELECT count(*) AS orphaned_rows FROM segment.segmentations WHERE name = 'left_behind';
-- (the one SECURITY DEFINER function forgets nothing that lives: a role
-- with no rights on it calls it on a live segmentation)
SELECT segment.create_segmentation('left_alive', 'left_behind_lines', k => 3);
CREATE ROLE regress_segment_forgetter;
SET ROLE regress_segment_forgetter;
SELECT segment.forget_orphaned_segmentation('left_alive') AS forgot_a_live_one;
RESET ROLE;
DROP ROLE regress_segment_forgetter;
SELECT count(*) AS live_one_kept FROM segment.segmentations WHERE name = 'left_alive';
SELECT segment.drop_segmentation('left_alive');
SELECT segment.create_segmentation('left_behind', 'left_behind_lines', k => 3);
SELECT owner = current_user::regrole AS mine_now, (SELECT count(*) FROM left_behind.assignments) AS customers
FROM segment.segmentations WHERE name = 'left_behind';
DROP SCHEMA left_behind CASCADE;
SELECT error_of($$ SELECT segment.create_segmentation('left_behind', 'left_behind_lines', k => 3) $$);
SELECT segment.drop_segmentation('left_behind');
DROP VIEW left_behind_lines;

-- 5. Assign-only refreshes over months: every clustered customer has a
-- silhouette (below segment.silhouette_limit()), also those who came after
-- the fit, and one who had one keeps it
SELECT segment.create_segmentation('growing', 'invoices', k => 4, as_of => '2011-03-01');
CREATE TEMP TABLE growing_fit AS SELECT customer_id, silhouette FROM growing.assignments WHERE cluster IS NOT NULL;
SELECT segment.alter_segmentation('growing', as_of => '2011-12-10');
SELECT segment.refresh_segmentation('growing', refit => false);
SELECT (SELECT fitted_rows FROM growing.model) AS fitted_rows, count(*) AS clustered, count(silhouette) AS with_silhouette,
	(SELECT count(*) FROM growing_fit f JOIN growing.assignments a USING (customer_id) WHERE a.silhouette IS NULL) AS lost_theirs
FROM growing.assignments WHERE cluster IS NOT NULL;
SELECT segment.drop_segmentation('growing');

-- 6. A segment whose returns exceed its purchases: a negative revenue and
-- share (the shares of the segments that bring revenue add up to 1), and
-- the action to look into its returns, not to upsell
CREATE TABLE returning_lines (invoice_no text, invoice_date timestamp, quantity integer, unit_price numeric, customer_id integer, country text);
INSERT INTO returning_lines
SELECT 'b' || c || '-' || i, timestamp '2011-01-01' + (c * 7 + i * 13) % 300 * interval '1 day', 10, 100, c, 'X'
FROM generate_series(1, 30) AS c, generate_series(1, 1 + c % 4) AS i
UNION ALL
SELECT 's' || c, timestamp '2011-02-01' + c * interval '3 day', 1, 2, c, 'X' FROM generate_series(31, 60) AS c
UNION ALL
SELECT 'r' || c || '-' || i, timestamp '2011-03-01' + c * interval '2 day' + i * interval '1 hour', CASE WHEN i = 1 THEN 1 ELSE -40 END, 90, c, 'X'
FROM generate_series(61, 80) AS c, generate_series(1, 3) AS i;
SELECT segment.create_segmentation('net_returns', 'returning_lines', k => 3);
SELECT round(revenue) AS revenue, round(revenue_share::numeric, 4) AS revenue_share, action
FROM net_returns.profiles ORDER BY revenue;
SELECT round(sum(revenue_share) FILTER (WHERE revenue > 0)::numeric, 12) AS positive_shares_add_up_to
FROM net_returns.profiles;
SELECT segment.drop_segmentation('net_returns');
DROP TABLE returning_lines;

-- 7. A one-schema dump (pg_dump -n) restores a segmentation's tables
-- without its registry row: create_segmentation of that name takes the
-- schema back, keeps its history and goes on from it (here the registry row
-- is deleted by its owner, as a restore elsewhere would lack it)
CREATE VIEW taken_back_lines AS SELECT * FROM invoices WHERE customer_id < 12700 AND invoice_date < '2011-11-01';
SELECT segment.create_segmentation('taken_back', 'taken_back_lines', k => 3);
CREATE TEMP TABLE taken_back_history AS SELECT * FROM taken_back.history;
DELETE FROM segment.segmentations WHERE name = 'taken_back';
CREATE OR REPLACE VIEW taken_back_lines AS SELECT * FROM invoices WHERE customer_id < 12700;
SELECT segment.create_segmentation('taken_back', 'taken_back_lines', k => 3);
SELECT (SELECT count(*) FROM taken_back.history h JOIN taken_back_history b USING (customer_id, valid_from)
		WHERE h.cluster IS NOT DISTINCT FROM b.cluster AND (h.valid_to IS NULL OR h.valid_to > h.valid_from))
		= (SELECT count(*) FROM taken_back_history) AS history_kept,
	(SELECT count(DISTINCT valid_from) FROM taken_back.history) AS times_in_history,
	(SELECT count(*) FROM taken_back.history h JOIN taken_back.assignments a USING (customer_id)
	 WHERE h.valid_to IS NULL AND h.cluster IS DISTINCT FROM a.cluster) AS open_rows_not_matching;
-- an existing schema without a segmentation's history is still refused;
-- so is one with a history table of its own (no segmentation made it), and
-- a segmentation's schema of a role whose rights the caller lacks
CREATE SCHEMA not_a_segmentation;
SELECT error_of($$ SELECT segment.create_segmentation('not_a_segmentation', 'taken_back_lines', k => 3) $$);
CREATE TABLE not_a_segmentation.history (customer_id integer, cluster integer, label text, valid_from timestamptz, valid_to timestamptz);
CREATE UNIQUE INDEX history_key ON not_a_segmentation.history (customer_id, valid_from);
INSERT INTO not_a_segmentation.history VALUES (1, 1, 'mine', '2011-01-01', NULL);
SELECT error_of($$ SELECT segment.create_segmentation('not_a_segmentation', 'taken_back_lines', k => 3) $$);
SELECT count(*) AS rows_untouched FROM not_a_segmentation.history WHERE valid_to IS NULL AND label = 'mine';
DROP SCHEMA not_a_segmentation CASCADE;
CREATE ROLE regress_segment_other_owner;
GRANT SELECT ON taken_back_lines TO regress_segment_other_owner;
SELECT segment.drop_segmentation('taken_back');
SELECT format('GRANT CREATE ON DATABASE %I TO regress_segment_other_owner', current_database()) \gexec
SET ROLE regress_segment_other_owner;
SELECT segment.create_segmentation('taken_back', 'taken_back_lines', k => 3);
DELETE FROM segment.segmentations WHERE name = 'taken_back';
RESET ROLE;
CREATE ROLE regress_segment_taker;
GRANT SELECT ON taken_back_lines TO regress_segment_taker;
SET ROLE regress_segment_taker;
SELECT error_of($$ SELECT segment.create_segmentation('taken_back', 'taken_back_lines', k => 3) $$);
RESET ROLE;
DROP SCHEMA taken_back CASCADE;
SELECT format('REVOKE CREATE ON DATABASE %I FROM regress_segment_other_owner', current_database()) \gexec
DROP OWNED BY regress_segment_other_owner, regress_segment_taker;
DROP ROLE regress_segment_other_owner, regress_segment_taker;
DROP VIEW taken_back_lines;
