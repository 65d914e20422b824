/* src/sql/customer_value.sql */

-- Customer value: the discounted expected revenue over a horizon, from the
-- BG/NBD and Gamma-Gamma models (src/customer_value.c)

CREATE FUNCTION segment.customer_value(bgnbd segment.bgnbd_model, gamma_gamma segment.gamma_gamma_model,
	horizon double precision, x integer, t_x double precision, t double precision, mean_value double precision,
	discount_rate double precision DEFAULT 0)
	RETURNS double precision
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'customer_value';
COMMENT ON FUNCTION segment.customer_value(segment.bgnbd_model, segment.gamma_gamma_model, double precision, integer,
	double precision, double precision, double precision, double precision) IS
	'the expected revenue over the next horizon of a customer with x repeat transactions of mean value mean_value, the last at t_x, and age t, each time unit''s purchases discounted by (1 + discount_rate)^k';
