/* src/sql/citus.sql */

-- Citus: where a segmentation's per-customer tables live.  When the source is
-- a table Citus distributes by hash of the customer column, features,
-- assignments and history become distributed tables co-located with it:
-- each customer's rows on the shard of its lines, joinable with the user's
-- own distributed tables there.  The small tables (profiles, elbow, model,
-- silhouette, boxplots, pca, transitions: a row per segment, per k or per
-- feature) stay tables of the coordinator, which computes and writes them
-- once per refresh and through which clients read them.  Without Citus, or
-- for a source distributed otherwise, every table is a plain table.

-- The source to co-locate a segmentation's per-customer tables with, or NULL
CREATE FUNCTION segment.colocation_source(relation regclass, customer_column name)
	RETURNS regclass
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	distributed_by text;
BEGIN
	IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
		RETURN NULL;
	END IF;
	-- Citus's catalogue, read only when Citus is there
	EXECUTE 'SELECT pg_catalog.column_to_column_name(p.logicalrelid, p.partkey)
		FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = $1 AND p.partmethod = ''h'''
		INTO distributed_by USING relation;
	RETURN CASE WHEN distributed_by = customer_column THEN relation END;
END
$function$;
COMMENT ON FUNCTION segment.colocation_source(regclass, name) IS
	'the relation (a segmentation''s source) when Citus distributes it by hash of the customer column (the per-customer tables are then co-located with it), else NULL';
