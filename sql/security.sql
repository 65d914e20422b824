-- A segmentation's owner never gains the rights of whoever refreshes it.
-- regress_mallory, an ordinary role, makes a segmentation and attaches code
-- to everything of it that a refresh, a label, a trim, a plot or a report
-- runs: a trigger on every table for every write, a function in its source
-- view, a column default, an index expression, a row-level security policy.
-- That code tries every way back to the caller's rights (RESET ROLE, SET
-- ROLE, SET SESSION AUTHORIZATION, set_config('role'), segment's own
-- execute_as_owner naming the caller as the owner), then ALTER ROLE and
-- GRANT, and tries to leave a trap for the caller (a temporary table first
-- in its search path, a changed search_path).  It logs what each attempt
-- met, so the test sees that it ran.  The callers: a superuser, a
-- superuser's pg_cron job, and an ordinary role with mallory's membership
-- and a table of its own.
CREATE ROLE regress_mallory LOGIN;
CREATE ROLE regress_friend IN ROLE regress_mallory;
GRANT SELECT ON invoices TO regress_mallory;
SELECT format('GRANT CREATE ON DATABASE %I TO regress_mallory', current_database()) \gexec
CREATE SCHEMA regress_friends AUTHORIZATION regress_friend;
SET ROLE regress_friend;
CREATE TABLE regress_friends.secret (note text);
RESET ROLE;

SET ROLE regress_mallory;
CREATE SCHEMA mal_attack;
CREATE TABLE mal_attack.log (vector text, attempt text, caller text, ran_as text, outcome text,
	PRIMARY KEY (vector, attempt, caller, outcome));
-- every way back to the caller, each in its own subtransaction, then what
-- the caller's rights would allow; each outcome logged once
CREATE FUNCTION mal_attack.escalate(vector text) RETURNS boolean LANGUAGE plpgsql AS $f$
DECLARE
	attempt text;
	outcome text;
	caller text := session_user;
	ran_as text := current_user;
BEGIN
	FOREACH attempt IN ARRAY ARRAY['RESET ROLE', 'SET ROLE', 'SET SESSION AUTHORIZATION', 'set_config', 'execute_as_owner',
			'temporary table', 'search_path', 'SET CONSTRAINTS'] LOOP
		BEGIN
			CASE attempt
				WHEN 'RESET ROLE' THEN RESET ROLE;
				WHEN 'SET ROLE' THEN EXECUTE format('SET ROLE %I', caller);
				WHEN 'SET SESSION AUTHORIZATION' THEN EXECUTE format('SET SESSION AUTHORIZATION %I', caller);
				WHEN 'set_config' THEN PERFORM set_config('role', 'none', false);
				WHEN 'execute_as_owner' THEN
					PERFORM segment.execute_as_owner('mal', caller::regrole, 'ALTER ROLE regress_mallory SUPERUSER');
				WHEN 'temporary table' THEN CREATE TEMP TABLE regress_trap (x integer);
				WHEN 'search_path' THEN PERFORM set_config('search_path', 'mal_attack, public', false);
				-- (ALL DEFERRED would outlast the call in the caller's transaction)
				WHEN 'SET CONSTRAINTS' THEN SET CONSTRAINTS ALL DEFERRED;
			END CASE;
			IF attempt IN ('temporary table', 'search_path', 'SET CONSTRAINTS') THEN
				outcome := 'done';
			ELSIF current_user <> 'regress_mallory' THEN
				-- back to the caller: take what its rights give
				BEGIN
					EXECUTE 'ALTER ROLE regress_mallory SUPERUSER';
				EXCEPTION WHEN OTHERS THEN NULL;
				END;
				BEGIN
					EXECUTE 'GRANT SELECT ON regress_friends.secret TO regress_mallory';
				EXCEPTION WHEN OTHERS THEN NULL;
				END;
				outcome := 'escaped to ' || current_user;
			ELSE
				outcome := 'no change';
			END IF;
		EXCEPTION WHEN OTHERS THEN
			outcome := SQLSTATE || ' ' || SQLERRM;
		END;
		INSERT INTO mal_attack.log VALUES (vector, attempt, caller, ran_as, outcome) ON CONFLICT DO NOTHING;
	END LOOP;
	RETURN true;
END
$f$;
CREATE FUNCTION mal_attack.on_write() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
	PERFORM mal_attack.escalate(format('trigger %s %s %s', TG_TABLE_NAME, TG_LEVEL, TG_OP));
	RETURN NULL;
END
$f$;
CREATE FUNCTION mal_attack.in_default() RETURNS text LANGUAGE sql AS $f$ SELECT mal_attack.escalate('column default')::text $f$;
-- (an index expression must be immutable: mallory says it is)
CREATE FUNCTION mal_attack.in_index(customer integer) RETURNS integer LANGUAGE plpgsql IMMUTABLE AS $f$
BEGIN
	PERFORM mal_attack.escalate('index expression');
	RETURN customer;
END
$f$;
-- the source: a view that runs the code once per read
CREATE VIEW mal_attack.lines AS
SELECT * FROM public.invoices WHERE customer_id < 12500 AND (SELECT mal_attack.escalate('source view'));
SELECT segment.create_segmentation('mal', 'mal_attack.lines', k => 3);
SELECT format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON mal.%I FOR EACH %s EXECUTE FUNCTION mal_attack.on_write()',
	t.result_table || '_' || l.level, t.result_table, l.level)
