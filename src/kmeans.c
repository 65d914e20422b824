/*-------------------------------------------------------------------------
 *
 * kmeans.c
 *	  k-means in memory: canonical row order, k-means++ and Hamerly's Lloyd
 *
 * The semantics are scikit-learn's KMeans (algorithm "lloyd"): greedy
 * k-means++ seeding with 2 + floor(ln k) candidates per step (Arthur and
 * Vassilvitskii 2007), the best of n_init runs by inertia, and an empty
 * cluster given the point farthest from its centre.  Where scikit-learn
 * stops a run once the squared centre shift falls to tol, segment takes
 * every run to a local minimum of the inertia: Lloyd's iterations until no
 * label changes, then Hartigan's single-point moves (see KMeansHartigan).
 * The inertia is never higher than at scikit-learn's stop, and on the
 * bundled data it is lower; tol is validated but not needed.
 *
 * Lloyd's iterations use Hamerly's bounds (Hamerly 2010, "Making k-means
 * even faster") when k × dims is large enough to pay for them: an upper
 * bound on each point's distance to its centre and a lower bound on the
 * distance to every other centre let most points skip the k distance
 * computations once the centres settle.  Hamerly rather than Elkan: segment
 * clusters few dimensions into few clusters (k <= 10 or so), where Elkan's k
 * lower bounds per point cost more memory and upkeep than they save in
 * Lloyd's phase.  The bounds only skip work: labels are those of plain Lloyd
 * up to exact ties.
 *
 * Rows are first sorted by their vectors, and every loop visits them in that
 * order with the same summation order, so a seed gives the same model, bit
 * for bit, whatever the order the source returned its rows in.
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/parallel.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/shm_toc.h"
#include "utils/float.h"
#include "utils/memutils.h"

#include "distance.h"
#include "kmeans.h"
#include "parallel.h"
#include "random.h"

/* The best of the runs one process did */
typedef struct KMeansBest
{
	double		inertia;
	int			run;			/* -1: no run yet */
	int			iterations;
	double	   *centroids;		/* k × dims */
	int32	   *labels;			/* per sorted row */
} KMeansBest;

/* Most runs (n_init times the number of k) of one call */
#define KMEANS_MAX_RUNS 1000000000

/* Rows between interrupt checks in the per-row loops */
#define KMEANS_INTERRUPT_ROWS 4096

/*
 * Hamerly's bounds pay from this many multiply-adds per row and iteration
 * (k × dims); below, keeping them costs more than the blocked assignment
 * they save (docs/performance.md, "Thresholds")
 */
#define KMEANS_BOUNDS_MIN_WORK 64

/* Working memory of one fit, allocated once and reused by every init */
typedef struct KMeansWork
{
	const Matrix *x;
	int			k;
	int			dims;
	int			blocks;			/* packed blocks of centres */
	double	   *centers;		/* k × dims */
	double	   *new_centers;	/* k × dims, scratch */
	double	   *sums;			/* k × dims: sum of each cluster's rows */
	double	   *packed;			/* blocks × dims × DISTANCE_LANES */
	int64	   *counts;			/* rows per cluster */
	double	   *moved;			/* how far each centre moved */
	double	   *half_gap;		/* half the distance to the nearest other centre */
	bool		bounded;		/* Lloyd keeps Hamerly's bounds (k × dims large) */
	bool		bounds_valid;	/* upper and lower hold bounds (not after plain assignment) */
	bool		bounds_pending; /* the last moves are not yet in the bounds */
	double		moved_max;		/* the largest move ... */
	double		moved_second;	/* ... the second largest ... */
	int			moved_argmax;	/* ... and the cluster that made the largest */
	int32	   *labels;			/* per row */
	double	   *upper;			/* per row: bound on the distance to its centre */
	double	   *lower;			/* per row: bound on the distance to other centres */
	double	   *closest;		/* k-means++: squared distance to the nearest centre */
	double	   *cumulative;		/* k-means++: running sum of closest */
	double	   *candidate_distances;	/* k-means++: rows × DISTANCE_LANES */
	int64	   *relocation_order;	/* rows, for moving points to empty clusters */
	double	   *far;			/* Hartigan: rows × k distance bounds, or NULL */
} KMeansWork;

/* Raise an invalid-parameter error */
static void
KMeansParamError(const char *message)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s", message)));
}

/* Check the user's arguments against each other and the number of rows */
void
KMeansCheckParams(const KMeansParams *params, int64 rows)
{
	if (params->k < 1)
		KMeansParamError("k must be at least 1");
	if (params->n_init < 1)
		KMeansParamError("n_init must be at least 1");
	if (params->max_iter < 1)
		KMeansParamError("max_iter must be at least 1");
	if (!(params->tol >= 0) || isinf(params->tol))
		KMeansParamError("tol must be a finite number >= 0");
	if (params->k > rows)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k (%d) is larger than the number of rows (" INT64_FORMAT ")",
						params->k, rows)));
}

/* A row's place in the sort: its first element, then the whole row */
typedef struct KMeansSortKey
{
	double		first;			/* element 0, compared without touching the row */
	int64		position;		/* the row in the source matrix */
} KMeansSortKey;

/* Order rows lexicographically by their vectors, reading a row only on a tie */
static inline int
KMeansCompareKeys(const KMeansSortKey *a, const KMeansSortKey *b, const Matrix *x)
{
	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	return VectorCompare(MatrixRow(x, a->position) + 1, MatrixRow(x, b->position) + 1, x->cols - 1);
}

/* KMeansSortKeys: PostgreSQL's sort template with the comparison inlined */
#define ST_SORT KMeansSortKeys
#define ST_ELEMENT_TYPE KMeansSortKey
#define ST_COMPARE_ARG_TYPE const Matrix
#define ST_COMPARE(a, b, arg) KMeansCompareKeys((a), (b), (arg))
#define ST_SCOPE static
#define ST_DEFINE
#define ST_CHECK_FOR_INTERRUPTS
#include "lib/sort_template.h"

/*
 * Put the rows in canonical order (sorted by vector; equal vectors are
 * interchangeable).  x is consumed: its rows move into data->x, permuted in
 * place (following each cycle of the permutation with one spare row), so
 * the matrix is never held twice.
 */
