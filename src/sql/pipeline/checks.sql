/* src/sql/pipeline/checks.sql */

-- Raise the error for a name that cannot be a segmentation's schema
CREATE OR REPLACE FUNCTION segment.check_segmentation_name(name text)
	RETURNS void
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
BEGIN
	IF name IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'name must not be NULL';
	END IF;
	IF name ~ '^[A-Za-z_][A-Za-z0-9_]*$' AND name <> lower(name) AND octet_length(name) <= 63 THEN
		RAISE EXCEPTION USING ERRCODE = '42602',
			MESSAGE = format('invalid segmentation name %s', quote_literal(name)),
			DETAIL = 'A segmentation name is also the name of its schema, written without quotes in queries, so it is in lower case.',
			HINT = format('Use %L.', lower(name));
	END IF;
	IF name !~ '^[a-z_][a-z0-9_]*$' OR octet_length(name) > 63 THEN
		RAISE EXCEPTION USING ERRCODE = '42602',
			MESSAGE = format('invalid segmentation name %s', quote_literal(name)),
			DETAIL = 'A segmentation name is also the name of its schema: a lower-case letter or underscore, then lower-case letters, digits or underscores, at most 63 bytes.';
	END IF;
	IF lower(name) IN ('segment', 'public', 'information_schema', 'cron') OR lower(name) LIKE 'pg\_%' THEN
		RAISE EXCEPTION USING ERRCODE = '42939',
			MESSAGE = format('segmentation name "%s" is reserved', name);
	END IF;
END
$function$;
COMMENT ON FUNCTION segment.check_segmentation_name(text) IS 'raises an error for a name that cannot be a segmentation';

