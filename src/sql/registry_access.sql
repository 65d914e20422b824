/* src/sql/registry_access.sql */

-- Who may read and write the registry, and what pg_dump keeps of it
-- (README: "Privileges" and "Dumps, upgrades and drops")
--
-- The pipeline runs with its caller's rights (no SECURITY DEFINER), so the
-- caller writes the registry itself.  Row-level security lets a role see the
-- segmentations it owns, and write only a row that create_segmentation would
-- have let it make: one for a schema of that name that it owns (which takes
-- CREATE on the database) and a source it can SELECT.  A row edited by hand
-- can therefore name only the editor's own schema and readable tables, and
-- every refresh recomputes what it fits from the source.

-- The role that owns a segmentation: the owner of its schema, so that ALTER
-- SCHEMA ... OWNER TO and REASSIGN OWNED move the segmentation with it; its
-- recorded owner while no schema of that name exists
CREATE FUNCTION segment.segmentation_owner(name text, recorded_owner regrole)
	RETURNS oid
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT coalesce((SELECT n.nspowner FROM pg_namespace n WHERE n.nspname = name), recorded_owner::oid)
	$$;
COMMENT ON FUNCTION segment.segmentation_owner(text, regrole) IS
	'the role that owns a segmentation: the owner of its schema, else the recorded owner';

-- Whether the current role could have registered a segmentation of this name
-- and source with create_segmentation
CREATE FUNCTION segment.may_register(name text, source_table regclass)
	RETURNS boolean
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT coalesce(EXISTS (SELECT FROM pg_namespace n WHERE n.nspname = name AND pg_has_role(n.nspowner, 'USAGE'))
		AND has_table_privilege(source_table, 'SELECT'), false)
	$$;
COMMENT ON FUNCTION segment.may_register(text, regclass) IS
	'whether the current role owns a schema of this name and may SELECT from the source, as registering a segmentation requires';

ALTER TABLE segment.segmentations ENABLE ROW LEVEL SECURITY;
CREATE POLICY segmentations_read ON segment.segmentations FOR SELECT
	USING (pg_catalog.pg_has_role(segment.segmentation_owner(name, owner), 'USAGE'));
CREATE POLICY segmentations_insert ON segment.segmentations FOR INSERT
	WITH CHECK (pg_catalog.pg_has_role(owner, 'USAGE') AND segment.may_register(name, source));
CREATE POLICY segmentations_update ON segment.segmentations FOR UPDATE
	USING (pg_catalog.pg_has_role(segment.segmentation_owner(name, owner), 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role(owner, 'USAGE') AND segment.may_register(name, source));
CREATE POLICY segmentations_delete ON segment.segmentations FOR DELETE
	USING (pg_catalog.pg_has_role(segment.segmentation_owner(name, owner), 'USAGE'));
GRANT SELECT, INSERT, UPDATE, DELETE ON segment.segmentations TO PUBLIC;

ALTER TABLE segment.segmentation_scores ENABLE ROW LEVEL SECURITY;
CREATE POLICY segmentation_scores_of_owner ON segment.segmentation_scores
	USING (EXISTS (SELECT FROM segment.segmentations s WHERE s.name = segmentation_scores.name))
	WITH CHECK (EXISTS (SELECT FROM segment.segmentations s WHERE s.name = segmentation_scores.name));
GRANT SELECT, INSERT, UPDATE, DELETE ON segment.segmentation_scores TO PUBLIC;

-- pg_dump keeps every row of the registry (a table of an extension is
-- otherwise left out of a dump); the segmentations' own schemas and tables
-- are ordinary objects that pg_dump keeps with their rows
SELECT pg_catalog.pg_extension_config_dump('segment.segmentations', '');
SELECT pg_catalog.pg_extension_config_dump('segment.segmentation_scores', '');
