/* src/sql/scaler.sql */

-- Standardization and encoding: the type segment.scaler, the aggregate
-- segment.scaler_fit, scale, unscale and one_hot (src/scaler.c, src/vector.c)

CREATE TYPE segment.scaler AS (
	n bigint,
	mean double precision[],
	scale double precision[]
);
COMMENT ON TYPE segment.scaler IS 'a fitted standard scaler: (vec - mean) / scale';
COMMENT ON COLUMN segment.scaler.n IS 'number of vectors fitted';
COMMENT ON COLUMN segment.scaler.mean IS 'mean of each element';
COMMENT ON COLUMN segment.scaler.scale IS 'population standard deviation of each element (ddof 0), 1 for a constant element';

-- scaler_fit: a combinable aggregate with a plain float8[] state {n, mean, m2}
CREATE FUNCTION segment.scaler_fit_accum(double precision[], double precision[])
	RETURNS double precision[]
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment.scaler_fit_combine(double precision[], double precision[])
	RETURNS double precision[]
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION segment.scaler_fit_final(double precision[])
	RETURNS segment.scaler
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE segment.scaler_fit(vec double precision[]) (
	SFUNC = segment.scaler_fit_accum,
	STYPE = double precision[],
	FINALFUNC = segment.scaler_fit_final,
	COMBINEFUNC = segment.scaler_fit_combine,
	PARALLEL = SAFE
);
COMMENT ON FUNCTION segment.scaler_fit_accum(double precision[], double precision[]) IS 'transition function of segment.scaler_fit (Welford)';
COMMENT ON FUNCTION segment.scaler_fit_combine(double precision[], double precision[]) IS 'combine function of segment.scaler_fit (Chan et al.)';
COMMENT ON FUNCTION segment.scaler_fit_final(double precision[]) IS 'final function of segment.scaler_fit';
COMMENT ON AGGREGATE segment.scaler_fit(double precision[]) IS 'fits a standard scaler: mean and population standard deviation of each element; NULL vectors are skipped';

CREATE FUNCTION segment.scale(vec double precision[], s segment.scaler)
	RETURNS double precision[]
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.scale(double precision[], segment.scaler) IS '(vec - mean) / scale';

CREATE FUNCTION segment.unscale(vec double precision[], s segment.scaler)
	RETURNS double precision[]
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.unscale(double precision[], segment.scaler) IS 'vec * scale + mean, the inverse of segment.scale';

CREATE FUNCTION segment.one_hot(value text, categories text[])
	RETURNS double precision[]
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION segment.one_hot(text, text[]) IS '1 at the position of value among categories, 0 elsewhere; NULL or unknown values give all zeros';
