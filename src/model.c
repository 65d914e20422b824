/*-------------------------------------------------------------------------
 *
 * model.c
 *	  The SQL face of k-means: kmeans_fit, kmeans, kmeans_assign,
 *	  kmeans_distance and the segment.kmeans_model type
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "compat.h"
#include "distance.h"
#include "kmeans.h"
#include "model.h"
#include "source.h"

/* Columns of segment.kmeans_model */
#define KMEANS_MODEL_NATTS 7

/* The arguments of a fit of k with kmeans_fit's default max_iter and tol */
KMeansParams
KMeansParamsOf(int k, int n_init, int64 seed)
{
	KMeansParams params;

	params.k = k;
	params.n_init = n_init;
	params.max_iter = KMEANS_DEFAULT_MAX_ITER;
	params.tol = KMEANS_DEFAULT_TOL;
	params.seed = seed;
	return params;
}

/* The fit arguments at positions first .. first + 4 of a call */
KMeansParams
KMeansParamsFromArgs(FunctionCallInfo fcinfo, int k_arg, int n_init_arg, int max_iter_arg,
					 int tol_arg, int seed_arg)
{
	KMeansParams params = KMeansParamsOf(k_arg >= 0 ? PG_GETARG_INT32(k_arg) : 1, PG_GETARG_INT32(n_init_arg),
										 PG_GETARG_INT64(seed_arg));

	if (max_iter_arg >= 0)
		params.max_iter = PG_GETARG_INT32(max_iter_arg);
	if (tol_arg >= 0)
		params.tol = PG_GETARG_FLOAT8(tol_arg);
	/* Check what can be checked before the source runs */
	KMeansCheckParams(&params, PG_INT64_MAX);
	return params;
}

/*
 * Memory per row, beyond the source matrix, of fitting every k of k_min ..
 * k_max together (KMeansFitMany): the largest working set of a fit
 * (Hartigan's bounds stop above KMEANS_HARTIGAN_BOUNDED) and the labels of
 * every model beyond the first
 */
Size
KMeansFitsExtraPerRow(int k_min, int k_max)
{
	int			largest = k_min <= KMEANS_HARTIGAN_BOUNDED ? Min(k_max, KMEANS_HARTIGAN_BOUNDED) : k_max;

	return KMEANS_EXTRA_PER_ROW(largest) + (Size) (k_max - k_min) * sizeof(int32);
}

/*
 * Read a source for k-means, checking that maintenance_work_mem holds it and
 * extra_per_row and extra_per_dim bytes per row and element besides, and put
 * it in canonical order
 */
void
KMeansReadSource(text *source, const char *function, bool integer_ids, Size extra_per_row,
				 Size extra_per_dim, SourceData *data, KMeansData *kmeans_data)
{
	SourceOptions options;

	options.function = function;
	options.integer_ids = integer_ids;
	options.clusters = false;
	options.extra_per_row = extra_per_row;
	options.extra_per_dim = extra_per_dim;
	SourceRead(source, &options, data);
	KMeansPrepare(&data->x, kmeans_data);
}

/* Build the segment.kmeans_model value of a fit, for a function returning one */
static Datum
KMeansModelToDatum(FunctionCallInfo fcinfo, const KMeansModel *model, const KMeansParams *params)
{
	TupleDesc	tupdesc;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "kmeans_fit must return a composite type");
	return KMeansModelToDatumDesc(BlessTupleDesc(tupdesc), model, params);
}

/* Build the segment.kmeans_model value of a fit, given its blessed descriptor */
Datum
KMeansModelToDatumDesc(TupleDesc tupdesc, const KMeansModel *model, const KMeansParams *params)
{
	Datum		values[KMEANS_MODEL_NATTS];
	bool		nulls[KMEANS_MODEL_NATTS] = {0};

	if (tupdesc->natts != KMEANS_MODEL_NATTS)
		elog(ERROR, "segment.kmeans_model has %d attributes, expected %d", tupdesc->natts, KMEANS_MODEL_NATTS);
	values[0] = Int32GetDatum(model->k);
	values[1] = Int32GetDatum(model->dims);
	values[2] = PointerGetDatum(MatrixToArray(model->centroids, model->k, model->dims));
	values[3] = Float8GetDatum(model->inertia);
	values[4] = Int32GetDatum(model->iterations);
	values[5] = Int32GetDatum(params->n_init);
	values[6] = Int64GetDatum(params->seed);
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

/* Raise the error for a damaged model argument */
static void
ModelInvalid(const char *type, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid %s", type),
			 errdetail("%s", detail)));
}

/* Read a model attribute that must not be NULL */
static Datum
ModelAttribute(HeapTupleHeader model, int attnum, const char *type, const char *name)
{
	bool		isnull;
	Datum		value = GetAttributeByNum(model, attnum, &isnull);

	if (isnull)
		ModelInvalid(type, psprintf("Its %s is NULL.", name));
	return value;
}

