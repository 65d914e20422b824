-- tools/demo.sql: the demo's SQL, run by tools/demo.sh from the top of the tree
\set QUIET on
\pset footer off
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS segment;
CREATE SCHEMA IF NOT EXISTS segment_demo;
SET search_path = segment_demo, public;
DROP TABLE IF EXISTS segment_demo.invoices;
\echo 'Loading the bundled UCI Online Retail data into segment_demo.invoices ...'
\i data/load.sql
SELECT count(*) AS invoice_lines, count(customer_id) AS lines_with_customer,
	min(invoice_date) AS first_line, max(invoice_date) AS last_line
FROM segment_demo.invoices;

\echo 'Per-customer features: one call of segment.customer_features per customer'
CREATE TEMP TABLE customer_features AS
SELECT customer_id, (segment.customer_features(invoice_no, invoice_date, quantity, unit_price)).*
FROM segment_demo.invoices
WHERE customer_id IS NOT NULL
GROUP BY customer_id;

\echo 'How the 4,372 customers spread (recency is days before the last invoice line):'
WITH f AS (
	SELECT c.*, extract(epoch FROM (SELECT max(invoice_date) FROM segment_demo.invoices) - last_purchase) / 86400 AS recency_days
	FROM customer_features AS c
), measures (position, measure, v) AS (
	SELECT 1, 'recency_days', recency_days FROM f UNION ALL
	SELECT 2, 'invoices', invoices FROM f UNION ALL
	SELECT 3, 'total_amount', total_amount FROM f UNION ALL
	SELECT 4, 'avg_invoice_amount', avg_invoice_amount FROM f UNION ALL
	SELECT 5, 'mean_days_between', mean_days_between FROM f UNION ALL
	SELECT 6, 'invoices_per_month', invoices_per_month FROM f
)
SELECT measure, count(v) AS customers,
	round(min(v)::numeric, 1) AS min,
	round(percentile_cont(0.25) WITHIN GROUP (ORDER BY v)::numeric, 1) AS p25,
	round(percentile_cont(0.5) WITHIN GROUP (ORDER BY v)::numeric, 1) AS median,
	round(percentile_cont(0.75) WITHIN GROUP (ORDER BY v)::numeric, 1) AS p75,
	round(max(v)::numeric, 1) AS max
FROM measures
GROUP BY position, measure
ORDER BY position;

\echo 'The ten customers with the largest net amount:'
SELECT customer_id, invoices, returns, round(total_amount::numeric, 2) AS total_amount,
	round(avg_invoice_amount::numeric, 2) AS avg_invoice_amount,
	first_purchase, last_purchase, active_months,
	round(invoices_per_month::numeric, 2) AS invoices_per_month
FROM customer_features
ORDER BY total_amount DESC
LIMIT 10;