FROM segment.segmentation_tables() t, (VALUES ('ROW'), ('STATEMENT')) AS l (level) \gexec
-- (the default is set after the column, so that no existing row runs it here:
-- this session's authenticated user is a superuser, which SET ROLE does not
-- hide from mallory's code)
ALTER TABLE mal.features ADD COLUMN planted text;
ALTER TABLE mal.features ALTER COLUMN planted SET DEFAULT mal_attack.in_default();
CREATE INDEX planted ON mal.history ((mal_attack.in_index(customer_id)));
ALTER TABLE mal.profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE mal.profiles FORCE ROW LEVEL SECURITY;
CREATE POLICY planted ON mal.profiles USING ((SELECT mal_attack.escalate('row-level security policy')));
-- (autovacuum's ANALYZE would run the index expression at any time)
SELECT format('ALTER TABLE mal.%I SET (autovacuum_enabled = false)', t.result_table) FROM segment.segmentation_tables() t \gexec
GRANT USAGE ON SCHEMA mal_attack TO PUBLIC;
GRANT SELECT ON mal_attack.log TO PUBLIC;
TRUNCATE mal_attack.log;
RESET ROLE;

-- What the attacker gained (nothing, when all is well), and what its code
-- ran into, as whom, in how many of the places it was planted
CREATE FUNCTION attack_gains() RETURNS text
LANGUAGE sql AS $$
	SELECT coalesce(nullif(concat_ws(', ',
			CASE WHEN (SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_mallory') THEN 'superuser' END,
			CASE WHEN has_table_privilege('regress_mallory', 'regress_friends.secret', 'SELECT') THEN 'the friend''s table' END,
			CASE WHEN current_setting('search_path') <> '"$user", public' THEN 'search_path ' || current_setting('search_path') END,
			CASE WHEN to_regclass('pg_temp.regress_trap') IS NOT NULL THEN 'a temporary table' END,
			CASE WHEN current_user <> session_user THEN 'current_user ' || current_user END), ''), 'nothing')
$$;
CREATE FUNCTION attack_outcome(caller text) RETURNS TABLE (attempt text, ran_as text, outcome text, places bigint)
LANGUAGE sql AS $$
	SELECT l.attempt, l.ran_as, l.outcome, count(DISTINCT l.vector) FROM mal_attack.log l WHERE l.caller = attack_outcome.caller
	GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
$$;

-- a superuser refreshes (both kinds), labels, trims, plots and reports
SELECT segment.refresh_segmentation('mal');
SELECT segment.refresh_segmentation('mal', refit => false);
SELECT segment.set_label('mal', 1, 'first');
SELECT segment.trim_history('mal', '0 seconds');
SELECT length(segment.plot('mal', 'profiles')) > 0 AS plotted, length(segment.report('mal')) > 0 AS reported;
SELECT attack_gains();
SELECT * FROM attack_outcome(session_user);
-- every place ran the code: the source view, the default, the index
-- expression, the policy, and the triggers of every table
SELECT vector FROM mal_attack.log WHERE vector NOT LIKE 'trigger %' GROUP BY vector ORDER BY vector;
SELECT split_part(vector, ' ', 2) AS result_table, string_agg(DISTINCT substr(vector, length(split_part(vector, ' ', 2)) + 10), ', ') AS triggers
FROM mal_attack.log WHERE vector LIKE 'trigger %' GROUP BY 1 ORDER BY 1;

-- the friend: a member of mallory with a table of its own
SET SESSION AUTHORIZATION regress_friend;
SELECT segment.refresh_segmentation('mal');
SELECT segment.set_label('mal', 1, 'friendly');
SELECT segment.trim_history('mal', '0 seconds');
SELECT length(segment.plot('mal', 'profiles')) > 0 AS plotted;
SELECT attack_gains();
SELECT * FROM attack_outcome('regress_friend');
RESET SESSION AUTHORIZATION;

-- a role that may read the registry row but has no rights of the owner's
-- gets 42501, not "does not exist"
CREATE ROLE regress_reader;
GRANT USAGE ON SCHEMA mal TO regress_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA mal TO regress_reader;
SET ROLE regress_reader;
SELECT count(*) AS registry_rows_seen FROM segment.segmentations WHERE name = 'mal';
SELECT error_of($$ SELECT segment.refresh_segmentation('mal') $$);
SELECT error_of($$ SELECT segment.refresh_segmentation('mal', refit => false) $$);
SELECT error_of($$ SELECT segment.set_label('mal', 1, 'mine') $$);
SELECT error_of($$ SELECT segment.trim_history('mal', '1 day') $$);
SELECT error_of($$ SELECT segment.alter_segmentation('mal', k => 4) $$);
SELECT error_of($$ SELECT segment.drop_segmentation('mal') $$);
-- nor does it get the owner's rights through the functions inside
SELECT error_of($$ SELECT segment.execute_as_owner('mal', 'regress_mallory', 'SELECT 1') $$);
SELECT error_of($$ SELECT segment.refresh_segmentation_as_owner('mal', true) $$);
RESET ROLE;
-- it may draw the pictures and the report: as the owner, security-restricted,
-- as a view reads its tables for whoever may read the view (its row-level
-- security policy ran mallory's code as the reader before 0.4)
TRUNCATE mal_attack.log;
SET SESSION AUTHORIZATION regress_reader;
SELECT length(segment.plot('mal', 'profiles')) > 0 AS plotted, length(segment.report('mal')) > 0 AS reported;
RESET SESSION AUTHORIZATION;
SELECT attack_gains();
SELECT * FROM attack_outcome('regress_reader');
-- a role that may not read the tables draws nothing, even by calling the
-- drawing function itself
CREATE ROLE regress_nobody;
SET ROLE regress_nobody;
SELECT error_of($$ SELECT segment.render_as_owner('mal', 'elbow') $$);
SELECT error_of($$ SELECT segment.render_as_owner('mal', NULL) $$);
RESET ROLE;
DROP ROLE regress_nobody;
-- and a superuser who calls the owner's part of a refresh straight away is
-- stopped too
SELECT error_of($$ SELECT segment.refresh_segmentation_as_owner('mal', true) $$);

-- a column the pictures read, retyped by the owner to carry markup into the
-- report, stops the pictures instead
-- (mallory's own triggers stay off for her UPDATE here: this session's
-- authenticated user is a superuser, which SET ROLE does not hide)
SET ROLE regress_mallory;
ALTER TABLE mal.model ALTER COLUMN seed TYPE text;
ALTER TABLE mal.model DISABLE TRIGGER USER;
UPDATE mal.model SET seed = '0)</p><script>alert(1)</script><p>(';
ALTER TABLE mal.model ENABLE TRIGGER USER;
RESET ROLE;
SELECT error_of($$ SELECT segment.report('mal') $$);
SELECT error_of($$ SELECT segment.plot('mal', 'elbow') $$);
SET ROLE regress_mallory;
ALTER TABLE mal.model ALTER COLUMN seed TYPE bigint USING 0;
RESET ROLE;

-- code of the owner's that fails makes the refresh fail with its error,
-- and nothing is half-written: a deferred trigger (which PostgreSQL does
-- not let a security-restricted operation queue), then an error
CREATE TABLE mal_before AS SELECT (SELECT array_agg(m ORDER BY m::text) FROM mal.model m) AS model,
	(SELECT count(*) FROM mal.history) AS history_rows, (SELECT assigned_at FROM segment.segmentations WHERE name = 'mal') AS assigned_at;
SET ROLE regress_mallory;
CREATE FUNCTION mal_attack.fail() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
	RAISE EXCEPTION 'mallory''s trigger says no';
END
$f$;
CREATE CONSTRAINT TRIGGER deferred AFTER INSERT ON mal.model DEFERRABLE INITIALLY DEFERRED
	FOR EACH ROW EXECUTE FUNCTION mal_attack.on_write();
RESET ROLE;
SELECT error_of($$ SELECT segment.refresh_segmentation('mal', refit => false) $$);
SET ROLE regress_mallory;
DROP TRIGGER deferred ON mal.model;
CREATE TRIGGER fail AFTER INSERT ON mal.history FOR EACH STATEMENT EXECUTE FUNCTION mal_attack.fail();
RESET ROLE;
SELECT error_of($$ SELECT segment.refresh_segmentation('mal') $$);
SELECT (SELECT array_agg(m ORDER BY m::text) FROM mal.model m) = b.model AS model_unchanged,
	(SELECT count(*) FROM mal.history) = b.history_rows AS history_unchanged,
	(SELECT assigned_at FROM segment.segmentations WHERE name = 'mal') = b.assigned_at AS registry_unchanged
FROM mal_before b;
SET ROLE regress_mallory;
DROP TRIGGER fail ON mal.history;
RESET ROLE;
DROP TABLE mal_before;

-- a superuser's pg_cron job (real pg_cron, in the background worker) and
-- the owner's own job, as the README schedules it
CREATE EXTENSION pg_cron;
TRUNCATE mal_attack.log;
SELECT cron.schedule('regress-mal-superuser', '* * * * *', $$SELECT segment.refresh_segmentation('mal', refit => false)$$) > 0 AS scheduled;
SELECT cron.schedule_in_database('regress-mal-owner', '* * * * *', $$SELECT segment.refresh_segmentation('mal')$$,
	current_database(), 'regress_mallory') > 0 AS scheduled;
DO $$
BEGIN
	FOR attempt IN 1 .. 150 LOOP
		EXIT WHEN (SELECT count(DISTINCT jobid) FROM cron.job_run_details WHERE status IN ('succeeded', 'failed')) >= 2;
		PERFORM pg_sleep(1);
	END LOOP;
END
$$;
SELECT j.jobname, bool_and(d.username = 'regress_mallory') AS as_the_owner, string_agg(DISTINCT d.status, ', ') AS status,
	string_agg(DISTINCT d.return_message, ', ') AS return_message
FROM cron.job_run_details d JOIN cron.job j USING (jobid) WHERE d.status IN ('succeeded', 'failed') GROUP BY j.jobname ORDER BY j.jobname;
SELECT count(cron.unschedule(jobid)) AS unscheduled FROM cron.job WHERE jobname LIKE 'regress-mal-%';
SELECT attack_gains();
SELECT * FROM attack_outcome(session_user);
SELECT * FROM attack_outcome('regress_mallory');
DROP EXTENSION pg_cron;

-- a superuser who segments another role's source is told that the source's
-- code will run with a superuser's rights at every refresh
SET ROLE regress_friend;
CREATE TABLE regress_friends.lines AS SELECT * FROM invoices WHERE customer_id < 12400;
RESET ROLE;
SELECT segment.create_segmentation('warned', 'regress_friends.lines', k => 2);
SELECT segment.drop_segmentation('warned');

-- mallory gained nothing
SELECT rolsuper AS mallory_is_superuser, has_table_privilege('regress_mallory', 'regress_friends.secret', 'SELECT') AS mallory_reads_the_secret,
	(SELECT count(*) FROM pg_auth_members WHERE member = 'regress_mallory'::regrole) AS mallory_memberships
FROM pg_roles WHERE rolname = 'regress_mallory';

SET client_min_messages = warning;
SET ROLE regress_mallory;
SELECT segment.drop_segmentation('mal', cascade => true);
DROP SCHEMA mal_attack CASCADE;
RESET ROLE;
DROP SCHEMA regress_friends CASCADE;
SELECT format('REVOKE CREATE ON DATABASE %I FROM regress_mallory', current_database()) \gexec
REVOKE ALL ON invoices FROM regress_mallory;
DROP ROLE regress_reader;
DROP ROLE regress_friend;
DROP ROLE regress_mallory;
DROP FUNCTION attack_outcome(text);
DROP FUNCTION attack_gains();
RESET client_min_messages;
