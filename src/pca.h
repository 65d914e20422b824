/*-------------------------------------------------------------------------
 *
 * pca.h
 *	  Principal component analysis through LAPACKE
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEGMENT_PCA_H
#define SEGMENT_PCA_H

#include "access/tupdesc.h"

#include "vector.h"

/* Memory of a fit beyond the vectors: the canonical order's keys, per row */
#define PCA_EXTRA_PER_ROW (3 * sizeof(int64))
/* ... and LAPACK's workspace, at most, per element */
#define PCA_EXTRA_PER_DIM sizeof(double)

extern void PcaCheckComponents(int n_components);
extern Datum PcaFitRows(Matrix *x, int n_components, TupleDesc tupdesc);

#endif							/* SEGMENT_PCA_H */
