-- Customer value: the BG/NBD model (segment.bgnbd_fit and its functions)
-- against the published figures on the CDNOW sample (Fader, Hardie and Lee
-- 2005) and against scipy (test/reference/bgnbd_reference.py)
CREATE TABLE cdnow (customer_id integer, master_id integer, purchased_on date, cds integer, dollars numeric);
\copy cdnow FROM PROGRAM 'gzip -dc data/cdnow_sample.csv.gz' WITH (FORMAT csv, HEADER)
-- the calibration period's repeat transactions x (purchase days after the
-- first), the time of the last t_x and the age t at 1997-09-30, in weeks,
-- computed by segment's features aggregate (a day's purchases are one
-- invoice)
CREATE TABLE cdnow_calibration AS
SELECT customer_id, (f).invoices - 1 AS x,
	extract(epoch FROM (f).last_purchase - (f).first_purchase) / 86400 / 7 AS t_x,
	extract(epoch FROM timestamp '1997-09-30' - (f).first_purchase) / 86400 / 7 AS t
FROM (SELECT customer_id, segment.customer_features(purchased_on::text, purchased_on::timestamp, cds, dollars / cds) AS f
	  FROM cdnow WHERE purchased_on <= '1997-09-30' GROUP BY customer_id) AS c;
-- the paper's sample: 2,357 customers, 2,457 repeat transactions; the same
-- as plain SQL's distinct days
SELECT count(*) AS customers, sum(x) AS repeat_transactions,
	count(*) FILTER (WHERE (x, t_x, t) IS DISTINCT FROM (p.days - 1, p.span / 7.0, p.age / 7.0)) AS differ_from_plain_sql
FROM cdnow_calibration c JOIN (SELECT customer_id, count(DISTINCT purchased_on) AS days, max(purchased_on) - min(purchased_on) AS span,
		date '1997-09-30' - min(purchased_on) AS age
	FROM cdnow WHERE purchased_on <= '1997-09-30' GROUP BY customer_id) AS p USING (customer_id);

-- the published estimates to their printed precision (table 1 of the paper),
-- and the probability of no repeat purchase in 39 weeks (R package BTYD)
CREATE TABLE cdnow_model AS SELECT segment.bgnbd_fit(x, t_x, t) AS m FROM cdnow_calibration;
SELECT round((m).r::numeric, 3) AS r, round((m).alpha::numeric, 3) AS alpha, round((m).a::numeric, 3) AS a,
	round((m).b::numeric, 3) AS b, round((m).log_likelihood::numeric, 1) AS log_likelihood, (m).customers,
	round(segment.bgnbd_probability_of_purchases(ROW(0.243, 4.414, 0.793, 2.426, NULL, NULL)::segment.bgnbd_model, 39, 0)::numeric, 7)
		AS no_repeat_in_39_weeks_at_the_published_estimates
FROM cdnow_model;
-- the same bits in any order of the rows
SELECT (SELECT m FROM cdnow_model)::text = (SELECT segment.bgnbd_fit(x, t_x, t ORDER BY md5(customer_id::text)) FROM cdnow_calibration)::text
	AND (SELECT m FROM cdnow_model)::text = (SELECT segment.bgnbd_fit(x, t_x, t ORDER BY customer_id DESC) FROM cdnow_calibration)::text
	AS same_bits_in_any_order;

-- against scipy: its own maximum-likelihood fit (Nelder-Mead on the
-- log-parameters) within 1e-4 relative and 1e-6 of log-likelihood; at
-- segment's parameters, the log-likelihood, every customer's probability
-- alive and a new customer's probability of 0..10 purchases in 39 weeks
-- within 1e-12 relative
\copy (SELECT customer_id, x, t_x, t FROM cdnow_calibration ORDER BY customer_id) TO 'results/cdnow_calibration.csv' WITH (FORMAT csv)
\copy (SELECT (m).r, (m).alpha, (m).a, (m).b FROM cdnow_model) TO 'results/cdnow_parameters.csv' WITH (FORMAT csv)
CREATE TABLE scipy (kind text, key text, value double precision);
\copy scipy FROM PROGRAM '/usr/bin/python3 test/reference/bgnbd_reference.py results/cdnow_calibration.csv results/cdnow_parameters.csv 39' WITH (FORMAT csv)
SELECT bool_and(abs(s.value / p.value - 1) < 1e-4) AS fit_within_1e_4,
	(SELECT abs(s2.value - (m).log_likelihood) < 1e-6 FROM scipy s2 WHERE s2.kind = 'fit' AND s2.key = 'log_likelihood') AS fit_log_likelihood,
	(SELECT abs(s2.value / (m).log_likelihood - 1) < 1e-12 FROM scipy s2 WHERE s2.kind = 'at') AS log_likelihood_at_segments_fit
