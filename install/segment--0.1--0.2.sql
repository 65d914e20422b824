/* install/segment--0.1--0.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION segment UPDATE TO '0.2'" to load this file. \quit

--
-- The segmentation pipeline (API.md section 4)
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
	customers_clustered bigint
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

	silhouette_source := format(
		'SELECT row_number() OVER (ORDER BY f.customer_id), segment.scale(%2$s, r.model_scaler), '
		'segment.kmeans_assign(segment.scale(%2$s, r.model_scaler), r.model) FROM %1$I.features f, %3$s r '
		'WHERE f.invoices > 0', segmentation, vector, registry);
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
			min(silhouette) AS min_silhouette, max(silhouette) AS max_silhouette
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
			(r.model).inertia, r.customers_clustered
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
			('assignments', 'silhouette', 'silhouette of the customer (-1 to 1, higher fits its segment better)'),
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
			('elbow', 'silhouette', 'mean silhouette (higher is better)'),
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
			('model', 'customers_clustered', 'customers with a purchase, the customers clustered')
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
						NULL::double precision[] AS vec, NULL::integer AS cluster
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

	-- every candidate k with its scores
	k_max := least(10, n - 1);
	-- (each k fitted as segment.elbow and segment.kmeans_fit fit it)
	DELETE FROM segment.segmentation_scores s WHERE s.name = segmentation;
	candidates := ARRAY(SELECT generate_series(2, k_max) UNION SELECT r.k WHERE r.k IS NOT NULL ORDER BY 1);
	FOREACH candidate IN ARRAY candidates LOOP
		fitted := segment.kmeans_fit('SELECT id, vec FROM pg_temp.segment_refresh_vectors', candidate, 10, 300, 1e-4, r.seed);
		models := models || fitted;
		UPDATE pg_temp.segment_refresh_vectors v SET cluster = segment.kmeans_assign(v.vec, fitted);
		labelled := 'SELECT id, vec, cluster FROM pg_temp.segment_refresh_vectors';
		INSERT INTO segment.segmentation_scores (name, k, inertia, silhouette, davies_bouldin,
			calinski_harabasz, smallest_share, is_elbow, is_chosen)
		VALUES (segmentation, candidate, (fitted).inertia, segment.silhouette(labelled),
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
		pca = segment.pca_fit('SELECT id, vec FROM pg_temp.segment_refresh_vectors', least(2, dims)),
		labels = segment.segmentation_labels((new_model).centroids, r.country_column IS NOT NULL),
		customers_clustered = n
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
