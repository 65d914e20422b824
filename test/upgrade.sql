-- pgTAP: the upgrade chain from the first release to the current version
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(6);
CREATE EXTENSION segment VERSION '0.1';
SELECT is((SELECT extversion FROM pg_extension WHERE extname = 'segment'), '0.1', 'version 0.1 installs');
SELECT hasnt_function('segment', 'create_segmentation', 'version 0.1 has no pipeline');
SELECT lives_ok('ALTER EXTENSION segment UPDATE', 'ALTER EXTENSION segment UPDATE runs');
SELECT is((SELECT extversion FROM pg_extension WHERE extname = 'segment'),
	(SELECT default_version FROM pg_available_extensions WHERE name = 'segment'), 'the update reaches the default version');
SELECT has_function('segment', 'create_segmentation', 'the pipeline is there after the update');
-- an updated installation has the same objects as a fresh one
CREATE TEMP TABLE updated_objects AS
SELECT pg_describe_object(d.classid, d.objid, d.objsubid) AS object FROM pg_depend d
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'segment') AND d.deptype = 'e';
DROP EXTENSION segment;
CREATE EXTENSION segment;
SELECT set_eq(
	$$SELECT object FROM updated_objects$$,
	$$SELECT pg_describe_object(d.classid, d.objid, d.objsubid) FROM pg_depend d
	  WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'segment') AND d.deptype = 'e'$$,
	'the updated extension has the objects of a fresh installation');
SELECT * FROM finish();
ROLLBACK;
