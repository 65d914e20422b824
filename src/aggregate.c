/*-------------------------------------------------------------------------
 *
 * aggregate.c
 *	  The aggregate forms of the building blocks: kmeans_fit, evaluate,
 *	  silhouette, davies_bouldin, calinski_harabasz and pca_fit over the
 *	  rows themselves, and silhouette_samples as a window function
 *
 * Each aggregate collects its group's vectors (and clusters, for the
 * scores) into the matrix a source is read into, then its final function
 * hands them to the code of the source-text form.  That code puts the rows
 * in its canonical order first, so the answer is the same bits as the text
 * form's on the same rows, whatever order the rows came in, the plan, or
 * how many parallel workers collected them.
 *
 * The states are combinable: a parallel worker's rows are serialized to the
 * leader and appended to its own.  The memory the final function will need
 * (the matrix and the working set of the building block, as the text form
 * counts it) is checked against maintenance_work_mem as each state grows.
 *
 * The final functions of kmeans_fit and evaluate reorder the state's rows in
 * place when they sort them (their states hold nothing per row but the
 * vector), and never add or remove one: the state still holds the same
 * rows, so a later transition sees the same group, which lets them serve as
 * window aggregates with moving frames.  A cancel in the middle of the
 * reordering aborts the query, which ends the state too.  The scores sort
 * copies (their states may be shared by the three of them) and pca_fit fits
 * a copy.
 *
 * NULLs: a row whose vector (or cluster) is NULL is skipped, as regr_slope
 * skips a pair with a NULL; a NULL argument (k, n_init, ...) is an error;
 * a group with no rows gives NULL.  The arguments are checked on a group's
 * first row, so a group without rows gives NULL whatever they are.
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/typcache.h"
#include "windowapi.h"

#include "aggregate.h"
#include "evaluate.h"
#include "kmeans.h"
#include "metrics.h"
#include "model.h"
#include "pca.h"
#include "vector.h"

/* The first version of the serialized state */
#define AGGREGATE_STATE_VERSION 1

/* Rows the first allocation has room for: small, as a GROUP BY may hold many states */
#define AGGREGATE_INITIAL_ROWS 16

/* Rows between interrupt checks while rows are appended */
#define AGGREGATE_INTERRUPT_ROWS 8192

/* The SQL name of a state's aggregate, for messages */
static const char *
AggregateName(AggregateKind kind)
{
	switch (kind)
	{
		case AGGREGATE_KMEANS_FIT:
			return "segment.kmeans_fit";
		case AGGREGATE_EVALUATE:
			return "segment.evaluate";
		case AGGREGATE_CLUSTER_SCORES:
			return "segment.silhouette, davies_bouldin or calinski_harabasz";
		case AGGREGATE_PCA_FIT:
			return "segment.pca_fit";
	}
	return "segment";
}

/*
 * Memory per row the final function needs: the vector, the cluster, and
 * the working set the source-text form counts for the same building block
 * (the scores count the silhouette's, the largest of the three)
 */
static Size
AggregateBytesPerRow(const AggregateState *state, int dims)
{
	Size		per_row = 0;
	Size		per_dim = 0;

	switch (state->kind)
	{
		case AGGREGATE_KMEANS_FIT:
			per_row = KMeansFitsExtraPerRow(state->k, state->k);
			per_dim = KMEANS_EXTRA_PER_DIM;
			break;
		case AGGREGATE_EVALUATE:
			per_row = EvaluateExtraPerRow(state->k, state->k_max);
			per_dim = EVALUATE_EXTRA_PER_DIM;
			break;
		case AGGREGATE_CLUSTER_SCORES:
			per_row = sizeof(int64) + SilhouetteExtraPerRow(0);
			per_dim = SILHOUETTE_EXTRA_PER_DIM;
			break;
		case AGGREGATE_PCA_FIT:
			/* the final function fits a copy: the state stays as it is */
			per_row = PCA_EXTRA_PER_ROW;
			per_dim = sizeof(double) + PCA_EXTRA_PER_DIM;
			break;
	}
	return MemoryProduct(dims, sizeof(double) + per_dim) + per_row;
}

/* Raise the error of a support function called outside an aggregate */
static void
AggregateContextError(const char *function)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("%s called in non-aggregate context", function)));
}

