/* src/sql/pipeline/history.sql */

-- Keep history up to date with the assignments just made, at time at (the
-- data's time: the refresh's as_of): the open row of a customer whose
-- segment changed is closed and a new one opened (with cluster NULL for a
-- customer no longer clustered).  A refit that lowers k renumbers segments
-- (segmentations.renumbering maps each previous number to the new one): a
-- row stays open only when its segment keeps its customer and its number,
-- so history replays every refresh's assignments.  A refresh at the same
-- time as the last one (same_time) corrects what that one recorded: the rows
-- it opened for customers that moved again are taken back; their previous
-- rows, closed at that time, are reopened first (reopen) when their numbers
-- mean what the last refresh's numbers meant (it had a model to start from
-- and did not renumber), else they stay closed and the new rows start
-- there.  The open rows carry the segments' current labels.
CREATE OR REPLACE FUNCTION segment.record_history(segmentation text, at timestamptz, recorded_at timestamptz,
		same_time boolean, reopen boolean)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	renumbering integer[] := (SELECT s.renumbering FROM segment.segmentations s WHERE s.name = segmentation);
	-- an open row h whose customer's segment (or number) is no longer its own
	moved text := format($sql$ NOT EXISTS (
			SELECT FROM %1$I.assignments a WHERE a.customer_id = h.customer_id AND a.cluster IS NOT DISTINCT FROM h.cluster
				AND ($2 IS NULL OR h.cluster IS NULL OR $2[h.cluster] IS NOT DISTINCT FROM h.cluster)) $sql$, segmentation);
BEGIN
	IF same_time THEN
		EXECUTE format($sql$
			WITH taken_back AS (
				DELETE FROM %1$I.history h WHERE h.valid_from = $1 AND h.valid_to IS NULL AND %2$s
				RETURNING h.customer_id)
			UPDATE %1$I.history h SET valid_to = NULL
			FROM taken_back t WHERE $3 AND h.customer_id = t.customer_id AND h.valid_to = $1 $sql$,
			segmentation, moved) USING at, renumbering, reopen;
	END IF;
	EXECUTE format($sql$
		UPDATE %1$I.history h SET valid_to = $1
		WHERE h.valid_to IS NULL AND %2$s $sql$,
		segmentation, moved) USING at, renumbering;
	EXECUTE format($sql$
		INSERT INTO %1$I.history (customer_id, cluster, label, valid_from, valid_to, recorded_at)
		SELECT a.customer_id, a.cluster, p.label, $1, NULL, $2
		FROM %1$I.assignments a LEFT JOIN %1$I.profiles p USING (cluster)
		WHERE NOT EXISTS (SELECT FROM %1$I.history h WHERE h.customer_id = a.customer_id AND h.valid_to IS NULL)
			AND (a.cluster IS NOT NULL OR EXISTS (SELECT FROM %1$I.history h WHERE h.customer_id = a.customer_id)) $sql$,
		segmentation) USING at, recorded_at;
	EXECUTE format($sql$
		UPDATE %1$I.history h SET label = p.label
		FROM %1$I.profiles p WHERE h.valid_to IS NULL AND h.cluster = p.cluster AND h.label IS DISTINCT FROM p.label $sql$,
		segmentation);
END
$function$;
COMMENT ON FUNCTION segment.record_history(text, timestamptz, timestamptz, boolean, boolean) IS
	'closes and opens the history rows of the customers whose segment changed';

-- Raise 22023 when as_of is before the time history runs to (history is in
-- the data's time: it cannot record the past after the present)
CREATE OR REPLACE FUNCTION segment.check_history_time(segmentation text, as_of timestamp, history_as_of timestamp)
	RETURNS void
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
BEGIN
	IF as_of < history_as_of THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('as_of %s is before the history of segmentation "%s", which runs to %s',
				as_of, segmentation, history_as_of),
			DETAIL = 'History records each refresh at its as_of, the data''s time, and does not go back.',
			HINT = format('Create another segmentation with as_of => %L to see the segments of that time.', as_of);
	END IF;
END
$function$;
COMMENT ON FUNCTION segment.check_history_time(text, timestamp, timestamp) IS
	'raises 22023 when as_of is before the time the history of a segmentation runs to';

