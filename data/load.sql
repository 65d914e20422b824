-- data/load.sql: load the bundled UCI Online Retail data into table "invoices"
-- (README: "Input: invoice lines") of the first schema on the search_path.  Run it with
-- psql from the top of the source tree: the file path is relative to it.
CREATE TABLE invoices (
	invoice_no text,
	stock_code text,
	description text,
	quantity integer,
	invoice_date timestamp,
	unit_price numeric,
	customer_id integer,
	country text
);
\copy invoices FROM PROGRAM 'gzip -dc data/online_retail.csv.gz' WITH (FORMAT csv, HEADER true)
ANALYZE invoices;
