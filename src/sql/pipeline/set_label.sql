/* src/sql/pipeline/set_label.sql */

-- set_label: a user's name for a segment, which follows it through
-- refreshes (the matching of centroids); NULL restores the automatic name
CREATE OR REPLACE FUNCTION segment.set_label(name text, cluster integer, label text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	segmentation text := set_label.name;
	r segment.segmentations;
	new_user_labels text[];
	new_labels text[];
	owner_role oid;
BEGIN
	IF segmentation IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'name must not be NULL';
	END IF;
	IF set_label.cluster IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'cluster must not be NULL';
	END IF;
	r := segment.lock_segmentation(segmentation);
	IF r.model IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '42704', MESSAGE = format('segmentation "%s" does not exist', segmentation);
	END IF;
	IF set_label.cluster NOT BETWEEN 1 AND (r.model).k THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('segmentation "%s" has no segment %s', segmentation, set_label.cluster),
			DETAIL = format('Its segments are numbered 1 to %s.', (r.model).k);
	END IF;
	IF set_label.label IS NOT NULL AND (btrim(set_label.label) = '' OR length(set_label.label) > 100
			OR set_label.label ~ '[\u0001-\u001F\u007F-\u009F\u200B-\u200F\u2028-\u202E\u2060-\u2069\uFEFF]') THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('invalid label %s', quote_literal(set_label.label)),
			DETAIL = 'A label is 1 to 100 characters of text, not only spaces, without control, invisible or direction characters.';
	END IF;
	new_user_labels := coalesce(r.user_labels, array_fill(NULL::text, ARRAY[(r.model).k]));
	new_user_labels[set_label.cluster] := set_label.label;
	IF set_label.label IS NOT NULL AND EXISTS (
		SELECT FROM unnest(r.labels) WITH ORDINALITY AS l (label, c)
		WHERE l.c <> set_label.cluster AND l.label = set_label.label) THEN
		RAISE EXCEPTION USING ERRCODE = '23505',
			MESSAGE = format('segmentation "%s" has a segment labelled %s already', segmentation, quote_literal(set_label.label)),
			DETAIL = 'Labels are unique within a segmentation.';
	END IF;
	new_labels := segment.final_labels(segment.segmentation_automatic_labels(r, (r.model).centroids), new_user_labels);
	IF EXISTS (SELECT FROM unnest(new_labels) AS l GROUP BY l HAVING count(*) > 1) THEN
		RAISE EXCEPTION USING ERRCODE = '23505',
			MESSAGE = format('labels of segmentation "%s" would repeat', segmentation),
			DETAIL = 'Labels are unique within a segmentation.';
	END IF;
	UPDATE segment.segmentations s SET user_labels = new_user_labels, labels = new_labels
	WHERE s.name = segmentation;

	-- the tables that name segments, as the segmentation's owner,
	-- security-restricted (segment.refresh_segmentation says why)
	owner_role := segment.segmentation_owner(r.schema, r.owner);
	PERFORM segment.execute_as_owner(segmentation, owner_role::regrole, format($sql$
		UPDATE %1$I.profiles p SET label = l.label, label_source = CASE WHEN (%3$L::text[])[l.c] IS NULL THEN 'automatic' ELSE 'user' END
		FROM unnest(%2$L::text[]) WITH ORDINALITY AS l (label, c) WHERE p.cluster = l.c;
		UPDATE %1$I.transitions t SET from_label = (%2$L::text[])[t.from_cluster] WHERE t.from_cluster IS NOT NULL;
		UPDATE %1$I.transitions t SET to_label = (%2$L::text[])[t.to_cluster] WHERE t.to_cluster IS NOT NULL;
		UPDATE %1$I.history h SET label = %4$s WHERE h.valid_to IS NULL AND h.cluster IS NOT NULL $sql$,
		segmentation, new_labels, new_user_labels, segment.label_case_sql('h.cluster', new_labels)));
END
$function$;
COMMENT ON FUNCTION segment.set_label(text, integer, text) IS
	'names a segment (NULL restores the automatic name); the name follows the segment through refreshes';

-- The label of each segment number as a CASE expression over column: what
-- labels[column] gives, written so that Citus can send it to the shards of
-- a distributed history (Citus 13 cannot deparse an UPDATE that sets a
-- column to an array element)
CREATE OR REPLACE FUNCTION segment.label_case_sql(column_sql text, labels text[])
	RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT coalesce('CASE ' || column_sql || string_agg(format(' WHEN %s THEN %L', l.c, l.label), '' ORDER BY l.c) || ' END',
		'NULL::text')
	FROM unnest(labels) WITH ORDINALITY AS l (label, c)
$$;
COMMENT ON FUNCTION segment.label_case_sql(text, text[]) IS
	'CASE column WHEN 1 THEN labels[1] ... END: a segment number''s label, as an expression';

