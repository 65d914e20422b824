/* src/sql/pipeline/trim_history.sql */

-- trim_history: delete the closed history rows that ended more than
-- older_than before the time history runs to (the last refresh's as_of, the
-- data's time in which history is kept); returns how many
CREATE OR REPLACE FUNCTION segment.trim_history(name text, older_than interval)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	segmentation text := trim_history.name;
	r segment.segmentations;
	owner_role oid;
	cutoff timestamptz;
BEGIN
	IF segmentation IS NULL OR older_than IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'name and older_than must not be NULL';
	END IF;
	IF older_than < interval '0' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('older_than must not be negative, not %s', older_than);
	END IF;
	r := segment.lock_segmentation(segmentation);
	IF NOT EXISTS (SELECT FROM pg_namespace n WHERE n.oid = r.schema AND n.nspname = segmentation) THEN
		RAISE EXCEPTION USING ERRCODE = '42704', MESSAGE = format('segmentation "%s" does not exist', segmentation);
	END IF;
	-- as the segmentation's owner, security-restricted
	owner_role := segment.segmentation_owner(r.schema, r.owner);
	-- the cut-off as an exact epoch: a constant Citus can send to the shards
	cutoff := coalesce(r.history_as_of AT TIME ZONE r.time_zone, now()) - older_than;
	RETURN segment.execute_as_owner(segmentation, owner_role::regrole,
		format('WITH gone AS (DELETE FROM %I.history WHERE valid_to < to_timestamp(%s) '
			'RETURNING 1) SELECT count(*) FROM gone', segmentation, extract(epoch FROM cutoff)))::bigint;
END
$function$;
COMMENT ON FUNCTION segment.trim_history(text, interval) IS
	'deletes the closed history rows that ended more than older_than before the last refresh''s as_of; returns how many';
