/* src/sql/dependency.sql */

-- The tables of a segmentation depend on the extension, so that DROP
-- EXTENSION segment refuses while segmentations live (docs/reference.md: "Dumps,
-- upgrades and drops")

CREATE OR REPLACE FUNCTION segment.depend_on_extension(relation regclass)
	RETURNS void
	AS 'MODULE_PATHNAME'
	LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION segment.depend_on_extension(regclass) IS
	'records that a table the caller owns depends on extension segment, so that DROP EXTENSION refuses without CASCADE';

-- Give every table of segmentation name that lacks it the dependency on the
-- extension (its owner's work: a refresh, the update, a restore)
CREATE OR REPLACE FUNCTION segment.depend_segmentation_on_extension(segmentation text)
	RETURNS void
	LANGUAGE sql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT segment.depend_on_extension(c.oid)
	FROM segment.segmentations s
	JOIN pg_class c ON c.relnamespace = s.schema AND c.relkind = 'r'
		AND c.relname IN (SELECT t.result_table FROM segment.segmentation_tables() t)
	WHERE s.name = segmentation AND pg_has_role(c.relowner, 'USAGE')
		AND NOT EXISTS (SELECT FROM pg_depend d
						WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.objsubid = 0
							AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'n'
							AND d.refobjid = (SELECT e.oid FROM pg_extension e WHERE e.extname = 'segment'))
	$$;
COMMENT ON FUNCTION segment.depend_segmentation_on_extension(text) IS
	'gives the tables of a segmentation their dependency on the extension';

-- A registry row restored by pg_restore (after the segmentation's tables):
-- its tables get their dependency at once, not at the next refresh
CREATE OR REPLACE FUNCTION segment.registry_row_restored()
	RETURNS trigger
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
BEGIN
	PERFORM segment.depend_segmentation_on_extension(NEW.name);
	RETURN NULL;
END
$function$;
COMMENT ON FUNCTION segment.registry_row_restored() IS
	'gives the tables of a segmentation whose registry row was just written their dependency on the extension';

-- (made once, by the script that creates dependency.sql's functions)
CREATE TRIGGER registry_row_restored AFTER INSERT ON segment.segmentations
	FOR EACH ROW EXECUTE FUNCTION segment.registry_row_restored();
