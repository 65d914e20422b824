/* src/sql/aggregates.sql */

-- The building blocks as aggregates over the rows themselves (src/aggregate.c):
-- kmeans_fit, evaluate, silhouette, davies_bouldin, calinski_harabasz and
-- pca_fit under the names of their source-text forms, and the window
-- function silhouette_samples.  A string literal
-- still resolves to the text form, a float8[] column to the aggregate.  Each
-- gives the same bits as its text form on the same rows, whatever their
-- order, the plan or the parallel workers; each works with GROUP BY and as
-- a window aggregate (one fit per partition).  Rows with a NULL vector (or
-- cluster) are skipped; a group without rows gives NULL.

CREATE TYPE segment.evaluation AS (
	k integer,
	model segment.kmeans_model,
	inertia double precision,
	silhouette double precision,
	davies_bouldin double precision,
	calinski_harabasz double precision,
	sizes bigint[],
	smallest_share double precision,
	is_elbow boolean,
	from_start boolean
);
COMMENT ON TYPE segment.evaluation IS 'one candidate k of segment.evaluate: the columns of the rows of its source-text form';
COMMENT ON COLUMN segment.evaluation.k IS 'number of clusters';
COMMENT ON COLUMN segment.evaluation.model IS 'the k-means model of this k';
COMMENT ON COLUMN segment.evaluation.inertia IS 'sum of squared distances of the rows to their centroids';
COMMENT ON COLUMN segment.evaluation.silhouette IS 'mean silhouette (NULL when fewer than 2 segments have rows)';
COMMENT ON COLUMN segment.evaluation.davies_bouldin IS 'Davies-Bouldin index (lower is better)';
COMMENT ON COLUMN segment.evaluation.calinski_harabasz IS 'Calinski-Harabasz index (higher is better)';
COMMENT ON COLUMN segment.evaluation.sizes IS 'rows per segment, segment 1 first';
COMMENT ON COLUMN segment.evaluation.smallest_share IS 'share of the rows in the smallest segment with rows';
COMMENT ON COLUMN segment.evaluation.is_elbow IS 'true for exactly one k: the Kneedle elbow of the inertia';
COMMENT ON COLUMN segment.evaluation.from_start IS 'true when the model was refitted from given centroids (never for the aggregate)';

-- The support functions: transitions per building block, one combine,
-- serialize and deserialize for all (the state is the rows), finals per
-- building block
CREATE FUNCTION segment.kmeans_fit_accum(state internal, vec double precision[], k integer)
	RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION segment.kmeans_fit_accum(state internal, vec double precision[], k integer, n_init integer, seed bigint)
	RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION segment.evaluate_accum(state internal, vec double precision[], k_min integer, k_max integer)
	RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION segment.cluster_scores_accum(state internal, vec double precision[], cluster integer)
	RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION segment.pca_fit_accum(state internal, vec double precision[])
	RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION segment.pca_fit_accum(state internal, vec double precision[], n_components integer)
	RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION segment.vectors_combine(state internal, other internal)
	RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION segment.vectors_serialize(state internal)
	RETURNS bytea AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION segment.vectors_deserialize(bytes bytea, state internal)
	RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION segment.kmeans_fit_final(state internal)
	RETURNS segment.kmeans_model AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION segment.evaluate_final(state internal)
	RETURNS segment.evaluation[] AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION segment.silhouette_final(state internal)
	RETURNS double precision AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION segment.davies_bouldin_final(state internal)
	RETURNS double precision AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION segment.calinski_harabasz_final(state internal)
	RETURNS double precision AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION segment.pca_fit_final(state internal)
	RETURNS segment.pca_model AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION segment.kmeans_fit_accum(internal, double precision[], integer) IS 'transition function of segment.kmeans_fit(vec, k)';
COMMENT ON FUNCTION segment.kmeans_fit_accum(internal, double precision[], integer, integer, bigint) IS 'transition function of segment.kmeans_fit(vec, k, n_init, seed)';
COMMENT ON FUNCTION segment.evaluate_accum(internal, double precision[], integer, integer) IS 'transition function of segment.evaluate(vec, k_min, k_max)';
COMMENT ON FUNCTION segment.cluster_scores_accum(internal, double precision[], integer) IS 'transition function of segment.silhouette, davies_bouldin and calinski_harabasz (vec, cluster)';
COMMENT ON FUNCTION segment.pca_fit_accum(internal, double precision[]) IS 'transition function of segment.pca_fit(vec)';
COMMENT ON FUNCTION segment.pca_fit_accum(internal, double precision[], integer) IS 'transition function of segment.pca_fit(vec, n_components)';
COMMENT ON FUNCTION segment.vectors_combine(internal, internal) IS 'combine function of the building blocks'' aggregates: appends the rows of one state to another';
COMMENT ON FUNCTION segment.vectors_serialize(internal) IS 'serialize function of the building blocks'' aggregates';
COMMENT ON FUNCTION segment.vectors_deserialize(bytea, internal) IS 'deserialize function of the building blocks'' aggregates';
COMMENT ON FUNCTION segment.kmeans_fit_final(internal) IS 'final function of segment.kmeans_fit over rows';
COMMENT ON FUNCTION segment.evaluate_final(internal) IS 'final function of segment.evaluate over rows';
COMMENT ON FUNCTION segment.silhouette_final(internal) IS 'final function of segment.silhouette over rows';
COMMENT ON FUNCTION segment.davies_bouldin_final(internal) IS 'final function of segment.davies_bouldin over rows';
COMMENT ON FUNCTION segment.calinski_harabasz_final(internal) IS 'final function of segment.calinski_harabasz over rows';
COMMENT ON FUNCTION segment.pca_fit_final(internal) IS 'final function of segment.pca_fit over rows';

