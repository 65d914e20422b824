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
