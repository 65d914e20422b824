-- Refreshes are atomic for readers and never interleave: a second session,
-- through dblink, refreshes without committing while this one reads
CREATE EXTENSION dblink;
SELECT dblink_connect('other', format('host=%s port=%s dbname=%s',
	split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'), current_database()));
SELECT count(*) AS customers_before FROM retail.features;
-- the other session grows the source by 50 customers and refreshes, uncommitted
SELECT dblink_exec('other', 'BEGIN');
SELECT dblink_exec('other', $$INSERT INTO invoices
	SELECT invoice_no || 'X', stock_code, description, quantity, invoice_date, unit_price, customer_id + 100000, country
	FROM invoices WHERE customer_id IN (SELECT DISTINCT customer_id FROM invoices WHERE customer_id IS NOT NULL ORDER BY 1 LIMIT 50)$$);
SELECT * FROM dblink('other', $$SELECT segment.refresh_segmentation('retail')::text$$) AS t (result text);
-- this session still reads the old results, without waiting
SET lock_timeout = '5s';
SELECT count(*) AS customers_during_refresh FROM retail.features;
SELECT count(*) AS assignments_during_refresh FROM retail.assignments;
-- a second refresh of the same segmentation waits for the first (here it
-- gives up after 200 ms instead)
SET lock_timeout = '200ms';
SELECT error_of($$ SELECT segment.refresh_segmentation('retail') $$);
RESET lock_timeout;
SELECT dblink_exec('other', 'COMMIT');
SELECT count(*) AS customers_after_commit FROM retail.features;
-- the cheap refresh (refit => false) too: readers are not blocked, and a
-- refit or a new label of the same segmentation waits for it
SELECT dblink_exec('other', 'BEGIN');
SELECT * FROM dblink('other', $$SELECT segment.refresh_segmentation('retail', refit => false)::text$$) AS t (result text);
SET lock_timeout = '5s';
SELECT count(*) AS assignments_during_cheap_refresh FROM retail.assignments;
SELECT count(*) > 0 AS history_readable_during_cheap_refresh FROM retail.history;
SET lock_timeout = '200ms';
SELECT error_of($$ SELECT segment.refresh_segmentation('retail') $$);
SELECT error_of($$ SELECT segment.set_label('retail', 1, 'first') $$);
RESET lock_timeout;
SELECT dblink_exec('other', 'COMMIT');
SELECT dblink_disconnect('other');
-- put the source back
DELETE FROM invoices WHERE customer_id > 100000;
SELECT segment.refresh_segmentation('retail');
SELECT count(*) AS customers_restored FROM retail.features;

-- Two sessions create the same name at once: the second waits for the first
-- and gets the documented error, never a raw constraint violation
CREATE VIEW invoices_racing AS SELECT * FROM invoices WHERE customer_id < 12600;
SELECT dblink_connect('first', format('host=%s port=%s dbname=%s',
	split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'), current_database()));
SELECT dblink_connect('second', format('host=%s port=%s dbname=%s',
	split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'), current_database()));
SELECT dblink_exec('first', 'BEGIN');
SELECT * FROM dblink('first', $$SELECT segment.create_segmentation('racing', 'invoices_racing', k => 3)::text$$) AS t (result text);
SELECT dblink_send_query('second', $$SELECT segment.create_segmentation('racing', 'invoices_racing', k => 3)::text$$);
SELECT pg_sleep(0.5);
SELECT dblink_is_busy('second') AS second_waits;
SELECT dblink_exec('first', 'COMMIT');
SELECT error_of($$ SELECT * FROM dblink_get_result('second') AS t (result text) $$);
SELECT * FROM dblink_get_result('second') AS t (result text);
SELECT count(*) AS segmentations_named_racing FROM segment.segmentations WHERE name = 'racing';
SELECT segment.drop_segmentation('racing');
SELECT dblink_disconnect('first');
SELECT dblink_disconnect('second');
DROP VIEW invoices_racing;
DROP EXTENSION dblink;
