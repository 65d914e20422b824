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

extern double SilhouetteScore(text *source, int64 sample_size, int64 seed);

#endif							/* SEGMENT_METRICS_H */
