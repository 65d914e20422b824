/* src/sql/pipeline/tables.sql */

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
			('features', 'repeat_purchase_days', 'BG/NBD''s x: the customer''s purchase days after the first (a day''s purchases are one transaction); NULL without a purchase'),
			('features', 'repeat_span_days', 'BG/NBD''s t_x: calendar days from the first purchase day to the last'),
			('features', 'age_days', 'BG/NBD''s t: calendar days from the first purchase day to the day of the reference time (model.as_of)'),
			('features', 'spend_per_day', 'the mean spend of a purchase day net of returns, total_amount / active_days (the Gamma-Gamma model''s mean value)'),
			('features', 'probability_alive', 'BG/NBD probability that the customer has not dropped out (segment.bgnbd_probability_alive); NULL without a purchase or a model'),
			('features', 'expected_purchases', 'BG/NBD expected purchase days over the next value_horizon (segment.bgnbd_expected_purchases)'),
			('features', 'expected_value', 'expected revenue over the next value_horizon: expected_purchases times the Gamma-Gamma expected spend of a purchase day; NULL when spend_per_day is not above 0'),
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
			('profiles', 'probability_alive_mean', 'mean probability alive (BG/NBD) of the segment''s customers'),
			('profiles', 'expected_revenue', 'the segment''s expected revenue over the next value_horizon: the sum of its customers'' expected_value'),
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
			('model', 'value_horizon', 'the horizon of features.expected_purchases and expected_value (a month counts 30 days, a year 365.25)'),
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

