-- segment.customer_features on hand-made cases, one customer per case; the
-- expected values were worked out by hand (see the comments).
SET extra_float_digits = 0;
SET TimeZone = 'UTC';
CREATE TABLE case_lines (customer integer, invoice text, invoiced_at timestamp, quantity float8, price float8);
INSERT INTO case_lines VALUES
	-- 1: one invoice of three lines: items 6, amount 2.5 + 7.5 + 0.1 = 10.1
	(1, '1001', '2011-03-04 10:15', 2, 1.25),
	(1, '1001', '2011-03-04 10:15', 3, 2.5),
	(1, '1001', '2011-03-04 10:15', 1, 0.1),
	-- 2: returns only: 2 returns, total -(5 + 2.5 + 2) = -9.5, no purchase dates
	(2, 'C2001', '2011-05-01 09:00', -1, 5),
	(2, 'C2001', '2011-05-01 09:00', -2, 1.25),
	(2, 'C2002', '2011-06-01 12:00', -4, 0.5),
	-- 3: zero-quantity lines count as lines, not as purchases or returns
	(3, '3001', '2011-07-01 08:00', 0, 9.99),
	(3, '3002', '2011-07-02 08:00', 0, 1),
	(3, '3003', '2011-07-03 17:30', 2, 0.5),
	-- 4: four invoices over 3 hours, 2 days, 2 months, 2 years, a return and
	--    out-of-order lines; purchase 10 + 10.5 + 6 + 2 = 28.5, returned 4,
	--    tenure 2011-12-30 10:05 .. 2012-01-02 09:30 = 4285/1440 days
	(4, '4003', '2012-01-02 09:30', 1, 10),
	(4, '4001', '2011-12-30 10:05', 2, 3),
	(4, '4001', '2011-12-30 10:05', 1, 4),
	(4, '4002', '2011-12-30 10:55', 5, 1),
	(4, '4002', '2011-12-30 10:55', 1, 1),
	(4, '4004', '2011-12-30 11:10', 1, 2),
	(4, 'C4005', '2011-12-31 12:00', -1, 4),
	(4, '4001', '2011-12-30 10:05', 1, 0.5),
	-- 5: ten unusable lines (NULL, NaN, infinite) and one good one
	(5, NULL, '2011-01-01 10:00', 1, 1),
	(5, '5001', NULL, 1, 1),
	(5, '5001', 'infinity', 1, 1),
	(5, '5001', '-infinity', 1, 1),
	(5, '5001', '2011-01-01 10:00', NULL, 1),
	(5, '5001', '2011-01-01 10:00', 'NaN', 1),
	(5, '5001', '2011-01-01 10:00', 'Infinity', 1),
	(5, '5001', '2011-01-01 10:00', 1, NULL),
	(5, '5001', '2011-01-01 10:00', 1, 'NaN'),
	(5, '5001', '2011-01-01 10:00', 1, '-Infinity'),
	(5, '5002', '2011-01-01 10:00', 3, 2),
	-- 6: only unusable lines: like a customer without lines, 2 ignored
	(6, NULL, NULL, NULL, NULL),
	(6, '6001', '2011-01-01 10:00', 'NaN', 'NaN'),
	-- 7: a purchase line with a negative price (a bad-debt adjustment) is a purchase
	(7, 'A7001', '2011-08-12 14:50', 1, -11062.06);

SELECT customer, (segment.customer_features(invoice, invoiced_at, quantity, price)).*
FROM case_lines
GROUP BY customer
ORDER BY customer
\gx

-- An empty group gives the row of a customer without lines
SELECT (segment.customer_features(invoice, invoiced_at, quantity, price)).*
FROM case_lines
WHERE false
\gx

-- The bigint overload agrees with the text one where invoices are numbers
SELECT customer,
	segment.customer_features(invoice::bigint, invoiced_at, quantity, price)
		IS NOT DISTINCT FROM segment.customer_features(invoice, invoiced_at, quantity, price) AS same
FROM case_lines
WHERE customer IN (1, 3)
GROUP BY customer
ORDER BY customer;

