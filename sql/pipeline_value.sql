-- The customer-value columns of the pipeline: the models a refit stores are
-- the fits of plain SQL's purchase days, every customer's columns the
-- functions at those models, the profiles' sums and means of them; an
-- assign-only refresh scores with the stored models, a refit refits; the
-- horizon is the segmentation's; NULLs and models that cannot be fitted
SET extra_float_digits = 0;
CREATE TABLE value_lines AS SELECT * FROM invoices WHERE customer_id < 14500;
-- a customer who only returned, and one whose returns exceed its purchases
INSERT INTO value_lines VALUES ('C900001', 'X', 'return', -2, '2011-06-01 10:00', 5.0, 99001, 'France'),
	('900002', 'X', 'bought', 1, '2011-06-01 10:00', 5.0, 99002, 'France'),
	('C900003', 'X', 'returned more', -3, '2011-07-01 10:00', 5.0, 99002, 'France');
SELECT segment.create_segmentation('valued', 'value_lines', k => 3);

-- the models' inputs by plain SQL: purchase days (quantity > 0) by
-- calendar day, to the day of as_of (the latest line)
CREATE TABLE value_plain AS
SELECT l.customer_id, (count(DISTINCT l.invoice_date::date) FILTER (WHERE l.quantity > 0) - 1)::integer AS x,
	(max(l.invoice_date::date) FILTER (WHERE l.quantity > 0) - min(l.invoice_date::date) FILTER (WHERE l.quantity > 0))::float8 AS t_x,
	((SELECT max(invoice_date) FROM value_lines)::date - min(l.invoice_date::date) FILTER (WHERE l.quantity > 0))::float8 AS t,
	count(DISTINCT l.invoice_date::date) FILTER (WHERE l.quantity > 0) AS days,
	sum(l.quantity * l.unit_price)::float8 AS net
FROM value_lines l GROUP BY l.customer_id;
-- the stored models are the fits of those inputs, to the bit
SELECT s.bgnbd::text = (SELECT segment.bgnbd_fit(x, t_x, t) FILTER (WHERE t > 0) FROM value_plain WHERE days > 0)::text AS bgnbd_is_plain_sqls_fit,
	s.gamma_gamma::text = (SELECT segment.gamma_gamma_fit(days::integer, net / days) FILTER (WHERE net > 0) FROM value_plain WHERE days > 0)::text
		AS gamma_gamma_is_plain_sqls_fit,
	(s.bgnbd).customers AS bgnbd_customers, (s.gamma_gamma).customers AS gamma_gamma_customers
FROM segment.segmentations s WHERE s.name = 'valued';
-- every customer's columns: the inputs equal plain SQL's, the predictions
-- the functions at the stored models over 365.25 days (within 1e-12)
SELECT count(*) AS customers,
	count(*) FILTER (WHERE (f.repeat_purchase_days, f.repeat_span_days, f.age_days) IS DISTINCT FROM
		(CASE WHEN p.days > 0 THEN p.x END, p.t_x, p.t)) AS inputs_differ,
	count(*) FILTER (WHERE abs(f.spend_per_day - p.net / p.days) > 1e-9 * abs(p.net)) AS spend_differs,
	count(*) FILTER (WHERE abs(f.probability_alive - segment.bgnbd_probability_alive(s.bgnbd, p.x, p.t_x, p.t)) > 1e-12) AS alive_differs,
	count(*) FILTER (WHERE abs(f.expected_purchases / segment.bgnbd_expected_purchases(s.bgnbd, 365.25, p.x, p.t_x, p.t) - 1) > 1e-12)
		AS purchases_differ,
	count(*) FILTER (WHERE p.net > 0 AND abs(f.expected_value / (segment.bgnbd_expected_purchases(s.bgnbd, 365.25, p.x, p.t_x, p.t)
		* segment.gamma_gamma_expected_value(s.gamma_gamma, p.days::integer, p.net / p.days)) - 1) > 1e-12) AS value_differs,
	count(*) FILTER (WHERE (p.net > 0) <> (f.expected_value IS NOT NULL)) AS valued_differs
FROM valued.features f JOIN value_plain p USING (customer_id), segment.segmentations s
WHERE s.name = 'valued' AND p.days > 0;
-- NULL policy: no purchase, no values; net returns, no expected value
SELECT customer_id, invoices, repeat_purchase_days, probability_alive IS NOT NULL AS alive_known,
	expected_purchases IS NOT NULL AS purchases_known, expected_value IS NOT NULL AS value_known
FROM valued.features WHERE customer_id IN (99001, 99002) ORDER BY customer_id;
-- the profiles: each segment's mean probability alive and summed expected
-- value, as plain SQL gives them from the two tables
SELECT count(*) AS segments,
	count(*) FILTER (WHERE abs(p.probability_alive_mean - q.alive) > 1e-12 OR abs(p.expected_revenue / q.revenue - 1) > 1e-12) AS differ
