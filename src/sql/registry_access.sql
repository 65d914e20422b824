/* src/sql/registry_access.sql */

-- Who may read and write the registry, and what pg_dump keeps of it
-- (README: "Privileges" and "Dumps, upgrades and drops")
--
-- The pipeline runs with its caller's rights (no SECURITY DEFINER), so the
-- caller writes the registry itself.  Row-level security lets a role see the
-- segmentations it owns or whose tables it may read, and write only a row
-- that create_segmentation would have let it make: one for a schema of that name that it owns (which takes
-- CREATE on the database) and a source it can SELECT.  A row edited by hand
-- can therefore name only the editor's own schema and readable tables, and
-- every refresh recomputes what it fits from the source.

-- The tables of a segmentation in the order a refresh fills them (history
-- last: it is kept row by row, not refilled), each with its unique key, an
-- index named <table>_key
CREATE FUNCTION segment.segmentation_tables()
	RETURNS TABLE (result_table text, unique_key text)
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	VALUES ('features', 'customer_id'), ('assignments', 'customer_id'), ('profiles', 'cluster'),
		('elbow', 'k'), ('silhouette', 'cluster'), ('boxplots', 'cluster, feature'),
		('pca', 'component, feature'), ('model', 'k'),
		('transitions', '(coalesce(from_cluster, 0)), (coalesce(to_cluster, 0))'), ('history', 'customer_id, valid_from')
	$$;
COMMENT ON FUNCTION segment.segmentation_tables() IS 'the tables of a segmentation, in the order a refresh fills them, with their unique keys';

-- The role that owns a segmentation: the owner of its schema, so that
-- REASSIGN OWNED moves the segmentation with it; its recorded owner once that
-- schema is gone.  The schema is known by its OID (a regnamespace, which
-- pg_dump writes by name): a schema made later under the same name is not
-- the segmentation's and gives its owner nothing.
CREATE FUNCTION segment.segmentation_owner(schema regnamespace, recorded_owner regrole)
	RETURNS oid
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT coalesce((SELECT n.nspowner FROM pg_namespace n WHERE n.oid = schema), recorded_owner::oid)
	$$;
COMMENT ON FUNCTION segment.segmentation_owner(regnamespace, regrole) IS
	'the role that owns a segmentation: the owner of its schema, else the recorded owner';

-- Whether the current role could have registered a segmentation of this
-- name, schema and source with create_segmentation: a valid name, the
-- schema of that name and the current role's, SELECT on the source
CREATE FUNCTION segment.may_register(name text, schema regnamespace, source_table regclass)
	RETURNS boolean
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT coalesce(name ~ '^[a-z_][a-z0-9_]*$' AND octet_length(name) <= 63
		AND name NOT IN ('segment', 'public', 'information_schema', 'cron') AND name NOT LIKE 'pg\_%'
		AND EXISTS (SELECT FROM pg_namespace n
					WHERE n.oid = schema AND n.nspname = name AND pg_has_role(n.nspowner, 'USAGE'))
		AND has_table_privilege(source_table, 'SELECT'), false)
	$$;
COMMENT ON FUNCTION segment.may_register(text, regnamespace, regclass) IS
	'whether the current role may record a segmentation of this name, schema and source, as create_segmentation requires';

-- Whether the current role may read the tables of a segmentation (USAGE on
-- its schema and SELECT on each table): then it may read its record too,
-- and so plot it and report it
CREATE FUNCTION segment.may_read_results(schema regnamespace)
	RETURNS boolean
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT coalesce((SELECT has_schema_privilege(n.oid, 'USAGE') FROM pg_namespace n WHERE n.oid = schema), false)
		AND (SELECT count(*) = (SELECT count(*) FROM segment.segmentation_tables()) AND bool_and(has_table_privilege(c.oid, 'SELECT'))
			 FROM pg_class c
			 WHERE c.relnamespace = schema AND c.relkind = 'r'
				AND c.relname IN (SELECT t.result_table FROM segment.segmentation_tables() t))
	$$;
COMMENT ON FUNCTION segment.may_read_results(regnamespace) IS
	'whether the current role may read every table of a segmentation';

-- Whether the current role owns segmentation name (is a member of its owner)
CREATE FUNCTION segment.owns_segmentation(name text)
	RETURNS boolean
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT EXISTS (SELECT FROM segment.segmentations s
				   WHERE s.name = owns_segmentation.name AND pg_has_role(segment.segmentation_owner(s.schema, s.owner), 'USAGE'))
	$$;
COMMENT ON FUNCTION segment.owns_segmentation(text) IS 'whether the current role owns a segmentation';

ALTER TABLE segment.segmentations ENABLE ROW LEVEL SECURITY;
CREATE POLICY segmentations_read ON segment.segmentations FOR SELECT
	USING (pg_catalog.pg_has_role(segment.segmentation_owner(schema, owner), 'USAGE') OR segment.may_read_results(schema));
CREATE POLICY segmentations_insert ON segment.segmentations FOR INSERT
	WITH CHECK (pg_catalog.pg_has_role(owner, 'USAGE') AND segment.may_register(name, schema, source));
CREATE POLICY segmentations_update ON segment.segmentations FOR UPDATE
	USING (pg_catalog.pg_has_role(segment.segmentation_owner(schema, owner), 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role(owner, 'USAGE') AND segment.may_register(name, schema, source));
CREATE POLICY segmentations_delete ON segment.segmentations FOR DELETE
	USING (pg_catalog.pg_has_role(segment.segmentation_owner(schema, owner), 'USAGE'));
GRANT SELECT, INSERT, UPDATE, DELETE ON segment.segmentations TO PUBLIC;

ALTER TABLE segment.segmentation_scores ENABLE ROW LEVEL SECURITY;
CREATE POLICY segmentation_scores_read ON segment.segmentation_scores FOR SELECT
	USING (EXISTS (SELECT FROM segment.segmentations s WHERE s.name = segmentation_scores.name));
CREATE POLICY segmentation_scores_write ON segment.segmentation_scores
	USING (segment.owns_segmentation(name))
	WITH CHECK (segment.owns_segmentation(name));
GRANT SELECT, INSERT, UPDATE, DELETE ON segment.segmentation_scores TO PUBLIC;

-- pg_dump keeps every row of the registry (a table of an extension is
-- otherwise left out of a dump); the segmentations' own schemas and tables
-- are ordinary objects that pg_dump keeps with their rows
SELECT pg_catalog.pg_extension_config_dump('segment.segmentations', '');
SELECT pg_catalog.pg_extension_config_dump('segment.segmentation_scores', '');