-- The row order does not matter, also when the distinct-value sets fill up and
-- are compacted: 20,000 lines of one customer, 2,000 invoices and 2,000
-- returns whose lines come back in 2 or 3 separate runs, fed in time order,
-- in reverse and in a scrambled order, against count(DISTINCT ...) in plain SQL
CREATE TABLE many_lines AS
SELECT CASE WHEN i % 4 = 3 THEN 'C' ELSE '' END || (i / 4 % 2000)::text AS invoice,
	timestamp '2010-01-01' + (i / 4 % 2000) * interval '7 hours 13 minutes' AS invoiced_at,
	CASE WHEN i % 4 = 3 THEN -1 ELSE 1 + i % 3 END::float8 AS quantity,
	(i % 7 + 1) * 0.25::float8 AS price
FROM generate_series(0, 19999) AS i;
SELECT segment.customer_features(invoice, invoiced_at, quantity, price ORDER BY invoiced_at, invoice)
		= segment.customer_features(invoice, invoiced_at, quantity, price ORDER BY invoiced_at DESC, invoice DESC) AS reversed_same,
	segment.customer_features(invoice, invoiced_at, quantity, price ORDER BY invoiced_at, invoice)
		= segment.customer_features(invoice, invoiced_at, quantity, price ORDER BY md5(invoice || quantity || price)) AS scrambled_same
FROM many_lines;
SELECT f.invoices = r.invoices AS invoices, f.returns = r.returns AS returns,
	f.active_hours = r.hours AS hours, f.active_days = r.days AS days,
	f.active_months = r.months AS months, f.active_years = r.years AS years,
	f.invoices, f.returns, f.active_hours, f.active_days, f.active_months, f.active_years
FROM (SELECT (segment.customer_features(invoice, invoiced_at, quantity, price ORDER BY md5(invoice || price))).* FROM many_lines) AS f,
	(SELECT count(DISTINCT invoice) FILTER (WHERE quantity > 0) AS invoices,
		count(DISTINCT invoice) FILTER (WHERE quantity < 0) AS returns,
		count(DISTINCT date_trunc('hour', invoiced_at)) FILTER (WHERE quantity > 0) AS hours,
		count(DISTINCT date_trunc('day', invoiced_at)) FILTER (WHERE quantity > 0) AS days,
		count(DISTINCT date_trunc('month', invoiced_at)) FILTER (WHERE quantity > 0) AS months,
		count(DISTINCT date_trunc('year', invoiced_at)) FILTER (WHERE quantity > 0) AS years
	 FROM many_lines) AS r;

-- timestamptz: calendar units in the session time zone, compared with
-- date_trunc in plain SQL.  T3 and T4 are 01:30 EDT and 01:30 EST in New York
-- (the 2011 fall-back): date_trunc('hour') keeps the offset, so two hours.
CREATE TABLE tz_lines (invoice text, invoiced_at timestamptz, quantity float8, price float8);
INSERT INTO tz_lines VALUES
	('T1', '2011-12-31 23:30+00', 1, 1),
	('T2', '2012-01-01 00:30+00', 1, 1),
	('T3', '2011-11-06 05:30+00', 1, 1),
	('T4', '2011-11-06 06:30+00', 1, 1),
	('T5', '2011-03-15 12:10+00', 1, 1);
CREATE FUNCTION pg_temp.tz_case(zone_name text)
RETURNS TABLE (zone text, first_purchase timestamp, last_purchase timestamp, tenure_days float8,
	active_hours integer, active_days integer, active_months integer, active_years integer, same_as_date_trunc boolean)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('TimeZone', zone_name, true);
	RETURN QUERY
	SELECT zone_name, (f).first_purchase, (f).last_purchase, round((f).tenure_days::numeric, 9)::float8,
		(f).active_hours, (f).active_days, (f).active_months, (f).active_years,
		(f).active_hours = h AND (f).active_days = d AND (f).active_months = m AND (f).active_years = y
			AND (f).first_purchase = first_local AND (f).last_purchase = last_local
	FROM (SELECT segment.customer_features(invoice, invoiced_at, quantity, price) AS f,
			count(DISTINCT date_trunc('hour', invoiced_at)) AS h,
			count(DISTINCT date_trunc('day', invoiced_at)) AS d,
			count(DISTINCT date_trunc('month', invoiced_at)) AS m,
			count(DISTINCT date_trunc('year', invoiced_at)) AS y,
			min(invoiced_at)::timestamp AS first_local,
			max(invoiced_at)::timestamp AS last_local
		  FROM tz_lines) AS s;
END
$$;
BEGIN;
SELECT * FROM pg_temp.tz_case('UTC');
SELECT * FROM pg_temp.tz_case('America/New_York');
SELECT * FROM pg_temp.tz_case('Asia/Kolkata');
COMMIT;
