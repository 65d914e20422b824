/* src/sql/metrics.sql */

-- Scores of a clustering: silhouette, Davies-Bouldin, Calinski-Harabasz
-- (src/metrics.c)

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

-- Exact silhouettes up to this many clustered customers (O(n^2)); a seeded sample beyond
CREATE FUNCTION segment.silhouette_limit()
	RETURNS integer
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS 'SELECT 20000';
COMMENT ON FUNCTION segment.silhouette_limit() IS
	'number of clustered customers up to which the pipeline computes exact silhouettes; beyond it, a seeded sample of that many';
