/* src/sql/pipeline/create.sql */

-- The errors of a name already taken by a schema or a segmentation
CREATE OR REPLACE FUNCTION segment.raise_schema_exists(segmentation text)
	RETURNS void
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
BEGIN
	RAISE EXCEPTION USING ERRCODE = '42P06', MESSAGE = format('schema "%s" already exists', segmentation),
		HINT = 'A segmentation creates a schema of its name (or takes back one of yours that holds a segmentation''s history): choose another name or drop that schema.';
END
$function$;
COMMENT ON FUNCTION segment.raise_schema_exists(text) IS 'raises the error of a segmentation name taken by a schema';

CREATE OR REPLACE FUNCTION segment.raise_segmentation_exists(segmentation text)
	RETURNS void
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
BEGIN
	RAISE EXCEPTION USING ERRCODE = '42710', MESSAGE = format('segmentation "%s" already exists', segmentation),
		HINT = format('A segmentation of this name is recorded although its schema is gone: its owner (or a superuser) removes the record with segment.drop_segmentation(%L).', segmentation);
END
$function$;
COMMENT ON FUNCTION segment.raise_segmentation_exists(text) IS 'raises the error of a segmentation name already registered';

-- Forget the registry row of segmentation name when nobody can own it any
-- more: its schema is gone and so is the role that owned it (DROP OWNED BY,
-- then DROP ROLE), so that its name is free again.  The only function that
-- runs with the extension owner's rights: it deletes nothing else, and no
-- one could have read or refreshed that row.
CREATE OR REPLACE FUNCTION segment.forget_orphaned_segmentation(name text)
	RETURNS boolean
	LANGUAGE sql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	WITH forgotten AS (
		DELETE FROM segment.segmentations s
		WHERE s.name = forget_orphaned_segmentation.name
			AND NOT EXISTS (SELECT FROM pg_namespace n WHERE n.oid = s.schema)
			AND NOT EXISTS (SELECT FROM pg_roles a WHERE a.oid = s.owner)
		RETURNING 1)
	SELECT EXISTS (SELECT FROM forgotten)
	$$;
COMMENT ON FUNCTION segment.forget_orphaned_segmentation(text) IS
	'deletes the registry row of a segmentation whose schema and owning role were both dropped; returns whether it did';

-- The schema a create_segmentation of this name takes back, if any: one
-- made by create_segmentation (its comment says so, and pg_dump -n keeps
-- it), of a role the caller has the rights of, that holds a segmentation's
-- history with its key, whose tables of a segmentation's names are all
-- tables of the schema's owner, and that no registry row claims (restored
-- from a one-schema dump, or left by DROP EXTENSION ... CASCADE of another
-- version)
CREATE OR REPLACE FUNCTION segment.segmentation_schema_to_take_back(segmentation text)
	RETURNS regnamespace
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT n.oid::regnamespace FROM pg_namespace n
	WHERE n.nspname = segmentation AND pg_has_role(n.nspowner, 'USAGE')
		AND obj_description(n.oid, 'pg_namespace') ~ ('^segmentation ' || segmentation || ' of .*, made by segment\.create_segmentation$')
		AND (SELECT count(*) FROM pg_attribute a
			 WHERE a.attrelid = (SELECT c.oid FROM pg_class c WHERE c.relnamespace = n.oid AND c.relname = 'history' AND c.relkind = 'r')
				AND a.attname IN ('customer_id', 'cluster', 'label', 'valid_from', 'valid_to') AND NOT a.attisdropped) = 5
		AND EXISTS (SELECT FROM pg_class c WHERE c.relnamespace = n.oid AND c.relname = 'history_key' AND c.relkind = 'i')
		AND NOT EXISTS (SELECT FROM pg_class c
						WHERE c.relnamespace = n.oid AND c.relname IN (SELECT t.result_table FROM segment.segmentation_tables() t)
							AND (c.relkind <> 'r' OR c.relowner <> n.nspowner))
		AND NOT EXISTS (SELECT FROM segment.segmentations s WHERE s.name = segmentation)
	$$;
COMMENT ON FUNCTION segment.segmentation_schema_to_take_back(text) IS
	'the schema a create_segmentation of this name takes back: a segmentation''s, of the caller''s, without a registry row';

-- create_segmentation: create the schema, register, create the tables, and fit
CREATE OR REPLACE FUNCTION segment.create_segmentation(name text, source regclass, k integer DEFAULT NULL,
		customer_column name DEFAULT 'customer_id', invoice_column name DEFAULT 'invoice_no',
		time_column name DEFAULT 'invoice_date', quantity_column name DEFAULT 'quantity',
		price_column name DEFAULT 'unit_price', country_column name DEFAULT 'country',
		as_of timestamp DEFAULT NULL, seed bigint DEFAULT 0, recipe text DEFAULT 'rfm',
		value_horizon interval DEFAULT '1 year')
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	segmentation text := create_segmentation.name;
	taken_back regnamespace;
	history_runs_to timestamp;