FROM cdnow_model, scipy s
JOIN (SELECT 'r' AS key, (m).r AS value FROM cdnow_model UNION ALL SELECT 'alpha', (m).alpha FROM cdnow_model
	  UNION ALL SELECT 'a', (m).a FROM cdnow_model UNION ALL SELECT 'b', (m).b FROM cdnow_model) AS p USING (key)
WHERE s.kind = 'fit'
GROUP BY m;
SELECT count(*) AS customers, count(*) FILTER (WHERE abs(segment.bgnbd_probability_alive(m, c.x, c.t_x, c.t) / s.value - 1) >= 1e-12) AS alive_off
FROM cdnow_model, cdnow_calibration c JOIN scipy s ON s.kind = 'alive' AND s.key = c.customer_id::text;
SELECT count(*) AS n_values, count(*) FILTER (WHERE abs(segment.bgnbd_probability_of_purchases(m, 39, s.key::integer) / s.value - 1) >= 1e-12) AS off
FROM cdnow_model, scipy s WHERE s.kind = 'purchases';
-- every customer's expected purchases in the next 39 weeks within 1e-12
-- relative of scipy's hyp2f1 in the paper's form (equation 10)
SELECT count(*) AS customers, count(*) FILTER (WHERE abs(segment.bgnbd_expected_purchases(m, 39, c.x, c.t_x, c.t) / s.value - 1) >= 1e-12) AS expected_off
FROM cdnow_model, cdnow_calibration c JOIN scipy s ON s.kind = 'expected' AND s.key = c.customer_id::text;
-- over long horizons (the series' z near 1) and for a frequent customer,
-- within 1e-10 relative of mpmath at 40 digits; near the no-drop-out limit
-- (a near 0, b near 10^6, where the paper's form loses six digits) and the
-- limit of one drop-out probability for all (a, b near 10^6, 10^7) within
-- 1e-14
\copy (SELECT (m).r, (m).alpha, (m).a, (m).b FROM cdnow_model) TO 'results/cdnow_parameters.csv' WITH (FORMAT csv)
CREATE TABLE mpmath (r double precision, alpha double precision, a double precision, b double precision,
	horizon double precision, x integer, t_x double precision, t double precision, expected double precision);
\copy mpmath FROM PROGRAM '/usr/bin/python3 test/reference/bgnbd_long_horizons.py results/cdnow_parameters.csv' WITH (FORMAT csv)
SELECT b < 100 AS cdnow, a > 1 AS large_a, horizon, x, abs(segment.bgnbd_expected_purchases(ROW(r, alpha, a, b, NULL, NULL)::segment.bgnbd_model,
		horizon, x, t_x, t) / expected - 1) < CASE WHEN b < 100 THEN 1e-10 ELSE 1e-14 END AS within_tolerance
FROM mpmath ORDER BY b < 100, a > 1, horizon, x;
-- a new customer's expected purchases are the mean of its distribution of
-- purchases (equation 8), and none are expected in no time
SELECT abs(segment.bgnbd_expected_purchases(m, 39, 0, 0, 0) / sum(n * segment.bgnbd_probability_of_purchases(m, 39, n)) - 1) < 1e-12
		AS mean_of_the_distribution,
	segment.bgnbd_expected_purchases(m, 0, 3, 10, 20) AS none_in_no_time
FROM cdnow_model, generate_series(0, 300) AS n GROUP BY m;
-- at a = 1 exactly, where the paper's form is 0/0, the limit: between its
-- neighbours
SELECT segment.bgnbd_expected_purchases(ROW(0.24, 4.4, 1 - 1e-7, 2.4, NULL, NULL)::segment.bgnbd_model, 39, 3, 20, 38)
		> segment.bgnbd_expected_purchases(ROW(0.24, 4.4, 1, 2.4, NULL, NULL)::segment.bgnbd_model, 39, 3, 20, 38)
	AND segment.bgnbd_expected_purchases(ROW(0.24, 4.4, 1, 2.4, NULL, NULL)::segment.bgnbd_model, 39, 3, 20, 38)
		> segment.bgnbd_expected_purchases(ROW(0.24, 4.4, 1 + 1e-7, 2.4, NULL, NULL)::segment.bgnbd_model, 39, 3, 20, 38)
	AS continuous_at_a_1;
-- the probabilities of 0, 1, 2, ... purchases add up to 1
SELECT abs(sum(segment.bgnbd_probability_of_purchases(m, 39, n)) - 1) < 1e-12 AS adds_up_to_one
FROM cdnow_model, generate_series(0, 300) AS n;

-- the inputs: NULLs skipped, no customer gives NULL, bad values refused
SELECT segment.bgnbd_fit(x, t_x, t) IS NULL AS no_customer_null FROM cdnow_calibration WHERE false;
SELECT (segment.bgnbd_fit(x, t_x, t)).customers FROM (SELECT x, t_x, t FROM cdnow_calibration UNION ALL SELECT NULL, 1, 2) AS c;
SELECT error_of($$ SELECT segment.bgnbd_fit(x, t_x, t) FROM (VALUES (-1, 0.0, 1.0)) AS v (x, t_x, t) $$);
SELECT error_of($$ SELECT segment.bgnbd_fit(x, t_x, t) FROM (VALUES (2, 3.0, 1.0)) AS v (x, t_x, t) $$);
SELECT error_of($$ SELECT segment.bgnbd_fit(x, t_x, t) FROM (VALUES (0, 1.0, 3.0)) AS v (x, t_x, t) $$);
SELECT error_of($$ SELECT segment.bgnbd_fit(x, t_x, t) FROM (VALUES (1, 1.0, 'infinity'::float8)) AS v (x, t_x, t) $$);
SELECT error_of($$ SELECT segment.bgnbd_probability_alive(m, -1, 0, 1) FROM cdnow_model $$);
SELECT error_of($$ SELECT segment.bgnbd_probability_of_purchases(m, -1, 0) FROM cdnow_model $$);
SELECT error_of($$ SELECT segment.bgnbd_expected_purchases(m, -1, 0, 0, 1) FROM cdnow_model $$);
SELECT error_of($$ SELECT segment.bgnbd_expected_purchases(m, 'infinity', 0, 0, 1) FROM cdnow_model $$);
SELECT error_of($$ SELECT segment.bgnbd_expected_purchases(m, 39, 2, 5, 4) FROM cdnow_model $$);
SELECT error_of($$ SELECT segment.bgnbd_expected_purchases(ROW(1, 1e-300, 0.8, 2, NULL, NULL)::segment.bgnbd_model, 1e300, 0, 0, 0) $$);
SELECT error_of($$ SELECT segment.bgnbd_probability_alive(ROW(0, 1, 1, 1, NULL, NULL)::segment.bgnbd_model, 1, 0, 1) $$);
SELECT error_of($$ SELECT segment.bgnbd_expected_purchases(ROW(1, 'infinity', 1, 1, NULL, NULL)::segment.bgnbd_model, 39, 1, 0, 1) $$);
-- the customers are kept within maintenance_work_mem (54000 beyond it)
SET maintenance_work_mem = '1MB';
SELECT error_of($$ SELECT segment.bgnbd_fit(x, t_x, t) FROM cdnow_calibration, generate_series(1, 20) $$);
RESET maintenance_work_mem;
-- a customer with no repeat purchase is alive for sure; a horizon of 0 has no purchase
SELECT segment.bgnbd_probability_alive(m, 0, 0, 10) AS alive_without_repeat,
	segment.bgnbd_probability_of_purchases(m, 0, 0) AS none_in_no_time FROM cdnow_model;
-- a model with a NULL parameter gives NULL
SELECT segment.bgnbd_expected_purchases(ROW(NULL, 1, 1, 1, NULL, NULL)::segment.bgnbd_model, 39, 0, 0, 1) IS NULL AS null_model;
-- (cdnow and cdnow_calibration stay for sql/customer_value.sql)
DROP TABLE cdnow_model, scipy, mpmath;
