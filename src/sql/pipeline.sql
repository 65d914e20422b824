/* src/sql/pipeline.sql */

-- The segmentation pipeline: create, refresh and drop a segmentation and
-- its tables (README: "Segmentation pipeline")

-- Stable cluster numbers across refreshes (Hungarian matching of centroids)
CREATE OR REPLACE FUNCTION segment.match_clusters(previous double precision[], current double precision[])
	RETURNS integer[]
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.match_clusters(double precision[], double precision[]) IS
	'for each centroid of current, the cluster number that matches previous with the least total squared distance';

-- The clustering features of a customer, transformed (see the README):
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

-- Raise the error for a name that cannot be a segmentation's schema
CREATE OR REPLACE FUNCTION segment.check_segmentation_name(name text)
	RETURNS void
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
BEGIN
	IF name IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'name must not be NULL';
	END IF;
	IF name ~ '^[A-Za-z_][A-Za-z0-9_]*$' AND name <> lower(name) AND octet_length(name) <= 63 THEN
		RAISE EXCEPTION USING ERRCODE = '42602',
			MESSAGE = format('invalid segmentation name %s', quote_literal(name)),
			DETAIL = 'A segmentation name is also the name of its schema, written without quotes in queries, so it is in lower case.',
			HINT = format('Use %L.', lower(name));
	END IF;
	IF name !~ '^[a-z_][a-z0-9_]*$' OR octet_length(name) > 63 THEN
		RAISE EXCEPTION USING ERRCODE = '42602',
			MESSAGE = format('invalid segmentation name %s', quote_literal(name)),
			DETAIL = 'A segmentation name is also the name of its schema: a lower-case letter or underscore, then lower-case letters, digits or underscores, at most 63 bytes.';
	END IF;
	IF lower(name) IN ('segment', 'public', 'information_schema', 'cron') OR lower(name) LIKE 'pg\_%' THEN
		RAISE EXCEPTION USING ERRCODE = '42939',
			MESSAGE = format('segmentation name "%s" is reserved', name);
	END IF;
END
$function$;
COMMENT ON FUNCTION segment.check_segmentation_name(text) IS 'raises an error for a name that cannot be a segmentation';

