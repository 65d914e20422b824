/*-------------------------------------------------------------------------
 *
 * parallel.h
 *	  How many parallel workers an operation of segment gets (parallel.c)
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEGMENT_PARALLEL_H
#define SEGMENT_PARALLEL_H

extern int	ParallelWorkersWanted(void);
extern bool ParallelWorkersAllowed(void);

#endif							/* SEGMENT_PARALLEL_H */
