/* src/sql/update--0.3--0.4.finish.sql */

-- The end of the update from 0.3, after the files of the pipeline layer:
-- each segmentation's tables get their replica identity now, so that a
-- label or a trim works under a publication FOR ALL TABLES before the next
-- refresh (which would give it too)
DO $finish$
DECLARE
	segmentation record;
BEGIN
	FOR segmentation IN
		SELECT s.name, t.result_table, t.unique_key
		FROM segment.segmentations s JOIN pg_catalog.pg_namespace n ON n.oid = s.schema AND n.nspname = s.name
		CROSS JOIN segment.segmentation_tables() AS t
		WHERE EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.relnamespace = n.oid AND c.relname = t.result_table || '_key')
		ORDER BY s.name, t.result_table
	LOOP
		PERFORM segment.set_replica_identity(segmentation.name, segmentation.result_table, segmentation.unique_key);
	END LOOP;
END
$finish$;

-- History recorded by 0.3 is in the clock on the wall of its refreshes: it
-- moves to the data's time by the one pair of times known, the last
-- refresh's (assigned_at, the wall, and used_as_of, the data), which every
-- refresh of a live source keeps nearly constant; the wall-clock times stay
-- in recorded_at.  The owner's work (its triggers on history) runs as the
-- owner, security-restricted.
DO $history$
DECLARE
	segmentation record;
	shift interval;
BEGIN
	FOR segmentation IN
		SELECT s.name, s.assigned_at, s.used_as_of, s.time_zone, segment.segmentation_owner(s.schema, s.owner)::regrole AS owner_role
		FROM segment.segmentations s JOIN pg_catalog.pg_namespace n ON n.oid = s.schema AND n.nspname = s.name
		WHERE EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.relnamespace = n.oid AND c.relname = 'history')
		ORDER BY s.name
	LOOP
		shift := coalesce(segmentation.assigned_at - (segmentation.used_as_of AT TIME ZONE segmentation.time_zone), interval '0');
		PERFORM segment.execute_as_owner(segmentation.name, segmentation.owner_role,
			pg_catalog.format('ALTER TABLE %I.history ADD COLUMN IF NOT EXISTS recorded_at timestamptz', segmentation.name));
		PERFORM segment.execute_as_owner(segmentation.name, segmentation.owner_role,
			pg_catalog.format('UPDATE %I.history SET recorded_at = valid_from, valid_from = valid_from - %L::interval, valid_to = valid_to - %L::interval',
				segmentation.name, shift, shift));
		PERFORM segment.comment_segmentation_tables(segmentation.name);
		UPDATE segment.segmentations s SET history_as_of = s.used_as_of WHERE s.name = segmentation.name;
	END LOOP;
END
$history$;

-- The tables of each segmentation depend on the extension from now on:
-- DROP EXTENSION refuses while they live
SELECT segment.depend_segmentation_on_extension(s.name) FROM segment.segmentations s ORDER BY s.name;
