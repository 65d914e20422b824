/*-------------------------------------------------------------------------
 *
 * segment.c
 *	  Module entry point of the segment extension
 *
 * segment does customer segmentation inside PostgreSQL: per-customer
 * features (features.c), and later scaling, k-means, scores and PCA, each
 * in a file of its own.  This file holds only the module magic.
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

PG_MODULE_MAGIC;
