/*-------------------------------------------------------------------------
 *
 * parallel.c
 *	  How many parallel workers an operation of segment gets
 *
 * The runs of k-means fits (kmeans.c) and the chunks of an exact silhouette
 * (metrics.c) are spread over parallel workers the PostgreSQL way, as the
 * parallel B-tree build does (nbtsort.c), each beside the serial code of its
 * concern.  This file holds what they share: how many workers segment asks
 * for (max_parallel_maintenance_workers, within the CPUs online), whether
 * this backend may start any, and segment.parallel_workers(), which the
 * pipeline gives its parallel queries.  It calls nothing of theirs.
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <unistd.h>

#include "access/parallel.h"
#include "fmgr.h"
#include "miscadmin.h"

#include "parallel.h"

/*
 * max_parallel_maintenance_workers, but no more participants (the workers
 * and the leader, which takes items too) than the machine has CPUs online:
 * the runs are pure computation, so a participant beyond that only
 * time-slices with the others and adds its start-up cost
 */
int
ParallelWorkersWanted(void)
{
	long		cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int			workers = max_parallel_maintenance_workers;

	if (cpus >= 1)
		workers = (int) Min((long) workers, cpus - 1);
	return workers;
}

/* parallel_workers(): the workers an operation of segment gets (see above) */
PG_FUNCTION_INFO_V1(parallel_workers);
Datum
parallel_workers(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(Max(ParallelWorkersWanted(), 0));
}

/*
 * Whether this backend may start parallel workers now: not inside a worker.
 * The leader of a parallel query may (an aggregate's final function runs
 * there): parallel mode nests, and each ParallelContext keeps to itself.
 */
bool
ParallelWorkersAllowed(void)
{
	return !IsParallelWorker() && IsUnderPostmaster;
}

