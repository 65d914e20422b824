/*-------------------------------------------------------------------------
 *
 * progress.c
 *	  Where a refresh is: its phases, timed on request and shown to others
 *
 * VACUUM VERBOSE prints each phase of its work, and CREATE INDEX shows its
 * current phase to every other session in pg_stat_progress_create_index.  An
 * extension cannot add a pg_stat_progress_* view (the command types are a
 * fixed list, ProgressCommandType), so a refresh shows its phase where every
 * monitoring tool already looks: at the head of its own pg_stat_activity row's
 * query, as a C-style comment before the statement that was run, which names
 * the segmentation and the phase ('segment "retail": assigning the
 * customers').
 *
 * A comment keeps the text a valid statement, and the head of it survives
 * track_activity_query_size.  Who may read it is pg_stat_activity's rule (the
 * same role, or pg_read_all_stats); the view segment.progress reads it back.
 * The statement's own text comes back at the end of the refresh, or of the
 * (sub)transaction that an error aborts.  With the setting segment.report_phases on,
 * the end of each phase is an INFO line with its time, as VACUUM VERBOSE's.
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "pgstat.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "progress.h"

PG_FUNCTION_INFO_V1(enter_phase);

/* segment.report_phases: print each phase of a refresh and its time */
static bool segment_report_phases = false;

/* The refresh under way in this backend, if any (in TopMemoryContext) */
static char *statement_text = NULL;	/* what pg_stat_activity showed before */
static char *phase_segmentation = NULL;
static char *phase_name = NULL;
static int	phase_nest_level = 0;	/* the (sub)transaction that began it */
static instr_time refresh_started;
static instr_time phase_started;

/* Show text as this backend's query in pg_stat_activity, keeping its query id */
static void
ShowActivity(const char *text)
{
#if PG_VERSION_NUM >= 140000
	uint64		query_id = pgstat_get_my_query_id();
#endif

	if (MyBEEntry == NULL)
		return;
	pgstat_report_activity(STATE_RUNNING, text);
#if PG_VERSION_NUM >= 140000
	/* pgstat_report_activity clears it, as for a new statement */
	pgstat_report_query_id(query_id, true);
#endif
}

/* Seconds since start */
static double
SecondsSince(instr_time start)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, start);
	return INSTR_TIME_GET_DOUBLE(now);
}

/* Forget the current phase's names */
static void
ForgetPhase(void)
{
	if (phase_segmentation != NULL)
		pfree(phase_segmentation);
	if (phase_name != NULL)
		pfree(phase_name);
	phase_segmentation = NULL;
	phase_name = NULL;
}

/* Forget the refresh under way: the statement's text back in pg_stat_activity */
static void
EndRefresh(void)
{
	if (statement_text == NULL)
		return;
	ShowActivity(statement_text);
	pfree(statement_text);
	statement_text = NULL;
	ForgetPhase();
}

/* The end of a transaction ends the refresh it ran (an error's abort too) */
static void
ProgressXactCallback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PREPARE || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PARALLEL_ABORT)
		EndRefresh();
}

/* The abort of the subtransaction a refresh began in ends it */
static void
ProgressSubXactCallback(SubXactEvent event, SubTransactionId mySubid,
						SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB && statement_text != NULL &&
		GetCurrentTransactionNestLevel() <= phase_nest_level)
		EndRefresh();
}

/* Print the end of the current phase with its time, when segment.report_phases is on */
static void
ReportPhaseEnd(void)
{
	if (segment_report_phases && phase_name != NULL)
		ereport(INFO,
				(errmsg("segmentation \"%s\": %s: %.2f s",
						phase_segmentation, phase_name, SecondsSince(phase_started))));
}

/*
 * segment.enter_phase(segmentation, phase): the refresh of segmentation
 * enters phase; NULL ends it.  Nothing to report when no refresh is under way
 * and phase is NULL.
 */
Datum
enter_phase(PG_FUNCTION_ARGS)
{
	MemoryContext old;
	StringInfoData shown;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("segmentation must not be NULL")));
	ReportPhaseEnd();
	if (PG_ARGISNULL(1))
	{
		if (statement_text != NULL && segment_report_phases)
			ereport(INFO,
					(errmsg("segmentation \"%s\": refreshed in %.2f s",
							phase_segmentation, SecondsSince(refresh_started))));
		EndRefresh();
		PG_RETURN_VOID();
	}

	old = MemoryContextSwitchTo(TopMemoryContext);
	if (statement_text == NULL)
	{
		/* the first phase: keep the statement's text to show it again */
		statement_text = MyBEEntry != NULL ? pgstat_clip_activity(MyBEEntry->st_activity_raw) : pstrdup("");
		phase_nest_level = GetCurrentTransactionNestLevel();
		INSTR_TIME_SET_CURRENT(refresh_started);
	}
	ForgetPhase();
	phase_segmentation = text_to_cstring(PG_GETARG_TEXT_PP(0));
	phase_name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	MemoryContextSwitchTo(old);
	INSTR_TIME_SET_CURRENT(phase_started);

	/* the phase first, so that track_activity_query_size cannot cut it */
	initStringInfo(&shown);
	appendStringInfo(&shown, "/* segment \"%s\": %s */ %s", phase_segmentation, phase_name, statement_text);
	ShowActivity(shown.data);
	pfree(shown.data);
	PG_RETURN_VOID();
}

/* Define segment.report_phases and follow transactions (called once, from _PG_init) */
void
SegmentProgressInit(void)
{
	DefineCustomBoolVariable("segment.report_phases",
							 "Reports each phase of a segmentation's refresh and its time.",
							 "The end of each phase is an INFO message, as with VACUUM VERBOSE.",
							 &segment_report_phases,
							 false,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("segment");
#else
	EmitWarningsOnPlaceholders("segment");
#endif
	RegisterXactCallback(ProgressXactCallback, NULL);
	RegisterSubXactCallback(ProgressSubXactCallback, NULL);
}
