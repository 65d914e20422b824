/* src/sql/pipeline/refresh.sql */

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
	-- a refit fits the customer-value models too, on the customers grouped;
	-- an assign-only refresh scores with the stored ones
	IF refit THEN
		PERFORM segment.enter_phase(segmentation, 'fitting the customer-value models');
		PERFORM segment.fit_customer_value(segmentation,
			segment.customer_value_inputs_sql(format('SELECT (c.f).* FROM %s AS c', customers), r.used_as_of));
	END IF;
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

