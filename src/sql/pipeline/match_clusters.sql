/* src/sql/pipeline/match_clusters.sql */

-- Stable cluster numbers across refreshes (Hungarian matching of centroids)
CREATE OR REPLACE FUNCTION segment.match_clusters(previous double precision[], current double precision[])
	RETURNS integer[]
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.match_clusters(double precision[], double precision[]) IS
	'for each centroid of current, the cluster number that matches previous with the least total squared distance';