void
KMeansPrepare(Matrix *x, KMeansData *data)
{
	int64		n = x->rows;
	int			dims = x->cols;
	KMeansSortKey *keys = MemoryAllocLarge(CurrentMemoryContext, MemoryProduct(n, sizeof(KMeansSortKey)));
	bool	   *placed;
	double	   *spare = palloc(dims * sizeof(double));

	for (int64 i = 0; i < n; i++)
	{
		keys[i].first = MatrixRow(x, i)[0];
		keys[i].position = i;
	}
	KMeansSortKeys(keys, n, x);
	data->order = MemoryAllocLarge(CurrentMemoryContext, MemoryProduct(n, sizeof(int64)));
	for (int64 s = 0; s < n; s++)
		data->order[s] = keys[s].position;
	pfree(keys);

	/* sorted row s is source row order[s]: walk each cycle of the permutation */
	placed = MemoryContextAllocExtended(CurrentMemoryContext, MemoryProduct(n, sizeof(bool)),
										MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	for (int64 s = 0, moved = 0; s < n; s++)
	{
		int64		j = s;

		if (placed[s])
			continue;
		memcpy(spare, MatrixRow(x, s), dims * sizeof(double));
		for (;;)
		{
			int64		from = data->order[j];

			/* one cycle may hold every row: count moves, not cycles */
			if ((moved++ & (KMEANS_INTERRUPT_ROWS - 1)) == 0)
				CHECK_FOR_INTERRUPTS();
			placed[j] = true;
			if (from == s)
			{
				memcpy(MatrixRow(x, j), spare, dims * sizeof(double));
				break;
			}
			memcpy(MatrixRow(x, j), MatrixRow(x, from), dims * sizeof(double));
			j = from;
		}
	}
	pfree(placed);
	pfree(spare);

	data->x = *x;
	x->values = NULL;
}

/* Allocate the working memory of a fit */
static void
KMeansWorkInit(KMeansWork *w, const Matrix *x, int k)
{
	Size		n = x->rows;

	w->x = x;
	w->k = k;
	w->dims = x->cols;
	w->blocks = (k + DISTANCE_LANES - 1) / DISTANCE_LANES;
	w->bounded = (Size) k * w->dims >= KMEANS_BOUNDS_MIN_WORK;
	w->centers = palloc(MemoryProduct(k, w->dims * sizeof(double)));
	w->new_centers = palloc(MemoryProduct(k, w->dims * sizeof(double)));
	w->sums = palloc(MemoryProduct(k, w->dims * sizeof(double)));
	w->packed = palloc(MemoryProduct(w->blocks, w->dims * DISTANCE_LANES * sizeof(double)));
	w->counts = palloc(k * sizeof(int64));
	w->moved = palloc(k * sizeof(double));
	w->half_gap = palloc(k * sizeof(double));
	w->labels = MemoryAllocLarge(CurrentMemoryContext, MemoryProduct(n, sizeof(int32)));
	w->upper = MemoryAllocLarge(CurrentMemoryContext, MemoryProduct(n, sizeof(double)));
	w->lower = MemoryAllocLarge(CurrentMemoryContext, MemoryProduct(n, sizeof(double)));
	w->closest = MemoryAllocLarge(CurrentMemoryContext, MemoryProduct(n, sizeof(double)));
	w->cumulative = MemoryAllocLarge(CurrentMemoryContext, MemoryProduct(n, sizeof(double)));
	w->candidate_distances = MemoryAllocLarge(CurrentMemoryContext,
													MemoryProduct(n, DISTANCE_LANES * sizeof(double)));
	w->relocation_order = MemoryAllocLarge(CurrentMemoryContext, MemoryProduct(n, sizeof(int64)));
	w->far = k <= KMEANS_HARTIGAN_BOUNDED ?
		MemoryAllocLarge(CurrentMemoryContext, MemoryProduct(n, MemoryProduct(k, sizeof(double)))) : NULL;
}

/* Squared distances from every row to the points of one packed block */
static void
KMeansRowsToPacked(const Matrix *x, const double *packed, double *out)
{
	int64		i = 0;

	for (; i + DISTANCE_ROWS <= x->rows; i += DISTANCE_ROWS)
	{
		DistanceBlock(MatrixRow(x, i), x->cols, packed, out + i * DISTANCE_LANES);
		if ((i & (KMEANS_INTERRUPT_ROWS - 1)) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	for (; i < x->rows; i++)
		DistanceToPacked(MatrixRow(x, i), packed, x->cols, out + i * DISTANCE_LANES);
}

/* Index of the first entry of the running sums that reaches value */
static int64
KMeansSearchSorted(const double *cumulative, int64 n, double value)
{
	int64		low = 0;
	int64		high = n;

	while (low < high)
	{
		int64		middle = low + (high - low) / 2;

		if (cumulative[middle] < value)
			low = middle + 1;
		else
			high = middle;
	}
	return Min(low, n - 1);
}

/*
 * Draw count k-means++ candidates (rows with probability proportional to
 * closest, through its running sums in w->cumulative) into w->new_centers,
 * and pack them for the distance kernels
 */
static void
KMeansDrawCandidates(KMeansWork *w, RandomState *rng, double potential, int count, int64 *candidates)
{
	const Matrix *x = w->x;

	for (int t = 0; t < count; t++)
	{
		double		value = RandomUniform(rng) * potential;

		candidates[t] = KMeansSearchSorted(w->cumulative, x->rows, value);
		memcpy(w->new_centers + (Size) t * w->dims, MatrixRow(x, candidates[t]), w->dims * sizeof(double));
	}
	DistancePack(w->new_centers, count, w->dims, w->packed);
}

/*
 * The potentials of the packed candidates (new_centers, count of them): for
 * each, the sum over rows of min(closest, distance to the candidate), in row
 * order.  A row whose nearest centre m of the c so far (labels) is at least
 * twice as far from every candidate as from the row, with a margin of 1e-6
 * for rounding, is nearer to m than to any candidate (triangle inequality,
 * as Elkan 2003 uses it for Lloyd's steps): its term is closest for every
 * candidate, the value min() would give, so its distances are not computed
 * and its slot in candidate_distances is marked with -1 in the last lane.
 * Where two rows of four or more are near, the four go through the blocked
 * kernel.  far_enough has room for c values.
 */
static void
KMeansPrunedPotentials(KMeansWork *w, int c, int count, double *far_enough, double *potentials)
{
	const Matrix *x = w->x;
	int64		n = x->rows;
	int			dims = w->dims;

	/* per centre: a quarter of its squared distance to the nearest candidate */
	for (int m = 0; m < c; m++)
	{
		double		nearest = get_float8_infinity();

		for (int t = 0; t < count; t++)
			nearest = Min(nearest, SquaredDistance(w->centers + (Size) m * dims, w->new_centers + (Size) t * dims, dims));
		far_enough[m] = nearest / (4.0 * (1.0 + 1e-6));
	}
	memset(potentials, 0, DISTANCE_LANES * sizeof(double));
	for (int64 i = 0; i < n; i += DISTANCE_ROWS)
	{
		int			rows = (int) Min(DISTANCE_ROWS, n - i);
		double	   *d = w->candidate_distances + i * DISTANCE_LANES;
		bool		far[DISTANCE_ROWS];
		int			far_rows = 0;

		if ((i & (KMEANS_INTERRUPT_ROWS - 1)) == 0)
			CHECK_FOR_INTERRUPTS();
		for (int r = 0; r < rows; r++)
		{
			far[r] = w->closest[i + r] <= far_enough[w->labels[i + r]];
			far_rows += far[r];
		}
		if (far_rows < rows - 1 && rows == DISTANCE_ROWS)
		{
			/*
			 * two rows or more are near: all four through the blocked kernel
			 * (a far row's distances all exceed its closest, so its terms
			 * are still closest)
			 */
			DistanceBlock(MatrixRow(x, i), dims, w->packed, d);
			LanePotentials(w->closest + i, d, rows, potentials);
			continue;
		}
		for (int r = 0; r < rows; r++)
		{
			double	   *row_d = d + r * DISTANCE_LANES;

			if (far[r])
			{
				/* no candidate is nearer to this row than its centre */
				for (int t = 0; t < DISTANCE_LANES; t++)
					potentials[t] += w->closest[i + r];
				row_d[DISTANCE_LANES - 1] = -1.0;
				continue;
			}
			DistanceToPacked(MatrixRow(x, i + r), w->packed, dims, row_d);
			LanePotentials(w->closest + i + r, row_d, 1, potentials);
		}
	}
}

/* The potentials of the packed candidates from all rows' distances (see KMeansPrunedPotentials) */
static void
KMeansPotentials(KMeansWork *w, double *potentials)
{
	const Matrix *x = w->x;

	KMeansRowsToPacked(x, w->packed, w->candidate_distances);
	memset(potentials, 0, DISTANCE_LANES * sizeof(double));
	for (int64 i = 0; i < x->rows; i += KMEANS_INTERRUPT_ROWS)
	{
		CHECK_FOR_INTERRUPTS();
		LanePotentials(w->closest + i, w->candidate_distances + i * DISTANCE_LANES,
					   Min(KMEANS_INTERRUPT_ROWS, x->rows - i), potentials);
	}
}

/*
 * Greedy k-means++: the first centre is a uniform random row; each next one
 * is the best, by the resulting potential, of 2 + floor(ln k) rows drawn with
 * probability proportional to their squared distance to the nearest centre
 * (scikit-learn's _kmeans_plusplus).  With one pack of candidates (k below
 * e^6), rows far from every candidate skip their distances (Elkan's
 * triangle-inequality test, Elkan 2003; see KMeansPrunedPotentials): the same
 * potentials and centres, bit for bit.
 */
static void
KMeansPlusPlus(KMeansWork *w, RandomState *rng)
{
	const Matrix *x = w->x;
	int64		n = x->rows;
	int			dims = w->dims;
	int			trials = 2 + (int) log((double) w->k);
	int64		first = RandomBelow(rng, n);
	double		potential = 0.0;
	int64		candidates[DISTANCE_LANES];
	double		potentials[DISTANCE_LANES];
	double	   *far_enough = trials <= DISTANCE_LANES ? palloc(w->k * sizeof(double)) : NULL;

	memcpy(w->centers, MatrixRow(x, first), dims * sizeof(double));
	DistancePack(w->centers, 1, dims, w->packed);
	KMeansRowsToPacked(x, w->packed, w->candidate_distances);
	for (int64 i = 0; i < n; i++)
	{
		w->closest[i] = w->candidate_distances[i * DISTANCE_LANES];
		w->labels[i] = 0;		/* each row's nearest centre so far */
		potential += w->closest[i];
	}

	for (int c = 1; c < w->k; c++)
	{
		double		sum = 0.0;
		double		best_potential = 0.0;
		int64		best_row = -1;
		int			best_lane = -1;

		CHECK_FOR_INTERRUPTS();
		for (int64 i = 0; i < n; i++)
		{
			sum += w->closest[i];
			w->cumulative[i] = sum;
		}

		/* Candidates in packs of DISTANCE_LANES (more than one only for huge k) */
		for (int done = 0; done < trials;)
		{
			int			count = Min(trials - done, DISTANCE_LANES);

			KMeansDrawCandidates(w, rng, potential, count, candidates);
			/* one pack (k below e^6): rows far from every candidate are skipped */
			if (far_enough != NULL)
				KMeansPrunedPotentials(w, c, count, far_enough, potentials);
			else
				KMeansPotentials(w, potentials);
			best_lane = -1;		/* distances of earlier packs are gone */
			for (int t = 0; t < count; t++)
			{
				if (best_row < 0 || potentials[t] < best_potential)
				{
					best_potential = potentials[t];
					best_row = candidates[t];
					best_lane = t;
				}
			}
			done += count;
		}

		/* Take the best candidate: new centre, nearest distances, potential */
		memcpy(w->centers + (Size) c * dims, MatrixRow(x, best_row), dims * sizeof(double));
		for (int64 i = 0; i < n; i++)
		{
			double		d;

			/* a row KMeansPrunedPotentials skipped keeps its nearest centre */
			if (best_lane >= 0 && w->candidate_distances[i * DISTANCE_LANES + DISTANCE_LANES - 1] < 0)
				continue;
			d = best_lane >= 0 ? w->candidate_distances[i * DISTANCE_LANES + best_lane]
				: SquaredDistance(MatrixRow(x, i), MatrixRow(x, best_row), dims);
			if (d < w->closest[i])
			{
				w->closest[i] = d;
				w->labels[i] = c;
			}
		}
		potential = best_potential;
	}
	if (far_enough != NULL)
		pfree(far_enough);
}

/* Pack the current centres into blocks for the distance kernels */
static void
KMeansPackCenters(KMeansWork *w)
{
	for (int b = 0; b < w->blocks; b++)
		DistancePack(w->centers + (Size) b * DISTANCE_LANES * w->dims,
					 Min(DISTANCE_LANES, w->k - b * DISTANCE_LANES), w->dims,
					 w->packed + (Size) b * w->dims * DISTANCE_LANES);
}

/* Copy one centre into its lane of the packed blocks */
static inline void
KMeansPackCenter(KMeansWork *w, int c)
{
	double	   *block = w->packed + (Size) (c / DISTANCE_LANES) * w->dims * DISTANCE_LANES;
	const double *center = w->centers + (Size) c * w->dims;

	for (int j = 0; j < w->dims; j++)
		block[j * DISTANCE_LANES + c % DISTANCE_LANES] = center[j];
}

/* Nearest and second-nearest centre of a row from its squared distances */
static inline void
KMeansPickNearest(KMeansWork *w, int64 i, const double *squared)
{
	double		best = squared[0];
	double		second = get_float8_infinity();
	int			best_c = 0;

	for (int c = 1; c < w->k; c++)
	{
		if (squared[c] < best)
		{
			second = best;
			best = squared[c];
			best_c = c;
		}
		else if (squared[c] < second)
			second = squared[c];
	}
	w->labels[i] = best_c;
	w->upper[i] = sqrt(best);
	w->lower[i] = sqrt(second);
}

/* Compute all k distances of row i and set its label and bounds */
static void
KMeansAssignRow(KMeansWork *w, int64 i, double *squared)
{
	const double *row = MatrixRow(w->x, i);

	for (int b = 0; b < w->blocks; b++)
		DistanceToPacked(row, w->packed + (Size) b * w->dims * DISTANCE_LANES, w->dims,
						 squared + b * DISTANCE_LANES);
	KMeansPickNearest(w, i, squared);
}

/* Sums and counts of the clusters from scratch, in row order */
static void
KMeansSums(KMeansWork *w)
{
	const Matrix *x = w->x;

	memset(w->sums, 0, (Size) w->k * w->dims * sizeof(double));
	memset(w->counts, 0, w->k * sizeof(int64));
	for (int64 i = 0; i < x->rows; i += KMEANS_INTERRUPT_ROWS)
	{
		CHECK_FOR_INTERRUPTS();
		ClusterSums(MatrixRow(x, i), Min(KMEANS_INTERRUPT_ROWS, x->rows - i), w->dims, w->labels + i, w->sums);
	}
	for (int64 i = 0; i < x->rows; i++)
		w->counts[w->labels[i]]++;
}

/*
 * Squared distances from the rows i .. i + rows - 1 (rows <= DISTANCE_ROWS)
 * to all centres: squared[r * blocks * DISTANCE_LANES + c]
 */
static void
KMeansBlockDistances(const KMeansWork *w, int64 i, int rows, double *squared)
{
	int			stride = w->blocks * DISTANCE_LANES;
	double		block[DISTANCE_ROWS * DISTANCE_LANES];

	for (int b = 0; b < w->blocks; b++)
	{
		const double *packed = w->packed + (Size) b * w->dims * DISTANCE_LANES;

		if (rows == DISTANCE_ROWS)
			DistanceBlock(MatrixRow(w->x, i), w->dims, packed, block);
		else
			for (int r = 0; r < rows; r++)
				DistanceToPacked(MatrixRow(w->x, i + r), packed, w->dims, block + r * DISTANCE_LANES);
		for (int r = 0; r < rows; r++)
			memcpy(squared + r * stride + b * DISTANCE_LANES, block + r * DISTANCE_LANES,
				   DISTANCE_LANES * sizeof(double));
	}
}

/* First assignment: all distances of all rows, four rows at a time */
static void
KMeansAssignAll(KMeansWork *w, double *squared)
{
	const Matrix *x = w->x;
	int			stride = w->blocks * DISTANCE_LANES;

	for (int64 i = 0; i < x->rows; i += DISTANCE_ROWS)
	{
		int			rows = (int) Min(DISTANCE_ROWS, x->rows - i);

		if ((i & (KMEANS_INTERRUPT_ROWS - 1)) == 0)
			CHECK_FOR_INTERRUPTS();
		KMeansBlockDistances(w, i, rows, squared);
		for (int r = 0; r < rows; r++)
			KMeansPickNearest(w, i + r, squared + r * stride);
	}
	w->bounds_valid = true;
	w->bounds_pending = false;
	KMeansSums(w);
}

/* Move row i's contribution from one cluster's sum to another's */
static inline void
KMeansMoveRow(KMeansWork *w, int64 i, int from, int to)
{
	const double *row = MatrixRow(w->x, i);
	double	   *from_sum = w->sums + (Size) from * w->dims;
	double	   *to_sum = w->sums + (Size) to * w->dims;

	for (int j = 0; j < w->dims; j++)
	{
		from_sum[j] -= row[j];
		to_sum[j] += row[j];
	}
	w->counts[from]--;
	w->counts[to]++;
}

/* Hamerly's bound update for the last centre moves (triangle inequality) */
static inline void
KMeansApplyMoves(KMeansWork *w, int64 i)
{
	int			a = w->labels[i];

	w->upper[i] += w->moved[a];
	w->lower[i] -= (a == w->moved_argmax) ? w->moved_second : w->moved_max;
}

/*
 * Hamerly's assignment step: a row keeps its centre without computing any
 * distance when its upper bound is within max(half the gap from its centre
 * to the nearest other centre, its lower bound).  Returns how many labels
 * changed.
 */
static int64
KMeansAssignBounded(KMeansWork *w, double *squared)
{
	const Matrix *x = w->x;
	int64		changed = 0;

	for (int64 i = 0; i < x->rows; i++)
	{
		int			a = w->labels[i];
		double		bound;

		if ((i & (KMEANS_INTERRUPT_ROWS - 1)) == 0)
			CHECK_FOR_INTERRUPTS();
		if (w->bounds_pending)
			KMeansApplyMoves(w, i);
		bound = Max(w->half_gap[a], w->lower[i]);
		if (w->upper[i] <= bound)
			continue;
		w->upper[i] = sqrt(SquaredDistance(MatrixRow(x, i), w->centers + (Size) a * w->dims, w->dims));
		if (w->upper[i] <= bound)
			continue;
		KMeansAssignRow(w, i, squared);
		if (w->labels[i] != a)
		{
			KMeansMoveRow(w, i, a, w->labels[i]);
			changed++;
		}
	}
	w->bounds_pending = false;
	return changed;
}

/*
 * Plain Lloyd assignment: all distances of all rows, four rows at a time,
 * for small k × dims, where Hamerly's bookkeeping costs more than the few
 * distances it saves.  The sums follow the rows that change.  No bounds are
 * kept (see bounds_valid).  Returns how many labels changed.
 */
static int64
KMeansAssignPlain(KMeansWork *w, double *squared)
{
	const Matrix *x = w->x;
	int			stride = w->blocks * DISTANCE_LANES;
	int64		changed = 0;

	for (int64 i = 0; i < x->rows; i += DISTANCE_ROWS)
	{
		int			rows = (int) Min(DISTANCE_ROWS, x->rows - i);

		if ((i & (KMEANS_INTERRUPT_ROWS - 1)) == 0)
			CHECK_FOR_INTERRUPTS();
		KMeansBlockDistances(w, i, rows, squared);
		for (int r = 0; r < rows; r++)
		{
			const double *d = squared + r * stride;
			double		best = d[0];
			int			best_c = 0;
			int			a = w->labels[i + r];

			/* without branches: the lowest c on ties, as KMeansPickNearest */
			for (int c = 1; c < w->k; c++)
			{
				bool		closer = d[c] < best;

				best_c = closer ? c : best_c;
				best = closer ? d[c] : best;
			}
			if (best_c != a)
			{
				KMeansMoveRow(w, i + r, a, best_c);
				w->labels[i + r] = best_c;
				changed++;
			}
		}
	}
	w->bounds_valid = false;
	return changed;
}

/* Order rows by distance, largest first, then by row */
static int
KMeansCompareFarthest(const void *a, const void *b, void *arg)
{
	const double *distance = (const double *) arg;
	int64		ra = *(const int64 *) a;
	int64		rb = *(const int64 *) b;

	if (distance[ra] != distance[rb])
		return distance[ra] > distance[rb] ? -1 : 1;
	return ra < rb ? -1 : (ra > rb ? 1 : 0);
}

/*
 * Give each empty cluster the point farthest from its current centre
 * (scikit-learn's _relocate_empty_clusters), taking points only from
 * clusters that keep at least one.  Unlike scikit-learn the moved point is
 * relabelled, so labels, sums and counts stay consistent; its bounds are
 * reset so the next assignment computes its distances.  A point that sits on
 * its centre is never moved: it would only duplicate that centre and go back
 * to it on the tie, again and again.  So with fewer distinct points than
 * clusters the clusters left over stay empty and the run converges at once.
 * Returns how many points moved.
 */
static int
KMeansRelocate(KMeansWork *w)
{
	const Matrix *x = w->x;
	int64		n = x->rows;
	int			dims = w->dims;
	int64		next = 0;
	int			relocated = 0;

	/* Squared distance of each row to its centre, reusing closest */
	for (int64 i = 0; i < n; i++)
	{
		w->closest[i] = SquaredDistance(MatrixRow(x, i), w->centers + (Size) w->labels[i] * dims, dims);
		w->relocation_order[i] = i;
	}
	/* Farthest first; ties by row, so the choice is deterministic */
	qsort_arg(w->relocation_order, n, sizeof(int64), KMeansCompareFarthest, w->closest);

	for (int c = 0; c < w->k; c++)
	{
		int64		row;
		int			from;

		if (w->counts[c] > 0)
			continue;
		do
		{
			if (next >= n || w->closest[w->relocation_order[next]] == 0.0)
				return relocated;	/* every point left sits on its centre */
			row = w->relocation_order[next++];
			from = w->labels[row];
		} while (w->counts[from] <= 1);

		KMeansMoveRow(w, row, from, c);
		w->labels[row] = c;
		w->upper[row] = get_float8_infinity();
		w->lower[row] = 0.0;
		relocated++;
	}
	return relocated;
}

/*
 * Lloyd's update step: centres become the means of their rows (empty
 * clusters first get a point), the bounds are marked to grow or shrink by
 * how far the centres moved, and the half gaps are recomputed.  Returns the
 * sum of the squared centre shifts; *relocated counts relabelled points.
 */
static double
KMeansUpdate(KMeansWork *w, int *relocated)
{
	int			k = w->k;
	int			dims = w->dims;
	bool		empty = false;
	double		shift = 0.0;
	double	   *swap;

	*relocated = 0;
	for (int c = 0; c < k; c++)
		empty |= (w->counts[c] == 0);
	if (empty)
		*relocated = KMeansRelocate(w);

	w->moved_max = 0.0;
	w->moved_second = 0.0;
	w->moved_argmax = 0;
	for (int c = 0; c < k; c++)
	{
		double	   *center = w->new_centers + (Size) c * dims;
		const double *sum = w->sums + (Size) c * dims;
		double		squared;

		if (w->counts[c] == 0)
		{
			/* left empty (fewer distinct points than clusters): stays put */
			memcpy(center, w->centers + (Size) c * dims, dims * sizeof(double));
			continue;
		}
		for (int j = 0; j < dims; j++)
			center[j] = sum[j] / w->counts[c];
		squared = SquaredDistance(center, w->centers + (Size) c * dims, dims);
		shift += squared;
		w->moved[c] = sqrt(squared);
		if (w->moved[c] > w->moved_max)
		{
			w->moved_second = w->moved_max;
			w->moved_max = w->moved[c];
			w->moved_argmax = c;
		}
		else if (w->moved[c] > w->moved_second)
			w->moved_second = w->moved[c];
	}
	swap = w->centers;
	w->centers = w->new_centers;
	w->new_centers = swap;
	w->bounds_pending = true;

	for (int c = 0; c < k && w->bounded; c++)
	{
		double		nearest = get_float8_infinity();

		for (int other = 0; other < k; other++)
			if (other != c)
				nearest = Min(nearest, SquaredDistance(w->centers + (Size) c * dims,
													   w->centers + (Size) other * dims, dims));
		w->half_gap[c] = 0.5 * sqrt(nearest);
		if ((c & 255) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	KMeansPackCenters(w);
	return shift;
}

/* Centres as the exact means of their rows, summed from scratch; an empty
 * cluster's centre stays where it is */
static void
KMeansMeans(KMeansWork *w)
{
	KMeansSums(w);
	for (int c = 0; c < w->k; c++)
		for (int j = 0; j < w->dims && w->counts[c] > 0; j++)
			w->centers[(Size) c * w->dims + j] = w->sums[(Size) c * w->dims + j] / w->counts[c];
}

/* The cost factors of joining and leaving cluster c at its current size */
static inline void
KMeansHartiganFactors(const KMeansWork *w, int c, double *join_factor, double *leave_factor)
{
	join_factor[c] = (double) w->counts[c] / (w->counts[c] + 1);
	leave_factor[c] = w->counts[c] > 1 ? (double) w->counts[c] / (w->counts[c] - 1) : 0.0;
}

/*
 * Hartigan's refinement (Hartigan and Wong 1979; Telgarsky and Vattani
 * 2010): move a row to another cluster whenever that lowers the inertia,
 * taking into account that both centres move with it.  Moving row x from
 * cluster a (n_a rows) to b changes the inertia by
 *   n_b / (n_b + 1) |x - c_b|^2 - n_a / (n_a - 1) |x - c_a|^2,
 * so a Lloyd fixed point that is not a local minimum of the inertia is left
 * for a better one; every Hartigan fixed point is also a Lloyd fixed point.
 * Passes repeat until no row moves (at most max_passes); the sums are kept
 * up to date with each move, and the centres are recomputed from scratch
 * before the first pass and after the last.
 *
 * Most rows cannot move, and each move shifts only two centres.  For up to
 * KMEANS_HARTIGAN_BOUNDED clusters every row keeps, per centre, a bound on
 * its distance (Elkan's bounds, Elkan 2003), stored relative to that
 * centre's total drift so far: with D_c the sum of all movements of centre
 * c, far[i][c] - D_c is a lower bound on |x_i - c| and near[i] + D_a an upper
 * bound on the distance to the own centre a.  A row is skipped when for
 * every other cluster b
 *   n_b / (n_b + 1) (far[i][b] - D_b)^2 >= n_a / (n_a - 1) (near[i] + D_a)^2.
 */
static void
KMeansHartigan(KMeansWork *w, int max_passes)
{
	const Matrix *x = w->x;
	int			dims = w->dims;
	int			k = w->k;
	bool		bounded = w->far != NULL;
	double	   *squared = palloc(w->blocks * DISTANCE_LANES * sizeof(double));
	double	   *previous = palloc(MemoryProduct(2, dims * sizeof(double)));
	double	   *drift = palloc0(k * sizeof(double));
	double	   *near = w->closest;	/* per row, relative to its centre's drift */
	double	   *join_factor = palloc(k * sizeof(double));	/* n / (n + 1) */
	double	   *leave_factor = palloc(k * sizeof(double));	/* n / (n - 1) */

	/*
	 * Start from exact distances: with k bounds per row, all distances of all
	 * rows, four rows at a time (the Lloyd bounds are loose by now); without,
	 * the bounds of the Lloyd iterations.
	 */
	if (bounded)
	{
		double	   *distances = palloc(MemoryProduct(DISTANCE_ROWS, w->blocks * DISTANCE_LANES * sizeof(double)));
		int			stride = w->blocks * DISTANCE_LANES;

		KMeansPackCenters(w);
		for (int64 i = 0; i < x->rows; i += DISTANCE_ROWS)
		{
			int			rows = (int) Min(DISTANCE_ROWS, x->rows - i);

			if ((i & (KMEANS_INTERRUPT_ROWS - 1)) == 0)
				CHECK_FOR_INTERRUPTS();
			KMeansBlockDistances(w, i, rows, distances);
			for (int r = 0; r < rows; r++)
			{
				LaneSqrtAdd(w->far + (i + r) * k, distances + r * stride, drift, k);
				near[i + r] = w->far[(i + r) * k + w->labels[i + r]];
			}
		}
		pfree(distances);
	}
	else
	{
		if (!w->bounds_valid)
		{
			double	   *all = palloc(DISTANCE_ROWS * w->blocks * DISTANCE_LANES * sizeof(double));

			KMeansAssignAll(w, all);
			pfree(all);
		}
		for (int64 i = 0; i < x->rows; i++)
		{
			if (w->bounds_pending)
				KMeansApplyMoves(w, i);
			near[i] = w->upper[i];
		}
	}
	w->bounds_pending = false;
	for (int pass = 0; pass < max_passes; pass++)
	{
		int64		moves = 0;

		/* Exact means first; their difference from the running ones is drift */
		if (pass == 0)
		{
			memcpy(w->new_centers, w->centers, (Size) k * dims * sizeof(double));
			KMeansMeans(w);
			for (int c = 0; c < k; c++)
				drift[c] += sqrt(SquaredDistance(w->new_centers + (Size) c * dims, w->centers + (Size) c * dims, dims));
			KMeansPackCenters(w);
			for (int c = 0; c < k; c++)
				KMeansHartiganFactors(w, c, join_factor, leave_factor);
		}

		for (int64 i = 0; i < x->rows; i++)
		{
			const double *row = MatrixRow(x, i);
			int			a = w->labels[i];
			double		leave;
			double		best_join;
			int			best = -1;

			if ((i & (KMEANS_INTERRUPT_ROWS - 1)) == 0)
				CHECK_FOR_INTERRUPTS();
			if (w->counts[a] <= 1)
				continue;
			if (bounded)
			{
				double		upper = near[i] + drift[a];
				double		leave_bound = upper * upper * leave_factor[a];
				const double *far = w->far + i * k;
				bool		can_move = false;

				for (int c = 0; c < k; c++)
				{
					double		lower = far[c] - drift[c];

					can_move |= c != a && (lower <= 0 || lower * lower * join_factor[c] < leave_bound);
				}
				if (!can_move)
					continue;
			}

			for (int b = 0; b < w->blocks; b++)
				DistanceToPacked(row, w->packed + (Size) b * dims * DISTANCE_LANES, dims,
								 squared + b * DISTANCE_LANES);
			leave = squared[a] * leave_factor[a];
			/* a move must gain more than rounding noise, so passes end */
			best_join = leave * (1.0 - 1e-12);
			if (bounded)
				LaneSqrtAdd(w->far + i * k, squared, drift, k);
			for (int c = 0; c < k; c++)
			{
				double		join;

				if (c == a)
					continue;
				join = squared[c] * join_factor[c];
				if (join < best_join)
				{
					best_join = join;
					best = c;
				}
			}
			if (best < 0)
			{
				near[i] = sqrt(squared[a]) - drift[a];
				continue;
			}

			/* Move the row: both sums and centres change */
			memcpy(previous, w->centers + (Size) a * dims, dims * sizeof(double));
			memcpy(previous + dims, w->centers + (Size) best * dims, dims * sizeof(double));
			KMeansMoveRow(w, i, a, best);
			for (int j = 0; j < dims; j++)
			{
				w->centers[(Size) a * dims + j] = w->sums[(Size) a * dims + j] / w->counts[a];
				w->centers[(Size) best * dims + j] = w->sums[(Size) best * dims + j] / w->counts[best];
			}
			drift[a] += sqrt(SquaredDistance(previous, w->centers + (Size) a * dims, dims));
			drift[best] += sqrt(SquaredDistance(previous + dims, w->centers + (Size) best * dims, dims));
			KMeansPackCenter(w, a);
			KMeansPackCenter(w, best);
			KMeansHartiganFactors(w, a, join_factor, leave_factor);
			KMeansHartiganFactors(w, best, join_factor, leave_factor);
			w->labels[i] = best;
			/* its distance to the new own centre, from before that centre moved */
			near[i] = sqrt(squared[best]) - (drift[best] - sqrt(SquaredDistance(previous + dims,
																				  w->centers + (Size) best * dims, dims)));
			moves++;
		}
		if (moves == 0)
			break;
	}

	/* Exact means to finish; their difference from the running ones is drift */
	memcpy(w->new_centers, w->centers, (Size) k * dims * sizeof(double));
	KMeansMeans(w);
	for (int c = 0; c < k; c++)
		drift[c] += sqrt(SquaredDistance(w->new_centers + (Size) c * dims, w->centers + (Size) c * dims, dims));
	KMeansPackCenters(w);

	/*
	 * Make every label the nearest centre.  At a Hartigan fixed point the own
	 * centre is strictly nearest, and the bounds show it for most rows; the
	 * others (and all rows without bounds) are checked with their distances.
	 */
	for (int64 i = 0; i < x->rows; i++)
	{
		int			a = w->labels[i];
		bool		certain = bounded;

		if ((i & (KMEANS_INTERRUPT_ROWS - 1)) == 0)
			CHECK_FOR_INTERRUPTS();
		if (bounded)
		{
			double		upper = near[i] + drift[a];
			const double *far = w->far + i * k;

			for (int c = 0; c < k; c++)
				certain &= c == a || far[c] - drift[c] > upper;
		}
		if (!certain)
		{
			double		best = 0.0;
			int			best_c = 0;

			for (int b = 0; b < w->blocks; b++)
				DistanceToPacked(MatrixRow(x, i), w->packed + (Size) b * dims * DISTANCE_LANES, dims,
								 squared + b * DISTANCE_LANES);
			best = squared[0];
			for (int c = 1; c < k; c++)
				if (squared[c] < best)
				{
					best = squared[c];
					best_c = c;
				}
			if (best_c != a)
			{
				KMeansMoveRow(w, i, a, best_c);
				w->labels[i] = best_c;
			}
		}
	}
	pfree(squared);
	pfree(previous);
	pfree(drift);
	pfree(join_factor);
	pfree(leave_factor);
}

/*
 * One run from the centres in w->centers; returns the inertia and sets the
 * labels and the number of Lloyd iterations.  Lloyd's iterations go on until
 * an assignment changes no label (or max_iter); a run that converged is then
 * refined with Hartigan's moves, which only lower the inertia.  Either way
 * the run ends with every label the nearest centre, so kmeans_assign agrees
 * with the labels.
 */
static double
KMeansRun(KMeansWork *w, int max_iter, bool hartigan, int *iterations)
{
	const Matrix *x = w->x;
	double	   *squared = palloc(DISTANCE_ROWS * w->blocks * DISTANCE_LANES * sizeof(double));
	bool		converged = false;
	int64		changed = x->rows;
	double		inertia = 0.0;

	for (int c = 0; c < w->k; c++)
		w->half_gap[c] = 0.0;
	KMeansPackCenters(w);
	KMeansAssignAll(w, squared);
	for (int iteration = 1;; iteration++)
	{
		int			relocated;
		KMeansUpdate(w, &relocated);
		*iterations = iteration;
		if (changed == 0 && relocated == 0)
		{
			converged = true;
			break;
		}
		if (iteration >= max_iter)
			break;
		changed = w->bounded ? KMeansAssignBounded(w, squared) : KMeansAssignPlain(w, squared);
	}
	if (converged && hartigan && w->k > 1)
		KMeansHartigan(w, max_iter);	/* ends with every label the nearest */
	else
	{
		KMeansPackCenters(w);
		KMeansAssignAll(w, squared);
	}

	for (int64 i = 0; i < x->rows; i++)
		inertia += SquaredDistance(MatrixRow(x, i), w->centers + (Size) w->labels[i] * w->dims, w->dims);
	pfree(squared);
	return inertia;
}

/* Order clusters: largest first, then by centroid coordinates */
static int
KMeansCompareClusters(const void *a, const void *b, void *arg)
{
	const KMeansModel *model = (const KMeansModel *) arg;
	int			ca = *(const int *) a;
	int			cb = *(const int *) b;
	const double *xa = model->centroids + (Size) ca * model->dims;
	const double *xb = model->centroids + (Size) cb * model->dims;
	int			order;

	if (model->sizes[ca] != model->sizes[cb])
		return model->sizes[ca] > model->sizes[cb] ? -1 : 1;
	order = VectorCompare(xa, xb, model->dims);
	return order != 0 ? order : ca - cb;
}

/* Renumber clusters canonically: 0 is the largest, ties by coordinates */
static void
KMeansCanonicalNumbers(KMeansModel *model, int64 rows)
{
	int			k = model->k;
	int		   *order = palloc(k * sizeof(int));
	int		   *rank = palloc(k * sizeof(int));
	double	   *centroids = palloc(MemoryProduct(k, model->dims * sizeof(double)));
	int64	   *sizes = palloc(k * sizeof(int64));

	for (int c = 0; c < k; c++)
		order[c] = c;
	qsort_arg(order, k, sizeof(int), KMeansCompareClusters, model);
	for (int r = 0; r < k; r++)
	{
		rank[order[r]] = r;
		memcpy(centroids + (Size) r * model->dims, model->centroids + (Size) order[r] * model->dims,
			   model->dims * sizeof(double));
		sizes[r] = model->sizes[order[r]];
	}
	for (int64 i = 0; i < rows; i++)
		model->labels[i] = rank[model->labels[i]];
	pfree(model->centroids);
	pfree(model->sizes);
	model->centroids = centroids;
	model->sizes = sizes;
	pfree(order);
	pfree(rank);
}

/* Check a fit's arguments and allocate its model (k × dims centroids, labels, sizes) */
static void
KMeansModelStart(const Matrix *x, const KMeansParams *params, KMeansModel *model)
{
	KMeansCheckParams(params, x->rows);
	model->k = params->k;
	model->dims = x->cols;
	model->centroids = palloc(MemoryProduct(params->k, x->cols * sizeof(double)));
	model->labels = MemoryAllocLarge(CurrentMemoryContext, MemoryProduct(x->rows, sizeof(int32)));
	model->sizes = palloc0(params->k * sizeof(int64));
	model->inertia = get_float8_infinity();
	model->iterations = 0;
}

/* Count each cluster's rows and number the clusters canonically */
static void
KMeansModelFinish(KMeansModel *model, int64 rows)
{
	memset(model->sizes, 0, model->k * sizeof(int64));
	for (int64 i = 0; i < rows; i++)
		model->sizes[model->labels[i]]++;
	KMeansCanonicalNumbers(model, rows);
}

/*
 * Do the runs of one fit per k of ks (n_init runs each) until none is left,
 * keeping each k's best by (inertia, run) in bests[j]: the items come from
 * *next_item, a counter shared with parallel workers, or all of them in
 * order when next_item is NULL.  Item i is run i % n_init of k =
 * ks[n_ks - 1 - i / n_init] (the largest k first, ks ascending).  A run's
 * result does not depend on the process that does it, and each k's best is
 * chosen by (inertia, run index), so the models are the same with any
 * number of workers.  bests[j].centroids and .labels must
 * hold ks[j] × dims and rows values; .run is -1 while no run is done.
 */
static void
KMeansDoRuns(const Matrix *x, const KMeansParams *params, const int *ks, int n_ks,
			 pg_atomic_uint32 *next_item, KMeansBest *bests)
{
	KMeansWork	w;
	MemoryContext fit_context = NULL;
	MemoryContext old_context = CurrentMemoryContext;
	uint32		total = (uint32) n_ks * (uint32) params->n_init;
	uint32		sequential_item = 0;
	int			work_k = -1;

	for (;;)
	{
		RandomState rng;
		int			iterations;
		double		inertia;
		uint32		item = next_item ? pg_atomic_fetch_add_u32(next_item, 1) : sequential_item++;
		int			j;
		int			run;
		KMeansBest *best;

		if (item >= total)
			break;
		/* the largest k first: its runs are the longest, so none is left to the end */
		j = n_ks - 1 - (int) (item / params->n_init);
		run = (int) (item % params->n_init);
		best = &bests[j];
		CHECK_FOR_INTERRUPTS();
		/* the working memory of a k lives in a context of its own */
		if (ks[j] != work_k)
		{
			if (fit_context != NULL)
				MemoryContextDelete(fit_context);
			fit_context = AllocSetContextCreate(old_context, "segment k-means fit", ALLOCSET_DEFAULT_SIZES);
			MemoryContextSwitchTo(fit_context);
			KMeansWorkInit(&w, x, ks[j]);
			work_k = ks[j];
		}
		RandomSeed(&rng, params->seed, (uint64) run);
		KMeansPlusPlus(&w, &rng);
		inertia = KMeansRun(&w, params->max_iter, true, &iterations);
		if (best->run < 0 || inertia < best->inertia || (inertia == best->inertia && run < best->run))
		{
			best->inertia = inertia;
			best->run = run;
			best->iterations = iterations;
			memcpy(best->centroids, w.centers, (Size) ks[j] * x->cols * sizeof(double));
			memcpy(best->labels, w.labels, x->rows * sizeof(int32));
		}
	}

	MemoryContextSwitchTo(old_context);
	if (fit_context != NULL)
		MemoryContextDelete(fit_context);
}

/*
 * The runs in parallel workers.  The n_init runs of a fit, and the fits of
 * the candidate k of an elbow or an evaluation, are independent, so they are
 * spread over parallel workers as the parallel B-tree build does (nbtsort.c):
 * the leader enters parallel mode, creates a ParallelContext, copies the
 * sorted matrix into its dynamic shared memory, launches the workers and
 * takes runs itself too.  Every participant takes (k, run) items from one
 * shared counter and keeps the best run of each k in a slot of its own; the
 * leader then picks each k's best slot by (inertia, run index).  A run's
 * result does not depend on the process that does it, so each model is the
 * same bits with any number of workers, and the same as in one process.
 * Each participant needs the working memory of a fit, within
 * maintenance_work_mem; workers get plain data only (no catalog access),
 * check for interrupts like the leader, and their errors reach the caller
 * with their SQLSTATE through the ParallelContext.  When no worker can be
 * launched, the leader does every run.
 */

/* Keys of the shared memory table of contents */
#define PARALLEL_KEY_KMEANS_SHARED	UINT64CONST(0x5E6D000000000001)
#define PARALLEL_KEY_KMEANS_MATRIX	UINT64CONST(0x5E6D000000000002)
#define PARALLEL_KEY_KMEANS_SLOTS	UINT64CONST(0x5E6D000000000003)
#define PARALLEL_KEY_KMEANS_KS		UINT64CONST(0x5E6D000000000004)

/*
 * Workers pay when the runs together do about this many multiply-adds per
 * Lloyd iteration (rows × dims × k × n_init): below it, starting a worker
 * costs what one process spends on all the runs (docs/performance.md,
 * "Thresholds").
 */
#define PARALLEL_MIN_WORK 10000000.0

/* What every participant reads: the problem and the (k, run) item counter */
typedef struct KMeansShared
{
	int64		rows;
	int			cols;
	KMeansParams params;		/* n_init, max_iter, tol, seed */
	int			n_ks;			/* the k of the fits follow under their own key */
	Size		slot_size;		/* room for the largest k */
	pg_atomic_uint32 next_item;
} KMeansShared;

/* The head of a participant's slot; its centroids and labels follow */
typedef struct KMeansSlot
{
	double		inertia;
	int			run;			/* -1: no run */
	int			iterations;
} KMeansSlot;

PGDLLEXPORT void segment_kmeans_worker(dsm_segment *seg, shm_toc *toc);

/* Byte offsets of a slot's centroids and labels */
#define SLOT_CENTROIDS_OFFSET MAXALIGN(sizeof(KMeansSlot))
#define SLOT_LABELS_OFFSET(k, dims) (SLOT_CENTROIDS_OFFSET + MAXALIGN((Size) (k) * (dims) * sizeof(double)))

/* The slot of participant p for the fit of the j-th k */
static inline KMeansSlot *
KMeansSlotAt(char *slots, Size slot_size, int n_ks, int p, int j)
{
	return (KMeansSlot *) (slots + ((Size) p * n_ks + j) * slot_size);
}

/* A KMeansBest that writes into a slot */
static KMeansBest
KMeansBestInSlot(KMeansSlot *slot, int k, int dims)
{
	KMeansBest	best;

	best.inertia = 0;
	best.run = -1;
	best.iterations = 0;
	best.centroids = (double *) ((char *) slot + SLOT_CENTROIDS_OFFSET);
	best.labels = (int32 *) ((char *) slot + SLOT_LABELS_OFFSET(k, dims));
	return best;
}

/* Record a participant's best run in the head of its slot */
static void
KMeansSlotStore(KMeansSlot *slot, const KMeansBest *best)
{
	slot->inertia = best->inertia;
	slot->run = best->run;
	slot->iterations = best->iterations;
}

/*
 * How many workers the fits of ks get: max_parallel_maintenance_workers, one
 * item each at least besides the leader's, as many as maintenance_work_mem
 * holds the working memory of, none for small problems or inside a worker
 */
static int
KMeansWorkersFor(const Matrix *x, const KMeansParams *params, const int *ks, int n_ks)
{
	int			k_max = 1;
	double		work = 0.0;
	double		per_participant;
	double		budget = (double) maintenance_work_mem * 1024.0;
	int			workers = ParallelWorkersWanted();

	if (!ParallelWorkersAllowed())
		return 0;
	for (int j = 0; j < n_ks; j++)
	{
		k_max = Max(k_max, ks[j]);
		work += (double) x->rows * x->cols * ks[j] * params->n_init;
	}
	if (work < PARALLEL_MIN_WORK)
		return 0;
	per_participant = (double) x->rows * KMEANS_EXTRA_PER_ROW(k_max);
	workers = (int) Min((double) workers, (double) n_ks * params->n_init - 1);
	/* the leader's own fit memory was checked when it read its source */
	workers = (int) Min((double) workers, Max(0.0, floor(budget / per_participant) - 1));
	return Max(workers, 0);
}

/*
 * The runs of the fits of ks with parallel workers; false when none would
 * pay or can be had before launching (then the caller does the runs
 * itself).  On true, bests[j] holds the best run of ks[j]: its inertia, run,
 * iterations, centroids and labels.
 */
static bool
KMeansFitParallel(const Matrix *x, const KMeansParams *params, const int *ks, int n_ks, KMeansBest *bests)
{
	int			workers = KMeansWorkersFor(x, params, ks, n_ks);
	int			dims = x->cols;
	int			k_max = 1;
	Size		matrix_size;
	Size		slot_size;
	Size		slots_size;
	ParallelContext *pcxt;
	KMeansShared *shared;
	double	   *matrix;
	int		   *shared_ks;
	char	   *slots;
	KMeansBest *leader_bests;
	int			participants;

	if (workers <= 0)
		return false;
	for (int j = 0; j < n_ks; j++)
		k_max = Max(k_max, ks[j]);
	participants = workers + 1;
	matrix_size = MemoryProduct(x->rows, MemoryProduct(dims, sizeof(double)));
	slot_size = SLOT_LABELS_OFFSET(k_max, dims) + MAXALIGN(MemoryProduct(x->rows, sizeof(int32)));
	slots_size = MemoryProduct(MemoryProduct(participants, n_ks), slot_size);

	EnterParallelMode();
	pcxt = CreateParallelContext("segment", "segment_kmeans_worker", workers);
	shm_toc_estimate_chunk(&pcxt->estimator, sizeof(KMeansShared));
	shm_toc_estimate_chunk(&pcxt->estimator, matrix_size);
	shm_toc_estimate_chunk(&pcxt->estimator, n_ks * sizeof(int));
	shm_toc_estimate_chunk(&pcxt->estimator, slots_size);
	shm_toc_estimate_keys(&pcxt->estimator, 4);
	InitializeParallelDSM(pcxt);
	if (pcxt->seg == NULL)
	{
		/* no dynamic shared memory to be had: one process it is */
		DestroyParallelContext(pcxt);
		ExitParallelMode();
		return false;
	}

	shared = shm_toc_allocate(pcxt->toc, sizeof(KMeansShared));
	shared->rows = x->rows;
	shared->cols = dims;
	shared->params = *params;
	shared->n_ks = n_ks;
	shared->slot_size = slot_size;
	pg_atomic_init_u32(&shared->next_item, 0);
	shm_toc_insert(pcxt->toc, PARALLEL_KEY_KMEANS_SHARED, shared);
	matrix = shm_toc_allocate(pcxt->toc, matrix_size);
	memcpy(matrix, x->values, matrix_size);
	shm_toc_insert(pcxt->toc, PARALLEL_KEY_KMEANS_MATRIX, matrix);
	shared_ks = shm_toc_allocate(pcxt->toc, n_ks * sizeof(int));
	memcpy(shared_ks, ks, n_ks * sizeof(int));
	shm_toc_insert(pcxt->toc, PARALLEL_KEY_KMEANS_KS, shared_ks);
	slots = shm_toc_allocate(pcxt->toc, slots_size);
	for (int p = 0; p < participants; p++)
		for (int j = 0; j < n_ks; j++)
			KMeansSlotAt(slots, slot_size, n_ks, p, j)->run = -1;
	shm_toc_insert(pcxt->toc, PARALLEL_KEY_KMEANS_SLOTS, slots);

	LaunchParallelWorkers(pcxt);

	/* the leader takes items too, into the slots of participant 0 */
	leader_bests = palloc(n_ks * sizeof(KMeansBest));
	for (int j = 0; j < n_ks; j++)
		leader_bests[j] = KMeansBestInSlot(KMeansSlotAt(slots, slot_size, n_ks, 0, j), ks[j], dims);
	KMeansDoRuns(x, params, ks, n_ks, &shared->next_item, leader_bests);
	for (int j = 0; j < n_ks; j++)
		KMeansSlotStore(KMeansSlotAt(slots, slot_size, n_ks, 0, j), &leader_bests[j]);
	WaitForParallelWorkersToFinish(pcxt);

	/* each k's best slot by (inertia, run index): the run one process would keep */
	for (int j = 0; j < n_ks; j++)
	{
		KMeansSlot *winner = NULL;
		KMeansBest	found;

		for (int p = 0; p < participants; p++)
		{
			KMeansSlot *slot = KMeansSlotAt(slots, slot_size, n_ks, p, j);

			if (slot->run < 0)
				continue;
			if (winner == NULL || slot->inertia < winner->inertia ||
				(slot->inertia == winner->inertia && slot->run < winner->run))
				winner = slot;
		}
		if (winner == NULL)
			elog(ERROR, "no k-means run of k = %d finished", ks[j]);
		found = KMeansBestInSlot(winner, ks[j], dims);
		bests[j].inertia = winner->inertia;
		bests[j].run = winner->run;
		bests[j].iterations = winner->iterations;
		memcpy(bests[j].centroids, found.centroids, (Size) ks[j] * dims * sizeof(double));
		memcpy(bests[j].labels, found.labels, x->rows * sizeof(int32));
	}
	pfree(leader_bests);

	DestroyParallelContext(pcxt);
	ExitParallelMode();
	return true;
}

/* The entry point of a worker: take (k, run) items until none is left */
void
segment_kmeans_worker(dsm_segment *seg, shm_toc *toc)
{
	KMeansShared *shared = shm_toc_lookup(toc, PARALLEL_KEY_KMEANS_SHARED, false);
	double	   *matrix = shm_toc_lookup(toc, PARALLEL_KEY_KMEANS_MATRIX, false);
	int		   *ks = shm_toc_lookup(toc, PARALLEL_KEY_KMEANS_KS, false);
	char	   *slots = shm_toc_lookup(toc, PARALLEL_KEY_KMEANS_SLOTS, false);
	int			n_ks = shared->n_ks;
	int			p = ParallelWorkerNumber + 1;
	KMeansBest *bests = palloc(n_ks * sizeof(KMeansBest));
	Matrix		x;

	x.rows = shared->rows;
	x.cols = shared->cols;
	x.values = matrix;
	for (int j = 0; j < n_ks; j++)
		bests[j] = KMeansBestInSlot(KMeansSlotAt(slots, shared->slot_size, n_ks, p, j), ks[j], shared->cols);
	KMeansDoRuns(&x, &shared->params, ks, n_ks, &shared->next_item, bests);
	for (int j = 0; j < n_ks; j++)
		KMeansSlotStore(KMeansSlotAt(slots, shared->slot_size, n_ks, p, j), &bests[j]);
}


/*
 * Fit k-means on canonical data for each k of ks: n_init runs seeded (seed,
 * run), the best by inertia (the first on ties), clusters numbered
 * canonically; models[j] is the model of ks[j], the same as a fit of that k
 * alone.  The runs of all the fits go to parallel workers together when
 * there are several and enough rows (KMeansFitParallel).
 */
void
KMeansFitMany(const KMeansData *data, const KMeansParams *params, const int *ks, int n_ks, KMeansModel *models)
{
	const Matrix *x = &data->x;
	KMeansBest *bests;

	/* the runs are counted in 32 bits, with room for every participant's last take */
	if ((uint64) n_ks * (uint64) params->n_init > KMEANS_MAX_RUNS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many k-means runs: %d values of k times n_init %d is above %d",
						n_ks, params->n_init, KMEANS_MAX_RUNS)));
	bests = palloc(n_ks * sizeof(KMeansBest));
	for (int j = 0; j < n_ks; j++)
	{
		KMeansParams one = *params;

		one.k = ks[j];
		KMeansModelStart(x, &one, &models[j]);
		bests[j].inertia = get_float8_infinity();
		bests[j].run = -1;
		bests[j].iterations = 0;
		bests[j].centroids = models[j].centroids;
		bests[j].labels = models[j].labels;
	}
	/* the runs, spread over parallel workers when they pay */
	if (!KMeansFitParallel(x, params, ks, n_ks, bests))
		KMeansDoRuns(x, params, ks, n_ks, NULL, bests);
	for (int j = 0; j < n_ks; j++)
	{
		models[j].inertia = bests[j].inertia;
		models[j].iterations = bests[j].iterations;
		KMeansModelFinish(&models[j], x->rows);
	}
	pfree(bests);
}

/* Fit k-means on canonical data for params->k (see KMeansFitMany) */
void
KMeansFit(const KMeansData *data, const KMeansParams *params, KMeansModel *model)
{
	KMeansFitMany(data, params, &params->k, 1, model);
}

/*
 * Lloyd's iterations on canonical data from the given centres (k × dims),
 * at most params->max_iter of them: a warm start, as a refresh refits from
 * the previous model.  No Hartigan refinement: its moves are what carries a
 * warm start away from the segments it started from.  Clusters are
 * numbered canonically.
 */
void
KMeansFitFrom(const KMeansData *data, const KMeansParams *params, const double *centers,
			  KMeansModel *model)
{
	const Matrix *x = &data->x;
	KMeansWork	w;
	int			dims = x->cols;
	MemoryContext fit_context;
	MemoryContext old_context;

	KMeansModelStart(x, params, model);
	fit_context = AllocSetContextCreate(CurrentMemoryContext, "segment k-means fit",
										ALLOCSET_DEFAULT_SIZES);
	old_context = MemoryContextSwitchTo(fit_context);
	KMeansWorkInit(&w, x, params->k);
	memcpy(w.centers, centers, (Size) params->k * dims * sizeof(double));
	model->inertia = KMeansRun(&w, params->max_iter, false, &model->iterations);
	memcpy(model->centroids, w.centers, (Size) params->k * dims * sizeof(double));
	memcpy(model->labels, w.labels, x->rows * sizeof(int32));
	MemoryContextSwitchTo(old_context);
	MemoryContextDelete(fit_context);
	KMeansModelFinish(model, x->rows);
}


/* The nearest centroid (lowest number on ties) and its squared distance */
int
KMeansNearest(const double *centroids, int k, int dims, const double *x, double *squared_distance)
{
	int			best = 0;
	double		best_distance = SquaredDistance(x, centroids, dims);

	for (int c = 1; c < k; c++)
	{
		double		d = SquaredDistance(x, centroids + (Size) c * dims, dims);

		if (d < best_distance)
		{
			best_distance = d;
			best = c;
		}
	}
	*squared_distance = best_distance;
	return best;
}
