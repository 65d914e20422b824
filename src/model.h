/*-------------------------------------------------------------------------
 *
 * model.h
 *	  Shared pieces of the SQL face of k-means
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEGMENT_MODEL_H
#define SEGMENT_MODEL_H

#include "access/tupdesc.h"
#include "fmgr.h"

#include "kmeans.h"
#include "source.h"

/* Defaults of kmeans_fit, used where a function takes no such argument */
#define KMEANS_DEFAULT_N_INIT 10
#define KMEANS_DEFAULT_MAX_ITER 300
#define KMEANS_DEFAULT_TOL 1e-4

/* The centroids of a segment.kmeans_model argument */
typedef struct ModelCentroids
{
	int			k;
	int			dims;
	double	   *centroids;		/* k × dims, inside the argument */
} ModelCentroids;

extern KMeansParams KMeansParamsOf(int k, int n_init, int64 seed);
extern KMeansParams KMeansParamsFromArgs(FunctionCallInfo fcinfo, int k_arg, int n_init_arg,
										 int max_iter_arg, int tol_arg, int seed_arg);
extern Size KMeansFitsExtraPerRow(int k_min, int k_max);
extern void KMeansReadSource(text *source, const char *function, bool integer_ids, Size extra_per_row,
							 Size extra_per_dim, SourceData *data, KMeansData *kmeans_data);
extern void KMeansModelFromDatum(HeapTupleHeader model, ModelCentroids *out);
extern Datum KMeansModelToDatumDesc(TupleDesc tupdesc, const KMeansModel *model, const KMeansParams *params);

#endif							/* SEGMENT_MODEL_H */