FROM valued.profiles p JOIN (SELECT a.cluster, avg(f.probability_alive) AS alive, sum(f.expected_value) AS revenue
	FROM valued.assignments a JOIN valued.features f USING (customer_id) WHERE a.cluster IS NOT NULL GROUP BY a.cluster) AS q USING (cluster);
SELECT value_horizon FROM valued.model;
-- the report shows them in "What to do"
SELECT segment.report('valued') LIKE '%<th>expected revenue</th><th>alive</th>%' AS report_shows_them;

-- an assign-only refresh scores the customers, a new one too, with the
-- stored models; a refit refits them
CREATE TABLE value_models AS SELECT bgnbd, gamma_gamma FROM segment.segmentations WHERE name = 'valued';
INSERT INTO value_lines VALUES ('900010', 'X', 'new customer', 1, '2011-12-09 13:00', 50.0, 99010, 'France'),
	('900011', 'X', 'again', 1, '2011-12-09 13:00', 20.0, 12347, 'Iceland');
SELECT segment.refresh_segmentation('valued', refit => false);
SELECT s.bgnbd::text = m.bgnbd::text AND s.gamma_gamma::text = m.gamma_gamma::text AS models_kept
FROM segment.segmentations s, value_models m WHERE s.name = 'valued';
SELECT f.customer_id, f.repeat_purchase_days, f.age_days, f.probability_alive,
	f.expected_purchases = segment.bgnbd_expected_purchases(m.bgnbd, 365.25, f.repeat_purchase_days, f.repeat_span_days, f.age_days)
		AS by_the_stored_model
FROM valued.features f, value_models m WHERE f.customer_id IN (99010, 12347) ORDER BY f.customer_id;
-- (the new customer's first purchase is on the day of as_of: t = 0, left
-- out of the fit, scored all the same)
SELECT segment.refresh_segmentation('valued');
SELECT s.bgnbd::text <> m.bgnbd::text AS bgnbd_refitted, (s.bgnbd).customers - (m.bgnbd).customers AS more_customers
FROM segment.segmentations s, value_models m WHERE s.name = 'valued';

-- another horizon: six months are 180 days; the next refresh predicts over it
SELECT segment.alter_segmentation('valued', value_horizon => '6 months');
SELECT segment.refresh_segmentation('valued', refit => false);
SELECT m.value_horizon, count(*) FILTER (WHERE abs(f.expected_purchases
		/ segment.bgnbd_expected_purchases(s.bgnbd, 180, f.repeat_purchase_days, f.repeat_span_days, f.age_days) - 1) > 1e-12) AS differ
FROM valued.features f, valued.model m, segment.segmentations s WHERE s.name = 'valued' AND f.invoices > 0 GROUP BY m.value_horizon;
SELECT error_of($$ SELECT segment.alter_segmentation('valued', value_horizon => '0 days') $$);
SELECT error_of($$ SELECT segment.alter_segmentation('valued', value_horizon => '-1 month') $$);
SELECT error_of($$ SELECT segment.create_segmentation('unvalued', 'value_lines', value_horizon => '101 years') $$);
SELECT error_of($$ SELECT segment.create_segmentation('unvalued', 'value_lines', value_horizon => NULL) $$);
SELECT value_horizon FROM segment.segmentations WHERE name = 'valued';

-- a shop whose customers each bought once, the same amount: nobody buys
-- again (the BG/NBD fit ends at its limit of no repeat purchase), and
-- spends cannot be told apart (no Gamma-Gamma model: a notice, NULL
-- expected values); the segments all the same
CREATE TABLE value_tiny AS
SELECT 'T' || c AS invoice_no, 'X' AS stock_code, 'one' AS description, 1 AS quantity,
	timestamp '2011-06-01 10:00' + c * interval '3 days' AS invoice_date, 10.0 AS unit_price, c AS customer_id, 'France' AS country
FROM generate_series(1, 12) AS c;
SELECT segment.create_segmentation('tiny_value', 'value_tiny', k => 2);
SELECT bgnbd IS NULL AS no_bgnbd, gamma_gamma IS NULL AS no_gamma_gamma FROM segment.segmentations WHERE name = 'tiny_value';
SELECT count(*) AS customers, count(probability_alive) AS alive, max(expected_purchases) < 1e-6 AS no_purchase_expected,
	count(expected_value) AS valued, (SELECT count(*) FROM tiny_value.assignments WHERE cluster IS NOT NULL) AS clustered
FROM tiny_value.features;
SELECT segment.drop_segmentation('tiny_value');
SELECT segment.drop_segmentation('valued');
DROP TABLE value_lines, value_plain, value_models, value_tiny;
