/* src/sql/parallel.sql */

-- The parallel workers segment gives an operation of its own (src/parallel.c)
CREATE FUNCTION segment.parallel_workers()
	RETURNS integer
	AS 'MODULE_PATHNAME'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION segment.parallel_workers() IS
	'the parallel workers segment starts for one operation: max_parallel_maintenance_workers, with no more participants (the workers and the calling backend) than the machine has CPUs online';