-- Raise the error for a source that is missing (an OID of nothing) or is not
-- a relation with rows (a sequence, an index, a composite type, ...)
CREATE OR REPLACE FUNCTION segment.check_source(relation regclass)
	RETURNS void
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	kind "char";
BEGIN
	IF relation IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'source must not be NULL';
	END IF;
	SELECT c.relkind INTO kind FROM pg_class c WHERE c.oid = relation;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = '42P01', MESSAGE = format('relation with OID %s does not exist', relation::oid);
	END IF;
	IF kind NOT IN ('r', 'p', 'v', 'm', 'f') THEN
		RAISE EXCEPTION USING ERRCODE = '42809',
			MESSAGE = format('source %s is not a table, view, materialized view or foreign table', relation),
			DETAIL = format('It is %s.', CASE kind WHEN 'S' THEN 'a sequence' WHEN 'i' THEN 'an index' WHEN 'I' THEN 'a partitioned index'
				WHEN 'c' THEN 'a composite type' WHEN 't' THEN 'a TOAST table' ELSE format('of kind %L', kind) END);
	END IF;
	-- a temporary table or view lives in one session, and the refreshes run
	-- in others (a scheduled job's)
	IF (SELECT c.relpersistence FROM pg_class c WHERE c.oid = relation) = 't' THEN
		RAISE EXCEPTION USING ERRCODE = '0A000',
			MESSAGE = format('source %s is temporary', relation),
			DETAIL = 'A temporary relation is gone when its session ends, and no other session (a scheduled refresh) can read it.',
			HINT = 'Segment a table, an unlogged table or a view that is not temporary.';
	END IF;
END
$function$;
COMMENT ON FUNCTION segment.check_source(regclass) IS
	'raises an error when a source is missing or is not a table, view, materialized view or foreign table';

-- Raise the error for a reference time of recency that is not finite
CREATE OR REPLACE FUNCTION segment.check_as_of(as_of timestamp)
	RETURNS void
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
BEGIN
	IF NOT isfinite(as_of) THEN
		RAISE EXCEPTION USING ERRCODE = '22008', MESSAGE = format('as_of must be a finite time, not %s', as_of),
			DETAIL = 'as_of is the reference time of recency and the cut-off of the lines used; NULL means the time of the latest line.';
	END IF;
END
$function$;
COMMENT ON FUNCTION segment.check_as_of(timestamp) IS 'raises an error for an as_of that is infinity or -infinity';

-- Whether values of a type can be grouped: a default btree or hash operator
-- class for the type, its array, enum or range family (as GROUP BY needs)
CREATE OR REPLACE FUNCTION segment.type_is_groupable(column_type regtype)
	RETURNS boolean
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT EXISTS (
		SELECT FROM pg_opclass o JOIN pg_am m ON m.oid = o.opcmethod JOIN pg_type t ON t.oid = column_type
		WHERE m.amname IN ('btree', 'hash') AND o.opcdefault
		  AND (o.opcintype = t.oid
			OR (o.opcintype = 'anyarray'::regtype AND t.typcategory = 'A' AND segment.type_is_groupable(t.typelem))
			OR (o.opcintype = 'anyenum'::regtype AND t.typtype = 'e')
			OR (o.opcintype = 'anyrange'::regtype AND t.typtype = 'r')
			OR (o.opcintype = 'record'::regtype AND t.typtype = 'c')
			OR (t.typtype <> 'd' AND EXISTS (SELECT FROM pg_cast c WHERE c.castsource = t.oid
				AND c.casttarget = o.opcintype AND c.castmethod = 'b'))))
	$$;
COMMENT ON FUNCTION segment.type_is_groupable(regtype) IS
	'whether values of the type can be grouped (a default btree or hash operator class applies)';

-- Raise the error for a column mapping that names no column of the source,
-- or one whose type the pipeline cannot use; in a refresh (segmentation
-- given) the error names the segmentation and how to remap
CREATE OR REPLACE FUNCTION segment.check_source_column(relation regclass, argument text, column_name name,
		segmentation text DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	column_type regtype;
	accepted regtype[];
	accepted_text text;
	prefix text := CASE WHEN segmentation IS NOT NULL THEN format('segmentation "%s": ', segmentation) ELSE '' END;
	remap text := CASE WHEN segmentation IS NOT NULL
		THEN format('Map %s to another column with segment.alter_segmentation(%L, %s => ...), or drop and create the segmentation.',
			argument, segmentation, argument)
		ELSE format('Pass the name of the column to use as %s.', argument) END;
BEGIN
	IF column_name IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = format('%s must not be NULL', argument);
	END IF;
	-- the type, or a domain's base type
	SELECT coalesce(nullif(t.typbasetype, 0), t.oid)::regtype INTO column_type
	FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
	WHERE a.attrelid = relation AND a.attname = column_name AND a.attnum > 0 AND NOT a.attisdropped;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = '42703',
			MESSAGE = format('%scolumn "%s" (%s) of relation %s does not exist', prefix, column_name, argument, relation),
			HINT = remap;
	END IF;
	-- customers are grouped: the type needs an equality the planner can use
	IF argument = 'customer_column' AND NOT segment.type_is_groupable(column_type) THEN
		RAISE EXCEPTION USING ERRCODE = '42804',
			MESSAGE = format('%s%s "%s" of relation %s has type %s', prefix, argument, column_name, relation, column_type),
			DETAIL = format('%s must be a column of a type with a default btree or hash operator class (integer, bigint, text, uuid, ...), so that its values can be grouped; %s has none.',
				argument, column_type),
			HINT = CASE WHEN segmentation IS NOT NULL THEN remap
				ELSE 'Pass another column, or a view of the source that casts this one (for json, to jsonb or text).' END;
	END IF;
	accepted := CASE argument
		WHEN 'invoice_column' THEN ARRAY['text', 'character varying', 'character', 'smallint', 'integer', 'bigint']::regtype[]
		WHEN 'time_column' THEN ARRAY['timestamp without time zone', 'timestamp with time zone', 'date']::regtype[]
		WHEN 'quantity_column' THEN ARRAY['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision']::regtype[]
		WHEN 'price_column' THEN ARRAY['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision']::regtype[]
		END;
	IF accepted IS NOT NULL AND column_type <> ALL (accepted) THEN
		accepted_text := array_to_string(accepted::text[], ', ');
		RAISE EXCEPTION USING ERRCODE = '42804',
			MESSAGE = format('%s%s "%s" of relation %s has type %s', prefix, argument, column_name, relation, column_type),
			DETAIL = format('%s must be a column of type %s.', argument,
				regexp_replace(accepted_text, ', ([^,]*)$', ' or \1')),
			HINT = CASE WHEN segmentation IS NOT NULL THEN remap
				ELSE 'Pass another column, or a view of the source that casts this one.' END;
	END IF;
END
$function$;
COMMENT ON FUNCTION segment.check_source_column(regclass, text, name, text) IS
	'raises an error when a column mapping names no column of the source, or one of a type the pipeline cannot use';

-- Raise the error for any mapping of registry row r that does not fit its source
CREATE OR REPLACE FUNCTION segment.check_source_columns(r segment.segmentations, segmentation text DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
BEGIN
	PERFORM segment.check_source_column(r.source, 'customer_column', r.customer_column, segmentation);
	PERFORM segment.check_source_column(r.source, 'invoice_column', r.invoice_column, segmentation);
	PERFORM segment.check_source_column(r.source, 'time_column', r.time_column, segmentation);
	PERFORM segment.check_source_column(r.source, 'quantity_column', r.quantity_column, segmentation);
	PERFORM segment.check_source_column(r.source, 'price_column', r.price_column, segmentation);
	IF r.country_column IS NOT NULL THEN
		PERFORM segment.check_source_column(r.source, 'country_column', r.country_column, segmentation);
	END IF;
END
$function$;
COMMENT ON FUNCTION segment.check_source_columns(segment.segmentations, text) IS
	'raises an error when a column mapping of a segmentation does not fit its source';

-- The SQL of the time of a line: a date is read as a timestamp at midnight
CREATE OR REPLACE FUNCTION segment.segmentation_time_sql(r segment.segmentations)
	RETURNS text
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT format(CASE WHEN a.atttypid = 'date'::regtype THEN '%I::timestamp' ELSE '%I' END, r.time_column)
	FROM pg_attribute a WHERE a.attrelid = r.source AND a.attname = r.time_column
	$$;
COMMENT ON FUNCTION segment.segmentation_time_sql(segment.segmentations) IS
	'SQL of the time of a line of the source of registry row r';

-- The SQL of "this quantity or price column of relation is a finite
-- number" (what the features aggregate, which reads it as float8, takes):
-- not NULL for integers; for numeric compared as numeric (NaN sorts above
-- every number), so that no line is cast through text; as float8 for real
-- and double precision
CREATE OR REPLACE FUNCTION segment.segmentation_finite_sql(relation regclass, column_name name)
	RETURNS text
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE
		WHEN base = ANY (ARRAY['smallint', 'integer', 'bigint']::regtype[]) THEN format('%I IS NOT NULL', column_name)
		WHEN base = 'numeric'::regtype THEN format('%I BETWEEN %s AND %s', column_name,
			'-1.7976931348623157e308', '1.7976931348623157e308')
		ELSE format('%I::double precision BETWEEN %s AND %s', column_name,
			'-1.7976931348623157e308', '1.7976931348623157e308') END
	FROM (SELECT coalesce(nullif(t.typbasetype, 0), t.oid)::regtype AS base
		  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
		  WHERE a.attrelid = relation AND a.attname = column_name AND a.attnum > 0 AND NOT a.attisdropped) AS c
	$$;
COMMENT ON FUNCTION segment.segmentation_finite_sql(regclass, name) IS
	'SQL that is true when a quantity or price column holds a finite number';

-- The SQL of the customers' lines grouped by customer, in one scan of the
-- source: each customer's most frequent country, its features
-- (segment.customer_features) and last_line, the latest time among its
-- lines the segmentation uses (an invoice, every mapped column not NULL, a
-- finite time, quantity and price).  The reference time of recency is the
-- as_of given (a cut-off: later lines are not used) or the latest last_line,
-- so that a typo line without a customer or an 'infinity' cannot move it.
-- A customer's country is the most frequent of its lines (the first in
-- collation order among equally frequent ones, NULLs aside: what mode()
-- WITHIN GROUP (ORDER BY country) gives for text), counted in a hash table
-- so that the GROUP BY need not sort the lines.  The customers come out in
-- order, so the tables filled from them have the same rows in the same order
-- whatever plan (parallel or not) grouped the lines, and their sums in SQL
-- the same bits.
CREATE OR REPLACE FUNCTION segment.segmentation_customers_sql(r segment.segmentations)
	RETURNS text
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT format('SELECT %3$I AS customer, %4$s AS country, segment.customer_features(%5$I, %1$s, %6$I, %7$I) AS f, '
			'(max(%1$s) FILTER (WHERE %5$I IS NOT NULL AND isfinite(%1$s) AND %8$s AND %9$s))::timestamp AS last_line '
			'FROM %2$s WHERE %3$I IS NOT NULL %10$s GROUP BY %3$I ORDER BY %3$I',
		segment.segmentation_time_sql(r), r.source, r.customer_column,
		CASE WHEN r.country_column IS NULL THEN 'NULL::text'
			ELSE format('segment.most_frequent(%I::text)', r.country_column) END,
		r.invoice_column, r.quantity_column, r.price_column,
		segment.segmentation_finite_sql(r.source, r.quantity_column),
		segment.segmentation_finite_sql(r.source, r.price_column),
		-- an explicit as_of is a cut-off: later lines are not used
		CASE WHEN r.as_of IS NOT NULL THEN format('AND %s <= %L::timestamp', segment.segmentation_time_sql(r), r.as_of) ELSE '' END)
	$$;
COMMENT ON FUNCTION segment.segmentation_customers_sql(segment.segmentations) IS
	'SQL of the lines of the source of registry row r grouped by customer: country, features and the latest time used';

-- The SQL of a customer's clustering features in original units (profiles
-- and boxplots; the notebook recipe's one-hot countries are left out), in
-- the order of segmentations.features
CREATE OR REPLACE FUNCTION segment.segmentation_values_sql(recipe text, with_country boolean)
	RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE WHEN recipe = 'notebook' THEN
		'ARRAY[coalesce(f.recency_days, 0), f.invoices, coalesce(f.total_amount, 0), coalesce(f.avg_invoice_amount, 0), '
		|| 'coalesce(f.mean_days_between, 0), coalesce(f.invoices_per_month, 0), coalesce(f.invoices_per_day, 0), '
		|| 'coalesce(f.invoices_per_hour, 0), coalesce(f.invoices_per_year, 0)]::double precision[]'
	ELSE
		'ARRAY[f.recency_days, f.invoices, f.invoices_per_hour, f.invoices_per_day, f.invoices_per_month, '
		|| 'f.invoices_per_year, f.total_amount, f.avg_invoice_amount, coalesce(f.mean_days_between, f.recency_days)'
		|| CASE WHEN with_country THEN ', coalesce(f.country = r.domestic_country, false)::integer' ELSE '' END
		|| ']::double precision[]'
	END
	$$;
COMMENT ON FUNCTION segment.segmentation_values_sql(text, boolean) IS 'SQL of the clustering features in original units of features row f under registry row r';

-- The SQL of a customer's raw clustering vector, for features row f and
-- registry row r (r.domestic_country, r.amount_unit, r.categories).  The
-- notebook recipe is the seed notebook's: nine raw features, a missing value
-- (a customer without a purchase has no recency) counted as 0, then one-hot
-- countries.
CREATE OR REPLACE FUNCTION segment.segmentation_vector_sql(recipe text, with_country boolean)
	RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE WHEN recipe = 'notebook' THEN
		segment.segmentation_values_sql(recipe, false)
		|| CASE WHEN with_country THEN ' || segment.one_hot(f.country, r.categories)' ELSE '' END
	ELSE
		'segment.rfm_vector(f.recency_days, f.invoices, f.invoices_per_hour, f.invoices_per_day, '
		|| 'f.invoices_per_month, f.invoices_per_year, f.total_amount, f.avg_invoice_amount, f.mean_days_between, '
		|| 'r.amount_unit)'
		|| CASE WHEN with_country
			THEN ' || ARRAY[coalesce(f.country = r.domestic_country, false)::integer::double precision]'
			ELSE '' END
	END
	$$;
COMMENT ON FUNCTION segment.segmentation_vector_sql(text, boolean) IS 'SQL of the raw clustering vector of features row f under registry row r';

-- The SQL of the condition on features row f of a customer who is clustered:
-- one with a purchase (rfm), or any customer with a line used (notebook)
CREATE OR REPLACE FUNCTION segment.segmentation_clustered_sql(recipe text)
	RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE WHEN recipe = 'notebook' THEN 'f.lines > 0' ELSE 'f.invoices > 0' END
	$$;
COMMENT ON FUNCTION segment.segmentation_clustered_sql(text) IS 'SQL of the condition on features row f of a clustered customer';

-- The clustering features of a recipe, in vector order (the profiles have
-- a mean and a mean z-score of each, the boxplots a box)
CREATE OR REPLACE FUNCTION segment.segmentation_features(recipe text, with_country boolean)
	RETURNS text[]
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE WHEN recipe = 'notebook' THEN
		ARRAY['recency_days', 'invoices', 'total_amount', 'avg_invoice_amount', 'mean_days_between',
			  'invoices_per_month', 'invoices_per_day', 'invoices_per_hour', 'invoices_per_year']
	ELSE
		ARRAY['recency_days', 'invoices', 'invoices_per_hour', 'invoices_per_day', 'invoices_per_month',
			  'invoices_per_year', 'total_amount', 'avg_invoice_amount', 'mean_days_between']
		|| CASE WHEN with_country THEN ARRAY['domestic'] ELSE '{}'::text[] END
	END
	$$;
COMMENT ON FUNCTION segment.segmentation_features(text, boolean) IS
	'the clustering features of a recipe, in vector order (without the notebook recipe''s one-hot countries)';

-- The names of the elements of a segmentation's vectors: its features, then
-- the notebook recipe's one-hot countries
CREATE OR REPLACE FUNCTION segment.segmentation_dimensions(r segment.segmentations)
	RETURNS text[]
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT r.features || coalesce(ARRAY(SELECT 'country: ' || c FROM unnest(r.categories) WITH ORDINALITY AS u (c, i) ORDER BY i),
		'{}'::text[])
	$$;
COMMENT ON FUNCTION segment.segmentation_dimensions(segment.segmentations) IS
	'the names of the elements of the vectors of registry row r: its features, then one-hot countries';

-- The per-customer silhouettes of a segmentation: none (NULL in the
-- assignments) when the customers fill fewer than two segments or every
-- customer is alone in one, as after an assign-only refresh of a source
-- that shrank
CREATE OR REPLACE FUNCTION segment.segmentation_silhouettes(source text)
	RETURNS TABLE (id bigint, cluster integer, silhouette double precision)
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	clusters bigint;
	customers bigint;
BEGIN
	EXECUTE format('SELECT count(DISTINCT s.c), count(*) FROM (%s) AS s (i, v, c)', source) INTO clusters, customers;
	IF clusters < 2 OR clusters >= customers THEN
		RETURN;
	END IF;
	RETURN QUERY SELECT * FROM segment.silhouette_samples(source);
END
$function$;
COMMENT ON FUNCTION segment.segmentation_silhouettes(text) IS
	'the per-customer silhouettes of a segmentation, none when fewer than two segments are filled';

-- The SQL of the rows of a query of customers (with customer_id,
-- recency_days, invoices and total_amount) with their RFM scores: r_score,
-- f_score and m_score among the customers with a purchase
-- (segment.rfm_quintile: ties share their score), rfm_score and
-- rfm_segment
CREATE OR REPLACE FUNCTION segment.rfm_scores_sql(customers text)
	RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT format($sql$
		SELECT s.*, s.r_score::text || s.f_score::text || s.m_score::text AS rfm_score,
			segment.rfm_segment(s.r_score, s.f_score) AS rfm_segment
		FROM (SELECT q.*,
				CASE WHEN q.invoices > 0 THEN segment.rfm_quintile(rank() OVER by_recency, count(*) OVER buyers) END AS r_score,
				CASE WHEN q.invoices > 0 THEN segment.rfm_quintile(rank() OVER by_invoices, count(*) OVER buyers) END AS f_score,
				CASE WHEN q.invoices > 0 THEN segment.rfm_quintile(rank() OVER by_amount, count(*) OVER buyers) END AS m_score
			  FROM (%s) AS q
			  WINDOW buyers AS (PARTITION BY q.invoices > 0),
				by_recency AS (buyers ORDER BY q.recency_days DESC),
				by_invoices AS (buyers ORDER BY q.invoices),
				by_amount AS (buyers ORDER BY q.total_amount)) AS s $sql$, customers)
	$$;
COMMENT ON FUNCTION segment.rfm_scores_sql(text) IS 'SQL of the rows of a query of customers with their RFM scores';

-- The query that fills one table of a segmentation, from its registry row.
-- The queries read the registry row itself, so a refresh updates the row
-- (scaler, model, PCA, labels) before it fills the tables after features.
CREATE OR REPLACE FUNCTION segment.segmentation_query(segmentation text, result_table text)
	RETURNS text
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	r segment.segmentations;
	registry text := format('(SELECT * FROM segment.segmentations WHERE name = %L)', segmentation);
	vector text;
	vector_values text;
	as_of text;
	silhouette_source text;
	model_row text;
	sample text;
	sample_size bigint;
	hash_bound text;
	bound_holds boolean;
	draw_bound text;
	feature text;
	position integer;
	profile_columns text := '';
	clustered text;
BEGIN
	SELECT * INTO STRICT r FROM segment.segmentations s WHERE s.name = segmentation;
	vector := segment.segmentation_vector_sql(r.recipe, r.country_column IS NOT NULL);
	vector_values := segment.segmentation_values_sql(r.recipe, r.country_column IS NOT NULL);
	clustered := segment.segmentation_clustered_sql(r.recipe);
	-- the reference time the refresh worked out (segment.segmentation_customers_sql)
	as_of := format('%L::timestamp', r.used_as_of);

	IF result_table = 'features' THEN
		-- the customers the refresh grouped (its working table
		-- segment_refresh_customers), or outside a refresh (the shape of the
		-- table) the grouping itself
		RETURN segment.rfm_scores_sql(format($sql$
			SELECT c.customer AS customer_id, c.country,
				extract(epoch FROM a.as_of - (c.f).last_purchase)::double precision / 86400 AS recency_days,
				(c.f).*
			FROM %s AS c, (SELECT %s AS as_of) AS a $sql$,
			CASE WHEN to_regclass(format('%I.segment_refresh_customers', segmentation)) IS NOT NULL
				THEN format('%I.segment_refresh_customers', segmentation)
				ELSE '(' || segment.segmentation_customers_sql(r) || ')' END,
			as_of));
	END IF;

	-- the queries over every customer's row (the assignments, the
	-- profiles' and box plots' rows) read the registry row's values as
	-- constants of the query, not the registry table: so on Citus, with
	-- features and assignments co-located, each shard runs them on its own
	-- customers, planned for one row of constants (a registry read there
	-- would come as an intermediate result of unknown size)
	model_row := format('(SELECT %L::text AS domestic_country, %L::double precision AS amount_unit, %L::text[] AS categories, '
		'%L::segment.scaler AS model_scaler, %L::segment.kmeans_model AS model, %L::segment.pca_model AS pca, '
		'%L::segment.scaler AS scaler, %L::text[] AS labels) AS r',
		r.domestic_country, r.amount_unit, r.categories, r.model_scaler, r.model, r.pca, r.scaler, r.labels);
	-- per-customer silhouettes: exact up to segment.silhouette_limit() customers,
	-- beyond that (or beyond the rows that fit maintenance_work_mem, as
	-- the fit counts them) for a sample of that many drawn by customer id,
	-- the same customers at every refresh of either kind (result_table
	-- 'sample': its query).  The sample is
	-- numbered in customer order and read in the order of the draw: equal
	-- vectors' silhouettes may differ in the last bits with their order in
	-- the source (segment.silhouette_samples sums by position)
	sample_size := least(segment.silhouette_limit(),
		floor(pg_size_bytes(current_setting('maintenance_work_mem'))
			/ (32.0 * coalesce(array_length((r.model_scaler).mean, 1), 1) + 512))::bigint);
	-- the sample's customers are those of the smallest hashes: when they are
	-- few among many, a bound on the hash that at least sample_size customers
	-- pass (a fraction of the hash range a little above the sample's share,
	-- checked) lets each shard send only those
	draw_bound := 'true';
	IF result_table IN ('sample', 'silhouettes') AND r.customers_clustered > 2 * sample_size
		AND to_regclass(format('%I.features', segmentation)) IS NOT NULL THEN
		hash_bound := lpad(to_hex(floor(4294967296 * least(1.0,
			(sample_size + 8 * sqrt(sample_size) + 64) / r.customers_clustered))::bigint), 8, '0');
		EXECUTE format('SELECT count(*) >= %s FROM %I.features f WHERE %s AND md5(f.customer_id::text) < %L',
			sample_size, segmentation, clustered, hash_bound) INTO bound_holds;
		IF bound_holds THEN
			draw_bound := format('md5(f.customer_id::text) < %L', hash_bound);
		END IF;
	END IF;
	sample := format('SELECT row_number() OVER (ORDER BY c.customer_id) AS id, c.customer_id, c.vec, c.draw FROM ('
		'SELECT f.customer_id, segment.scale(%2$s, r.model_scaler) AS vec, md5(f.customer_id::text) AS draw '
		'FROM %1$I.features f, %3$s WHERE %4$s AND %6$s '
		'ORDER BY md5(f.customer_id::text) LIMIT %5$s) AS c',
		segmentation, vector, model_row, clustered, sample_size, draw_bound);
	IF result_table = 'sample' THEN
		RETURN sample;
	END IF;
	-- a refresh draws the sample once into its working table
	-- segment_refresh_sample, read by the silhouettes and the join below
	IF to_regclass(format('%I.segment_refresh_sample', segmentation)) IS NOT NULL THEN
		sample := format('SELECT * FROM %I.segment_refresh_sample', segmentation);
	END IF;
	silhouette_source := format('SELECT s.id, s.vec, segment.kmeans_assign(s.vec, %L::segment.kmeans_model) FROM (%s) AS s '
		'ORDER BY s.draw', r.model, sample);
	-- each customer of the sample with its silhouette
	IF result_table = 'silhouettes' THEN
		RETURN format('SELECT n.customer_id, e.silhouette FROM (%s) AS n '
			'JOIN segment.segmentation_silhouettes(%L) AS e ON e.id = n.id', sample, silhouette_source);
	END IF;
	-- the assignments, each customer's from its own row; a refresh then
	-- gives the sample its silhouettes (segment.refresh_segmentation_table),
	-- so that on Citus the statement runs on each shard alone
	IF result_table = 'assignments' THEN
		RETURN format($sql$
		SELECT f.customer_id, segment.kmeans_assign(v.vec, r.model) AS cluster,
			segment.kmeans_distance(v.vec, r.model) AS distance, NULL::double precision AS silhouette,
			(segment.pca_transform(v.vec, r.pca))[1] AS pc1,
			(segment.pca_transform(v.vec, r.pca))[2] AS pc2
		FROM %1$I.features f CROSS JOIN %2$s
		CROSS JOIN LATERAL (SELECT CASE WHEN %4$s THEN segment.scale(%3$s, r.model_scaler) END AS vec) AS v $sql$,
		segmentation, model_row, vector, clustered);
	END IF;

	FOR feature, position IN SELECT * FROM unnest(r.features) WITH ORDINALITY LOOP
		profile_columns := profile_columns || format(', avg(m.value[%2$s]) AS %1$I, avg(m.z[%2$s]) AS %3$I',
			feature || '_mean', position, feature || '_z');
	END LOOP;
	IF result_table = 'profiles' THEN
		RETURN format($sql$
		WITH r AS MATERIALIZED %2$s,
		-- (the customers in the order of their ids, so each segment's sums
		-- add in one order, whatever order the tables' rows lie in: the
		-- same bits on a single node and on Citus)
		m AS MATERIALIZED (SELECT a.cluster, r.labels[a.cluster] AS label, %4$s AS value, segment.scale(%3$s, r.scaler) AS z,
				f.total_amount, f.r_score, f.f_score, f.m_score
			  FROM %1$I.assignments a JOIN %1$I.features f USING (customer_id) CROSS JOIN %7$s
			  WHERE a.cluster IS NOT NULL ORDER BY a.customer_id),
		p AS (SELECT m.cluster, min(m.label) AS label, count(*) AS customers,
				count(*)::double precision / sum(count(*)) OVER () AS share %5$s,
				CASE WHEN min(r.user_labels[m.cluster]) IS NULL THEN 'automatic' ELSE 'user' END AS label_source,
				coalesce(sum(m.total_amount), 0) AS revenue,
				avg(m.r_score)::double precision AS r_score_mean, avg(m.f_score)::double precision AS f_score_mean,
				avg(m.m_score)::double precision AS m_score_mean
			  FROM m CROSS JOIN r GROUP BY m.cluster),
		-- the share of the takings: of the revenue of the segments that bring
		-- some (a segment of net returns has a negative share, the part it
		-- gives back, and no other share grows beyond 1 for it); the named
		-- group of the segment's mean scores, rounded half up
		g AS (SELECT p.*, p.revenue / nullif(sum(p.revenue) FILTER (WHERE p.revenue > 0) OVER (), 0) AS revenue_share,
				segment.rfm_segment(floor(p.r_score_mean + 0.5)::integer, floor(p.f_score_mean + 0.5)::integer) AS rfm_segment
			  FROM p)
		-- a segment whose returns exceed its purchases needs its returns
		-- looked at before any campaign
		SELECT g.*, CASE WHEN g.revenue < 0 THEN %6$L
			ELSE segment.rfm_action(g.rfm_segment, floor(g.m_score_mean + 0.5)::integer) END AS action
		FROM g $sql$,
		segmentation, registry, vector, vector_values, profile_columns,
		'look into their returns (products, descriptions, fraud) before marketing to them: they return more than they buy',
		model_row);
	END IF;

	IF result_table = 'elbow' THEN
		RETURN format($sql$
		SELECT k, inertia, silhouette, davies_bouldin, calinski_harabasz, is_elbow, is_chosen, smallest_share
		FROM segment.segmentation_scores WHERE name = %2$L $sql$, segmentation, segmentation);
	END IF;

	IF result_table = 'silhouette' THEN
		RETURN format($sql$
		WITH a AS MATERIALIZED (SELECT cluster, silhouette FROM %1$I.assignments WHERE cluster IS NOT NULL
			ORDER BY customer_id)
		SELECT cluster, count(*) AS customers, avg(silhouette) AS mean_silhouette,
			min(silhouette) AS min_silhouette, max(silhouette) AS max_silhouette,
			count(silhouette) AS sample_size
		FROM a GROUP BY GROUPING SETS ((cluster), ()) $sql$, segmentation);
	END IF;

	IF result_table = 'boxplots' THEN
		-- segment.boxplot: the numbers of min, percentile_cont and the
		-- whiskers computed in SQL, from one sort of each group (of any
		-- order of the values).  Each customer's values travel as one row
		-- (m), which on Citus is one row per customer to the coordinator
		-- rather than one per feature
		RETURN format($sql$
		WITH r AS MATERIALIZED %2$s,
		m AS MATERIALIZED (SELECT a.cluster, %3$s AS value_list
			  FROM %1$I.assignments a JOIN %1$I.features f USING (customer_id) CROSS JOIN %4$s
			  WHERE a.cluster IS NOT NULL)
		SELECT b.cluster, b.feature, (b.p).min, (b.p).q1, (b.p).median, (b.p).q3, (b.p).max,
			(b.p).lower_whisker, (b.p).upper_whisker, (b.p).outliers
		FROM (SELECT m.cluster, u.feature, segment.boxplot(u.value) AS p
			  FROM m CROSS JOIN r CROSS JOIN LATERAL unnest(r.features, m.value_list) AS u (feature, value)
			  GROUP BY m.cluster, u.feature) AS b $sql$, segmentation, registry, vector_values, model_row);
	END IF;

	-- (+ 0 turns the -0 of a constant element, a one-country shop's domestic
	-- flag, into 0)
	IF result_table = 'pca' THEN
		RETURN format($sql$
		WITH r AS MATERIALIZED %2$s
		SELECT c.component, (r.pca).explained_variance_ratio[c.component] AS explained_variance_ratio,
			u.feature, (r.pca).components[c.component][u.j] + 0 AS loading
		FROM r, generate_series(1, array_length((r.pca).explained_variance_ratio, 1)) AS c (component),
			unnest(segment.segmentation_dimensions(r)) WITH ORDINALITY AS u (feature, j) $sql$, segmentation, registry);
	END IF;

	IF result_table = 'model' THEN
		RETURN format($sql$
		SELECT (r.model).k, r.seed, r.used_as_of AS as_of, r.fitted_at, (r.model).iterations,
			(r.model).inertia, r.customers_clustered, r.fitted_rows, r.assigned_at
		FROM %2$s AS r $sql$, segmentation, registry);
	END IF;

	-- what moved: the open rows of history (the segments before this
	-- refresh, numbered and named as they were) against the new assignments
	-- (numbered and named as now; a refit that lowers k renumbers)
	IF result_table = 'transitions' THEN
		RETURN format($sql$
		WITH before AS (SELECT customer_id, cluster, label FROM %1$I.history WHERE valid_to IS NULL AND cluster IS NOT NULL),
		now AS (SELECT a.customer_id, a.cluster, r.labels[a.cluster] AS label
				FROM %1$I.assignments a, %2$s AS r WHERE a.cluster IS NOT NULL)
		SELECT b.cluster AS from_cluster, min(b.label) AS from_label, n.cluster AS to_cluster, min(n.label) AS to_label,
			count(*) AS customers,
			count(*)::double precision / sum(count(*)) OVER (PARTITION BY b.cluster) AS share_of_from
		FROM before b FULL JOIN now n USING (customer_id)
		GROUP BY b.cluster, n.cluster $sql$, segmentation, registry);
	END IF;

	-- the shape of history (its rows are kept by segment.record_history)
	IF result_table = 'history' THEN
		RETURN format($sql$
		SELECT a.customer_id, a.cluster, p.label, NULL::timestamptz AS valid_from, NULL::timestamptz AS valid_to,
			NULL::timestamptz AS recorded_at
		FROM %1$I.assignments a JOIN %1$I.profiles p USING (cluster) $sql$, segmentation);
	END IF;

	RAISE EXCEPTION 'unknown table % of a segmentation', result_table;
END
$function$;
COMMENT ON FUNCTION segment.segmentation_query(text, text) IS 'the query that fills one table of a segmentation';

-- Comment on every table of a segmentation and on every column
CREATE OR REPLACE FUNCTION segment.comment_segmentation_tables(segmentation text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	comment record;
	feature text;
BEGIN
	FOR comment IN
		SELECT * FROM (VALUES
			('features', NULL, 'one row per customer: the customer''s features (segment.customer_features) and recency'),
			('features', 'customer_id', 'the customer'),
			('features', 'country', 'the customer''s most frequent country'),
			('features', 'recency_days', 'days from the last purchase to the reference time (model.as_of)'),
			('features', 'r_score', 'recency score 1..5 among the customers with a purchase (5 = the most recent fifth; equal recencies share a score); NULL without a purchase'),
			('features', 'f_score', 'frequency score 1..5 by invoices among the customers with a purchase (equal counts share a score); NULL without a purchase'),
			('features', 'm_score', 'monetary score 1..5 by total_amount among the customers with a purchase (equal amounts share a score); NULL without a purchase'),
			('features', 'rfm_score', 'the three scores as digits, recency first (''545'')'),
			('features', 'rfm_segment', 'named RFM group of r_score and f_score (Champions, Loyal, Potential loyalists, New customers, Promising, Need attention, About to sleep, At risk, Cannot lose them, Hibernating, Lost)'),
			('assignments', NULL, 'one row per customer: segment, distance to its centre, silhouette and PCA coordinates; NULL for customers without purchases'),
			('assignments', 'customer_id', 'the customer'),
			('assignments', 'cluster', 'segment number (profiles.cluster)'),
			('assignments', 'distance', 'Euclidean distance to the segment centre, in standardized units'),
			('assignments', 'silhouette', 'silhouette of the customer (-1 to 1, higher fits its segment better); beyond segment.silhouette_limit() clustered customers, only for a seeded sample of that many, NULL for the others'),
			('assignments', 'pc1', 'coordinate on the first principal component'),
			('assignments', 'pc2', 'coordinate on the second principal component'),
			('profiles', NULL, 'one row per segment: readable label, size, and per clustering feature its mean in original units and its mean z-score'),
			('profiles', 'cluster', 'segment number'),
			('profiles', 'label', 'readable name of the segment, unique in the segmentation'),
			('profiles', 'customers', 'customers in the segment'),
			('profiles', 'share', 'share of the clustered customers in the segment'),
			('profiles', 'revenue', 'sum of total_amount (net of returns) of the segment''s customers, in the currency of the prices'),
			('profiles', 'revenue_share', 'share of the takings: the revenue over that of the segments with a positive revenue (their shares add up to 1; a segment of net returns has a negative share; NULL when no segment has a positive revenue)'),
			('profiles', 'r_score_mean', 'mean recency score (1..5) of the segment''s customers with a purchase'),
			('profiles', 'f_score_mean', 'mean frequency score (1..5) of the segment''s customers with a purchase'),
			('profiles', 'm_score_mean', 'mean monetary score (1..5) of the segment''s customers with a purchase'),
			('profiles', 'rfm_segment', 'named RFM group of the segment''s mean recency and frequency scores, rounded half up'),
			('profiles', 'action', 'suggested marketing action for the segment, from its RFM group and spending; for a segment of net returns, to look into the returns (rules in the README)'),
			('elbow', NULL, 'one row per candidate number of segments: inertia and scores; is_chosen marks the k of the model'),
			('elbow', 'k', 'number of segments'),
			('elbow', 'inertia', 'k-means inertia (sum of squared distances to the centres)'),
			('elbow', 'silhouette', 'mean silhouette (higher is better); over a seeded sample of segment.silhouette_limit() customers beyond that many'),
			('elbow', 'davies_bouldin', 'Davies-Bouldin index (lower is better)'),
			('elbow', 'calinski_harabasz', 'Calinski-Harabasz index (higher is better)'),
			('elbow', 'is_elbow', 'the Kneedle elbow of the inertia curve'),
			('elbow', 'smallest_share', 'share of the customers in the smallest segment at this k (k is only chosen automatically where it is at least 2 %)'),
			('elbow', 'is_chosen', 'the k of the model: the given k, or the best silhouette among 3..8 near the elbow whose smallest segment holds at least 2 % of the customers'),
			('silhouette', NULL, 'one row per segment and one overall row (cluster NULL): silhouette statistics'),
			('silhouette', 'cluster', 'segment number; NULL for all customers'),
			('silhouette', 'customers', 'customers in the segment'),
			('silhouette', 'mean_silhouette', 'mean silhouette'),
			('silhouette', 'min_silhouette', 'lowest silhouette'),
			('silhouette', 'max_silhouette', 'highest silhouette'),
			('silhouette', 'sample_size', 'customers whose silhouette is in the statistics: all, up to segment.silhouette_limit() clustered customers; a seeded sample of that many beyond'),
			('boxplots', NULL, 'one row per segment and clustering feature: the five numbers and whiskers of a box plot, in original units'),
			('boxplots', 'cluster', 'segment number'),
			('boxplots', 'feature', 'clustering feature'),
			('boxplots', 'min', 'smallest value'),
			('boxplots', 'q1', 'first quartile'),
			('boxplots', 'median', 'median'),
			('boxplots', 'q3', 'third quartile'),
			('boxplots', 'max', 'largest value'),
			('boxplots', 'lower_whisker', 'smallest value at least q1 - 1.5 (q3 - q1)'),
			('boxplots', 'upper_whisker', 'largest value at most q3 + 1.5 (q3 - q1)'),
			('boxplots', 'outliers', 'values beyond the whiskers'),
			('pca', NULL, 'one row per principal component and clustering feature: the loadings'),
			('pca', 'component', 'principal component (1 is the largest)'),
			('pca', 'explained_variance_ratio', 'share of the variance along the component'),
			('pca', 'feature', 'clustering feature'),
			('pca', 'loading', 'weight of the feature in the component'),
			('model', NULL, 'one row: the fitted model'),
			('model', 'k', 'number of segments'),
			('model', 'seed', 'seed of k-means'),
			('model', 'as_of', 'reference time of recency'),
			('model', 'fitted_at', 'when the refresh committed'),
			('model', 'iterations', 'Lloyd iterations of the best k-means run'),
			('model', 'inertia', 'k-means inertia'),
			('model', 'customers_clustered', 'customers with a purchase, the customers clustered'),
			('model', 'fitted_rows', 'customers the model was fitted on: all clustered customers, or a seeded sample of them when their vectors do not fit maintenance_work_mem (every customer is assigned all the same)'),
			('model', 'assigned_at', 'when the last refresh (either kind) assigned the customers'),
			('profiles', 'label_source', 'automatic (from the centroid) or user (segment.set_label)'),
			('transitions', NULL, 'one row per pair of segments of the last refresh: how many customers went from one to the other; NULL from = not clustered before (new, or first purchase), NULL to = no longer clustered'),
			('transitions', 'from_cluster', 'segment before the last refresh; NULL for customers not clustered then'),
			('transitions', 'from_label', 'readable name of from_cluster'),
			('transitions', 'to_cluster', 'segment after the last refresh; NULL for customers no longer clustered'),
			('transitions', 'to_label', 'readable name of to_cluster'),
			('transitions', 'customers', 'customers who went from from_cluster to to_cluster'),
			('transitions', 'share_of_from', 'customers as a share of all customers of from_cluster before the refresh'),
			('history', NULL, 'one row per customer and stretch of time in one segment (SCD type 2): a row is closed and a new one opened only when the customer''s segment changes'),
			('history', 'customer_id', 'the customer'),
			('history', 'cluster', 'segment number; NULL for a stretch in which the customer was not clustered'),
			('history', 'label', 'readable name of the segment (the current name for the open row)'),
			('history', 'valid_from', 'when the customer entered the segment, in the data''s time: the as_of of the refresh that saw it'),
			('history', 'valid_to', 'when the customer left it, in the data''s time; NULL for the current segment'),
			('history', 'recorded_at', 'when the refresh that opened the row ran (the clock on the wall)')
		) AS c (result_table, column_name, text)
	LOOP
		IF comment.column_name IS NULL THEN
			EXECUTE format('COMMENT ON TABLE %I.%I IS %L', segmentation, comment.result_table, comment.text);
		ELSE
			EXECUTE format('COMMENT ON COLUMN %I.%I.%I IS %L', segmentation, comment.result_table, comment.column_name, comment.text);
		END IF;
	END LOOP;
	-- the fields of segment.features keep the type's comments
	FOR comment IN
		SELECT a.attname, col_description(a.attrelid, a.attnum) AS text
		FROM pg_attribute a WHERE a.attrelid = 'segment.features'::regclass AND a.attnum > 0
	LOOP
		EXECUTE format('COMMENT ON COLUMN %I.features.%I IS %L', segmentation, comment.attname, comment.text);
	END LOOP;
	FOR feature IN SELECT unnest(s.features) FROM segment.segmentations s WHERE s.name = segmentation LOOP
		EXECUTE format('COMMENT ON COLUMN %I.profiles.%I IS %L', segmentation, feature || '_mean',
			format('mean of %s in the segment, in original units', feature));
		EXECUTE format('COMMENT ON COLUMN %I.profiles.%I IS %L', segmentation, feature || '_z',
			format('mean z-score of the transformed %s in the segment', feature));
	END LOOP;
END
$function$;
COMMENT ON FUNCTION segment.comment_segmentation_tables(text) IS 'comments on the tables of a segmentation and their columns';

-- Give a table of a segmentation a replica identity, unless its owner gave
-- it one: its unique key where the key's columns can be NOT NULL, else the
-- whole row (silhouette has a row for all segments, cluster NULL;
-- transitions' key is an expression).  Without one, every UPDATE and DELETE
-- of the table fails under a publication FOR ALL TABLES (logical
-- replication, change data capture).
CREATE OR REPLACE FUNCTION segment.set_replica_identity(segmentation text, result_table text, unique_key text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	key_column text;
BEGIN
	IF (SELECT c.relreplident FROM pg_class c WHERE c.oid = format('%I.%I', segmentation, result_table)::regclass) <> 'd' THEN
		RETURN;
	END IF;
	IF result_table IN ('silhouette', 'transitions') THEN
		EXECUTE format('ALTER TABLE %I.%I REPLICA IDENTITY FULL', segmentation, result_table);
		RETURN;
	END IF;
	FOREACH key_column IN ARRAY string_to_array(unique_key, ', ') LOOP
		EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN %I SET NOT NULL', segmentation, result_table, key_column);
	END LOOP;
	EXECUTE format('ALTER TABLE %I.%I REPLICA IDENTITY USING INDEX %I', segmentation, result_table, result_table || '_key');
END
$function$;
COMMENT ON FUNCTION segment.set_replica_identity(text, text, text) IS
	'gives a table of a segmentation its unique key (or the whole row) as replica identity, unless its owner gave it one';

-- Convert a column of a segmentation's table to the type its query gives
-- now, keeping the rows (ALTER COLUMN ... TYPE, which rebuilds its unique
-- key); what stops it (a value that does not convert, a view over the
-- column) is raised as 42804 naming the column, both types and the fix
CREATE OR REPLACE FUNCTION segment.convert_segmentation_column(segmentation text, result_table text, column_name name,
		table_type text, query_type text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	reason text;
	reason_detail text;
	reason_code text;
BEGIN
	-- by the assignment cast where there is one (it refuses what does not
	-- fit, where an explicit cast would truncate a varchar or round a
	-- numeric), else by the explicit cast (text to integer)
	BEGIN
		EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN %I TYPE %s', segmentation, result_table, column_name, query_type);
	EXCEPTION WHEN datatype_mismatch THEN
		EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN %I TYPE %s USING %I::%s',
			segmentation, result_table, column_name, query_type, column_name, query_type);
	END;
EXCEPTION WHEN feature_not_supported OR cannot_coerce OR datatype_mismatch OR invalid_text_representation
		OR numeric_value_out_of_range OR string_data_right_truncation OR invalid_parameter_value THEN
	GET STACKED DIAGNOSTICS reason = MESSAGE_TEXT, reason_detail = PG_EXCEPTION_DETAIL, reason_code = RETURNED_SQLSTATE;
	RAISE EXCEPTION USING ERRCODE = '42804',
		MESSAGE = format('cannot convert column %I of %I.%I from %s to %s, the type it has in the source now',
			column_name, segmentation, result_table, table_type, query_type),
		DETAIL = reason || coalesce(': ' || nullif(reason_detail, ''), '.'),
		HINT = CASE reason_code
			WHEN '0A000' THEN 'Drop the views or rules over that column, refresh, then create them again.'
			ELSE format('Convert the customer ids of the source to values of type %s, or drop the segmentation and create it again (its history restarts).',
				query_type) END;
END
$function$;
COMMENT ON FUNCTION segment.convert_segmentation_column(text, text, name, text, text) IS
	'converts a column of a segmentation''s table to the type its query gives now, keeping the rows';

-- Create the tables of a registered segmentation that are missing, empty,
-- with their unique keys and comments, and add the columns a table lacks
-- (a segmentation made by an earlier version); returns the tables created
CREATE OR REPLACE FUNCTION segment.complete_segmentation_tables(segmentation text)
	RETURNS SETOF regclass
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	schema regnamespace := to_regnamespace(quote_ident(segmentation));
	colocate_with regclass := (SELECT segment.colocation_source(s.source, s.customer_column)
							   FROM segment.segmentations s WHERE s.name = segmentation);
	result_table text;
	unique_key text;
	query_column record;
	privilege record;
	changed boolean := false;
BEGIN
	-- (transitions last: its query reads history)
	FOR result_table, unique_key IN
		SELECT t.result_table, t.unique_key FROM segment.segmentation_tables() WITH ORDINALITY AS t (result_table, unique_key, position)
		ORDER BY t.result_table = 'transitions', t.position
	LOOP
		IF NOT EXISTS (SELECT FROM pg_class c WHERE c.relnamespace = schema AND c.relname = result_table) THEN
			EXECUTE format('CREATE TABLE %I.%I AS %s WITH NO DATA', segmentation, result_table,
				segment.segmentation_query(segmentation, result_table));
			EXECUTE format('CREATE UNIQUE INDEX %I ON %I.%I (%s)', result_table || '_key', segmentation, result_table, unique_key);
			PERFORM segment.set_replica_identity(segmentation, result_table, unique_key);
			-- on Citus, a row per customer on the shard of the customer's lines
			IF colocate_with IS NOT NULL AND result_table IN ('features', 'assignments', 'history') THEN
				EXECUTE 'SELECT create_distributed_table($1, ''customer_id'', colocate_with => $2)'
					USING format('%I.%I', segmentation, result_table), colocate_with::text;
			END IF;
			-- whoever may read profiles may read the new table too
			FOR privilege IN
				SELECT a.grantee, a.privilege_type, a.is_grantable
				FROM pg_class c, aclexplode(c.relacl) a
				WHERE c.relnamespace = schema AND c.relname = 'profiles' AND a.grantee <> c.relowner
			LOOP
				EXECUTE format('GRANT %s ON %I.%I TO %s%s', privilege.privilege_type, segmentation, result_table,
					CASE WHEN privilege.grantee = 0 THEN 'PUBLIC' ELSE privilege.grantee::regrole::text END,
					CASE WHEN privilege.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
			END LOOP;
			changed := true;
			RETURN NEXT format('%I.%I', segmentation, result_table)::regclass;
			CONTINUE;
		END IF;
		-- a table made by an earlier version gets its replica identity
		IF EXISTS (SELECT FROM pg_class c WHERE c.relnamespace = schema AND c.relname = result_table || '_key') THEN
			PERFORM segment.set_replica_identity(segmentation, result_table, unique_key);
		END IF;
		-- from one parse of the table's query: the columns it gives and the
		-- table lacks, added; the customer ids, when the source changed their
		-- type (widened from integer to bigint, made text), converted in
		-- place, rows kept
		FOR query_column IN
			SELECT q.column_name, q.column_type, format_type(a.atttypid, a.atttypmod) AS table_type
			FROM segment.query_columns(segment.segmentation_query(segmentation, result_table)) AS q
			LEFT JOIN pg_attribute a ON a.attrelid = format('%I.%I', segmentation, result_table)::regclass
				AND a.attname = q.column_name AND NOT a.attisdropped
			WHERE a.attname IS NULL OR (q.column_name = 'customer_id' AND format_type(a.atttypid, a.atttypmod) <> q.column_type)
			ORDER BY q.ordinal
		LOOP
			IF query_column.table_type IS NULL THEN
				EXECUTE format('ALTER TABLE %I.%I ADD COLUMN %I %s', segmentation, result_table,
					query_column.column_name, query_column.column_type);
			ELSE
				PERFORM segment.convert_segmentation_column(segmentation, result_table, query_column.column_name,
					query_column.table_type, query_column.column_type);
			END IF;
			changed := true;
		END LOOP;
	END LOOP;
	IF changed THEN
		PERFORM segment.comment_segmentation_tables(segmentation);
	END IF;
END
$function$;
COMMENT ON FUNCTION segment.complete_segmentation_tables(text) IS
	'creates the missing tables of a segmentation and adds the columns a table lacks; returns the tables created';

-- Refill one table of a segmentation.  Inside the refresh's transaction:
-- readers keep seeing the old rows until it commits and are never blocked
-- (row versions, not a lock on the table).  The rows go in by column name,
-- so the order of the columns does not matter.  The customers of the
-- silhouettes' sample get their silhouettes after the assignments are in.
CREATE OR REPLACE FUNCTION segment.refresh_segmentation_table(segmentation text, result_table text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	query text := segment.segmentation_query(segmentation, result_table);
	columns text;
BEGIN
	PERFORM segment.enter_phase(segmentation, CASE result_table WHEN 'features' THEN 'writing the features'
		WHEN 'assignments' THEN 'assigning the customers' ELSE 'filling ' || result_table END);
	SELECT string_agg(quote_ident(q.column_name), ', ' ORDER BY q.ordinal) INTO columns
	FROM segment.query_columns(query) AS q;
	EXECUTE format('DELETE FROM %I.%I', segmentation, result_table);
	EXECUTE format('INSERT INTO %I.%I (%s) SELECT %s FROM (%s) AS q', segmentation, result_table, columns, columns, query);
	IF result_table = 'assignments' THEN
		EXECUTE format('UPDATE %I.assignments a SET silhouette = s.silhouette FROM (%s) AS s WHERE a.customer_id = s.customer_id',
			segmentation, segment.segmentation_query(segmentation, 'silhouettes'));
	END IF;
END
$function$;
COMMENT ON FUNCTION segment.refresh_segmentation_table(text, text) IS 'refills one table of a segmentation';

-- The final label of each segment: the user's (segment.set_label) where
-- there is one, else the automatic one; an automatic label that repeats
-- another gets the segment's number, then more until it is unique
CREATE OR REPLACE FUNCTION segment.final_labels(automatic text[], user_labels text[])
	RETURNS text[]
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	labels text[] := '{}';
	label text;
BEGIN
	-- the users' labels first: they are kept as they are
	FOR c IN 1 .. coalesce(cardinality(automatic), 0) LOOP
		labels[c] := user_labels[c];
	END LOOP;
	FOR c IN 1 .. coalesce(cardinality(automatic), 0) LOOP
		CONTINUE WHEN user_labels[c] IS NOT NULL;
		label := automatic[c];
		WHILE label = ANY (labels) LOOP
			label := label || ' ' || c;
		END LOOP;
		labels[c] := label;
	END LOOP;
	RETURN labels;
END
$function$;
COMMENT ON FUNCTION segment.final_labels(text[], text[]) IS
	'the label of each segment: the user''s where set, else the automatic one, kept unique';

-- The automatic k of a segmentation from its candidates' scores: among
-- k = 3..8 whose smallest segment holds at least 2 % of the customers, the
-- best silhouette within one of the Kneedle elbow; else the best silhouette
-- among them; else the elbow.  Ties go to the smaller k.
CREATE OR REPLACE FUNCTION segment.choose_k(ks integer[], silhouettes double precision[], smallest_shares double precision[],
		elbow_k integer)
	RETURNS integer
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT coalesce((
		SELECT u.k FROM unnest(ks, silhouettes, smallest_shares) AS u (k, silhouette, smallest_share)
		WHERE u.k BETWEEN 3 AND 8 AND u.smallest_share >= 0.02
		ORDER BY abs(u.k - elbow_k) > 1, u.silhouette DESC NULLS LAST, u.k
		LIMIT 1), elbow_k)
	$$;
COMMENT ON FUNCTION segment.choose_k(integer[], double precision[], double precision[], integer) IS
	'the automatic number of segments from the candidates'' silhouettes and smallest shares and the elbow';

-- Fit a segmentation anew from its features: standardize, fit every
-- candidate k (the previous k also from the previous centroids: a warm
-- start), choose k, keep the previous numbers and user labels; the result
-- goes to the registry row.  Called by refresh_segmentation (refit).
CREATE OR REPLACE FUNCTION segment.fit_segmentation(segmentation text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	r segment.segmentations;
	vector text;
	n bigint;
	k_max integer;
	sample integer;
	chosen integer;
	elbow_k integer;
	previous_k integer;
	new_scaler segment.scaler;
	new_model_scaler segment.scaler;
	new_model segment.kmeans_model;
	previous double precision[];
	numbers integer[];
	reverse integer[];
	new_user_labels text[];
	new_numbers integer[];
	dims integer;
	distinct_customers bigint;
	fit_rows bigint;
	fingerprint numeric;
	previous_categories text[];
	vectors regclass;
	evaluations regclass;
	fit_source text;
BEGIN
	PERFORM segment.enter_phase(segmentation, 'standardizing the vectors');
	SELECT * INTO STRICT r FROM segment.segmentations s WHERE s.name = segmentation;
	-- the most common country is "domestic" (a customer whose country is
	-- NULL is not)
	IF r.country_column IS NOT NULL THEN
		EXECUTE format('SELECT country FROM %I.features WHERE invoices > 0 AND country IS NOT NULL
						GROUP BY country ORDER BY count(*) DESC, country LIMIT 1', segmentation)
			INTO r.domestic_country;
	END IF;
	-- the notebook recipe's one-hot countries: those of the clustered
	-- customers, in collation order (pandas.get_dummies sorts them too)
	previous_categories := r.categories;
	r.categories := NULL;
	IF r.recipe = 'notebook' AND r.country_column IS NOT NULL THEN
		EXECUTE format('SELECT coalesce(array_agg(DISTINCT f.country ORDER BY f.country), ''{}'') FROM %I.features f
						WHERE %s AND f.country IS NOT NULL', segmentation, segment.segmentation_clustered_sql(r.recipe))
			INTO r.categories;
	END IF;
	-- amounts are counted in typical invoices (the median average invoice
	-- amount at the first fit, kept since), so the unit of the prices does
	-- not matter and the features mean the same at every refresh
	IF r.amount_unit IS NULL THEN
		EXECUTE format('SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY avg_invoice_amount)
						FROM %I.features WHERE invoices > 0 AND avg_invoice_amount > 0', segmentation)
			INTO r.amount_unit;
		r.amount_unit := coalesce(nullif(r.amount_unit, 0), 1);
	END IF;
	UPDATE segment.segmentations s SET domestic_country = r.domestic_country, amount_unit = r.amount_unit,
		categories = r.categories
	WHERE s.name = segmentation;

	-- the raw vectors of the customers clustered (with a purchase, or any
	-- line for the notebook recipe)
	vector := segment.segmentation_vector_sql(r.recipe, r.country_column IS NOT NULL);
	-- (a working table of the refresh: see segment.refresh_segmentation_as_owner)
	EXECUTE format('CREATE UNLOGGED TABLE %1$I.segment_refresh_vectors AS
					SELECT row_number() OVER (ORDER BY f.customer_id) AS id, %2$s AS raw,
						NULL::double precision[] AS vec, NULL::integer AS cluster, true AS in_fit
					FROM %1$I.features f, (SELECT $1 AS domestic_country, $2 AS amount_unit, $3 AS categories) r
					WHERE %3$s', segmentation, vector, segment.segmentation_clustered_sql(r.recipe))
		USING r.domestic_country, r.amount_unit, r.categories;
	vectors := format('%I.segment_refresh_vectors', segmentation)::regclass;
	fit_source := format('SELECT id, vec FROM %s WHERE in_fit', vectors);
	EXECUTE format('SELECT count(*) FROM %s', vectors) INTO n;
	IF n < 3 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('segmentation "%s" needs at least 3 customers with a purchase, the source has %s', segmentation, n);
	END IF;
	IF r.k IS NOT NULL AND r.k > n - 1 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('k (%s) must be below the number of customers with a purchase (%s)', r.k, n);
	END IF;
	-- no k above the number of distinct customers: it could not be filled
	EXECUTE format('SELECT count(DISTINCT v.raw) FROM %s v', vectors) INTO distinct_customers;
	IF distinct_customers < 2 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('segmentation "%s": the %s customers with a purchase all have the same features, there is nothing to segment',
				segmentation, n);
	END IF;
	IF r.k IS NOT NULL AND r.k > distinct_customers THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('k (%s) must not exceed the number of customers with distinct features (%s)', r.k, distinct_customers);
	END IF;

	-- standardize; the domestic flag is only centred, so it weighs like one
	-- standard deviation of a numeric feature and rare countries cannot dominate
	-- (the notebook recipe standardizes every column, as StandardScaler does)
	EXECUTE format('SELECT (s.fitted).* FROM (SELECT segment.scaler_fit(v.raw) AS fitted FROM %s v) AS s', vectors) INTO new_scaler;
	new_model_scaler := new_scaler;
	IF r.country_column IS NOT NULL AND r.recipe = 'rfm' THEN
		new_model_scaler.scale[10] := 1;
	END IF;
	EXECUTE format('UPDATE %s SET vec = segment.scale(raw, $1)', vectors) USING new_model_scaler;
	EXECUTE format('ANALYZE %s', vectors);

	-- bounded memory: when the vectors and the working memory of
	-- segment.evaluate (about 32 bytes per element and 400 per row at k = 10)
	-- do not fit maintenance_work_mem, fit on a seeded sample and assign
	-- every row
	fit_rows := least(n, floor(pg_size_bytes(current_setting('maintenance_work_mem'))
		/ (32.0 * array_length(new_model_scaler.mean, 1) + 512))::bigint);
	IF fit_rows < n THEN
		EXECUTE format('UPDATE %1$s v SET in_fit = v.id IN (
			SELECT id FROM %1$s ORDER BY md5(id::text || $1::text), id LIMIT $2)', vectors) USING r.seed, fit_rows;
	END IF;

	-- the previous centroids in the new standardized space: the warm start
	-- of the previous k, and what the new clusters are matched to
	dims := array_length(new_model_scaler.mean, 1);
	-- (not across a change of recipe or of the one-hot countries: the
	-- elements would mean something else)
	IF r.model IS NOT NULL AND (r.model).dims = dims AND r.model_scaler IS NOT NULL
		AND r.model_recipe = r.recipe AND r.categories IS NOT DISTINCT FROM previous_categories THEN
		-- (a damaged stored model raises its error here)
		PERFORM segment.kmeans_assign(array_fill(0::double precision, ARRAY[dims]), r.model);
		previous_k := (r.model).k;
		previous := (SELECT array_agg(segment.scale(segment.unscale(
							ARRAY(SELECT (r.model).centroids[c][j] FROM generate_series(1, dims) AS j),
							r.model_scaler), new_model_scaler) ORDER BY c)
					 FROM generate_series(1, previous_k) AS c);
	END IF;

	-- a source unchanged since the last fit (the same vectors: a sum of
	-- their hashes, each seeded by its row) fitted on as many rows, with
	-- the same k and seed, keeps its model: every customer keeps its segment
	EXECUTE format('SELECT sum(hashtextextended(v.raw::text, v.id)::numeric) FROM %s v', vectors) INTO fingerprint;
	IF r.model IS NOT NULL AND fingerprint = r.fit_fingerprint AND new_model_scaler = r.model_scaler
		AND r.model_recipe = r.recipe AND r.categories IS NOT DISTINCT FROM previous_categories
		AND r.fitted_rows = fit_rows AND (r.model).seed = r.seed AND (r.k IS NULL OR r.k = (r.model).k) THEN
		UPDATE segment.segmentations s SET fitted_at = clock_timestamp(), customers_clustered = n, renumbering = NULL
		WHERE s.name = segmentation;
		EXECUTE format('DROP TABLE %s', vectors);
		RETURN;
	END IF;

	-- every candidate k with its scores, from one read of the vectors
	-- (segment.evaluate fits each k as segment.elbow and segment.kmeans_fit
	-- do and scores it as silhouette, davies_bouldin and calinski_harabasz).
	-- The previous k also refits from the previous centroids: one Lloyd
	-- step, so each segment keeps its customers and its centre moves to
	-- their new mean.  That model stays unless the fresh fit's inertia is
	-- lower by more than 2 %: a month of new data lowers a fresh fit's
	-- inertia by about a percent while reshuffling many customers, which is
	-- no reason to move them (README, "Keeping segments fresh").
	k_max := least(10, n - 1, distinct_customers);
	PERFORM segment.enter_phase(segmentation, format('fitting and scoring k = 2..%s', greatest(k_max, r.k)));
	DELETE FROM segment.segmentation_scores s WHERE s.name = segmentation;
	sample := CASE WHEN fit_rows > segment.silhouette_limit() THEN segment.silhouette_limit() END;
	EXECUTE format('CREATE UNLOGGED TABLE %I.segment_refresh_evaluations AS
					SELECT * FROM segment.evaluate($1, 2, $2, 10, $3, $4, $5)', segmentation)
		USING fit_source, k_max, r.seed, sample, previous;
	evaluations := format('%I.segment_refresh_evaluations', segmentation)::regclass;
	IF r.k > k_max THEN
		EXECUTE format('INSERT INTO %s
			SELECT e.k, e.model, e.inertia, e.silhouette, e.davies_bouldin, e.calinski_harabasz, e.sizes,
				e.smallest_share, false, e.from_start
			FROM segment.evaluate($1, $2, $2, 10, $3, $4, $5) AS e', evaluations)
			USING fit_source, r.k, r.seed, sample, previous;
	END IF;
	EXECUTE format('INSERT INTO segment.segmentation_scores (name, k, inertia, silhouette, davies_bouldin,
			calinski_harabasz, smallest_share, is_elbow, is_chosen)
		SELECT $1, e.k, e.inertia, e.silhouette, e.davies_bouldin, e.calinski_harabasz,
			e.smallest_share, e.is_elbow, false
		FROM %s AS e', evaluations) USING segmentation;

	-- the k: the one asked for; else, among 3..8 with every segment at least
	-- 2 % of the customers, the best silhouette within one of the elbow; else
	-- the best such silhouette; else the elbow
	SELECT s.k INTO elbow_k FROM segment.segmentation_scores s WHERE s.name = segmentation AND s.is_elbow;
	IF r.k IS NOT NULL THEN
		chosen := r.k;
	ELSE
		SELECT segment.choose_k(array_agg(s.k ORDER BY s.k), array_agg(s.silhouette ORDER BY s.k),
			array_agg(s.smallest_share ORDER BY s.k), elbow_k) INTO chosen
		FROM segment.segmentation_scores s WHERE s.name = segmentation;
		-- hysteresis: the previous k stays while it still qualifies (3..8,
		-- every segment at least 2 %) and is within two of the new elbow (the
		-- Kneedle elbow of a flat inertia curve moves by one at the slightest
		-- change of the data)
		IF previous_k IS NOT NULL AND chosen <> previous_k AND abs(previous_k - elbow_k) <= 2 AND EXISTS (
			SELECT FROM segment.segmentation_scores p
			WHERE p.name = segmentation AND p.k = previous_k AND p.k BETWEEN 3 AND 8 AND p.smallest_share >= 0.02) THEN
			chosen := previous_k;
		END IF;
	END IF;
	EXECUTE format('SELECT (e.model).* FROM %s AS e WHERE e.k = $1', evaluations) INTO new_model USING chosen;
	UPDATE segment.segmentation_scores s SET is_chosen = (s.k = chosen) WHERE s.name = segmentation;

	-- a model fitted on a sample reports the inertia of all the customers
	IF fit_rows < n THEN
		EXECUTE format('SELECT sum(segment.kmeans_distance(v.vec, $1) ^ 2) FROM %s v', vectors)
			INTO new_model.inertia USING new_model;
	END IF;

	-- keep the previous model's numbers: match the centroids; the user's
	-- labels follow their segments (each previous segment to the new one
	-- matched to it)
	IF previous IS NOT NULL THEN
		numbers := segment.match_clusters(previous, (new_model).centroids);
		new_model.centroids := (
			SELECT array_agg(renumbered.centroid ORDER BY renumbered.number)
			FROM (SELECT numbers[c] AS number,
						 ARRAY(SELECT (new_model).centroids[c][j] FROM generate_series(1, dims) AS j) AS centroid
				  FROM generate_series(1, (new_model).k) AS c) AS renumbered);
		-- each previous segment's new number (NULL: no new segment matches it)
		reverse := segment.match_clusters((new_model).centroids, previous);
		new_numbers := ARRAY(SELECT CASE WHEN reverse[o] <= (new_model).k THEN reverse[o] END
							 FROM generate_series(1, previous_k) AS o ORDER BY o);
		IF r.user_labels IS NOT NULL THEN
			new_user_labels := (SELECT array_agg(
								(SELECT r.user_labels[o] FROM generate_series(1, previous_k) AS o WHERE reverse[o] = c LIMIT 1)
								ORDER BY c)
							FROM generate_series(1, (new_model).k) AS c);
		END IF;
	END IF;

	UPDATE segment.segmentations s
	SET fitted_at = clock_timestamp(),
		renumbering = new_numbers,
		scaler = new_scaler,
		model_scaler = new_model_scaler,
		model = new_model,
		pca = segment.pca_fit(fit_source, least(2, dims)),
		user_labels = new_user_labels,
		labels = segment.final_labels(segment.segmentation_automatic_labels(r, (new_model).centroids), new_user_labels),
		customers_clustered = n,
		model_recipe = r.recipe,
		fitted_rows = fit_rows,
		fit_fingerprint = fingerprint
	WHERE s.name = segmentation;
	EXECUTE format('DROP TABLE %s, %s', vectors, evaluations);
END
$function$;
COMMENT ON FUNCTION segment.fit_segmentation(text) IS
	'fits a segmentation anew from its features, warm-started from its previous model';

-- Keep history up to date with the assignments just made, at time at (the
-- data's time: the refresh's as_of): the open row of a customer whose
-- segment changed is closed and a new one opened (with cluster NULL for a
-- customer no longer clustered).  A refit that lowers k renumbers segments
-- (segmentations.renumbering maps each previous number to the new one): a
-- row stays open only when its segment keeps its customer and its number,
-- so history replays every refresh's assignments.  A refresh at the same
-- time as the last one (same_time) corrects what that one recorded: the rows
-- it opened for customers that moved again are taken back; their previous
-- rows, closed at that time, are reopened first (reopen) when their numbers
-- mean what the last refresh's numbers meant (it had a model to start from
-- and did not renumber), else they stay closed and the new rows start
-- there.  The open rows carry the segments' current labels.
CREATE OR REPLACE FUNCTION segment.record_history(segmentation text, at timestamptz, recorded_at timestamptz,
		same_time boolean, reopen boolean)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	renumbering integer[] := (SELECT s.renumbering FROM segment.segmentations s WHERE s.name = segmentation);
	-- an open row h whose customer's segment (or number) is no longer its own
	moved text := format($sql$ NOT EXISTS (
			SELECT FROM %1$I.assignments a WHERE a.customer_id = h.customer_id AND a.cluster IS NOT DISTINCT FROM h.cluster
				AND ($2 IS NULL OR h.cluster IS NULL OR $2[h.cluster] IS NOT DISTINCT FROM h.cluster)) $sql$, segmentation);
BEGIN
	IF same_time THEN
		EXECUTE format($sql$
			WITH taken_back AS (
				DELETE FROM %1$I.history h WHERE h.valid_from = $1 AND h.valid_to IS NULL AND %2$s
				RETURNING h.customer_id)
			UPDATE %1$I.history h SET valid_to = NULL
			FROM taken_back t WHERE $3 AND h.customer_id = t.customer_id AND h.valid_to = $1 $sql$,
			segmentation, moved) USING at, renumbering, reopen;
	END IF;
	EXECUTE format($sql$
		UPDATE %1$I.history h SET valid_to = $1
		WHERE h.valid_to IS NULL AND %2$s $sql$,
		segmentation, moved) USING at, renumbering;
	EXECUTE format($sql$
		INSERT INTO %1$I.history (customer_id, cluster, label, valid_from, valid_to, recorded_at)
		SELECT a.customer_id, a.cluster, p.label, $1, NULL, $2
		FROM %1$I.assignments a LEFT JOIN %1$I.profiles p USING (cluster)
		WHERE NOT EXISTS (SELECT FROM %1$I.history h WHERE h.customer_id = a.customer_id AND h.valid_to IS NULL)
			AND (a.cluster IS NOT NULL OR EXISTS (SELECT FROM %1$I.history h WHERE h.customer_id = a.customer_id)) $sql$,
		segmentation) USING at, recorded_at;
	EXECUTE format($sql$
		UPDATE %1$I.history h SET label = p.label
		FROM %1$I.profiles p WHERE h.valid_to IS NULL AND h.cluster = p.cluster AND h.label IS DISTINCT FROM p.label $sql$,
		segmentation);
END
$function$;
COMMENT ON FUNCTION segment.record_history(text, timestamptz, timestamptz, boolean, boolean) IS
	'closes and opens the history rows of the customers whose segment changed';

-- Raise 22023 when as_of is before the time history runs to (history is in
-- the data's time: it cannot record the past after the present)
CREATE OR REPLACE FUNCTION segment.check_history_time(segmentation text, as_of timestamp, history_as_of timestamp)
	RETURNS void
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
BEGIN
	IF as_of < history_as_of THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('as_of %s is before the history of segmentation "%s", which runs to %s',
				as_of, segmentation, history_as_of),
			DETAIL = 'History records each refresh at its as_of, the data''s time, and does not go back.',
			HINT = format('Create another segmentation with as_of => %L to see the segments of that time.', as_of);
	END IF;
END
$function$;
COMMENT ON FUNCTION segment.check_history_time(text, timestamp, timestamp) IS
	'raises 22023 when as_of is before the time the history of a segmentation runs to';

-- Raise 42501 unless the current role may change segmentation name, whose
-- owner is owner_role: it is that role, a member with its privileges, or a
-- superuser (who may REFRESH MATERIALIZED VIEW a view of that owner)
CREATE OR REPLACE FUNCTION segment.check_owner_rights(segmentation text, owner_role oid)
	RETURNS void
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
BEGIN
	IF NOT coalesce((SELECT pg_has_role(a.oid, 'USAGE') FROM pg_roles a WHERE a.oid = owner_role), false)
		AND NOT coalesce((SELECT a.rolsuper FROM pg_roles a WHERE a.rolname = current_user), false) THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = format('must be owner of segmentation "%s"', segmentation),
			DETAIL = format('Only its owner %s, a member of that role or a superuser may change it.',
				coalesce((SELECT quote_ident(a.rolname) FROM pg_roles a WHERE a.oid = owner_role), owner_role::text));
	END IF;
END
$function$;
COMMENT ON FUNCTION segment.check_owner_rights(text, oid) IS
	'raises 42501 unless the current role is the owner of a segmentation, a member of it or a superuser';

-- The registry row of segmentation name, locked FOR UPDATE, so that a
-- refresh, alter, label, trim or drop of it waits for another: 42704 when
-- the caller cannot see it, 42501 when it may see it (a reader) but has not
-- the owner's rights (row-level security lets a reader see the row, not
-- lock it).  The rights are checked again on the locked row, whose owner
-- may have moved meanwhile.
CREATE OR REPLACE FUNCTION segment.lock_segmentation(segmentation text)
	RETURNS segment.segmentations
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	r segment.segmentations;
BEGIN
	SELECT * INTO r FROM segment.segmentations s WHERE s.name = segmentation;
	IF FOUND THEN
		PERFORM segment.check_owner_rights(segmentation, segment.segmentation_owner(r.schema, r.owner));
	END IF;
	SELECT * INTO r FROM segment.segmentations s WHERE s.name = segmentation FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = '42704', MESSAGE = format('segmentation "%s" does not exist', segmentation);
	END IF;
	PERFORM segment.check_owner_rights(segmentation, segment.segmentation_owner(r.schema, r.owner));
	RETURN r;
END
$function$;
COMMENT ON FUNCTION segment.lock_segmentation(text) IS
	'the registry row of a segmentation, locked, after the caller''s rights to change it are checked';

-- refresh_segmentation: recompute a segmentation in one transaction; with
-- refit => false only assign the customers with the stored model.  The
-- caller's part: the arguments, the rights, the lock; the work itself runs
-- as the segmentation's owner, security-restricted (segment.execute_as_owner,
-- as REFRESH MATERIALIZED VIEW runs a view's query as the view's owner), so
-- that nothing the owner attached to its tables or its source ever runs with
-- the caller's rights
CREATE OR REPLACE FUNCTION segment.refresh_segmentation(name text, refit boolean DEFAULT true)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	r segment.segmentations;
	segmentation text := refresh_segmentation.name;
	owner_role oid;
BEGIN
	IF segmentation IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'name must not be NULL';
	END IF;
	IF refit IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'refit must not be NULL';
	END IF;
	-- one refresh of a segmentation at a time: the row lock waits for another
	r := segment.lock_segmentation(segmentation);
	owner_role := segment.segmentation_owner(r.schema, r.owner);
	IF NOT EXISTS (SELECT FROM pg_namespace n WHERE n.oid = r.schema AND n.nspname = segmentation) THEN
		RAISE EXCEPTION USING ERRCODE = '3F000',
			MESSAGE = format('schema "%s" of segmentation "%s" does not exist', segmentation, segmentation),
			HINT = format('It was dropped or renamed by hand: segment.drop_segmentation(%L) removes the record, then create the segmentation again.', segmentation);
	END IF;
	IF NOT refit AND r.model IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '55000',
			MESSAGE = format('segmentation "%s" has no model to assign with', segmentation),
			HINT = 'Refresh it with refit => true first.';
	END IF;
	IF NOT refit AND r.model_recipe IS DISTINCT FROM r.recipe THEN
		RAISE EXCEPTION USING ERRCODE = '55000',
			MESSAGE = format('segmentation "%s" has recipe %s, its model was fitted with recipe %s', segmentation, r.recipe, r.model_recipe),
			HINT = 'Refresh it with refit => true first.';
	END IF;
	PERFORM segment.execute_as_owner(segmentation, owner_role::regrole,
		format('SELECT segment.refresh_segmentation_as_owner(%L, %L)', segmentation, refit));
END
$function$;
COMMENT ON FUNCTION segment.refresh_segmentation(text, boolean) IS
	'recomputes a segmentation in one transaction (refit => false: assigns with the stored model); readers see the old results until it commits';

-- Raise 42501 unless the current user is the owner of segmentation name:
-- the functions that do a segmentation's work run inside
-- segment.execute_as_owner, never straight from a caller with other rights
CREATE OR REPLACE FUNCTION segment.check_running_as_owner(segmentation text, called text)
	RETURNS void
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
BEGIN
	IF NOT EXISTS (SELECT FROM segment.segmentations s JOIN pg_namespace n ON n.oid = s.schema
				   JOIN pg_roles a ON a.oid = n.nspowner
				   WHERE s.name = segmentation AND a.rolname = current_user) THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = format('%s runs only as the owner of segmentation "%s"', called, segmentation),
			HINT = 'Call segment.refresh_segmentation, segment.set_label or segment.trim_history.';
	END IF;
END
$function$;
COMMENT ON FUNCTION segment.check_running_as_owner(text, text) IS
	'raises 42501 unless the current user owns a segmentation (the work of a refresh runs as the owner)';

-- The work of a refresh, as the segmentation's owner inside
-- segment.execute_as_owner.  Its working tables (segment_refresh_customers,
-- segment_refresh_vectors, segment_refresh_evaluations,
-- segment_refresh_sample) are unlogged tables
-- in the segmentation's own schema, made and dropped inside the refresh's
-- transaction, so no other session ever sees them: a security-restricted
-- operation may not make temporary tables, whose names would come first in
-- the caller's search path after it.
CREATE OR REPLACE FUNCTION segment.refresh_segmentation_as_owner(name text, refit boolean)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	r segment.segmentations;
	segmentation text := refresh_segmentation_as_owner.name;
	customers regclass;
	in_the_way text;
	refreshed_at timestamptz;
	caller_work_mem text := current_setting('work_mem');
	caller_gather_workers text := current_setting('max_parallel_workers_per_gather');
	nothing_bought boolean;
	same_time boolean;
	reopen boolean;
BEGIN
	PERFORM segment.check_running_as_owner(segmentation, 'segment.refresh_segmentation_as_owner');
	-- each phase shows in pg_stat_activity (and segment.progress), and with
	-- segment.report_phases on its time is printed at its end
	PERFORM segment.enter_phase(segmentation, 'grouping the lines by customer');
	SELECT * INTO STRICT r FROM segment.segmentations s WHERE s.name = segmentation;
	in_the_way := (SELECT string_agg(format('%I.%I', segmentation, c.relname), ', ' ORDER BY c.relname) FROM pg_class c
				   WHERE c.relnamespace = r.schema
					AND c.relname IN ('segment_refresh_customers', 'segment_refresh_vectors', 'segment_refresh_evaluations',
						'segment_refresh_sample'));
	IF in_the_way IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = '42P07',
			MESSAGE = format('cannot refresh segmentation "%s": %s is in the way', segmentation, in_the_way),
			DETAIL = 'A refresh makes working tables of that name in the segmentation''s schema for the length of its transaction.',
			HINT = 'Rename or move that object.';
	END IF;
	-- the source: the same table or view, or when that was dropped, one of the
	-- same name (a reload that drops and creates it again); nothing depends
	-- on it, so dropping it leaves the results in place
	r.source := coalesce((SELECT c.oid FROM pg_class c WHERE c.oid = r.source), to_regclass(r.source_name));
	IF r.source IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '42P01',
			MESSAGE = format('the source %s of segmentation "%s" does not exist', r.source_name, segmentation),
			DETAIL = 'Its table or view was dropped; the segmentation''s tables keep the results of the last refresh.',
			HINT = format('Create %s again, or drop the segmentation with segment.drop_segmentation(%L) and create it on another source.',
				r.source_name, segmentation);
	END IF;
	r.source_name := (SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
					  WHERE c.oid = r.source);
	-- its mapping still fits it (the source may have changed since)
	PERFORM segment.check_source_columns(r, segmentation);

	-- calendar units in the time zone of the creation, whoever refreshes
	-- (segment.execute_as_owner restores the caller's settings)
	PERFORM set_config('TimeZone', r.time_zone, true);
	-- numbers written into the queries (the model in the assignments' query)
	-- as the shortest text that reads back as the same bits, whatever the
	-- caller's extra_float_digits
	PERFORM set_config('extra_float_digits', '1', true);
	-- the lines grouped by customer, in one scan of the source; the GROUP BY
	-- is a maintenance operation in one process, so its hash table may use
	-- maintenance_work_mem, as CREATE INDEX does, rather than spill to disk
	-- at work_mem
	IF pg_size_bytes(current_setting('maintenance_work_mem')) > pg_size_bytes(current_setting('work_mem')) THEN
		PERFORM set_config('work_mem', current_setting('maintenance_work_mem'), true);
	END IF;
	-- and it may run in parallel, with as many workers as segment's own
	-- operations get (segment.parallel_workers: no more processes than
	-- CPUs), within what the caller allows its queries
	PERFORM set_config('max_parallel_workers_per_gather',
		least(caller_gather_workers::integer, segment.parallel_workers())::text, true);
	EXECUTE format('CREATE UNLOGGED TABLE %I.segment_refresh_customers AS ', segmentation) || segment.segmentation_customers_sql(r);
	customers := format('%I.segment_refresh_customers', segmentation)::regclass;
	PERFORM set_config('max_parallel_workers_per_gather', caller_gather_workers, true);
	PERFORM set_config('work_mem', caller_work_mem, true);
	-- a source without one purchase is a reload under way (TRUNCATE, then
	-- COPY), not a shop whose customers all left: keep the last results
	EXECUTE format('SELECT NOT EXISTS (SELECT FROM %s c WHERE (c.f).invoices > 0)', customers) INTO nothing_bought;
	IF nothing_bought THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('the source %s of segmentation "%s" has no purchase', r.source_name, segmentation),
			DETAIL = 'The segmentation keeps the results of its last refresh.',
			HINT = 'A reload of the source may be under way: refresh again once it is loaded.';
	END IF;
	IF r.as_of IS NULL THEN
		EXECUTE format('SELECT max(c.last_line) FROM %s c', customers) INTO r.used_as_of;
	ELSE
		r.used_as_of := r.as_of;
	END IF;
	-- history is kept in the data's time, which does not run back: an as_of
	-- before the latest time of the history is refused, and a latest line
	-- deleted since the last refresh leaves the history's clock where it was
	PERFORM segment.check_history_time(segmentation, r.as_of, r.history_as_of);
	same_time := r.history_as_of IS NOT NULL AND r.used_as_of <= r.history_as_of;
	-- the numbers of the rows the last refresh closed mean what its own
	-- numbers mean: it started from a model and renumbered nothing
	reopen := r.model IS NOT NULL AND r.renumbering IS NULL;
	r.history_as_of := greatest(r.used_as_of, r.history_as_of);
	-- the owner of the schema owns the segmentation (ownership may have moved)
	UPDATE segment.segmentations s
	SET source = r.source, source_name = r.source_name, used_as_of = r.used_as_of, history_as_of = r.history_as_of,
		owner = segment.segmentation_owner(s.schema, s.owner)::regrole
	WHERE s.name = segmentation;
	-- a new segmentation gets its tables; one made by an earlier version
	-- the tables and columns it lacks
	PERFORM segment.complete_segmentation_tables(segmentation);
	-- DROP EXTENSION refuses while the segmentation's tables live
	PERFORM segment.depend_segmentation_on_extension(segmentation);
	PERFORM segment.refresh_segmentation_table(segmentation, 'features');
	EXECUTE format('DROP TABLE %s', customers);

	IF refit THEN
		PERFORM segment.fit_segmentation(segmentation);
	ELSE
		-- the stored scaler and model assign every customer, new ones too
		EXECUTE format('SELECT count(*) FROM %I.features f WHERE %s', segmentation, segment.segmentation_clustered_sql(r.recipe))
			INTO r.customers_clustered;
		UPDATE segment.segmentations s SET customers_clustered = r.customers_clustered, renumbering = NULL
		WHERE s.name = segmentation;
	END IF;
	refreshed_at := clock_timestamp();
	UPDATE segment.segmentations s SET assigned_at = refreshed_at WHERE s.name = segmentation;

	-- the customers of the silhouettes' sample, drawn once for the
	-- assignments (on Citus: gathered from the shards once)
	PERFORM segment.enter_phase(segmentation, 'drawing the silhouettes'' sample');
	EXECUTE format('CREATE UNLOGGED TABLE %I.segment_refresh_sample AS ', segmentation)
		|| segment.segmentation_query(segmentation, 'sample');
	PERFORM segment.refresh_segmentation_table(segmentation, t.result_table)
	FROM segment.segmentation_tables() AS t
	WHERE t.result_table NOT IN ('features', 'history') AND (refit OR t.result_table <> 'elbow');
	EXECUTE format('DROP TABLE %I.segment_refresh_sample', segmentation);
	PERFORM segment.enter_phase(segmentation, 'recording history');
	PERFORM segment.record_history(segmentation, r.history_as_of AT TIME ZONE r.time_zone, refreshed_at, same_time, reopen);
	PERFORM segment.enter_phase(segmentation, NULL);
END
$function$;
COMMENT ON FUNCTION segment.refresh_segmentation_as_owner(text, boolean) IS
	'the work of segment.refresh_segmentation, as the segmentation''s owner inside segment.execute_as_owner';

-- The errors of a name already taken by a schema or a segmentation
CREATE OR REPLACE FUNCTION segment.raise_schema_exists(segmentation text)
	RETURNS void
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
BEGIN
	RAISE EXCEPTION USING ERRCODE = '42P06', MESSAGE = format('schema "%s" already exists', segmentation),
		HINT = 'A segmentation creates a schema of its name (or takes back one of yours that holds a segmentation''s history): choose another name or drop that schema.';
END
$function$;
COMMENT ON FUNCTION segment.raise_schema_exists(text) IS 'raises the error of a segmentation name taken by a schema';

CREATE OR REPLACE FUNCTION segment.raise_segmentation_exists(segmentation text)
	RETURNS void
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
BEGIN
	RAISE EXCEPTION USING ERRCODE = '42710', MESSAGE = format('segmentation "%s" already exists', segmentation),
		HINT = format('A segmentation of this name is recorded although its schema is gone: its owner (or a superuser) removes the record with segment.drop_segmentation(%L).', segmentation);
END
$function$;
COMMENT ON FUNCTION segment.raise_segmentation_exists(text) IS 'raises the error of a segmentation name already registered';

-- Forget the registry row of segmentation name when nobody can own it any
-- more: its schema is gone and so is the role that owned it (DROP OWNED BY,
-- then DROP ROLE), so that its name is free again.  The only function that
-- runs with the extension owner's rights: it deletes nothing else, and no
-- one could have read or refreshed that row.
CREATE OR REPLACE FUNCTION segment.forget_orphaned_segmentation(name text)
	RETURNS boolean
	LANGUAGE sql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	WITH forgotten AS (
		DELETE FROM segment.segmentations s
		WHERE s.name = forget_orphaned_segmentation.name
			AND NOT EXISTS (SELECT FROM pg_namespace n WHERE n.oid = s.schema)
			AND NOT EXISTS (SELECT FROM pg_roles a WHERE a.oid = s.owner)
		RETURNING 1)
	SELECT EXISTS (SELECT FROM forgotten)
	$$;
COMMENT ON FUNCTION segment.forget_orphaned_segmentation(text) IS
	'deletes the registry row of a segmentation whose schema and owning role were both dropped; returns whether it did';

-- The schema a create_segmentation of this name takes back, if any: one
-- made by create_segmentation (its comment says so, and pg_dump -n keeps
-- it), of a role the caller has the rights of, that holds a segmentation's
-- history with its key, whose tables of a segmentation's names are all
-- tables of the schema's owner, and that no registry row claims (restored
-- from a one-schema dump, or left by DROP EXTENSION ... CASCADE of another
-- version)
CREATE OR REPLACE FUNCTION segment.segmentation_schema_to_take_back(segmentation text)
	RETURNS regnamespace
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT n.oid::regnamespace FROM pg_namespace n
	WHERE n.nspname = segmentation AND pg_has_role(n.nspowner, 'USAGE')
		AND obj_description(n.oid, 'pg_namespace') ~ ('^segmentation ' || segmentation || ' of .*, made by segment\.create_segmentation$')
		AND (SELECT count(*) FROM pg_attribute a
			 WHERE a.attrelid = (SELECT c.oid FROM pg_class c WHERE c.relnamespace = n.oid AND c.relname = 'history' AND c.relkind = 'r')
				AND a.attname IN ('customer_id', 'cluster', 'label', 'valid_from', 'valid_to') AND NOT a.attisdropped) = 5
		AND EXISTS (SELECT FROM pg_class c WHERE c.relnamespace = n.oid AND c.relname = 'history_key' AND c.relkind = 'i')
		AND NOT EXISTS (SELECT FROM pg_class c
						WHERE c.relnamespace = n.oid AND c.relname IN (SELECT t.result_table FROM segment.segmentation_tables() t)
							AND (c.relkind <> 'r' OR c.relowner <> n.nspowner))
		AND NOT EXISTS (SELECT FROM segment.segmentations s WHERE s.name = segmentation)
	$$;
COMMENT ON FUNCTION segment.segmentation_schema_to_take_back(text) IS
	'the schema a create_segmentation of this name takes back: a segmentation''s, of the caller''s, without a registry row';

-- create_segmentation: create the schema, register, create the tables, and fit
CREATE OR REPLACE FUNCTION segment.create_segmentation(name text, source regclass, k integer DEFAULT NULL,
		customer_column name DEFAULT 'customer_id', invoice_column name DEFAULT 'invoice_no',
		time_column name DEFAULT 'invoice_date', quantity_column name DEFAULT 'quantity',
		price_column name DEFAULT 'unit_price', country_column name DEFAULT 'country',
		as_of timestamp DEFAULT NULL, seed bigint DEFAULT 0, recipe text DEFAULT 'rfm')
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	segmentation text := create_segmentation.name;
	taken_back regnamespace;
	history_runs_to timestamp;
BEGIN
	PERFORM segment.check_segmentation_name(segmentation);
	PERFORM segment.check_source(source);
	IF seed IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'seed must not be NULL';
	END IF;
	IF k IS NOT NULL AND k < 2 THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('k must be at least 2, not %s', k);
	END IF;
	PERFORM segment.check_as_of(as_of);
	PERFORM segment.check_recipe(recipe);
	PERFORM segment.check_source_column(source, 'customer_column', customer_column);
	PERFORM segment.check_source_column(source, 'invoice_column', invoice_column);
	PERFORM segment.check_source_column(source, 'time_column', time_column);
	PERFORM segment.check_source_column(source, 'quantity_column', quantity_column);
	PERFORM segment.check_source_column(source, 'price_column', price_column);
	IF country_column IS NOT NULL THEN
		PERFORM segment.check_source_column(source, 'country_column', country_column);
	END IF;
	IF NOT has_table_privilege(source, 'SELECT') THEN
		RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = format('permission denied for relation %s', source);
	END IF;
	-- the source's code runs with the owner's rights at every refresh, as a
	-- SELECT from it would: say so when that is a superuser's and the source
	-- another role's
	IF EXISTS (SELECT FROM pg_roles a JOIN pg_class c ON c.oid = source
			   WHERE a.rolname = current_user AND a.rolsuper AND c.relowner <> a.oid) THEN
		RAISE WARNING USING
			MESSAGE = format('segmentation "%s" belongs to a superuser and reads %s, which belongs to role %s',
				segmentation, source, (SELECT c.relowner::regrole FROM pg_class c WHERE c.oid = source)),
			DETAIL = 'What that role attaches to the source (functions in a view, row-level security policies) runs with a superuser''s rights at every refresh.',
			HINT = 'Create the segmentation as a role with fewer rights that may read the source, or as its owner.';
	END IF;
	-- one creation of a name at a time: a second session waits here, then
	-- sees the first one's schema
	PERFORM pg_advisory_xact_lock(hashtext('segment.create_segmentation'), hashtext(segmentation));
	IF segment.forget_orphaned_segmentation(segmentation) THEN
		RAISE NOTICE USING
			MESSAGE = format('the record of segmentation "%s", whose schema and owner were dropped, is forgotten', segmentation);
	END IF;
	taken_back := segment.segmentation_schema_to_take_back(segmentation);
	IF taken_back IS NULL AND EXISTS (SELECT FROM pg_namespace n WHERE n.nspname = segmentation) THEN
		PERFORM segment.raise_schema_exists(segmentation);
	END IF;
	IF EXISTS (SELECT FROM segment.segmentations s WHERE s.name = segmentation) THEN
		PERFORM segment.raise_segmentation_exists(segmentation);
	END IF;

	IF taken_back IS NOT NULL THEN
		EXECUTE format('SELECT max(greatest(h.valid_from, h.valid_to)) AT TIME ZONE %L FROM %I.history h',
			current_setting('TimeZone'), segmentation) INTO history_runs_to;
		PERFORM segment.check_history_time(segmentation, as_of, history_runs_to);
		RAISE NOTICE USING
			MESSAGE = format('segmentation "%s" takes back the tables of schema "%s"', segmentation, segmentation),
			DETAIL = 'Their rows are refreshed and history goes on from its last row; segment numbers start anew and labels given with segment.set_label are not kept.';
	ELSE
		-- the schema first: the registry's row-level security admits a row only
		-- for a schema of the caller's
		BEGIN
			EXECUTE format('CREATE SCHEMA %I', segmentation);
		EXCEPTION WHEN unique_violation OR duplicate_schema THEN
			PERFORM segment.raise_schema_exists(segmentation);
		END;
		EXECUTE format('COMMENT ON SCHEMA %I IS %L', segmentation,
			format('segmentation %s of %s, made by segment.create_segmentation', segmentation, source));
	END IF;
	BEGIN
		INSERT INTO segment.segmentations (name, schema, source, source_name, k, customer_column, invoice_column, time_column,
			quantity_column, price_column, country_column, as_of, seed, time_zone, features, recipe, history_as_of)
		VALUES (segmentation, to_regnamespace(quote_ident(segmentation)), source,
			(SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			 WHERE c.oid = source),
			k, customer_column, invoice_column, time_column,
			quantity_column, price_column, country_column, as_of, seed, current_setting('TimeZone'),
			segment.segmentation_features(recipe, country_column IS NOT NULL), recipe, history_runs_to);
	EXCEPTION WHEN unique_violation THEN
		-- a row of another role's, hidden by row-level security
		PERFORM segment.raise_segmentation_exists(segmentation);
	END;
	-- (the refresh creates the tables)
	PERFORM segment.refresh_segmentation(segmentation);
END
$function$;
COMMENT ON FUNCTION segment.create_segmentation(text, regclass, integer, name, name, name, name, name, name, timestamp, bigint, text) IS
	'segments the customers of a table of invoice lines into schema "name", with tables for BI tools';

-- alter_segmentation: change the arguments of a segmentation; NULL keeps
-- one as it is.  The next refresh uses them.
CREATE OR REPLACE FUNCTION segment.alter_segmentation(name text, k integer DEFAULT NULL,
		customer_column name DEFAULT NULL, invoice_column name DEFAULT NULL,
		time_column name DEFAULT NULL, quantity_column name DEFAULT NULL,
		price_column name DEFAULT NULL, country_column name DEFAULT NULL,
		as_of timestamp DEFAULT NULL, seed bigint DEFAULT NULL, recipe text DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	segmentation text := alter_segmentation.name;
	r segment.segmentations;
	ids_type text;
	column_type text;
BEGIN
	IF segmentation IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'name must not be NULL';
	END IF;
	-- waits for a refresh of it to finish
	r := segment.lock_segmentation(segmentation);
	IF alter_segmentation.k IS NOT NULL AND alter_segmentation.k < 2 THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('k must be at least 2, not %s', alter_segmentation.k);
	END IF;
	PERFORM segment.check_as_of(alter_segmentation.as_of);
	PERFORM segment.check_history_time(segmentation, alter_segmentation.as_of, r.history_as_of);
	IF alter_segmentation.recipe IS NOT NULL THEN
		PERFORM segment.check_recipe(alter_segmentation.recipe);
	END IF;
	IF r.country_column IS NULL AND alter_segmentation.country_column IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = '0A000',
			MESSAGE = format('segmentation "%s" was made without a country column', segmentation),
			DETAIL = 'A country column adds a clustering feature, which changes the columns of its tables.',
			HINT = 'Drop the segmentation and create it again with country_column.';
	END IF;
	r.k := coalesce(alter_segmentation.k, r.k);
	r.customer_column := coalesce(alter_segmentation.customer_column, r.customer_column);
	r.invoice_column := coalesce(alter_segmentation.invoice_column, r.invoice_column);
	r.time_column := coalesce(alter_segmentation.time_column, r.time_column);
	r.quantity_column := coalesce(alter_segmentation.quantity_column, r.quantity_column);
	r.price_column := coalesce(alter_segmentation.price_column, r.price_column);
	r.country_column := coalesce(alter_segmentation.country_column, r.country_column);
	r.as_of := coalesce(alter_segmentation.as_of, r.as_of);
	r.seed := coalesce(alter_segmentation.seed, r.seed);
	-- another recipe: other features (the profiles' columns of features the
	-- new recipe lacks stay, NULL, so that no reader's query breaks)
	r.recipe := coalesce(alter_segmentation.recipe, r.recipe);
	r.features := segment.segmentation_features(r.recipe, r.country_column IS NOT NULL);
	-- the mapping must fit the source as it is now
	r.source := coalesce((SELECT c.oid FROM pg_class c WHERE c.oid = r.source), to_regclass(r.source_name));
	IF r.source IS NOT NULL THEN
		PERFORM segment.check_source_columns(r);
	END IF;
	-- a customer column of another type: the next refresh converts the ids
	-- the tables hold (history, labels kept), so there must be a cast
	IF alter_segmentation.customer_column IS NOT NULL AND r.source IS NOT NULL THEN
		SELECT format_type(a.atttypid, a.atttypmod) INTO ids_type
		FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'customer_id' AND NOT a.attisdropped
		WHERE c.relnamespace = r.schema AND c.relname = 'history';
		SELECT format_type(a.atttypid, a.atttypmod) INTO column_type
		FROM pg_attribute a WHERE a.attrelid = r.source AND a.attname = r.customer_column AND NOT a.attisdropped;
		IF ids_type <> column_type THEN
			BEGIN
				EXECUTE format('SELECT NULL::%s::%s', ids_type, column_type);
			EXCEPTION WHEN cannot_coerce THEN
				RAISE EXCEPTION USING ERRCODE = '42804',
					MESSAGE = format('cannot use column %I of type %s as the customer column of segmentation "%s"',
						r.customer_column, column_type, segmentation),
					DETAIL = format('Its tables hold customer ids of type %s, and there is no cast from %s to %s.',
						ids_type, ids_type, column_type),
					HINT = 'Give the source a column of the same ids, or drop the segmentation and create it again on this column (its history restarts).';
			END;
		END IF;
	END IF;
	UPDATE segment.segmentations s
	SET k = r.k, customer_column = r.customer_column, invoice_column = r.invoice_column,
		time_column = r.time_column, quantity_column = r.quantity_column, price_column = r.price_column,
		country_column = r.country_column, as_of = r.as_of, seed = r.seed, recipe = r.recipe, features = r.features
	WHERE s.name = segmentation;
END
$function$;
COMMENT ON FUNCTION segment.alter_segmentation(text, integer, name, name, name, name, name, name, timestamp, bigint, text) IS
	'changes the arguments of a segmentation (NULL keeps one); the next refresh uses them';

-- The objects that would go with a segmentation's schema and tables and are
-- not the segmentation's own, described as DROP describes them: what lives
-- in the schema besides its tables; what depends on those tables (views,
-- foreign keys, rules, triggers, policies, indexes other than the unique key
-- the segmentation made, statistics, publications) or on their row types
CREATE OR REPLACE FUNCTION segment.segmentation_dependents(schema regnamespace)
	RETURNS SETOF text
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	WITH own AS (
		SELECT c.oid, c.reltype, t.unique_key FROM pg_class c
		JOIN segment.segmentation_tables() t ON t.result_table = c.relname
		WHERE c.relnamespace = schema AND c.relkind = 'r'),
	own_index AS (
		SELECT i.oid FROM pg_class i JOIN pg_index x ON x.indexrelid = i.oid JOIN own o ON o.oid = x.indrelid
		WHERE i.relname = (SELECT c.relname FROM pg_class c WHERE c.oid = o.oid) || '_key'),
	dependent AS (
		-- in the schema
		SELECT d.classid, d.objid, d.objsubid FROM pg_depend d
		WHERE d.refclassid = 'pg_namespace'::regclass AND d.refobjid = schema AND d.deptype = 'n'
			AND NOT (d.classid = 'pg_class'::regclass AND d.objid IN (SELECT oid FROM own))
		UNION
		-- on the tables or their row types; a view by its name, not its rule
		SELECT d.classid, d.objid, d.objsubid FROM pg_depend d
		WHERE d.deptype IN ('n', 'a')
			AND ((d.refclassid = 'pg_class'::regclass AND d.refobjid IN (SELECT oid FROM own))
				 OR (d.refclassid = 'pg_type'::regclass AND d.refobjid IN (SELECT reltype FROM own)))
			AND NOT (d.classid = 'pg_class'::regclass AND d.objid IN (SELECT oid FROM own UNION ALL SELECT oid FROM own_index))
			AND NOT (d.classid = 'pg_rewrite'::regclass
					 AND EXISTS (SELECT FROM pg_rewrite r WHERE r.oid = d.objid AND r.rulename = '_RETURN'))
			-- Citus's own trigger on a distributed table (segment.colocation_source)
			AND NOT (d.classid = 'pg_trigger'::regclass
					 AND EXISTS (SELECT FROM pg_trigger g JOIN pg_proc p ON p.oid = g.tgfoid
								 WHERE g.oid = d.objid AND p.proname = 'citus_truncate_trigger'
									 AND p.pronamespace = 'pg_catalog'::regnamespace))
		UNION
		SELECT 'pg_class'::regclass, r.ev_class, 0 FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
		WHERE d.classid = 'pg_rewrite'::regclass AND r.rulename = '_RETURN' AND d.deptype = 'n'
			AND ((d.refclassid = 'pg_class'::regclass AND d.refobjid IN (SELECT oid FROM own))
				 OR (d.refclassid = 'pg_type'::regclass AND d.refobjid IN (SELECT reltype FROM own)))
			AND r.ev_class NOT IN (SELECT oid FROM own))
	SELECT DISTINCT pg_describe_object(classid, objid, objsubid) FROM dependent ORDER BY 1
	$$;
COMMENT ON FUNCTION segment.segmentation_dependents(regnamespace) IS
	'the objects in a segmentation''s schema or depending on its tables that are not the segmentation''s own';

-- drop_segmentation: remove the schema, its tables and the record; what is
-- not the segmentation's own only when asked with cascade
CREATE OR REPLACE FUNCTION segment.drop_segmentation(name text, "cascade" boolean DEFAULT false)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	segmentation text := drop_segmentation.name;
	drop_dependents boolean := drop_segmentation."cascade";
	dependents text[];
	own_tables text;
	schema regnamespace;
BEGIN
	IF segmentation IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'name must not be NULL';
	END IF;
	IF drop_dependents IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'cascade must not be NULL';
	END IF;
	schema := (segment.lock_segmentation(segmentation)).schema;
	-- the segmentation's own schema only: not one made later under its name
	IF EXISTS (SELECT FROM pg_namespace n WHERE n.oid = schema AND n.nspname = segmentation) THEN
		dependents := ARRAY(SELECT segment.segmentation_dependents(schema));
		IF cardinality(dependents) > 0 AND NOT drop_dependents THEN
			RAISE EXCEPTION USING ERRCODE = '2BP01',
				MESSAGE = format('cannot drop segmentation "%s" because other objects depend on it', segmentation),
				DETAIL = format('%s %s not made by the segmentation: %s.', cardinality(dependents),
					CASE WHEN cardinality(dependents) = 1 THEN 'object is' ELSE 'objects are' END,
					array_to_string(dependents, ', ')),
				HINT = format('Drop or move them first, or call segment.drop_segmentation(%L, cascade => true) to drop them too.', segmentation);
		END IF;
		IF drop_dependents THEN
			EXECUTE format('DROP SCHEMA %I CASCADE', segmentation);
		ELSE
			-- RESTRICT all the same: nothing that is not the segmentation's goes
			SELECT string_agg(format('%I.%I', segmentation, c.relname), ', ') INTO own_tables
			FROM pg_class c WHERE c.relnamespace = schema AND c.relkind = 'r'
				AND c.relname IN (SELECT t.result_table FROM segment.segmentation_tables() t);
			IF own_tables IS NOT NULL THEN
				EXECUTE format('DROP TABLE %s RESTRICT', own_tables);
			END IF;
			EXECUTE format('DROP SCHEMA %I RESTRICT', segmentation);
		END IF;
	END IF;
	DELETE FROM segment.segmentations s WHERE s.name = segmentation;
END
$function$;
COMMENT ON FUNCTION segment.drop_segmentation(text, boolean) IS
	'removes a segmentation: its schema, its tables and its record; refuses when other objects depend on them unless cascade';

-- set_label: a user's name for a segment, which follows it through
-- refreshes (the matching of centroids); NULL restores the automatic name
CREATE OR REPLACE FUNCTION segment.set_label(name text, cluster integer, label text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	segmentation text := set_label.name;
	r segment.segmentations;
	new_user_labels text[];
	new_labels text[];
	owner_role oid;
BEGIN
	IF segmentation IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'name must not be NULL';
	END IF;
	IF set_label.cluster IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'cluster must not be NULL';
	END IF;
	r := segment.lock_segmentation(segmentation);
	IF r.model IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '42704', MESSAGE = format('segmentation "%s" does not exist', segmentation);
	END IF;
	IF set_label.cluster NOT BETWEEN 1 AND (r.model).k THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('segmentation "%s" has no segment %s', segmentation, set_label.cluster),
			DETAIL = format('Its segments are numbered 1 to %s.', (r.model).k);
	END IF;
	IF set_label.label IS NOT NULL AND (btrim(set_label.label) = '' OR length(set_label.label) > 100
			OR set_label.label ~ '[\u0001-\u001F\u007F-\u009F\u200B-\u200F\u2028-\u202E\u2060-\u2069\uFEFF]') THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('invalid label %s', quote_literal(set_label.label)),
			DETAIL = 'A label is 1 to 100 characters of text, not only spaces, without control, invisible or direction characters.';
	END IF;
	new_user_labels := coalesce(r.user_labels, array_fill(NULL::text, ARRAY[(r.model).k]));
	new_user_labels[set_label.cluster] := set_label.label;
	IF set_label.label IS NOT NULL AND EXISTS (
		SELECT FROM unnest(r.labels) WITH ORDINALITY AS l (label, c)
		WHERE l.c <> set_label.cluster AND l.label = set_label.label) THEN
		RAISE EXCEPTION USING ERRCODE = '23505',
			MESSAGE = format('segmentation "%s" has a segment labelled %s already', segmentation, quote_literal(set_label.label)),
			DETAIL = 'Labels are unique within a segmentation.';
	END IF;
	new_labels := segment.final_labels(segment.segmentation_automatic_labels(r, (r.model).centroids), new_user_labels);
	IF EXISTS (SELECT FROM unnest(new_labels) AS l GROUP BY l HAVING count(*) > 1) THEN
		RAISE EXCEPTION USING ERRCODE = '23505',
			MESSAGE = format('labels of segmentation "%s" would repeat', segmentation),
			DETAIL = 'Labels are unique within a segmentation.';
	END IF;
	UPDATE segment.segmentations s SET user_labels = new_user_labels, labels = new_labels
	WHERE s.name = segmentation;

	-- the tables that name segments, as the segmentation's owner,
	-- security-restricted (segment.refresh_segmentation says why)
	owner_role := segment.segmentation_owner(r.schema, r.owner);
	PERFORM segment.execute_as_owner(segmentation, owner_role::regrole, format($sql$
		UPDATE %1$I.profiles p SET label = l.label, label_source = CASE WHEN (%3$L::text[])[l.c] IS NULL THEN 'automatic' ELSE 'user' END
		FROM unnest(%2$L::text[]) WITH ORDINALITY AS l (label, c) WHERE p.cluster = l.c;
		UPDATE %1$I.transitions t SET from_label = (%2$L::text[])[t.from_cluster] WHERE t.from_cluster IS NOT NULL;
		UPDATE %1$I.transitions t SET to_label = (%2$L::text[])[t.to_cluster] WHERE t.to_cluster IS NOT NULL;
		UPDATE %1$I.history h SET label = %4$s WHERE h.valid_to IS NULL AND h.cluster IS NOT NULL $sql$,
		segmentation, new_labels, new_user_labels, segment.label_case_sql('h.cluster', new_labels)));
END
$function$;
COMMENT ON FUNCTION segment.set_label(text, integer, text) IS
	'names a segment (NULL restores the automatic name); the name follows the segment through refreshes';

-- The label of each segment number as a CASE expression over column: what
-- labels[column] gives, written so that Citus can send it to the shards of
-- a distributed history (Citus 13 cannot deparse an UPDATE that sets a
-- column to an array element)
CREATE OR REPLACE FUNCTION segment.label_case_sql(column_sql text, labels text[])
	RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT coalesce('CASE ' || column_sql || string_agg(format(' WHEN %s THEN %L', l.c, l.label), '' ORDER BY l.c) || ' END',
		'NULL::text')
	FROM unnest(labels) WITH ORDINALITY AS l (label, c)
$$;
COMMENT ON FUNCTION segment.label_case_sql(text, text[]) IS
	'CASE column WHEN 1 THEN labels[1] ... END: a segment number''s label, as an expression';

-- trim_history: delete the closed history rows that ended more than
-- older_than before the time history runs to (the last refresh's as_of, the
-- data's time in which history is kept); returns how many
CREATE OR REPLACE FUNCTION segment.trim_history(name text, older_than interval)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	segmentation text := trim_history.name;
	r segment.segmentations;
	owner_role oid;
	cutoff timestamptz;
BEGIN
	IF segmentation IS NULL OR older_than IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'name and older_than must not be NULL';
	END IF;
	IF older_than < interval '0' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('older_than must not be negative, not %s', older_than);
	END IF;
	r := segment.lock_segmentation(segmentation);
	IF NOT EXISTS (SELECT FROM pg_namespace n WHERE n.oid = r.schema AND n.nspname = segmentation) THEN
		RAISE EXCEPTION USING ERRCODE = '42704', MESSAGE = format('segmentation "%s" does not exist', segmentation);
	END IF;
	-- as the segmentation's owner, security-restricted
	owner_role := segment.segmentation_owner(r.schema, r.owner);
	-- the cut-off as an exact epoch: a constant Citus can send to the shards
	cutoff := coalesce(r.history_as_of AT TIME ZONE r.time_zone, now()) - older_than;
	RETURN segment.execute_as_owner(segmentation, owner_role::regrole,
		format('WITH gone AS (DELETE FROM %I.history WHERE valid_to < to_timestamp(%s) '
			'RETURNING 1) SELECT count(*) FROM gone', segmentation, extract(epoch FROM cutoff)))::bigint;
END
$function$;
COMMENT ON FUNCTION segment.trim_history(text, interval) IS
	'deletes the closed history rows that ended more than older_than before the last refresh''s as_of; returns how many';
