/* src/sql/boxplot.sql */

-- The box plot of a group of values (src/boxplot.c): what the boxplots table
-- of a segmentation shows per segment and feature, from one sort
CREATE TYPE segment.boxplot AS (
	min double precision,
	q1 double precision,
	median double precision,
	q3 double precision,
	max double precision,
	lower_whisker double precision,
	upper_whisker double precision,
	outliers bigint
);
COMMENT ON TYPE segment.boxplot IS
	'a box plot: min, quartiles (percentile_cont), max, Tukey''s whiskers (the most extreme values within 1.5 interquartile ranges of the box) and the number of values beyond them';
COMMENT ON COLUMN segment.boxplot.min IS 'the smallest value';
COMMENT ON COLUMN segment.boxplot.q1 IS 'the first quartile, percentile_cont(0.25)';
COMMENT ON COLUMN segment.boxplot.median IS 'the median, percentile_cont(0.5)';
COMMENT ON COLUMN segment.boxplot.q3 IS 'the third quartile, percentile_cont(0.75)';
COMMENT ON COLUMN segment.boxplot.max IS 'the largest value';
COMMENT ON COLUMN segment.boxplot.lower_whisker IS 'the smallest value at or above q1 - 1.5 (q3 - q1)';
COMMENT ON COLUMN segment.boxplot.upper_whisker IS 'the largest value at or below q3 + 1.5 (q3 - q1)';
COMMENT ON COLUMN segment.boxplot.outliers IS 'the number of values beyond the whiskers';
CREATE FUNCTION segment.boxplot_accum(internal, double precision)
	RETURNS internal
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment.boxplot_final(internal)
	RETURNS segment.boxplot
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE segment.boxplot(double precision) (
	SFUNC = segment.boxplot_accum,
	STYPE = internal,
	FINALFUNC = segment.boxplot_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE segment.boxplot(double precision) IS
	'the box plot of the non-NULL values of a group: the same numbers as min, percentile_cont(0.25, 0.5, 0.75), max and the whiskers computed in SQL, from one sort; NaN and infinities are refused (22023)';
COMMENT ON FUNCTION segment.boxplot_accum(internal, double precision) IS 'transition function of segment.boxplot';
COMMENT ON FUNCTION segment.boxplot_final(internal) IS 'final function of segment.boxplot';
