/* src/sql/pipeline/source_queries.sql */

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

