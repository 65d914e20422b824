/* src/sql/pipeline/rfm_vector.sql */

-- The clustering features of a customer, transformed (docs/reference.md, "What is clustered"):
-- log1p of days and counts; signed log1p of amounts counted in amount_unit
-- (the segmentation's typical invoice amount), so that the unit of the
-- prices does not matter: multiplying every price by c multiplies amounts
-- and unit alike.  One-off buyers' time between purchases is the time since
-- their only purchase.  A plain SQL function the planner inlines, so it pins
-- no search_path: every function and operator in it is schema-qualified.
CREATE OR REPLACE FUNCTION segment.rfm_vector(recency_days double precision, invoices integer,
		invoices_per_hour double precision, invoices_per_day double precision,
		invoices_per_month double precision, invoices_per_year double precision,
		total_amount double precision, avg_invoice_amount double precision,
		mean_days_between double precision, amount_unit double precision)
	RETURNS double precision[]
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$
	SELECT ARRAY[
		pg_catalog.ln(1::double precision OPERATOR(pg_catalog.+) GREATEST(recency_days, 0::double precision)),
		pg_catalog.ln(1::double precision OPERATOR(pg_catalog.+) invoices::double precision),
		pg_catalog.ln(1::double precision OPERATOR(pg_catalog.+) invoices_per_hour),
		pg_catalog.ln(1::double precision OPERATOR(pg_catalog.+) invoices_per_day),
		pg_catalog.ln(1::double precision OPERATOR(pg_catalog.+) invoices_per_month),
		pg_catalog.ln(1::double precision OPERATOR(pg_catalog.+) invoices_per_year),
		pg_catalog.sign(total_amount) OPERATOR(pg_catalog.*) pg_catalog.ln(1::double precision
			OPERATOR(pg_catalog.+) (pg_catalog.abs(total_amount) OPERATOR(pg_catalog./) amount_unit)),
		pg_catalog.sign(avg_invoice_amount) OPERATOR(pg_catalog.*) pg_catalog.ln(1::double precision
			OPERATOR(pg_catalog.+) (pg_catalog.abs(avg_invoice_amount) OPERATOR(pg_catalog./) amount_unit)),
		pg_catalog.ln(1::double precision OPERATOR(pg_catalog.+)
			GREATEST(COALESCE(mean_days_between, recency_days), 0::double precision))]
	$$;
COMMENT ON FUNCTION segment.rfm_vector(double precision, integer, double precision, double precision,
		double precision, double precision, double precision, double precision, double precision, double precision) IS
	'the transformed clustering features of a customer with purchases, before standardization';

