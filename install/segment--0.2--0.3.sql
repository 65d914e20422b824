-- segment 0.2 to 0.3, as released: frozen
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
/* src/sql/most_frequent.sql */

-- The most frequent value of a group (src/most_frequent.c): a customer's
-- country, counted in a hash table rather than sorted as mode() sorts
CREATE FUNCTION segment.most_frequent_accum(internal, text)
	RETURNS internal
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment.most_frequent_combine(internal, internal)
	RETURNS internal
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment.most_frequent_serialize(internal)
	RETURNS bytea
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION segment.most_frequent_deserialize(bytea, internal)
	RETURNS internal
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION segment.most_frequent_final(internal)
	RETURNS text
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE segment.most_frequent(text) (
	SFUNC = segment.most_frequent_accum,
	STYPE = internal,
	SSPACE = 160,
	COMBINEFUNC = segment.most_frequent_combine,
	SERIALFUNC = segment.most_frequent_serialize,
	DESERIALFUNC = segment.most_frequent_deserialize,
	FINALFUNC = segment.most_frequent_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE segment.most_frequent(text) IS
	'the most frequent non-NULL value, the first in collation order among equally frequent ones (mode() WITHIN GROUP (ORDER BY value) without the sort)';
COMMENT ON FUNCTION segment.most_frequent_accum(internal, text) IS 'transition function of segment.most_frequent';
COMMENT ON FUNCTION segment.most_frequent_combine(internal, internal) IS 'combine function of segment.most_frequent';
COMMENT ON FUNCTION segment.most_frequent_serialize(internal) IS 'serialize function of segment.most_frequent';
COMMENT ON FUNCTION segment.most_frequent_deserialize(bytea, internal) IS 'deserialize function of segment.most_frequent';
COMMENT ON FUNCTION segment.most_frequent_final(internal) IS 'final function of segment.most_frequent';
/* src/sql/boxplot.sql */

-- The box plot of a group of values (src/boxplot.c): what the boxplots table
-- of a segmentation shows per segment and feature, from one sort
CREATE TYPE segment.boxplot AS (
	min double precision,
	q1 double precision,
	median double precision,
	q3 double precision,
	max double precision,
	lower_whisker double precision,
	upper_whisker double precision,
	outliers bigint
);
COMMENT ON TYPE segment.boxplot IS
	'a box plot: min, quartiles (percentile_cont), max, Tukey''s whiskers (the most extreme values within 1.5 interquartile ranges of the box) and the number of values beyond them';
COMMENT ON COLUMN segment.boxplot.min IS 'the smallest value';
COMMENT ON COLUMN segment.boxplot.q1 IS 'the first quartile, percentile_cont(0.25)';
COMMENT ON COLUMN segment.boxplot.median IS 'the median, percentile_cont(0.5)';
COMMENT ON COLUMN segment.boxplot.q3 IS 'the third quartile, percentile_cont(0.75)';
COMMENT ON COLUMN segment.boxplot.max IS 'the largest value';
COMMENT ON COLUMN segment.boxplot.lower_whisker IS 'the smallest value at or above q1 - 1.5 (q3 - q1)';
COMMENT ON COLUMN segment.boxplot.upper_whisker IS 'the largest value at or below q3 + 1.5 (q3 - q1)';
COMMENT ON COLUMN segment.boxplot.outliers IS 'the number of values beyond the whiskers';
CREATE FUNCTION segment.boxplot_accum(internal, double precision)
	RETURNS internal
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment.boxplot_final(internal)
	RETURNS segment.boxplot
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE segment.boxplot(double precision) (
	SFUNC = segment.boxplot_accum,
	STYPE = internal,
	FINALFUNC = segment.boxplot_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE segment.boxplot(double precision) IS
	'the box plot of the non-NULL values of a group: the same numbers as min, percentile_cont(0.25, 0.5, 0.75), max and the whiskers computed in SQL, from one sort; NaN and infinities are refused (22023)';
COMMENT ON FUNCTION segment.boxplot_accum(internal, double precision) IS 'transition function of segment.boxplot';
COMMENT ON FUNCTION segment.boxplot_final(internal) IS 'final function of segment.boxplot';
/* src/sql/evaluate.sql */

-- The building blocks of a refit (README: "Building blocks"): a warm start
-- from given centroids (src/model.c) and every candidate k from one read of
-- the vectors (src/evaluate.c)

CREATE FUNCTION segment.kmeans_fit_from(source text, centroids double precision[], max_iter integer DEFAULT 300)
	RETURNS segment.kmeans_model
	AS 'MODULE_PATHNAME'
	LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION segment.kmeans_fit_from(text, double precision[], integer) IS
	'Lloyd iterations (at most max_iter) on the vectors of a source from the given k × dims centroids: a warm start';

-- Every candidate k from one read of the vectors (src/evaluate.c)
CREATE FUNCTION segment.evaluate(source text, k_min integer DEFAULT 2, k_max integer DEFAULT 10,
		n_init integer DEFAULT 10, seed bigint DEFAULT 0, silhouette_sample integer DEFAULT NULL,
		start double precision[] DEFAULT NULL)
	RETURNS TABLE (k integer, model segment.kmeans_model, inertia double precision, silhouette double precision,
		davies_bouldin double precision, calinski_harabasz double precision, sizes bigint[],
		smallest_share double precision, is_elbow boolean, from_start boolean)
	AS 'MODULE_PATHNAME'
	LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 10;
COMMENT ON FUNCTION segment.evaluate(text, integer, integer, integer, bigint, integer, double precision[]) IS
	'every k of k_min .. k_max from one read of the vectors: the model, its inertia, silhouette, Davies-Bouldin and Calinski-Harabasz scores, segment sizes and the Kneedle elbow';
/* src/sql/parallel.sql */

-- The parallel workers segment gives an operation of its own (src/parallel.c)
CREATE FUNCTION segment.parallel_workers()
	RETURNS integer
	AS 'MODULE_PATHNAME'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION segment.parallel_workers() IS
	'the parallel workers segment starts for one operation: max_parallel_maintenance_workers, with no more participants (the workers and the calling backend) than the machine has CPUs online';
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
/* src/sql/marketing.sql */

-- The marketer's view of the customers and segments: RFM scores, the named
-- RFM groups and a suggested action per segment (README: "RFM scores, named
-- groups and what to do")

-- A quintile score 1..5 from a customer's rank among n customers: 1 +
-- floor(5 (rank - 1) / n), where rank is the 1-based rank from the worst
-- value with ties sharing their lowest rank (rank() OVER ...), so equal
-- values always get the same score and a score class can hold more than a
-- fifth of the customers
-- (no SET search_path, so that the planner inlines it into the features
-- query, three times per customer; its operators are qualified instead)
CREATE FUNCTION segment.rfm_quintile(rank bigint, n bigint)
	RETURNS smallint
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$
	SELECT CAST(1 OPERATOR(pg_catalog.+) ((5 OPERATOR(pg_catalog.*) (rank OPERATOR(pg_catalog.-) 1))
		OPERATOR(pg_catalog./) n) AS pg_catalog.int2)
	$$;
COMMENT ON FUNCTION segment.rfm_quintile(bigint, bigint) IS
	'the quintile score 1..5 of the customer of rank rank (1 = worst, ties share their lowest rank) among n';

-- The named RFM group of a recency and a frequency score: the R x F grid of
-- the RFM segments common in marketing analytics (the grid of the widely
-- used pandas RFM notebooks), with Lost (R 1, F 1..2) split from
-- Hibernating as in Putler's eleven RFM segments; the README has the table
CREATE FUNCTION segment.rfm_segment(r_score integer, f_score integer)
	RETURNS text
	LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
BEGIN
	IF r_score NOT BETWEEN 1 AND 5 OR f_score NOT BETWEEN 1 AND 5 THEN
		RAISE EXCEPTION USING ERRCODE = '22003',
			MESSAGE = format('RFM scores are between 1 and 5, not r_score %s and f_score %s', r_score, f_score);
	END IF;
	RETURN CASE
		WHEN r_score = 5 AND f_score >= 4 THEN 'Champions'
		WHEN r_score >= 3 AND f_score >= 4 THEN 'Loyal'
		WHEN r_score >= 4 AND f_score >= 2 THEN 'Potential loyalists'
		WHEN r_score = 5 THEN 'New customers'
		WHEN r_score = 4 THEN 'Promising'
		WHEN r_score = 3 AND f_score = 3 THEN 'Need attention'
		WHEN r_score = 3 THEN 'About to sleep'
		WHEN f_score = 5 THEN 'Cannot lose them'
		WHEN f_score >= 3 THEN 'At risk'
		WHEN r_score = 2 THEN 'Hibernating'
		ELSE 'Lost' END;
END
$function$;
COMMENT ON FUNCTION segment.rfm_segment(integer, integer) IS
	'the named RFM group (Champions, Loyal, ..., Lost) of a recency score and a frequency score (1..5)';

-- The suggested action of a named RFM group (after Putler's table of RFM
-- segments and actions).  Spending changes it in one case: a group that is
-- slipping away (Need attention, About to sleep, At risk, Hibernating, Lost)
-- whose spending score is 4 or 5 gets the action of Cannot lose them, since
-- high spenders who lapse are worth a personal win-back.
CREATE FUNCTION segment.rfm_action(rfm_segment text, m_score integer DEFAULT NULL)
	RETURNS text
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	groups CONSTANT text[] := ARRAY['Champions', 'Loyal', 'Potential loyalists', 'New customers', 'Promising',
		'Need attention', 'About to sleep', 'At risk', 'Cannot lose them', 'Hibernating', 'Lost'];
BEGIN
	IF rfm_segment IS NULL THEN
		RETURN NULL;
	END IF;
	IF NOT rfm_segment = ANY (groups) THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('unknown RFM group "%s"', rfm_segment),
			HINT = 'The groups are ' || array_to_string(groups, ', ') || '.';
	END IF;
	IF m_score NOT BETWEEN 1 AND 5 THEN
		RAISE EXCEPTION USING ERRCODE = '22003', MESSAGE = format('m_score is between 1 and 5, not %s', m_score);
	END IF;
	IF m_score >= 4 AND rfm_segment IN ('Need attention', 'About to sleep', 'At risk', 'Hibernating', 'Lost') THEN
		rfm_segment := 'Cannot lose them';
	END IF;
	RETURN CASE rfm_segment
		WHEN 'Champions' THEN 'reward them: early access and perks; ask for reviews and referrals'
		WHEN 'Loyal' THEN 'upsell higher-value products; invite them to a loyalty programme'
		WHEN 'Potential loyalists' THEN 'offer a membership or loyalty programme; recommend related products'
		WHEN 'New customers' THEN 'welcome them and nurture them towards a second order'
		WHEN 'Promising' THEN 'build the relationship: a small incentive for a repeat order'
		WHEN 'Need attention' THEN 'limited-time offers based on their past purchases'
		WHEN 'About to sleep' THEN 'reconnect before they lapse: recommendations and a discount'
		WHEN 'At risk' THEN 'win them back with personal emails and an offer'
		WHEN 'Cannot lose them' THEN 'win them back personally: talk to them, a strong offer'
		WHEN 'Hibernating' THEN 're-engage with relevant offers at low cost'
		ELSE 'a low-cost reactivation campaign, or leave them alone' END;
END
$function$;
COMMENT ON FUNCTION segment.rfm_action(text, integer) IS
	'the suggested marketing action of a named RFM group, given its spending score (1..5)';

-- The recipes of a segmentation's clustering features (README: "Recipes")
CREATE FUNCTION segment.segmentation_recipes()
	RETURNS text[]
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT ARRAY['rfm', 'notebook'] $$;
COMMENT ON FUNCTION segment.segmentation_recipes() IS
	'the recipes of clustering features create_segmentation knows: rfm (the default) and notebook';

-- Raise the error for a recipe that is not one
CREATE FUNCTION segment.check_recipe(recipe text)
	RETURNS void
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
BEGIN
	IF recipe IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'recipe must not be NULL',
			HINT = 'The recipes are ' || array_to_string(segment.segmentation_recipes(), ', ') || '.';
	END IF;
	IF NOT recipe = ANY (segment.segmentation_recipes()) THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('unknown recipe "%s"', recipe),
			HINT = 'The recipes are ' || array_to_string(segment.segmentation_recipes(), ', ') || '.';
	END IF;
END
$function$;
COMMENT ON FUNCTION segment.check_recipe(text) IS 'raises the error for a recipe that is not one of segment.segmentation_recipes()';
/* src/sql/pipeline.sql */

-- The segmentation pipeline: create, refresh and drop a segmentation and
-- its tables (README: "Segmentation pipeline")

-- Stable cluster numbers across refreshes (Hungarian matching of centroids)
CREATE FUNCTION segment.match_clusters(previous double precision[], current double precision[])
	RETURNS integer[]
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.match_clusters(double precision[], double precision[]) IS
	'for each centroid of current, the cluster number that matches previous with the least total squared distance';

-- The clustering features of a customer, transformed (see the README):
-- log1p of days and counts; signed log1p of amounts counted in amount_unit
-- (the segmentation's typical invoice amount), so that the unit of the
-- prices does not matter: multiplying every price by c multiplies amounts
-- and unit alike.  One-off buyers' time between purchases is the time since
-- their only purchase.  A plain SQL function the planner inlines, so it pins
-- no search_path: every function and operator in it is schema-qualified.
CREATE FUNCTION segment.rfm_vector(recency_days double precision, invoices integer,
		invoices_per_hour double precision, invoices_per_day double precision,
		invoices_per_month double precision, invoices_per_year double precision,
		total_amount double precision, avg_invoice_amount double precision,
		mean_days_between double precision, amount_unit double precision)
	RETURNS double precision[]
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$
	SELECT ARRAY[
		pg_catalog.ln(1::double precision OPERATOR(pg_catalog.+) GREATEST(recency_days, 0::double precision)),
		pg_catalog.ln(1::double precision OPERATOR(pg_catalog.+) invoices::double precision),
		pg_catalog.ln(1::double precision OPERATOR(pg_catalog.+) invoices_per_hour),
		pg_catalog.ln(1::double precision OPERATOR(pg_catalog.+) invoices_per_day),
		pg_catalog.ln(1::double precision OPERATOR(pg_catalog.+) invoices_per_month),
		pg_catalog.ln(1::double precision OPERATOR(pg_catalog.+) invoices_per_year),
		pg_catalog.sign(total_amount) OPERATOR(pg_catalog.*) pg_catalog.ln(1::double precision
			OPERATOR(pg_catalog.+) (pg_catalog.abs(total_amount) OPERATOR(pg_catalog./) amount_unit)),
		pg_catalog.sign(avg_invoice_amount) OPERATOR(pg_catalog.*) pg_catalog.ln(1::double precision
			OPERATOR(pg_catalog.+) (pg_catalog.abs(avg_invoice_amount) OPERATOR(pg_catalog./) amount_unit)),
		pg_catalog.ln(1::double precision OPERATOR(pg_catalog.+)
			GREATEST(COALESCE(mean_days_between, recency_days), 0::double precision))]
	$$;
COMMENT ON FUNCTION segment.rfm_vector(double precision, integer, double precision, double precision,
		double precision, double precision, double precision, double precision, double precision, double precision) IS
	'the transformed clustering features of a customer with purchases, before standardization';

-- Raise the error for a name that cannot be a segmentation's schema
CREATE FUNCTION segment.check_segmentation_name(name text)
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
CREATE FUNCTION segment.check_source(relation regclass)
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
END
$function$;
COMMENT ON FUNCTION segment.check_source(regclass) IS
	'raises an error when a source is missing or is not a table, view, materialized view or foreign table';

-- Raise the error for a reference time of recency that is not finite
CREATE FUNCTION segment.check_as_of(as_of timestamp)
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

-- Whether values of a type can be grouped: a default btree or hash operator
-- class for the type, its array, enum or range family (as GROUP BY needs)
CREATE FUNCTION segment.type_is_groupable(column_type regtype)
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
CREATE FUNCTION segment.check_source_column(relation regclass, argument text, column_name name,
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
CREATE FUNCTION segment.check_source_columns(r segment.segmentations, segmentation text DEFAULT NULL)
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

-- The SQL of the time of a line: a date is read as a timestamp at midnight
CREATE FUNCTION segment.segmentation_time_sql(r segment.segmentations)
	RETURNS text
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT format(CASE WHEN a.atttypid = 'date'::regtype THEN '%I::timestamp' ELSE '%I' END, r.time_column)
	FROM pg_attribute a WHERE a.attrelid = r.source AND a.attname = r.time_column
	$$;
COMMENT ON FUNCTION segment.segmentation_time_sql(segment.segmentations) IS
	'SQL of the time of a line of the source of registry row r';

-- The SQL of "this quantity or price column of relation is a finite
-- number" (what the features aggregate, which reads it as float8, takes):
-- not NULL for integers; for numeric compared as numeric (NaN sorts above
-- every number), which skips the cast through text that makes the check of
-- 541,909 lines take 90 ms more; as float8 for real and double precision
CREATE FUNCTION segment.segmentation_finite_sql(relation regclass, column_name name)
	RETURNS text
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE
		WHEN base = ANY (ARRAY['smallint', 'integer', 'bigint']::regtype[]) THEN format('%I IS NOT NULL', column_name)
		WHEN base = 'numeric'::regtype THEN format('%I BETWEEN %s AND %s', column_name,
			'-1.7976931348623157e308', '1.7976931348623157e308')
		ELSE format('%I::double precision BETWEEN %s AND %s', column_name,
			'-1.7976931348623157e308', '1.7976931348623157e308') END
	FROM (SELECT coalesce(nullif(t.typbasetype, 0), t.oid)::regtype AS base
		  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
		  WHERE a.attrelid = relation AND a.attname = column_name AND a.attnum > 0 AND NOT a.attisdropped) AS c
	$$;
COMMENT ON FUNCTION segment.segmentation_finite_sql(regclass, name) IS
	'SQL that is true when a quantity or price column holds a finite number';

-- The SQL of the customers' lines grouped by customer, in one scan of the
-- source: each customer's most frequent country, its features
-- (segment.customer_features) and last_line, the latest time among its
-- lines the segmentation uses (an invoice, every mapped column not NULL, a
-- finite time, quantity and price).  The reference time of recency is the
-- as_of given (a cut-off: later lines are not used) or the latest last_line,
-- so that a typo line without a customer or an 'infinity' cannot move it.
-- A customer's country is the most frequent of its lines (the first in
-- collation order among equally frequent ones, NULLs aside: what mode()
-- WITHIN GROUP (ORDER BY country) gives for text), counted in a hash table
-- so that the GROUP BY need not sort the lines.  The customers come out in
-- order, so the tables filled from them have the same rows in the same order
-- whatever plan (parallel or not) grouped the lines, and their sums in SQL
-- the same bits.
CREATE FUNCTION segment.segmentation_customers_sql(r segment.segmentations)
	RETURNS text
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT format('SELECT %3$I AS customer, %4$s AS country, segment.customer_features(%5$I, %1$s, %6$I, %7$I) AS f, '
			'(max(%1$s) FILTER (WHERE %5$I IS NOT NULL AND isfinite(%1$s) AND %8$s AND %9$s))::timestamp AS last_line '
			'FROM %2$s WHERE %3$I IS NOT NULL %10$s GROUP BY %3$I ORDER BY %3$I',
		segment.segmentation_time_sql(r), r.source, r.customer_column,
		CASE WHEN r.country_column IS NULL THEN 'NULL::text'
			ELSE format('segment.most_frequent(%I::text)', r.country_column) END,
		r.invoice_column, r.quantity_column, r.price_column,
		segment.segmentation_finite_sql(r.source, r.quantity_column),
		segment.segmentation_finite_sql(r.source, r.price_column),
		-- an explicit as_of is a cut-off: later lines are not used
		CASE WHEN r.as_of IS NOT NULL THEN format('AND %s <= %L::timestamp', segment.segmentation_time_sql(r), r.as_of) ELSE '' END)
	$$;
COMMENT ON FUNCTION segment.segmentation_customers_sql(segment.segmentations) IS
	'SQL of the lines of the source of registry row r grouped by customer: country, features and the latest time used';

-- The SQL of a customer's clustering features in original units (profiles
-- and boxplots; the notebook recipe's one-hot countries are left out), in
-- the order of segmentations.features
CREATE FUNCTION segment.segmentation_values_sql(recipe text, with_country boolean)
	RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE WHEN recipe = 'notebook' THEN
		'ARRAY[coalesce(f.recency_days, 0), f.invoices, coalesce(f.total_amount, 0), coalesce(f.avg_invoice_amount, 0), '
		|| 'coalesce(f.mean_days_between, 0), coalesce(f.invoices_per_month, 0), coalesce(f.invoices_per_day, 0), '
		|| 'coalesce(f.invoices_per_hour, 0), coalesce(f.invoices_per_year, 0)]::double precision[]'
	ELSE
		'ARRAY[f.recency_days, f.invoices, f.invoices_per_hour, f.invoices_per_day, f.invoices_per_month, '
		|| 'f.invoices_per_year, f.total_amount, f.avg_invoice_amount, coalesce(f.mean_days_between, f.recency_days)'
		|| CASE WHEN with_country THEN ', coalesce(f.country = r.domestic_country, false)::integer' ELSE '' END
		|| ']::double precision[]'
	END
	$$;
COMMENT ON FUNCTION segment.segmentation_values_sql(text, boolean) IS 'SQL of the clustering features in original units of features row f under registry row r';

-- The SQL of a customer's raw clustering vector, for features row f and
-- registry row r (r.domestic_country, r.amount_unit, r.categories).  The
-- notebook recipe is the seed notebook's: nine raw features, a missing value
-- (a customer without a purchase has no recency) counted as 0, then one-hot
-- countries.
CREATE FUNCTION segment.segmentation_vector_sql(recipe text, with_country boolean)
	RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE WHEN recipe = 'notebook' THEN
		segment.segmentation_values_sql(recipe, false)
		|| CASE WHEN with_country THEN ' || segment.one_hot(f.country, r.categories)' ELSE '' END
	ELSE
		'segment.rfm_vector(f.recency_days, f.invoices, f.invoices_per_hour, f.invoices_per_day, '
		|| 'f.invoices_per_month, f.invoices_per_year, f.total_amount, f.avg_invoice_amount, f.mean_days_between, '
		|| 'r.amount_unit)'
		|| CASE WHEN with_country
			THEN ' || ARRAY[coalesce(f.country = r.domestic_country, false)::integer::double precision]'
			ELSE '' END
	END
	$$;
COMMENT ON FUNCTION segment.segmentation_vector_sql(text, boolean) IS 'SQL of the raw clustering vector of features row f under registry row r';

-- The SQL of the condition on features row f of a customer who is clustered:
-- one with a purchase (rfm), or any customer with a line used (notebook)
CREATE FUNCTION segment.segmentation_clustered_sql(recipe text)
	RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE WHEN recipe = 'notebook' THEN 'f.lines > 0' ELSE 'f.invoices > 0' END
	$$;
COMMENT ON FUNCTION segment.segmentation_clustered_sql(text) IS 'SQL of the condition on features row f of a clustered customer';

-- The clustering features of a recipe, in vector order (the profiles have
-- a mean and a mean z-score of each, the boxplots a box)
CREATE FUNCTION segment.segmentation_features(recipe text, with_country boolean)
	RETURNS text[]
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE WHEN recipe = 'notebook' THEN
		ARRAY['recency_days', 'invoices', 'total_amount', 'avg_invoice_amount', 'mean_days_between',
			  'invoices_per_month', 'invoices_per_day', 'invoices_per_hour', 'invoices_per_year']
	ELSE
		ARRAY['recency_days', 'invoices', 'invoices_per_hour', 'invoices_per_day', 'invoices_per_month',
			  'invoices_per_year', 'total_amount', 'avg_invoice_amount', 'mean_days_between']
		|| CASE WHEN with_country THEN ARRAY['domestic'] ELSE '{}'::text[] END
	END
	$$;
COMMENT ON FUNCTION segment.segmentation_features(text, boolean) IS
	'the clustering features of a recipe, in vector order (without the notebook recipe''s one-hot countries)';

-- The names of the elements of a segmentation's vectors: its features, then
-- the notebook recipe's one-hot countries
CREATE FUNCTION segment.segmentation_dimensions(r segment.segmentations)
	RETURNS text[]
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT r.features || coalesce(ARRAY(SELECT 'country: ' || c FROM unnest(r.categories) WITH ORDINALITY AS u (c, i) ORDER BY i),
		'{}'::text[])
	$$;
COMMENT ON FUNCTION segment.segmentation_dimensions(segment.segmentations) IS
	'the names of the elements of the vectors of registry row r: its features, then one-hot countries';

-- The per-customer silhouettes of a segmentation: none (NULL in the
-- assignments) when the customers fill fewer than two segments or every
-- customer is alone in one, as after an assign-only refresh of a source
-- that shrank
CREATE FUNCTION segment.segmentation_silhouettes(source text)
	RETURNS TABLE (id bigint, cluster integer, silhouette double precision)
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	clusters bigint;
	customers bigint;
BEGIN
	EXECUTE format('SELECT count(DISTINCT s.c), count(*) FROM (%s) AS s (i, v, c)', source) INTO clusters, customers;
	IF clusters < 2 OR clusters >= customers THEN
		RETURN;
	END IF;
	RETURN QUERY SELECT * FROM segment.silhouette_samples(source);
END
$function$;
COMMENT ON FUNCTION segment.segmentation_silhouettes(text) IS
	'the per-customer silhouettes of a segmentation, none when fewer than two segments are filled';

-- The SQL of the rows of a query of customers (with customer_id,
-- recency_days, invoices and total_amount) with their RFM scores: r_score,
-- f_score and m_score among the customers with a purchase
-- (segment.rfm_quintile: ties share their score), rfm_score and
-- rfm_segment
CREATE FUNCTION segment.rfm_scores_sql(customers text)
	RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT format($sql$
		SELECT s.*, s.r_score::text || s.f_score::text || s.m_score::text AS rfm_score,
			segment.rfm_segment(s.r_score, s.f_score) AS rfm_segment
		FROM (SELECT q.*,
				CASE WHEN q.invoices > 0 THEN segment.rfm_quintile(rank() OVER by_recency, count(*) OVER buyers) END AS r_score,
				CASE WHEN q.invoices > 0 THEN segment.rfm_quintile(rank() OVER by_invoices, count(*) OVER buyers) END AS f_score,
				CASE WHEN q.invoices > 0 THEN segment.rfm_quintile(rank() OVER by_amount, count(*) OVER buyers) END AS m_score
			  FROM (%s) AS q
			  WINDOW buyers AS (PARTITION BY q.invoices > 0),
				by_recency AS (buyers ORDER BY q.recency_days DESC),
				by_invoices AS (buyers ORDER BY q.invoices),
				by_amount AS (buyers ORDER BY q.total_amount)) AS s $sql$, customers)
	$$;
COMMENT ON FUNCTION segment.rfm_scores_sql(text) IS 'SQL of the rows of a query of customers with their RFM scores';

-- The query that fills one table of a segmentation, from its registry row.
-- The queries read the registry row itself, so a refresh updates the row
-- (scaler, model, PCA, labels) before it fills the tables after features.
CREATE FUNCTION segment.segmentation_query(segmentation text, result_table text)
	RETURNS text
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	r segment.segmentations;
	registry text := format('(SELECT * FROM segment.segmentations WHERE name = %L)', segmentation);
	vector text;
	vector_values text;
	as_of text;
	silhouette_source text;
	feature text;
	position integer;
	profile_columns text := '';
	clustered text;
BEGIN
	SELECT * INTO STRICT r FROM segment.segmentations s WHERE s.name = segmentation;
	vector := segment.segmentation_vector_sql(r.recipe, r.country_column IS NOT NULL);
	vector_values := segment.segmentation_values_sql(r.recipe, r.country_column IS NOT NULL);
	clustered := segment.segmentation_clustered_sql(r.recipe);
	-- the reference time the refresh worked out (segment.segmentation_customers_sql)
	as_of := format('%L::timestamp', r.used_as_of);

	IF result_table = 'features' THEN
		-- the customers the refresh grouped (pg_temp.segment_refresh_customers),
		-- or outside a refresh (the shape of the table) the grouping itself
		RETURN segment.rfm_scores_sql(format($sql$
			SELECT c.customer AS customer_id, c.country,
				extract(epoch FROM a.as_of - (c.f).last_purchase)::double precision / 86400 AS recency_days,
				(c.f).*
			FROM %s AS c, (SELECT %s AS as_of) AS a $sql$,
			CASE WHEN to_regclass('pg_temp.segment_refresh_customers') IS NOT NULL THEN 'pg_temp.segment_refresh_customers'
				ELSE '(' || segment.segmentation_customers_sql(r) || ')' END,
			as_of));
	END IF;

	-- per-customer silhouettes: exact up to segment.silhouette_limit() customers,
	-- beyond that (or beyond the rows the model was fitted on) for a seeded
	-- sample of that many (ids match the assignments query's row_id)
	silhouette_source := format(
		'SELECT id, vec, segment.kmeans_assign(vec, model) FROM ('
		'SELECT row_number() OVER (ORDER BY f.customer_id) AS id, segment.scale(%2$s, r.model_scaler) AS vec, '
		'r.model, md5(f.customer_id::text) AS draw FROM %1$I.features f, %3$s r WHERE %5$s) AS c '
		'ORDER BY draw LIMIT least(segment.silhouette_limit(), '
		'(SELECT fitted_rows FROM segment.segmentations WHERE name = %4$L))', segmentation, vector, registry, segmentation, clustered);
	IF result_table = 'assignments' THEN
		RETURN format($sql$
		WITH r AS MATERIALIZED %2$s,
		v AS (SELECT f.customer_id, row_number() OVER (ORDER BY f.customer_id) AS row_id,
				 segment.scale(%3$s, r.model_scaler) AS vec
			  FROM %1$I.features f, r WHERE %5$s),
		s AS (SELECT * FROM segment.segmentation_silhouettes(%4$L))
		SELECT f.customer_id, segment.kmeans_assign(v.vec, r.model) AS cluster,
			segment.kmeans_distance(v.vec, r.model) AS distance, s.silhouette,
			(segment.pca_transform(v.vec, r.pca))[1] AS pc1,
			(segment.pca_transform(v.vec, r.pca))[2] AS pc2
		FROM %1$I.features f CROSS JOIN r LEFT JOIN v USING (customer_id) LEFT JOIN s ON s.id = v.row_id $sql$,
		segmentation, registry, vector, silhouette_source, clustered);
	END IF;

	FOR feature, position IN SELECT * FROM unnest(r.features) WITH ORDINALITY LOOP
		profile_columns := profile_columns || format(', avg(m.value[%2$s]) AS %1$I, avg(m.z[%2$s]) AS %3$I',
			feature || '_mean', position, feature || '_z');
	END LOOP;
	IF result_table = 'profiles' THEN
		RETURN format($sql$
		WITH r AS MATERIALIZED %2$s,
		m AS (SELECT a.cluster, r.labels[a.cluster] AS label, %4$s AS value, segment.scale(%3$s, r.scaler) AS z,
				f.total_amount, f.r_score, f.f_score, f.m_score
			  FROM %1$I.assignments a JOIN %1$I.features f USING (customer_id) CROSS JOIN r
			  WHERE a.cluster IS NOT NULL),
		p AS (SELECT m.cluster, min(m.label) AS label, count(*) AS customers,
				count(*)::double precision / sum(count(*)) OVER () AS share %5$s,
				CASE WHEN min(r.user_labels[m.cluster]) IS NULL THEN 'automatic' ELSE 'user' END AS label_source,
				coalesce(sum(m.total_amount), 0) AS revenue,
				avg(m.r_score)::double precision AS r_score_mean, avg(m.f_score)::double precision AS f_score_mean,
				avg(m.m_score)::double precision AS m_score_mean
			  FROM m CROSS JOIN r GROUP BY m.cluster),
		-- the named group of the segment's mean scores, rounded half up
		g AS (SELECT p.*, p.revenue / nullif(sum(p.revenue) OVER (), 0) AS revenue_share,
				segment.rfm_segment(floor(p.r_score_mean + 0.5)::integer, floor(p.f_score_mean + 0.5)::integer) AS rfm_segment
			  FROM p)
		SELECT g.*, segment.rfm_action(g.rfm_segment, floor(g.m_score_mean + 0.5)::integer) AS action
		FROM g $sql$,
		segmentation, registry, vector, vector_values, profile_columns);
	END IF;

	IF result_table = 'elbow' THEN
		RETURN format($sql$
		SELECT k, inertia, silhouette, davies_bouldin, calinski_harabasz, is_elbow, is_chosen, smallest_share
		FROM segment.segmentation_scores WHERE name = %2$L $sql$, segmentation, segmentation);
	END IF;

	IF result_table = 'silhouette' THEN
		RETURN format($sql$
		SELECT cluster, count(*) AS customers, avg(silhouette) AS mean_silhouette,
			min(silhouette) AS min_silhouette, max(silhouette) AS max_silhouette,
			count(silhouette) AS sample_size
		FROM %1$I.assignments WHERE cluster IS NOT NULL
		GROUP BY GROUPING SETS ((cluster), ()) $sql$, segmentation);
	END IF;

	IF result_table = 'boxplots' THEN
		-- segment.boxplot: the numbers of min, percentile_cont and the
		-- whiskers computed in SQL, from one sort of each group
		RETURN format($sql$
		WITH r AS MATERIALIZED %2$s
		SELECT b.cluster, b.feature, (b.p).min, (b.p).q1, (b.p).median, (b.p).q3, (b.p).max,
			(b.p).lower_whisker, (b.p).upper_whisker, (b.p).outliers
		FROM (SELECT a.cluster, u.feature, segment.boxplot(u.value) AS p
			  FROM %1$I.assignments a JOIN %1$I.features f USING (customer_id) CROSS JOIN r
			  CROSS JOIN LATERAL unnest(r.features, %3$s) AS u (feature, value)
			  WHERE a.cluster IS NOT NULL
			  GROUP BY a.cluster, u.feature) AS b $sql$, segmentation, registry, vector_values);
	END IF;

	IF result_table = 'pca' THEN
		RETURN format($sql$
		WITH r AS MATERIALIZED %2$s
		SELECT c.component, (r.pca).explained_variance_ratio[c.component] AS explained_variance_ratio,
			u.feature, (r.pca).components[c.component][u.j] AS loading
		FROM r, generate_series(1, array_length((r.pca).explained_variance_ratio, 1)) AS c (component),
			unnest(segment.segmentation_dimensions(r)) WITH ORDINALITY AS u (feature, j) $sql$, segmentation, registry);
	END IF;

	IF result_table = 'model' THEN
		RETURN format($sql$
		SELECT (r.model).k, r.seed, r.used_as_of AS as_of, r.fitted_at, (r.model).iterations,
			(r.model).inertia, r.customers_clustered, r.fitted_rows, r.assigned_at
		FROM %2$s AS r $sql$, segmentation, registry);
	END IF;

	-- what moved: the open rows of history (the segments before this
	-- refresh, numbered and named as they were) against the new assignments
	-- (numbered and named as now; a refit that lowers k renumbers)
	IF result_table = 'transitions' THEN
		RETURN format($sql$
		WITH before AS (SELECT customer_id, cluster, label FROM %1$I.history WHERE valid_to IS NULL AND cluster IS NOT NULL),
		now AS (SELECT a.customer_id, a.cluster, r.labels[a.cluster] AS label
				FROM %1$I.assignments a, %2$s AS r WHERE a.cluster IS NOT NULL)
		SELECT b.cluster AS from_cluster, min(b.label) AS from_label, n.cluster AS to_cluster, min(n.label) AS to_label,
			count(*) AS customers,
			count(*)::double precision / sum(count(*)) OVER (PARTITION BY b.cluster) AS share_of_from
		FROM before b FULL JOIN now n USING (customer_id)
		GROUP BY b.cluster, n.cluster $sql$, segmentation, registry);
	END IF;

	-- the shape of history (its rows are kept by segment.record_history)
	IF result_table = 'history' THEN
		RETURN format($sql$
		SELECT a.customer_id, a.cluster, p.label, NULL::timestamptz AS valid_from, NULL::timestamptz AS valid_to
		FROM %1$I.assignments a JOIN %1$I.profiles p USING (cluster) $sql$, segmentation);
	END IF;

	RAISE EXCEPTION 'unknown table % of a segmentation', result_table;
END
$function$;
COMMENT ON FUNCTION segment.segmentation_query(text, text) IS 'the query that fills one table of a segmentation';

-- Comment on every table of a segmentation and on every column
CREATE FUNCTION segment.comment_segmentation_tables(segmentation text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	comment record;
	feature text;
BEGIN
	FOR comment IN
		SELECT * FROM (VALUES
			('features', NULL, 'one row per customer: the customer''s features (segment.customer_features) and recency'),
			('features', 'customer_id', 'the customer'),
			('features', 'country', 'the customer''s most frequent country'),
			('features', 'recency_days', 'days from the last purchase to the reference time (model.as_of)'),
			('features', 'r_score', 'recency score 1..5 among the customers with a purchase (5 = the most recent fifth; equal recencies share a score); NULL without a purchase'),
			('features', 'f_score', 'frequency score 1..5 by invoices among the customers with a purchase (equal counts share a score); NULL without a purchase'),
			('features', 'm_score', 'monetary score 1..5 by total_amount among the customers with a purchase (equal amounts share a score); NULL without a purchase'),
			('features', 'rfm_score', 'the three scores as digits, recency first (''545'')'),
			('features', 'rfm_segment', 'named RFM group of r_score and f_score (Champions, Loyal, Potential loyalists, New customers, Promising, Need attention, About to sleep, At risk, Cannot lose them, Hibernating, Lost)'),
			('assignments', NULL, 'one row per customer: segment, distance to its centre, silhouette and PCA coordinates; NULL for customers without purchases'),
			('assignments', 'customer_id', 'the customer'),
			('assignments', 'cluster', 'segment number (profiles.cluster)'),
			('assignments', 'distance', 'Euclidean distance to the segment centre, in standardized units'),
			('assignments', 'silhouette', 'silhouette of the customer (-1 to 1, higher fits its segment better); beyond segment.silhouette_limit() clustered customers, only for a seeded sample of that many, NULL for the others'),
			('assignments', 'pc1', 'coordinate on the first principal component'),
			('assignments', 'pc2', 'coordinate on the second principal component'),
			('profiles', NULL, 'one row per segment: readable label, size, and per clustering feature its mean in original units and its mean z-score'),
			('profiles', 'cluster', 'segment number'),
			('profiles', 'label', 'readable name of the segment, unique in the segmentation'),
			('profiles', 'customers', 'customers in the segment'),
			('profiles', 'share', 'share of the clustered customers in the segment'),
			('profiles', 'revenue', 'sum of total_amount (net of returns) of the segment''s customers, in the currency of the prices'),
			('profiles', 'revenue_share', 'share of the revenue of all clustered customers (the shares add up to 1; NULL when that revenue is 0)'),
			('profiles', 'r_score_mean', 'mean recency score (1..5) of the segment''s customers with a purchase'),
			('profiles', 'f_score_mean', 'mean frequency score (1..5) of the segment''s customers with a purchase'),
			('profiles', 'm_score_mean', 'mean monetary score (1..5) of the segment''s customers with a purchase'),
			('profiles', 'rfm_segment', 'named RFM group of the segment''s mean recency and frequency scores, rounded half up'),
			('profiles', 'action', 'suggested marketing action for the segment, from its RFM group and spending (rules in the README)'),
			('elbow', NULL, 'one row per candidate number of segments: inertia and scores; is_chosen marks the k of the model'),
			('elbow', 'k', 'number of segments'),
			('elbow', 'inertia', 'k-means inertia (sum of squared distances to the centres)'),
			('elbow', 'silhouette', 'mean silhouette (higher is better); over a seeded sample of segment.silhouette_limit() customers beyond that many'),
			('elbow', 'davies_bouldin', 'Davies-Bouldin index (lower is better)'),
			('elbow', 'calinski_harabasz', 'Calinski-Harabasz index (higher is better)'),
			('elbow', 'is_elbow', 'the Kneedle elbow of the inertia curve'),
			('elbow', 'smallest_share', 'share of the customers in the smallest segment at this k (k is only chosen automatically where it is at least 2 %)'),
			('elbow', 'is_chosen', 'the k of the model: the given k, or the best silhouette among 3..8 near the elbow whose smallest segment holds at least 2 % of the customers'),
			('silhouette', NULL, 'one row per segment and one overall row (cluster NULL): silhouette statistics'),
			('silhouette', 'cluster', 'segment number; NULL for all customers'),
			('silhouette', 'customers', 'customers in the segment'),
			('silhouette', 'mean_silhouette', 'mean silhouette'),
			('silhouette', 'min_silhouette', 'lowest silhouette'),
			('silhouette', 'max_silhouette', 'highest silhouette'),
			('silhouette', 'sample_size', 'customers whose silhouette is in the statistics: all, up to segment.silhouette_limit() clustered customers; a seeded sample of that many beyond'),
			('boxplots', NULL, 'one row per segment and clustering feature: the five numbers and whiskers of a box plot, in original units'),
			('boxplots', 'cluster', 'segment number'),
			('boxplots', 'feature', 'clustering feature'),
			('boxplots', 'min', 'smallest value'),
			('boxplots', 'q1', 'first quartile'),
			('boxplots', 'median', 'median'),
			('boxplots', 'q3', 'third quartile'),
			('boxplots', 'max', 'largest value'),
			('boxplots', 'lower_whisker', 'smallest value at least q1 - 1.5 (q3 - q1)'),
			('boxplots', 'upper_whisker', 'largest value at most q3 + 1.5 (q3 - q1)'),
			('boxplots', 'outliers', 'values beyond the whiskers'),
			('pca', NULL, 'one row per principal component and clustering feature: the loadings'),
			('pca', 'component', 'principal component (1 is the largest)'),
			('pca', 'explained_variance_ratio', 'share of the variance along the component'),
			('pca', 'feature', 'clustering feature'),
			('pca', 'loading', 'weight of the feature in the component'),
			('model', NULL, 'one row: the fitted model'),
			('model', 'k', 'number of segments'),
			('model', 'seed', 'seed of k-means'),
			('model', 'as_of', 'reference time of recency'),
			('model', 'fitted_at', 'when the refresh committed'),
			('model', 'iterations', 'Lloyd iterations of the best k-means run'),
			('model', 'inertia', 'k-means inertia'),
			('model', 'customers_clustered', 'customers with a purchase, the customers clustered'),
			('model', 'fitted_rows', 'customers the model was fitted on: all clustered customers, or a seeded sample of them when their vectors do not fit maintenance_work_mem (every customer is assigned all the same)'),
			('model', 'assigned_at', 'when the last refresh (either kind) assigned the customers'),
			('profiles', 'label_source', 'automatic (from the centroid) or user (segment.set_label)'),
			('transitions', NULL, 'one row per pair of segments of the last refresh: how many customers went from one to the other; NULL from = not clustered before (new, or first purchase), NULL to = no longer clustered'),
			('transitions', 'from_cluster', 'segment before the last refresh; NULL for customers not clustered then'),
			('transitions', 'from_label', 'readable name of from_cluster'),
			('transitions', 'to_cluster', 'segment after the last refresh; NULL for customers no longer clustered'),
			('transitions', 'to_label', 'readable name of to_cluster'),
			('transitions', 'customers', 'customers who went from from_cluster to to_cluster'),
			('transitions', 'share_of_from', 'customers as a share of all customers of from_cluster before the refresh'),
			('history', NULL, 'one row per customer and stretch of time in one segment (SCD type 2): a row is closed and a new one opened only when the customer''s segment changes'),
			('history', 'customer_id', 'the customer'),
			('history', 'cluster', 'segment number; NULL for a stretch in which the customer was not clustered'),
			('history', 'label', 'readable name of the segment (the current name for the open row)'),
			('history', 'valid_from', 'when the customer entered the segment'),
			('history', 'valid_to', 'when the customer left it; NULL for the current segment')
		) AS c (result_table, column_name, text)
	LOOP
		IF comment.column_name IS NULL THEN
			EXECUTE format('COMMENT ON TABLE %I.%I IS %L', segmentation, comment.result_table, comment.text);
		ELSE
			EXECUTE format('COMMENT ON COLUMN %I.%I.%I IS %L', segmentation, comment.result_table, comment.column_name, comment.text);
		END IF;
	END LOOP;
	-- the fields of segment.features keep the type's comments
	FOR comment IN
		SELECT a.attname, col_description(a.attrelid, a.attnum) AS text
		FROM pg_attribute a WHERE a.attrelid = 'segment.features'::regclass AND a.attnum > 0
	LOOP
		EXECUTE format('COMMENT ON COLUMN %I.features.%I IS %L', segmentation, comment.attname, comment.text);
	END LOOP;
	FOR feature IN SELECT unnest(s.features) FROM segment.segmentations s WHERE s.name = segmentation LOOP
		EXECUTE format('COMMENT ON COLUMN %I.profiles.%I IS %L', segmentation, feature || '_mean',
			format('mean of %s in the segment, in original units', feature));
		EXECUTE format('COMMENT ON COLUMN %I.profiles.%I IS %L', segmentation, feature || '_z',
			format('mean z-score of the transformed %s in the segment', feature));
	END LOOP;
END
$function$;
COMMENT ON FUNCTION segment.comment_segmentation_tables(text) IS 'comments on the tables of a segmentation and their columns';

-- The output columns of a query, in order, with their types (read from a
-- temporary view of it, which is dropped again)
CREATE FUNCTION segment.query_columns(query text)
	RETURNS TABLE (ordinal integer, column_name name, column_type text)
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
BEGIN
	EXECUTE format('CREATE TEMP VIEW segment_table_shape AS %s', query);
	RETURN QUERY SELECT v.attnum::integer, v.attname, format_type(v.atttypid, v.atttypmod)
		FROM pg_attribute v WHERE v.attrelid = 'pg_temp.segment_table_shape'::regclass AND v.attnum > 0;
	DROP VIEW pg_temp.segment_table_shape;
END
$function$;
COMMENT ON FUNCTION segment.query_columns(text) IS 'the output columns of a query, in order, with their types';

-- Create the tables of a registered segmentation that are missing, empty,
-- with their unique keys and comments, and add the columns a table lacks
-- (a segmentation made by an earlier version); returns the tables created
CREATE FUNCTION segment.complete_segmentation_tables(segmentation text)
	RETURNS SETOF regclass
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	schema regnamespace := to_regnamespace(quote_ident(segmentation));
	result_table text;
	unique_key text;
	missing record;
	privilege record;
	changed boolean := false;
BEGIN
	-- (transitions last: its query reads history)
	FOR result_table, unique_key IN
		SELECT t.result_table, t.unique_key FROM segment.segmentation_tables() WITH ORDINALITY AS t (result_table, unique_key, position)
		ORDER BY t.result_table = 'transitions', t.position
	LOOP
		IF NOT EXISTS (SELECT FROM pg_class c WHERE c.relnamespace = schema AND c.relname = result_table) THEN
			EXECUTE format('CREATE TABLE %I.%I AS %s WITH NO DATA', segmentation, result_table,
				segment.segmentation_query(segmentation, result_table));
			EXECUTE format('CREATE UNIQUE INDEX %I ON %I.%I (%s)', result_table || '_key', segmentation, result_table, unique_key);
			-- whoever may read profiles may read the new table too
			FOR privilege IN
				SELECT a.grantee, a.privilege_type, a.is_grantable
				FROM pg_class c, aclexplode(c.relacl) a
				WHERE c.relnamespace = schema AND c.relname = 'profiles' AND a.grantee <> c.relowner
			LOOP
				EXECUTE format('GRANT %s ON %I.%I TO %s%s', privilege.privilege_type, segmentation, result_table,
					CASE WHEN privilege.grantee = 0 THEN 'PUBLIC' ELSE privilege.grantee::regrole::text END,
					CASE WHEN privilege.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
			END LOOP;
			changed := true;
			RETURN NEXT format('%I.%I', segmentation, result_table)::regclass;
			CONTINUE;
		END IF;
		-- the columns the query gives and the table lacks
		FOR missing IN
			SELECT q.column_name, q.column_type FROM segment.query_columns(segment.segmentation_query(segmentation, result_table)) AS q
			WHERE NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = format('%I.%I', segmentation, result_table)::regclass
							  AND a.attname = q.column_name AND NOT a.attisdropped)
			ORDER BY q.ordinal
		LOOP
			EXECUTE format('ALTER TABLE %I.%I ADD COLUMN %I %s', segmentation, result_table, missing.column_name, missing.column_type);
			changed := true;
		END LOOP;
	END LOOP;
	IF changed THEN
		PERFORM segment.comment_segmentation_tables(segmentation);
	END IF;
END
$function$;
COMMENT ON FUNCTION segment.complete_segmentation_tables(text) IS
	'creates the missing tables of a segmentation and adds the columns a table lacks; returns the tables created';

-- Refill one table of a segmentation.  Inside the refresh's transaction:
-- readers keep seeing the old rows until it commits and are never blocked
-- (row versions, not a lock on the table).  The rows go in by column name,
-- so the order of the columns does not matter.
CREATE FUNCTION segment.refresh_segmentation_table(segmentation text, result_table text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	query text := segment.segmentation_query(segmentation, result_table);
	columns text;
BEGIN
	SELECT string_agg(quote_ident(q.column_name), ', ' ORDER BY q.ordinal) INTO columns
	FROM segment.query_columns(query) AS q;
	EXECUTE format('DELETE FROM %I.%I', segmentation, result_table);
	EXECUTE format('INSERT INTO %I.%I (%s) SELECT %s FROM (%s) AS q', segmentation, result_table, columns, columns, query);
END
$function$;
COMMENT ON FUNCTION segment.refresh_segmentation_table(text, text) IS 'refills one table of a segmentation';

-- The final label of each segment: the user's (segment.set_label) where
-- there is one, else the automatic one; an automatic label that repeats
-- another gets the segment's number, then more until it is unique
CREATE FUNCTION segment.final_labels(automatic text[], user_labels text[])
	RETURNS text[]
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	labels text[] := '{}';
	label text;
BEGIN
	-- the users' labels first: they are kept as they are
	FOR c IN 1 .. coalesce(cardinality(automatic), 0) LOOP
		labels[c] := user_labels[c];
	END LOOP;
	FOR c IN 1 .. coalesce(cardinality(automatic), 0) LOOP
		CONTINUE WHEN user_labels[c] IS NOT NULL;
		label := automatic[c];
		WHILE label = ANY (labels) LOOP
			label := label || ' ' || c;
		END LOOP;
		labels[c] := label;
	END LOOP;
	RETURN labels;
END
$function$;
COMMENT ON FUNCTION segment.final_labels(text[], text[]) IS
	'the label of each segment: the user''s where set, else the automatic one, kept unique';

-- The automatic k of a segmentation from its candidates' scores: among
-- k = 3..8 whose smallest segment holds at least 2 % of the customers, the
-- best silhouette within one of the Kneedle elbow; else the best silhouette
-- among them; else the elbow.  Ties go to the smaller k.
CREATE FUNCTION segment.choose_k(ks integer[], silhouettes double precision[], smallest_shares double precision[],
		elbow_k integer)
	RETURNS integer
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT coalesce((
		SELECT u.k FROM unnest(ks, silhouettes, smallest_shares) AS u (k, silhouette, smallest_share)
		WHERE u.k BETWEEN 3 AND 8 AND u.smallest_share >= 0.02
		ORDER BY abs(u.k - elbow_k) > 1, u.silhouette DESC NULLS LAST, u.k
		LIMIT 1), elbow_k)
	$$;
COMMENT ON FUNCTION segment.choose_k(integer[], double precision[], double precision[], integer) IS
	'the automatic number of segments from the candidates'' silhouettes and smallest shares and the elbow';

-- Fit a segmentation anew from its features: standardize, fit every
-- candidate k (the previous k also from the previous centroids: a warm
-- start), choose k, keep the previous numbers and user labels; the result
-- goes to the registry row.  Called by refresh_segmentation (refit).
CREATE FUNCTION segment.fit_segmentation(segmentation text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	r segment.segmentations;
	vector text;
	n bigint;
	k_max integer;
	sample integer;
	chosen integer;
	elbow_k integer;
	previous_k integer;
	new_scaler segment.scaler;
	new_model_scaler segment.scaler;
	new_model segment.kmeans_model;
	previous double precision[];
	numbers integer[];
	reverse integer[];
	new_user_labels text[];
	new_numbers integer[];
	dims integer;
	distinct_customers bigint;
	fit_rows bigint;
	fingerprint numeric;
	previous_categories text[];
BEGIN
	SELECT * INTO STRICT r FROM segment.segmentations s WHERE s.name = segmentation;
	-- the most common country is "domestic" (a customer whose country is
	-- NULL is not)
	IF r.country_column IS NOT NULL THEN
		EXECUTE format('SELECT country FROM %I.features WHERE invoices > 0 AND country IS NOT NULL
						GROUP BY country ORDER BY count(*) DESC, country LIMIT 1', segmentation)
			INTO r.domestic_country;
	END IF;
	-- the notebook recipe's one-hot countries: those of the clustered
	-- customers, in collation order (pandas.get_dummies sorts them too)
	previous_categories := r.categories;
	r.categories := NULL;
	IF r.recipe = 'notebook' AND r.country_column IS NOT NULL THEN
		EXECUTE format('SELECT coalesce(array_agg(DISTINCT f.country ORDER BY f.country), ''{}'') FROM %I.features f
						WHERE %s AND f.country IS NOT NULL', segmentation, segment.segmentation_clustered_sql(r.recipe))
			INTO r.categories;
	END IF;
	-- amounts are counted in typical invoices (the median average invoice
	-- amount at the first fit, kept since), so the unit of the prices does
	-- not matter and the features mean the same at every refresh
	IF r.amount_unit IS NULL THEN
		EXECUTE format('SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY avg_invoice_amount)
						FROM %I.features WHERE invoices > 0 AND avg_invoice_amount > 0', segmentation)
			INTO r.amount_unit;
		r.amount_unit := coalesce(nullif(r.amount_unit, 0), 1);
	END IF;
	UPDATE segment.segmentations s SET domestic_country = r.domestic_country, amount_unit = r.amount_unit,
		categories = r.categories
	WHERE s.name = segmentation;

	-- the raw vectors of the customers clustered (with a purchase, or any
	-- line for the notebook recipe)
	vector := segment.segmentation_vector_sql(r.recipe, r.country_column IS NOT NULL);
	IF to_regclass('pg_temp.segment_refresh_vectors') IS NOT NULL THEN
		DROP TABLE pg_temp.segment_refresh_vectors;
	END IF;
	EXECUTE format('CREATE TEMP TABLE segment_refresh_vectors AS
					SELECT row_number() OVER (ORDER BY f.customer_id) AS id, %s AS raw,
						NULL::double precision[] AS vec, NULL::integer AS cluster, true AS in_fit
					FROM %I.features f, (SELECT $1 AS domestic_country, $2 AS amount_unit, $3 AS categories) r
					WHERE %s', vector, segmentation, segment.segmentation_clustered_sql(r.recipe))
		USING r.domestic_country, r.amount_unit, r.categories;
	SELECT count(*) INTO n FROM pg_temp.segment_refresh_vectors;
	IF n < 3 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('segmentation "%s" needs at least 3 customers with a purchase, the source has %s', segmentation, n);
	END IF;
	IF r.k IS NOT NULL AND r.k > n - 1 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('k (%s) must be below the number of customers with a purchase (%s)', r.k, n);
	END IF;
	-- no k above the number of distinct customers: it could not be filled
	SELECT count(DISTINCT v.raw) INTO distinct_customers FROM pg_temp.segment_refresh_vectors v;
	IF distinct_customers < 2 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('segmentation "%s": the %s customers with a purchase all have the same features, there is nothing to segment',
				segmentation, n);
	END IF;
	IF r.k IS NOT NULL AND r.k > distinct_customers THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('k (%s) must not exceed the number of customers with distinct features (%s)', r.k, distinct_customers);
	END IF;

	-- standardize; the domestic flag is only centred, so it weighs like one
	-- standard deviation of a numeric feature and rare countries cannot dominate
	-- (the notebook recipe standardizes every column, as StandardScaler does)
	new_scaler := (SELECT segment.scaler_fit(v.raw) FROM pg_temp.segment_refresh_vectors v);
	new_model_scaler := new_scaler;
	IF r.country_column IS NOT NULL AND r.recipe = 'rfm' THEN
		new_model_scaler.scale[10] := 1;
	END IF;
	UPDATE pg_temp.segment_refresh_vectors SET vec = segment.scale(raw, new_model_scaler);
	ANALYZE pg_temp.segment_refresh_vectors;

	-- bounded memory: when the vectors and the working memory of
	-- segment.evaluate (about 32 bytes per element and 400 per row at k = 10)
	-- do not fit maintenance_work_mem, fit on a seeded sample and assign
	-- every row
	fit_rows := least(n, floor(pg_size_bytes(current_setting('maintenance_work_mem'))
		/ (32.0 * array_length(new_model_scaler.mean, 1) + 512))::bigint);
	IF fit_rows < n THEN
		UPDATE pg_temp.segment_refresh_vectors v SET in_fit = v.id IN (
			SELECT id FROM pg_temp.segment_refresh_vectors ORDER BY md5(id::text || r.seed::text), id LIMIT fit_rows);
	END IF;

	-- the previous centroids in the new standardized space: the warm start
	-- of the previous k, and what the new clusters are matched to
	dims := array_length(new_model_scaler.mean, 1);
	-- (not across a change of recipe or of the one-hot countries: the
	-- elements would mean something else)
	IF r.model IS NOT NULL AND (r.model).dims = dims AND r.model_scaler IS NOT NULL
		AND r.model_recipe = r.recipe AND r.categories IS NOT DISTINCT FROM previous_categories THEN
		-- (a damaged stored model raises its error here)
		PERFORM segment.kmeans_assign(array_fill(0::double precision, ARRAY[dims]), r.model);
		previous_k := (r.model).k;
		previous := (SELECT array_agg(segment.scale(segment.unscale(
							ARRAY(SELECT (r.model).centroids[c][j] FROM generate_series(1, dims) AS j),
							r.model_scaler), new_model_scaler) ORDER BY c)
					 FROM generate_series(1, previous_k) AS c);
	END IF;

	-- a source unchanged since the last fit (the same vectors: a sum of
	-- their hashes, each seeded by its row) fitted on as many rows, with
	-- the same k and seed, keeps its model: every customer keeps its segment
	SELECT sum(hashtextextended(v.raw::text, v.id)::numeric) INTO fingerprint FROM pg_temp.segment_refresh_vectors v;
	IF r.model IS NOT NULL AND fingerprint = r.fit_fingerprint AND new_model_scaler = r.model_scaler
		AND r.model_recipe = r.recipe AND r.categories IS NOT DISTINCT FROM previous_categories
		AND r.fitted_rows = fit_rows AND (r.model).seed = r.seed AND (r.k IS NULL OR r.k = (r.model).k) THEN
		UPDATE segment.segmentations s SET fitted_at = clock_timestamp(), customers_clustered = n, renumbering = NULL
		WHERE s.name = segmentation;
		DROP TABLE pg_temp.segment_refresh_vectors;
		RETURN;
	END IF;

	-- every candidate k with its scores, from one read of the vectors
	-- (segment.evaluate fits each k as segment.elbow and segment.kmeans_fit
	-- do and scores it as silhouette, davies_bouldin and calinski_harabasz).
	-- The previous k also refits from the previous centroids: one Lloyd
	-- step, so each segment keeps its customers and its centre moves to
	-- their new mean.  That model stays unless the fresh fit's inertia is
	-- lower by more than 2 %: on the bundled data a fresh fit a month later
	-- lands 0.1 to 1.2 % lower with up to a third of the customers
	-- reshuffled, which is no reason to move them.
	k_max := least(10, n - 1, distinct_customers);
	DELETE FROM segment.segmentation_scores s WHERE s.name = segmentation;
	sample := CASE WHEN fit_rows > segment.silhouette_limit() THEN segment.silhouette_limit() END;
	IF to_regclass('pg_temp.segment_refresh_evaluations') IS NOT NULL THEN
		DROP TABLE pg_temp.segment_refresh_evaluations;
	END IF;
	CREATE TEMP TABLE segment_refresh_evaluations AS
	SELECT * FROM segment.evaluate('SELECT id, vec FROM pg_temp.segment_refresh_vectors WHERE in_fit',
		2, k_max, 10, r.seed, sample, previous);
	IF r.k > k_max THEN
		INSERT INTO pg_temp.segment_refresh_evaluations
		SELECT e.k, e.model, e.inertia, e.silhouette, e.davies_bouldin, e.calinski_harabasz, e.sizes,
			e.smallest_share, false, e.from_start
		FROM segment.evaluate('SELECT id, vec FROM pg_temp.segment_refresh_vectors WHERE in_fit',
			r.k, r.k, 10, r.seed, sample, previous) AS e;
	END IF;
	INSERT INTO segment.segmentation_scores (name, k, inertia, silhouette, davies_bouldin,
		calinski_harabasz, smallest_share, is_elbow, is_chosen)
	SELECT segmentation, e.k, e.inertia, e.silhouette, e.davies_bouldin, e.calinski_harabasz,
		e.smallest_share, e.is_elbow, false
	FROM pg_temp.segment_refresh_evaluations AS e;

	-- the k: the one asked for; else, among 3..8 with every segment at least
	-- 2 % of the customers, the best silhouette within one of the elbow; else
	-- the best such silhouette; else the elbow
	SELECT s.k INTO elbow_k FROM segment.segmentation_scores s WHERE s.name = segmentation AND s.is_elbow;
	IF r.k IS NOT NULL THEN
		chosen := r.k;
	ELSE
		SELECT segment.choose_k(array_agg(s.k ORDER BY s.k), array_agg(s.silhouette ORDER BY s.k),
			array_agg(s.smallest_share ORDER BY s.k), elbow_k) INTO chosen
		FROM segment.segmentation_scores s WHERE s.name = segmentation;
		-- hysteresis: the previous k stays while it still qualifies (3..8,
		-- every segment at least 2 %) and is within two of the new elbow (the
		-- Kneedle elbow of a flat inertia curve moves by one at the slightest
		-- change of the data)
		IF previous_k IS NOT NULL AND chosen <> previous_k AND abs(previous_k - elbow_k) <= 2 AND EXISTS (
			SELECT FROM segment.segmentation_scores p
			WHERE p.name = segmentation AND p.k = previous_k AND p.k BETWEEN 3 AND 8 AND p.smallest_share >= 0.02) THEN
			chosen := previous_k;
		END IF;
	END IF;
	new_model := (SELECT e.model FROM pg_temp.segment_refresh_evaluations AS e WHERE e.k = chosen);
	UPDATE segment.segmentation_scores s SET is_chosen = (s.k = chosen) WHERE s.name = segmentation;

	-- a model fitted on a sample reports the inertia of all the customers
	IF fit_rows < n THEN
		new_model.inertia := (SELECT sum(segment.kmeans_distance(v.vec, new_model) ^ 2)
							  FROM pg_temp.segment_refresh_vectors v);
	END IF;

	-- keep the previous model's numbers: match the centroids; the user's
	-- labels follow their segments (each previous segment to the new one
	-- matched to it)
	IF previous IS NOT NULL THEN
		numbers := segment.match_clusters(previous, (new_model).centroids);
		new_model.centroids := (
			SELECT array_agg(renumbered.centroid ORDER BY renumbered.number)
			FROM (SELECT numbers[c] AS number,
						 ARRAY(SELECT (new_model).centroids[c][j] FROM generate_series(1, dims) AS j) AS centroid
				  FROM generate_series(1, (new_model).k) AS c) AS renumbered);
		-- each previous segment's new number (NULL: no new segment matches it)
		reverse := segment.match_clusters((new_model).centroids, previous);
		new_numbers := ARRAY(SELECT CASE WHEN reverse[o] <= (new_model).k THEN reverse[o] END
							 FROM generate_series(1, previous_k) AS o ORDER BY o);
		IF r.user_labels IS NOT NULL THEN
			new_user_labels := (SELECT array_agg(
								(SELECT r.user_labels[o] FROM generate_series(1, previous_k) AS o WHERE reverse[o] = c LIMIT 1)
								ORDER BY c)
							FROM generate_series(1, (new_model).k) AS c);
		END IF;
	END IF;

	UPDATE segment.segmentations s
	SET fitted_at = clock_timestamp(),
		renumbering = new_numbers,
		scaler = new_scaler,
		model_scaler = new_model_scaler,
		model = new_model,
		pca = segment.pca_fit('SELECT id, vec FROM pg_temp.segment_refresh_vectors WHERE in_fit', least(2, dims)),
		user_labels = new_user_labels,
		labels = segment.final_labels(segment.segmentation_automatic_labels(r, (new_model).centroids), new_user_labels),
		customers_clustered = n,
		model_recipe = r.recipe,
		fitted_rows = fit_rows,
		fit_fingerprint = fingerprint
	WHERE s.name = segmentation;
	DROP TABLE pg_temp.segment_refresh_vectors;
	DROP TABLE pg_temp.segment_refresh_evaluations;
END
$function$;
COMMENT ON FUNCTION segment.fit_segmentation(text) IS
	'fits a segmentation anew from its features, warm-started from its previous model';

-- Keep history up to date with the assignments just made, at time at: the
-- open row of a customer whose segment changed is closed and a new one
-- opened (with cluster NULL for a customer no longer clustered).  A refit
-- that lowers k renumbers segments (segmentations.renumbering maps each
-- previous number to the new one): a row stays open only when its segment
-- keeps its customer and its number, so history replays every refresh's
-- assignments.  The open rows carry the segments' current labels.
CREATE FUNCTION segment.record_history(segmentation text, at timestamptz)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	renumbering integer[] := (SELECT s.renumbering FROM segment.segmentations s WHERE s.name = segmentation);
BEGIN
	EXECUTE format($sql$
		UPDATE %1$I.history h SET valid_to = $1
		WHERE h.valid_to IS NULL AND NOT EXISTS (
			SELECT FROM %1$I.assignments a WHERE a.customer_id = h.customer_id AND a.cluster IS NOT DISTINCT FROM h.cluster
				AND ($2 IS NULL OR h.cluster IS NULL OR $2[h.cluster] IS NOT DISTINCT FROM h.cluster)) $sql$,
		segmentation) USING at, renumbering;
	EXECUTE format($sql$
		INSERT INTO %1$I.history (customer_id, cluster, label, valid_from, valid_to)
		SELECT a.customer_id, a.cluster, p.label, $1, NULL
		FROM %1$I.assignments a LEFT JOIN %1$I.profiles p USING (cluster)
		WHERE NOT EXISTS (SELECT FROM %1$I.history h WHERE h.customer_id = a.customer_id AND h.valid_to IS NULL)
			AND (a.cluster IS NOT NULL OR EXISTS (SELECT FROM %1$I.history h WHERE h.customer_id = a.customer_id)) $sql$,
		segmentation) USING at;
	EXECUTE format($sql$
		UPDATE %1$I.history h SET label = p.label
		FROM %1$I.profiles p WHERE h.valid_to IS NULL AND h.cluster = p.cluster AND h.label IS DISTINCT FROM p.label $sql$,
		segmentation);
END
$function$;
COMMENT ON FUNCTION segment.record_history(text, timestamptz) IS
	'closes and opens the history rows of the customers whose segment changed';

-- Become the owner of a segmentation for what follows in the transaction
-- (a refresh, a label, a trim write the owner's tables as the owner, as
-- REFRESH MATERIALIZED VIEW does); returns the role to come back to, NULL
-- when nothing changed (the current user is the owner, as inside a
-- SECURITY DEFINER function owned by the owner, where no role can be set).
CREATE FUNCTION segment.become_owner(segmentation text, owner_role oid)
	RETURNS text
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	owner_name name := (SELECT a.rolname FROM pg_roles a WHERE a.oid = owner_role);
	caller_role text;
BEGIN
	IF owner_name IS NULL OR NOT pg_has_role(owner_role, 'MEMBER') THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = format('must be a member of role %s to change segmentation "%s"',
				coalesce(quote_ident(owner_name), owner_role::text), segmentation);
	END IF;
	IF owner_name <> current_user THEN
		caller_role := current_setting('role');
		BEGIN
			PERFORM set_config('role', owner_name, true);
		EXCEPTION WHEN insufficient_privilege THEN
			RAISE EXCEPTION USING ERRCODE = '42501',
				MESSAGE = format('cannot act as role %s, the owner of segmentation "%s", here', quote_ident(owner_name), segmentation),
				DETAIL = SQLERRM,
				HINT = format('Inside a SECURITY DEFINER function, make the function''s owner %s.', quote_ident(owner_name));
		END;
	END IF;
	RETURN caller_role;
END
$function$;
COMMENT ON FUNCTION segment.become_owner(text, oid) IS
	'switches to the role that owns a segmentation for the rest of the transaction; returns the role to come back to, or NULL';

-- refresh_segmentation: recompute a segmentation in one transaction; with
-- refit => false only assign the customers with the stored model
CREATE FUNCTION segment.refresh_segmentation(name text, refit boolean DEFAULT true)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	r segment.segmentations;
	segmentation text := refresh_segmentation.name;
	caller_time_zone text;
	caller_work_mem text;
	caller_gather_workers text;
	caller_role text;
	refreshed_at timestamptz;
BEGIN
	IF segmentation IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'name must not be NULL';
	END IF;
	IF refit IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'refit must not be NULL';
	END IF;
	-- one refresh of a segmentation at a time: the row lock waits for another
	SELECT * INTO r FROM segment.segmentations s WHERE s.name = segmentation FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = '42704', MESSAGE = format('segmentation "%s" does not exist', segmentation);
	END IF;
	IF NOT EXISTS (SELECT FROM pg_namespace n WHERE n.oid = r.schema AND n.nspname = segmentation) THEN
		RAISE EXCEPTION USING ERRCODE = '3F000',
			MESSAGE = format('schema "%s" of segmentation "%s" does not exist', segmentation, segmentation),
			HINT = format('It was dropped or renamed by hand: segment.drop_segmentation(%L) removes the record, then create the segmentation again.', segmentation);
	END IF;
	IF NOT refit AND r.model IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '55000',
			MESSAGE = format('segmentation "%s" has no model to assign with', segmentation),
			HINT = 'Refresh it with refit => true first.';
	END IF;
	IF NOT refit AND r.model_recipe IS DISTINCT FROM r.recipe THEN
		RAISE EXCEPTION USING ERRCODE = '55000',
			MESSAGE = format('segmentation "%s" has recipe %s, its model was fitted with recipe %s', segmentation, r.recipe, r.model_recipe),
			HINT = 'Refresh it with refit => true first.';
	END IF;
	-- the refresh runs as the segmentation's owner, as REFRESH MATERIALIZED
	-- VIEW runs as the view's: what the owner attached to its tables or its
	-- source never runs with the rights of another role that refreshes
	caller_role := segment.become_owner(segmentation, segment.segmentation_owner(r.schema, r.owner));
	IF NOT has_database_privilege(current_database(), 'TEMPORARY') THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = format('refreshing segmentation "%s" needs the TEMPORARY privilege on database %s',
				segmentation, current_database()),
			HINT = format('GRANT TEMPORARY ON DATABASE %I TO %I;', current_database(), current_user);
	END IF;
	-- the source: the same table or view, or when that was dropped, one of the
	-- same name (a reload that drops and creates it again); nothing depends
	-- on it, so dropping it leaves the results in place
	r.source := coalesce((SELECT c.oid FROM pg_class c WHERE c.oid = r.source), to_regclass(r.source_name));
	IF r.source IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '42P01',
			MESSAGE = format('the source %s of segmentation "%s" does not exist', r.source_name, segmentation),
			DETAIL = 'Its table or view was dropped; the segmentation''s tables keep the results of the last refresh.',
			HINT = format('Create %s again, or drop the segmentation with segment.drop_segmentation(%L) and create it on another source.',
				r.source_name, segmentation);
	END IF;
	r.source_name := (SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
					  WHERE c.oid = r.source);
	-- its mapping still fits it (the source may have changed since)
	PERFORM segment.check_source_columns(r, segmentation);

	-- calendar units in the time zone of the creation, whoever refreshes
	caller_time_zone := current_setting('TimeZone');
	PERFORM set_config('TimeZone', r.time_zone, true);
	-- the lines grouped by customer, in one scan of the source; the GROUP BY
	-- is a maintenance operation in one process, so its hash table may use
	-- maintenance_work_mem, as CREATE INDEX does, rather than spill to disk
	-- at work_mem
	IF to_regclass('pg_temp.segment_refresh_customers') IS NOT NULL THEN
		DROP TABLE pg_temp.segment_refresh_customers;
	END IF;
	IF pg_size_bytes(current_setting('maintenance_work_mem')) > pg_size_bytes(current_setting('work_mem')) THEN
		caller_work_mem := current_setting('work_mem');
		PERFORM set_config('work_mem', current_setting('maintenance_work_mem'), true);
	END IF;
	-- and it may run in parallel, with as many workers as segment's own
	-- operations get (segment.parallel_workers: no more processes than CPUs;
	-- on 2 cores one worker groups the bundled lines in 169 ms, none in 209
	-- and two in 210), within what the caller allows its queries
	caller_gather_workers := current_setting('max_parallel_workers_per_gather');
	PERFORM set_config('max_parallel_workers_per_gather',
		least(caller_gather_workers::integer, segment.parallel_workers())::text, true);
	EXECUTE 'CREATE TEMP TABLE segment_refresh_customers AS ' || segment.segmentation_customers_sql(r);
	PERFORM set_config('max_parallel_workers_per_gather', caller_gather_workers, true);
	IF caller_work_mem IS NOT NULL THEN
		PERFORM set_config('work_mem', caller_work_mem, true);
	END IF;
	r.used_as_of := coalesce(r.as_of, (SELECT max(c.last_line) FROM pg_temp.segment_refresh_customers c));
	-- the owner of the schema owns the segmentation (ownership may have moved)
	UPDATE segment.segmentations s
	SET source = r.source, source_name = r.source_name, used_as_of = r.used_as_of,
		owner = segment.segmentation_owner(s.schema, s.owner)::regrole
	WHERE s.name = segmentation;
	-- a new segmentation gets its tables; one made by an earlier version
	-- the tables and columns it lacks
	PERFORM segment.complete_segmentation_tables(segmentation);
	PERFORM segment.refresh_segmentation_table(segmentation, 'features');
	DROP TABLE pg_temp.segment_refresh_customers;

	IF refit THEN
		PERFORM segment.fit_segmentation(segmentation);
	ELSE
		-- the stored scaler and model assign every customer, new ones too
		EXECUTE format('SELECT count(*) FROM %I.features f WHERE %s', segmentation, segment.segmentation_clustered_sql(r.recipe))
			INTO r.customers_clustered;
		UPDATE segment.segmentations s SET customers_clustered = r.customers_clustered, renumbering = NULL
		WHERE s.name = segmentation;
	END IF;
	refreshed_at := clock_timestamp();
	UPDATE segment.segmentations s SET assigned_at = refreshed_at WHERE s.name = segmentation;

	PERFORM segment.refresh_segmentation_table(segmentation, t.result_table)
	FROM segment.segmentation_tables() AS t
	WHERE t.result_table NOT IN ('features', 'history') AND (refit OR t.result_table <> 'elbow');
	PERFORM segment.record_history(segmentation, refreshed_at);
	PERFORM set_config('TimeZone', caller_time_zone, true);
	IF caller_role IS NOT NULL THEN
		PERFORM set_config('role', caller_role, true);
	END IF;
END
$function$;
COMMENT ON FUNCTION segment.refresh_segmentation(text, boolean) IS
	'recomputes a segmentation in one transaction (refit => false: assigns with the stored model); readers see the old results until it commits';

-- The errors of a name already taken by a schema or a segmentation
CREATE FUNCTION segment.raise_schema_exists(segmentation text)
	RETURNS void
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
BEGIN
	RAISE EXCEPTION USING ERRCODE = '42P06', MESSAGE = format('schema "%s" already exists', segmentation),
		HINT = 'A segmentation creates a schema of its name: choose another name or drop that schema.';
END
$function$;
COMMENT ON FUNCTION segment.raise_schema_exists(text) IS 'raises the error of a segmentation name taken by a schema';

CREATE FUNCTION segment.raise_segmentation_exists(segmentation text)
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

-- create_segmentation: create the schema, register, create the tables, and fit
CREATE FUNCTION segment.create_segmentation(name text, source regclass, k integer DEFAULT NULL,
		customer_column name DEFAULT 'customer_id', invoice_column name DEFAULT 'invoice_no',
		time_column name DEFAULT 'invoice_date', quantity_column name DEFAULT 'quantity',
		price_column name DEFAULT 'unit_price', country_column name DEFAULT 'country',
		as_of timestamp DEFAULT NULL, seed bigint DEFAULT 0, recipe text DEFAULT 'rfm')
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	segmentation text := create_segmentation.name;
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
	-- one creation of a name at a time: a second session waits here, then
	-- sees the first one's schema
	PERFORM pg_advisory_xact_lock(hashtext('segment.create_segmentation'), hashtext(segmentation));
	IF EXISTS (SELECT FROM pg_namespace n WHERE n.nspname = segmentation) THEN
		PERFORM segment.raise_schema_exists(segmentation);
	END IF;
	IF EXISTS (SELECT FROM segment.segmentations s WHERE s.name = segmentation) THEN
		PERFORM segment.raise_segmentation_exists(segmentation);
	END IF;

	-- the schema first: the registry's row-level security admits a row only
	-- for a schema of the caller's
	BEGIN
		EXECUTE format('CREATE SCHEMA %I', segmentation);
	EXCEPTION WHEN unique_violation OR duplicate_schema THEN
		PERFORM segment.raise_schema_exists(segmentation);
	END;
	EXECUTE format('COMMENT ON SCHEMA %I IS %L', segmentation,
		format('segmentation %s of %s, made by segment.create_segmentation', segmentation, source));
	BEGIN
		INSERT INTO segment.segmentations (name, schema, source, source_name, k, customer_column, invoice_column, time_column,
			quantity_column, price_column, country_column, as_of, seed, time_zone, features, recipe)
		VALUES (segmentation, to_regnamespace(quote_ident(segmentation)), source,
			(SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			 WHERE c.oid = source),
			k, customer_column, invoice_column, time_column,
			quantity_column, price_column, country_column, as_of, seed, current_setting('TimeZone'),
			segment.segmentation_features(recipe, country_column IS NOT NULL), recipe);
	EXCEPTION WHEN unique_violation THEN
		-- a row of another role's, hidden by row-level security
		PERFORM segment.raise_segmentation_exists(segmentation);
	END;
	-- (the refresh creates the tables)
	PERFORM segment.refresh_segmentation(segmentation);
END
$function$;
COMMENT ON FUNCTION segment.create_segmentation(text, regclass, integer, name, name, name, name, name, name, timestamp, bigint, text) IS
	'segments the customers of a table of invoice lines into schema "name", with tables for BI tools';

-- alter_segmentation: change the arguments of a segmentation; NULL keeps
-- one as it is.  The next refresh uses them.
CREATE FUNCTION segment.alter_segmentation(name text, k integer DEFAULT NULL,
		customer_column name DEFAULT NULL, invoice_column name DEFAULT NULL,
		time_column name DEFAULT NULL, quantity_column name DEFAULT NULL,
		price_column name DEFAULT NULL, country_column name DEFAULT NULL,
		as_of timestamp DEFAULT NULL, seed bigint DEFAULT NULL, recipe text DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	segmentation text := alter_segmentation.name;
	r segment.segmentations;
BEGIN
	IF segmentation IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'name must not be NULL';
	END IF;
	-- waits for a refresh of it to finish
	SELECT * INTO r FROM segment.segmentations s WHERE s.name = segmentation FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = '42704', MESSAGE = format('segmentation "%s" does not exist', segmentation);
	END IF;
	IF alter_segmentation.k IS NOT NULL AND alter_segmentation.k < 2 THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('k must be at least 2, not %s', alter_segmentation.k);
	END IF;
	PERFORM segment.check_as_of(alter_segmentation.as_of);
	IF alter_segmentation.recipe IS NOT NULL THEN
		PERFORM segment.check_recipe(alter_segmentation.recipe);
	END IF;
	IF r.country_column IS NULL AND alter_segmentation.country_column IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = '0A000',
			MESSAGE = format('segmentation "%s" was made without a country column', segmentation),
			DETAIL = 'A country column adds a clustering feature, which changes the columns of its tables.',
			HINT = 'Drop the segmentation and create it again with country_column.';
	END IF;
	r.k := coalesce(alter_segmentation.k, r.k);
	r.customer_column := coalesce(alter_segmentation.customer_column, r.customer_column);
	r.invoice_column := coalesce(alter_segmentation.invoice_column, r.invoice_column);
	r.time_column := coalesce(alter_segmentation.time_column, r.time_column);
	r.quantity_column := coalesce(alter_segmentation.quantity_column, r.quantity_column);
	r.price_column := coalesce(alter_segmentation.price_column, r.price_column);
	r.country_column := coalesce(alter_segmentation.country_column, r.country_column);
	r.as_of := coalesce(alter_segmentation.as_of, r.as_of);
	r.seed := coalesce(alter_segmentation.seed, r.seed);
	-- another recipe: other features (the profiles' columns of features the
	-- new recipe lacks stay, NULL, so that no reader's query breaks)
	r.recipe := coalesce(alter_segmentation.recipe, r.recipe);
	r.features := segment.segmentation_features(r.recipe, r.country_column IS NOT NULL);
	-- the mapping must fit the source as it is now
	r.source := coalesce((SELECT c.oid FROM pg_class c WHERE c.oid = r.source), to_regclass(r.source_name));
	IF r.source IS NOT NULL THEN
		PERFORM segment.check_source_columns(r);
	END IF;
	UPDATE segment.segmentations s
	SET k = r.k, customer_column = r.customer_column, invoice_column = r.invoice_column,
		time_column = r.time_column, quantity_column = r.quantity_column, price_column = r.price_column,
		country_column = r.country_column, as_of = r.as_of, seed = r.seed, recipe = r.recipe, features = r.features
	WHERE s.name = segmentation;
END
$function$;
COMMENT ON FUNCTION segment.alter_segmentation(text, integer, name, name, name, name, name, name, timestamp, bigint, text) IS
	'changes the arguments of a segmentation (NULL keeps one); the next refresh uses them';

-- The objects that would go with a segmentation's schema and tables and are
-- not the segmentation's own, described as DROP describes them: what lives
-- in the schema besides its tables; what depends on those tables (views,
-- foreign keys, rules, triggers, policies, indexes other than the unique key
-- the segmentation made, statistics, publications) or on their row types
CREATE FUNCTION segment.segmentation_dependents(schema regnamespace)
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
CREATE FUNCTION segment.drop_segmentation(name text, "cascade" boolean DEFAULT false)
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
	SELECT s.schema INTO schema FROM segment.segmentations s WHERE s.name = segmentation FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = '42704', MESSAGE = format('segmentation "%s" does not exist', segmentation);
	END IF;
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

-- set_label: a user's name for a segment, which follows it through
-- refreshes (the matching of centroids); NULL restores the automatic name
CREATE FUNCTION segment.set_label(name text, cluster integer, label text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	segmentation text := set_label.name;
	r segment.segmentations;
	new_user_labels text[];
	new_labels text[];
	caller_role text;
BEGIN
	IF segmentation IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'name must not be NULL';
	END IF;
	IF set_label.cluster IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'cluster must not be NULL';
	END IF;
	SELECT * INTO r FROM segment.segmentations s WHERE s.name = segmentation FOR UPDATE;
	IF NOT FOUND OR r.model IS NULL THEN
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

	-- the tables that name segments, as the segmentation's owner
	caller_role := segment.become_owner(segmentation, segment.segmentation_owner(r.schema, r.owner));
	EXECUTE format('UPDATE %1$I.profiles p SET label = l.label, label_source = CASE WHEN $2[l.c] IS NULL THEN ''automatic'' ELSE ''user'' END
					FROM unnest($1) WITH ORDINALITY AS l (label, c) WHERE p.cluster = l.c', segmentation)
		USING new_labels, new_user_labels;
	EXECUTE format('UPDATE %1$I.transitions t SET from_label = $1[t.from_cluster] WHERE t.from_cluster IS NOT NULL', segmentation)
		USING new_labels;
	EXECUTE format('UPDATE %1$I.transitions t SET to_label = $1[t.to_cluster] WHERE t.to_cluster IS NOT NULL', segmentation)
		USING new_labels;
	EXECUTE format('UPDATE %1$I.history h SET label = $1[h.cluster] WHERE h.valid_to IS NULL AND h.cluster IS NOT NULL', segmentation)
		USING new_labels;
	IF caller_role IS NOT NULL THEN
		PERFORM set_config('role', caller_role, true);
	END IF;
END
$function$;
COMMENT ON FUNCTION segment.set_label(text, integer, text) IS
	'names a segment (NULL restores the automatic name); the name follows the segment through refreshes';

-- trim_history: delete the closed history rows that ended before now() -
-- older_than; returns how many
CREATE FUNCTION segment.trim_history(name text, older_than interval)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	segmentation text := trim_history.name;
	r segment.segmentations;
	deleted bigint;
	caller_role text;
BEGIN
	IF segmentation IS NULL OR older_than IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'name and older_than must not be NULL';
	END IF;
	IF older_than < interval '0' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('older_than must not be negative, not %s', older_than);
	END IF;
	SELECT * INTO r FROM segment.segmentations s WHERE s.name = segmentation FOR UPDATE;
	IF NOT FOUND OR NOT EXISTS (SELECT FROM pg_namespace n WHERE n.oid = r.schema AND n.nspname = segmentation) THEN
		RAISE EXCEPTION USING ERRCODE = '42704', MESSAGE = format('segmentation "%s" does not exist', segmentation);
	END IF;
	caller_role := segment.become_owner(segmentation, segment.segmentation_owner(r.schema, r.owner));
	EXECUTE format('WITH gone AS (DELETE FROM %I.history WHERE valid_to < now() - $1 RETURNING 1) SELECT count(*) FROM gone', segmentation)
		USING older_than INTO deleted;
	IF caller_role IS NOT NULL THEN
		PERFORM set_config('role', caller_role, true);
	END IF;
	RETURN deleted;
END
$function$;
COMMENT ON FUNCTION segment.trim_history(text, interval) IS
	'deletes the closed history rows that ended before now() - older_than; returns how many';
/* src/sql/labels.sql */

-- Readable names of the segments

-- A readable name per cluster from its centroid (z-scores of the
-- transformed features): recency, frequency, spending; "several orders a
-- day" for clusters whose invoices per hour and per day stand out (customers
-- who place several invoices within an hour or a day: on the bundled data
-- the segment that otherwise reads like the frequent high spenders); and
-- "abroad" for clusters of customers mostly outside the domestic country
CREATE FUNCTION segment.segmentation_labels(centroids double precision[], with_country boolean)
	RETURNS text[]
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	labels text[] := '{}';
	label text;
	recency double precision;
	frequency double precision;
	spending double precision;
	intensity double precision;
BEGIN
	FOR c IN 1 .. array_length(centroids, 1) LOOP
		recency := centroids[c][1];
		frequency := (centroids[c][2] + centroids[c][5]) / 2;	-- invoices, invoices per month
		spending := centroids[c][7];							-- total amount
		intensity := (centroids[c][3] + centroids[c][4]) / 2;	-- invoices per hour, per day
		label := concat_ws(' ',
			CASE WHEN recency <= -0.5 THEN 'recent' WHEN recency >= 0.5 THEN 'lapsed' END,
			CASE WHEN frequency >= 0.5 THEN 'frequent' WHEN frequency <= -0.5 THEN 'occasional' END,
			CASE WHEN spending >= 0.5 THEN 'high spenders' WHEN spending <= -0.5 THEN 'low spenders'
				ELSE 'mid spenders' END,
			CASE WHEN with_country AND centroids[c][10] <= -0.5 THEN 'abroad' END)
			|| CASE WHEN intensity >= 1 THEN ', several orders a day' ELSE '' END;
		IF label = ANY (labels) THEN
			label := label || ' ' || c;
		END IF;
		labels := labels || label;
	END LOOP;
	RETURN labels;
END
$function$;
COMMENT ON FUNCTION segment.segmentation_labels(double precision[], boolean) IS 'readable, unique names of clusters from their centroids';

-- The automatic labels of a segmentation's clusters from their centroids.
-- The notebook recipe's centroids are z-scores of the raw features in
-- another order: each is read in the rfm recipe's order of features
-- (segment.segmentation_features), without a domestic flag.
CREATE FUNCTION segment.segmentation_automatic_labels(r segment.segmentations, centroids double precision[])
	RETURNS text[]
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE WHEN r.recipe = 'notebook' THEN
		segment.segmentation_labels((
			SELECT array_agg(ARRAY(
				SELECT centroids[c][array_position(segment.segmentation_features('notebook', false), u.feature)]
				FROM unnest(segment.segmentation_features('rfm', false)) WITH ORDINALITY AS u (feature, i) ORDER BY u.i) ORDER BY c)
			FROM generate_series(1, array_length(centroids, 1)) AS c), false)
	ELSE segment.segmentation_labels(centroids, r.country_column IS NOT NULL) END
	$$;
COMMENT ON FUNCTION segment.segmentation_automatic_labels(segment.segmentations, double precision[]) IS
	'the automatic labels of the clusters of registry row r from their centroids';
/* src/sql/plots.sql */

-- Pictures: SVG plots drawn from a segmentation's tables, so a picture
-- always matches them (README: "Pictures")

-- Text made safe for XML and HTML: markup escaped, and control characters,
-- which XML 1.0 does not allow, shown as U+FFFD
CREATE FUNCTION segment.xml_text(value text)
	RETURNS text
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT regexp_replace(
		replace(replace(replace(replace(replace(value, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;'),
		'[\u0001-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]', U&'\FFFD', 'g')
	$$;
COMMENT ON FUNCTION segment.xml_text(text) IS 'text escaped for XML and HTML';

-- Colour of cluster c: the Okabe-Ito palette, safe for colour-blind readers,
-- and two more; beyond twelve clusters, hues a golden angle (137.5 degrees)
-- apart, so that no two clusters share a colour
CREATE FUNCTION segment.plot_colour(cluster integer)
	RETURNS text
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE WHEN cluster BETWEEN 1 AND 12
		THEN (ARRAY['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000',
					'#999999', '#882255', '#44AA99', '#6B4E16'])[cluster]
		ELSE format('hsl(%s,%s%%,%s%%)', round(((cluster * 137.508) % 360)::numeric, 1),
					55 + (cluster % 3) * 15, 35 + (cluster % 2) * 15) END
	$$;
COMMENT ON FUNCTION segment.plot_colour(integer) IS 'colour of a cluster in the plots (Okabe-Ito palette)';

-- About n "nice" tick values (1, 2 or 5 times a power of ten) covering low .. high
CREATE FUNCTION segment.plot_ticks(low double precision, high double precision, n integer DEFAULT 5)
	RETURNS double precision[]
	LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	span double precision := high - low;
	raw double precision;
	magnitude double precision;
	step double precision;
	ticks double precision[] := '{}';
	tick double precision;
BEGIN
	IF span <= 0 OR NOT (span < 'Infinity') THEN
		RETURN ARRAY[low];
	END IF;
	raw := span / greatest(n, 1);
	magnitude := power(10, floor(log(raw)));
	step := magnitude * CASE WHEN raw / magnitude <= 1 THEN 1 WHEN raw / magnitude <= 2 THEN 2
		WHEN raw / magnitude <= 5 THEN 5 ELSE 10 END;
	tick := ceil(low / step) * step;
	WHILE tick <= high + step * 1e-9 LOOP
		ticks := ticks || round(tick::numeric, 12)::double precision;
		tick := tick + step;
	END LOOP;
	RETURN ticks;
END
$function$;
COMMENT ON FUNCTION segment.plot_ticks(double precision, double precision, integer) IS 'nice tick values for a plot axis';

-- A tick label: short, without float noise
CREATE FUNCTION segment.plot_number(value double precision)
	RETURNS text
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE
		WHEN abs(value) >= 1e15 THEN btrim(to_char(value, '9.99EEEE'))
		WHEN abs(value) >= 1e12 THEN rtrim(rtrim(to_char(value / 1e12, 'FM999990.99'), '0'), '.') || 'T'
		WHEN abs(value) >= 1e9 THEN rtrim(rtrim(to_char(value / 1e9, 'FM999990.99'), '0'), '.') || 'G'
		WHEN abs(value) >= 1e6 THEN rtrim(rtrim(to_char(value / 1e6, 'FM999999990.99'), '0'), '.') || 'M'
		WHEN abs(value) >= 1e4 THEN rtrim(rtrim(to_char(value / 1e3, 'FM999999990.9'), '0'), '.') || 'k'
		WHEN value = trunc(value) THEN to_char(value, 'FM999999990')
		ELSE rtrim(rtrim(to_char(value, 'FM999999990.999'), '0'), '.') END
	$$;
COMMENT ON FUNCTION segment.plot_number(double precision) IS 'a short label for an axis tick';

-- A number for a table, grouped in thousands with the given decimals, of any
-- magnitude (amounts in dong or rupiah run into the billions)
CREATE FUNCTION segment.table_number(value double precision, decimals integer DEFAULT 1)
	RETURNS text
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE WHEN value = 'NaN'::double precision OR abs(value) = 'Infinity'::double precision THEN value::text
		WHEN abs(value) >= 1e21 THEN btrim(to_char(value, '9.999EEEE'))
		ELSE to_char(value, 'FM999,999,999,999,999,999,990' || CASE WHEN decimals > 0 THEN '.' || repeat('0', decimals) ELSE '' END) END
	$$;
COMMENT ON FUNCTION segment.table_number(double precision, integer) IS 'a number for a table: grouped thousands, any magnitude';

-- Raise the error for a name that is no segmentation the caller can see
CREATE FUNCTION segment.check_segmentation(name text)
	RETURNS segment.segmentations
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	r segment.segmentations;
BEGIN
	IF check_segmentation.name IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'name must not be NULL';
	END IF;
	SELECT * INTO r FROM segment.segmentations s WHERE s.name = check_segmentation.name;
	IF NOT FOUND OR r.model IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '42704',
			MESSAGE = format('segmentation "%s" does not exist', check_segmentation.name);
	END IF;
	RETURN r;
END
$function$;
COMMENT ON FUNCTION segment.check_segmentation(text) IS 'the registry row of a fitted segmentation, or an error';

-- The opening of an SVG document: size, white background, title and subtitle
CREATE FUNCTION segment.svg_open(width integer, height integer, title text, subtitle text)
	RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT format('<svg xmlns="http://www.w3.org/2000/svg" width="%1$s" height="%2$s" viewBox="0 0 %1$s %2$s" '
		'font-family="DejaVu Sans, Arial, Helvetica, sans-serif" font-size="12" fill="#222222">'
		'<rect class="background" x="0" y="0" width="%1$s" height="%2$s" fill="#ffffff"/>'
		'<text class="title" x="%3$s" y="26" text-anchor="middle" font-size="17" font-weight="bold">%4$s</text>'
		'<text class="subtitle" x="%3$s" y="46" text-anchor="middle" font-size="12" fill="#555555">%5$s</text>',
		width, height, width / 2, segment.xml_text(title), segment.xml_text(coalesce(subtitle, '')))
	$$;
COMMENT ON FUNCTION segment.svg_open(integer, integer, text, text) IS 'the opening of a plot: svg element, background, title, subtitle';

-- Position of value on an axis from (low, high) to (from_px, to_px)
CREATE FUNCTION segment.plot_scale(value double precision, low double precision, high double precision,
		from_px double precision, to_px double precision)
	RETURNS double precision
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT round((from_px + (to_px - from_px) * CASE WHEN high > low THEN (value - low) / (high - low) ELSE 0.5 END)::numeric, 1)::double precision
	$$;
COMMENT ON FUNCTION segment.plot_scale(double precision, double precision, double precision, double precision, double precision) IS
	'pixel position of a value on a linear axis';

-- A vertical axis: grid lines, tick labels and a rotated title
CREATE FUNCTION segment.svg_y_axis(ticks double precision[], low double precision, high double precision,
		x double precision, top double precision, bottom double precision, grid_to double precision,
		title text, right_side boolean DEFAULT false)
	RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT format('<g class="axis y-axis"><line x1="%1$s" y1="%2$s" x2="%1$s" y2="%3$s" stroke="#444444"/>', x, top, bottom)
		|| coalesce(string_agg(format(
			'<line x1="%1$s" y1="%2$s" x2="%3$s" y2="%2$s" stroke="#e3e3e3"/>'
			'<text class="tick" x="%4$s" y="%5$s" text-anchor="%6$s">%7$s</text>',
			x, segment.plot_scale(t, low, high, bottom, top), grid_to,
			CASE WHEN right_side THEN x + 6 ELSE x - 6 END, segment.plot_scale(t, low, high, bottom, top) + 4,
			CASE WHEN right_side THEN 'start' ELSE 'end' END, segment.plot_number(t)), ''), '')
		|| format('<text class="axis-title" transform="translate(%1$s,%2$s) rotate(-90)" text-anchor="middle" font-size="13">%3$s</text></g>',
			CASE WHEN right_side THEN x + 58 ELSE x - 58 END, (top + bottom) / 2, segment.xml_text(title))
	FROM unnest(ticks) AS t
	$$;
COMMENT ON FUNCTION segment.svg_y_axis(double precision[], double precision, double precision, double precision,
	double precision, double precision, double precision, text, boolean) IS 'a vertical plot axis with grid lines';

-- A horizontal axis: tick marks, labels and a title
CREATE FUNCTION segment.svg_x_axis(ticks double precision[], low double precision, high double precision,
		y double precision, left_px double precision, right_px double precision, title text)
	RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT format('<g class="axis x-axis"><line x1="%1$s" y1="%2$s" x2="%3$s" y2="%2$s" stroke="#444444"/>', left_px, y, right_px)
		|| coalesce(string_agg(format(
			'<line x1="%1$s" y1="%2$s" x2="%1$s" y2="%3$s" stroke="#444444"/>'
			'<text class="tick" x="%1$s" y="%4$s" text-anchor="middle">%5$s</text>',
			segment.plot_scale(t, low, high, left_px, right_px), y, y + 5, y + 19, segment.plot_number(t)), ''), '')
		|| format('<text class="axis-title" x="%1$s" y="%2$s" text-anchor="middle" font-size="13">%3$s</text></g>',
			(left_px + right_px) / 2, y + 40, segment.xml_text(title))
	FROM unnest(ticks) AS t
	$$;
COMMENT ON FUNCTION segment.svg_x_axis(double precision[], double precision, double precision, double precision,
	double precision, double precision, text) IS 'a horizontal plot axis';

-- The elbow plot: inertia and silhouette against k, the elbow and the chosen k marked
CREATE FUNCTION segment.plot_elbow(r segment.segmentations)
	RETURNS text
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	ks integer[];
	inertias double precision[];
	silhouettes double precision[];
	chosen integer;
	elbow integer;
	inertia_ticks double precision[];
	silhouette_ticks double precision[];
	i_low double precision; i_high double precision;
	s_low double precision; s_high double precision;
	k_low double precision; k_high double precision;
	x0 constant double precision := 100; x1 constant double precision := 600;
	y0 constant double precision := 90; y1 constant double precision := 350;
	svg text;
	x double precision;
BEGIN
	EXECUTE format('SELECT array_agg(k ORDER BY k), array_agg(inertia ORDER BY k), array_agg(coalesce(silhouette, 0) ORDER BY k),
					min(k) FILTER (WHERE is_chosen), min(k) FILTER (WHERE is_elbow) FROM %I.elbow', r.name)
		INTO ks, inertias, silhouettes, chosen, elbow;
	inertia_ticks := segment.plot_ticks((SELECT min(v) FROM unnest(inertias) v), (SELECT max(v) FROM unnest(inertias) v));
	silhouette_ticks := segment.plot_ticks((SELECT min(v) FROM unnest(silhouettes) v), (SELECT max(v) FROM unnest(silhouettes) v));
	i_low := least(inertia_ticks[1], (SELECT min(v) FROM unnest(inertias) v));
	i_high := greatest(inertia_ticks[array_length(inertia_ticks, 1)], (SELECT max(v) FROM unnest(inertias) v));
	s_low := least(silhouette_ticks[1], (SELECT min(v) FROM unnest(silhouettes) v));
	s_high := greatest(silhouette_ticks[array_length(silhouette_ticks, 1)], (SELECT max(v) FROM unnest(silhouettes) v));
	k_low := ks[1] - 0.5;
	k_high := ks[array_length(ks, 1)] + 0.5;

	svg := segment.svg_open(720, 430, 'Choosing the number of segments',
		format('segmentation %s: elbow at k = %s, k = %s chosen', r.name, elbow, chosen))
		|| segment.svg_y_axis(inertia_ticks, i_low, i_high, x0, y0, y1, x1, 'inertia')
		|| segment.svg_y_axis(silhouette_ticks, s_low, s_high, x1, y0, y1, x1, 'mean silhouette', true)
		|| segment.svg_x_axis(ks::double precision[], k_low, k_high, y1, x0, x1, 'number of segments k');
	-- the chosen k
	x := segment.plot_scale(chosen, k_low, k_high, x0, x1);
	svg := svg || format('<line class="chosen" x1="%1$s" y1="%2$s" x2="%1$s" y2="%3$s" stroke="#333333" stroke-dasharray="5,4"/>'
		'<text class="chosen-label" x="%1$s" y="%4$s" text-anchor="middle" font-weight="bold">chosen k = %5$s</text>',
		x, y0, y1, y0 - 6, chosen);
	-- the curves and one mark per k
	svg := svg || format('<polyline class="inertia-line" fill="none" stroke="#0072B2" stroke-width="2" points="%s"/>',
		(SELECT string_agg(segment.plot_scale(ks[i], k_low, k_high, x0, x1) || ',' ||
						   segment.plot_scale(inertias[i], i_low, i_high, y1, y0), ' ' ORDER BY i)
		 FROM generate_subscripts(ks, 1) AS i));
	svg := svg || format('<polyline class="silhouette-line" fill="none" stroke="#D55E00" stroke-width="2" stroke-dasharray="6,4" points="%s"/>',
		(SELECT string_agg(segment.plot_scale(ks[i], k_low, k_high, x0, x1) || ',' ||
						   segment.plot_scale(silhouettes[i], s_low, s_high, y1, y0), ' ' ORDER BY i)
		 FROM generate_subscripts(ks, 1) AS i));
	svg := svg || (SELECT string_agg(format(
		'<circle class="k-mark" cx="%1$s" cy="%2$s" r="4.5" fill="#0072B2"><title>k = %3$s: inertia %4$s</title></circle>'
		'<rect class="silhouette-mark" x="%5$s" y="%6$s" width="8" height="8" fill="#D55E00"><title>k = %3$s: silhouette %7$s</title></rect>',
		segment.plot_scale(ks[i], k_low, k_high, x0, x1), segment.plot_scale(inertias[i], i_low, i_high, y1, y0),
		ks[i], round(inertias[i]::numeric, 1),
		segment.plot_scale(ks[i], k_low, k_high, x0, x1) - 4, segment.plot_scale(silhouettes[i], s_low, s_high, y1, y0) - 4,
		round(silhouettes[i]::numeric, 3)), '' ORDER BY i)
		FROM generate_subscripts(ks, 1) AS i);
	-- the elbow
	svg := svg || (SELECT format(
		'<circle class="elbow-mark" cx="%1$s" cy="%2$s" r="10" fill="none" stroke="#009E73" stroke-width="2.5"/>'
		'<text class="elbow-label" x="%1$s" y="%3$s" text-anchor="middle" fill="#009E73" font-weight="bold">elbow</text>',
		segment.plot_scale(ks[i], k_low, k_high, x0, x1), segment.plot_scale(inertias[i], i_low, i_high, y1, y0),
		segment.plot_scale(inertias[i], i_low, i_high, y1, y0) + 26)
		FROM generate_subscripts(ks, 1) AS i WHERE ks[i] = elbow);
	-- the legend, under the title
	svg := svg || '<g class="legend">'
		|| '<g class="legend-entry" data-series="inertia"><line x1="230" y1="62" x2="260" y2="62" stroke="#0072B2" stroke-width="2"/><circle cx="245" cy="62" r="4.5" fill="#0072B2"/><text x="266" y="66">inertia (left axis)</text></g>'
		|| '<g class="legend-entry" data-series="silhouette"><line x1="400" y1="62" x2="430" y2="62" stroke="#D55E00" stroke-width="2" stroke-dasharray="6,4"/><rect x="411" y="58" width="8" height="8" fill="#D55E00"/><text x="436" y="66">silhouette (right axis)</text></g>'
		|| '</g></svg>';
	RETURN svg;
END
$function$;
COMMENT ON FUNCTION segment.plot_elbow(segment.segmentations) IS 'SVG of the elbow table';

-- Legend entries, one per segment: colour, number, label and size
CREATE FUNCTION segment.svg_cluster_legend(r segment.segmentations, x double precision, y double precision,
		columns integer, column_width double precision)
	RETURNS text
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	legend text := '<g class="legend">';
	p record;
	ex double precision;
	ey double precision;
BEGIN
	FOR p IN EXECUTE format('SELECT cluster, label, customers FROM %I.profiles ORDER BY cluster', r.name) LOOP
		ex := x + ((p.cluster - 1) % columns) * column_width;
		ey := y + ((p.cluster - 1) / columns) * 40;
		legend := legend || format('<g class="legend-entry" data-cluster="%10$s"><rect x="%1$s" y="%2$s" width="12" height="12" fill="%3$s"/>'
			'<text x="%4$s" y="%5$s" font-weight="bold">%6$s · %7$s customers</text>'
			'<text x="%4$s" y="%8$s" fill="#444444">%9$s</text></g>',
			ex, ey, segment.plot_colour(p.cluster), ex + 18, ey + 10, p.cluster,
			to_char(p.customers, 'FM999,999,999'), ey + 25, segment.xml_text(p.label), p.cluster);
	END LOOP;
	RETURN legend || '</g>';
END
$function$;
COMMENT ON FUNCTION segment.svg_cluster_legend(segment.segmentations, double precision, double precision, integer, double precision) IS
	'SVG legend entries of the segments';

-- The clusters plot: customers on the first two principal components
CREATE FUNCTION segment.plot_clusters(r segment.segmentations)
	RETURNS text
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	sample_size constant integer := 5000;
	total bigint;
	x_low double precision; x_high double precision; y_low double precision; y_high double precision;
	x_ticks double precision[]; y_ticks double precision[];
	ratios double precision[];
	x0 constant double precision := 80; x1 constant double precision := 600;
	y0 constant double precision := 70; y1 constant double precision := 470;
	points text;
	sample text;
	svg text;
BEGIN
	EXECUTE format('SELECT count(*) FROM %I.assignments WHERE cluster IS NOT NULL', r.name) INTO total;
	EXECUTE format('SELECT array_agg(explained_variance_ratio ORDER BY component) FROM (SELECT DISTINCT component, explained_variance_ratio FROM %I.pca) p', r.name)
		INTO ratios;
	-- a seeded sample beyond sample_size customers keeps the picture light
	sample := format('SELECT cluster, pc1, coalesce(pc2, 0) AS pc2 FROM %I.assignments WHERE cluster IS NOT NULL
					  ORDER BY md5(customer_id::text) LIMIT %s', r.name, sample_size);
	EXECUTE format('SELECT min(pc1), max(pc1), min(pc2), max(pc2) FROM (%s) AS p', sample)
		INTO x_low, x_high, y_low, y_high;
	x_ticks := segment.plot_ticks(x_low, x_high, 6);
	y_ticks := segment.plot_ticks(y_low, y_high, 6);
	x_low := least(x_low, x_ticks[1]); x_high := greatest(x_high, x_ticks[array_length(x_ticks, 1)]);
	y_low := least(y_low, y_ticks[1]); y_high := greatest(y_high, y_ticks[array_length(y_ticks, 1)]);
	EXECUTE format($sql$
		SELECT string_agg(format('<g class="cluster-points" data-cluster="%%s" fill="%%s" fill-opacity="0.55">%%s</g>',
							 c.cluster, segment.plot_colour(c.cluster), c.circles), '' ORDER BY c.cluster)
		FROM (SELECT p.cluster, string_agg(format('<circle cx="%%s" cy="%%s" r="2.3"/>',
				segment.plot_scale(p.pc1, $1, $2, $5, $6), segment.plot_scale(p.pc2, $3, $4, $7, $8)), '') AS circles
			  FROM (%s) AS p GROUP BY p.cluster) AS c $sql$, sample)
		INTO points USING x_low, x_high, y_low, y_high, x0, x1, y1, y0;

	svg := segment.svg_open(900, greatest(560, 80 + 40 * (r.model).k + 10), 'Segments on the first two principal components',
			CASE WHEN total > sample_size
				THEN format('segmentation %s: a seeded sample of %s of %s customers', r.name,
							to_char(sample_size, 'FM999,999,999'), to_char(total, 'FM999,999,999'))
				ELSE format('segmentation %s: all %s customers', r.name, to_char(total, 'FM999,999,999')) END)
		|| segment.svg_y_axis(y_ticks, y_low, y_high, x0, y0, y1, x1,
			format('PC2 (%s %% of the variance)', round(100 * coalesce(ratios[2], 0)::numeric, 1)))
		|| segment.svg_x_axis(x_ticks, x_low, x_high, y1, x0, x1,
			format('PC1 (%s %% of the variance)', round(100 * coalesce(ratios[1], 0)::numeric, 1)))
		|| points
		|| segment.svg_cluster_legend(r, 630, 80, 1, 0)
		|| '</svg>';
	RETURN svg;
END
$function$;
COMMENT ON FUNCTION segment.plot_clusters(segment.segmentations) IS 'SVG scatter of the customers on two principal components, by segment';

-- The profiles plot: box plots of each clustering feature by segment
CREATE FUNCTION segment.plot_profiles(r segment.segmentations)
	RETURNS text
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	columns constant integer := 5;
	panel_width constant double precision := 176;
	panel_height constant double precision := 190;
	k integer := (r.model).k;
	features integer := array_length(r.features, 1);
	rows integer := (features + columns - 1) / columns;
	height double precision := 80 + rows * (panel_height + 46) + ((k + 2) / 3) * 40 + 10;
	svg text;
	feature text;
	position integer;
	px double precision; py double precision;
	low double precision; high double precision;
	ticks double precision[];
	slot double precision;
	b record;
	cx double precision;
BEGIN
	svg := segment.svg_open(920, height::integer, 'The segments, feature by feature',
		format('segmentation %s: box plots in original units; whiskers at 1.5 IQR, outliers not drawn', r.name));
	FOR feature, position IN SELECT * FROM unnest(r.features) WITH ORDINALITY LOOP
		px := 20 + ((position - 1) % columns) * panel_width;
		py := 70 + ((position - 1) / columns) * (panel_height + 46);
		EXECUTE format('SELECT min(lower_whisker), max(upper_whisker) FROM %I.boxplots WHERE feature = $1', r.name)
			INTO low, high USING feature;
		ticks := segment.plot_ticks(low, high, 4);
		low := least(low, ticks[1]);
		high := greatest(high, ticks[array_length(ticks, 1)]);
		IF high <= low THEN
			high := low + 1;
		END IF;
		svg := svg || format('<g class="panel" data-feature="%1$s"><text class="panel-title" x="%2$s" y="%3$s" text-anchor="middle" font-weight="bold">%1$s</text>',
				segment.xml_text(feature), px + panel_width / 2, py + 14)
			|| format('<line x1="%1$s" y1="%2$s" x2="%1$s" y2="%3$s" stroke="#444444"/>', px + 52, py + 24, py + panel_height)
			|| (SELECT string_agg(format('<line x1="%1$s" y1="%2$s" x2="%3$s" y2="%2$s" stroke="#e3e3e3"/>'
										 '<text class="tick" x="%4$s" y="%5$s" text-anchor="end" font-size="11">%6$s</text>',
										 px + 52, segment.plot_scale(t, low, high, py + panel_height, py + 28), px + panel_width - 8,
										 px + 48, segment.plot_scale(t, low, high, py + panel_height, py + 28) + 4, segment.plot_number(t)), '')
				FROM unnest(ticks) AS t);
		slot := (panel_width - 66) / k;
		FOR b IN EXECUTE format('SELECT * FROM %I.boxplots WHERE feature = $1 ORDER BY cluster', r.name) USING feature LOOP
			cx := px + 58 + (b.cluster - 0.5) * slot;
			svg := svg || format(
				'<g class="box" data-cluster="%1$s">'
				'<line class="whisker" x1="%2$s" y1="%3$s" x2="%2$s" y2="%4$s" stroke="%5$s" stroke-width="1.5"/>'
				'<rect x="%6$s" y="%7$s" width="%8$s" height="%9$s" fill="%5$s" fill-opacity="0.35" stroke="%5$s" stroke-width="1.5"/>'
				'<line class="median" x1="%6$s" y1="%10$s" x2="%11$s" y2="%10$s" stroke="%5$s" stroke-width="2.5"/>'
				'<title>segment %1$s: median %12$s, quartiles %13$s to %14$s</title></g>',
				b.cluster, cx,
				segment.plot_scale(b.lower_whisker, low, high, py + panel_height, py + 28),
				segment.plot_scale(b.upper_whisker, low, high, py + panel_height, py + 28),
				segment.plot_colour(b.cluster), cx - slot * 0.32,
				segment.plot_scale(b.q3, low, high, py + panel_height, py + 28), round((slot * 0.64)::numeric, 1),
				greatest(segment.plot_scale(b.q1, low, high, py + panel_height, py + 28)
						 - segment.plot_scale(b.q3, low, high, py + panel_height, py + 28), 1),
				segment.plot_scale(b.median, low, high, py + panel_height, py + 28), cx + slot * 0.32,
				segment.plot_number(b.median), segment.plot_number(b.q1), segment.plot_number(b.q3));
		END LOOP;
		svg := svg || '</g>';
	END LOOP;
	RETURN svg || segment.svg_cluster_legend(r, 40, 80 + rows * (panel_height + 46), 3, 290) || '</svg>';
END
$function$;
COMMENT ON FUNCTION segment.plot_profiles(segment.segmentations) IS 'SVG box plots of the clustering features by segment';

-- The silhouette plot: each segment's silhouettes, sorted, as a band
CREATE FUNCTION segment.plot_silhouette(r segment.segmentations)
	RETURNS text
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	most_rows constant integer := 2000;
	total bigint;
	clustered bigint;
	step integer;
	mean double precision;
	x_low double precision;
	x0 constant double precision := 150; x1 constant double precision := 690;
	y0 constant double precision := 80; y1 constant double precision := 470;
	bands text := '';
	labels text := '<g class="legend">';
	rows_drawn integer;
	drawn_rows text;
	gap integer;
	row_height double precision;
	c record;
	ticks double precision[];
	zero double precision;
BEGIN
	-- beyond segment.silhouette_limit() customers only a seeded sample has a
	-- silhouette: the plot draws those
	EXECUTE format('SELECT count(silhouette), count(*), avg(silhouette), least(-0.1, floor(10 * min(silhouette)) / 10)
					FROM %I.assignments WHERE cluster IS NOT NULL', r.name) INTO total, clustered, mean, x_low;
	step := greatest(1, ceil(total::double precision / most_rows)::integer);
	-- every step-th customer of each segment, in silhouette order
	drawn_rows := format('SELECT cluster, silhouette, (n - 1) / %2$s AS position FROM (
							SELECT cluster, silhouette, row_number() OVER (PARTITION BY cluster ORDER BY silhouette DESC, customer_id) AS n
							FROM %1$I.assignments WHERE cluster IS NOT NULL AND silhouette IS NOT NULL) AS s
						  WHERE (n - 1) %% %2$s = 0', r.name, step);
	EXECUTE format('SELECT count(*) FROM (%s) AS d', drawn_rows) INTO rows_drawn;
	gap := greatest(2, rows_drawn / 40);
	row_height := (y1 - y0) / (rows_drawn + gap * ((r.model).k - 1));
	zero := segment.plot_scale(0, x_low, 1, x0, x1);
	FOR c IN EXECUTE format($sql$
		WITH d AS (%s),
		sizes AS (SELECT cluster, count(*) AS drawn FROM d GROUP BY cluster),
		starts AS (SELECT cluster, drawn, coalesce(sum(drawn + $1) OVER (ORDER BY cluster ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS start
				   FROM sizes)
		SELECT s.cluster, s.drawn, s.start,
			string_agg('L ' || segment.plot_scale(d.silhouette, $2, 1, $3, $4) || ',' ||
					   round(($5 + (s.start + d.position + 0.5) * $6)::numeric, 1), ' ' ORDER BY d.position) AS path
		FROM starts s JOIN d USING (cluster)
		GROUP BY s.cluster, s.drawn, s.start ORDER BY s.cluster $sql$, drawn_rows)
		USING gap, x_low, x0, x1, y0, row_height
	LOOP
		bands := bands || format('<path class="silhouette-band" data-cluster="%6$s" fill="%1$s" fill-opacity="0.75" d="M %2$s,%3$s %4$s L %2$s,%5$s Z"/>',
			segment.plot_colour(c.cluster), zero, round((y0 + c.start * row_height)::numeric, 1), c.path,
			round((y0 + (c.start + c.drawn) * row_height)::numeric, 1), c.cluster);
		labels := labels || format('<g class="legend-entry" data-cluster="%4$s"><rect x="12" y="%1$s" width="12" height="12" fill="%2$s"/>'
			'<text x="30" y="%3$s" font-weight="bold">segment %4$s</text></g>',
			round((y0 + (c.start + c.drawn / 2.0) * row_height - 6)::numeric, 1), segment.plot_colour(c.cluster),
			round((y0 + (c.start + c.drawn / 2.0) * row_height + 5)::numeric, 1), c.cluster);
	END LOOP;
	ticks := segment.plot_ticks(x_low, 1, 6);
	RETURN segment.svg_open(720, 540, 'Silhouette of every customer, by segment',
			format('segmentation %s: %s%s, sorted within each segment', r.name,
				CASE WHEN step > 1 THEN format('1 in %s of ', step) ELSE '' END,
				CASE WHEN total < clustered
					THEN format('a seeded sample of %s of the %s customers', to_char(total, 'FM999,999,999'), to_char(clustered, 'FM999,999,999'))
					ELSE format('%s%s customers', CASE WHEN step > 1 THEN 'the ' ELSE 'all ' END, to_char(total, 'FM999,999,999')) END))
		|| bands || labels || '</g>'
		|| segment.svg_x_axis(ticks, x_low, 1, y1 + 6, x0, x1, 'silhouette (-1 to 1; higher fits the segment better)')
		|| format('<line x1="%1$s" y1="%2$s" x2="%1$s" y2="%3$s" stroke="#444444"/>', zero, y0, y1)
		|| format('<line class="mean-line" x1="%1$s" y1="%2$s" x2="%1$s" y2="%3$s" stroke="#D55E00" stroke-width="2" stroke-dasharray="6,4"/>'
				  '<text class="mean-label" x="%1$s" y="%4$s" text-anchor="middle" fill="#D55E00" font-weight="bold">mean %5$s</text>',
				  segment.plot_scale(mean, x_low, 1, x0, x1), y0 - 4, y1, y0 - 9, round(mean::numeric, 3))
		|| '</svg>';
END
$function$;
COMMENT ON FUNCTION segment.plot_silhouette(segment.segmentations) IS 'SVG of the silhouettes of the customers, sorted within each segment';

-- The transitions plot: a from × to matrix of the last refresh, one cell per
-- pair of segments with its number of customers, shaded by its share of the
-- row; "new" is the row of customers not clustered before, "gone" the column
-- of customers no longer clustered
CREATE FUNCTION segment.plot_transitions(r segment.segmentations)
	RETURNS text
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	cell_width constant integer := 96;
	cell_height constant integer := 40;
	left_px constant integer := 310;
	top_px constant integer := 120;
	froms integer[];
	tos integer[];
	labels text[];
	from_labels text[];
	width integer;
	height integer;
	svg text;
	pair record;
	i integer;
	moved bigint;
	total bigint;
	assigned timestamptz;
BEGIN
	-- a segment stayed when its previous number maps to the new one (a
	-- refit that lowers k renumbers)
	EXECUTE format('SELECT array_agg(DISTINCT coalesce(from_cluster, 0)), array_agg(DISTINCT coalesce(to_cluster, 2147483647)),
						   sum(customers) FILTER (WHERE from_cluster IS NOT NULL AND to_cluster IS NOT NULL
							   AND coalesce($1[from_cluster], CASE WHEN $1 IS NULL THEN from_cluster END) IS DISTINCT FROM to_cluster),
						   sum(customers)
					FROM %I.transitions', r.name) INTO froms, tos, moved, total USING r.renumbering;
	labels := r.labels;
	-- the rows are the segments before: named as they were then
	FOR pair IN EXECUTE format('SELECT DISTINCT from_cluster, from_label FROM %I.transitions WHERE from_cluster IS NOT NULL', r.name) LOOP
		from_labels[pair.from_cluster] := pair.from_label;
	END LOOP;
	EXECUTE format('SELECT assigned_at FROM %I.model', r.name) INTO assigned;
	froms := ARRAY(SELECT f FROM unnest(coalesce(froms, '{}')) AS f ORDER BY f);
	tos := ARRAY(SELECT c FROM unnest(coalesce(tos, '{}')) AS c ORDER BY c);
	width := left_px + greatest(cardinality(tos), 1) * cell_width + 30;
	height := top_px + greatest(cardinality(froms), 1) * cell_height + 60;
	svg := segment.svg_open(greatest(width, 520), height, 'Where the customers went at the last refresh',
		format('segmentation %s, %s: %s of %s customers changed segment; rows before, columns after',
			r.name, to_char(assigned, 'YYYY-MM-DD HH24:MI'), to_char(coalesce(moved, 0), 'FM999,999,999'),
			to_char(coalesce(total, 0), 'FM999,999,999')));
	-- the headers: a swatch of the segment's colour and its number or name
	FOR i IN 1 .. cardinality(tos) LOOP
		svg := svg || format('<g class="column-header" data-cluster="%s">%s<text x="%s" y="%s" text-anchor="middle" font-weight="bold">%s</text></g>',
			tos[i], CASE WHEN tos[i] <= cardinality(labels) THEN format('<rect x="%s" y="%s" width="12" height="12" fill="%s"/>',
				left_px + (i - 1) * cell_width + cell_width / 2 - 6, top_px - 40, segment.plot_colour(tos[i])) ELSE '' END,
			left_px + (i - 1) * cell_width + cell_width / 2, top_px - 10,
			CASE WHEN tos[i] = 2147483647 THEN 'gone' ELSE 'to ' || tos[i] END);
	END LOOP;
	FOR i IN 1 .. cardinality(froms) LOOP
		svg := svg || format('<g class="row-header" data-cluster="%s">%s<text x="%s" y="%s" font-weight="bold">%s</text></g>',
			froms[i], CASE WHEN froms[i] BETWEEN 1 AND cardinality(labels) THEN format('<rect x="12" y="%s" width="12" height="12" fill="%s"/>',
				top_px + (i - 1) * cell_height + cell_height / 2 - 6, segment.plot_colour(froms[i])) ELSE '' END,
			30, top_px + (i - 1) * cell_height + cell_height / 2 + 4,
			segment.xml_text(CASE WHEN froms[i] = 0 THEN 'new (not clustered before)'
				ELSE froms[i] || ' · ' || CASE WHEN length(coalesce(from_labels[froms[i]], '')) > 36
					THEN left(from_labels[froms[i]], 35) || '…' ELSE coalesce(from_labels[froms[i]], '') END END));
	END LOOP;
	FOR pair IN EXECUTE format('SELECT * FROM %I.transitions', r.name) LOOP
		svg := svg || format('<g class="transition" data-from="%1$s" data-to="%2$s"><rect x="%3$s" y="%4$s" width="%5$s" height="%6$s" '
				'fill="%7$s" fill-opacity="%8$s" stroke="#ffffff"/><text x="%9$s" y="%10$s" text-anchor="middle" fill="%11$s">%12$s</text>'
				'<title>%13$s to %14$s: %12$s customers (%15$s %% of the row)</title></g>',
			coalesce(pair.from_cluster::text, 'new'), coalesce(pair.to_cluster::text, 'gone'),
			left_px + (array_position(tos, coalesce(pair.to_cluster, 2147483647)) - 1) * cell_width,
			top_px + (array_position(froms, coalesce(pair.from_cluster, 0)) - 1) * cell_height, cell_width, cell_height,
			CASE WHEN pair.from_cluster IS NOT NULL AND coalesce(r.renumbering[pair.from_cluster],
					CASE WHEN r.renumbering IS NULL THEN pair.from_cluster END) = pair.to_cluster THEN '#0072B2' ELSE '#D55E00' END,
			round((0.12 + 0.88 * pair.share_of_from)::numeric, 3),
			left_px + (array_position(tos, coalesce(pair.to_cluster, 2147483647)) - 1) * cell_width + cell_width / 2,
			top_px + (array_position(froms, coalesce(pair.from_cluster, 0)) - 1) * cell_height + cell_height / 2 + 4,
			CASE WHEN pair.share_of_from > 0.55 THEN '#ffffff' ELSE '#222222' END,
			to_char(pair.customers, 'FM999,999,999'),
			segment.xml_text(coalesce(pair.from_label, 'new')), segment.xml_text(coalesce(pair.to_label, 'gone')),
			round((100 * pair.share_of_from)::numeric, 1));
	END LOOP;
	RETURN svg || format('<text class="note" x="%s" y="%s" fill="#555555">blue: stayed in the segment; orange: moved; the darker, the larger its share of the row</text>',
		12, height - 16) || '</svg>';
END
$function$;
COMMENT ON FUNCTION segment.plot_transitions(segment.segmentations) IS 'SVG matrix of the customers who moved between segments at the last refresh';

-- plot(name, kind): a standalone SVG document of a segmentation
CREATE FUNCTION segment.plot(name text, kind text)
	RETURNS text
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	r segment.segmentations := segment.check_segmentation(name);
BEGIN
	IF kind IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'kind must not be NULL',
			HINT = 'The kinds are elbow, clusters, profiles, silhouette and transitions.';
	END IF;
	CASE kind
		WHEN 'elbow' THEN RETURN segment.plot_elbow(r);
		WHEN 'clusters' THEN RETURN segment.plot_clusters(r);
		WHEN 'profiles' THEN RETURN segment.plot_profiles(r);
		WHEN 'silhouette' THEN RETURN segment.plot_silhouette(r);
		WHEN 'transitions' THEN RETURN segment.plot_transitions(r);
		ELSE
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = format('unknown plot kind %s', quote_literal(kind)),
				HINT = 'The kinds are elbow, clusters, profiles, silhouette and transitions.';
	END CASE;
END
$function$;
COMMENT ON FUNCTION segment.plot(text, text) IS 'a standalone SVG plot of a segmentation: elbow, clusters, profiles, silhouette or transitions';
/* src/sql/report.sql */

-- The HTML report of a segmentation (README: "Pictures")

-- report(name): one self-contained HTML page (also well-formed XML) with the
-- five plots and the profile, elbow and silhouette tables
CREATE FUNCTION segment.report(name text)
	RETURNS text
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	r segment.segmentations := segment.check_segmentation(name);
	html text;
	profile_rows text;
	elbow_rows text;
	silhouette_rows text;
	action_rows text;
	header text;
	means text;
	m record;
BEGIN
	-- the key features in the table (all of them are in the profiles table)
	header := (SELECT string_agg(format('<th>%s</th>', segment.xml_text(replace(f, '_', ' '))), '' ORDER BY i)
			   FROM unnest(r.features) WITH ORDINALITY AS u (f, i)
			   WHERE f IN ('recency_days', 'invoices', 'invoices_per_month', 'total_amount', 'avg_invoice_amount',
						   'mean_days_between', 'domestic'));
	means := (SELECT string_agg(CASE WHEN f = 'domestic'
					THEN '''<td>'' || to_char(100 * domestic_mean, ''FM990'') || '' %</td>'''
					ELSE format('''<td>'' || segment.table_number(%I) || ''</td>''', f || '_mean') END,
					' || ' ORDER BY i)
			  FROM unnest(r.features) WITH ORDINALITY AS u (f, i)
			  WHERE f IN ('recency_days', 'invoices', 'invoices_per_month', 'total_amount', 'avg_invoice_amount',
						  'mean_days_between', 'domestic'));
	EXECUTE format($sql$
		SELECT string_agg('<tr><td><span class="swatch" style="background:' || segment.plot_colour(cluster) || '"></span>'
			|| cluster || '</td><td class="label">' || segment.xml_text(label) || '</td><td>'
			|| to_char(customers, 'FM999,999,999') || '</td><td>' || to_char(100 * share, 'FM990.0') || ' %%</td>'
			|| %s || '</tr>', '' ORDER BY cluster) FROM %I.profiles $sql$, means, r.name)
		INTO profile_rows;
	EXECUTE format($sql$
		SELECT string_agg(format('<tr%%s><td>%%s</td><td>%%s</td><td>%%s</td><td>%%s</td><td>%%s</td><td>%%s</td></tr>',
			CASE WHEN is_chosen THEN ' class="chosen"' ELSE '' END, k, segment.table_number(inertia),
			to_char(silhouette, 'FM0.000'), segment.table_number(davies_bouldin, 3), segment.table_number(calinski_harabasz),
			concat_ws(', ', CASE WHEN is_elbow THEN 'elbow' END, CASE WHEN is_chosen THEN 'chosen' END)), '' ORDER BY k)
		FROM %I.elbow $sql$, r.name)
		INTO elbow_rows;
	EXECUTE format($sql$
		SELECT string_agg(format('<tr><td>%%s</td><td>%%s</td><td>%%s</td><td>%%s</td><td>%%s</td></tr>',
			coalesce(cluster::text, 'all'), to_char(customers, 'FM999,999,999'), to_char(mean_silhouette, 'FM0.000'),
			to_char(min_silhouette, 'FM0.000'), to_char(max_silhouette, 'FM0.000')), '' ORDER BY cluster NULLS LAST)
		FROM %I.silhouette $sql$, r.name)
		INTO silhouette_rows;
	-- what to do: each segment's revenue, RFM group and suggested action
	EXECUTE format($sql$
		SELECT string_agg('<tr><td><span class="swatch" style="background:' || segment.plot_colour(cluster) || '"></span>'
			|| cluster || '</td><td class="label">' || segment.xml_text(label) || '</td><td>'
			|| to_char(customers, 'FM999,999,999') || '</td><td>' || segment.table_number(revenue) || '</td><td>'
			|| coalesce(to_char(100 * revenue_share, 'FM990.0') || ' %%', '') || '</td><td class="label">'
			|| segment.xml_text(coalesce(rfm_segment, '')) || '</td><td class="label action">'
			|| segment.xml_text(coalesce(action, '')) || '</td></tr>', '' ORDER BY revenue DESC, cluster)
		FROM %I.profiles $sql$, r.name)
		INTO action_rows;
	EXECUTE format('SELECT * FROM %I.model', r.name) INTO m;

	html := '<!DOCTYPE html>' || E'\n'
		|| '<html xmlns="http://www.w3.org/1999/xhtml" lang="en"><head><meta charset="utf-8"/>'
		|| format('<title>Segmentation %s</title>', segment.xml_text(r.name))
		|| '<style>body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;color:#222;max-width:960px;margin:2em auto;padding:0 1em;line-height:1.4}'
		|| 'h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}'
		|| 'table{border-collapse:collapse;margin:1em 0;font-size:.85em}th,td{padding:4px 9px;border-bottom:1px solid #e2e2e2;text-align:right}'
		|| 'th{background:#f4f4f4}td.label,th.label{text-align:left}td{white-space:nowrap}td.action{white-space:normal;min-width:18em}tr.chosen{font-weight:bold;background:#fff7e0}'
		|| 'div.wide{overflow-x:auto}'
		|| '.swatch{display:inline-block;width:10px;height:10px;margin-right:6px}figure{margin:1.5em 0}svg{max-width:100%;height:auto}'
		|| 'p.note{color:#555;font-size:.9em}</style></head><body>'
		|| format('<h1>Segmentation %s</h1>', segment.xml_text(r.name))
		|| format('<p>%s segments of %s customers of <code>%s</code>, recency as of %s; fitted %s (seed %s).</p>',
			m.k, to_char(m.customers_clustered, 'FM999,999,999'), segment.xml_text(r.source_name),
			segment.xml_text(m.as_of::text), segment.xml_text(to_char(m.fitted_at, 'YYYY-MM-DD HH24:MI TZ')), m.seed)
		|| '<h2>What to do</h2><p class="note">Segments by revenue (net of returns); the RFM group of each segment''s mean '
		|| 'recency and frequency scores, and the action suggested for it.</p>'
		|| '<div class="wide"><table><thead><tr><th class="label">segment</th><th class="label">label</th><th>customers</th>'
		|| '<th>revenue</th><th>revenue share</th><th class="label">RFM group</th><th class="label">what to do</th></tr></thead><tbody>'
		|| coalesce(action_rows, '') || '</tbody></table></div>'
		|| '<h2>Segments</h2><p class="note">Means in original units.</p>'
		|| '<div class="wide"><table><thead><tr><th class="label">segment</th><th class="label">label</th><th>customers</th><th>share</th>'
		|| header || '</tr></thead><tbody>' || profile_rows || '</tbody></table></div>'
		|| '<figure>' || segment.plot_clusters(r) || '</figure>'
		|| '<figure>' || segment.plot_profiles(r) || '</figure>'
		|| '<h2>What changed at the last refresh</h2>'
		|| format('<p>Assigned %s.</p>', segment.xml_text(to_char(m.assigned_at, 'YYYY-MM-DD HH24:MI TZ')))
		|| '<figure>' || segment.plot_transitions(r) || '</figure>'
		|| '<h2>Choosing the number of segments</h2>'
		|| '<table><thead><tr><th>k</th><th>inertia</th><th>silhouette</th><th>Davies–Bouldin</th><th>Calinski–Harabasz</th><th class="label"></th></tr></thead><tbody>'
		|| elbow_rows || '</tbody></table>'
		|| '<figure>' || segment.plot_elbow(r) || '</figure>'
		|| '<h2>Silhouette</h2>'
		|| '<table><thead><tr><th>segment</th><th>customers</th><th>mean</th><th>min</th><th>max</th></tr></thead><tbody>'
		|| silhouette_rows || '</tbody></table>'
		|| '<figure>' || segment.plot_silhouette(r) || '</figure>'
		|| '<p class="note">Made by the segment extension from the tables of schema '
		|| segment.xml_text(r.name) || '.</p></body></html>';
	RETURN html;
END
$function$;
COMMENT ON FUNCTION segment.report(text) IS 'one self-contained HTML page of a segmentation: plots, profiles, elbow and silhouette';
/* src/sql/update--0.2--0.3.finish.sql */

-- The end of the update from 0.2, after the files of the pipeline layer:
-- each segmentation gets the tables and columns that 0.3 adds (transitions,
-- history, profiles.label_source, model.assigned_at, the RFM scores of
-- features, the revenue and actions of profiles), as its own objects,
-- with the privileges its profiles table has; its history starts now
DO $finish$
DECLARE
	segmentation record;
	created regclass;
BEGIN
	FOR segmentation IN
		SELECT s.name, n.nspowner::regrole AS owner, (SELECT c.oid FROM pg_catalog.pg_class c
			WHERE c.relnamespace = n.oid AND c.relname = 'profiles' AND c.relkind = 'r') AS profiles
		FROM segment.segmentations s JOIN pg_catalog.pg_namespace n ON n.oid = s.schema AND n.nspname = s.name
		ORDER BY s.name
	LOOP
		CONTINUE WHEN segmentation.profiles IS NULL;
		FOR created IN SELECT * FROM segment.complete_segmentation_tables(segmentation.name) LOOP
			-- made by this script, the table would belong to the extension
			EXECUTE pg_catalog.format('ALTER EXTENSION segment DROP TABLE %s', created);
			-- (complete_segmentation_tables gave it the privileges of profiles)
			EXECUTE pg_catalog.format('ALTER TABLE %s OWNER TO %s', created, segmentation.owner);
		END LOOP;
		EXECUTE pg_catalog.format('UPDATE %I.profiles SET label_source = ''automatic'' WHERE label_source IS NULL', segmentation.name);
		EXECUTE pg_catalog.format('UPDATE %I.model m SET assigned_at = m.fitted_at WHERE assigned_at IS NULL', segmentation.name);
		EXECUTE pg_catalog.format('UPDATE %I.elbow e SET smallest_share = s.smallest_share FROM segment.segmentation_scores s
			WHERE s.name = %L AND s.k = e.k', segmentation.name, segmentation.name);
		-- the RFM scores of the customers as they are, and the profiles'
		-- revenue, scores and actions from them
		EXECUTE pg_catalog.format('UPDATE %1$I.features f SET r_score = s.r_score, f_score = s.f_score, m_score = s.m_score,
				rfm_score = s.rfm_score, rfm_segment = s.rfm_segment
			FROM (%2$s) AS s WHERE s.customer_id = f.customer_id', segmentation.name,
			segment.rfm_scores_sql(pg_catalog.format('SELECT customer_id, recency_days, invoices, total_amount FROM %I.features',
				segmentation.name)));
		EXECUTE pg_catalog.format('UPDATE %1$I.profiles p SET revenue = s.revenue, revenue_share = s.revenue_share,
				r_score_mean = s.r_score_mean, f_score_mean = s.f_score_mean, m_score_mean = s.m_score_mean,
				rfm_segment = s.rfm_segment, action = s.action
			FROM (%2$s) AS s WHERE s.cluster = p.cluster', segmentation.name,
			segment.segmentation_query(segmentation.name, 'profiles'));
		PERFORM segment.record_history(segmentation.name, pg_catalog.now());
	END LOOP;
END
$finish$;