/* An argument that is not a row's data must not be NULL */
static void
AggregateArgumentNotNull(FunctionCallInfo fcinfo, int arg, const char *name, const AggregateState *state)
{
	if (PG_ARGISNULL(arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s of %s must not be NULL", name, state->function)));
}

/* An argument must be the same for every row of a group */
static void
AggregateArgumentSame(int64 first, int64 now, const char *name, const AggregateState *state)
{
	if (first != now)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s of %s must be the same for every row of a group", name, state->function),
				 errdetail("It was " INT64_FORMAT " for an earlier row and is " INT64_FORMAT " now.", first, now)));
}

/* A new, empty state in the aggregate's memory context */
static AggregateState *
AggregateStateCreate(MemoryContext aggcontext, AggregateKind kind)
{
	AggregateState *state = MemoryContextAllocZero(aggcontext, sizeof(AggregateState));

	state->kind = kind;
	state->function = AggregateName(kind);
	return state;
}

/*
 * Make room for `more` rows, checking first that maintenance_work_mem holds
 * the final function's need for all of them; the room doubles each time
 */
static void
AggregateReserve(AggregateState *state, int64 more, MemoryContext aggcontext)
{
	SourceData *rows = &state->rows;
	int64		needed = rows->x.rows + more;
	int64		capacity = Max(state->capacity * 2, AGGREGATE_INITIAL_ROWS);
	Size		per_row;
	int64		max_rows;

	if (needed <= state->capacity)
		return;
	per_row = AggregateBytesPerRow(state, rows->x.cols);
	max_rows = (int64) ((Size) maintenance_work_mem * 1024 / per_row);
	MemoryCheck(MemoryProduct(needed, per_row), state->function);
	capacity = Max(Min(capacity, max_rows), needed);
	if (rows->x.values == NULL)
	{
		rows->x.values = MemoryAllocLarge(aggcontext, MemoryProduct(capacity, rows->x.cols * sizeof(double)));
		if (state->kind == AGGREGATE_CLUSTER_SCORES)
			rows->clusters = MemoryAllocLarge(aggcontext, MemoryProduct(capacity, sizeof(int64)));
	}
	else
	{
		rows->x.values = repalloc_huge(rows->x.values, MemoryProduct(capacity, rows->x.cols * sizeof(double)));
		if (state->kind == AGGREGATE_CLUSTER_SCORES)
			rows->clusters = repalloc_huge(rows->clusters, MemoryProduct(capacity, sizeof(int64)));
	}
	state->capacity = capacity;
}

/* Take the vectors' length from a group's first rows, check it after */
static void
AggregateCheckLength(AggregateState *state, int length)
{
	SourceData *rows = &state->rows;

	if (rows->x.values == NULL)
		rows->x.cols = length;
	else if (length != rows->x.cols)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("vec of %s has %d elements, expected %d", state->function, length, rows->x.cols),
				 errdetail("All vectors of one group must have the same length.")));
}

/* Append one row's vector (checked) and cluster to a state */
static void
AggregateAddRow(AggregateState *state, ArrayType *array, int64 cluster, MemoryContext aggcontext)
{
	SourceData *rows = &state->rows;
	VectorProblem problem;
	int			length;
	const double *values;
	double	   *row;

	problem = VectorCheck(array, &length);
	if (problem != VECTOR_OK)
		VectorReportProblem(problem, psprintf("vec of %s", state->function), NULL);
	AggregateCheckLength(state, length);
	AggregateReserve(state, 1, aggcontext);
	row = MatrixRow(&rows->x, rows->x.rows);
	values = (const double *) ARR_DATA_PTR(array);
	for (int j = 0; j < length; j++)
		row[j] = values[j] + 0.0;	/* + 0.0 turns -0.0 into 0.0, as a source read does */
	if (rows->clusters != NULL)
		rows->clusters[rows->x.rows] = cluster;
	rows->x.rows++;
	if ((rows->x.rows & (AGGREGATE_INTERRUPT_ROWS - 1)) == 0)
		CHECK_FOR_INTERRUPTS();
}

/*
 * The state of a transition call, created empty on a group's first row
 * (the caller records the aggregate's arguments in it)
 */
