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
