/* src/sql/kmeans.sql */

-- k-means: the type segment.kmeans_model, kmeans_fit, kmeans, kmeans_assign,
-- kmeans_distance, elbow and kneedle (src/kmeans.c, src/model.c, src/elbow.c)
--
-- A source is the text of a query run with the caller's rights: a row id, a
-- float8[] vector and, for the scores, an integer cluster.  Functions that
-- run a source are VOLATILE and PARALLEL UNSAFE: the query may do anything.
--

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

-- The Kneedle elbow of a convex decreasing curve: the index (1-based) of the elbow
CREATE FUNCTION segment.kneedle(x double precision[], y double precision[])
	RETURNS integer
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.kneedle(double precision[], double precision[]) IS
	'position (1-based) of the Kneedle elbow of a convex decreasing curve y over x, as segment.elbow marks it';