static AggregateState *
AggregateTransitionState(FunctionCallInfo fcinfo, AggregateKind kind, const char *function,
						 MemoryContext *aggcontext)
{
	if (!AggCheckCallContext(fcinfo, aggcontext))
		AggregateContextError(function);
	if (PG_ARGISNULL(0))
		return AggregateStateCreate(*aggcontext, kind);
	return (AggregateState *) PG_GETARG_POINTER(0);
}

/* Append the row of a transition call unless its vector is NULL */
static void
AggregateTransitionRow(FunctionCallInfo fcinfo, AggregateState *state, int64 cluster, MemoryContext aggcontext)
{
	if (PG_ARGISNULL(1))
		return;
	AggregateAddRow(state, PG_GETARG_ARRAYTYPE_P(1), cluster, aggcontext);
}

/* Record the fit arguments of kmeans_fit on a group's first row, compare them after */
static void
AggregateKMeansArguments(AggregateState *state, bool first, int32 k, int32 n_init, int64 seed)
{
	if (first)
	{
		KMeansParams params = KMeansParamsOf(k, n_init, seed);

		KMeansCheckParams(&params, PG_INT64_MAX);
		state->k = k;
		state->n_init = n_init;
		state->seed = seed;
		return;
	}
	AggregateArgumentSame(state->k, k, "k", state);
	AggregateArgumentSame(state->n_init, n_init, "n_init", state);
	AggregateArgumentSame(state->seed, seed, "seed", state);
}

/* kmeans_fit(vec, k) and kmeans_fit(vec, k, n_init, seed): the transition */
PG_FUNCTION_INFO_V1(kmeans_fit_accum);
Datum
kmeans_fit_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	AggregateState *state = AggregateTransitionState(fcinfo, AGGREGATE_KMEANS_FIT, "kmeans_fit_accum", &aggcontext);
	bool		seeded = PG_NARGS() >= 5;

	AggregateArgumentNotNull(fcinfo, 2, "k", state);
	if (seeded)
	{
		AggregateArgumentNotNull(fcinfo, 3, "n_init", state);
		AggregateArgumentNotNull(fcinfo, 4, "seed", state);
	}
	AggregateKMeansArguments(state, PG_ARGISNULL(0), PG_GETARG_INT32(2),
							 seeded ? PG_GETARG_INT32(3) : KMEANS_DEFAULT_N_INIT, seeded ? PG_GETARG_INT64(4) : 0);
	AggregateTransitionRow(fcinfo, state, 0, aggcontext);
	PG_RETURN_POINTER(state);
}

/* evaluate(vec, k_min, k_max): the transition */
PG_FUNCTION_INFO_V1(evaluate_accum);
Datum
evaluate_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	AggregateState *state = AggregateTransitionState(fcinfo, AGGREGATE_EVALUATE, "evaluate_accum", &aggcontext);
	int32		k_min;
	int32		k_max;

	AggregateArgumentNotNull(fcinfo, 2, "k_min", state);
	AggregateArgumentNotNull(fcinfo, 3, "k_max", state);
	k_min = PG_GETARG_INT32(2);
	k_max = PG_GETARG_INT32(3);
	if (PG_ARGISNULL(0))
	{
		EvaluateCheckKs(k_min, k_max);
		state->k = k_min;
		state->k_max = k_max;
		state->n_init = KMEANS_DEFAULT_N_INIT;
	}
	else
	{
		AggregateArgumentSame(state->k, k_min, "k_min", state);
		AggregateArgumentSame(state->k_max, k_max, "k_max", state);
	}
	AggregateTransitionRow(fcinfo, state, 0, aggcontext);
	PG_RETURN_POINTER(state);
}

/* silhouette, davies_bouldin and calinski_harabasz (vec, cluster): the transition */
PG_FUNCTION_INFO_V1(cluster_scores_accum);
Datum
cluster_scores_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	AggregateState *state = AggregateTransitionState(fcinfo, AGGREGATE_CLUSTER_SCORES, "cluster_scores_accum",
													 &aggcontext);

	/* a row without a cluster is not part of the clustering: skipped */
	if (!PG_ARGISNULL(2))
		AggregateTransitionRow(fcinfo, state, PG_GETARG_INT32(2), aggcontext);
	PG_RETURN_POINTER(state);
}

