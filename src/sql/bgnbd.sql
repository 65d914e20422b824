/* src/sql/bgnbd.sql */

-- Customer value: the BG/NBD model of repeat purchases (src/bgnbd.c; Fader,
-- Hardie and Lee 2005).  Times in whatever unit the caller uses (days,
-- weeks), the same for t_x, t and the horizon.

CREATE TYPE segment.bgnbd_model AS (
	r double precision,
	alpha double precision,
	a double precision,
	b double precision,
	log_likelihood double precision,
	customers bigint
);
COMMENT ON TYPE segment.bgnbd_model IS 'a fitted BG/NBD model: the gamma(r, alpha) purchase rates, the beta(a, b) drop-out probabilities, its log-likelihood and how many customers it was fitted on';
COMMENT ON COLUMN segment.bgnbd_model.r IS 'shape of the gamma distribution of the customers'' purchase rates';
COMMENT ON COLUMN segment.bgnbd_model.alpha IS 'scale of the gamma distribution of the purchase rates, in the time unit of the fit';
COMMENT ON COLUMN segment.bgnbd_model.a IS 'first shape of the beta distribution of the probability of dropping out after a purchase';
COMMENT ON COLUMN segment.bgnbd_model.b IS 'second shape of the beta distribution of the probability of dropping out after a purchase';
COMMENT ON COLUMN segment.bgnbd_model.log_likelihood IS 'the log-likelihood of the customers at these parameters';
COMMENT ON COLUMN segment.bgnbd_model.customers IS 'how many customers the model was fitted on';

CREATE FUNCTION segment.bgnbd_fit_accum(internal, x integer, t_x double precision, t double precision)
	RETURNS internal
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'bgnbd_fit_accum';
COMMENT ON FUNCTION segment.bgnbd_fit_accum(internal, integer, double precision, double precision) IS
	'transition of segment.bgnbd_fit: keeps one customer';
CREATE FUNCTION segment.bgnbd_fit_final(internal)
	RETURNS segment.bgnbd_model
	LANGUAGE C IMMUTABLE PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'bgnbd_fit_final';
COMMENT ON FUNCTION segment.bgnbd_fit_final(internal) IS 'final function of segment.bgnbd_fit: the maximum-likelihood model';

-- The maximum-likelihood BG/NBD model of the customers' repeat transactions
-- x, the time of the last one t_x and their age t (rows with a NULL are
-- skipped; no row gives NULL)
CREATE AGGREGATE segment.bgnbd_fit(x integer, t_x double precision, t double precision) (
	SFUNC = segment.bgnbd_fit_accum,
	STYPE = internal,
	FINALFUNC = segment.bgnbd_fit_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE segment.bgnbd_fit(integer, double precision, double precision) IS
	'the maximum-likelihood BG/NBD model of the customers'' repeat transactions x, last one t_x and age t';

CREATE FUNCTION segment.bgnbd_probability_alive(model segment.bgnbd_model, x integer, t_x double precision, t double precision)
	RETURNS double precision
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'bgnbd_probability_alive';
COMMENT ON FUNCTION segment.bgnbd_probability_alive(segment.bgnbd_model, integer, double precision, double precision) IS
	'the probability that a customer with x repeat transactions, the last at t_x, and age t has not dropped out';

CREATE FUNCTION segment.bgnbd_probability_of_purchases(model segment.bgnbd_model, horizon double precision, n integer)
	RETURNS double precision
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'bgnbd_probability_of_purchases';
COMMENT ON FUNCTION segment.bgnbd_probability_of_purchases(segment.bgnbd_model, double precision, integer) IS
	'the probability that a new customer makes n repeat purchases in (0, horizon]';

CREATE FUNCTION segment.bgnbd_expected_purchases(model segment.bgnbd_model, horizon double precision, x integer, t_x double precision, t double precision)
	RETURNS double precision
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'bgnbd_expected_purchases';
COMMENT ON FUNCTION segment.bgnbd_expected_purchases(segment.bgnbd_model, double precision, integer, double precision, double precision) IS
	'the expected number of purchases over the next horizon of a customer with x repeat transactions, the last at t_x, and age t';
