/* src/sql/pipeline/customer_value.sql */

-- The customer-value columns of a segmentation's features: the models'
-- inputs in days and, from the BG/NBD and Gamma-Gamma models (src/bgnbd.c,
-- src/gamma_gamma.c), each customer's probability of being alive and its
-- expected purchases and revenue over the segmentation's value_horizon.
-- A purchase day is one transaction (BG/NBD counts transactions, not
-- invoices): x = purchase days after the first, t_x = days from the first
-- purchase day to the last, t = days from the first to the day of as_of, all
-- by calendar day, as lifetimes' summary_data_from_transaction_data counts
-- them.  The spend model is fitted on every buyer's mean spend of a purchase
-- day, net of returns like the profiles' revenue, the first day included
-- (the features keep no day's amount apart, and so every buyer has a spend
-- of its own); a customer whose purchases, net of returns, are worth
-- nothing or less has no expected value.

-- A value_horizon in days, the time unit of the models: by its length in
-- seconds, so a month counts 30 days and a year 365.25
CREATE OR REPLACE FUNCTION segment.value_horizon_days(value_horizon interval)
	RETURNS double precision
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT extract(epoch FROM value_horizon)::double precision / 86400
	$$;
COMMENT ON FUNCTION segment.value_horizon_days(interval) IS 'a value_horizon in days (a month counts 30 days, a year 365.25)';

-- The SQL of the rows of query (columns of segment.features: invoices,
-- active_days, first_purchase, last_purchase, total_amount) with the
-- models' inputs as of as_of: repeat_purchase_days, repeat_span_days,
-- age_days and spend_per_day, NULL without a purchase
CREATE OR REPLACE FUNCTION segment.customer_value_inputs_sql(query text, as_of timestamp)
	RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT format($sql$
		SELECT s.*, v.repeat_purchase_days, v.repeat_span_days, v.age_days, v.spend_per_day
		FROM (%s) AS s
		CROSS JOIN LATERAL (SELECT
			CASE WHEN s.invoices > 0 THEN s.active_days - 1 END AS repeat_purchase_days,
			CASE WHEN s.invoices > 0 THEN extract(epoch FROM date_trunc('day', s.last_purchase)
				- date_trunc('day', s.first_purchase))::double precision / 86400 END AS repeat_span_days,
			CASE WHEN s.invoices > 0 THEN extract(epoch FROM date_trunc('day', %L::timestamp)
				- date_trunc('day', s.first_purchase))::double precision / 86400 END AS age_days,
			CASE WHEN s.invoices > 0 THEN s.total_amount / s.active_days END AS spend_per_day) AS v $sql$,
		query, as_of)
	$$;
COMMENT ON FUNCTION segment.customer_value_inputs_sql(text, timestamp) IS
	'SQL of the rows of a features query with the customer-value models'' inputs in days';

-- The SQL of the rows of query (with the models' inputs, see
-- segment.customer_value_inputs_sql) with each customer's
-- probability_alive, expected_purchases and expected_value over the next
-- horizon_days, by the models of the SQL expressions bgnbd and gamma_gamma
CREATE OR REPLACE FUNCTION segment.customer_value_sql(query text, bgnbd text, gamma_gamma text, horizon_days double precision)
	RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT format($sql$
		SELECT s.*, segment.bgnbd_probability_alive(m.bgnbd, s.repeat_purchase_days, s.repeat_span_days, s.age_days)
				AS probability_alive,
			e.expected_purchases,
			e.expected_purchases * CASE WHEN s.spend_per_day > 0
				THEN segment.gamma_gamma_expected_value(m.gamma_gamma, s.active_days, s.spend_per_day) END AS expected_value
		FROM (%s) AS s
		CROSS JOIN (SELECT %s AS bgnbd, %s AS gamma_gamma) AS m
		CROSS JOIN LATERAL (SELECT segment.bgnbd_expected_purchases(m.bgnbd, %s, s.repeat_purchase_days, s.repeat_span_days,
			s.age_days) AS expected_purchases) AS e $sql$,
		query, bgnbd, gamma_gamma, horizon_days)
	$$;
COMMENT ON FUNCTION segment.customer_value_sql(text, text, text, double precision) IS
	'SQL of the rows of a query of customers with the models'' inputs, with their probability alive, expected purchases and value';

