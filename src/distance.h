/*-------------------------------------------------------------------------
 *
 * distance.h
 *	  Squared Euclidean distances: one pair, and blocks for the hot loops
 *
 * Every squared distance in segment sums (a[j] - b[j])^2 in one canonical
 * order (see SquaredDistance), so a pair gets the same bits whichever routine
 * computes it.  The block routines vectorize across up to DISTANCE_LANES
 * points stored dims-major ("packed"), never across elements, so they keep
 * that order; with contraction to fused multiply-add turned off (see the
 * Makefile), the results are the same on every machine.
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEGMENT_DISTANCE_H
#define SEGMENT_DISTANCE_H

/* Points per packed block */
#define DISTANCE_LANES 8
/* Query rows per call of DistanceBlock */
#define DISTANCE_ROWS 4

/*
 * Squared Euclidean distance between a and b.  The canonical order of the
 * sum: element j goes to partial sum j % 4, in order of j, and the result is
 * (p0 + p1) + (p2 + p3).  Four partial sums keep four additions in flight.
 */
static inline double
SquaredDistance(const double *a, const double *b, int dims)
{
	double		p0 = 0.0;
	double		p1 = 0.0;
	double		p2 = 0.0;
	double		p3 = 0.0;
	int			j = 0;

	for (; j + 4 <= dims; j += 4)
	{
		double		t0 = a[j] - b[j];
		double		t1 = a[j + 1] - b[j + 1];
		double		t2 = a[j + 2] - b[j + 2];
		double		t3 = a[j + 3] - b[j + 3];

		p0 += t0 * t0;
		p1 += t1 * t1;
		p2 += t2 * t2;
		p3 += t3 * t3;
	}
	if (j < dims)
	{
		double		t = a[j] - b[j];

		p0 += t * t;
	}
	if (j + 1 < dims)
	{
		double		t = a[j + 1] - b[j + 1];

		p1 += t * t;
	}
	if (j + 2 < dims)
	{
		double		t = a[j + 2] - b[j + 2];

		p2 += t * t;
	}
	return (p0 + p1) + (p2 + p3);
}

extern void DistancePack(const double *rows, int count, int dims, double *packed);
extern void DistanceToPacked(const double *x, const double *packed, int dims, double *out);
extern void DistanceBlock(const double *x, int dims, const double *packed, double *out);
extern void ClusterSums(const double *rows, int64 count, int dims, const int32 *labels, double *sums);
extern void LanePotentials(const double *closest, const double *distances, int64 count, double *potentials);
extern void DistanceBlockRoot(double *block);
extern void DistanceRootTotals(const double *x, int dims, const double *packed, int64 blocks, double *row_totals,
							   double *column_totals);
extern void LaneSqrtAdd(double *out, const double *squared, const double *add, int count);

#endif							/* SEGMENT_DISTANCE_H */
