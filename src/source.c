/*-------------------------------------------------------------------------
 *
 * source.c
 *	  Reading a source query (row id, float8[] vector[, cluster]) into memory
 *
 * A source is the text of a query, run through SPI with the caller's rights.
 * The executor hands its rows to a DestReceiver of ours, which copies each
 * vector straight from the executor's slot into one contiguous row-major
 * matrix, the layout the clustering loops want: no tuple table is built and
 * no row is copied twice.  The
 * memory the caller will need (the matrix plus its own working set) is
 * checked against maintenance_work_mem before the matrix grows, and every
 * vector is checked (same length, no NULL, NaN or infinity) with an error
 * that names the row id.
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"

#include "source.h"

/* Rows per fetch (before PostgreSQL 14) and between interrupt checks */
#define SOURCE_BATCH_ROWS 8192
#define SOURCE_INITIAL_ROWS 1024
/* Bytes of the first allocation at most, however many rows the planner expects */
#define SOURCE_LARGEST_FIRST ((Size) 256 * 1024 * 1024)

/* Error context: say which function's source was being read */
static void
SourceErrorContext(void *arg)
{
	errcontext("source query of segment.%s", (const char *) arg);
}

/* True for the types a row id or cluster column may have */
static bool
SourceIsIntegerType(Oid type)
{
	return type == INT2OID || type == INT4OID || type == INT8OID;
}

/* Read an integer column (int2, int4 or int8) as int64 */
static int64
SourceGetInteger(Datum value, Oid type)
{
	switch (type)
	{
		case INT2OID:
			return DatumGetInt16(value);
		case INT4OID:
			return DatumGetInt32(value);
		default:
			return DatumGetInt64(value);
	}
}

/* Check the source's columns against what the caller needs */
static void
SourceCheckColumns(TupleDesc tupdesc, const SourceOptions *options)
{
	int			needed = options->clusters ? 3 : 2;

	if (tupdesc->natts < needed)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the source of segment.%s returns %d column%s, it must return %s",
						options->function, tupdesc->natts, tupdesc->natts == 1 ? "" : "s",
						options->clusters ? "3: a row id, a float8[] vector and an integer cluster"
						: "2: a row id and a float8[] vector")));
	if (options->integer_ids && !SourceIsIntegerType(TupleDescAttr(tupdesc, 0)->atttypid))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the row id column of the source of segment.%s must be smallint, integer or bigint, not %s",
						options->function, format_type_be(TupleDescAttr(tupdesc, 0)->atttypid)),
				 errhint("Use segment.kmeans_fit and segment.kmeans_assign for row ids of other types.")));
	if (TupleDescAttr(tupdesc, 1)->atttypid != FLOAT8ARRAYOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the second column of the source of segment.%s must be float8[], not %s",
						options->function, format_type_be(TupleDescAttr(tupdesc, 1)->atttypid)),
				 errhint("Cast it in the source query, for example vec::float8[].")));
	if (options->clusters && !SourceIsIntegerType(TupleDescAttr(tupdesc, 2)->atttypid))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the cluster column of the source of segment.%s must be smallint, integer or bigint, not %s",
						options->function, format_type_be(TupleDescAttr(tupdesc, 2)->atttypid))));
}

/* Memory per row: the matrix row, id, cluster and the caller's working set */
static Size
SourceBytesPerRow(const SourceOptions *options, int dims)
{
	return MemoryProduct(dims, sizeof(double) + options->extra_per_dim) +
		(options->integer_ids ? sizeof(int64) : 0) +
		(options->clusters ? sizeof(int64) : 0) +
		options->extra_per_row;
}

/* A larger array holding the used bytes of an old one, which is freed */
static void *
SourceMoveTo(void *old, Size used, Size size, MemoryContext context)
{
	void	   *moved = MemoryAllocLarge(context, size);

	memcpy(moved, old, used);
	pfree(old);
	return moved;
}

/*
 * Make room for one more row, checking the memory need first: the first
 * time for the rows the planner expects, then twice the rows each time
 */
