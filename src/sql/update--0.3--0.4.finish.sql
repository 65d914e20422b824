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
-- refresh's: its rows' latest time on the wall, and its as_of (used_as_of)
-- in the data, a difference every refresh of a live source keeps nearly
-- constant.  The shift is in seconds, so that no change to or from daylight
-- saving time in the updater's zone moves a row by an hour.  The wall-clock
-- times stay in recorded_at.  The owner's work (its triggers on history)
-- runs as the owner, security-restricted; what stops it stops the update,
-- naming the segmentation.
DO $history$
DECLARE
	segmentation record;
	last_on_the_wall timestamptz;
	shift double precision;
	reason text;
BEGIN
	FOR segmentation IN
		SELECT s.name, s.used_as_of, s.time_zone, segment.segmentation_owner(s.schema, s.owner)::regrole AS owner_role
		FROM segment.segmentations s JOIN pg_catalog.pg_namespace n ON n.oid = s.schema AND n.nspname = s.name
		WHERE EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.relnamespace = n.oid AND c.relname = 'history')
		ORDER BY s.name
	LOOP
		BEGIN
			last_on_the_wall := pg_catalog.to_timestamp(segment.execute_as_owner(segmentation.name, segmentation.owner_role,
				pg_catalog.format('SELECT extract(epoch FROM max(greatest(h.valid_from, h.valid_to))) FROM %I.history h',
					segmentation.name))::double precision);
			shift := coalesce(extract(epoch FROM last_on_the_wall)
				- extract(epoch FROM segmentation.used_as_of AT TIME ZONE segmentation.time_zone), 0);
			PERFORM segment.execute_as_owner(segmentation.name, segmentation.owner_role,
				pg_catalog.format('ALTER TABLE %I.history ADD COLUMN IF NOT EXISTS recorded_at timestamptz', segmentation.name));
			PERFORM segment.execute_as_owner(segmentation.name, segmentation.owner_role,
				pg_catalog.format('UPDATE %I.history SET recorded_at = valid_from, valid_from = valid_from - make_interval(secs => %s), '
					'valid_to = valid_to - make_interval(secs => %s)', segmentation.name, shift, shift));
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS reason = MESSAGE_TEXT;
			RAISE EXCEPTION USING ERRCODE = '55000',
				MESSAGE = pg_catalog.format('cannot update the history of segmentation "%s" to the data''s time: %s', segmentation.name, reason),
				HINT = 'Fix what the message names (the history table must be the segmentation owner''s), then update again; nothing has changed.';
		END;
		UPDATE segment.segmentations s
		SET history_as_of = coalesce(s.used_as_of, last_on_the_wall AT TIME ZONE s.time_zone)
		WHERE s.name = segmentation.name;
		-- the new column's comment (the next refresh comments every table)
		BEGIN
			PERFORM segment.comment_segmentation_tables(segmentation.name);
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS reason = MESSAGE_TEXT;
			RAISE WARNING 'the tables of segmentation "%" get their comments at its next refresh: %', segmentation.name, reason;
		END;
	END LOOP;
END
$history$;

-- The tables of each segmentation depend on the extension from now on:
-- DROP EXTENSION refuses while they live
SELECT segment.depend_segmentation_on_extension(s.name) FROM segment.segmentations s ORDER BY s.name;

-- Each segmentation's customers get their customer-value columns (0.4): the
-- models fitted on its features as of its last refresh, as its owner,
-- security-restricted; what stops it stops the update, naming the
-- segmentation
DO $value$
DECLARE
	segmentation record;
	reason text;
BEGIN
	FOR segmentation IN
		SELECT s.name, segment.segmentation_owner(s.schema, s.owner)::regrole AS owner_role
		FROM segment.segmentations s JOIN pg_catalog.pg_namespace n ON n.oid = s.schema AND n.nspname = s.name
		WHERE EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.relnamespace = n.oid AND c.relname = 'features')
			AND EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.relnamespace = n.oid AND c.relname = 'profiles')
		ORDER BY s.name
	LOOP
		BEGIN
			PERFORM segment.execute_as_owner(segmentation.name, segmentation.owner_role,
				pg_catalog.format('SELECT segment.fill_customer_value(%L)', segmentation.name));
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS reason = MESSAGE_TEXT;
			RAISE EXCEPTION USING ERRCODE = '55000',
				MESSAGE = pg_catalog.format('cannot give segmentation "%s" its customer-value columns: %s', segmentation.name, reason),
				HINT = 'Fix what the message names (the segmentation''s tables must be its owner''s), then update again; nothing has changed.';
		END;
	END LOOP;
END
$value$;