-- Raise the error for a source that is missing (an OID of nothing) or is not
-- a relation with rows (a sequence, an index, a composite type, ...)
CREATE OR REPLACE FUNCTION segment.check_source(relation regclass)
	RETURNS void
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	kind "char";
BEGIN
	IF relation IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'source must not be NULL';
	END IF;
	SELECT c.relkind INTO kind FROM pg_class c WHERE c.oid = relation;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = '42P01', MESSAGE = format('relation with OID %s does not exist', relation::oid);
	END IF;
	IF kind NOT IN ('r', 'p', 'v', 'm', 'f') THEN
		RAISE EXCEPTION USING ERRCODE = '42809',
			MESSAGE = format('source %s is not a table, view, materialized view or foreign table', relation),
			DETAIL = format('It is %s.', CASE kind WHEN 'S' THEN 'a sequence' WHEN 'i' THEN 'an index' WHEN 'I' THEN 'a partitioned index'
				WHEN 'c' THEN 'a composite type' WHEN 't' THEN 'a TOAST table' ELSE format('of kind %L', kind) END);
	END IF;
	-- a temporary table or view lives in one session, and the refreshes run
	-- in others (a scheduled job's)
	IF (SELECT c.relpersistence FROM pg_class c WHERE c.oid = relation) = 't' THEN
		RAISE EXCEPTION USING ERRCODE = '0A000',
			MESSAGE = format('source %s is temporary', relation),
			DETAIL = 'A temporary relation is gone when its session ends, and no other session (a scheduled refresh) can read it.',
			HINT = 'Segment a table, an unlogged table or a view that is not temporary.';
	END IF;
END
$function$;
COMMENT ON FUNCTION segment.check_source(regclass) IS
	'raises an error when a source is missing or is not a table, view, materialized view or foreign table';

-- Raise the error for a reference time of recency that is not finite
CREATE OR REPLACE FUNCTION segment.check_as_of(as_of timestamp)
	RETURNS void
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
BEGIN
	IF NOT isfinite(as_of) THEN
		RAISE EXCEPTION USING ERRCODE = '22008', MESSAGE = format('as_of must be a finite time, not %s', as_of),
			DETAIL = 'as_of is the reference time of recency and the cut-off of the lines used; NULL means the time of the latest line.';
	END IF;
END
$function$;
COMMENT ON FUNCTION segment.check_as_of(timestamp) IS 'raises an error for an as_of that is infinity or -infinity';

-- Raise an error for a value_horizon that is NULL, not above 0 or beyond
-- a hundred years (a month counts 30 days, a year 365.25)
CREATE OR REPLACE FUNCTION segment.check_value_horizon(value_horizon interval)
	RETURNS void
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
BEGIN
	IF value_horizon IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'value_horizon must not be NULL';
	END IF;
	IF NOT segment.value_horizon_days(value_horizon) BETWEEN 1.0 / 86400 AND 100 * 365.25 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('value_horizon must be between 1 second and 100 years, not %s', value_horizon),
			DETAIL = 'It is the time over which the customers'' purchases and value are predicted, from the reference time on.';
	END IF;
END
$function$;
COMMENT ON FUNCTION segment.check_value_horizon(interval) IS 'raises an error for a value_horizon that is NULL, not above 0 or beyond 100 years';

-- Whether values of a type can be grouped: a default btree or hash operator
-- class for the type, its array, enum or range family (as GROUP BY needs)
CREATE OR REPLACE FUNCTION segment.type_is_groupable(column_type regtype)
	RETURNS boolean
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT EXISTS (
		SELECT FROM pg_opclass o JOIN pg_am m ON m.oid = o.opcmethod JOIN pg_type t ON t.oid = column_type
		WHERE m.amname IN ('btree', 'hash') AND o.opcdefault
		  AND (o.opcintype = t.oid
			OR (o.opcintype = 'anyarray'::regtype AND t.typcategory = 'A' AND segment.type_is_groupable(t.typelem))
			OR (o.opcintype = 'anyenum'::regtype AND t.typtype = 'e')
			OR (o.opcintype = 'anyrange'::regtype AND t.typtype = 'r')
			OR (o.opcintype = 'record'::regtype AND t.typtype = 'c')
			OR (t.typtype <> 'd' AND EXISTS (SELECT FROM pg_cast c WHERE c.castsource = t.oid
				AND c.casttarget = o.opcintype AND c.castmethod = 'b'))))
	$$;
COMMENT ON FUNCTION segment.type_is_groupable(regtype) IS
	'whether values of the type can be grouped (a default btree or hash operator class applies)';

-- Raise the error for a column mapping that names no column of the source,
-- or one whose type the pipeline cannot use; in a refresh (segmentation
-- given) the error names the segmentation and how to remap
CREATE OR REPLACE FUNCTION segment.check_source_column(relation regclass, argument text, column_name name,
		segmentation text DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	column_type regtype;
	accepted regtype[];
	accepted_text text;
	prefix text := CASE WHEN segmentation IS NOT NULL THEN format('segmentation "%s": ', segmentation) ELSE '' END;
	remap text := CASE WHEN segmentation IS NOT NULL
		THEN format('Map %s to another column with segment.alter_segmentation(%L, %s => ...), or drop and create the segmentation.',
			argument, segmentation, argument)
		ELSE format('Pass the name of the column to use as %s.', argument) END;
BEGIN
	IF column_name IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = format('%s must not be NULL', argument);
	END IF;
	-- the type, or a domain's base type
	SELECT coalesce(nullif(t.typbasetype, 0), t.oid)::regtype INTO column_type
	FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
	WHERE a.attrelid = relation AND a.attname = column_name AND a.attnum > 0 AND NOT a.attisdropped;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = '42703',
			MESSAGE = format('%scolumn "%s" (%s) of relation %s does not exist', prefix, column_name, argument, relation),
			HINT = remap;
	END IF;
	-- customers are grouped: the type needs an equality the planner can use
	IF argument = 'customer_column' AND NOT segment.type_is_groupable(column_type) THEN
		RAISE EXCEPTION USING ERRCODE = '42804',
			MESSAGE = format('%s%s "%s" of relation %s has type %s', prefix, argument, column_name, relation, column_type),
			DETAIL = format('%s must be a column of a type with a default btree or hash operator class (integer, bigint, text, uuid, ...), so that its values can be grouped; %s has none.',
				argument, column_type),
			HINT = CASE WHEN segmentation IS NOT NULL THEN remap
				ELSE 'Pass another column, or a view of the source that casts this one (for json, to jsonb or text).' END;
	END IF;
	accepted := CASE argument
		WHEN 'invoice_column' THEN ARRAY['text', 'character varying', 'character', 'smallint', 'integer', 'bigint']::regtype[]
		WHEN 'time_column' THEN ARRAY['timestamp without time zone', 'timestamp with time zone', 'date']::regtype[]
		WHEN 'quantity_column' THEN ARRAY['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision']::regtype[]
		WHEN 'price_column' THEN ARRAY['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision']::regtype[]
		END;
	IF accepted IS NOT NULL AND column_type <> ALL (accepted) THEN
		accepted_text := array_to_string(accepted::text[], ', ');
		RAISE EXCEPTION USING ERRCODE = '42804',
			MESSAGE = format('%s%s "%s" of relation %s has type %s', prefix, argument, column_name, relation, column_type),
			DETAIL = format('%s must be a column of type %s.', argument,
				regexp_replace(accepted_text, ', ([^,]*)$', ' or \1')),
			HINT = CASE WHEN segmentation IS NOT NULL THEN remap
				ELSE 'Pass another column, or a view of the source that casts this one.' END;
	END IF;
END
$function$;
COMMENT ON FUNCTION segment.check_source_column(regclass, text, name, text) IS
	'raises an error when a column mapping names no column of the source, or one of a type the pipeline cannot use';

-- Raise the error for any mapping of registry row r that does not fit its source
CREATE OR REPLACE FUNCTION segment.check_source_columns(r segment.segmentations, segmentation text DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
BEGIN
	PERFORM segment.check_source_column(r.source, 'customer_column', r.customer_column, segmentation);
	PERFORM segment.check_source_column(r.source, 'invoice_column', r.invoice_column, segmentation);
	PERFORM segment.check_source_column(r.source, 'time_column', r.time_column, segmentation);
	PERFORM segment.check_source_column(r.source, 'quantity_column', r.quantity_column, segmentation);
	PERFORM segment.check_source_column(r.source, 'price_column', r.price_column, segmentation);
	IF r.country_column IS NOT NULL THEN
		PERFORM segment.check_source_column(r.source, 'country_column', r.country_column, segmentation);
	END IF;
END
$function$;
COMMENT ON FUNCTION segment.check_source_columns(segment.segmentations, text) IS
	'raises an error when a column mapping of a segmentation does not fit its source';

