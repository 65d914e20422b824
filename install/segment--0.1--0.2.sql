/* install/segment--0.1--0.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION segment UPDATE TO '0.2'" to load this file. \quit

--
-- The segmentation pipeline (README: "Segmentation pipeline")
--

-- Stable cluster numbers across refreshes (Hungarian matching of centroids)
CREATE FUNCTION segment.match_clusters(previous double precision[], current double precision[])
	RETURNS integer[]
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.match_clusters(double precision[], double precision[]) IS
	'for each centroid of current, the cluster number that matches previous with the least total squared distance';

-- The Kneedle elbow of a convex decreasing curve: the index (1-based) of the elbow
CREATE FUNCTION segment.kneedle(x double precision[], y double precision[])
	RETURNS integer
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.kneedle(double precision[], double precision[]) IS
	'position (1-based) of the Kneedle elbow of a convex decreasing curve y over x, as segment.elbow marks it';

-- Exact silhouettes up to this many clustered customers (O(n^2)); a seeded sample beyond
CREATE FUNCTION segment.silhouette_limit()
	RETURNS integer
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS 'SELECT 20000';
COMMENT ON FUNCTION segment.silhouette_limit() IS
	'number of clustered customers up to which the pipeline computes exact silhouettes; beyond it, a seeded sample of that many';

-- The clustering features of a customer, transformed (see the README):
-- log1p of days and counts, signed log1p of amounts; one-off buyers'
-- time between purchases is the time since their only purchase.  A plain
-- SQL function the planner inlines, so it pins no search_path: every
-- function and operator in it is schema-qualified instead.
CREATE FUNCTION segment.rfm_vector(recency_days double precision, invoices integer,
		invoices_per_hour double precision, invoices_per_day double precision,
		invoices_per_month double precision, invoices_per_year double precision,
		total_amount double precision, avg_invoice_amount double precision,
		mean_days_between double precision)
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
		pg_catalog.sign(total_amount) OPERATOR(pg_catalog.*)
			pg_catalog.ln(1::double precision OPERATOR(pg_catalog.+) pg_catalog.abs(total_amount)),
		pg_catalog.sign(avg_invoice_amount) OPERATOR(pg_catalog.*)
			pg_catalog.ln(1::double precision OPERATOR(pg_catalog.+) pg_catalog.abs(avg_invoice_amount)),
		pg_catalog.ln(1::double precision OPERATOR(pg_catalog.+)
			GREATEST(COALESCE(mean_days_between, recency_days), 0::double precision))]
	$$;
COMMENT ON FUNCTION segment.rfm_vector(double precision, integer, double precision, double precision,
		double precision, double precision, double precision, double precision, double precision) IS
	'the transformed clustering features of a customer with purchases, before standardization';

-- The registry: one row per segmentation, with its arguments and the fitted
-- scaler, model and PCA.  Row-level security shows each role its own rows.
CREATE TABLE segment.segmentations (
	name text PRIMARY KEY,
	owner regrole NOT NULL DEFAULT current_user::regrole,
	source regclass NOT NULL,
	k integer,
	customer_column name NOT NULL,
	invoice_column name NOT NULL,
	time_column name NOT NULL,
	quantity_column name NOT NULL,
	price_column name NOT NULL,
	country_column name,
	as_of timestamp,
	seed bigint NOT NULL,
	time_zone text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	fitted_at timestamptz,
	used_as_of timestamp,
	domestic_country text,
	scaler segment.scaler,
	model_scaler segment.scaler,
	model segment.kmeans_model,
	pca segment.pca_model,
	labels text[],
	features text[],
	customers_clustered bigint,
	fitted_rows bigint
);
COMMENT ON TABLE segment.segmentations IS 'segmentations made by segment.create_segmentation: arguments and fitted models';
COMMENT ON COLUMN segment.segmentations.name IS 'name of the segmentation and of the schema holding its views';
COMMENT ON COLUMN segment.segmentations.owner IS 'role that created it; only its members see the row';
COMMENT ON COLUMN segment.segmentations.source IS 'table or view of invoice lines';
COMMENT ON COLUMN segment.segmentations.k IS 'number of segments asked for; NULL when chosen automatically';
COMMENT ON COLUMN segment.segmentations.customer_column IS 'column of the customer';
COMMENT ON COLUMN segment.segmentations.invoice_column IS 'column of the invoice number';
COMMENT ON COLUMN segment.segmentations.time_column IS 'column of the invoice time';
COMMENT ON COLUMN segment.segmentations.quantity_column IS 'column of the quantity';
COMMENT ON COLUMN segment.segmentations.price_column IS 'column of the unit price';
COMMENT ON COLUMN segment.segmentations.country_column IS 'column of the country; NULL leaves country out';
COMMENT ON COLUMN segment.segmentations.as_of IS 'reference time of recency; NULL for the latest invoice time in the source';
COMMENT ON COLUMN segment.segmentations.seed IS 'seed of k-means';
COMMENT ON COLUMN segment.segmentations.time_zone IS 'session time zone of the refreshes (calendar units of timestamptz sources)';
COMMENT ON COLUMN segment.segmentations.created_at IS 'when the segmentation was created';
COMMENT ON COLUMN segment.segmentations.fitted_at IS 'when the last refresh committed its fit';
COMMENT ON COLUMN segment.segmentations.used_as_of IS 'reference time used by the last refresh';
COMMENT ON COLUMN segment.segmentations.domestic_country IS 'the most common country of the customers, encoded against all others';
COMMENT ON COLUMN segment.segmentations.scaler IS 'standardization of the transformed features (for z-scores)';
COMMENT ON COLUMN segment.segmentations.model_scaler IS 'the scaler the model vectors are made with: the domestic flag is centred, not scaled';
COMMENT ON COLUMN segment.segmentations.model IS 'the k-means model';
COMMENT ON COLUMN segment.segmentations.pca IS 'principal components of the model vectors';
COMMENT ON COLUMN segment.segmentations.labels IS 'readable name of each segment, by cluster number';
COMMENT ON COLUMN segment.segmentations.features IS 'names of the clustering features, in vector order';
COMMENT ON COLUMN segment.segmentations.customers_clustered IS 'customers with a purchase, the rows clustered';
COMMENT ON COLUMN segment.segmentations.fitted_rows IS 'customers the model was fitted on: all of them, or a seeded sample when they do not fit maintenance_work_mem';
ALTER TABLE segment.segmentations ENABLE ROW LEVEL SECURITY;
CREATE POLICY segmentations_of_owner ON segment.segmentations
	USING (pg_catalog.pg_has_role(owner, 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role(owner, 'USAGE'));
GRANT SELECT, INSERT, UPDATE, DELETE ON segment.segmentations TO PUBLIC;

CREATE TABLE segment.segmentation_scores (
	name text NOT NULL REFERENCES segment.segmentations ON DELETE CASCADE ON UPDATE CASCADE,
	k integer NOT NULL,
	inertia double precision NOT NULL,
	silhouette double precision,
	davies_bouldin double precision,
	calinski_harabasz double precision,
	smallest_share double precision,
	is_elbow boolean NOT NULL,
	is_chosen boolean NOT NULL,
	PRIMARY KEY (name, k)
);
COMMENT ON TABLE segment.segmentation_scores IS 'the candidate k of each segmentation and their scores';
COMMENT ON COLUMN segment.segmentation_scores.name IS 'segmentation';
COMMENT ON COLUMN segment.segmentation_scores.k IS 'number of clusters';
COMMENT ON COLUMN segment.segmentation_scores.inertia IS 'k-means inertia';
COMMENT ON COLUMN segment.segmentation_scores.silhouette IS 'mean silhouette';
COMMENT ON COLUMN segment.segmentation_scores.davies_bouldin IS 'Davies-Bouldin index';
COMMENT ON COLUMN segment.segmentation_scores.calinski_harabasz IS 'Calinski-Harabasz index';
COMMENT ON COLUMN segment.segmentation_scores.smallest_share IS 'share of the customers in the smallest cluster';
COMMENT ON COLUMN segment.segmentation_scores.is_elbow IS 'the Kneedle elbow of the inertia curve';
COMMENT ON COLUMN segment.segmentation_scores.is_chosen IS 'the k of the model';
ALTER TABLE segment.segmentation_scores ENABLE ROW LEVEL SECURITY;
CREATE POLICY segmentation_scores_of_owner ON segment.segmentation_scores
	USING (EXISTS (SELECT FROM segment.segmentations s WHERE s.name = segmentation_scores.name))
	WITH CHECK (EXISTS (SELECT FROM segment.segmentations s WHERE s.name = segmentation_scores.name));
GRANT SELECT, INSERT, UPDATE, DELETE ON segment.segmentation_scores TO PUBLIC;

-- Raise the error for a name that cannot be a segmentation's schema
CREATE FUNCTION segment.check_segmentation_name(name text)
	RETURNS void
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
BEGIN
	IF name IS NULL OR name !~ '^[A-Za-z_][A-Za-z0-9_]*$' OR octet_length(name) > 63 THEN
		RAISE EXCEPTION USING ERRCODE = '42602',
			MESSAGE = format('invalid segmentation name %s', coalesce(quote_literal(name), 'NULL')),
			DETAIL = 'A segmentation name is also the name of its schema: a letter or underscore, then letters, digits or underscores, at most 63 bytes.';
	END IF;
	IF lower(name) IN ('segment', 'public', 'information_schema', 'cron') OR lower(name) LIKE 'pg\_%' THEN
		RAISE EXCEPTION USING ERRCODE = '42939',
			MESSAGE = format('segmentation name "%s" is reserved', name);
	END IF;
END
$function$;
COMMENT ON FUNCTION segment.check_segmentation_name(text) IS 'raises an error for a name that cannot be a segmentation';

-- Raise the error for a column mapping that names no column of the source
CREATE FUNCTION segment.check_source_column(relation regclass, argument text, column_name name)
	RETURNS void
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
BEGIN
	IF column_name IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = format('%s must not be NULL', argument);
	END IF;
	IF NOT EXISTS (SELECT FROM pg_attribute a
				   WHERE a.attrelid = relation AND a.attname = column_name AND a.attnum > 0 AND NOT a.attisdropped) THEN
		RAISE EXCEPTION USING ERRCODE = '42703',
			MESSAGE = format('column "%s" of relation %s does not exist', column_name, relation),
			HINT = format('Pass the name of the column to use as %s.', argument);
	END IF;
END
$function$;
COMMENT ON FUNCTION segment.check_source_column(regclass, text, name) IS 'raises an error when a column mapping names no column of the source';

-- The SQL of a customer's raw clustering vector, for features row f and registry row r
CREATE FUNCTION segment.segmentation_vector_sql(with_country boolean)
	RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT 'segment.rfm_vector(f.recency_days, f.invoices, f.invoices_per_hour, f.invoices_per_day, '
		|| 'f.invoices_per_month, f.invoices_per_year, f.total_amount, f.avg_invoice_amount, f.mean_days_between)'
		|| CASE WHEN with_country
			THEN ' || ARRAY[(f.country IS NOT DISTINCT FROM r.domestic_country)::integer::double precision]'
			ELSE '' END
	$$;
COMMENT ON FUNCTION segment.segmentation_vector_sql(boolean) IS 'SQL of the raw clustering vector of features row f under registry row r';

-- The SQL of a customer's clustering features in original units (the boxplots)
CREATE FUNCTION segment.segmentation_values_sql(with_country boolean)
	RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT 'ARRAY[f.recency_days, f.invoices, f.invoices_per_hour, f.invoices_per_day, f.invoices_per_month, '
		|| 'f.invoices_per_year, f.total_amount, f.avg_invoice_amount, coalesce(f.mean_days_between, f.recency_days)'
		|| CASE WHEN with_country THEN ', (f.country IS NOT DISTINCT FROM r.domestic_country)::integer' ELSE '' END
		|| ']::double precision[]'
	$$;
COMMENT ON FUNCTION segment.segmentation_values_sql(boolean) IS 'SQL of the clustering features in original units of features row f under registry row r';

-- Create the eight materialized views of a registered segmentation, empty
CREATE FUNCTION segment.create_segmentation_views(segmentation text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	r segment.segmentations;
	registry text := format('(SELECT * FROM segment.segmentations WHERE name = %L)', segmentation);
	vector text;
	vector_values text;
	country text;
	as_of text;
	silhouette_source text;
	feature text;
	position integer;
	profile_columns text := '';
BEGIN
	SELECT * INTO STRICT r FROM segment.segmentations s WHERE s.name = segmentation;
	vector := segment.segmentation_vector_sql(r.country_column IS NOT NULL);
	vector_values := segment.segmentation_values_sql(r.country_column IS NOT NULL);
	country := CASE WHEN r.country_column IS NULL THEN 'NULL::text'
		ELSE format('mode() WITHIN GROUP (ORDER BY %I)::text', r.country_column) END;
	as_of := CASE WHEN r.as_of IS NULL THEN format('(SELECT max(%I) FROM %s)::timestamp', r.time_column, r.source)
		ELSE format('%L::timestamp', r.as_of) END;

	EXECUTE format($sql$
		CREATE MATERIALIZED VIEW %1$I.features AS
		SELECT c.customer AS customer_id, c.country,
			extract(epoch FROM a.as_of - (c.f).last_purchase)::double precision / 86400 AS recency_days,
			(c.f).*
		FROM (SELECT %3$I AS customer, %7$s AS country, segment.customer_features(%4$I, %5$I, %6$I, %8$I) AS f
			  FROM %2$s WHERE %3$I IS NOT NULL GROUP BY %3$I) AS c,
			(SELECT %9$s AS as_of) AS a
		WITH NO DATA $sql$,
		segmentation, r.source, r.customer_column, r.invoice_column, r.time_column, r.quantity_column,
		country, r.price_column, as_of);
	EXECUTE format('CREATE UNIQUE INDEX ON %I.features (customer_id)', segmentation);

	-- per-customer silhouettes: exact up to segment.silhouette_limit() customers,
	-- beyond that (or beyond the rows the model was fitted on) for a seeded
	-- sample of that many (ids match the view's row_id)
	silhouette_source := format(
		'SELECT id, vec, segment.kmeans_assign(vec, model) FROM ('
		'SELECT row_number() OVER (ORDER BY f.customer_id) AS id, segment.scale(%2$s, r.model_scaler) AS vec, '
		'r.model, md5(f.customer_id::text) AS draw FROM %1$I.features f, %3$s r WHERE f.invoices > 0) AS c '
		'ORDER BY draw LIMIT least(segment.silhouette_limit(), '
		'(SELECT fitted_rows FROM segment.segmentations WHERE name = %4$L))', segmentation, vector, registry, segmentation);
	EXECUTE format($sql$
		CREATE MATERIALIZED VIEW %1$I.assignments AS
		WITH r AS MATERIALIZED %2$s,
		v AS (SELECT f.customer_id, row_number() OVER (ORDER BY f.customer_id) AS row_id,
				 segment.scale(%3$s, r.model_scaler) AS vec
			  FROM %1$I.features f, r WHERE f.invoices > 0),
		s AS (SELECT * FROM segment.silhouette_samples(%4$L))
		SELECT f.customer_id, segment.kmeans_assign(v.vec, r.model) AS cluster,
			segment.kmeans_distance(v.vec, r.model) AS distance, s.silhouette,
			(segment.pca_transform(v.vec, r.pca))[1] AS pc1,
			(segment.pca_transform(v.vec, r.pca))[2] AS pc2
		FROM %1$I.features f CROSS JOIN r LEFT JOIN v USING (customer_id) LEFT JOIN s ON s.id = v.row_id
		WITH NO DATA $sql$,
		segmentation, registry, vector, silhouette_source);
	EXECUTE format('CREATE UNIQUE INDEX ON %I.assignments (customer_id)', segmentation);

	FOR feature, position IN SELECT * FROM unnest(r.features) WITH ORDINALITY LOOP
		profile_columns := profile_columns || format(', avg(m.value[%2$s]) AS %1$I, avg(m.z[%2$s]) AS %3$I',
			feature || '_mean', position, feature || '_z');
	END LOOP;
	EXECUTE format($sql$
		CREATE MATERIALIZED VIEW %1$I.profiles AS
		WITH r AS MATERIALIZED %2$s,
		m AS (SELECT a.cluster, r.labels[a.cluster] AS label, %4$s AS value, segment.scale(%3$s, r.scaler) AS z
			  FROM %1$I.assignments a JOIN %1$I.features f USING (customer_id) CROSS JOIN r
			  WHERE a.cluster IS NOT NULL)
		SELECT m.cluster, min(m.label) AS label, count(*) AS customers,
			count(*)::double precision / sum(count(*)) OVER () AS share %5$s
		FROM m GROUP BY m.cluster
		WITH NO DATA $sql$,
		segmentation, registry, vector, vector_values, profile_columns);
	EXECUTE format('CREATE UNIQUE INDEX ON %I.profiles (cluster)', segmentation);

	EXECUTE format($sql$
		CREATE MATERIALIZED VIEW %1$I.elbow AS
		SELECT k, inertia, silhouette, davies_bouldin, calinski_harabasz, is_elbow, is_chosen
		FROM segment.segmentation_scores WHERE name = %2$L
		WITH NO DATA $sql$, segmentation, segmentation);
	EXECUTE format('CREATE UNIQUE INDEX ON %I.elbow (k)', segmentation);

	EXECUTE format($sql$
		CREATE MATERIALIZED VIEW %1$I.silhouette AS
		SELECT cluster, count(*) AS customers, avg(silhouette) AS mean_silhouette,
			min(silhouette) AS min_silhouette, max(silhouette) AS max_silhouette,
			count(silhouette) AS sample_size
		FROM %1$I.assignments WHERE cluster IS NOT NULL
		GROUP BY GROUPING SETS ((cluster), ())
		WITH NO DATA $sql$, segmentation);
	EXECUTE format('CREATE UNIQUE INDEX ON %I.silhouette (cluster)', segmentation);

	EXECUTE format($sql$
		CREATE MATERIALIZED VIEW %1$I.boxplots AS
		WITH r AS MATERIALIZED %2$s,
		v AS (SELECT a.cluster, u.feature, u.value
			  FROM %1$I.assignments a JOIN %1$I.features f USING (customer_id) CROSS JOIN r
			  CROSS JOIN LATERAL unnest(r.features, %3$s) AS u (feature, value)
			  WHERE a.cluster IS NOT NULL),
		q AS (SELECT cluster, feature, min(value) AS min,
				 percentile_cont(0.25) WITHIN GROUP (ORDER BY value) AS q1,
				 percentile_cont(0.5) WITHIN GROUP (ORDER BY value) AS median,
				 percentile_cont(0.75) WITHIN GROUP (ORDER BY value) AS q3,
				 max(value) AS max
			  FROM v GROUP BY cluster, feature)
		SELECT q.cluster, q.feature, q.min, q.q1, q.median, q.q3, q.max,
			min(v.value) FILTER (WHERE v.value >= q.q1 - 1.5 * (q.q3 - q.q1)) AS lower_whisker,
			max(v.value) FILTER (WHERE v.value <= q.q3 + 1.5 * (q.q3 - q.q1)) AS upper_whisker,
			count(*) FILTER (WHERE v.value < q.q1 - 1.5 * (q.q3 - q.q1) OR v.value > q.q3 + 1.5 * (q.q3 - q.q1)) AS outliers
		FROM q JOIN v USING (cluster, feature)
		GROUP BY q.cluster, q.feature, q.min, q.q1, q.median, q.q3, q.max
		WITH NO DATA $sql$, segmentation, registry, vector_values);
	EXECUTE format('CREATE UNIQUE INDEX ON %I.boxplots (cluster, feature)', segmentation);

	EXECUTE format($sql$
		CREATE MATERIALIZED VIEW %1$I.pca AS
		WITH r AS MATERIALIZED %2$s
		SELECT c.component, (r.pca).explained_variance_ratio[c.component] AS explained_variance_ratio,
			u.feature, (r.pca).components[c.component][u.j] AS loading
		FROM r, generate_series(1, array_length((r.pca).explained_variance_ratio, 1)) AS c (component),
			unnest(r.features) WITH ORDINALITY AS u (feature, j)
		WITH NO DATA $sql$, segmentation, registry);
	EXECUTE format('CREATE UNIQUE INDEX ON %I.pca (component, feature)', segmentation);

	EXECUTE format($sql$
		CREATE MATERIALIZED VIEW %1$I.model AS
		SELECT (r.model).k, r.seed, r.used_as_of AS as_of, r.fitted_at, (r.model).iterations,
			(r.model).inertia, r.customers_clustered, r.fitted_rows
		FROM %2$s AS r
		WITH NO DATA $sql$, segmentation, registry);
	EXECUTE format('CREATE UNIQUE INDEX ON %I.model (k)', segmentation);

	PERFORM segment.comment_segmentation_views(segmentation);
END
$function$;
COMMENT ON FUNCTION segment.create_segmentation_views(text) IS 'creates the materialized views of a registered segmentation, without data';

-- Comment on every materialized view of a segmentation and on every column
CREATE FUNCTION segment.comment_segmentation_views(segmentation text)
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
			('elbow', NULL, 'one row per candidate number of segments: inertia and scores; is_chosen marks the k of the model'),
			('elbow', 'k', 'number of segments'),
			('elbow', 'inertia', 'k-means inertia (sum of squared distances to the centres)'),
			('elbow', 'silhouette', 'mean silhouette (higher is better); over a seeded sample of segment.silhouette_limit() customers beyond that many'),
			('elbow', 'davies_bouldin', 'Davies-Bouldin index (lower is better)'),
			('elbow', 'calinski_harabasz', 'Calinski-Harabasz index (higher is better)'),
			('elbow', 'is_elbow', 'the Kneedle elbow of the inertia curve'),
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
			('model', 'fitted_rows', 'customers the model was fitted on: all clustered customers, or a seeded sample of them when their vectors do not fit maintenance_work_mem (every customer is assigned all the same)')
		) AS c (view, column_name, text)
	LOOP
		IF comment.column_name IS NULL THEN
			EXECUTE format('COMMENT ON MATERIALIZED VIEW %I.%I IS %L', segmentation, comment.view, comment.text);
		ELSE
			EXECUTE format('COMMENT ON COLUMN %I.%I.%I IS %L', segmentation, comment.view, comment.column_name, comment.text);
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
COMMENT ON FUNCTION segment.comment_segmentation_views(text) IS 'comments on the materialized views of a segmentation and their columns';

-- Refresh one materialized view of a segmentation: concurrently (readers
-- keep the old rows until commit) once it has data
CREATE FUNCTION segment.refresh_segmentation_view(segmentation text, view text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
BEGIN
	IF (SELECT c.relispopulated FROM pg_class c
		WHERE c.oid = format('%I.%I', segmentation, view)::regclass) THEN
		EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %I.%I', segmentation, view);
	ELSE
		EXECUTE format('REFRESH MATERIALIZED VIEW %I.%I', segmentation, view);
	END IF;
END
$function$;
COMMENT ON FUNCTION segment.refresh_segmentation_view(text, text) IS 'refreshes one materialized view of a segmentation';

-- A readable name per cluster from its centroid (z-scores of the
-- transformed features): recency, frequency, spending, and "abroad" for
-- clusters of customers mostly outside the domestic country
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
BEGIN
	FOR c IN 1 .. array_length(centroids, 1) LOOP
		recency := centroids[c][1];
		frequency := (centroids[c][2] + centroids[c][5]) / 2;	-- invoices, invoices per month
		spending := centroids[c][7];							-- total amount
		label := concat_ws(' ',
			CASE WHEN recency <= -0.5 THEN 'recent' WHEN recency >= 0.5 THEN 'lapsed' END,
			CASE WHEN frequency >= 0.5 THEN 'frequent' WHEN frequency <= -0.5 THEN 'occasional' END,
			CASE WHEN spending >= 0.5 THEN 'high spenders' WHEN spending <= -0.5 THEN 'low spenders'
				ELSE 'mid spenders' END,
			CASE WHEN with_country AND centroids[c][10] <= -0.5 THEN 'abroad' END);
		IF label = ANY (labels) THEN
			label := label || ' ' || c;
		END IF;
		labels := labels || label;
	END LOOP;
	RETURN labels;
END
$function$;
COMMENT ON FUNCTION segment.segmentation_labels(double precision[], boolean) IS 'readable, unique names of clusters from their centroids';

-- refresh_segmentation: recompute everything in one transaction
CREATE FUNCTION segment.refresh_segmentation(name text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	r segment.segmentations;
	segmentation text := refresh_segmentation.name;
	vector text;
	n bigint;
	k_max integer;
	fitted segment.kmeans_model;
	models segment.kmeans_model[] := '{}';
	candidates integer[];
	candidate integer;
	chosen integer;
	elbow_k integer;
	new_scaler segment.scaler;
	new_model_scaler segment.scaler;
	new_model segment.kmeans_model;
	numbers integer[];
	labelled text;
	dims integer;
	reference_time timestamp;
	caller_time_zone text;
	fit_rows bigint;
BEGIN
	-- one refresh of a segmentation at a time: the row lock waits for another
	SELECT * INTO r FROM segment.segmentations s WHERE s.name = segmentation FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = '42704', MESSAGE = format('segmentation "%s" does not exist', segmentation);
	END IF;
	-- calendar units in the time zone of the creation, whoever refreshes
	caller_time_zone := current_setting('TimeZone');
	PERFORM set_config('TimeZone', r.time_zone, true);
	PERFORM segment.refresh_segmentation_view(segmentation, 'features');

	-- the most common country is "domestic"
	IF r.country_column IS NOT NULL THEN
		EXECUTE format('SELECT country FROM %I.features WHERE invoices > 0 AND country IS NOT NULL
						GROUP BY country ORDER BY count(*) DESC, country LIMIT 1', segmentation)
			INTO r.domestic_country;
	END IF;
	UPDATE segment.segmentations s SET domestic_country = r.domestic_country WHERE s.name = segmentation;

	-- the raw vectors of the customers with a purchase
	vector := segment.segmentation_vector_sql(r.country_column IS NOT NULL);
	IF to_regclass('pg_temp.segment_refresh_vectors') IS NOT NULL THEN
		DROP TABLE pg_temp.segment_refresh_vectors;
	END IF;
	EXECUTE format('CREATE TEMP TABLE segment_refresh_vectors AS
					SELECT row_number() OVER (ORDER BY f.customer_id) AS id, %s AS raw,
						NULL::double precision[] AS vec, NULL::integer AS cluster, true AS in_fit
					FROM %I.features f, (SELECT $1 AS domestic_country) r WHERE f.invoices > 0', vector, segmentation)
		USING r.domestic_country;
	SELECT count(*) INTO n FROM pg_temp.segment_refresh_vectors;
	IF n < 3 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('segmentation "%s" needs at least 3 customers with a purchase, the source has %s', segmentation, n);
	END IF;
	IF r.k IS NOT NULL AND r.k > n - 1 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('k (%s) must be below the number of customers with a purchase (%s)', r.k, n);
	END IF;

	-- standardize; the domestic flag is only centred, so it weighs like one
	-- standard deviation of a numeric feature and rare countries cannot dominate
	new_scaler := (SELECT segment.scaler_fit(v.raw) FROM pg_temp.segment_refresh_vectors v);
	new_model_scaler := new_scaler;
	IF r.country_column IS NOT NULL THEN
		new_model_scaler.scale[10] := 1;
	END IF;
	UPDATE pg_temp.segment_refresh_vectors SET vec = segment.scale(raw, new_model_scaler);
	ANALYZE pg_temp.segment_refresh_vectors;

	-- bounded memory: when the vectors (and the fits' working memory) do not
	-- fit maintenance_work_mem, fit on a seeded sample and assign every row
	fit_rows := least(n, floor(pg_size_bytes(current_setting('maintenance_work_mem'))
		/ (16.0 * array_length(new_model_scaler.mean, 1) + 400))::bigint);
	IF fit_rows < n THEN
		UPDATE pg_temp.segment_refresh_vectors v SET in_fit = v.id IN (
			SELECT id FROM pg_temp.segment_refresh_vectors ORDER BY md5(id::text || r.seed::text), id LIMIT fit_rows);
	END IF;

	-- every candidate k with its scores
	k_max := least(10, n - 1);
	-- (each k fitted as segment.elbow and segment.kmeans_fit fit it)
	DELETE FROM segment.segmentation_scores s WHERE s.name = segmentation;
	candidates := ARRAY(SELECT generate_series(2, k_max) UNION SELECT r.k WHERE r.k IS NOT NULL ORDER BY 1);
	FOREACH candidate IN ARRAY candidates LOOP
		fitted := segment.kmeans_fit('SELECT id, vec FROM pg_temp.segment_refresh_vectors WHERE in_fit', candidate, 10, 300, 1e-4, r.seed);
		models := models || fitted;
		UPDATE pg_temp.segment_refresh_vectors v SET cluster = segment.kmeans_assign(v.vec, fitted);
		labelled := 'SELECT id, vec, cluster FROM pg_temp.segment_refresh_vectors WHERE in_fit';
		INSERT INTO segment.segmentation_scores (name, k, inertia, silhouette, davies_bouldin,
			calinski_harabasz, smallest_share, is_elbow, is_chosen)
		VALUES (segmentation, candidate, (fitted).inertia,
			segment.silhouette(labelled, CASE WHEN fit_rows > segment.silhouette_limit() THEN segment.silhouette_limit() END, r.seed),
			segment.davies_bouldin(labelled), segment.calinski_harabasz(labelled),
			(SELECT min(c)::double precision / n FROM (
				SELECT count(*) AS c FROM pg_temp.segment_refresh_vectors GROUP BY cluster) AS sizes),
			false, false);
	END LOOP;
	UPDATE segment.segmentation_scores s SET is_elbow = (s.k = 1 + segment.kneedle(
		(SELECT array_agg(e.k::double precision ORDER BY e.k) FROM segment.segmentation_scores e
		 WHERE e.name = segmentation AND e.k <= k_max),
		(SELECT array_agg(e.inertia ORDER BY e.k) FROM segment.segmentation_scores e
		 WHERE e.name = segmentation AND e.k <= k_max)))
	WHERE s.name = segmentation;

	-- the k: the one asked for; else, among 3..8 with every segment at least
	-- 2 % of the customers, the best silhouette within one of the elbow; else
	-- the best such silhouette; else the elbow
	SELECT s.k INTO elbow_k FROM segment.segmentation_scores s WHERE s.name = segmentation AND s.is_elbow;
	IF r.k IS NOT NULL THEN
		chosen := r.k;
	ELSE
		SELECT s.k INTO chosen FROM segment.segmentation_scores s
		WHERE s.name = segmentation AND s.k BETWEEN 3 AND 8 AND s.smallest_share >= 0.02
		ORDER BY abs(s.k - elbow_k) > 1, s.silhouette DESC, s.k
		LIMIT 1;
		chosen := coalesce(chosen, elbow_k);
	END IF;
	new_model := models[array_position(candidates, chosen)];
	UPDATE segment.segmentation_scores s SET is_chosen = (s.k = chosen) WHERE s.name = segmentation;

	-- a model fitted on a sample reports the inertia of all the customers
	IF fit_rows < n THEN
		new_model.inertia := (SELECT sum(segment.kmeans_distance(v.vec, new_model) ^ 2)
							  FROM pg_temp.segment_refresh_vectors v);
	END IF;

	-- keep the previous model's numbers: match the centroids
	dims := (new_model).dims;
	IF r.model IS NOT NULL AND (r.model).dims = dims THEN
		numbers := segment.match_clusters((r.model).centroids, (new_model).centroids);
		new_model.centroids := (
			SELECT array_agg(renumbered.centroid ORDER BY renumbered.number)
			FROM (SELECT numbers[c] AS number,
						 ARRAY(SELECT (new_model).centroids[c][j] FROM generate_series(1, dims) AS j) AS centroid
				  FROM generate_series(1, (new_model).k) AS c) AS renumbered);
	END IF;

	IF r.as_of IS NULL THEN
		EXECUTE format('SELECT max(%I)::timestamp FROM %s', r.time_column, r.source) INTO reference_time;
	ELSE
		reference_time := r.as_of;
	END IF;
	UPDATE segment.segmentations s
	SET fitted_at = clock_timestamp(),
		used_as_of = reference_time,
		scaler = new_scaler,
		model_scaler = new_model_scaler,
		model = new_model,
		pca = segment.pca_fit('SELECT id, vec FROM pg_temp.segment_refresh_vectors WHERE in_fit', least(2, dims)),
		labels = segment.segmentation_labels((new_model).centroids, r.country_column IS NOT NULL),
		customers_clustered = n,
		fitted_rows = fit_rows
	WHERE s.name = segmentation;
	DROP TABLE pg_temp.segment_refresh_vectors;

	PERFORM segment.refresh_segmentation_view(segmentation, view)
	FROM unnest(ARRAY['assignments', 'profiles', 'elbow', 'silhouette', 'boxplots', 'pca', 'model']) AS view;
	PERFORM set_config('TimeZone', caller_time_zone, true);
END
$function$;
COMMENT ON FUNCTION segment.refresh_segmentation(text) IS 'recomputes a segmentation in one transaction; readers see the old results until it commits';

-- create_segmentation: register, create the schema and its views, and fit
CREATE FUNCTION segment.create_segmentation(name text, source regclass, k integer DEFAULT NULL,
		customer_column name DEFAULT 'customer_id', invoice_column name DEFAULT 'invoice_no',
		time_column name DEFAULT 'invoice_date', quantity_column name DEFAULT 'quantity',
		price_column name DEFAULT 'unit_price', country_column name DEFAULT 'country',
		as_of timestamp DEFAULT NULL, seed bigint DEFAULT 0)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	segmentation text := create_segmentation.name;
BEGIN
	PERFORM segment.check_segmentation_name(segmentation);
	IF source IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'source must not be NULL';
	END IF;
	IF seed IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'seed must not be NULL';
	END IF;
	IF k IS NOT NULL AND k < 2 THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('k must be at least 2, not %s', k);
	END IF;
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
	IF EXISTS (SELECT FROM pg_namespace n WHERE n.nspname = segmentation) THEN
		RAISE EXCEPTION USING ERRCODE = '42P06', MESSAGE = format('schema "%s" already exists', segmentation),
			HINT = 'A segmentation creates a schema of its name: choose another name or drop that schema.';
	END IF;
	IF EXISTS (SELECT FROM segment.segmentations s WHERE s.name = segmentation) THEN
		RAISE EXCEPTION USING ERRCODE = '42710', MESSAGE = format('segmentation "%s" already exists', segmentation);
	END IF;

	INSERT INTO segment.segmentations (name, source, k, customer_column, invoice_column, time_column,
		quantity_column, price_column, country_column, as_of, seed, time_zone, features)
	VALUES (segmentation, source, k, customer_column, invoice_column, time_column,
		quantity_column, price_column, country_column, as_of, seed, current_setting('TimeZone'),
		ARRAY['recency_days', 'invoices', 'invoices_per_hour', 'invoices_per_day', 'invoices_per_month',
			  'invoices_per_year', 'total_amount', 'avg_invoice_amount', 'mean_days_between']
		|| CASE WHEN country_column IS NULL THEN '{}'::text[] ELSE ARRAY['domestic'] END);
	EXECUTE format('CREATE SCHEMA %I', segmentation);
	EXECUTE format('COMMENT ON SCHEMA %I IS %L', segmentation,
		format('segmentation %s of %s, made by segment.create_segmentation', segmentation, source));
	PERFORM segment.create_segmentation_views(segmentation);
	PERFORM segment.refresh_segmentation(segmentation);
END
$function$;
COMMENT ON FUNCTION segment.create_segmentation(text, regclass, integer, name, name, name, name, name, name, timestamp, bigint) IS
	'segments the customers of a table of invoice lines into schema "name", with materialized views for BI tools';

-- drop_segmentation: remove the schema and the record
CREATE FUNCTION segment.drop_segmentation(name text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	segmentation text := drop_segmentation.name;
	messages text;
BEGIN
	PERFORM FROM segment.segmentations s WHERE s.name = segmentation FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = '42704', MESSAGE = format('segmentation "%s" does not exist', segmentation);
	END IF;
	-- the cascade to the eight views is expected: say nothing of it
	messages := current_setting('client_min_messages');
	PERFORM set_config('client_min_messages', 'warning', true);
	EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', segmentation);
	PERFORM set_config('client_min_messages', messages, true);
	DELETE FROM segment.segmentations s WHERE s.name = segmentation;
END
$function$;
COMMENT ON FUNCTION segment.drop_segmentation(text) IS 'removes a segmentation: its schema and its record';

--
-- Pictures (README: "Pictures"): SVG plots and an HTML report, drawn from the
-- segmentation's views, so a picture always matches the tables
--

-- Text made safe for XML and HTML
CREATE FUNCTION segment.xml_text(value text)
	RETURNS text
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT replace(replace(replace(replace(replace(value, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;')
	$$;
COMMENT ON FUNCTION segment.xml_text(text) IS 'text escaped for XML and HTML';

-- Colour of cluster c: the Okabe-Ito palette, safe for colour-blind readers
CREATE FUNCTION segment.plot_colour(cluster integer)
	RETURNS text
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT (ARRAY['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000',
				  '#999999', '#882255'])[1 + (cluster - 1) % 10]
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
		WHEN abs(value) >= 1e6 THEN rtrim(rtrim(to_char(value / 1e6, 'FM999999990.99'), '0'), '.') || 'M'
		WHEN abs(value) >= 1e4 THEN rtrim(rtrim(to_char(value / 1e3, 'FM999999990.9'), '0'), '.') || 'k'
		WHEN value = trunc(value) THEN to_char(value, 'FM999999990')
		ELSE rtrim(rtrim(to_char(value, 'FM999999990.999'), '0'), '.') END
	$$;
COMMENT ON FUNCTION segment.plot_number(double precision) IS 'a short label for an axis tick';

-- Raise the error for a name that is no segmentation the caller can see
CREATE FUNCTION segment.check_segmentation(name text)
	RETURNS segment.segmentations
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	r segment.segmentations;
BEGIN
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
		|| '<g class="legend-entry"><line x1="230" y1="62" x2="260" y2="62" stroke="#0072B2" stroke-width="2"/><circle cx="245" cy="62" r="4.5" fill="#0072B2"/><text x="266" y="66">inertia (left axis)</text></g>'
		|| '<g class="legend-entry"><line x1="400" y1="62" x2="430" y2="62" stroke="#D55E00" stroke-width="2" stroke-dasharray="6,4"/><rect x="411" y="58" width="8" height="8" fill="#D55E00"/><text x="436" y="66">silhouette (right axis)</text></g>'
		|| '</g></svg>';
	RETURN svg;
END
$function$;
COMMENT ON FUNCTION segment.plot_elbow(segment.segmentations) IS 'SVG of the elbow view';

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
		legend := legend || format('<g class="legend-entry"><rect x="%1$s" y="%2$s" width="12" height="12" fill="%3$s"/>'
			'<text x="%4$s" y="%5$s" font-weight="bold">%6$s · %7$s customers</text>'
			'<text x="%4$s" y="%8$s" fill="#444444">%9$s</text></g>',
			ex, ey, segment.plot_colour(p.cluster), ex + 18, ey + 10, p.cluster,
			to_char(p.customers, 'FM999,999,999'), ey + 25, segment.xml_text(p.label));
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
		SELECT string_agg(format('<g class="cluster-points" fill="%%s" fill-opacity="0.55">%%s</g>',
							 segment.plot_colour(c.cluster), c.circles), '' ORDER BY c.cluster)
		FROM (SELECT p.cluster, string_agg(format('<circle cx="%%s" cy="%%s" r="2.3"/>',
				segment.plot_scale(p.pc1, $1, $2, $5, $6), segment.plot_scale(p.pc2, $3, $4, $7, $8)), '') AS circles
			  FROM (%s) AS p GROUP BY p.cluster) AS c $sql$, sample)
		INTO points USING x_low, x_high, y_low, y_high, x0, x1, y1, y0;

	svg := segment.svg_open(900, 560, 'Segments on the first two principal components',
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
	EXECUTE format('SELECT count(*), avg(silhouette), least(-0.1, floor(10 * min(silhouette)) / 10)
					FROM %I.assignments WHERE cluster IS NOT NULL', r.name) INTO total, mean, x_low;
	step := greatest(1, ceil(total::double precision / most_rows)::integer);
	-- every step-th customer of each segment, in silhouette order
	drawn_rows := format('SELECT cluster, silhouette, (n - 1) / %2$s AS position FROM (
							SELECT cluster, silhouette, row_number() OVER (PARTITION BY cluster ORDER BY silhouette DESC, customer_id) AS n
							FROM %1$I.assignments WHERE cluster IS NOT NULL) AS s
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
		bands := bands || format('<path class="silhouette-band" fill="%1$s" fill-opacity="0.75" d="M %2$s,%3$s %4$s L %2$s,%5$s Z"/>',
			segment.plot_colour(c.cluster), zero, round((y0 + c.start * row_height)::numeric, 1), c.path,
			round((y0 + (c.start + c.drawn) * row_height)::numeric, 1));
		labels := labels || format('<g class="legend-entry"><rect x="12" y="%1$s" width="12" height="12" fill="%2$s"/>'
			'<text x="30" y="%3$s" font-weight="bold">segment %4$s</text></g>',
			round((y0 + (c.start + c.drawn / 2.0) * row_height - 6)::numeric, 1), segment.plot_colour(c.cluster),
			round((y0 + (c.start + c.drawn / 2.0) * row_height + 5)::numeric, 1), c.cluster);
	END LOOP;
	ticks := segment.plot_ticks(x_low, 1, 6);
	RETURN segment.svg_open(720, 540, 'Silhouette of every customer, by segment',
			CASE WHEN step > 1
				THEN format('segmentation %s: 1 in %s of %s customers, sorted within each segment', r.name, step, to_char(total, 'FM999,999,999'))
				ELSE format('segmentation %s: all %s customers, sorted within each segment', r.name, to_char(total, 'FM999,999,999')) END)
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

-- plot(name, kind): a standalone SVG document of a segmentation
CREATE FUNCTION segment.plot(name text, kind text)
	RETURNS text
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	r segment.segmentations := segment.check_segmentation(name);
BEGIN
	CASE kind
		WHEN 'elbow' THEN RETURN segment.plot_elbow(r);
		WHEN 'clusters' THEN RETURN segment.plot_clusters(r);
		WHEN 'profiles' THEN RETURN segment.plot_profiles(r);
		WHEN 'silhouette' THEN RETURN segment.plot_silhouette(r);
		ELSE
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = format('unknown plot kind %s', coalesce(quote_literal(kind), 'NULL')),
				HINT = 'The kinds are elbow, clusters, profiles and silhouette.';
	END CASE;
END
$function$;
COMMENT ON FUNCTION segment.plot(text, text) IS 'a standalone SVG plot of a segmentation: elbow, clusters, profiles or silhouette';

-- report(name): one self-contained HTML page (also well-formed XML) with the
-- four plots and the profile, elbow and silhouette tables
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
	header text;
	means text;
	m record;
BEGIN
	-- the key features in the table (all of them are in the profiles view)
	header := (SELECT string_agg(format('<th>%s</th>', segment.xml_text(replace(f, '_', ' '))), '' ORDER BY i)
			   FROM unnest(r.features) WITH ORDINALITY AS u (f, i)
			   WHERE f IN ('recency_days', 'invoices', 'invoices_per_month', 'total_amount', 'avg_invoice_amount',
						   'mean_days_between', 'domestic'));
	means := (SELECT string_agg(CASE WHEN f = 'domestic'
					THEN '''<td>'' || to_char(100 * domestic_mean, ''FM990'') || '' %</td>'''
					ELSE format('''<td>'' || to_char(%I, ''FM999,999,990.0'') || ''</td>''', f || '_mean') END,
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
			CASE WHEN is_chosen THEN ' class="chosen"' ELSE '' END, k, to_char(inertia, 'FM999,999,999,990.0'),
			to_char(silhouette, 'FM0.000'), to_char(davies_bouldin, 'FM990.000'), to_char(calinski_harabasz, 'FM999,999,990.0'),
			concat_ws(', ', CASE WHEN is_elbow THEN 'elbow' END, CASE WHEN is_chosen THEN 'chosen' END)), '' ORDER BY k)
		FROM %I.elbow $sql$, r.name)
		INTO elbow_rows;
	EXECUTE format($sql$
		SELECT string_agg(format('<tr><td>%%s</td><td>%%s</td><td>%%s</td><td>%%s</td><td>%%s</td></tr>',
			coalesce(cluster::text, 'all'), to_char(customers, 'FM999,999,999'), to_char(mean_silhouette, 'FM0.000'),
			to_char(min_silhouette, 'FM0.000'), to_char(max_silhouette, 'FM0.000')), '' ORDER BY cluster NULLS LAST)
		FROM %I.silhouette $sql$, r.name)
		INTO silhouette_rows;
	EXECUTE format('SELECT * FROM %I.model', r.name) INTO m;

	html := '<!DOCTYPE html>' || E'\n'
		|| '<html xmlns="http://www.w3.org/1999/xhtml" lang="en"><head><meta charset="utf-8"/>'
		|| format('<title>Segmentation %s</title>', segment.xml_text(r.name))
		|| '<style>body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;color:#222;max-width:960px;margin:2em auto;padding:0 1em;line-height:1.4}'
		|| 'h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}'
		|| 'table{border-collapse:collapse;margin:1em 0;font-size:.85em}th,td{padding:4px 9px;border-bottom:1px solid #e2e2e2;text-align:right}'
		|| 'th{background:#f4f4f4}td.label,th.label{text-align:left}td{white-space:nowrap}tr.chosen{font-weight:bold;background:#fff7e0}'
		|| 'div.wide{overflow-x:auto}'
		|| '.swatch{display:inline-block;width:10px;height:10px;margin-right:6px}figure{margin:1.5em 0}svg{max-width:100%;height:auto}'
		|| 'p.note{color:#555;font-size:.9em}</style></head><body>'
		|| format('<h1>Segmentation %s</h1>', segment.xml_text(r.name))
		|| format('<p>%s segments of %s customers of <code>%s</code>, recency as of %s; fitted %s (seed %s).</p>',
			m.k, to_char(m.customers_clustered, 'FM999,999,999'), segment.xml_text(r.source::text),
			segment.xml_text(m.as_of::text), segment.xml_text(to_char(m.fitted_at, 'YYYY-MM-DD HH24:MI TZ')), m.seed)
		|| '<h2>Segments</h2><p class="note">Means in original units.</p>'
		|| '<div class="wide"><table><thead><tr><th class="label">segment</th><th class="label">label</th><th>customers</th><th>share</th>'
		|| header || '</tr></thead><tbody>' || profile_rows || '</tbody></table></div>'
		|| '<figure>' || segment.plot_clusters(r) || '</figure>'
		|| '<figure>' || segment.plot_profiles(r) || '</figure>'
		|| '<h2>Choosing the number of segments</h2>'
		|| '<table><thead><tr><th>k</th><th>inertia</th><th>silhouette</th><th>Davies–Bouldin</th><th>Calinski–Harabasz</th><th class="label"></th></tr></thead><tbody>'
		|| elbow_rows || '</tbody></table>'
		|| '<figure>' || segment.plot_elbow(r) || '</figure>'
		|| '<h2>Silhouette</h2>'
		|| '<table><thead><tr><th>segment</th><th>customers</th><th>mean</th><th>min</th><th>max</th></tr></thead><tbody>'
		|| silhouette_rows || '</tbody></table>'
		|| '<figure>' || segment.plot_silhouette(r) || '</figure>'
		|| '<p class="note">Made by the segment extension from the views of schema '
		|| segment.xml_text(r.name) || '.</p></body></html>';
	RETURN html;
END
$function$;
COMMENT ON FUNCTION segment.report(text) IS 'one self-contained HTML page of a segmentation: plots, profiles, elbow and silhouette';