CREATE AGGREGATE segment.kmeans_fit(vec double precision[], k integer) (
	SFUNC = segment.kmeans_fit_accum, STYPE = internal, FINALFUNC = segment.kmeans_fit_final,
	COMBINEFUNC = segment.vectors_combine, SERIALFUNC = segment.vectors_serialize,
	DESERIALFUNC = segment.vectors_deserialize, PARALLEL = SAFE
);
COMMENT ON AGGREGATE segment.kmeans_fit(double precision[], integer) IS
	'k-means over the vectors of a group: the best of 10 k-means++ runs seeded 0, as kmeans_fit(source, k)';

CREATE AGGREGATE segment.kmeans_fit(vec double precision[], k integer, n_init integer, seed bigint) (
	SFUNC = segment.kmeans_fit_accum, STYPE = internal, FINALFUNC = segment.kmeans_fit_final,
	COMBINEFUNC = segment.vectors_combine, SERIALFUNC = segment.vectors_serialize,
	DESERIALFUNC = segment.vectors_deserialize, PARALLEL = SAFE
);
COMMENT ON AGGREGATE segment.kmeans_fit(double precision[], integer, integer, bigint) IS
	'k-means over the vectors of a group: the best of n_init k-means++ runs, as kmeans_fit(source, k, n_init, seed => seed)';

CREATE AGGREGATE segment.evaluate(vec double precision[], k_min integer, k_max integer) (
	SFUNC = segment.evaluate_accum, STYPE = internal, FINALFUNC = segment.evaluate_final,
	COMBINEFUNC = segment.vectors_combine, SERIALFUNC = segment.vectors_serialize,
	DESERIALFUNC = segment.vectors_deserialize, PARALLEL = SAFE
);
COMMENT ON AGGREGATE segment.evaluate(double precision[], integer, integer) IS
	'every k of k_min .. k_max over the vectors of a group, one segment.evaluation per k (unnest() gives the rows of evaluate(source, k_min, k_max))';

CREATE AGGREGATE segment.silhouette(vec double precision[], cluster integer) (
	SFUNC = segment.cluster_scores_accum, STYPE = internal, FINALFUNC = segment.silhouette_final,
	COMBINEFUNC = segment.vectors_combine, SERIALFUNC = segment.vectors_serialize,
	DESERIALFUNC = segment.vectors_deserialize, PARALLEL = SAFE
);
COMMENT ON AGGREGATE segment.silhouette(double precision[], integer) IS
	'mean Euclidean silhouette of the rows of a group and their clusters, exact over all rows';

CREATE AGGREGATE segment.davies_bouldin(vec double precision[], cluster integer) (
	SFUNC = segment.cluster_scores_accum, STYPE = internal, FINALFUNC = segment.davies_bouldin_final,
	COMBINEFUNC = segment.vectors_combine, SERIALFUNC = segment.vectors_serialize,
	DESERIALFUNC = segment.vectors_deserialize, PARALLEL = SAFE
);
COMMENT ON AGGREGATE segment.davies_bouldin(double precision[], integer) IS
	'Davies-Bouldin index of the rows of a group and their clusters (lower is better)';

CREATE AGGREGATE segment.calinski_harabasz(vec double precision[], cluster integer) (
	SFUNC = segment.cluster_scores_accum, STYPE = internal, FINALFUNC = segment.calinski_harabasz_final,
	COMBINEFUNC = segment.vectors_combine, SERIALFUNC = segment.vectors_serialize,
	DESERIALFUNC = segment.vectors_deserialize, PARALLEL = SAFE
);
COMMENT ON AGGREGATE segment.calinski_harabasz(double precision[], integer) IS
	'Calinski-Harabasz index of the rows of a group and their clusters (higher is better)';

CREATE AGGREGATE segment.pca_fit(vec double precision[]) (
	SFUNC = segment.pca_fit_accum, STYPE = internal, FINALFUNC = segment.pca_fit_final,
	COMBINEFUNC = segment.vectors_combine, SERIALFUNC = segment.vectors_serialize,
	DESERIALFUNC = segment.vectors_deserialize, PARALLEL = SAFE
);
COMMENT ON AGGREGATE segment.pca_fit(double precision[]) IS
	'principal component analysis of the vectors of a group, 2 components, as pca_fit(source)';

CREATE AGGREGATE segment.pca_fit(vec double precision[], n_components integer) (
	SFUNC = segment.pca_fit_accum, STYPE = internal, FINALFUNC = segment.pca_fit_final,
	COMBINEFUNC = segment.vectors_combine, SERIALFUNC = segment.vectors_serialize,
	DESERIALFUNC = segment.vectors_deserialize, PARALLEL = SAFE
);
COMMENT ON AGGREGATE segment.pca_fit(double precision[], integer) IS
	'principal component analysis of the vectors of a group, as pca_fit(source, n_components)';

-- Each row's silhouette needs every other row of its partition: a window
-- function, which computes a partition's silhouettes once, on its first row
CREATE FUNCTION segment.silhouette_samples(vec double precision[], cluster integer)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'silhouette_samples_window'
	LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION segment.silhouette_samples(double precision[], integer) IS
	'window function: each row''s silhouette among the rows of its partition, as silhouette_samples(source); NULL for a row without a vector or cluster';
