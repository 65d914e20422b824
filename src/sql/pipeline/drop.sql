/* src/sql/pipeline/drop.sql */

-- The objects that would go with a segmentation's schema and tables and are
-- not the segmentation's own, described as DROP describes them: what lives
-- in the schema besides its tables; what depends on those tables (views,
-- foreign keys, rules, triggers, policies, indexes other than the unique key
-- the segmentation made, statistics, publications) or on their row types
CREATE OR REPLACE FUNCTION segment.segmentation_dependents(schema regnamespace)
	RETURNS SETOF text
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	WITH own AS (
		SELECT c.oid, c.reltype, t.unique_key FROM pg_class c
		JOIN segment.segmentation_tables() t ON t.result_table = c.relname
		WHERE c.relnamespace = schema AND c.relkind = 'r'),
	own_index AS (
		SELECT i.oid FROM pg_class i JOIN pg_index x ON x.indexrelid = i.oid JOIN own o ON o.oid = x.indrelid
		WHERE i.relname = (SELECT c.relname FROM pg_class c WHERE c.oid = o.oid) || '_key'),
	dependent AS (
		-- in the schema
		SELECT d.classid, d.objid, d.objsubid FROM pg_depend d
		WHERE d.refclassid = 'pg_namespace'::regclass AND d.refobjid = schema AND d.deptype = 'n'
			AND NOT (d.classid = 'pg_class'::regclass AND d.objid IN (SELECT oid FROM own))
		UNION
		-- on the tables or their row types; a view by its name, not its rule
		SELECT d.classid, d.objid, d.objsubid FROM pg_depend d
		WHERE d.deptype IN ('n', 'a')
			AND ((d.refclassid = 'pg_class'::regclass AND d.refobjid IN (SELECT oid FROM own))
				 OR (d.refclassid = 'pg_type'::regclass AND d.refobjid IN (SELECT reltype FROM own)))
			AND NOT (d.classid = 'pg_class'::regclass AND d.objid IN (SELECT oid FROM own UNION ALL SELECT oid FROM own_index))
			AND NOT (d.classid = 'pg_rewrite'::regclass
					 AND EXISTS (SELECT FROM pg_rewrite r WHERE r.oid = d.objid AND r.rulename = '_RETURN'))
			-- Citus's own trigger on a distributed table (segment.colocation_source)
			AND NOT (d.classid = 'pg_trigger'::regclass
					 AND EXISTS (SELECT FROM pg_trigger g JOIN pg_proc p ON p.oid = g.tgfoid
								 WHERE g.oid = d.objid AND p.proname = 'citus_truncate_trigger'
									 AND p.pronamespace = 'pg_catalog'::regnamespace))
		UNION
		SELECT 'pg_class'::regclass, r.ev_class, 0 FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
		WHERE d.classid = 'pg_rewrite'::regclass AND r.rulename = '_RETURN' AND d.deptype = 'n'
			AND ((d.refclassid = 'pg_class'::regclass AND d.refobjid IN (SELECT oid FROM own))
				 OR (d.refclassid = 'pg_type'::regclass AND d.refobjid IN (SELECT reltype FROM own)))
			AND r.ev_class NOT IN (SELECT oid FROM own))
	SELECT DISTINCT pg_describe_object(classid, objid, objsubid) FROM dependent ORDER BY 1
	$$;
COMMENT ON FUNCTION segment.segmentation_dependents(regnamespace) IS
	'the objects in a segmentation''s schema or depending on its tables that are not the segmentation''s own';

-- drop_segmentation: remove the schema, its tables and the record; what is
-- not the segmentation's own only when asked with cascade
CREATE OR REPLACE FUNCTION segment.drop_segmentation(name text, "cascade" boolean DEFAULT false)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	segmentation text := drop_segmentation.name;
	drop_dependents boolean := drop_segmentation."cascade";
	dependents text[];
	own_tables text;
	schema regnamespace;
BEGIN
	IF segmentation IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'name must not be NULL';
	END IF;
	IF drop_dependents IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'cascade must not be NULL';
	END IF;
	schema := (segment.lock_segmentation(segmentation)).schema;
	-- the segmentation's own schema only: not one made later under its name
	IF EXISTS (SELECT FROM pg_namespace n WHERE n.oid = schema AND n.nspname = segmentation) THEN
		dependents := ARRAY(SELECT segment.segmentation_dependents(schema));
		IF cardinality(dependents) > 0 AND NOT drop_dependents THEN
			RAISE EXCEPTION USING ERRCODE = '2BP01',
				MESSAGE = format('cannot drop segmentation "%s" because other objects depend on it', segmentation),
				DETAIL = format('%s %s not made by the segmentation: %s.', cardinality(dependents),
					CASE WHEN cardinality(dependents) = 1 THEN 'object is' ELSE 'objects are' END,
					array_to_string(dependents, ', ')),
				HINT = format('Drop or move them first, or call segment.drop_segmentation(%L, cascade => true) to drop them too.', segmentation);
		END IF;
		IF drop_dependents THEN
			EXECUTE format('DROP SCHEMA %I CASCADE', segmentation);
		ELSE
			-- RESTRICT all the same: nothing that is not the segmentation's goes
			SELECT string_agg(format('%I.%I', segmentation, c.relname), ', ') INTO own_tables
			FROM pg_class c WHERE c.relnamespace = schema AND c.relkind = 'r'
				AND c.relname IN (SELECT t.result_table FROM segment.segmentation_tables() t);
			IF own_tables IS NOT NULL THEN
				EXECUTE format('DROP TABLE %s RESTRICT', own_tables);
			END IF;
			EXECUTE format('DROP SCHEMA %I RESTRICT', segmentation);
		END IF;
	END IF;
	DELETE FROM segment.segmentations s WHERE s.name = segmentation;
END
$function$;
COMMENT ON FUNCTION segment.drop_segmentation(text, boolean) IS
	'removes a segmentation: its schema, its tables and its record; refuses when other objects depend on them unless cascade';

