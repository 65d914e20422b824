-- test/reference/features_plain.sql
--
-- The fields of segment.features (README: "Reference") written by hand in plain
-- SQL over table "invoices": an independent reference for the tests and the
-- hand-written baseline of the benchmark.  Amounts are summed in numeric,
-- exactly; calendar units come from date_trunc.
CREATE VIEW features_plain AS
SELECT customer_id,
	invoices, returns, lines, ignored_lines, items,
	total_amount, purchase_amount, returned_amount,
	purchase_amount / nullif(invoices, 0) AS avg_invoice_amount,
	first_purchase, last_purchase,
	extract(epoch FROM last_purchase - first_purchase)::float8 / 86400 AS tenure_days,
	extract(epoch FROM last_purchase - first_purchase)::float8 / 86400 / nullif(invoices - 1, 0) AS mean_days_between,
	active_hours, active_days, active_months, active_years,
	invoices::float8 / nullif(active_hours, 0) AS invoices_per_hour,
	invoices::float8 / nullif(active_days, 0) AS invoices_per_day,
	invoices::float8 / nullif(active_months, 0) AS invoices_per_month,
	invoices::float8 / nullif(active_years, 0) AS invoices_per_year
FROM (
	SELECT customer_id,
		(count(DISTINCT invoice_no) FILTER (WHERE used AND quantity > 0))::integer AS invoices,
		(count(DISTINCT invoice_no) FILTER (WHERE used AND quantity < 0))::integer AS returns,
		count(*) FILTER (WHERE used) AS lines,
		count(*) FILTER (WHERE NOT used) AS ignored_lines,
		coalesce(sum(quantity) FILTER (WHERE used AND quantity > 0), 0)::float8 AS items,
		coalesce(sum(quantity * unit_price) FILTER (WHERE used), 0)::float8 AS total_amount,
		coalesce(sum(quantity * unit_price) FILTER (WHERE used AND quantity > 0), 0)::float8 AS purchase_amount,
		coalesce(-sum(quantity * unit_price) FILTER (WHERE used AND quantity < 0), 0)::float8 AS returned_amount,
		min(invoice_date) FILTER (WHERE used AND quantity > 0) AS first_purchase,
		max(invoice_date) FILTER (WHERE used AND quantity > 0) AS last_purchase,
		(count(DISTINCT date_trunc('hour', invoice_date)) FILTER (WHERE used AND quantity > 0))::integer AS active_hours,
		(count(DISTINCT date_trunc('day', invoice_date)) FILTER (WHERE used AND quantity > 0))::integer AS active_days,
		(count(DISTINCT date_trunc('month', invoice_date)) FILTER (WHERE used AND quantity > 0))::integer AS active_months,
		(count(DISTINCT date_trunc('year', invoice_date)) FILTER (WHERE used AND quantity > 0))::integer AS active_years
	FROM (
		SELECT customer_id, invoice_no, invoice_date, quantity, unit_price,
			coalesce(invoice_no IS NOT NULL AND isfinite(invoice_date) AND quantity IS NOT NULL
				AND abs(unit_price::float8) < 'Infinity', false) AS used
		FROM invoices
		WHERE customer_id IS NOT NULL
	) AS line
	GROUP BY customer_id
) AS per_customer;
