/*-------------------------------------------------------------------------
 *
 * elbow.h
 *	  The Kneedle elbow of a convex decreasing curve
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEGMENT_ELBOW_H
#define SEGMENT_ELBOW_H

extern int	KneedleElbow(const double *x, const double *y, int count);

#endif							/* SEGMENT_ELBOW_H */
