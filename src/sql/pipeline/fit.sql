/* src/sql/pipeline/fit.sql */

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

-- Why the chosen k of a segmentation was chosen, in words, from its elbow
-- table and the k asked for: the rule of segment.choose_k that picks it from
-- the scores, or, when the rule would pick another, that a refit kept the
-- previous k (it still qualifies and is within two of the elbow, or the
-- source did not change)
CREATE OR REPLACE FUNCTION segment.k_choice_reason(r segment.segmentations)
	RETURNS text
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	ks integer[];
	silhouettes double precision[];
	shares double precision[];
	chosen integer;
	elbow integer;
BEGIN
	IF r.k IS NOT NULL THEN
		RETURN 'the k asked for';
	END IF;
	EXECUTE format('SELECT array_agg(k ORDER BY k), array_agg(silhouette ORDER BY k), array_agg(smallest_share ORDER BY k),
					min(k) FILTER (WHERE is_chosen), min(k) FILTER (WHERE is_elbow) FROM %I.elbow', r.name)
		INTO ks, silhouettes, shares, chosen, elbow;
	IF chosen IS DISTINCT FROM segment.choose_k(ks, silhouettes, shares, elbow) THEN
		RETURN 'kept from the previous fit';
	ELSIF EXISTS (SELECT FROM unnest(ks, shares) AS u (k, share)
				  WHERE u.k BETWEEN 3 AND 8 AND u.share >= 0.02 AND abs(u.k - elbow) <= 1) THEN
		RETURN 'the best silhouette within one of the elbow';
	ELSIF EXISTS (SELECT FROM unnest(ks, shares) AS u (k, share) WHERE u.k BETWEEN 3 AND 8 AND u.share >= 0.02) THEN
		RETURN 'the best silhouette among k = 3..8 with every segment at least 2 %';
	END IF;
	RETURN 'the elbow';
END
$function$;
COMMENT ON FUNCTION segment.k_choice_reason(segment.segmentations) IS
	'why the chosen k of a segmentation was chosen: the k asked for, the rule that picked it, or kept from the previous fit';

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

