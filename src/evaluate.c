/*-------------------------------------------------------------------------
 *
 * evaluate.c
 *	  segment.evaluate: every candidate k of a segmentation from one read of
 *	  the vectors: the fit, the segment sizes and the scores
 *
 * The source is read once into memory in canonical order.  For each k the
 * model is fitted exactly as kmeans_fit(source, k, n_init, 300, 1e-4, seed)
 * fits it (the runs of all the k spread over parallel workers together when
 * they pay), each row goes to its nearest centroid as kmeans_assign puts
 * it, and the scores are
 * those silhouette, davies_bouldin and calinski_harabasz return for the
 * rows with those clusters: the same bits as the building blocks called one
 * by one, without writing the clusters back and reading the rows three
 * more times per k.
 *
 * A warm start: given the centroids of an earlier model (start, k0 × dims),
 * the row of k = k0 also refits from them by one Lloyd step (as
 * kmeans_fit_from(source, start, 1)), and keeps that model unless the fresh
 * fit's inertia is lower by more than 2 %: each segment keeps its customers
 * and its centre moves to their mean, which is what a scheduled refresh of
 * a segmentation wants.
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/typcache.h"

#include "compat.h"
#include "elbow.h"
#include "evaluate.h"
#include "kmeans.h"
#include "metrics.h"
#include "model.h"
#include "source.h"

/* A warm start is kept unless the fresh fit's inertia is this much lower */
#define EVALUATE_START_MARGIN 0.98

/* What evaluate found for one k */
typedef struct Evaluation
{
	int			k;
	Datum		model;			/* segment.kmeans_model */
	double		inertia;
	bool		scored;			/* false: fewer than 2 segments filled */
	double		silhouette;
	double		davies_bouldin;
	double		calinski_harabasz;
	Datum		sizes;			/* bigint[] */
	double		smallest_share;
	bool		from_start;
} Evaluation;

/*
 * The model of one k: the fresh fit, or the warm fit from start when it is
 * start's k and the fresh fit is not better by the margin
 */
static void
EvaluateWarmStart(const KMeansData *data, const KMeansParams *params, const double *start, int start_k,
				  KMeansModel *model, KMeansParams *model_params, bool *from_start)
{
	*model_params = *params;
	*from_start = false;
	if (start != NULL && params->k == start_k)
	{
		KMeansParams warm_params = *params;
		KMeansModel warm;

		warm_params.n_init = 1;
		warm_params.max_iter = 1;
		KMeansFitFrom(data, &warm_params, start, &warm);
		if (!(model->inertia < EVALUATE_START_MARGIN * warm.inertia))
		{
			*model = warm;
			*model_params = warm_params;
			model_params->max_iter = params->max_iter;
			*from_start = true;
		}
	}
}

/*
 * Put each row at its nearest centroid (clusters 1 .. k, as kmeans_assign)
 * and count the segments' rows into sizes.  The fit's own labels are the
 * nearest centres too, but ties go to the lower number before the clusters
 * are renumbered canonically; assigning again gives kmeans_assign's labels
 * exactly, as the pipeline's tables have them.
 */
