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
SELECT dblink_disconnect('other');
-- put the source back
DELETE FROM invoices WHERE customer_id > 100000;
SELECT segment.refresh_segmentation('retail');
SELECT count(*) AS customers_restored FROM retail.features;
DROP EXTENSION dblink;
