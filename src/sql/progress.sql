/* src/sql/progress.sql */

-- Where a refresh is.  Each phase of a refresh shows at the head of its
-- session's query in pg_stat_activity, as a comment before the statement
-- that was run (an extension cannot add a pg_stat_progress_* view); with
-- SET segment.report_phases = on the end of each phase is an INFO line with its
-- time, as VACUUM VERBOSE's.

-- The refresh of segmentation enters phase (NULL: the refresh is over)
CREATE FUNCTION segment.enter_phase(segmentation text, phase text)
	RETURNS void
	LANGUAGE C VOLATILE
	AS 'MODULE_PATHNAME', 'enter_phase';
COMMENT ON FUNCTION segment.enter_phase(text, text) IS
	'the refresh of a segmentation enters a phase (shown in pg_stat_activity and segment.progress; NULL: it is over)';

-- The refreshes under way that the current role may see, as
-- pg_stat_activity shows them: its own role's sessions, or every session
-- for a member of pg_read_all_stats
CREATE VIEW segment.progress AS
SELECT a.pid, a.datname AS database, a.usename AS role, m[1] AS segmentation, m[2] AS phase,
	a.state_change AS phase_started, a.query_start AS statement_started,
	a.wait_event_type, a.wait_event, m[3] AS statement
FROM pg_catalog.pg_stat_activity a,
	LATERAL pg_catalog.regexp_match(a.query, '^/\* segment "([a-z_][a-z0-9_]*)": ([^*]*) \*/ (.*)$') AS m
WHERE m IS NOT NULL;
COMMENT ON VIEW segment.progress IS
	'the segmentations being refreshed now, with their current phase (the sessions pg_stat_activity shows the current role)';
COMMENT ON COLUMN segment.progress.pid IS 'the process of the session that runs the refresh';
COMMENT ON COLUMN segment.progress.database IS 'its database';
COMMENT ON COLUMN segment.progress.role IS 'the role it logged in as';
COMMENT ON COLUMN segment.progress.segmentation IS 'the segmentation being refreshed';
COMMENT ON COLUMN segment.progress.phase IS 'what the refresh is doing: grouping the lines by customer, writing the features, standardizing the vectors, fitting and scoring k = 2..n, drawing the silhouettes'' sample, assigning the customers, filling a table (profiles, elbow, ...), recording history';
COMMENT ON COLUMN segment.progress.phase_started IS 'when the phase began';
COMMENT ON COLUMN segment.progress.statement_started IS 'when the statement that runs the refresh began (create_segmentation, refresh_segmentation, a pg_cron job)';
COMMENT ON COLUMN segment.progress.wait_event_type IS 'what the session waits for, if anything (Lock: another session holds a lock it needs), as in pg_stat_activity';
COMMENT ON COLUMN segment.progress.wait_event IS 'the wait event, as in pg_stat_activity';
COMMENT ON COLUMN segment.progress.statement IS 'the statement that runs the refresh';
GRANT SELECT ON segment.progress TO PUBLIC;
