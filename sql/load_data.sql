-- Load the bundled UCI Online Retail data and check it against its ground truth
CREATE EXTENSION segment;
\i data/load.sql
-- 541,909 lines, 406,829 with a customer, 4,372 customers, Σ quantity × unit_price = 9,747,747.934
SELECT count(*) AS lines,
	count(customer_id) AS lines_with_customer,
	count(DISTINCT customer_id) AS customers,
	sum(quantity * unit_price) AS amount,
	min(invoice_date) AS first_line,
	max(invoice_date) AS last_line
FROM invoices;

-- For the error tests: run a statement, return its SQLSTATE, message and detail
CREATE FUNCTION error_of(query text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	detail text;
BEGIN
	EXECUTE query;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
	RETURN SQLSTATE || ': ' || SQLERRM || coalesce(E'\n' || nullif(detail, ''), '');
END
$$;
