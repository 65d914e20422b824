-- Every argument of the pipeline's functions, given a NULL, a value of the
-- wrong kind or a missing object, gets an error with its own SQLSTATE: never
-- XX000 (internal error) nor 42883 (function does not exist).  The README's
-- table of the pipeline's errors lists these.
-- state_of runs a statement and rolls it back, returning its SQLSTATE, or
-- "accepted" when it ran
CREATE FUNCTION pg_temp.state_of(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	BEGIN
		EXECUTE query;
		RAISE EXCEPTION 'accepted' USING ERRCODE = 'S0000';
	EXCEPTION WHEN OTHERS THEN
		RETURN CASE SQLSTATE WHEN 'S0000' THEN 'accepted' ELSE SQLSTATE END;
	END;
END $$;
-- a source with columns of every kind a shop might map by mistake
CREATE TABLE args_odd (customer_id integer, invoice_no text, invoice_date timestamptz, quantity integer,
	unit_price numeric, country text, flag boolean, note text, day date, doc jsonb, ident uuid, amount_text text,
	big numeric, at_time time, period interval, ids integer[], js json, pt point);
INSERT INTO args_odd
SELECT customer_id, invoice_no, invoice_date, quantity, unit_price, country, true, 'x', invoice_date::date, jsonb_build_object('id', customer_id),
	md5(customer_id::text)::uuid, '1', 1, '10:00', '1 day', ARRAY[customer_id],
	json_build_object('id', customer_id), point(1, 1)
FROM invoices WHERE customer_id < 12600;
CREATE SEQUENCE args_sequence;
CREATE INDEX args_index ON args_odd (customer_id);
CREATE TYPE args_type AS (a integer);
SELECT segment.create_segmentation('args', 'args_odd', k => 3);
CREATE TEMP TABLE argument_cases AS
WITH cases(fn, argument, what, statement) AS (VALUES
 ('create','name','NULL',$$SELECT segment.create_segmentation(NULL, 'args_odd')$$),
 ('create','name','empty',$$SELECT segment.create_segmentation('', 'args_odd')$$),
 ('create','name','not an identifier',$$SELECT segment.create_segmentation('Args 2', 'args_odd')$$),
 ('create','name','too long',$$SELECT segment.create_segmentation(repeat('a', 64), 'args_odd')$$),
 ('create','name','reserved',$$SELECT segment.create_segmentation('pg_args', 'args_odd')$$),
 ('create','name','exists',$$SELECT segment.create_segmentation('args', 'args_odd')$$),
 ('create','name','schema exists',$$SELECT segment.create_segmentation('public', 'args_odd')$$),
 ('create','source','NULL',$$SELECT segment.create_segmentation('args2', NULL)$$),
 ('create','source','missing',$$SELECT segment.create_segmentation('args2', 'no_such_table')$$),
 ('create','source','a sequence',$$SELECT segment.create_segmentation('args2', 'args_sequence')$$),
 ('create','source','an index',$$SELECT segment.create_segmentation('args2', 'args_index')$$),
 ('create','source','a composite type',$$SELECT segment.create_segmentation('args2', 'args_type')$$),
 ('create','source','an OID of nothing',$$SELECT segment.create_segmentation('args2', 1::oid::regclass)$$),
 ('create','k','1',$$SELECT segment.create_segmentation('args2', 'args_odd', k => 1)$$),
 ('create','k','negative',$$SELECT segment.create_segmentation('args2', 'args_odd', k => -3)$$),
 ('create','k','not a number',$$SELECT segment.create_segmentation('args2', 'args_odd', k => 'three')$$),
 ('create','k','above the customers',$$SELECT segment.create_segmentation('args2', 'args_odd', k => 100000)$$),
 ('create','customer_column','NULL',$$SELECT segment.create_segmentation('args2', 'args_odd', customer_column => NULL)$$),
 ('create','customer_column','missing',$$SELECT segment.create_segmentation('args2', 'args_odd', customer_column => 'nope')$$),
 ('create','customer_column','jsonb',$$SELECT segment.create_segmentation('args2', 'args_odd', customer_column => 'doc')$$),
 ('create','customer_column','uuid',$$SELECT segment.create_segmentation('args2', 'args_odd', customer_column => 'ident')$$),
 ('create','customer_column','array',$$SELECT segment.create_segmentation('args2', 'args_odd', customer_column => 'ids')$$),
 ('create','customer_column','json',$$SELECT segment.create_segmentation('args2', 'args_odd', customer_column => 'js')$$),
 ('create','customer_column','point',$$SELECT segment.create_segmentation('args2', 'args_odd', customer_column => 'pt')$$),
 ('create','invoice_column','NULL',$$SELECT segment.create_segmentation('args2', 'args_odd', invoice_column => NULL)$$),
 ('create','invoice_column','missing',$$SELECT segment.create_segmentation('args2', 'args_odd', invoice_column => 'nope')$$),
 ('create','invoice_column','boolean',$$SELECT segment.create_segmentation('args2', 'args_odd', invoice_column => 'flag')$$),
 ('create','invoice_column','timestamptz',$$SELECT segment.create_segmentation('args2', 'args_odd', invoice_column => 'invoice_date')$$),
 ('create','invoice_column','uuid',$$SELECT segment.create_segmentation('args2', 'args_odd', invoice_column => 'ident')$$),
 ('create','time_column','NULL',$$SELECT segment.create_segmentation('args2', 'args_odd', time_column => NULL)$$),
 ('create','time_column','missing',$$SELECT segment.create_segmentation('args2', 'args_odd', time_column => 'nope')$$),
 ('create','time_column','date',$$SELECT segment.create_segmentation('args2', 'args_odd', time_column => 'day')$$),
 ('create','time_column','text',$$SELECT segment.create_segmentation('args2', 'args_odd', time_column => 'country')$$),
 ('create','time_column','time',$$SELECT segment.create_segmentation('args2', 'args_odd', time_column => 'at_time')$$),
 ('create','time_column','interval',$$SELECT segment.create_segmentation('args2', 'args_odd', time_column => 'period')$$),
 ('create','quantity_column','NULL',$$SELECT segment.create_segmentation('args2', 'args_odd', quantity_column => NULL)$$),
 ('create','quantity_column','missing',$$SELECT segment.create_segmentation('args2', 'args_odd', quantity_column => 'nope')$$),
 ('create','quantity_column','text',$$SELECT segment.create_segmentation('args2', 'args_odd', quantity_column => 'amount_text')$$),
 ('create','quantity_column','boolean',$$SELECT segment.create_segmentation('args2', 'args_odd', quantity_column => 'flag')$$),
 ('create','price_column','NULL',$$SELECT segment.create_segmentation('args2', 'args_odd', price_column => NULL)$$),
 ('create','price_column','missing',$$SELECT segment.create_segmentation('args2', 'args_odd', price_column => 'nope')$$),
 ('create','price_column','text',$$SELECT segment.create_segmentation('args2', 'args_odd', price_column => 'amount_text')$$),
 ('create','price_column','date',$$SELECT segment.create_segmentation('args2', 'args_odd', price_column => 'day')$$),
 ('create','country_column','missing',$$SELECT segment.create_segmentation('args2', 'args_odd', country_column => 'nope')$$),
 ('create','country_column','integer',$$SELECT segment.create_segmentation('args2', 'args_odd', country_column => 'quantity')$$),
 ('create','country_column','jsonb',$$SELECT segment.create_segmentation('args2', 'args_odd', country_column => 'doc')$$),
 ('create','as_of','not a time',$$SELECT segment.create_segmentation('args2', 'args_odd', as_of => 'soon')$$),
 ('create','as_of','infinity',$$SELECT segment.create_segmentation('args2', 'args_odd', as_of => 'infinity')$$),
 ('create','as_of','-infinity',$$SELECT segment.create_segmentation('args2', 'args_odd', as_of => '-infinity')$$),
 ('create','as_of','before every invoice',$$SELECT segment.create_segmentation('args2', 'args_odd', as_of => '1990-01-01')$$),
 ('create','seed','NULL',$$SELECT segment.create_segmentation('args2', 'args_odd', seed => NULL)$$),
 ('create','seed','not a number',$$SELECT segment.create_segmentation('args2', 'args_odd', seed => 'x')$$),
 ('create','recipe','NULL',$$SELECT segment.create_segmentation('args2', 'args_odd', recipe => NULL)$$),
 ('create','recipe','unknown',$$SELECT segment.create_segmentation('args2', 'args_odd', recipe => 'kmeans')$$),
 ('create','recipe','empty',$$SELECT segment.create_segmentation('args2', 'args_odd', recipe => '')$$),
 ('alter','name','NULL',$$SELECT segment.alter_segmentation(NULL, k => 3)$$),
 ('alter','name','unknown',$$SELECT segment.alter_segmentation('nope', k => 3)$$),
 ('alter','k','1',$$SELECT segment.alter_segmentation('args', k => 1)$$),
 ('alter','customer_column','missing',$$SELECT segment.alter_segmentation('args', customer_column => 'nope')$$),
 ('alter','time_column','text',$$SELECT segment.alter_segmentation('args', time_column => 'country')$$),
 ('alter','price_column','text',$$SELECT segment.alter_segmentation('args', price_column => 'amount_text')$$),
 ('alter','as_of','infinity',$$SELECT segment.alter_segmentation('args', as_of => 'infinity')$$),
 ('alter','recipe','unknown',$$SELECT segment.alter_segmentation('args', recipe => 'Notebook')$$),
 ('refresh','name','NULL',$$SELECT segment.refresh_segmentation(NULL)$$),
 ('refresh','name','unknown',$$SELECT segment.refresh_segmentation('nope')$$),
 ('refresh','refit','NULL',$$SELECT segment.refresh_segmentation('args', refit => NULL)$$),
 ('refresh','refit','not a boolean',$$SELECT segment.refresh_segmentation('args', refit => 'maybe')$$),
 ('drop','name','NULL',$$SELECT segment.drop_segmentation(NULL)$$),
 ('drop','name','unknown',$$SELECT segment.drop_segmentation('nope')$$),
 ('drop','cascade','NULL',$$SELECT segment.drop_segmentation('args', cascade => NULL)$$),
 ('set_label','name','NULL',$$SELECT segment.set_label(NULL, 1, 'x')$$),
 ('set_label','name','unknown',$$SELECT segment.set_label('nope', 1, 'x')$$),
 ('set_label','cluster','NULL',$$SELECT segment.set_label('args', NULL, 'x')$$),
 ('set_label','cluster','not in the model',$$SELECT segment.set_label('args', 99, 'x')$$),
 ('set_label','cluster','not a number',$$SELECT segment.set_label('args', 'one', 'x')$$),
 ('set_label','label','empty',$$SELECT segment.set_label('args', 1, '')$$),
 ('set_label','label','control character',$$SELECT segment.set_label('args', 1, E'a\nb')$$),
 ('set_label','label','taken',$$SELECT segment.set_label('args', 1, label) FROM args.profiles WHERE cluster = 2$$),
 ('set_label','label','NULL',$$SELECT segment.set_label('args', 1, NULL)$$),
 ('plot','name','NULL',$$SELECT segment.plot(NULL, 'elbow')$$),
 ('plot','name','unknown',$$SELECT segment.plot('nope', 'elbow')$$),
 ('plot','kind','NULL',$$SELECT segment.plot('args', NULL)$$),
 ('plot','kind','unknown',$$SELECT segment.plot('args', 'pie')$$),
 ('report','name','NULL',$$SELECT segment.report(NULL)$$),
 ('report','name','unknown',$$SELECT segment.report('nope')$$),
 ('trim_history','name','NULL',$$SELECT segment.trim_history(NULL, '1 day')$$),
 ('trim_history','name','unknown',$$SELECT segment.trim_history('nope', '1 day')$$),
 ('trim_history','older_than','NULL',$$SELECT segment.trim_history('args', NULL)$$),
 ('trim_history','older_than','negative',$$SELECT segment.trim_history('args', '-1 day')$$),
 ('trim_history','older_than','not an interval',$$SELECT segment.trim_history('args', 'long ago')$$)
)
SELECT row_number() OVER () AS n, fn AS function, argument, what, pg_temp.state_of(statement) AS sqlstate
FROM cases;
SELECT function, argument, what, sqlstate FROM argument_cases ORDER BY n;
-- none of them is an internal error or a function PostgreSQL cannot find
SELECT count(*) AS cases, count(*) FILTER (WHERE sqlstate IN ('XX000', '42883')) AS internal_or_not_found
FROM argument_cases;

DROP TABLE args_odd;
DROP SEQUENCE args_sequence;
DROP TYPE args_type;
SELECT segment.drop_segmentation('args');
