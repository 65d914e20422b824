-- Logical replication and change data capture: under a publication FOR ALL
-- TABLES every UPDATE and DELETE needs a replica identity.  Every table of a
-- segmentation has one (its unique key, or the whole row where the key can
-- be NULL or is an expression), so the whole life of a segmentation works
-- there; a table that lost it gets it back at the next refresh.  (The
-- subscriber's side: test/replication/subscriber.sh.)
CREATE PUBLICATION regress_everything FOR ALL TABLES;
CREATE VIEW published_lines AS SELECT * FROM invoices WHERE customer_id < 12600;
SELECT segment.create_segmentation('published', 'published_lines', k => 3);
SELECT c.relname, c.relreplident,
	(SELECT string_agg(a.attname || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END, ', ' ORDER BY a.attnum)
	 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
	 WHERE i.indrelid = c.oid AND i.indisreplident) AS identity_columns
FROM pg_class c WHERE c.relnamespace = 'published'::regnamespace AND c.relkind = 'r' ORDER BY c.relname;
SELECT segment.refresh_segmentation('published', refit => false);
SELECT segment.alter_segmentation('published', as_of => '2011-12-31');
SELECT segment.refresh_segmentation('published');
SELECT segment.set_label('published', 1, 'first');
SELECT segment.alter_segmentation('published', as_of => '2012-01-31');
SELECT segment.refresh_segmentation('published', refit => false);
SELECT segment.trim_history('published', '0 seconds') = (SELECT count(*) FROM published.history WHERE valid_to < '2012-01-31')
	AS trimmed_the_closed_rows, (SELECT count(*) FROM published.history WHERE valid_to IS NOT NULL) > 0 AS there_were_some;
SELECT count(*) AS closed_rows_left FROM published.history WHERE valid_to IS NOT NULL;
-- a table without a replica identity (a segmentation made by 0.3) fails a
-- label under the publication, then a refresh gives it one
ALTER TABLE published.profiles REPLICA IDENTITY DEFAULT;
SELECT error_of($$ SELECT segment.set_label('published', 1, 'again') $$);
SELECT segment.refresh_segmentation('published', refit => false);
SELECT segment.set_label('published', 1, 'again');
SELECT relreplident FROM pg_class WHERE oid = 'published.profiles'::regclass;
-- the owner's own choice is kept
ALTER TABLE published.elbow REPLICA IDENTITY FULL;
SELECT segment.refresh_segmentation('published');
SELECT relreplident FROM pg_class WHERE oid = 'published.elbow'::regclass;
SELECT segment.drop_segmentation('published');
DROP VIEW published_lines;
DROP PUBLICATION regress_everything;