-- One customer-value model of a segmentation, as text: the result of
-- fit_sql (a model aggregate's query), or NULL with a notice naming the
-- reason when the model cannot be fitted (too few customers, none with a
-- repeat purchase day, more customers than maintenance_work_mem holds): the
-- segments do not depend on it, and the columns it gives (named in
-- columns, with their verb) are NULL until a refit succeeds.
CREATE OR REPLACE FUNCTION segment.fit_customer_value_model(segmentation text, model text, fit_sql text, columns text)
	RETURNS text
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	-- (the text of the model reads back as the same bits)
	SET extra_float_digits = 1
	AS $function$
DECLARE
	fitted text;
	reason text;
BEGIN
	EXECUTE fit_sql INTO fitted;
	RETURN fitted;
EXCEPTION WHEN numeric_value_out_of_range OR invalid_parameter_value OR program_limit_exceeded THEN
	GET STACKED DIAGNOSTICS reason = MESSAGE_TEXT;
	RAISE NOTICE USING MESSAGE = format('segmentation "%s" has no %s model: %s', segmentation, model, reason),
		DETAIL = format('Its customers'' %s NULL until a refit fits one.', columns);
	RETURN NULL;
END
$function$;
COMMENT ON FUNCTION segment.fit_customer_value_model(text, text, text, text) IS
	'one customer-value model of a segmentation as text, or NULL with a notice when it cannot be fitted';

-- Fit the customer-value models of a segmentation on the customers of
-- query (with the models' inputs) and store them in the registry.  The
-- BG/NBD fit leaves out the customers whose first purchase is on the day of
-- as_of (t = 0: they tell nothing yet); they are scored all the same.
CREATE OR REPLACE FUNCTION segment.fit_customer_value(segmentation text, query text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
BEGIN
	UPDATE segment.segmentations s
	SET bgnbd = segment.fit_customer_value_model(segmentation, 'BG/NBD',
			format('SELECT segment.bgnbd_fit(q.repeat_purchase_days, q.repeat_span_days, q.age_days) FILTER (WHERE q.age_days > 0) '
				'FROM (%s) AS q', query), 'probability_alive, expected_purchases and expected_value are')::segment.bgnbd_model,
		gamma_gamma = segment.fit_customer_value_model(segmentation, 'Gamma-Gamma',
			format('SELECT segment.gamma_gamma_fit(q.active_days, q.spend_per_day) FILTER (WHERE q.spend_per_day > 0) '
				'FROM (%s) AS q', query), 'expected_value is')::segment.gamma_gamma_model
	WHERE s.name = segmentation;
END
$function$;
COMMENT ON FUNCTION segment.fit_customer_value(text, text) IS
	'fits the BG/NBD and Gamma-Gamma models of a segmentation on the customers of a query and stores them in the registry';

-- Give the customers of a segmentation made by an earlier version their
-- customer-value columns as its features stand (the update to 0.4 runs it
-- as the owner, inside segment.execute_as_owner): the models fitted on its
-- features as of its last refresh, the features' new columns filled, the
-- profiles' new columns from them
CREATE OR REPLACE FUNCTION segment.fill_customer_value(segmentation text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	r segment.segmentations;
	customers text;
BEGIN
	PERFORM segment.check_running_as_owner(segmentation, 'segment.fill_customer_value');
	PERFORM segment.complete_segmentation_tables(segmentation);
	SELECT * INTO STRICT r FROM segment.segmentations s WHERE s.name = segmentation;
	customers := segment.customer_value_inputs_sql(format('SELECT f.customer_id, f.invoices, f.active_days, f.first_purchase, '
		'f.last_purchase, f.total_amount FROM %I.features AS f', segmentation), r.used_as_of);
	PERFORM segment.fit_customer_value(segmentation, customers);
	EXECUTE format('UPDATE %1$I.features f SET repeat_purchase_days = v.repeat_purchase_days, repeat_span_days = v.repeat_span_days, '
			'age_days = v.age_days, spend_per_day = v.spend_per_day, probability_alive = v.probability_alive, '
			'expected_purchases = v.expected_purchases, expected_value = v.expected_value '
		'FROM (%2$s) AS v WHERE v.customer_id = f.customer_id', segmentation,
		segment.customer_value_sql(customers,
			format('(SELECT s.bgnbd FROM segment.segmentations s WHERE s.name = %L)', segmentation),
			format('(SELECT s.gamma_gamma FROM segment.segmentations s WHERE s.name = %L)', segmentation),
			segment.value_horizon_days(r.value_horizon)));
	EXECUTE format('UPDATE %1$I.profiles p SET probability_alive_mean = s.probability_alive_mean, expected_revenue = s.expected_revenue '
		'FROM (%2$s) AS s WHERE s.cluster = p.cluster', segmentation, segment.segmentation_query(segmentation, 'profiles'));
	EXECUTE format('UPDATE %1$I.model SET value_horizon = %2$L', segmentation, r.value_horizon);
END
$function$;
COMMENT ON FUNCTION segment.fill_customer_value(text) IS
	'fits the customer-value models of a segmentation made by an earlier version and fills its new columns (the update to 0.4)';