/* pca_fit(vec) and pca_fit(vec, n_components): the transition */
PG_FUNCTION_INFO_V1(pca_fit_accum);
Datum
pca_fit_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	AggregateState *state = AggregateTransitionState(fcinfo, AGGREGATE_PCA_FIT, "pca_fit_accum", &aggcontext);
	int32		n_components = 2;

	if (PG_NARGS() >= 3)
	{
		AggregateArgumentNotNull(fcinfo, 2, "n_components", state);
		n_components = PG_GETARG_INT32(2);
	}
	if (PG_ARGISNULL(0))
	{
		PcaCheckComponents(n_components);
		state->n_components = n_components;
	}
	else
		AggregateArgumentSame(state->n_components, n_components, "n_components", state);
	AggregateTransitionRow(fcinfo, state, 0, aggcontext);
	PG_RETURN_POINTER(state);
}

/* Raise the error of two states that cannot be one group */
static void
AggregateMismatch(const AggregateState *left, const AggregateState *right)
{
	if (left->kind != right->kind)
		elog(ERROR, "cannot combine states of %s and %s", left->function, AggregateName(right->kind));
	AggregateArgumentSame(left->k, right->k, left->kind == AGGREGATE_EVALUATE ? "k_min" : "k", left);
	AggregateArgumentSame(left->k_max, right->k_max, "k_max", left);
	AggregateArgumentSame(left->n_init, right->n_init, "n_init", left);
	AggregateArgumentSame(left->seed, right->seed, "seed", left);
	AggregateArgumentSame(left->n_components, right->n_components, "n_components", left);
}

/* Combine function: append the rows of the right state to the left (non-strict) */
PG_FUNCTION_INFO_V1(vectors_combine);
Datum
vectors_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	AggregateState *left = PG_ARGISNULL(0) ? NULL : (AggregateState *) PG_GETARG_POINTER(0);
	AggregateState *right = PG_ARGISNULL(1) ? NULL : (AggregateState *) PG_GETARG_POINTER(1);
	SourceData *into;
	const SourceData *from;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		AggregateContextError("vectors_combine");
	if (right == NULL)
	{
		if (left == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(left);
	}
	if (left == NULL)
	{
		/* the right state's arguments, without its rows, in the aggregate's context */
		left = AggregateStateCreate(aggcontext, right->kind);
		*left = *right;
		memset(&left->rows, 0, sizeof(left->rows));
		left->capacity = 0;
	}
	AggregateMismatch(left, right);
	into = &left->rows;
	from = &right->rows;
	if (from->x.rows == 0)
		PG_RETURN_POINTER(left);
	AggregateCheckLength(left, from->x.cols);
	AggregateReserve(left, from->x.rows, aggcontext);
	memcpy(MatrixRow(&into->x, into->x.rows), from->x.values,
		   MemoryProduct(from->x.rows, from->x.cols * sizeof(double)));
	if (into->clusters != NULL)
		memcpy(into->clusters + into->x.rows, from->clusters, from->x.rows * sizeof(int64));
	into->x.rows += from->x.rows;
	PG_RETURN_POINTER(left);
}

/* Serialize function: the arguments, then the rows, led by a version byte */
PG_FUNCTION_INFO_V1(vectors_serialize);
Datum
vectors_serialize(PG_FUNCTION_ARGS)
{
	AggregateState *state;
	StringInfoData buf;
	Size		values_size;
	Size		clusters_size;

	if (!AggCheckCallContext(fcinfo, NULL))
		AggregateContextError("vectors_serialize");
	state = (AggregateState *) PG_GETARG_POINTER(0);
	values_size = MemoryProduct(state->rows.x.rows, state->rows.x.cols * sizeof(double));
	clusters_size = state->rows.clusters ? state->rows.x.rows * sizeof(int64) : 0;
	/* the bytea, with its header and the arguments, must stay below 1 GB */
	if (values_size + clusters_size > MaxAllocSize - VARHDRSZ - 64)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the rows one parallel worker collected for %s exceed 1 GB", state->function),
				 errdetail("A parallel worker passes its rows to the leader as one value, of at most 1 GB."),
				 errhint("Run the query without parallel workers: SET max_parallel_workers_per_gather = 0.")));

	pq_begintypsend(&buf);
	enlargeStringInfo(&buf, (int) (values_size + clusters_size + 64));
	pq_sendbyte(&buf, AGGREGATE_STATE_VERSION);
	pq_sendbyte(&buf, (int) state->kind);
	pq_sendint32(&buf, state->k);
	pq_sendint32(&buf, state->k_max);
	pq_sendint32(&buf, state->n_init);
	pq_sendint64(&buf, state->seed);
	pq_sendint32(&buf, state->n_components);
	pq_sendint32(&buf, state->rows.x.cols);
	pq_sendint64(&buf, state->rows.x.rows);
	/* the doubles as they lie in memory: the leader runs on the same machine */
	if (values_size > 0)
		pq_sendbytes(&buf, (const char *) state->rows.x.values, (int) values_size);
	if (clusters_size > 0)
		pq_sendbytes(&buf, (const char *) state->rows.clusters, (int) clusters_size);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Raise the error of a damaged serialized state */
