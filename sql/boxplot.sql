-- segment.boxplot: per group, the same bits as min, percentile_cont(0.25,
-- 0.5, 0.75), max and Tukey's whiskers and outlier count computed in plain
-- SQL (a second pass over the values joined to their quartiles)
CREATE TEMP VIEW boxplot_values AS
SELECT country AS grp, unit_price::float8 AS value FROM invoices
UNION ALL SELECT 'quantity ' || country, quantity::float8 FROM invoices
UNION ALL SELECT 'one value', 7.25
UNION ALL SELECT 'two values', v FROM (VALUES (1.0::float8), (-3.5)) AS t (v)
UNION ALL SELECT 'with NULLs', v FROM (VALUES (NULL::float8), (2.0), (NULL), (4.0), (100.0)) AS t (v)
UNION ALL SELECT 'only NULLs', NULL::float8;
CREATE TEMP TABLE boxplot_reference AS
WITH q AS (
	SELECT grp, min(value) AS min, percentile_cont(0.25) WITHIN GROUP (ORDER BY value) AS q1,
		percentile_cont(0.5) WITHIN GROUP (ORDER BY value) AS median,
		percentile_cont(0.75) WITHIN GROUP (ORDER BY value) AS q3, max(value) AS max
	FROM boxplot_values GROUP BY grp)
SELECT q.grp, q.min, q.q1, q.median, q.q3, q.max,
	min(v.value) FILTER (WHERE v.value >= q.q1 - 1.5 * (q.q3 - q.q1)) AS lower_whisker,
	max(v.value) FILTER (WHERE v.value <= q.q3 + 1.5 * (q.q3 - q.q1)) AS upper_whisker,
	count(*) FILTER (WHERE v.value < q.q1 - 1.5 * (q.q3 - q.q1) OR v.value > q.q3 + 1.5 * (q.q3 - q.q1)) AS outliers
FROM q JOIN boxplot_values v USING (grp)
GROUP BY q.grp, q.min, q.q1, q.median, q.q3, q.max;
CREATE TEMP TABLE boxplot_ours AS
SELECT grp, (b).* FROM (SELECT grp, segment.boxplot(value) AS b FROM boxplot_values GROUP BY grp) AS s;
-- every group, every number the same bits (float8 compared as such)
SELECT count(*) AS groups,
	count(*) FILTER (WHERE (o.min, o.q1, o.median, o.q3, o.max, o.lower_whisker, o.upper_whisker, o.outliers)
		IS NOT DISTINCT FROM (r.min, r.q1, r.median, r.q3, r.max, r.lower_whisker, r.upper_whisker, r.outliers)) AS same,
	sum(r.outliers) > 0 AS some_outliers
FROM boxplot_reference r FULL JOIN boxplot_ours o USING (grp);
SELECT grp, min, q1, median, q3, max, lower_whisker, upper_whisker, outliers
FROM boxplot_ours WHERE grp IN ('one value', 'two values', 'with NULLs', 'only NULLs', 'Iceland') ORDER BY grp;
-- no rows: one NULL row, as min() and percentile_cont give
SELECT (segment.boxplot(v)).* FROM (SELECT 1.0::float8 WHERE false) AS t (v);
-- NaN and infinities are refused
SELECT segment.boxplot(v) FROM (VALUES (1.0::float8), ('NaN')) AS t (v);
SELECT segment.boxplot(v) FROM (VALUES (1.0::float8), ('-Infinity')) AS t (v);