BEGIN
	PERFORM segment.check_segmentation_name(segmentation);
	PERFORM segment.check_source(source);
	IF seed IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'seed must not be NULL';
	END IF;
	IF k IS NOT NULL AND k < 2 THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('k must be at least 2, not %s', k);
	END IF;
	PERFORM segment.check_as_of(as_of);
	PERFORM segment.check_recipe(recipe);
	PERFORM segment.check_value_horizon(value_horizon);
	PERFORM segment.check_source_column(source, 'customer_column', customer_column);
	PERFORM segment.check_source_column(source, 'invoice_column', invoice_column);
	PERFORM segment.check_source_column(source, 'time_column', time_column);
	PERFORM segment.check_source_column(source, 'quantity_column', quantity_column);
	PERFORM segment.check_source_column(source, 'price_column', price_column);
	IF country_column IS NOT NULL THEN
		PERFORM segment.check_source_column(source, 'country_column', country_column);
	END IF;
	IF NOT has_table_privilege(source, 'SELECT') THEN
		RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = format('permission denied for relation %s', source);
	END IF;
	-- the source's code runs with the owner's rights at every refresh, as a
	-- SELECT from it would: say so when that is a superuser's and the source
	-- another role's
	IF EXISTS (SELECT FROM pg_roles a JOIN pg_class c ON c.oid = source
			   WHERE a.rolname = current_user AND a.rolsuper AND c.relowner <> a.oid) THEN
		RAISE WARNING USING
			MESSAGE = format('segmentation "%s" belongs to a superuser and reads %s, which belongs to role %s',
				segmentation, source, (SELECT c.relowner::regrole FROM pg_class c WHERE c.oid = source)),
			DETAIL = 'What that role attaches to the source (functions in a view, row-level security policies) runs with a superuser''s rights at every refresh.',
			HINT = 'Create the segmentation as a role with fewer rights that may read the source, or as its owner.';
	END IF;
	-- one creation of a name at a time: a second session waits here, then
	-- sees the first one's schema
	PERFORM pg_advisory_xact_lock(hashtext('segment.create_segmentation'), hashtext(segmentation));
	IF segment.forget_orphaned_segmentation(segmentation) THEN
		RAISE NOTICE USING
			MESSAGE = format('the record of segmentation "%s", whose schema and owner were dropped, is forgotten', segmentation);
	END IF;
	taken_back := segment.segmentation_schema_to_take_back(segmentation);
	IF taken_back IS NULL AND EXISTS (SELECT FROM pg_namespace n WHERE n.nspname = segmentation) THEN
		PERFORM segment.raise_schema_exists(segmentation);
	END IF;
	IF EXISTS (SELECT FROM segment.segmentations s WHERE s.name = segmentation) THEN
		PERFORM segment.raise_segmentation_exists(segmentation);
	END IF;

	IF taken_back IS NOT NULL THEN
		EXECUTE format('SELECT max(greatest(h.valid_from, h.valid_to)) AT TIME ZONE %L FROM %I.history h',
			current_setting('TimeZone'), segmentation) INTO history_runs_to;
		PERFORM segment.check_history_time(segmentation, as_of, history_runs_to);
		RAISE NOTICE USING
			MESSAGE = format('segmentation "%s" takes back the tables of schema "%s"', segmentation, segmentation),
			DETAIL = 'Their rows are refreshed and history goes on from its last row; segment numbers start anew and labels given with segment.set_label are not kept.';
	ELSE
		-- the schema first: the registry's row-level security admits a row only
		-- for a schema of the caller's
		BEGIN
			EXECUTE format('CREATE SCHEMA %I', segmentation);
		EXCEPTION WHEN unique_violation OR duplicate_schema THEN
			PERFORM segment.raise_schema_exists(segmentation);
		END;
		EXECUTE format('COMMENT ON SCHEMA %I IS %L', segmentation,
			format('segmentation %s of %s, made by segment.create_segmentation', segmentation, source));
	END IF;
	BEGIN
		INSERT INTO segment.segmentations (name, schema, source, source_name, k, customer_column, invoice_column, time_column,
			quantity_column, price_column, country_column, as_of, seed, time_zone, features, recipe, history_as_of,
			value_horizon)
		VALUES (segmentation, to_regnamespace(quote_ident(segmentation)), source,
			(SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			 WHERE c.oid = source),
			k, customer_column, invoice_column, time_column,
			quantity_column, price_column, country_column, as_of, seed, current_setting('TimeZone'),
			segment.segmentation_features(recipe, country_column IS NOT NULL), recipe, history_runs_to, value_horizon);
	EXCEPTION WHEN unique_violation THEN
		-- a row of another role's, hidden by row-level security
		PERFORM segment.raise_segmentation_exists(segmentation);
	END;
	-- (the refresh creates the tables)
	PERFORM segment.refresh_segmentation(segmentation);
END
$function$;
COMMENT ON FUNCTION segment.create_segmentation(text, regclass, integer, name, name, name, name, name, name, timestamp, bigint, text, interval) IS
	'segments the customers of a table of invoice lines into schema "name", with tables for BI tools';