static void
AggregateStateInvalid(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid state of a segment aggregate"),
			 errdetail("%s", detail)));
}

/* Deserialize function: bytea to state, checking version, kind and lengths */
PG_FUNCTION_INFO_V1(vectors_deserialize);
Datum
vectors_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *bytes;
	StringInfoData buf;
	AggregateState *state;
	int			kind;
	int			cols;
	int64		rows;
	Size		values_size;

	/*
	 * The state lives in the current, per-input memory: the combine function
	 * copies its rows into the group's state, so they are not held twice
	 */
	if (!AggCheckCallContext(fcinfo, NULL))
		AggregateContextError("vectors_deserialize");
	bytes = PG_GETARG_BYTEA_PP(0);
	buf.data = VARDATA_ANY(bytes);
	buf.len = VARSIZE_ANY_EXHDR(bytes);
	buf.maxlen = buf.len;
	buf.cursor = 0;

	if (pq_getmsgbyte(&buf) != AGGREGATE_STATE_VERSION)
		AggregateStateInvalid("Its version is not this library's.");
	kind = pq_getmsgbyte(&buf);
	if (kind < AGGREGATE_KMEANS_FIT || kind > AGGREGATE_PCA_FIT)
		AggregateStateInvalid("Its kind is unknown.");
	state = AggregateStateCreate(CurrentMemoryContext, (AggregateKind) kind);
	state->k = pq_getmsgint(&buf, 4);
	state->k_max = pq_getmsgint(&buf, 4);
	state->n_init = pq_getmsgint(&buf, 4);
	state->seed = pq_getmsgint64(&buf);
	state->n_components = pq_getmsgint(&buf, 4);
	cols = pq_getmsgint(&buf, 4);
	rows = pq_getmsgint64(&buf);
	if (rows < 0 || cols < 0 || cols > SEGMENT_MAX_DIMS || (rows > 0 && cols < 1))
		AggregateStateInvalid("Its row count or vector length is out of range.");
	values_size = MemoryProduct(rows, (Size) cols * sizeof(double));
	if ((Size) (buf.len - buf.cursor) != values_size + (kind == AGGREGATE_CLUSTER_SCORES ? rows * sizeof(int64) : 0))
		AggregateStateInvalid("Its length does not match its row count.");
	if (rows > 0)
	{
		state->rows.x.cols = cols;
		AggregateReserve(state, rows, CurrentMemoryContext);
		pq_copymsgbytes(&buf, (char *) state->rows.x.values, (int) values_size);
		if (state->rows.clusters != NULL)
			pq_copymsgbytes(&buf, (char *) state->rows.clusters, (int) (rows * sizeof(int64)));
		state->rows.x.rows = rows;
	}
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(state);
}

/* The state a final function reads, or NULL when its group has no rows */
static AggregateState *
AggregateFinalState(FunctionCallInfo fcinfo, const char *function)
{
	AggregateState *state;

	if (!AggCheckCallContext(fcinfo, NULL))
		AggregateContextError(function);
	if (PG_ARGISNULL(0))
		return NULL;
	state = (AggregateState *) PG_GETARG_POINTER(0);
	return state->rows.x.rows > 0 ? state : NULL;
}

/* The blessed descriptor of a final function's composite result */
static TupleDesc
AggregateResultDesc(FunctionCallInfo fcinfo, const char *function)
{
	TupleDesc	tupdesc;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "%s must return a composite type", function);
	return BlessTupleDesc(tupdesc);
}

