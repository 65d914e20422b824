/* src/sql/pipeline/alter.sql */

-- alter_segmentation: change the arguments of a segmentation; NULL keeps
-- one as it is.  The next refresh uses them.
CREATE OR REPLACE FUNCTION segment.alter_segmentation(name text, k integer DEFAULT NULL,
		customer_column name DEFAULT NULL, invoice_column name DEFAULT NULL,
		time_column name DEFAULT NULL, quantity_column name DEFAULT NULL,
		price_column name DEFAULT NULL, country_column name DEFAULT NULL,
		as_of timestamp DEFAULT NULL, seed bigint DEFAULT NULL, recipe text DEFAULT NULL,
		value_horizon interval DEFAULT NULL)
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
	IF alter_segmentation.value_horizon IS NOT NULL THEN
		PERFORM segment.check_value_horizon(alter_segmentation.value_horizon);
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
	-- another horizon: the next refresh, of either kind, predicts over it
	r.value_horizon := coalesce(alter_segmentation.value_horizon, r.value_horizon);
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
		country_column = r.country_column, as_of = r.as_of, seed = r.seed, recipe = r.recipe, features = r.features,
		value_horizon = r.value_horizon
	WHERE s.name = segmentation;
END
$function$;
COMMENT ON FUNCTION segment.alter_segmentation(text, integer, name, name, name, name, name, name, timestamp, bigint, text, interval) IS
	'changes the arguments of a segmentation (NULL keeps one); the next refresh uses them';

