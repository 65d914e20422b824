/*-------------------------------------------------------------------------
 *
 * distance.c
 *	  Blocked squared Euclidean distances for k-means and the scores, and
 *	  the vector sum of centroid updates
 *
 * A packed block holds DISTANCE_LANES points dims-major: element j of lane l
 * is packed[j * DISTANCE_LANES + l].  The kernels broadcast one element of a
 * query row and update all lanes at once, using GCC vector extensions, and
 * are compiled for AVX-512, AVX2 and the baseline (function multi-versioning,
 * as pgvector does for its distance functions); the loader picks the best
 * the CPU has.  The lanes never mix and each keeps the canonical partial
 * sums, so every variant returns the bits of SquaredDistance.
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "distance.h"

typedef double LaneVector __attribute__((vector_size(DISTANCE_LANES * sizeof(double))));

/*
 * Unaligned load and store of one LaneVector (macros, not functions: a
 * function returning a wide vector has a different ABI per target)
 */
#define LANE_LOAD(v, p) memcpy(&(v), (p), sizeof(LaneVector))
#define LANE_STORE(p, v) memcpy((p), &(v), sizeof(LaneVector))

#if defined(__x86_64__) && defined(__gnu_linux__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define DISTANCE_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef DISTANCE_CLONES
#define DISTANCE_CLONES
#endif

/* GCC vectorizes loops of sqrt only at -O3 (clang's bitcode ignores this) */
#if defined(__GNUC__) && !defined(__clang__)
#define DISTANCE_VECTORIZE __attribute__((optimize("O3")))
#else
#define DISTANCE_VECTORIZE
#endif

/* Pack count (at most DISTANCE_LANES) rows dims-major; missing lanes are 0 */
void
DistancePack(const double *rows, int count, int dims, double *packed)
{
	Assert(count <= DISTANCE_LANES);
	for (int j = 0; j < dims; j++)
		for (int l = 0; l < DISTANCE_LANES; l++)
			packed[j * DISTANCE_LANES + l] = l < count ? rows[(Size) l * dims + j] : 0.0;
}

/* One step of the canonical sum: partial sum p += (x - packed row j)^2 */
#define LANE_STEP(p, xj, packed_j) \
	do { \
		LaneVector	lane_; \
		LaneVector	diff_; \
		LANE_LOAD(lane_, packed_j); \
		diff_ = (xj) - lane_; \
		(p) += diff_ * diff_; \
	} while (0)

/* Squared distances from x to the points of one packed block: out[lane] */
DISTANCE_CLONES
void
DistanceToPacked(const double *x, const double *packed, int dims, double *out)
{
	LaneVector	p0 = {0};
	LaneVector	p1 = {0};
	LaneVector	p2 = {0};
	LaneVector	p3 = {0};
	LaneVector	sum;
	int			j = 0;

	for (; j + 4 <= dims; j += 4)
	{
		LANE_STEP(p0, x[j], packed + j * DISTANCE_LANES);
		LANE_STEP(p1, x[j + 1], packed + (j + 1) * DISTANCE_LANES);
		LANE_STEP(p2, x[j + 2], packed + (j + 2) * DISTANCE_LANES);
		LANE_STEP(p3, x[j + 3], packed + (j + 3) * DISTANCE_LANES);
	}
	if (j < dims)
		LANE_STEP(p0, x[j], packed + j * DISTANCE_LANES);
	if (j + 1 < dims)
		LANE_STEP(p1, x[j + 1], packed + (j + 1) * DISTANCE_LANES);
	if (j + 2 < dims)
		LANE_STEP(p2, x[j + 2], packed + (j + 2) * DISTANCE_LANES);
	sum = (p0 + p1) + (p2 + p3);
	LANE_STORE(out, sum);
}

/*
 * The body of DistanceBlock, inlined into the kernels built on it (always:
 * a copy of its own would be built for the baseline target only)
 */
static pg_attribute_always_inline void
DistanceBlockInline(const double *x, int dims, const double *packed, double *out)
{
	for (int r = 0; r < DISTANCE_ROWS; r += 2)
	{
		const double *xa = x + (Size) r * dims;
		const double *xb = xa + dims;
		LaneVector	a0 = {0};
		LaneVector	a1 = {0};
		LaneVector	a2 = {0};
		LaneVector	a3 = {0};
		LaneVector	b0 = {0};
		LaneVector	b1 = {0};
		LaneVector	b2 = {0};
		LaneVector	b3 = {0};
		LaneVector	sum;
		int			j = 0;

		for (; j + 4 <= dims; j += 4)
		{
			LANE_STEP(a0, xa[j], packed + j * DISTANCE_LANES);
			LANE_STEP(b0, xb[j], packed + j * DISTANCE_LANES);
			LANE_STEP(a1, xa[j + 1], packed + (j + 1) * DISTANCE_LANES);
			LANE_STEP(b1, xb[j + 1], packed + (j + 1) * DISTANCE_LANES);
			LANE_STEP(a2, xa[j + 2], packed + (j + 2) * DISTANCE_LANES);
			LANE_STEP(b2, xb[j + 2], packed + (j + 2) * DISTANCE_LANES);
			LANE_STEP(a3, xa[j + 3], packed + (j + 3) * DISTANCE_LANES);
			LANE_STEP(b3, xb[j + 3], packed + (j + 3) * DISTANCE_LANES);
		}
		if (j < dims)
		{
			LANE_STEP(a0, xa[j], packed + j * DISTANCE_LANES);
			LANE_STEP(b0, xb[j], packed + j * DISTANCE_LANES);
		}
		if (j + 1 < dims)
		{
			LANE_STEP(a1, xa[j + 1], packed + (j + 1) * DISTANCE_LANES);
			LANE_STEP(b1, xb[j + 1], packed + (j + 1) * DISTANCE_LANES);
		}
		if (j + 2 < dims)
		{
			LANE_STEP(a2, xa[j + 2], packed + (j + 2) * DISTANCE_LANES);
			LANE_STEP(b2, xb[j + 2], packed + (j + 2) * DISTANCE_LANES);
		}
		sum = (a0 + a1) + (a2 + a3);
		LANE_STORE(out + r * DISTANCE_LANES, sum);
		sum = (b0 + b1) + (b2 + b3);
		LANE_STORE(out + (r + 1) * DISTANCE_LANES, sum);
	}
}