/* The state's rows in canonical order, sorted in place (see the top) */
static void
AggregateCanonicalRows(AggregateState *state, KMeansData *data)
{
	Matrix		x = state->rows.x;

	KMeansPrepare(&x, data);
}

/* kmeans_fit(vec, k[, n_init, seed]): the model, as kmeans_fit(source, ...) */
PG_FUNCTION_INFO_V1(kmeans_fit_final);
Datum
kmeans_fit_final(PG_FUNCTION_ARGS)
{
	AggregateState *state = AggregateFinalState(fcinfo, "kmeans_fit_final");
	KMeansParams params;
	KMeansData	data;
	KMeansModel model;

	if (state == NULL)
		PG_RETURN_NULL();
	params = KMeansParamsOf(state->k, state->n_init, state->seed);
	AggregateCanonicalRows(state, &data);
	KMeansFit(&data, &params, &model);
	PG_RETURN_DATUM(KMeansModelToDatumDesc(AggregateResultDesc(fcinfo, "kmeans_fit_final"), &model, &params));
}

/* evaluate(vec, k_min, k_max): segment.evaluation[], one per k, as evaluate(source, ...) */
PG_FUNCTION_INFO_V1(evaluate_final);
Datum
evaluate_final(PG_FUNCTION_ARGS)
{
	AggregateState *state = AggregateFinalState(fcinfo, "evaluate_final");
	KMeansData	data;
	Oid			array_type;
	Oid			row_type;
	TupleDesc	row_desc;
	HeapTuple  *tuples;
	Datum	   *rows;
	int			count;
	int16		typlen;
	bool		typbyval;
	char		typalign;

	if (state == NULL)
		PG_RETURN_NULL();
	array_type = get_fn_expr_rettype(fcinfo->flinfo);
	row_type = get_element_type(array_type);
	if (!OidIsValid(row_type))
		elog(ERROR, "evaluate_final must return an array");
	row_desc = BlessTupleDesc(lookup_rowtype_tupdesc_copy(row_type, -1));
	AggregateCanonicalRows(state, &data);
	count = EvaluateRows(&data, state->k, state->k_max, state->n_init, state->seed, 0, NULL, 0, 0,
						 row_desc, &tuples);
	rows = palloc(count * sizeof(Datum));
	for (int i = 0; i < count; i++)
		rows[i] = HeapTupleGetDatum(tuples[i]);
	get_typlenbyvalalign(row_type, &typlen, &typbyval, &typalign);
	PG_RETURN_ARRAYTYPE_P(construct_array(rows, count, row_type, typlen, typbyval, typalign));
}

/* silhouette(vec, cluster): the mean silhouette over all rows */
PG_FUNCTION_INFO_V1(silhouette_final);
Datum
silhouette_final(PG_FUNCTION_ARGS)
{
	AggregateState *state = AggregateFinalState(fcinfo, "silhouette_final");

	if (state == NULL)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(SilhouetteOfSource(&state->rows, 0, 0));
}

/* davies_bouldin(vec, cluster) */
PG_FUNCTION_INFO_V1(davies_bouldin_final);
Datum
davies_bouldin_final(PG_FUNCTION_ARGS)
{
	AggregateState *state = AggregateFinalState(fcinfo, "davies_bouldin_final");

	if (state == NULL)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(DaviesBouldinOfSource(&state->rows));
}

/* calinski_harabasz(vec, cluster) */
PG_FUNCTION_INFO_V1(calinski_harabasz_final);
Datum
calinski_harabasz_final(PG_FUNCTION_ARGS)
{
	AggregateState *state = AggregateFinalState(fcinfo, "calinski_harabasz_final");

	if (state == NULL)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(CalinskiHarabaszOfSource(&state->rows));
}

/* pca_fit(vec[, n_components]): the model, as pca_fit(source, ...), fitted on a copy */
PG_FUNCTION_INFO_V1(pca_fit_final);
Datum
pca_fit_final(PG_FUNCTION_ARGS)
{
	AggregateState *state = AggregateFinalState(fcinfo, "pca_fit_final");
	Matrix		copy;
	Size		size;

	if (state == NULL)
		PG_RETURN_NULL();
	copy = state->rows.x;
	size = MemoryProduct(copy.rows, copy.cols * sizeof(double));
	copy.values = MemoryAllocLarge(CurrentMemoryContext, size);
	memcpy(copy.values, state->rows.x.values, size);
	PG_RETURN_DATUM(PcaFitRows(&copy, state->n_components, AggregateResultDesc(fcinfo, "pca_fit_final")));
}

