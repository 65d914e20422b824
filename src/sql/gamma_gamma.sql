/* src/sql/gamma_gamma.sql */

-- Customer value: the Gamma-Gamma model of spend per transaction
-- (src/gamma_gamma.c; Fader, Hardie and Lee 2005, "RFM and CLV")

CREATE TYPE segment.gamma_gamma_model AS (
	p double precision,
	q double precision,
	gamma double precision,
	log_likelihood double precision,
	customers bigint
);
COMMENT ON TYPE segment.gamma_gamma_model IS 'a fitted Gamma-Gamma model: the gamma(p, nu) spend of a transaction, nu drawn from gamma(q, gamma) across customers, its log-likelihood and how many customers it was fitted on';
COMMENT ON COLUMN segment.gamma_gamma_model.p IS 'shape of the gamma distribution of a transaction''s value around the customer''s mean';
COMMENT ON COLUMN segment.gamma_gamma_model.q IS 'shape of the gamma distribution of the customers'' nu';
COMMENT ON COLUMN segment.gamma_gamma_model.gamma IS 'scale of the gamma distribution of the customers'' nu, in the currency of the fit';
COMMENT ON COLUMN segment.gamma_gamma_model.log_likelihood IS 'the log-likelihood of the customers at these parameters';
COMMENT ON COLUMN segment.gamma_gamma_model.customers IS 'how many customers the model was fitted on';

CREATE FUNCTION segment.gamma_gamma_fit_accum(internal, x integer, mean_value double precision)
	RETURNS internal
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'gamma_gamma_fit_accum';
COMMENT ON FUNCTION segment.gamma_gamma_fit_accum(internal, integer, double precision) IS
	'transition of segment.gamma_gamma_fit: keeps one customer';
CREATE FUNCTION segment.gamma_gamma_fit_final(internal)
	RETURNS segment.gamma_gamma_model
	LANGUAGE C IMMUTABLE PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'gamma_gamma_fit_final';
COMMENT ON FUNCTION segment.gamma_gamma_fit_final(internal) IS 'final function of segment.gamma_gamma_fit: the maximum-likelihood model';

-- The maximum-likelihood Gamma-Gamma model of the customers' numbers of
-- transactions x (above 0) and the mean value of those transactions (rows
-- with a NULL are skipped; no row gives NULL)
CREATE AGGREGATE segment.gamma_gamma_fit(x integer, mean_value double precision) (
	SFUNC = segment.gamma_gamma_fit_accum,
	STYPE = internal,
	FINALFUNC = segment.gamma_gamma_fit_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE segment.gamma_gamma_fit(integer, double precision) IS
	'the maximum-likelihood Gamma-Gamma model of the customers'' x transactions and their mean value';

CREATE FUNCTION segment.gamma_gamma_expected_value(model segment.gamma_gamma_model, x integer, mean_value double precision)
	RETURNS double precision
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'gamma_gamma_expected_value';
COMMENT ON FUNCTION segment.gamma_gamma_expected_value(segment.gamma_gamma_model, integer, double precision) IS
	'the expected value of a transaction of a customer with x transactions of this mean value (x = 0: the population''s mean)';
