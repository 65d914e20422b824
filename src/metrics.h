/*-------------------------------------------------------------------------
 *
 * metrics.h
 *	  Scores of a clustering
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEGMENT_METRICS_H
#define SEGMENT_METRICS_H

#include "fmgr.h"

#include "source.h"
#include "vector.h"

/* Memory of a silhouette per vector element, beyond the vectors: the grouped copy and its packing */
#define SILHOUETTE_EXTRA_PER_DIM (2 * sizeof(double))

extern Size SilhouetteExtraPerRow(int64 sample_size);
extern double SilhouetteScore(text *source, int64 sample_size, int64 seed);
extern double SilhouetteOfSource(const SourceData *source, int64 sample_size, int64 seed);
extern void SilhouetteSamplesOfSource(const SourceData *source, double *silhouettes);
extern double DaviesBouldinOfSource(const SourceData *source);
extern double CalinskiHarabaszOfSource(const SourceData *source);
extern void ClusterScoresOfSource(const SourceData *source, int64 sample_size, int64 seed,
								  double *silhouette, double *davies_bouldin, double *calinski_harabasz);

#endif							/* SEGMENT_METRICS_H */