/* The silhouettes of one window partition, computed on its first row */
typedef struct SilhouettePartition
{
	bool		computed;
	double	   *silhouettes;	/* per row of the partition */
	bool	   *nulls;			/* rows without a vector or cluster */
} SilhouettePartition;

/*
 * Read a window partition's rows into a scored source (rows with a NULL
 * vector or cluster left out and marked in nulls), checking the memory the
 * silhouettes need as it grows
 */
static void
SilhouettePartitionRead(WindowObject winobj, int64 count, bool *nulls, AggregateState *state,
						int64 *positions)
{
	MemoryContext context = CurrentMemoryContext;
	MemoryContext row_context = AllocSetContextCreate(context, "segment silhouette_samples row",
													  ALLOCSET_DEFAULT_SIZES);

	for (int64 p = 0; p < count; p++)
	{
		bool		vector_null;
		bool		cluster_null;
		bool		outside;
		Datum		cluster;
		Datum		vector;
		MemoryContext old = MemoryContextSwitchTo(row_context);

		/*
		 * Each fetch may replace the row the last one pointed into: the
		 * cluster (by value) first, then the vector, used before any other
		 * fetch
		 */
		cluster = WinGetFuncArgInPartition(winobj, 1, (int) p, WINDOW_SEEK_HEAD, false, &cluster_null, &outside);
		vector = WinGetFuncArgInPartition(winobj, 0, (int) p, WINDOW_SEEK_HEAD, false, &vector_null, &outside);
		nulls[p] = vector_null || cluster_null;
		if (!nulls[p])
		{
			positions[state->rows.x.rows] = p;
			AggregateAddRow(state, DatumGetArrayTypeP(vector), DatumGetInt32(cluster), context);
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(row_context);
	}
	MemoryContextDelete(row_context);
}

/*
 * silhouette_samples(vec, cluster) OVER (...): each row's silhouette among
 * the rows of its partition, as silhouette_samples(source) gives it; NULL
 * for a row without a vector or cluster.  The partition's silhouettes are
 * computed once, on its first row, and kept for the others.
 */
PG_FUNCTION_INFO_V1(silhouette_samples_window);
Datum
silhouette_samples_window(PG_FUNCTION_ARGS)
{
	WindowObject winobj = PG_WINDOW_OBJECT();
	SilhouettePartition *partition = WinGetPartitionLocalMemory(winobj, sizeof(SilhouettePartition));
	int64		position = WinGetCurrentPosition(winobj);

	if (!partition->computed)
	{
		MemoryContext partition_context = GetMemoryChunkContext(partition);
		int64		count = WinGetPartitionRowCount(winobj);
		AggregateState state = {0};
		int64	   *positions;
		double	   *silhouettes;

		if (count > PG_INT32_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("segment.silhouette_samples takes at most %d rows per window partition", PG_INT32_MAX)));
		/* each row's position, silhouette and NULL flag, besides what the scores count */
		MemoryCheck(MemoryProduct(count, sizeof(int64) + sizeof(double) + sizeof(bool)), "segment.silhouette_samples");
		positions = MemoryAllocLarge(CurrentMemoryContext, MemoryProduct(count, sizeof(int64)));
		state.kind = AGGREGATE_CLUSTER_SCORES;
		state.function = "segment.silhouette_samples";
		partition->silhouettes = MemoryContextAllocExtended(partition_context, MemoryProduct(count, sizeof(double)),
															MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		partition->nulls = MemoryContextAllocExtended(partition_context, MemoryProduct(count, sizeof(bool)),
													  MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		SilhouettePartitionRead(winobj, count, partition->nulls, &state, positions);
		if (state.rows.x.rows > 0)
		{
			silhouettes = MemoryAllocLarge(CurrentMemoryContext, MemoryProduct(state.rows.x.rows, sizeof(double)));
			SilhouetteSamplesOfSource(&state.rows, silhouettes);
			for (int64 i = 0; i < state.rows.x.rows; i++)
				partition->silhouettes[positions[i]] = silhouettes[i];
		}
		partition->computed = true;
	}
	if (partition->nulls[position])
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(partition->silhouettes[position]);
}
