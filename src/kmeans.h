/*-------------------------------------------------------------------------
 *
 * kmeans.h
 *	  k-means in memory: canonical row order, k-means++ and Hamerly's Lloyd
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEGMENT_KMEANS_H
#define SEGMENT_KMEANS_H

#include "vector.h"

/* Up to this k, Hartigan's refinement keeps k distance bounds per row */
#define KMEANS_HARTIGAN_BOUNDED 32

/* Memory a fit with k clusters needs beyond the source matrix, per row */
#define KMEANS_EXTRA_PER_ROW(k) (4 * sizeof(int32) + 4 * sizeof(double) + sizeof(int64) + \
								 8 * sizeof(double) + ((k) <= KMEANS_HARTIGAN_BOUNDED ? (k) * sizeof(double) : 0))
#define KMEANS_EXTRA_PER_DIM sizeof(double)

/* The arguments of a fit */
typedef struct KMeansParams
{
	int			k;
	int			n_init;
	int			max_iter;
	double		tol;			/* validated only: runs go to a local minimum */
	int64		seed;
} KMeansParams;

/* Rows in canonical (sorted) order, so results do not depend on row order */
typedef struct KMeansData
{
	Matrix		x;				/* sorted rows */
	int64	   *order;			/* order[s] = source position of sorted row s */
} KMeansData;

/* A fitted model, clusters numbered canonically (0 = largest) */
typedef struct KMeansModel
{
	int			k;
	int			dims;
	double	   *centroids;		/* k × dims */
	double		inertia;
	int			iterations;
	int32	   *labels;			/* per sorted row, 0-based */
	int64	   *sizes;			/* rows per cluster */
} KMeansModel;

extern void KMeansCheckParams(const KMeansParams *params, int64 rows);
extern void KMeansPrepare(Matrix *x, KMeansData *data);
extern void KMeansFit(const KMeansData *data, const KMeansParams *params, KMeansModel *model);
extern void KMeansFitMany(const KMeansData *data, const KMeansParams *params, const int *ks, int n_ks,
						  KMeansModel *models);
extern void KMeansFitFrom(const KMeansData *data, const KMeansParams *params, const double *centers,
						  KMeansModel *model);
extern int	KMeansNearest(const double *centroids, int k, int dims, const double *x, double *squared_distance);

#endif							/* SEGMENT_KMEANS_H */