/*
 * Squared distances from DISTANCE_ROWS consecutive rows x (row-major, dims
 * each) to the points of one packed block: out[row * DISTANCE_LANES + lane].
 * Each row keeps the four partial sums of the canonical order.
 */
DISTANCE_CLONES
void
DistanceBlock(const double *x, int dims, const double *packed, double *out)
{
	DistanceBlockInline(x, dims, packed, out);
}

/* sum[j] += row[j] for j < dims, a lane vector at a time */
static inline void
LaneAccumulate(double *restrict sum, const double *restrict row, int dims)
{
	int			j = 0;

	for (; j + DISTANCE_LANES <= dims; j += DISTANCE_LANES)
	{
		LaneVector	s;
		LaneVector	r;

		LANE_LOAD(s, sum + j);
		LANE_LOAD(r, row + j);
		s += r;
		LANE_STORE(sum + j, s);
	}
	for (; j < dims; j++)
		sum[j] += row[j];
}

/* sums[labels[i]] += row i for rows i < count, in row order */
DISTANCE_CLONES
void
ClusterSums(const double *rows, int64 count, int dims, const int32 *labels, double *sums)
{
	for (int64 i = 0; i < count; i++)
		LaneAccumulate(sums + (Size) labels[i] * dims, rows + (Size) i * dims, dims);
}

/*
 * potentials[l] += min(closest[i], distances[i][l]) for rows i < count and
 * all DISTANCE_LANES lanes (k-means++'s candidate potentials), in row order
 */
DISTANCE_CLONES
void
LanePotentials(const double *closest, const double *distances, int64 count, double *potentials)
{
	double		sum[DISTANCE_LANES];

	memcpy(sum, potentials, sizeof(sum));
	for (int64 i = 0; i < count; i++)
		for (int l = 0; l < DISTANCE_LANES; l++)
		{
			double		d = distances[i * DISTANCE_LANES + l];

			sum[l] += closest[i] < d ? closest[i] : d;
		}
	memcpy(potentials, sum, sizeof(sum));
}

/* out[c] = sqrt(squared[c]) + add[c] for c < count (vectorized at -O3) */
DISTANCE_CLONES
DISTANCE_VECTORIZE
void
LaneSqrtAdd(double *out, const double *squared, const double *add, int count)
{
	int			c = 0;

	for (; c + DISTANCE_LANES <= count; c += DISTANCE_LANES)
		for (int l = 0; l < DISTANCE_LANES; l++)
			out[c + l] = sqrt(squared[c + l]) + add[c + l];
	for (; c < count; c++)
		out[c] = sqrt(squared[c]) + add[c];
}

/*
 * Square root of each of the DISTANCE_ROWS × DISTANCE_LANES distances of a
 * block, in place (a fixed count, so -O3 makes it a few vector square
 * roots; sqrt is exact, so every lane gets the bits of the scalar sqrt)
 */
DISTANCE_CLONES
DISTANCE_VECTORIZE
void
DistanceBlockRoot(double *block)
{
	double		roots[DISTANCE_ROWS * DISTANCE_LANES];

	for (int c = 0; c < DISTANCE_ROWS * DISTANCE_LANES; c++)
		roots[c] = sqrt(block[c]);
	memcpy(block, roots, sizeof(roots));
}

/*
 * The distances (square roots) from DISTANCE_ROWS rows x to the points of
 * blocks consecutive packed blocks, as totals: row_totals[r] gets row r's
 * sum over all the points (each lane summed over the blocks in order, then
 * the lanes in order), and column_totals[b * DISTANCE_LANES + l] grows by
 * point l of block b's sum over the rows (in row order).  The silhouette's
 * inner loop where a block of rows and a run of blocks of points each lie
 * in one cluster: the square roots and sums stay in vector registers.
 */
DISTANCE_CLONES
DISTANCE_VECTORIZE
void
DistanceRootTotals(const double *x, int dims, const double *packed, int64 blocks, double *row_totals,
				   double *column_totals)
{
	double		lanes[DISTANCE_ROWS][DISTANCE_LANES] = {{0}};

	for (int64 b = 0; b < blocks; b++)
	{
		double		block[DISTANCE_ROWS * DISTANCE_LANES];
		double	   *column = column_totals + b * DISTANCE_LANES;

		DistanceBlockInline(x, dims, packed + b * dims * DISTANCE_LANES, block);
		for (int c = 0; c < DISTANCE_ROWS * DISTANCE_LANES; c++)
			block[c] = sqrt(block[c]);
		for (int r = 0; r < DISTANCE_ROWS; r++)
			for (int l = 0; l < DISTANCE_LANES; l++)
				lanes[r][l] += block[r * DISTANCE_LANES + l];
		for (int l = 0; l < DISTANCE_LANES; l++)
		{
			double		total = block[l];

			for (int r = 1; r < DISTANCE_ROWS; r++)
				total += block[r * DISTANCE_LANES + l];
			column[l] += total;
		}
	}
	for (int r = 0; r < DISTANCE_ROWS; r++)
	{
		double		total = 0.0;

		for (int l = 0; l < DISTANCE_LANES; l++)
			total += lanes[r][l];
		row_totals[r] = total;
	}
}
