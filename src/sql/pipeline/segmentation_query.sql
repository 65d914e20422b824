/* src/sql/pipeline/segmentation_query.sql */

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
		-- with the RFM scores, then the customer-value models' inputs and
		-- predictions by the registry's models (src/sql/pipeline/customer_value.sql)
		RETURN segment.customer_value_sql(segment.customer_value_inputs_sql(segment.rfm_scores_sql(format($sql$
			SELECT c.customer AS customer_id, c.country,
				extract(epoch FROM a.as_of - (c.f).last_purchase)::double precision / 86400 AS recency_days,
				(c.f).*
			FROM %s AS c, (SELECT %s AS as_of) AS a $sql$,
			CASE WHEN to_regclass(format('%I.segment_refresh_customers', segmentation)) IS NOT NULL
				THEN format('%I.segment_refresh_customers', segmentation)
				ELSE '(' || segment.segmentation_customers_sql(r) || ')' END,
			as_of)), r.used_as_of),
			format('%L::segment.bgnbd_model', r.bgnbd), format('%L::segment.gamma_gamma_model', r.gamma_gamma),
			segment.value_horizon_days(r.value_horizon));
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
	-- checked) lets each shard send only those; not worked out again when a
	-- refresh has drawn the sample into its working table
	draw_bound := 'true';
	IF (result_table = 'sample' OR (result_table = 'silhouettes'
			AND to_regclass(format('%I.segment_refresh_sample', segmentation)) IS NULL))
		AND r.customers_clustered > 2 * sample_size
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
				f.total_amount, f.r_score, f.f_score, f.m_score, f.probability_alive, f.expected_value
			  FROM %1$I.assignments a JOIN %1$I.features f USING (customer_id) CROSS JOIN %7$s
			  WHERE a.cluster IS NOT NULL ORDER BY a.customer_id),
		p AS (SELECT m.cluster, min(m.label) AS label, count(*) AS customers,
				count(*)::double precision / sum(count(*)) OVER () AS share %5$s,
				CASE WHEN min(r.user_labels[m.cluster]) IS NULL THEN 'automatic' ELSE 'user' END AS label_source,
				coalesce(sum(m.total_amount), 0) AS revenue,
				avg(m.r_score)::double precision AS r_score_mean, avg(m.f_score)::double precision AS f_score_mean,
				avg(m.m_score)::double precision AS m_score_mean,
				avg(m.probability_alive) AS probability_alive_mean, sum(m.expected_value) AS expected_revenue
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
			(r.model).inertia, r.customers_clustered, r.fitted_rows, r.assigned_at, r.value_horizon
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

