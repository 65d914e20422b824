/* src/sql/update--0.2--0.3.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION segment UPDATE TO '0.3'" to load this file. \quit

-- The update from 0.2: this file, then the files of the building blocks
-- 0.3 adds (most_frequent, evaluate), then those of the pipeline layer
-- (registry_access, marketing, pipeline, labels, plots, report), which
-- create the functions of 0.3 anew.  The other building blocks are as in 0.2.

--
-- Existing segmentations keep their results: each one's eight materialized
-- views become tables of the same names, rows, owner, privileges, comments
-- and unique keys.  When another object depends on one of those views the
-- update stops and changes nothing, saying which objects to drop first.
--
DO $convert$
DECLARE
	segmentation record;
	result record;
	privilege record;
	col record;
	views oid[];
	dependents text;
	old_views text;
BEGIN
	FOR segmentation IN
		SELECT s.name, s.owner, n.oid AS namespace FROM segment.segmentations s JOIN pg_catalog.pg_namespace n ON n.nspname = s.name
		ORDER BY s.name
	LOOP
		-- the views that create_segmentation made: of the recorded owner
		views := ARRAY(SELECT c.oid FROM pg_catalog.pg_class c
			WHERE c.relnamespace = segmentation.namespace AND c.relkind = 'm' AND c.relowner = segmentation.owner
				AND c.relname IN ('features', 'assignments', 'profiles', 'elbow', 'silhouette', 'boxplots', 'pca', 'model'));
		IF cardinality(views) < 8 THEN
			RAISE WARNING 'segmentation "%" is left as it is: its schema does not hold the eight materialized views of its owner that create_segmentation made', segmentation.name
				USING HINT = 'Drop it with segment.drop_segmentation and create it again.';
			CONTINUE;
		END IF;

		-- what would go with the views: other views, and indexes or
		-- statistics made on them besides their unique keys
		SELECT pg_catalog.string_agg(DISTINCT object, ', ') INTO dependents FROM (
			SELECT pg_catalog.pg_describe_object('pg_class'::regclass, r.ev_class, 0) AS object
			FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
			WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = ANY (views)
				AND d.deptype = 'n' AND r.ev_class <> ALL (views)
			UNION ALL
			SELECT pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid)
			FROM pg_catalog.pg_depend d
			WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = ANY (views) AND d.deptype IN ('n', 'a')
				AND d.classid NOT IN ('pg_rewrite'::regclass, 'pg_class'::regclass)
			UNION ALL
			SELECT pg_catalog.pg_describe_object('pg_class'::regclass, i.indexrelid, 0)
			FROM pg_catalog.pg_index i WHERE i.indrelid = ANY (views)
				AND (SELECT count(*) FROM pg_catalog.pg_index o WHERE o.indrelid = i.indrelid) > 1) AS found;
		IF dependents IS NOT NULL THEN
			RAISE EXCEPTION USING ERRCODE = '2BP01',
				MESSAGE = pg_catalog.format('cannot update segmentation "%s": other objects depend on its materialized views', segmentation.name),
				DETAIL = pg_catalog.format('In segment 0.3 the views of a segmentation are tables of the same names; these objects depend on the old views: %s.', dependents),
				HINT = 'Drop those objects, run ALTER EXTENSION segment UPDATE again, then create them again: they will read the tables of the same names.';
		END IF;

		-- a copy of each view as a table, with the view's owner, privileges and comments
		FOR result IN
			SELECT c.oid, c.relname::text AS relname, c.relname || '_0_3' AS copy, c.relispopulated, c.relowner, c.relacl
			FROM pg_catalog.pg_class c WHERE c.oid = ANY (views)
		LOOP
			EXECUTE pg_catalog.format('CREATE TABLE %I.%I AS SELECT * FROM %I.%I %s', segmentation.name, result.copy,
				segmentation.name, result.relname, CASE WHEN result.relispopulated THEN '' ELSE 'WITH NO DATA' END);
			-- made by this script, the table would belong to the extension:
			-- it is the segmentation's, as the view was
			EXECUTE pg_catalog.format('ALTER EXTENSION segment DROP TABLE %I.%I', segmentation.name, result.copy);
			EXECUTE pg_catalog.format('ALTER TABLE %I.%I OWNER TO %s', segmentation.name, result.copy, result.relowner::regrole);
			FOR privilege IN
				SELECT a.grantee, a.privilege_type, a.is_grantable FROM pg_catalog.aclexplode(result.relacl) a
				WHERE a.grantee <> result.relowner
			LOOP
				EXECUTE pg_catalog.format('GRANT %s ON %I.%I TO %s%s', privilege.privilege_type, segmentation.name, result.copy,
					CASE WHEN privilege.grantee = 0 THEN 'PUBLIC' ELSE privilege.grantee::regrole::text END,
					CASE WHEN privilege.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
			END LOOP;
			EXECUTE pg_catalog.format('COMMENT ON TABLE %I.%I IS %L', segmentation.name, result.copy,
				pg_catalog.obj_description(result.oid, 'pg_class'));
			FOR col IN
				SELECT a.attname, pg_catalog.col_description(a.attrelid, a.attnum) AS description, a.attacl
				FROM pg_catalog.pg_attribute a WHERE a.attrelid = result.oid AND a.attnum > 0 AND NOT a.attisdropped
			LOOP
				EXECUTE pg_catalog.format('COMMENT ON COLUMN %I.%I.%I IS %L', segmentation.name, result.copy, col.attname, col.description);
				-- column privileges too
				FOR privilege IN
					SELECT a.grantee, a.privilege_type, a.is_grantable FROM pg_catalog.aclexplode(col.attacl) a
					WHERE a.grantee <> result.relowner
				LOOP
					EXECUTE pg_catalog.format('GRANT %s (%I) ON %I.%I TO %s%s', privilege.privilege_type, col.attname,
						segmentation.name, result.copy,
						CASE WHEN privilege.grantee = 0 THEN 'PUBLIC' ELSE privilege.grantee::regrole::text END,
						CASE WHEN privilege.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
				END LOOP;
			END LOOP;
		END LOOP;

		-- the views go (together, as they depend on one another); the copies
		-- take their names and unique keys
		SELECT pg_catalog.string_agg(c.oid::regclass::text, ', ') INTO old_views FROM pg_catalog.pg_class c WHERE c.oid = ANY (views);
		IF old_views IS NOT NULL THEN
			EXECUTE 'DROP MATERIALIZED VIEW ' || old_views || ' RESTRICT';
		END IF;
		FOR result IN
			SELECT t.result_table, t.unique_key
			FROM (VALUES ('features', 'customer_id'), ('assignments', 'customer_id'), ('profiles', 'cluster'),
					('elbow', 'k'), ('silhouette', 'cluster'), ('boxplots', 'cluster, feature'),
					('pca', 'component, feature'), ('model', 'k')) AS t (result_table, unique_key)
			WHERE EXISTS (SELECT FROM pg_catalog.pg_class c
						  WHERE c.relnamespace = segmentation.namespace AND c.relname = t.result_table || '_0_3')
		LOOP
			EXECUTE pg_catalog.format('ALTER TABLE %I.%I RENAME TO %I', segmentation.name, result.result_table || '_0_3', result.result_table);
			EXECUTE pg_catalog.format('CREATE UNIQUE INDEX %I ON %I.%I (%s)', result.result_table || '_key',
				segmentation.name, result.result_table, result.unique_key);
		END LOOP;
	END LOOP;
END
$convert$;

--
-- The functions of the 0.2 pipeline layer; the files that follow create
-- those of 0.3
--
DROP FUNCTION segment.report(text);
DROP FUNCTION segment.plot(text, text);
DROP FUNCTION segment.plot_silhouette(segment.segmentations);
DROP FUNCTION segment.plot_profiles(segment.segmentations);
DROP FUNCTION segment.plot_clusters(segment.segmentations);
DROP FUNCTION segment.svg_cluster_legend(segment.segmentations, double precision, double precision, integer, double precision);
DROP FUNCTION segment.plot_elbow(segment.segmentations);
DROP FUNCTION segment.svg_x_axis(double precision[], double precision, double precision, double precision, double precision, double precision, text);
DROP FUNCTION segment.svg_y_axis(double precision[], double precision, double precision, double precision, double precision, double precision, double precision, text, boolean);
DROP FUNCTION segment.plot_scale(double precision, double precision, double precision, double precision, double precision);
DROP FUNCTION segment.svg_open(integer, integer, text, text);
DROP FUNCTION segment.check_segmentation(text);
DROP FUNCTION segment.plot_number(double precision);
DROP FUNCTION segment.plot_ticks(double precision, double precision, integer);
DROP FUNCTION segment.plot_colour(integer);
DROP FUNCTION segment.xml_text(text);
DROP FUNCTION segment.drop_segmentation(text);
DROP FUNCTION segment.create_segmentation(text, regclass, integer, name, name, name, name, name, name, timestamp, bigint);
DROP FUNCTION segment.refresh_segmentation(text);
DROP FUNCTION segment.segmentation_labels(double precision[], boolean);
DROP FUNCTION segment.refresh_segmentation_view(text, text);
DROP FUNCTION segment.comment_segmentation_views(text);
DROP FUNCTION segment.create_segmentation_views(text);
DROP FUNCTION segment.segmentation_values_sql(boolean);
DROP FUNCTION segment.segmentation_vector_sql(boolean);
DROP FUNCTION segment.check_source_column(regclass, text, name);
DROP FUNCTION segment.check_segmentation_name(text);
DROP FUNCTION segment.rfm_vector(double precision, integer, double precision, double precision, double precision, double precision, double precision, double precision, double precision);
DROP FUNCTION segment.match_clusters(double precision[], double precision[]);

--
-- The registry: the 0.2 policies go (registry_access.sql makes those of
-- 0.3); its columns and comments as in registry.sql
--
DROP POLICY segmentations_of_owner ON segment.segmentations;
DROP POLICY segmentation_scores_of_owner ON segment.segmentation_scores;
COMMENT ON COLUMN segment.segmentations.owner IS 'role that owns it: the owner of its schema as of the last refresh (the creator at first)';
COMMENT ON COLUMN segment.segmentations.source IS 'table or view of invoice lines (as of the last refresh)';
COMMENT ON COLUMN segment.segmentations.as_of IS 'reference time of recency and cut-off (later lines are not used); NULL for the latest time among the lines used';
ALTER TABLE segment.segmentations ADD COLUMN source_name text;
UPDATE segment.segmentations s SET source_name = (
	SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_class c
	JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = s.source);
UPDATE segment.segmentations s SET source_name = s.source::oid::text WHERE s.source_name IS NULL;
ALTER TABLE segment.segmentations ALTER COLUMN source_name SET NOT NULL;
ALTER TABLE segment.segmentations ADD COLUMN amount_unit double precision;
-- a segmentation made with 0.2 keeps counting amounts in currency units, so
-- that a refresh keeps its customers where they are
UPDATE segment.segmentations SET amount_unit = 1;
ALTER TABLE segment.segmentations ADD COLUMN schema regnamespace;
UPDATE segment.segmentations s SET schema = n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = s.name;
ALTER TABLE segment.segmentations ALTER COLUMN owner SET DEFAULT to_regrole(quote_ident(current_user));
COMMENT ON COLUMN segment.segmentations.source_name IS 'qualified name of the source: a refresh finds the source by it when its table was dropped and created again';
COMMENT ON COLUMN segment.segmentations.amount_unit IS 'the unit amounts are clustered in: the typical invoice amount (median average invoice amount) at the first fit, so that the unit of the prices does not matter; 1 (currency units) for a segmentation made before 0.3';
COMMENT ON COLUMN segment.segmentations.schema IS 'the schema of the segmentation (named name); its owner owns the segmentation';
ALTER TABLE segment.segmentations ADD COLUMN user_labels text[];
ALTER TABLE segment.segmentations ADD COLUMN assigned_at timestamptz;
UPDATE segment.segmentations SET assigned_at = fitted_at;
COMMENT ON COLUMN segment.segmentations.user_labels IS 'the names users gave the segments (segment.set_label), by cluster number; NULL where automatic';
COMMENT ON COLUMN segment.segmentations.assigned_at IS 'when the last refresh (either kind) assigned the customers';
ALTER TABLE segment.segmentations ADD COLUMN renumbering integer[];
ALTER TABLE segment.segmentations ADD COLUMN fit_fingerprint numeric;
COMMENT ON COLUMN segment.segmentations.renumbering IS 'the new number of each previous segment at the last refit (NULL: none matches it); NULL when numbers did not change';
COMMENT ON COLUMN segment.segmentations.fit_fingerprint IS 'a sum of hashes of the vectors of the last fit: a source unchanged since keeps its model';
COMMENT ON COLUMN segment.segmentations.labels IS 'readable name of each segment, by cluster number: the user''s, else the automatic one';
ALTER TABLE segment.segmentations ADD COLUMN recipe text NOT NULL DEFAULT 'rfm';
ALTER TABLE segment.segmentations ADD COLUMN categories text[];
ALTER TABLE segment.segmentations ADD COLUMN model_recipe text;
UPDATE segment.segmentations SET model_recipe = 'rfm' WHERE model IS NOT NULL;
COMMENT ON COLUMN segment.segmentations.recipe IS 'the clustering features: rfm (transformed recency, frequency and spending, a domestic flag) or notebook (the seed notebook''s raw features and one-hot countries)';
COMMENT ON COLUMN segment.segmentations.categories IS 'the countries of the one-hot encoding of the notebook recipe, as of the last fit; NULL for the rfm recipe';
COMMENT ON COLUMN segment.segmentations.model_recipe IS 'the recipe the model was fitted with: an assign-only refresh needs the same recipe';
