/*-------------------------------------------------------------------------
 *
 * source.h
 *	  Reading a source query (row id, float8[] vector[, cluster]) into memory
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEGMENT_SOURCE_H
#define SEGMENT_SOURCE_H

#include "vector.h"

/* What a caller needs from a source */
typedef struct SourceOptions
{
	const char *function;		/* the SQL function, for messages */
	bool		integer_ids;	/* the row id column must be an integer type */
	bool		clusters;		/* read a third column: an integer cluster */
	Size		extra_per_row;	/* the caller's working memory per row */
	Size		extra_per_dim;	/* ... and per row and vector element */
} SourceOptions;

/* A source read into memory, in the order its rows came */
typedef struct SourceData
{
	Matrix		x;				/* the vectors, row-major */
	int64	   *ids;			/* row ids (integer id columns only) */
	int64	   *clusters;		/* cluster numbers (when asked for) */
} SourceData;

extern void SourceRead(text *source, const SourceOptions *options, SourceData *data);

#endif							/* SEGMENT_SOURCE_H */
