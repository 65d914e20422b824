/*-------------------------------------------------------------------------
 *
 * evaluate.h
 *	  Every candidate k of a segmentation from one read of the vectors
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEGMENT_EVALUATE_H
#define SEGMENT_EVALUATE_H

#include "access/htup.h"
#include "access/tupdesc.h"

#include "kmeans.h"

/* Columns of segment.evaluate's rows and of segment.evaluation */
#define EVALUATE_NATTS 10

/* Memory of an evaluation per vector element, beyond the vector (see EvaluateExtraPerRow) */
#define EVALUATE_EXTRA_PER_DIM (KMEANS_EXTRA_PER_DIM + 2 * sizeof(double))

extern void EvaluateCheckKs(int k_min, int k_max);
extern Size EvaluateExtraPerRow(int k_min, int k_max);
extern int	EvaluateRows(const KMeansData *data, int k_min, int k_max, int n_init, int64 seed, int64 sample_size,
						 const double *start, int start_k, int start_dims, TupleDesc row_desc, HeapTuple **tuples);

#endif							/* SEGMENT_EVALUATE_H */
