-- A forced parallel plan (Partial and Finalize Aggregate, workers launched)
-- gives the same rows as the serial plan, bit for bit, for all four overloads.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
-- the plan shape, and the number of workers that ran
CREATE FUNCTION pg_temp.plan_of(query text) RETURNS TABLE (partial boolean, finalize boolean, workers_launched integer)
LANGUAGE plpgsql AS $$
DECLARE
	plan text := '';
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || query LOOP
		plan := plan || line || E'\n';
	END LOOP;
	RETURN QUERY SELECT plan ~ 'Partial (Hash|Group)?Aggregate', plan ~ 'Finalize (Hash|Group)?Aggregate',
		coalesce((regexp_match(plan, 'Workers Launched: (\d+)'))[1]::integer, 0);
END
$$;
CREATE TEMP VIEW parallel_input AS
SELECT customer_id, invoice_no, invoice_date, quantity, unit_price,
	nullif(regexp_replace(invoice_no, '\D', '', 'g'), '')::bigint AS invoice_number,
	invoice_date AT TIME ZONE 'Europe/London' AS invoice_time
FROM invoices
WHERE customer_id IS NOT NULL;
SET TimeZone = 'Asia/Kolkata';
-- EXPLAIN ANALYZE of CREATE TABLE AS both runs the query and shows its plan
CREATE TEMP VIEW all_overloads AS
SELECT customer_id,
	segment.customer_features(invoice_no, invoice_date, quantity, unit_price) AS text_timestamp,
	segment.customer_features(invoice_no, invoice_time, quantity, unit_price) AS text_timestamptz,
	segment.customer_features(invoice_number, invoice_date, quantity, unit_price) AS bigint_timestamp,
	segment.customer_features(invoice_number, invoice_time, quantity, unit_price) AS bigint_timestamptz
FROM parallel_input GROUP BY customer_id;
SELECT * FROM pg_temp.plan_of('CREATE TEMP TABLE parallel_result AS SELECT * FROM all_overloads');
SET max_parallel_workers_per_gather = 0;
SELECT * FROM pg_temp.plan_of('CREATE TEMP TABLE serial_result AS SELECT * FROM all_overloads');
-- a sorted (GroupAggregate) parallel plan too
SET max_parallel_workers_per_gather = 2;
SET enable_hashagg = off;
SELECT * FROM pg_temp.plan_of('CREATE TEMP TABLE sorted_result AS SELECT * FROM all_overloads');
-- every field equal, float8 fields bit for bit; the time zone matters for
-- the timestamptz overloads (Kolkata is 5:30 ahead of London)
SELECT count(*) AS customers,
	count(*) FILTER (WHERE p.text_timestamp IS DISTINCT FROM s.text_timestamp) AS text_timestamp_differ,
	count(*) FILTER (WHERE p.text_timestamptz IS DISTINCT FROM s.text_timestamptz) AS text_timestamptz_differ,
	count(*) FILTER (WHERE p.bigint_timestamp IS DISTINCT FROM s.bigint_timestamp) AS bigint_timestamp_differ,
	count(*) FILTER (WHERE p.bigint_timestamptz IS DISTINCT FROM s.bigint_timestamptz) AS bigint_timestamptz_differ,
	count(*) FILTER (WHERE (o.text_timestamp, o.text_timestamptz, o.bigint_timestamp, o.bigint_timestamptz)
		IS DISTINCT FROM (s.text_timestamp, s.text_timestamptz, s.bigint_timestamp, s.bigint_timestamptz)) AS sorted_plan_differ,
	count(*) FILTER (WHERE (p.text_timestamp).active_hours <> (p.text_timestamptz).active_hours) AS zone_changes_hours
FROM parallel_result AS p
FULL JOIN serial_result AS s USING (customer_id)
FULL JOIN sorted_result AS o USING (customer_id);
RESET ALL;
