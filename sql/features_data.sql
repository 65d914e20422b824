-- segment.customer_features on the bundled data equals the plain-SQL
-- computation of the same definitions (test/reference/features_plain.sql)
-- for every customer.  Integers, timestamps and NULLs must be equal; float8
-- fields may differ by 1e-12 relative, since the reference sums in numeric
-- and segment sums the float8 products.
\i test/reference/features_plain.sql
CREATE TEMP TABLE features_by_aggregate AS
SELECT customer_id, (segment.customer_features(invoice_no, invoice_date, quantity, unit_price)).*
FROM invoices
WHERE customer_id IS NOT NULL
GROUP BY customer_id;
CREATE FUNCTION pg_temp.close(a float8, b float8) RETURNS boolean
LANGUAGE sql IMMUTABLE
AS $$ SELECT (a IS NULL AND b IS NULL) OR abs(a - b) <= 1e-12 * greatest(1, abs(b)) $$;
-- one row: the number of customers on each side, then per field the customers that differ
SELECT count(a.customer_id) AS aggregate_customers,
	count(r.customer_id) AS reference_customers,
	count(*) FILTER (WHERE a.invoices IS DISTINCT FROM r.invoices) AS invoices,
	count(*) FILTER (WHERE a.returns IS DISTINCT FROM r.returns) AS returns,
	count(*) FILTER (WHERE a.lines IS DISTINCT FROM r.lines) AS lines,
	count(*) FILTER (WHERE a.ignored_lines IS DISTINCT FROM r.ignored_lines) AS ignored_lines,
	count(*) FILTER (WHERE NOT pg_temp.close(a.items, r.items)) AS items,
	count(*) FILTER (WHERE NOT pg_temp.close(a.total_amount, r.total_amount)) AS total_amount,
	count(*) FILTER (WHERE NOT pg_temp.close(a.purchase_amount, r.purchase_amount)) AS purchase_amount,
	count(*) FILTER (WHERE NOT pg_temp.close(a.returned_amount, r.returned_amount)) AS returned_amount,
	count(*) FILTER (WHERE NOT pg_temp.close(a.avg_invoice_amount, r.avg_invoice_amount)) AS avg_invoice_amount,
	count(*) FILTER (WHERE a.first_purchase IS DISTINCT FROM r.first_purchase) AS first_purchase,
	count(*) FILTER (WHERE a.last_purchase IS DISTINCT FROM r.last_purchase) AS last_purchase,
	count(*) FILTER (WHERE NOT pg_temp.close(a.tenure_days, r.tenure_days)) AS tenure_days,
	count(*) FILTER (WHERE NOT pg_temp.close(a.mean_days_between, r.mean_days_between)) AS mean_days_between,
	count(*) FILTER (WHERE a.active_hours IS DISTINCT FROM r.active_hours) AS active_hours,
	count(*) FILTER (WHERE a.active_days IS DISTINCT FROM r.active_days) AS active_days,
	count(*) FILTER (WHERE a.active_months IS DISTINCT FROM r.active_months) AS active_months,
	count(*) FILTER (WHERE a.active_years IS DISTINCT FROM r.active_years) AS active_years,
	count(*) FILTER (WHERE NOT pg_temp.close(a.invoices_per_hour, r.invoices_per_hour)) AS invoices_per_hour,
	count(*) FILTER (WHERE NOT pg_temp.close(a.invoices_per_day, r.invoices_per_day)) AS invoices_per_day,
	count(*) FILTER (WHERE NOT pg_temp.close(a.invoices_per_month, r.invoices_per_month)) AS invoices_per_month,
	count(*) FILTER (WHERE NOT pg_temp.close(a.invoices_per_year, r.invoices_per_year)) AS invoices_per_year
FROM features_by_aggregate AS a
FULL JOIN features_plain AS r USING (customer_id)
\gx
-- totals over all customers: the lines are the 406,829 with a customer
SELECT sum(invoices) AS invoices, sum(returns) AS returns, sum(lines) AS lines,
	round(sum(total_amount)::numeric, 3) AS total_amount,
	count(*) FILTER (WHERE invoices = 0) AS customers_without_purchase,
	count(*) FILTER (WHERE invoices = 1) AS one_off_customers
FROM features_by_aggregate;
