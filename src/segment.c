/*-------------------------------------------------------------------------
 *
 * segment.c
 *	  Module entry point of the segment extension
 *
 * segment does customer segmentation inside PostgreSQL.  Each concern has a
 * file of its own: per-customer features (features.c, keyset.c), reading
 * sources (source.c), scaling and encoding (scaler.c), k-means (kmeans.c,
 * model.c, elbow.c), scores (metrics.c), PCA (pca.c), how many parallel
 * workers an operation gets (parallel.c), the phases of a refresh
 * (progress.c), acting as a segmentation's owner (owner.c), with the shared
 * vector checks and distance kernels in vector.c and distance.c.  This file
 * holds the module magic and the load-time set-up.
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "owner.h"
#include "progress.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Set up what the module needs once loaded: owner.c's hook, progress.c's setting */
void
_PG_init(void)
{
	SegmentOwnerInit();
	SegmentProgressInit();
}