static void
SourceGrow(SourceData *data, int64 *capacity, const SourceOptions *options, MemoryContext context,
		   double expected_rows)
{
	Size		per_row = SourceBytesPerRow(options, data->x.cols);
	Size		limit = (Size) maintenance_work_mem * 1024;
	int64		wanted = Max(*capacity * 2, SOURCE_INITIAL_ROWS);
	int64		max_rows = (int64) (limit / per_row);

	/* first room for the planner's estimate and a little more, within reason */
	if (*capacity == 0 && expected_rows > SOURCE_INITIAL_ROWS)
		wanted = (int64) Min(expected_rows * 1.125 + 16, (double) SOURCE_LARGEST_FIRST / per_row);

	MemoryCheck(MemoryProduct(data->x.rows + 1, per_row), psprintf("segment.%s", options->function));
	wanted = Min(wanted, max_rows);
	if (data->x.values == NULL)
	{
		data->x.values = MemoryAllocLarge(context, MemoryProduct(wanted, data->x.cols * sizeof(double)));
		if (options->integer_ids)
			data->ids = MemoryAllocLarge(context, MemoryProduct(wanted, sizeof(int64)));
		if (options->clusters)
			data->clusters = MemoryAllocLarge(context, MemoryProduct(wanted, sizeof(int64)));
	}
	else
	{
		/* new arrays and a copy, not realloc: the copy lands in huge pages */
		data->x.values = SourceMoveTo(data->x.values, MemoryProduct(data->x.rows, data->x.cols * sizeof(double)),
									  MemoryProduct(wanted, data->x.cols * sizeof(double)), context);
		if (options->integer_ids)
			data->ids = SourceMoveTo(data->ids, data->x.rows * sizeof(int64), MemoryProduct(wanted, sizeof(int64)),
									 context);
		if (options->clusters)
			data->clusters = SourceMoveTo(data->clusters, data->x.rows * sizeof(int64),
										  MemoryProduct(wanted, sizeof(int64)), context);
	}
	*capacity = wanted;
}

/* The state of one read: where the rows go, and how to check them */
typedef struct SourceReader
{
	DestReceiver pub;			/* first: the executor sends rows here */
	SourceData *data;
	const SourceOptions *options;
	MemoryContext context;		/* the caller's, for the matrix */
	int64		capacity;		/* rows data has room for */
	double		expected_rows;	/* the planner's estimate, 0 if unknown */
	TupleDesc	tupdesc;
	Oid			id_output;		/* the row id's output function, for messages */
	bool		id_varlena;
} SourceReader;

/* The row id of the current row as text, for an error message */
static char *
SourceRowIdText(SourceReader *reader, Datum id)
{
	return OidOutputFunctionCall(reader->id_output, id);
}

/* Copy one source row into data, checking it */
static void
SourceAddRow(SourceReader *reader, Datum id, bool id_null, Datum vector, bool vector_null,
			 Datum cluster, bool cluster_null)
{
	SourceData *data = reader->data;
	const SourceOptions *options = reader->options;
	ArrayType  *array;
	VectorProblem problem;
	int			length;
	double	   *row;
	const double *values;

	if (id_null)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the source of segment.%s returned a NULL row id", options->function)));
	if (vector_null)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("vector of row id %s is NULL", SourceRowIdText(reader, id))));
	array = DatumGetArrayTypeP(vector);
	problem = VectorCheck(array, &length);
	if (problem != VECTOR_OK)
		VectorReportProblem(problem, "vector", SourceRowIdText(reader, id));
	if (data->x.rows == 0 && data->x.values == NULL)
		data->x.cols = length;
	else
		VectorCheckLength(length, data->x.cols, "vector", SourceRowIdText(reader, id));

	if (data->x.rows == reader->capacity)
		SourceGrow(data, &reader->capacity, options, reader->context, reader->expected_rows);

	row = MatrixRow(&data->x, data->x.rows);
	values = (const double *) ARR_DATA_PTR(array);
	for (int j = 0; j < length; j++)
		row[j] = values[j] + 0.0;	/* + 0.0 turns -0.0 into 0.0 */
	/* a short-header or compressed array was copied: free the copy now */
	if ((Pointer) array != DatumGetPointer(vector))
		pfree(array);
	if (options->integer_ids)
		data->ids[data->x.rows] = SourceGetInteger(id, TupleDescAttr(reader->tupdesc, 0)->atttypid);
	if (options->clusters)
	{
		if (cluster_null)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("cluster of row id %s is NULL", SourceRowIdText(reader, id))));
		data->clusters[data->x.rows] = SourceGetInteger(cluster, TupleDescAttr(reader->tupdesc, 2)->atttypid);
	}
	data->x.rows++;
	if ((data->x.rows & (SOURCE_BATCH_ROWS - 1)) == 0)
		CHECK_FOR_INTERRUPTS();
}

/* Remember the source's row type and check its columns */
static void
SourceStartColumns(SourceReader *reader, TupleDesc tupdesc)
{
	SourceCheckColumns(tupdesc, reader->options);
	reader->tupdesc = tupdesc;
	getTypeOutputInfo(TupleDescAttr(tupdesc, 0)->atttypid, &reader->id_output, &reader->id_varlena);
}

#if PG_VERSION_NUM >= 140000

/* The executor starts sending rows: check the columns */
static void
SourceReceiverStartup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
	SourceStartColumns((SourceReader *) self, typeinfo);
}

