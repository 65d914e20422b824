/*-------------------------------------------------------------------------
 *
 * owner.c
 *	  Running a segmentation's work as its owner, in a restricted context
 *
 * A refresh, a label or a trim runs whatever the owner of a segmentation
 * attached to it (triggers, defaults and index expressions of its tables,
 * functions in a source view) while the caller may be a superuser or a
 * pg_cron job.  PostgreSQL's REFRESH MATERIALIZED VIEW, CREATE INDEX and
 * VACUUM face the same problem with a relation's owner and solve it as this
 * file does (matview.c, ExecRefreshMatView): the user id becomes the owner's
 * with SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION, so that
 * SET ROLE, RESET ROLE, SET SESSION AUTHORIZATION and set_config('role', ...)
 * fail inside, no temporary object can be created to lie in wait for the
 * caller, and every setting changed inside is undone on the way out.  An
 * error restores the caller's user id and settings through the (sub)
 * transaction's abort, as it does for those commands.
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/plancache.h"
#include "utils/syscache.h"

#include "compat.h"
#include "owner.h"

PG_FUNCTION_INFO_V1(execute_as_owner);
PG_FUNCTION_INFO_V1(render_as_owner);
PG_FUNCTION_INFO_V1(query_columns);

/* How many RunAsOwner calls are under way in this backend */
static int	owner_work_depth = 0;
static ProcessUtility_hook_type previous_process_utility = NULL;

/* The owner of schema namespace */
static Oid
get_namespace_owner(Oid namespace)
{
	HeapTuple	tuple = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(namespace));
	Oid			owner;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for namespace %u", namespace);
	owner = ((Form_pg_namespace) GETSTRUCT(tuple))->nspowner;
	ReleaseSysCache(tuple);
	return owner;
}

/*
 * Whether the current user may read every table of the segmentation in
 * schema: segment.may_read_results, the rule the registry's row-level
 * security reads by (USAGE on the schema, SELECT on each of its tables)
 */
static bool
MayReadResults(Oid schema)
{
	Oid			argtypes[1] = {REGNAMESPACEOID};
	Datum		values[1] = {ObjectIdGetDatum(schema)};
	bool		result;
	bool		isnull;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT segment.may_read_results($1)", 1, argtypes, values,
							  NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "segment.may_read_results failed");
	result = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return !isnull && result;
}

/*
 * Raise 42501 unless the current user has the privileges of role owner (is
 * the owner, a member that inherits its rights, or a superuser): who may
 * REFRESH MATERIALIZED VIEW a view of that owner.
 */
static void
CheckActAsOwner(Oid owner, const char *segmentation)
{
	if (!OidIsValid(owner) || !SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(owner)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("the owner of segmentation \"%s\" does not exist", segmentation)));
	if (!has_privs_of_role(GetUserId(), owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of segmentation \"%s\"", segmentation),
				 errdetail("Only its owner %s, a member of that role or a superuser may change it.",
						   quote_identifier(GetUserNameFromId(owner, false)))));
}

/*
 * SET CONSTRAINTS inside the owner's work would change the caller's
 * transaction: ALL DEFERRED stays in force after it, ALL IMMEDIATE fires the
 * caller's own pending deferred triggers as the owner.  PostgreSQL's
 * security-restricted operations allow it, so the owner's work refuses it.
 */
#if PG_VERSION_NUM >= 140000
#define READ_ONLY_TREE_PARAMETER bool readOnlyTree,
#define READ_ONLY_TREE_ARGUMENT readOnlyTree,
#else
#define READ_ONLY_TREE_PARAMETER
#define READ_ONLY_TREE_ARGUMENT
#endif
static void
RefuseSetConstraints(PlannedStmt *pstmt, const char *queryString, READ_ONLY_TREE_PARAMETER
					 ProcessUtilityContext context, ParamListInfo params,
					 QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	if (owner_work_depth > 0 && IsA(pstmt->utilityStmt, ConstraintsSetStmt))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot SET CONSTRAINTS inside the work of a segmentation's owner")));
	if (previous_process_utility)
		previous_process_utility(pstmt, queryString, READ_ONLY_TREE_ARGUMENT context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, READ_ONLY_TREE_ARGUMENT context, params, queryEnv, dest, qc);
}

/* Install the hook of RefuseSetConstraints (called once, from _PG_init) */
void
SegmentOwnerInit(void)
{
	previous_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = RefuseSetConstraints;
}

/*
 * Run command (one or more SQL statements) as role owner, security-
 * restricted, with search_path pg_catalog, pg_temp; then come back to the
 * caller's user id, security context and settings.  Returns the first column
 * of the first row of the last statement as text (NULL when it has none).
 * A call inside another keeps the outer one's restrictions: the context is
 * only ever added to, as matview.c does.  An error restores user id and
 * settings through the (sub)transaction's abort; the depth of owner work,
 * which only this file reads, is restored here.
 */
