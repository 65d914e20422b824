-- Scheduling for real: pg_cron (preloaded by make test, with background
-- workers) runs refresh_segmentation every minute, and a second job
-- refreshes a user's chain of materialized views over the aggregates (the
-- README's example); both jobs succeed and the views change
CREATE EXTENSION pg_cron;
CREATE TABLE fitted_before AS SELECT fitted_at FROM retail.model;
CREATE SCHEMA my_views;
CREATE MATERIALIZED VIEW my_views.vectors AS
WITH raw AS (
	SELECT customer_id, ARRAY[ln(1 + recency_days), ln(1 + invoices), ln(1 + greatest(total_amount, 0))] AS raw
	FROM retail.features WHERE invoices > 0)
SELECT customer_id, segment.scale(raw, (SELECT segment.scaler_fit(raw) FROM raw)) AS vec FROM raw;
CREATE MATERIALIZED VIEW my_views.model AS
SELECT segment.kmeans_fit(vec, 4) AS model, now() AS refreshed_at FROM my_views.vectors;
CREATE MATERIALIZED VIEW my_views.segments AS
SELECT v.customer_id, segment.kmeans_assign(v.vec, m.model) AS cluster FROM my_views.vectors v CROSS JOIN my_views.model m;
CREATE UNIQUE INDEX ON my_views.segments (customer_id);
CREATE TABLE chain_before AS SELECT refreshed_at FROM my_views.model;
SELECT cron.schedule('refresh-retail', '* * * * *', $$SELECT segment.refresh_segmentation('retail')$$) > 0 AS scheduled;
SELECT cron.schedule('refresh-my-views', '* * * * *', $$REFRESH MATERIALIZED VIEW my_views.vectors;
	REFRESH MATERIALIZED VIEW my_views.model; REFRESH MATERIALIZED VIEW CONCURRENTLY my_views.segments$$) > 0 AS scheduled;
-- wait for the next minute's runs (at most 90 s)
DO $$
BEGIN
	FOR attempt IN 1 .. 90 LOOP
		EXIT WHEN (SELECT count(DISTINCT jobid) FROM cron.job_run_details WHERE status IN ('succeeded', 'failed')) >= 2;
		PERFORM pg_sleep(1);
	END LOOP;
END
$$;
SELECT DISTINCT ON (j.jobname) j.jobname, d.status
FROM cron.job_run_details d JOIN cron.job j USING (jobid) ORDER BY j.jobname, d.runid;
SELECT m.fitted_at > b.fitted_at AS views_refreshed FROM retail.model m, fitted_before b;
SELECT m.refreshed_at > b.refreshed_at AS chain_refreshed, (SELECT count(*) FROM my_views.segments) > 4000 AS segments_populated
FROM my_views.model m, chain_before b;
SELECT cron.unschedule('refresh-retail');
SELECT cron.unschedule('refresh-my-views');
DROP SCHEMA my_views CASCADE;
DROP EXTENSION pg_cron;