/* One row from the executor: copy it straight into the matrix */
static bool
SourceReceiveSlot(TupleTableSlot *slot, DestReceiver *self)
{
	SourceReader *reader = (SourceReader *) self;
	bool		id_null;
	bool		vector_null;
	bool		cluster_null = false;
	Datum		id = slot_getattr(slot, 1, &id_null);
	Datum		vector = slot_getattr(slot, 2, &vector_null);
	Datum		cluster = reader->options->clusters ? slot_getattr(slot, 3, &cluster_null) : (Datum) 0;

	SourceAddRow(reader, id, id_null, vector, vector_null, cluster, cluster_null);
	return true;
}

/* Nothing to release at the end of the rows */
static void
SourceReceiverShutdown(DestReceiver *self)
{
}

/* The reader lives on the caller's stack: nothing to free */
static void
SourceReceiverDestroy(DestReceiver *self)
{
}

/*
 * Run the plan with the reader as its destination: each row goes from the
 * executor's slot straight into the matrix, with no tuple table in between
 */
static void
SourceRunPlan(SPIPlanPtr plan, SourceReader *reader)
{
	SPIExecuteOptions execute;
	int			result;

	reader->pub.receiveSlot = SourceReceiveSlot;
	reader->pub.rStartup = SourceReceiverStartup;
	reader->pub.rShutdown = SourceReceiverShutdown;
	reader->pub.rDestroy = SourceReceiverDestroy;
	reader->pub.mydest = DestNone;
	memset(&execute, 0, sizeof(execute));
	execute.dest = &reader->pub;
	result = SPI_execute_plan_extended(plan, &execute);
	if (result < 0)
		elog(ERROR, "SPI_execute_plan_extended failed: %s", SPI_result_code_string(result));
}

#else

/* Before PostgreSQL 14 (no destination in SPI): fetch batches through a cursor */
static void
SourceRunPlan(SPIPlanPtr plan, SourceReader *reader)
{
	Portal		portal = SPI_cursor_open(NULL, plan, NULL, NULL, false);
	MemoryContext batch_context = AllocSetContextCreate(CurrentMemoryContext, "segment source batch",
														ALLOCSET_DEFAULT_SIZES);

	SourceStartColumns(reader, portal->tupDesc);
	for (;;)
	{
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		SPI_cursor_fetch(portal, true, SOURCE_BATCH_ROWS);
		if (SPI_processed == 0)
			break;
		old = MemoryContextSwitchTo(batch_context);
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tuple = SPI_tuptable->vals[i];
			TupleDesc	tupdesc = SPI_tuptable->tupdesc;
			bool		id_null;
			bool		vector_null;
			bool		cluster_null = false;
			Datum		id = SPI_getbinval(tuple, tupdesc, 1, &id_null);
			Datum		vector = SPI_getbinval(tuple, tupdesc, 2, &vector_null);
			Datum		cluster = reader->options->clusters ?
				SPI_getbinval(tuple, tupdesc, 3, &cluster_null) : (Datum) 0;

			SourceAddRow(reader, id, id_null, vector, vector_null, cluster, cluster_null);
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(batch_context);
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
}

#endif

/*
 * The number of rows the planner expects of a prepared query (its generic
 * plan, which the execution then uses), or 0 when it cannot say
 */
static double
SourceExpectedRows(SPIPlanPtr plan)
{
	CachedPlan *cached = SPI_plan_get_cached_plan(plan);
	double		rows = 0.0;

	if (cached == NULL)
		return 0.0;
	if (list_length(cached->stmt_list) == 1 && IsA(linitial(cached->stmt_list), PlannedStmt))
		rows = linitial_node(PlannedStmt, cached->stmt_list)->planTree->plan_rows;
	ReleaseCachedPlan(cached, NULL);
	return rows;
}

/*
 * Run the source query and read all its rows into data, allocated in the
 * caller's memory context.  An empty source is an error.
 */
void
SourceRead(text *source, const SourceOptions *options, SourceData *data)
{
	ErrorContextCallback callback;
	char	   *query = text_to_cstring(source);
	SPIPlanPtr	plan;
	SourceReader reader;

	memset(data, 0, sizeof(SourceData));
	memset(&reader, 0, sizeof(reader));
	reader.data = data;
	reader.options = options;
	reader.context = CurrentMemoryContext;
	callback.callback = SourceErrorContext;
	callback.arg = (void *) options->function;
	callback.previous = error_context_stack;
	error_context_stack = &callback;

	SPI_connect();
	plan = SPI_prepare(query, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	if (!SPI_is_cursor_plan(plan))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the source of segment.%s must be one query that returns rows", options->function),
				 errhint("Use SELECT, VALUES or TABLE.")));
	reader.expected_rows = SourceExpectedRows(plan);
	SourceRunPlan(plan, &reader);
	SPI_finish();
	error_context_stack = callback.previous;

	if (data->x.rows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the source of segment.%s returned no rows", options->function)));
}
