/*-------------------------------------------------------------------------
 *
 * aggregate.h
 *	  The rows the aggregate forms of the building blocks collect
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEGMENT_AGGREGATE_H
#define SEGMENT_AGGREGATE_H

#include "fmgr.h"

#include "source.h"

/* Which building block a state collects rows for */
typedef enum AggregateKind
{
	AGGREGATE_KMEANS_FIT,
	AGGREGATE_EVALUATE,
	AGGREGATE_CLUSTER_SCORES,	/* silhouette, davies_bouldin, calinski_harabasz */
	AGGREGATE_PCA_FIT
} AggregateKind;

/*
 * The state of an aggregate: its arguments (the same for every row of a
 * group) and the rows collected so far, as a source read into memory
 */
typedef struct AggregateState
{
	AggregateKind kind;
	const char *function;		/* the SQL function, for messages */
	int32		k;				/* kmeans_fit: k; evaluate: k_min */
	int32		k_max;			/* evaluate */
	int32		n_init;			/* kmeans_fit, evaluate */
	int64		seed;			/* kmeans_fit, evaluate */
	int32		n_components;	/* pca_fit */
	SourceData	rows;			/* x, and clusters for the scores; no ids */
	int64		capacity;		/* rows there is room for */
} AggregateState;

#endif							/* SEGMENT_AGGREGATE_H */
