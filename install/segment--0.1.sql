/* install/segment--0.1.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION segment" to load this file. \quit

-- The schema belongs to the extension, so DROP EXTENSION removes it
CREATE SCHEMA segment;
COMMENT ON SCHEMA segment IS 'segment: customer segmentation in the database';
GRANT USAGE ON SCHEMA segment TO PUBLIC;

--
-- Per-customer features (README: "Reference")
--

CREATE TYPE segment.features AS (
	invoices integer,
	returns integer,
	lines bigint,
	ignored_lines bigint,
	items double precision,
	total_amount double precision,
	purchase_amount double precision,
	returned_amount double precision,
	avg_invoice_amount double precision,
	first_purchase timestamp,
	last_purchase timestamp,
	tenure_days double precision,
	mean_days_between double precision,
	active_hours integer,
	active_days integer,
	active_months integer,
	active_years integer,
	invoices_per_hour double precision,
	invoices_per_day double precision,
	invoices_per_month double precision,
	invoices_per_year double precision
);

COMMENT ON TYPE segment.features IS 'per-customer purchase features computed by segment.customer_features';
COMMENT ON COLUMN segment.features.invoices IS 'distinct invoice numbers among purchase lines (quantity > 0)';
COMMENT ON COLUMN segment.features.returns IS 'distinct invoice numbers among return lines (quantity < 0)';
COMMENT ON COLUMN segment.features.lines IS 'lines used: purchase, return and zero-quantity lines';
COMMENT ON COLUMN segment.features.ignored_lines IS 'lines not used: a NULL invoice number, or a NULL, NaN or infinite time, quantity or price';
COMMENT ON COLUMN segment.features.items IS 'sum of quantity over purchase lines';
COMMENT ON COLUMN segment.features.total_amount IS 'sum of quantity * unit_price over all lines used, net of returns';
COMMENT ON COLUMN segment.features.purchase_amount IS 'sum of quantity * unit_price over purchase lines';
COMMENT ON COLUMN segment.features.returned_amount IS 'minus the sum of quantity * unit_price over return lines (>= 0 for normal data)';
COMMENT ON COLUMN segment.features.avg_invoice_amount IS 'purchase_amount / invoices; NULL when invoices = 0';
COMMENT ON COLUMN segment.features.first_purchase IS 'earliest time of a purchase line (session time zone for timestamptz input)';
COMMENT ON COLUMN segment.features.last_purchase IS 'latest time of a purchase line (session time zone for timestamptz input)';
COMMENT ON COLUMN segment.features.tenure_days IS 'elapsed days from first_purchase to last_purchase (fractional); NULL without purchases';
COMMENT ON COLUMN segment.features.mean_days_between IS 'tenure_days / (invoices - 1); NULL when invoices < 2';
COMMENT ON COLUMN segment.features.active_hours IS 'distinct date_trunc(''hour'', time) over purchase lines';
COMMENT ON COLUMN segment.features.active_days IS 'distinct date_trunc(''day'', time) over purchase lines';
COMMENT ON COLUMN segment.features.active_months IS 'distinct date_trunc(''month'', time) over purchase lines';
COMMENT ON COLUMN segment.features.active_years IS 'distinct date_trunc(''year'', time) over purchase lines';
COMMENT ON COLUMN segment.features.invoices_per_hour IS 'invoices / active_hours; NULL when active_hours = 0';
COMMENT ON COLUMN segment.features.invoices_per_day IS 'invoices / active_days; NULL when active_days = 0';
COMMENT ON COLUMN segment.features.invoices_per_month IS 'invoices / active_months; NULL when active_months = 0';
COMMENT ON COLUMN segment.features.invoices_per_year IS 'invoices / active_years; NULL when active_years = 0';

-- Transition functions, one per overload; not strict, so NULL inputs can be counted
CREATE FUNCTION segment.customer_features_accum(internal, text, timestamp, double precision, double precision)
	RETURNS internal
	AS 'MODULE_PATHNAME', 'customer_features_accum_text'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- timestamptz overloads read the session time zone, hence STABLE
CREATE FUNCTION segment.customer_features_accum(internal, text, timestamptz, double precision, double precision)
	RETURNS internal
	AS 'MODULE_PATHNAME', 'customer_features_accum_text_tz'
	LANGUAGE C STABLE PARALLEL SAFE;

CREATE FUNCTION segment.customer_features_accum(internal, bigint, timestamp, double precision, double precision)
	RETURNS internal
	AS 'MODULE_PATHNAME', 'customer_features_accum_int8'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION segment.customer_features_accum(internal, bigint, timestamptz, double precision, double precision)
	RETURNS internal
	AS 'MODULE_PATHNAME', 'customer_features_accum_int8_tz'
	LANGUAGE C STABLE PARALLEL SAFE;

CREATE FUNCTION segment.customer_features_combine(internal, internal)
	RETURNS internal
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION segment.customer_features_serialize(internal)
	RETURNS bytea
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION segment.customer_features_deserialize(bytea, internal)
	RETURNS internal
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION segment.customer_features_final(internal)
	RETURNS segment.features
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION segment.customer_features_accum(internal, text, timestamp, double precision, double precision) IS 'transition function of segment.customer_features(text, timestamp, float8, float8)';
COMMENT ON FUNCTION segment.customer_features_accum(internal, text, timestamptz, double precision, double precision) IS 'transition function of segment.customer_features(text, timestamptz, float8, float8)';
COMMENT ON FUNCTION segment.customer_features_accum(internal, bigint, timestamp, double precision, double precision) IS 'transition function of segment.customer_features(bigint, timestamp, float8, float8)';
COMMENT ON FUNCTION segment.customer_features_accum(internal, bigint, timestamptz, double precision, double precision) IS 'transition function of segment.customer_features(bigint, timestamptz, float8, float8)';
COMMENT ON FUNCTION segment.customer_features_combine(internal, internal) IS 'combine function of segment.customer_features: merges two partial states';
COMMENT ON FUNCTION segment.customer_features_serialize(internal) IS 'serialize function of segment.customer_features';
COMMENT ON FUNCTION segment.customer_features_deserialize(bytea, internal) IS 'deserialize function of segment.customer_features';
COMMENT ON FUNCTION segment.customer_features_final(internal) IS 'final function of segment.customer_features: builds the segment.features row';

CREATE AGGREGATE segment.customer_features(invoice_no text, invoiced_at timestamp, quantity double precision, unit_price double precision) (
	SFUNC = segment.customer_features_accum,
	STYPE = internal,
	SSPACE = 512,
	FINALFUNC = segment.customer_features_final,
	COMBINEFUNC = segment.customer_features_combine,
	SERIALFUNC = segment.customer_features_serialize,
	DESERIALFUNC = segment.customer_features_deserialize,
	PARALLEL = SAFE
);

CREATE AGGREGATE segment.customer_features(invoice_no text, invoiced_at timestamptz, quantity double precision, unit_price double precision) (
	SFUNC = segment.customer_features_accum,
	STYPE = internal,
	SSPACE = 512,
	FINALFUNC = segment.customer_features_final,
	COMBINEFUNC = segment.customer_features_combine,
	SERIALFUNC = segment.customer_features_serialize,
	DESERIALFUNC = segment.customer_features_deserialize,
	PARALLEL = SAFE
);

CREATE AGGREGATE segment.customer_features(invoice_no bigint, invoiced_at timestamp, quantity double precision, unit_price double precision) (
	SFUNC = segment.customer_features_accum,
	STYPE = internal,
	SSPACE = 512,
	FINALFUNC = segment.customer_features_final,
	COMBINEFUNC = segment.customer_features_combine,
	SERIALFUNC = segment.customer_features_serialize,
	DESERIALFUNC = segment.customer_features_deserialize,
	PARALLEL = SAFE
);

CREATE AGGREGATE segment.customer_features(invoice_no bigint, invoiced_at timestamptz, quantity double precision, unit_price double precision) (
	SFUNC = segment.customer_features_accum,
	STYPE = internal,
	SSPACE = 512,
	FINALFUNC = segment.customer_features_final,
	COMBINEFUNC = segment.customer_features_combine,
	SERIALFUNC = segment.customer_features_serialize,
	DESERIALFUNC = segment.customer_features_deserialize,
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE segment.customer_features(text, timestamp, double precision, double precision) IS 'per-customer purchase features from invoice lines (invoice_no, invoiced_at, quantity, unit_price)';
COMMENT ON AGGREGATE segment.customer_features(text, timestamptz, double precision, double precision) IS 'per-customer purchase features from invoice lines; calendar units in the session time zone';
COMMENT ON AGGREGATE segment.customer_features(bigint, timestamp, double precision, double precision) IS 'per-customer purchase features from invoice lines with numeric invoice numbers';
COMMENT ON AGGREGATE segment.customer_features(bigint, timestamptz, double precision, double precision) IS 'per-customer purchase features from invoice lines with numeric invoice numbers; calendar units in the session time zone';

--
-- Building blocks (README: "Building blocks")
--
-- A source is the text of a query run with the caller's rights: a row id, a
-- float8[] vector and, for the scores, an integer cluster.  Functions that
-- run a source are VOLATILE and PARALLEL UNSAFE: the query may do anything.
--

CREATE TYPE segment.scaler AS (
	n bigint,
	mean double precision[],
	scale double precision[]
);
COMMENT ON TYPE segment.scaler IS 'a fitted standard scaler: (vec - mean) / scale';
COMMENT ON COLUMN segment.scaler.n IS 'number of vectors fitted';
COMMENT ON COLUMN segment.scaler.mean IS 'mean of each element';
COMMENT ON COLUMN segment.scaler.scale IS 'population standard deviation of each element (ddof 0), 1 for a constant element';

CREATE TYPE segment.kmeans_model AS (
	k integer,
	dims integer,
	centroids double precision[],
	inertia double precision,
	iterations integer,
	n_init integer,
	seed bigint
);
COMMENT ON TYPE segment.kmeans_model IS 'a fitted k-means model';
COMMENT ON COLUMN segment.kmeans_model.k IS 'number of clusters';
COMMENT ON COLUMN segment.kmeans_model.dims IS 'length of the vectors';
COMMENT ON COLUMN segment.kmeans_model.centroids IS 'k × dims array of cluster centres; row 1 is cluster 1, the largest';
COMMENT ON COLUMN segment.kmeans_model.inertia IS 'sum of squared distances of the rows to their centroids';
COMMENT ON COLUMN segment.kmeans_model.iterations IS 'Lloyd iterations of the best run';
COMMENT ON COLUMN segment.kmeans_model.n_init IS 'number of k-means++ runs the best was chosen from';
COMMENT ON COLUMN segment.kmeans_model.seed IS 'seed of the runs';

CREATE TYPE segment.pca_model AS (
	mean double precision[],
	components double precision[],
	explained_variance double precision[],
	explained_variance_ratio double precision[]
);
COMMENT ON TYPE segment.pca_model IS 'a fitted principal component analysis';
COMMENT ON COLUMN segment.pca_model.mean IS 'mean of each element, subtracted before projecting';
COMMENT ON COLUMN segment.pca_model.components IS 'n_components × dims array of principal axes; the loading of largest magnitude of each is positive';
COMMENT ON COLUMN segment.pca_model.explained_variance IS 'variance along each component (n - 1 in the denominator)';
COMMENT ON COLUMN segment.pca_model.explained_variance_ratio IS 'share of the total variance along each component';

-- scaler_fit: a combinable aggregate with a plain float8[] state {n, mean, m2}
CREATE FUNCTION segment.scaler_fit_accum(double precision[], double precision[])
	RETURNS double precision[]
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment.scaler_fit_combine(double precision[], double precision[])
	RETURNS double precision[]
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION segment.scaler_fit_final(double precision[])
	RETURNS segment.scaler
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE segment.scaler_fit(vec double precision[]) (
	SFUNC = segment.scaler_fit_accum,
	STYPE = double precision[],
	FINALFUNC = segment.scaler_fit_final,
	COMBINEFUNC = segment.scaler_fit_combine,
	PARALLEL = SAFE
);
COMMENT ON FUNCTION segment.scaler_fit_accum(double precision[], double precision[]) IS 'transition function of segment.scaler_fit (Welford)';
COMMENT ON FUNCTION segment.scaler_fit_combine(double precision[], double precision[]) IS 'combine function of segment.scaler_fit (Chan et al.)';
COMMENT ON FUNCTION segment.scaler_fit_final(double precision[]) IS 'final function of segment.scaler_fit';
COMMENT ON AGGREGATE segment.scaler_fit(double precision[]) IS 'fits a standard scaler: mean and population standard deviation of each element; NULL vectors are skipped';

CREATE FUNCTION segment.scale(vec double precision[], s segment.scaler)
	RETURNS double precision[]
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.scale(double precision[], segment.scaler) IS '(vec - mean) / scale';

CREATE FUNCTION segment.unscale(vec double precision[], s segment.scaler)
	RETURNS double precision[]
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.unscale(double precision[], segment.scaler) IS 'vec * scale + mean, the inverse of segment.scale';

CREATE FUNCTION segment.one_hot(value text, categories text[])
	RETURNS double precision[]
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION segment.one_hot(text, text[]) IS '1 at the position of value among categories, 0 elsewhere; NULL or unknown values give all zeros';

CREATE FUNCTION segment.kmeans_fit(source text, k integer, n_init integer DEFAULT 10,
		max_iter integer DEFAULT 300, tol double precision DEFAULT 1e-4, seed bigint DEFAULT 0)
	RETURNS segment.kmeans_model
	AS 'MODULE_PATHNAME'
	LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION segment.kmeans_fit(text, integer, integer, integer, double precision, bigint) IS 'k-means on the vectors of a source: the best of n_init k-means++ runs by inertia';

CREATE FUNCTION segment.kmeans(source text, k integer, n_init integer DEFAULT 10,
		max_iter integer DEFAULT 300, tol double precision DEFAULT 1e-4, seed bigint DEFAULT 0)
	RETURNS TABLE (id bigint, cluster integer, distance double precision)
	AS 'MODULE_PATHNAME'
	LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE ROWS 1000;
COMMENT ON FUNCTION segment.kmeans(text, integer, integer, integer, double precision, bigint) IS 'k-means on a source with integer row ids: each row''s cluster (1 = largest) and distance to its centroid';

CREATE FUNCTION segment.kmeans_assign(vec double precision[], model segment.kmeans_model)
	RETURNS integer
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.kmeans_assign(double precision[], segment.kmeans_model) IS 'number of the nearest centroid of a k-means model (the lower number on ties)';

CREATE FUNCTION segment.kmeans_distance(vec double precision[], model segment.kmeans_model)
	RETURNS double precision
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.kmeans_distance(double precision[], segment.kmeans_model) IS 'Euclidean distance to the nearest centroid of a k-means model';

CREATE FUNCTION segment.elbow(source text, k_min integer DEFAULT 1, k_max integer DEFAULT 10,
		n_init integer DEFAULT 10, seed bigint DEFAULT 0)
	RETURNS TABLE (k integer, inertia double precision, is_elbow boolean)
	AS 'MODULE_PATHNAME'
	LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE ROWS 10;
COMMENT ON FUNCTION segment.elbow(text, integer, integer, integer, bigint) IS 'k-means inertia for k_min .. k_max; exactly one row is the Kneedle elbow';

CREATE FUNCTION segment.silhouette(source text, sample_size integer DEFAULT NULL, seed bigint DEFAULT 0)
	RETURNS double precision
	AS 'MODULE_PATHNAME'
	LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION segment.silhouette(text, integer, bigint) IS 'mean Euclidean silhouette of a clustering: exact over all rows, or over a seeded sample of sample_size rows';

CREATE FUNCTION segment.silhouette_samples(source text)
	RETURNS TABLE (id bigint, cluster integer, silhouette double precision)
	AS 'MODULE_PATHNAME'
	LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE ROWS 1000;
COMMENT ON FUNCTION segment.silhouette_samples(text) IS 'silhouette of each row of a clustering; 0 for a row alone in its cluster';

CREATE FUNCTION segment.davies_bouldin(source text)
	RETURNS double precision
	AS 'MODULE_PATHNAME'
	LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION segment.davies_bouldin(text) IS 'Davies-Bouldin index of a clustering (lower is better)';

CREATE FUNCTION segment.calinski_harabasz(source text)
	RETURNS double precision
	AS 'MODULE_PATHNAME'
	LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION segment.calinski_harabasz(text) IS 'Calinski-Harabasz index of a clustering (higher is better)';

CREATE FUNCTION segment.pca_fit(source text, n_components integer DEFAULT 2)
	RETURNS segment.pca_model
	AS 'MODULE_PATHNAME'
	LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION segment.pca_fit(text, integer) IS 'principal component analysis of the vectors of a source (LAPACK dgesvd)';

CREATE FUNCTION segment.pca_transform(vec double precision[], model segment.pca_model)
	RETURNS double precision[]
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.pca_transform(double precision[], segment.pca_model) IS 'coordinates of vec on the principal components of a PCA model';
