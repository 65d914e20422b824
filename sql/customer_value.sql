-- Customer value: the Gamma-Gamma model (segment.gamma_gamma_fit and
-- gamma_gamma_expected_value) against the published figures on the CDNOW
-- sample (Fader, Hardie and Lee 2005, "RFM and CLV"), and
-- segment.customer_value against lifetimes' discounting, both against scipy
-- (test/reference/gamma_gamma_reference.py)
-- the calibration period of sql/bgnbd.sql (x, t_x, t in weeks to
-- 1997-09-30); a transaction's value is its day's dollars, and a customer's
-- mean value the mean over its repeat transactions (the first day excluded;
-- 0 without one)
ALTER TABLE cdnow_calibration ADD COLUMN mean_value double precision;
UPDATE cdnow_calibration c SET mean_value = coalesce(d.mean_value, 0)
FROM (SELECT customer_id, avg(amount) FILTER (WHERE day > 1) AS mean_value
	  FROM (SELECT customer_id, sum(dollars)::double precision AS amount,
				row_number() OVER (PARTITION BY customer_id ORDER BY purchased_on) AS day
			FROM cdnow WHERE purchased_on <= '1997-09-30' GROUP BY customer_id, purchased_on) AS days
	  GROUP BY customer_id) AS d
WHERE d.customer_id = c.customer_id;

-- the published estimates to their printed precision, on the paper's 946
-- customers with a repeat transaction
CREATE TABLE cdnow_models AS
SELECT (SELECT segment.bgnbd_fit(x, t_x, t) FROM cdnow_calibration) AS bgnbd,
	(SELECT segment.gamma_gamma_fit(x, mean_value) FILTER (WHERE x > 0) FROM cdnow_calibration) AS gamma_gamma;
SELECT round((gamma_gamma).p::numeric, 2) AS p, round((gamma_gamma).q::numeric, 2) AS q,
	round((gamma_gamma).gamma::numeric, 2) AS gamma, (gamma_gamma).customers FROM cdnow_models;
-- the same bits in any order of the rows
SELECT (SELECT gamma_gamma FROM cdnow_models)::text
		= (SELECT segment.gamma_gamma_fit(x, mean_value ORDER BY md5(customer_id::text)) FROM cdnow_calibration WHERE x > 0)::text
	AND (SELECT gamma_gamma FROM cdnow_models)::text
		= (SELECT segment.gamma_gamma_fit(x, mean_value ORDER BY customer_id DESC) FROM cdnow_calibration WHERE x > 0)::text
	AS same_bits_in_any_order;
-- the expected spend is a weighted mean of the population's and the
-- customer's own: between them, and the population's without a repeat
SELECT bool_and(segment.gamma_gamma_expected_value(gamma_gamma, x, mean_value)
		BETWEEN least(mean_value, population) AND greatest(mean_value, population)) AS between_own_and_population,
	bool_and(segment.gamma_gamma_expected_value(gamma_gamma, 0, 123) = population) AS population_without_repeat
FROM cdnow_models, cdnow_calibration,
	LATERAL (SELECT (gamma_gamma).gamma * (gamma_gamma).p / ((gamma_gamma).q - 1)) AS m (population)
WHERE x > 0;