static text *
RunAsOwner(Oid owner, const char *command)
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
	int			save_depth = owner_work_depth;
	MemoryContext caller_context = CurrentMemoryContext;
	text	   *volatile result = NULL;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	owner_work_depth++;
	PG_TRY();
	{
		int			spi_result;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		spi_result = SPI_execute(command, false, 0);
		if (spi_result < 0)
			elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(spi_result));
		if (SPI_tuptable != NULL && SPI_processed > 0 && SPI_tuptable->tupdesc->natts > 0)
		{
			char	   *value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

			if (value != NULL)
			{
				MemoryContext spi_context = MemoryContextSwitchTo(caller_context);

				result = cstring_to_text(value);
				MemoryContextSwitchTo(spi_context);
			}
		}
		SPI_finish();
	}
	PG_FINALLY();
	{
		owner_work_depth = save_depth;
	}
	PG_END_TRY();

	AtEOXact_GUC(false, save_nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec_context);
	return result;
}

/*
 * segment.execute_as_owner(segmentation text, owner regrole, command text):
 * RunAsOwner, for a caller with the privileges of owner (so that it gives no
 * one more than SET ROLE to the owner would)
 */
Datum
execute_as_owner(PG_FUNCTION_ARGS)
{
	char	   *segmentation;
	Oid			owner;
	text	   *result;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("segmentation, owner and command must not be NULL")));
	segmentation = text_to_cstring(PG_GETARG_TEXT_PP(0));
	owner = PG_GETARG_OID(1);
	CheckActAsOwner(owner, segmentation);
	result = RunAsOwner(owner, text_to_cstring(PG_GETARG_TEXT_PP(2)));
	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(result);
}

/*
 * segment.render_as_owner(segmentation text, plot_kind text): a picture of
 * a segmentation (segment.draw_plot of plot_kind), or its report when
 * plot_kind is NULL (segment.write_report), drawn as the owner of its
 * schema, security-restricted, for a caller with
 * the owner's privileges or one that may read all of its tables
 * (segment.may_read_results), as a view reads its tables as its owner for
 * whoever may read the view.  The command is fixed here, so a reader runs
 * nothing of its own as the owner.
 */
Datum
render_as_owner(PG_FUNCTION_ARGS)
{
	char	   *segmentation;
	Oid			schema;
	Oid			owner;
	char	   *command;
	text	   *result;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("segmentation must not be NULL")));
	segmentation = text_to_cstring(PG_GETARG_TEXT_PP(0));
	schema = get_namespace_oid(segmentation, true);
	if (!OidIsValid(schema))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("segmentation \"%s\" does not exist", segmentation)));
	owner = get_namespace_owner(schema);
	if (!has_privs_of_role(GetUserId(), owner) && !MayReadResults(schema))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for segmentation \"%s\"", segmentation),
				 errhint("Drawing it needs USAGE on its schema and SELECT on each of its tables.")));
	if (PG_ARGISNULL(1))
		command = psprintf("SELECT segment.write_report(%s)", quote_literal_cstr(segmentation));
	else
		command = psprintf("SELECT segment.draw_plot(%s, %s)", quote_literal_cstr(segmentation),
						   quote_literal_cstr(text_to_cstring(PG_GETARG_TEXT_PP(1))));
	result = RunAsOwner(owner, command);
	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(result);
}

/*
 * segment.query_columns(query text): the output columns of a query, in
 * order, with their types, from its parse analysis alone: nothing of the
 * query is planned or run, and no temporary object is made.
 */
Datum
query_columns(PG_FUNCTION_ARGS)
{
	char	   *query = text_to_cstring(PG_GETARG_TEXT_PP(0));
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SPIPlanPtr	plan;
	List	   *sources;
	CachedPlanSource *source;
	TupleDesc	result;

	SegmentInitMaterializedSRF(fcinfo);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = SPI_prepare(query, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	sources = SPI_plan_get_plan_sources(plan);
	if (list_length(sources) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("query must be a single statement")));
	source = (CachedPlanSource *) linitial(sources);
	result = source->resultDesc;
	if (result == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("query must return rows")));
	for (int i = 0; i < result->natts; i++)
	{
		Form_pg_attribute attribute = TupleDescAttr(result, i);
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		if (attribute->attisdropped)
			continue;
		values[0] = Int32GetDatum(i + 1);
		values[1] = NameGetDatum(&attribute->attname);
		values[2] = CStringGetTextDatum(format_type_with_typemod(attribute->atttypid,
																 attribute->atttypmod));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}
