-- tools/value_holdout.sql: the customer-value models out of sample.  Fit
-- the BG/NBD model (segment.bgnbd_fit; Fader, Hardie and Lee 2005,
-- "Counting Your Customers the Easy Way: An Alternative to the Pareto/NBD
-- Model", Marketing Science 24(2)) on a calibration period, predict each
-- customer's purchases in the holdout period that follows
-- (segment.bgnbd_expected_purchases, the paper's equation 10) and compare
-- with what they bought; likewise the Gamma-Gamma model of spend
-- (segment.gamma_gamma_fit; Fader, Hardie and Lee 2005, "RFM and CLV: Using
-- Iso-Value Curves for Customer Base Analysis", Journal of Marketing
-- Research 42(4)).  On the bundled data: the CDNOW sample of the paper, in
-- weeks, and the UCI Online Retail invoices, in days.
--
-- A purchase is a purchase DAY in both: x = distinct purchase days in the
-- calibration period - 1, t_x = last purchase day - first, t = the
-- customer's age at the end of the calibration period, all by date (day
-- granularity, as the lifetimes package's summary_data_from_transaction_data
-- counts them); "actual" is the distinct purchase days in the holdout.
--
-- Run from the top of the source tree (data/ is relative to it), in any
-- database where segment is installed; the data go into temporary tables:
--   psql -X -v ON_ERROR_STOP=1 -d DB -f tools/value_holdout.sql
-- (-v timings=off leaves out the fit times)
\set QUIET on
-- the fits' times are printed unless the variable timings is off
-- (sql/value_holdout.sql runs the script so, to check what it prints)
\if :{?timings}
\else
\set timings on
\endif
\pset footer off
-- the parameters to 6 significant digits
SET extra_float_digits = -9;

-- The data: Online Retail by data/load.sql, created in pg_temp (the first
-- schema on the search_path while it runs), so that it clashes with no
-- table "invoices"; CDNOW as in sql/bgnbd.sql
SET search_path = pg_temp;
\i data/load.sql
RESET search_path;
CREATE TEMP TABLE cdnow (customer_id integer, master_id integer, purchased_on date, cds integer, dollars numeric);
\copy cdnow FROM PROGRAM 'gzip -dc data/cdnow_sample.csv.gz' WITH (FORMAT csv, HEADER)

-- Every customer's prediction and actual holdout purchases, by data set,
-- and the tables printed for each
CREATE TEMP TABLE holdout (data_set text, customer_id integer, x integer, predicted double precision, actual integer);

-- the number of customers, repeat purchases in the calibration period, and
-- the predicted and actual purchases in the holdout
CREATE FUNCTION pg_temp.totals(which text)
RETURNS TABLE (customers bigint, calibration_repeats bigint, predicted numeric, actual bigint, predicted_over_actual numeric)
LANGUAGE sql AS $$
SELECT count(*), sum(x), round(sum(predicted)::numeric, 1), sum(actual), round((sum(predicted) / sum(actual))::numeric, 3)
FROM holdout WHERE data_set = which
$$;
-- by decile of the prediction (ties broken by customer_id)
CREATE FUNCTION pg_temp.deciles(which text)
RETURNS TABLE (decile integer, customers bigint, mean_predicted numeric, mean_actual numeric)
LANGUAGE sql AS $$
SELECT decile, count(*), round(avg(predicted)::numeric, 3), round(avg(actual), 3)
FROM (SELECT predicted, actual, ntile(10) OVER (ORDER BY predicted, customer_id) AS decile
	  FROM holdout WHERE data_set = which) AS d
GROUP BY decile ORDER BY decile
$$;
-- by the calibration period's repeat purchases (the conditional expectations the paper plots)
CREATE FUNCTION pg_temp.by_x(which text)
RETURNS TABLE (x text, customers bigint, mean_predicted numeric, mean_actual numeric)
LANGUAGE sql AS $$
SELECT CASE WHEN least(x, 7) = 7 THEN '7+' ELSE least(x, 7)::text END, count(*), round(avg(predicted)::numeric, 3), round(avg(actual), 3)
FROM holdout WHERE data_set = which
GROUP BY least(x, 7) ORDER BY least(x, 7)
$$;
-- a fitted model, the mean probability of dropping out after a purchase
-- a / (a + b), and the fit time
CREATE FUNCTION pg_temp.parameters(m segment.bgnbd_model, fit_time interval)
RETURNS TABLE (customers bigint, r double precision, alpha double precision, a double precision, b double precision,
	dropout double precision, log_likelihood numeric, fit_ms numeric)
LANGUAGE sql AS $$
SELECT m.customers, m.r, m.alpha, m.a, m.b, m.a / (m.a + m.b),
	round(m.log_likelihood::numeric, 1), round(extract(epoch FROM fit_time) * 1000, 1)
$$;

-- 1. CDNOW, in weeks: the paper's 2,357 customers, all of whom first bought
-- in the first quarter of 1997; calibration 1997-01-01 .. 1997-09-30 (t to
-- 1997-09-30, as the paper's), holdout 1997-10-01 .. 1998-06-30 (39 weeks)
CREATE TEMP TABLE cdnow_customers AS
SELECT customer_id,
	(count(DISTINCT purchased_on) FILTER (WHERE purchased_on <= '1997-09-30') - 1)::integer AS x,
	(max(purchased_on) FILTER (WHERE purchased_on <= '1997-09-30') - min(purchased_on)) / 7.0::double precision AS t_x,
	(date '1997-09-30' - min(purchased_on)) / 7.0::double precision AS t,
	count(DISTINCT purchased_on) FILTER (WHERE purchased_on BETWEEN '1997-10-01' AND '1998-06-30')::integer AS actual
FROM cdnow GROUP BY customer_id;
SELECT clock_timestamp() AS started \gset
CREATE TEMP TABLE cdnow_model AS SELECT segment.bgnbd_fit(x, t_x, t) AS m FROM cdnow_customers;
SELECT clock_timestamp() - :'started' AS fit_time \gset
INSERT INTO holdout
SELECT 'cdnow', customer_id, x, segment.bgnbd_expected_purchases(m, 39, x, t_x, t), actual FROM cdnow_customers, cdnow_model;

\echo
\echo '1. CDNOW sample: BG/NBD fit on 1997-01-01 .. 1997-09-30, in weeks (the paper: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426)'
SELECT p.* FROM cdnow_model, pg_temp.parameters(m, CASE WHEN :'timings'::boolean THEN :'fit_time'::interval END) AS p;
\echo 'holdout 1997-10-01 .. 1998-06-30, 39 weeks: purchase days'
SELECT * FROM pg_temp.totals('cdnow');
\echo 'by decile of the prediction'
SELECT * FROM pg_temp.deciles('cdnow');
\echo 'by repeat purchases in the calibration period'
SELECT * FROM pg_temp.by_x('cdnow');

-- 2. Online Retail, in days: the lines with a customer, quantity > 0 and
-- unit_price > 0.  That drops the cancellations (invoice_no 'C...', whose
-- quantities are all negative; the lines they cancel stay, as bought), the
-- bad-debt adjustments ('A...', without a customer) and the free or
-- zero-priced lines.  A customer's purchases of a day are one purchase, its
-- value their sum of quantity × unit_price.  Calibration: the first nine
-- months, 2010-12-01 .. 2011-08-31 (cut-off 2011-09-01 00:00; t = cut-off -
-- first purchase day, so that the holdout starts at t); holdout: the rest,
-- to the day after the last line's date.  The customers: those with a
-- purchase in the calibration period.
\set cutoff '2011-09-01'
CREATE TEMP TABLE retail_days AS
SELECT customer_id, invoice_date::date AS day, sum(quantity * unit_price)::double precision AS amount,
	min(invoice_date::date) OVER (PARTITION BY customer_id) AS first_day
FROM invoices
WHERE customer_id IS NOT NULL AND quantity > 0 AND unit_price > 0
GROUP BY customer_id, invoice_date::date;
SELECT max(day) + 1 - date :'cutoff' AS horizon, max(day) AS last_day FROM retail_days \gset
-- the calibration's mean spend of the repeat purchase days (the first
-- excluded, as the Gamma-Gamma model wants), and the holdout's mean spend
CREATE TEMP TABLE retail_customers AS
SELECT customer_id,
	(count(*) FILTER (WHERE day < :'cutoff') - 1)::integer AS x,
	(max(day) FILTER (WHERE day < :'cutoff') - first_day)::double precision AS t_x,
	(date :'cutoff' - first_day)::double precision AS t,
	count(*) FILTER (WHERE day >= :'cutoff')::integer AS actual,
	avg(amount) FILTER (WHERE day < :'cutoff' AND day > first_day) AS mean_value,
	avg(amount) FILTER (WHERE day >= :'cutoff') AS holdout_mean_value
FROM retail_days WHERE first_day < :'cutoff'
GROUP BY customer_id, first_day;
SELECT clock_timestamp() AS started \gset
CREATE TEMP TABLE retail_model AS SELECT segment.bgnbd_fit(x, t_x, t) AS m FROM retail_customers;
SELECT clock_timestamp() - :'started' AS fit_time \gset
INSERT INTO holdout
SELECT 'retail', customer_id, x, segment.bgnbd_expected_purchases(m, :horizon, x, t_x, t), actual FROM retail_customers, retail_model;

\echo
\echo '2. Online Retail: BG/NBD fit on 2010-12-01 .. 2011-08-31, in days'
SELECT p.* FROM retail_model, pg_temp.parameters(m, CASE WHEN :'timings'::boolean THEN :'fit_time'::interval END) AS p;
\echo 'holdout' :cutoff '..' :last_day, :horizon 'days: purchase days'
SELECT * FROM pg_temp.totals('retail');
\echo 'by decile of the prediction'
SELECT * FROM pg_temp.deciles('retail');
\echo 'by repeat purchases in the calibration period'
SELECT * FROM pg_temp.by_x('retail');

-- 3. Gamma-Gamma on the same calibration period: the customers with a
-- repeat purchase day, their mean spend of those days.  A simple check:
-- for those who bought in the holdout too, the expected spend of a
-- purchase day against their actual mean spend of a holdout purchase day
-- (and against their own calibration mean, which the model shrinks toward
-- the population's mean)
SELECT clock_timestamp() AS started \gset
CREATE TEMP TABLE retail_spend_model AS
SELECT segment.gamma_gamma_fit(x, mean_value) AS m FROM retail_customers WHERE x > 0;
SELECT clock_timestamp() - :'started' AS fit_time \gset

\echo
\echo '3. Online Retail: Gamma-Gamma fit on the spend of the calibration period''s repeat purchase days'
SELECT (m).customers, (m).p, (m).q, (m).gamma,
	round((m).log_likelihood::numeric, 1) AS log_likelihood, round(extract(epoch FROM CASE WHEN :'timings'::boolean THEN :'fit_time'::interval END) * 1000, 1) AS fit_ms
FROM retail_spend_model;
\echo 'spend of a purchase day, customers with a repeat purchase who bought in the holdout'
SELECT count(*) AS customers,
	round(avg(segment.gamma_gamma_expected_value(m, x, mean_value))::numeric, 2) AS mean_predicted,
	round(avg(holdout_mean_value)::numeric, 2) AS mean_actual,
	round((avg(segment.gamma_gamma_expected_value(m, x, mean_value)) / avg(holdout_mean_value))::numeric, 3) AS predicted_over_actual,
	round(avg(mean_value)::numeric, 2) AS mean_calibration
FROM retail_customers, retail_spend_model
WHERE x > 0 AND actual > 0;