static void
EvaluateAssign(const Matrix *x, const KMeansModel *model, int64 *clusters, int64 *sizes)
{
	memset(sizes, 0, model->k * sizeof(int64));
	for (int64 s = 0; s < x->rows; s++)
	{
		double		squared;
		int			c = KMeansNearest(model->centroids, model->k, model->dims, MatrixRow(x, s), &squared);

		clusters[s] = c + 1;
		sizes[c]++;
		if ((s & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
}

/* Check the range of k of an evaluation */
void
EvaluateCheckKs(int k_min, int k_max)
{
	if (k_min < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k_min must be at least 2, not %d", k_min),
				 errdetail("The scores of a clustering need two segments at least.")));
	if (k_min > k_max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k_min (%d) is larger than k_max (%d)", k_min, k_max)));
}

/*
 * Memory per row, beyond the vectors, of an evaluation of k_min .. k_max:
 * the fits' (KMeansFitsExtraPerRow), the clusters, and the scores' copies
 * grouped by cluster, the silhouette's packed rows and its per-row,
 * per-segment sums (per vector element: EVALUATE_EXTRA_PER_DIM)
 */
Size
EvaluateExtraPerRow(int k_min, int k_max)
{
	return KMeansFitsExtraPerRow(k_min, k_max) + 3 * sizeof(int64) + sizeof(int32) +
		(Size) k_max * 2 * sizeof(double);
}

/*
 * Evaluate every k of k_min .. k_max on rows in canonical order: one tuple
 * of row_desc (segment.evaluate's columns) per k, in the order of k, into
 * *tuples; returns their number
 */
int
EvaluateRows(const KMeansData *data, int k_min, int k_max, int n_init, int64 seed, int64 sample_size,
			 const double *start, int start_k, int start_dims, TupleDesc row_desc, HeapTuple **tuples)
{
	KMeansParams params;
	SourceData	scored;
	TupleDesc	model_desc;
	Evaluation *evaluations;
	double	   *ks;
	double	   *inertias;
	int64	   *sizes;
	int			count;
	int		   *k_values;
	KMeansModel *models;
	int			elbow;
	MemoryContext k_context;
	MemoryContext outer_context = CurrentMemoryContext;

	params = KMeansParamsOf(k_max, n_init, seed);
	EvaluateCheckKs(k_min, k_max);
	KMeansCheckParams(&params, PG_INT64_MAX);
	if (k_max > data->x.rows)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k_max (%d) is larger than the number of rows (" INT64_FORMAT ")",
						k_max, data->x.rows)));
	if (start != NULL && start_dims != data->x.cols)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("start has %d elements per centroid but the vectors of the source have %d",
						start_dims, data->x.cols)));
	if (row_desc->natts != EVALUATE_NATTS)
		elog(ERROR, "segment.evaluate's rows have %d columns, expected %d", row_desc->natts, EVALUATE_NATTS);
	model_desc = BlessTupleDesc(lookup_rowtype_tupdesc_copy(TupleDescAttr(row_desc, 1)->atttypid, -1));

	/* the rows in canonical order with their clusters, for the scores */
	scored.x = data->x;
	scored.ids = NULL;
	scored.clusters = MemoryAllocLarge(CurrentMemoryContext, MemoryProduct(data->x.rows, sizeof(int64)));

	/* the fresh fits of every k together: their runs go to parallel workers as one */
	count = k_max - k_min + 1;
	k_values = palloc(count * sizeof(int));
	models = palloc(count * sizeof(KMeansModel));
	for (int i = 0; i < count; i++)
		k_values[i] = k_min + i;
	KMeansFitMany(data, &params, k_values, count, models);

	evaluations = palloc0(count * sizeof(Evaluation));
	ks = palloc(count * sizeof(double));
	inertias = palloc(count * sizeof(double));
	sizes = palloc(k_max * sizeof(int64));
	k_context = AllocSetContextCreate(CurrentMemoryContext, "segment evaluate k", ALLOCSET_DEFAULT_SIZES);
	for (int i = 0; i < count; i++)
	{
		Evaluation *e = &evaluations[i];
		KMeansModel model = models[i];
		KMeansParams model_params;
		int			filled = 0;
		int64		smallest = PG_INT64_MAX;
		Datum	   *size_datums;

		CHECK_FOR_INTERRUPTS();
		MemoryContextSwitchTo(k_context);
		params.k = k_values[i];
		EvaluateWarmStart(data, &params, start, start_k, &model, &model_params, &e->from_start);
		EvaluateAssign(&data->x, &model, scored.clusters, sizes);
		for (int c = 0; c < model.k; c++)
			if (sizes[c] > 0)
			{
				filled++;
				smallest = Min(smallest, sizes[c]);
			}
		/* the scores need 2 .. rows - 1 segments with rows */
		e->scored = filled >= 2 && filled <= data->x.rows - 1;
		if (e->scored)
			ClusterScoresOfSource(&scored, sample_size, params.seed,
								  &e->silhouette, &e->davies_bouldin, &e->calinski_harabasz);

		MemoryContextSwitchTo(outer_context);
		e->k = model.k;
		e->inertia = model.inertia;
		e->model = KMeansModelToDatumDesc(model_desc, &model, &model_params);
		size_datums = palloc(model.k * sizeof(Datum));
		for (int c = 0; c < model.k; c++)
			size_datums[c] = Int64GetDatum(sizes[c]);
		e->sizes = PointerGetDatum(construct_array(size_datums, model.k, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		e->smallest_share = (double) smallest / data->x.rows;
		ks[i] = e->k;
		inertias[i] = e->inertia;
		MemoryContextReset(k_context);
	}
	MemoryContextDelete(k_context);
	elbow = KneedleElbow(ks, inertias, count);

	*tuples = palloc(count * sizeof(HeapTuple));
	for (int i = 0; i < count; i++)
	{
		Evaluation *e = &evaluations[i];
		Datum		values[EVALUATE_NATTS];
		bool		nulls[EVALUATE_NATTS] = {0};

		values[0] = Int32GetDatum(e->k);
		values[1] = e->model;
		values[2] = Float8GetDatum(e->inertia);
		values[3] = Float8GetDatum(e->silhouette);
		values[4] = Float8GetDatum(e->davies_bouldin);
		values[5] = Float8GetDatum(e->calinski_harabasz);
		nulls[3] = nulls[4] = nulls[5] = !e->scored;
		values[6] = e->sizes;
		values[7] = Float8GetDatum(e->smallest_share);
		values[8] = BoolGetDatum(i == elbow);
		values[9] = BoolGetDatum(e->from_start);
		(*tuples)[i] = heap_form_tuple(row_desc, values, nulls);
	}
	return count;
}

/* evaluate(source, k_min, k_max, n_init, seed, silhouette_sample, start): one row per k */
PG_FUNCTION_INFO_V1(evaluate);
Datum
evaluate(PG_FUNCTION_ARGS)
{
	int			k_min;
	int			k_max;
	int64		sample_size = 0;
	double	   *start = NULL;
	int			start_k = 0;
	int			start_dims = 0;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SourceData	source;
	KMeansData	data;
	HeapTuple  *tuples;
	int			count;

	for (int arg = 0; arg <= 4; arg++)
		if (PG_ARGISNULL(arg))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be NULL",
							(const char *[]) {"source", "k_min", "k_max", "n_init", "seed"}[arg])));
	k_min = PG_GETARG_INT32(1);
	k_max = PG_GETARG_INT32(2);
	/* what can be checked before the source runs */
	KMeansParamsFromArgs(fcinfo, -1, 3, -1, -1, 4);
	EvaluateCheckKs(k_min, k_max);
	if (!PG_ARGISNULL(5))
	{
		sample_size = PG_GETARG_INT32(5);
		if (sample_size < 2)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("silhouette_sample must be at least 2"),
					 errhint("Pass NULL for the exact silhouette over all rows.")));
	}
	if (!PG_ARGISNULL(6))
		start = MatrixFromArray(PG_GETARG_ARRAYTYPE_P(6), "start", &start_k, &start_dims);

	SegmentInitMaterializedSRF(fcinfo);
	KMeansReadSource(PG_GETARG_TEXT_PP(0), "evaluate", false, EvaluateExtraPerRow(k_min, k_max),
					 EVALUATE_EXTRA_PER_DIM, &source, &data);
	count = EvaluateRows(&data, k_min, k_max, PG_GETARG_INT32(3), PG_GETARG_INT64(4), sample_size,
						 start, start_k, start_dims, rsinfo->setDesc, &tuples);
	for (int i = 0; i < count; i++)
		tuplestore_puttuple(rsinfo->setResult, tuples[i]);
	return (Datum) 0;
}
