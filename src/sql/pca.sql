/* src/sql/pca.sql */

-- Principal component analysis: the type segment.pca_model, pca_fit and
-- pca_transform (src/pca.c)

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