/* Read and check a segment.kmeans_model argument */
void
KMeansModelFromDatum(HeapTupleHeader model, ModelCentroids *out)
{
	int			rows;
	int			cols;

	out->k = DatumGetInt32(ModelAttribute(model, 1, "segment.kmeans_model", "k"));
	out->dims = DatumGetInt32(ModelAttribute(model, 2, "segment.kmeans_model", "dims"));
	out->centroids = MatrixFromArray(DatumGetArrayTypeP(ModelAttribute(model, 3, "segment.kmeans_model", "centroids")),
									 "centroids of segment.kmeans_model", &rows, &cols);
	if (out->k < 1 || out->dims < 1 || rows != out->k || cols != out->dims)
		ModelInvalid("segment.kmeans_model",
					 psprintf("Its centroids are %d × %d, but k is %d and dims is %d.",
							  rows, cols, out->k, out->dims));
}

/* kmeans_fit(source, k, n_init, max_iter, tol, seed): the best of n_init fits */
PG_FUNCTION_INFO_V1(kmeans_fit);
Datum
kmeans_fit(PG_FUNCTION_ARGS)
{
	KMeansParams params = KMeansParamsFromArgs(fcinfo, 1, 2, 3, 4, 5);
	SourceData source;
	KMeansData data;
	KMeansModel model;

	KMeansReadSource(PG_GETARG_TEXT_PP(0), "kmeans_fit", false, KMeansFitsExtraPerRow(params.k, params.k),
					 KMEANS_EXTRA_PER_DIM, &source, &data);
	KMeansFit(&data, &params, &model);
	PG_RETURN_DATUM(KMeansModelToDatum(fcinfo, &model, &params));
}

/*
 * kmeans_fit_from(source, centroids, max_iter): one k-means run from the
 * given centroids (k × dims), a warm start
 */
PG_FUNCTION_INFO_V1(kmeans_fit_from);
Datum
kmeans_fit_from(PG_FUNCTION_ARGS)
{
	KMeansParams params;
	SourceData source;
	KMeansData data;
	KMeansModel model;
	const double *centers;
	int			k;
	int			dims;

	centers = MatrixFromArray(PG_GETARG_ARRAYTYPE_P(1), "centroids", &k, &dims);
	params.k = k;
	params.n_init = 1;
	params.max_iter = PG_GETARG_INT32(2);
	params.tol = KMEANS_DEFAULT_TOL;
	params.seed = 0;
	KMeansCheckParams(&params, PG_INT64_MAX);
	KMeansReadSource(PG_GETARG_TEXT_PP(0), "kmeans_fit_from", false, KMeansFitsExtraPerRow(k, k),
					 KMEANS_EXTRA_PER_DIM, &source, &data);
	if (data.x.cols != dims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("centroids have %d elements but the vectors of the source have %d", dims, data.x.cols)));
	KMeansFitFrom(&data, &params, centers, &model);
	PG_RETURN_DATUM(KMeansModelToDatum(fcinfo, &model, &params));
}

/* kmeans(source, k, ...): each row's id, cluster and distance to its centroid */
PG_FUNCTION_INFO_V1(kmeans);
Datum
kmeans(PG_FUNCTION_ARGS)
{
	KMeansParams params = KMeansParamsFromArgs(fcinfo, 1, 2, 3, 4, 5);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SourceData source;
	KMeansData data;
	KMeansModel model;

	SegmentInitMaterializedSRF(fcinfo);
	KMeansReadSource(PG_GETARG_TEXT_PP(0), "kmeans", true, KMeansFitsExtraPerRow(params.k, params.k),
					 KMEANS_EXTRA_PER_DIM, &source, &data);
	KMeansFit(&data, &params, &model);

	for (int64 s = 0; s < data.x.rows; s++)
	{
		Datum		values[3];
		bool		nulls[3] = {0};
		int			cluster = model.labels[s];
		double		squared = SquaredDistance(MatrixRow(&data.x, s),
											  model.centroids + (Size) cluster * model.dims, model.dims);

		values[0] = Int64GetDatum(source.ids[data.order[s]]);
		values[1] = Int32GetDatum(cluster + 1);
		values[2] = Float8GetDatum(sqrt(squared));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		CHECK_FOR_INTERRUPTS();	/* the tuplestore may spill to disk */
	}
	return (Datum) 0;
}

/* Check a vector argument against a model's dimensions */
static double *
ModelVector(FunctionCallInfo fcinfo, int dims)
{
	int			length;
	double	   *x = VectorFromArray(PG_GETARG_ARRAYTYPE_P(0), "vec", &length);

	VectorCheckLength(length, dims, "vec", NULL);
	return x;
}

/* kmeans_assign(vec, model): the number of the nearest centroid */
PG_FUNCTION_INFO_V1(kmeans_assign);
Datum
kmeans_assign(PG_FUNCTION_ARGS)
{
	ModelCentroids model;
	double		squared;

	KMeansModelFromDatum(PG_GETARG_HEAPTUPLEHEADER(1), &model);
	PG_RETURN_INT32(KMeansNearest(model.centroids, model.k, model.dims,
								  ModelVector(fcinfo, model.dims), &squared) + 1);
}

/* kmeans_distance(vec, model): the Euclidean distance to the nearest centroid */
PG_FUNCTION_INFO_V1(kmeans_distance);
Datum
kmeans_distance(PG_FUNCTION_ARGS)
{
	ModelCentroids model;
	double		squared;

	KMeansModelFromDatum(PG_GETARG_HEAPTUPLEHEADER(1), &model);
	KMeansNearest(model.centroids, model.k, model.dims, ModelVector(fcinfo, model.dims), &squared);
	PG_RETURN_FLOAT8(sqrt(squared));
}
