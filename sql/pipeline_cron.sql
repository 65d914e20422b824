-- Scheduling for real: pg_cron (preloaded by make test, with background
-- workers) runs refresh_segmentation every minute; the job succeeds and the
-- views change
CREATE EXTENSION pg_cron;
CREATE TABLE fitted_before AS SELECT fitted_at FROM retail.model;
SELECT cron.schedule('refresh-retail', '* * * * *', $$SELECT segment.refresh_segmentation('retail')$$) > 0 AS scheduled;
-- wait for the next minute's run (at most 90 s)
DO $$
BEGIN
	FOR attempt IN 1 .. 90 LOOP
		EXIT WHEN EXISTS (SELECT FROM cron.job_run_details WHERE status IN ('succeeded', 'failed'));
		PERFORM pg_sleep(1);
	END LOOP;
END
$$;
SELECT status, return_message FROM cron.job_run_details ORDER BY runid LIMIT 1;
SELECT m.fitted_at > b.fitted_at AS views_refreshed FROM retail.model m, fitted_before b;
SELECT cron.unschedule('refresh-retail');
DROP EXTENSION pg_cron;