-- against scipy: its own fit (Nelder-Mead on the log-parameters) within
-- 1e-4 relative and 1e-6 of log-likelihood; at segment's parameters, the
-- log-likelihood, every customer's expected spend (lifetimes'
-- conditional_expected_average_profit) and its value over 39 weeks
-- discounted at 1% a week (lifetimes' customer_lifetime_value, by period)
-- within 1e-12 relative
\copy (SELECT customer_id, x, t_x, t, mean_value FROM cdnow_calibration ORDER BY customer_id) TO 'results/cdnow_customers.csv' WITH (FORMAT csv)
\copy (SELECT (bgnbd).r, (bgnbd).alpha, (bgnbd).a, (bgnbd).b, (gamma_gamma).p, (gamma_gamma).q, (gamma_gamma).gamma FROM cdnow_models) TO 'results/cdnow_models.csv' WITH (FORMAT csv)
CREATE TABLE scipy (kind text, key text, value double precision);
\copy scipy FROM PROGRAM '/usr/bin/python3 test/reference/gamma_gamma_reference.py results/cdnow_customers.csv results/cdnow_models.csv 39 0.01' WITH (FORMAT csv)
SELECT bool_and(abs(s.value / p.value - 1) < 1e-4) AS fit_within_1e_4,
	(SELECT abs(s2.value - (gamma_gamma).log_likelihood) < 1e-6 FROM scipy s2 WHERE s2.kind = 'fit' AND s2.key = 'log_likelihood') AS fit_log_likelihood,
	(SELECT abs(s2.value / (gamma_gamma).log_likelihood - 1) < 1e-12 FROM scipy s2 WHERE s2.kind = 'at') AS log_likelihood_at_segments_fit
FROM cdnow_models, scipy s
JOIN (SELECT 'p' AS key, (gamma_gamma).p AS value FROM cdnow_models UNION ALL SELECT 'q', (gamma_gamma).q FROM cdnow_models
	  UNION ALL SELECT 'gamma', (gamma_gamma).gamma FROM cdnow_models) AS p USING (key)
WHERE s.kind = 'fit'
GROUP BY gamma_gamma;
SELECT count(*) AS customers,
	count(*) FILTER (WHERE abs(segment.gamma_gamma_expected_value(gamma_gamma, c.x, c.mean_value) / s.value - 1) >= 1e-12) AS spend_off,
	count(*) FILTER (WHERE abs(segment.customer_value(bgnbd, gamma_gamma, 39, c.x, c.t_x, c.t, c.mean_value, 0.01) / v.value - 1) >= 1e-12) AS value_off
FROM cdnow_models, cdnow_calibration c
JOIN scipy s ON s.kind = 'spend' AND s.key = c.customer_id::text
JOIN scipy v ON v.kind = 'value' AND v.key = c.customer_id::text;
-- without discounting, the value is the expected purchases times the
-- expected spend; discounting lowers it; a fractional horizon's last period
-- is a part of one
SELECT bool_and(abs(segment.customer_value(bgnbd, gamma_gamma, 39, x, t_x, t, mean_value)
		/ (segment.bgnbd_expected_purchases(bgnbd, 39, x, t_x, t) * segment.gamma_gamma_expected_value(gamma_gamma, x, mean_value)) - 1) < 1e-15)
		AS undiscounted_is_the_product,
	bool_and(segment.customer_value(bgnbd, gamma_gamma, 39, x, t_x, t, mean_value, 0.01)
		< segment.customer_value(bgnbd, gamma_gamma, 39, x, t_x, t, mean_value)) AS discounting_lowers_it,
	bool_and(segment.customer_value(bgnbd, gamma_gamma, 38.5, x, t_x, t, mean_value, 0.01)
		BETWEEN segment.customer_value(bgnbd, gamma_gamma, 38, x, t_x, t, mean_value, 0.01)
		AND segment.customer_value(bgnbd, gamma_gamma, 39, x, t_x, t, mean_value, 0.01)) AS part_period_between
FROM cdnow_models, cdnow_calibration;

-- the inputs: NULLs skipped, no customer gives NULL, bad values refused
SELECT segment.gamma_gamma_fit(x, mean_value) IS NULL AS no_customer_null FROM cdnow_calibration WHERE false;
SELECT (segment.gamma_gamma_fit(x, mean_value)).customers
FROM (SELECT x, mean_value FROM cdnow_calibration WHERE x > 0 UNION ALL SELECT NULL, 1 UNION ALL SELECT 1, NULL) AS c;
SELECT error_of($$ SELECT segment.gamma_gamma_fit(x, mean_value) FROM (VALUES (0, 10.0)) AS v (x, mean_value) $$);
SELECT error_of($$ SELECT segment.gamma_gamma_fit(x, mean_value) FROM (VALUES (-2, 10.0)) AS v (x, mean_value) $$);
SELECT error_of($$ SELECT segment.gamma_gamma_fit(x, mean_value) FROM (VALUES (2, 0.0)) AS v (x, mean_value) $$);
SELECT error_of($$ SELECT segment.gamma_gamma_fit(x, mean_value) FROM (VALUES (2, 'NaN'::float8)) AS v (x, mean_value) $$);
-- one customer, or customers whose means are all the same: no maximum
SELECT error_of($$ SELECT segment.gamma_gamma_fit(x, mean_value) FROM (VALUES (2, 10.0), (3, 10.0)) AS v (x, mean_value) $$);
SELECT error_of($$ SELECT segment.gamma_gamma_expected_value(gamma_gamma, -1, 10) FROM cdnow_models $$);
SELECT error_of($$ SELECT segment.gamma_gamma_expected_value(gamma_gamma, 2, -5) FROM cdnow_models $$);
SELECT error_of($$ SELECT segment.gamma_gamma_expected_value(ROW(1, 0.5, 10, NULL, NULL)::segment.gamma_gamma_model, 0, 0) $$);
SELECT error_of($$ SELECT segment.gamma_gamma_expected_value(ROW(1, -1, 10, NULL, NULL)::segment.gamma_gamma_model, 1, 1) $$);
SELECT error_of($$ SELECT segment.customer_value(bgnbd, gamma_gamma, 39, 1, 2, 3, 10, -0.1) FROM cdnow_models $$);
SELECT error_of($$ SELECT segment.customer_value(bgnbd, gamma_gamma, 39, 1, 4, 3, 10, 0.1) FROM cdnow_models $$);
SELECT error_of($$ SELECT segment.customer_value(bgnbd, gamma_gamma, 'infinity', 1, 2, 3, 10) FROM cdnow_models $$);
SELECT error_of($$ SELECT segment.customer_value(bgnbd, gamma_gamma, 1e7, 1, 2, 3, 10, 0.001) FROM cdnow_models $$);
-- the customers are kept within maintenance_work_mem (54000 beyond it)
SET maintenance_work_mem = '1MB';
SELECT error_of($$ SELECT segment.gamma_gamma_fit(x, mean_value) FROM cdnow_calibration, generate_series(1, 100) WHERE x > 0 $$);
RESET maintenance_work_mem;
-- a model with a NULL parameter gives NULL
SELECT segment.customer_value(bgnbd, ROW(NULL, 1, 1, NULL, NULL)::segment.gamma_gamma_model, 39, 0, 0, 1, 0) IS NULL AS null_model
FROM cdnow_models;
DROP TABLE cdnow, cdnow_calibration, cdnow_models, scipy;
