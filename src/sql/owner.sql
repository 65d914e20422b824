/* src/sql/owner.sql */

-- Acting for a segmentation's owner (src/owner.c; README: "Privileges")

CREATE OR REPLACE FUNCTION segment.execute_as_owner(segmentation text, owner regrole, command text)
	RETURNS text
	AS 'MODULE_PATHNAME'
	LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION segment.execute_as_owner(text, regrole, text) IS
	'runs command as role owner in a security-restricted operation (as REFRESH MATERIALIZED VIEW runs a view''s query): no role can be set inside, no temporary object made, every setting is restored; returns the first column of the first row of its last statement, as text; only for a caller with the privileges of owner';

CREATE OR REPLACE FUNCTION segment.render_as_owner(segmentation text, plot_kind text)
	RETURNS text
	AS 'MODULE_PATHNAME'
	LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION segment.render_as_owner(text, text) IS
	'a picture of a segmentation (segment.draw_plot), or its report when plot_kind is NULL (segment.write_report), drawn as its owner, security-restricted, for a caller with the owner''s rights or one that may read all its tables';

CREATE OR REPLACE FUNCTION segment.query_columns(query text)
	RETURNS TABLE (ordinal integer, column_name name, column_type text)
	AS 'MODULE_PATHNAME'
	LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION segment.query_columns(text) IS
	'the output columns of a query, in order, with their types, from its parse analysis (nothing is run)';
