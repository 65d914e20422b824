/*-------------------------------------------------------------------------
 *
 * metrics.c
 *	  Scores of a clustering: silhouette (exact and sampled),
 *	  silhouette_samples, davies_bouldin and calinski_harabasz
 *
 * Each takes a source of (row id, float8[] vector, integer cluster) and
 * returns the value scikit-learn's function of the same name returns for
 * those vectors and labels.
 *
 * The silhouette (Rousseeuw 1987) of a row is (b - a) / max(a, b), with a
 * its mean distance to the other rows of its cluster and b the smallest mean
 * distance to the rows of another cluster; 0 for a row alone in its cluster.
 * Computing it exactly needs every pairwise distance, O(n^2 d).  The loops
 * below visit each unordered pair once (the distance matrix is symmetric),
 * in cache-sized tiles of rows grouped by cluster, and add each distance to
 * per-row, per-cluster sums; the distance kernels are those of k-means.
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/parallel.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/shm_toc.h"
#include "utils/float.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "compat.h"
#include "distance.h"
#include "metrics.h"
#include "parallel.h"
#include "random.h"
#include "source.h"

/* Rows of the column tile kept in cache while the rows stream past */
#define SILHOUETTE_TILE_BYTES (256 * 1024)

/* Chunks of column tiles whose sums are added in order (see SilhouetteSums) */
#define SILHOUETTE_CHUNKS 8

/* A source's rows grouped by cluster, clusters numbered 0 .. n_labels - 1 */
typedef struct LabeledRows
{
	Matrix		x;				/* rows, grouped by label */
	int32	   *labels;			/* per row */
	int64	   *ids;			/* per row (integer ids only) */
	int64	   *values;			/* per label: the source's cluster number */
	int64	   *sizes;			/* per label: rows */
	int			n_labels;
} LabeledRows;

/*
 * Order row positions by cluster number, then by vector: a canonical order,
 * so sums over the rows do not depend on the order of the source
 */
static int
MetricsCompareClusters(const void *a, const void *b, void *arg)
{
	const SourceData *source = (const SourceData *) arg;
	int64		ra = *(const int64 *) a;
	int64		rb = *(const int64 *) b;
	const double *xa = MatrixRow(&source->x, ra);
	const double *xb = MatrixRow(&source->x, rb);

	if (source->clusters[ra] != source->clusters[rb])
		return source->clusters[ra] < source->clusters[rb] ? -1 : 1;
	return VectorCompare(xa, xb, source->x.cols);
}

/* MetricsSortByCluster: positions sorted by MetricsCompareClusters, interruptible */
#define ST_SORT MetricsSortByCluster
#define ST_ELEMENT_TYPE int64
#define ST_COMPARE_ARG_TYPE void
#define ST_COMPARE(a, b, arg) MetricsCompareClusters((a), (b), (arg))
#define ST_SCOPE static
#define ST_DEFINE
#define ST_CHECK_FOR_INTERRUPTS
#include "lib/sort_template.h"

/*
 * Group the rows picked by positions (count of them) by cluster into out,
 * numbering clusters densely in the order of their numbers.
 */
static void
MetricsGroup(const SourceData *source, int64 *positions, int64 count, LabeledRows *out)
{
	int			dims = source->x.cols;

	MetricsSortByCluster(positions, count, (void *) source);
	out->x.rows = count;
	out->x.cols = dims;
	out->x.values = MemoryAllocLarge(CurrentMemoryContext,
										   MemoryProduct(count, MemoryProduct(dims, sizeof(double))));
	out->labels = MemoryAllocLarge(CurrentMemoryContext, MemoryProduct(count, sizeof(int32)));
	out->ids = source->ids ? MemoryAllocLarge(CurrentMemoryContext, MemoryProduct(count, sizeof(int64))) : NULL;
	out->n_labels = 0;
	for (int64 i = 0; i < count; i++)
	{
		int64		p = positions[i];

		if (i == 0 || source->clusters[p] != source->clusters[positions[i - 1]])
			out->n_labels++;
		out->labels[i] = out->n_labels - 1;
		memcpy(MatrixRow(&out->x, i), MatrixRow(&source->x, p), dims * sizeof(double));
		if (out->ids)
			out->ids[i] = source->ids[p];
	}
	out->values = palloc(out->n_labels * sizeof(int64));
	out->sizes = palloc0(out->n_labels * sizeof(int64));
	for (int64 i = 0; i < count; i++)
	{
		out->values[out->labels[i]] = source->clusters[positions[i]];
		out->sizes[out->labels[i]]++;
	}
}

/* Free what MetricsGroup allocated */
static void
MetricsFreeRows(LabeledRows *rows)
{
	pfree(rows->x.values);
	pfree(rows->labels);
	if (rows->ids)
		pfree(rows->ids);
	pfree(rows->values);
	pfree(rows->sizes);
}

/* Group all the rows of a scored source by cluster */
static void
MetricsGroupAll(const SourceData *source, LabeledRows *out)
{
	int64	   *positions = MemoryAllocLarge(CurrentMemoryContext, MemoryProduct(source->x.rows, sizeof(int64)));

	for (int64 i = 0; i < source->x.rows; i++)
		positions[i] = i;
	MetricsGroup(source, positions, source->x.rows, out);
	pfree(positions);
}

/* Read a scored source (its rows are grouped by cluster after) */
static void
MetricsRead(text *source_text, const char *function, bool integer_ids, Size extra_per_row,
			SourceData *source)
{
	SourceOptions options;

	options.function = function;
	options.integer_ids = integer_ids;
	options.clusters = true;
	options.extra_per_row = sizeof(int64) + sizeof(int32) + (integer_ids ? sizeof(int64) : 0) + extra_per_row;
	options.extra_per_dim = sizeof(double);
	SourceRead(source_text, &options, source);
}

/* scikit-learn's check_number_of_labels: 2 <= clusters <= rows - 1 */
static void
MetricsCheckLabels(const LabeledRows *rows, const char *function)
{
	if (rows->n_labels < 2 || rows->n_labels > rows->x.rows - 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("segment.%s needs between 2 and the number of rows - 1 clusters", function),
				 errdetail("The source has %d clusters in " INT64_FORMAT " rows.",
						   rows->n_labels, rows->x.rows)));
}

/* Add one pair's distance to both rows' per-cluster sums */
static inline void
SilhouetteAddPair(double *sums, int n_labels, const int32 *labels, int64 i, int64 j, double distance)
{
	sums[i * n_labels + labels[j]] += distance;
	sums[j * n_labels + labels[i]] += distance;
}

/* Blocks of DISTANCE_LANES columns in one cache-sized column tile */
static int64
SilhouetteTileBlocks(int dims)
{
	return Max(1, SILHOUETTE_TILE_BYTES / (DISTANCE_LANES * dims * (int64) sizeof(double)));
}

/* Bytes of the columns of x packed in blocks of DISTANCE_LANES */
static Size
SilhouettePackedSize(const Matrix *x)
{
	int64		blocks = (x->rows + DISTANCE_LANES - 1) / DISTANCE_LANES;

	return MemoryProduct(blocks, MemoryProduct(x->cols, DISTANCE_LANES * sizeof(double)));
}

/* Pack the columns of x in blocks of DISTANCE_LANES for the kernels */
static void
SilhouettePackInto(const Matrix *x, double *packed)
{
	int64		n = x->rows;
	int			dims = x->cols;

	for (int64 b = 0; b * DISTANCE_LANES < n; b++)
		DistancePack(MatrixRow(x, b * DISTANCE_LANES), (int) Min(DISTANCE_LANES, n - b * DISTANCE_LANES),
					 dims, packed + b * dims * DISTANCE_LANES);
}

/*
 * The first column tile of chunk c of chunks: the pairs are split into
 * chunks of column tiles of about equal work (tile t pairs its columns with
 * every earlier row, so the work up to tile t grows as t^2)
 */
static int64
SilhouetteChunkStart(int64 tiles, int chunks, int c)
{
	return (int64) floor((double) tiles * sqrt((double) c / chunks));
}

/*
 * Add to sums[i * n_labels + c] the distances from row i to the rows of
 * cluster c that pair with it in the column tiles first_tile .. last_tile
 * - 1, each unordered pair once.  Within a tile, blocks of DISTANCE_ROWS
 * rows against packed blocks of DISTANCE_LANES columns.  Where a block's
 * rows all share a cluster and so does a run of blocks of columns (the
 * usual case, rows being grouped by cluster), the kernel returns each row's
 * total over the run, added to its sum, and adds each column's total to a
 * sum per column and cluster of the rows, folded into the sums at the end;
 * the same additions in the same order whoever computes the chunk.
 */
static void
SilhouetteChunkSums(const Matrix *x, const int32 *labels, int n_labels, const double *packed,
					int64 first_tile, int64 last_tile, double *sums)
{
	int64		n = x->rows;
	int			dims = x->cols;
	int			L = n_labels;
	int64		blocks = (n + DISTANCE_LANES - 1) / DISTANCE_LANES;
	int64		tile = SilhouetteTileBlocks(dims);
	double	   *last_rows = palloc0(MemoryProduct(DISTANCE_ROWS, dims * sizeof(double)));
	double		block[DISTANCE_ROWS * DISTANCE_LANES];
	/* per cluster of the rows, per column: the totals of the uniform runs */
	double	   *column_sums = MemoryContextAllocExtended(CurrentMemoryContext,
														 MemoryProduct(n, MemoryProduct(L, sizeof(double))),
														 MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);

	for (int64 t = first_tile; t < last_tile; t++)
	{
		int64		tile_start = t * tile;
		int64		tile_end = Min(blocks, tile_start + tile);
		int64		row_end = Min(n, tile_end * DISTANCE_LANES);

		for (int64 i0 = 0; i0 < row_end; i0 += DISTANCE_ROWS)
		{
			int			row_count = (int) Min(DISTANCE_ROWS, n - i0);
			const double *x0 = MatrixRow(x, i0);
			bool		rows_uniform = row_count == DISTANCE_ROWS && labels[i0] == labels[i0 + DISTANCE_ROWS - 1];
			int64		first_block = Max(tile_start, i0 / DISTANCE_LANES);

			if ((i0 & 1023) == 0)
				CHECK_FOR_INTERRUPTS();
			if (row_count < DISTANCE_ROWS)
			{
				memcpy(last_rows, x0, (Size) row_count * dims * sizeof(double));
				x0 = last_rows;
			}
			for (int64 b = first_block; b < tile_end;)
			{
				int64		j0 = b * DISTANCE_LANES;
				int			lanes = (int) Min(DISTANCE_LANES, n - j0);

				if (rows_uniform && lanes == DISTANCE_LANES && j0 >= i0 + DISTANCE_ROWS &&
					labels[j0] == labels[j0 + DISTANCE_LANES - 1])
				{
					/* a run of full blocks of one cluster: totals in the kernel */
					int			row_label = labels[i0];
					int			column_label = labels[j0];
					int64		run_end = b + 1;
					double		row_totals[DISTANCE_ROWS];

					while (run_end < tile_end && (run_end + 1) * DISTANCE_LANES <= n &&
						   labels[run_end * DISTANCE_LANES + DISTANCE_LANES - 1] == column_label)
						run_end++;
					DistanceRootTotals(x0, dims, packed + b * dims * DISTANCE_LANES, run_end - b, row_totals,
									   column_sums + (Size) row_label * n + j0);
					for (int r = 0; r < DISTANCE_ROWS; r++)
						sums[(i0 + r) * L + column_label] += row_totals[r];
					b = run_end;
					continue;
				}
				DistanceBlock(x0, dims, packed + b * dims * DISTANCE_LANES, block);
				DistanceBlockRoot(block);
				for (int r = 0; r < row_count; r++)
					for (int l = 0; l < lanes; l++)
						if (j0 + l > i0 + r)
							SilhouetteAddPair(sums, L, labels, i0 + r, j0 + l, block[r * DISTANCE_LANES + l]);
				b++;
			}
		}
	}
	/* the columns' totals, per cluster of their rows, into the rows' sums */
	for (int c = 0; c < L; c++)
		for (int64 j = 0; j < n; j++)
			sums[j * L + c] += column_sums[(Size) c * n + j];
	pfree(column_sums);
	pfree(last_rows);
}

/*
 * The chunks of a silhouette in parallel workers: the leader copies the
 * grouped rows and their packed blocks into dynamic shared memory, and every
 * participant (the leader too) takes chunks from one counter and sums each
 * into an array of its own; the leader adds the arrays in chunk order, as
 * one process does.
 */

/* Keys of the shared memory table of contents */
#define PARALLEL_KEY_SILHOUETTE_SHARED	UINT64CONST(0x5E6D000000000011)
#define PARALLEL_KEY_SILHOUETTE_MATRIX	UINT64CONST(0x5E6D000000000012)
#define PARALLEL_KEY_SILHOUETTE_LABELS	UINT64CONST(0x5E6D000000000013)
#define PARALLEL_KEY_SILHOUETTE_PACKED	UINT64CONST(0x5E6D000000000014)
#define PARALLEL_KEY_SILHOUETTE_CHUNKS	UINT64CONST(0x5E6D000000000015)

/*
 * Silhouettes pay workers from this many multiply-adds (rows^2 × dims): a
 * fraction of a second of one process, well beyond a worker's start-up
 * (docs/performance.md, "Thresholds")
 */
#define PARALLEL_MIN_SILHOUETTE_WORK 2000000000.0

/* What every participant of a silhouette reads: the problem and the chunk counter */
typedef struct SilhouetteShared
{
	int64		rows;
	int			cols;
	int			n_labels;
	int64		tiles;
	int			chunks;
	pg_atomic_uint32 next_chunk;
} SilhouetteShared;

PGDLLEXPORT void segment_silhouette_worker(dsm_segment *seg, shm_toc *toc);

/*
 * How many workers a silhouette gets: segment's share of
 * max_parallel_maintenance_workers (ParallelWorkersWanted), none for small
 * problems, inside a worker, or when the chunks' sums outgrow
 * maintenance_work_mem
 */
static int
SilhouetteWorkersFor(const Matrix *x, int chunks, Size chunk_bytes)
{
	int			workers = Min(ParallelWorkersWanted(), chunks - 1);

	if (!ParallelWorkersAllowed())
		return 0;
	if ((double) x->rows * x->rows * x->cols < PARALLEL_MIN_SILHOUETTE_WORK)
		return 0;
	/* the chunks' sums live in shared memory: within maintenance_work_mem */
	if ((double) chunks * chunk_bytes > (double) maintenance_work_mem * 1024.0)
		return 0;
	return Max(workers, 0);
}

/* Take chunks until none is left, each summed from zero into its array */
static void
SilhouetteDoChunks(SilhouetteShared *shared, const Matrix *x, const int32 *labels, const double *packed,
				   double *chunk_sums)
{
	Size		count = (Size) shared->rows * shared->n_labels;

	for (;;)
	{
		int			c = (int) pg_atomic_fetch_add_u32(&shared->next_chunk, 1);
		double	   *sums;

		if (c >= shared->chunks)
			break;
		sums = chunk_sums + (Size) c * count;
		memset(sums, 0, count * sizeof(double));
		SilhouetteChunkSums(x, labels, shared->n_labels, packed,
							SilhouetteChunkStart(shared->tiles, shared->chunks, c),
							SilhouetteChunkStart(shared->tiles, shared->chunks, c + 1), sums);
	}
}

/*
 * The per-row, per-cluster distance sums of a silhouette with parallel
 * workers; false when none would pay or can be had (then the caller sums in
 * one process, with the same additions in the same order)
 */
static bool
SilhouetteSumsParallel(const Matrix *x, const int32 *labels, int n_labels, int64 tiles, int chunks, double *sums)
{
	Size		count = MemoryProduct(x->rows, n_labels);
	Size		chunk_bytes = MemoryProduct(count, sizeof(double));
	int			workers = SilhouetteWorkersFor(x, chunks, chunk_bytes);
	Size		matrix_size;
	Size		labels_size;
	Size		packed_size;
	Size		chunks_size;
	ParallelContext *pcxt;
	SilhouetteShared *shared;
	double	   *matrix;
	int32	   *shared_labels;
	double	   *packed;
	double	   *chunk_sums;
	Matrix		shared_x;

	if (workers <= 0)
		return false;
	matrix_size = MemoryProduct(x->rows, MemoryProduct(x->cols, sizeof(double)));
	labels_size = MemoryProduct(x->rows, sizeof(int32));
	packed_size = SilhouettePackedSize(x);
	chunks_size = MemoryProduct(chunks, chunk_bytes);

	EnterParallelMode();
	pcxt = CreateParallelContext("segment", "segment_silhouette_worker", workers);
	shm_toc_estimate_chunk(&pcxt->estimator, sizeof(SilhouetteShared));
	shm_toc_estimate_chunk(&pcxt->estimator, matrix_size);
	shm_toc_estimate_chunk(&pcxt->estimator, labels_size);
	shm_toc_estimate_chunk(&pcxt->estimator, packed_size);
	shm_toc_estimate_chunk(&pcxt->estimator, chunks_size);
	shm_toc_estimate_keys(&pcxt->estimator, 5);
	InitializeParallelDSM(pcxt);
	if (pcxt->seg == NULL)
	{
		DestroyParallelContext(pcxt);
		ExitParallelMode();
		return false;
	}

	shared = shm_toc_allocate(pcxt->toc, sizeof(SilhouetteShared));
	shared->rows = x->rows;
	shared->cols = x->cols;
	shared->n_labels = n_labels;
	shared->tiles = tiles;
	shared->chunks = chunks;
	pg_atomic_init_u32(&shared->next_chunk, 0);
	shm_toc_insert(pcxt->toc, PARALLEL_KEY_SILHOUETTE_SHARED, shared);
	matrix = shm_toc_allocate(pcxt->toc, matrix_size);
	memcpy(matrix, x->values, matrix_size);
	shm_toc_insert(pcxt->toc, PARALLEL_KEY_SILHOUETTE_MATRIX, matrix);
	shared_labels = shm_toc_allocate(pcxt->toc, labels_size);
	memcpy(shared_labels, labels, labels_size);
	shm_toc_insert(pcxt->toc, PARALLEL_KEY_SILHOUETTE_LABELS, shared_labels);
	packed = shm_toc_allocate(pcxt->toc, packed_size);
	SilhouettePackInto(x, packed);
	shm_toc_insert(pcxt->toc, PARALLEL_KEY_SILHOUETTE_PACKED, packed);
	chunk_sums = shm_toc_allocate(pcxt->toc, chunks_size);
	shm_toc_insert(pcxt->toc, PARALLEL_KEY_SILHOUETTE_CHUNKS, chunk_sums);

	LaunchParallelWorkers(pcxt);
	shared_x.rows = x->rows;
	shared_x.cols = x->cols;
	shared_x.values = matrix;
	SilhouetteDoChunks(shared, &shared_x, shared_labels, packed, chunk_sums);
	WaitForParallelWorkersToFinish(pcxt);

	/* the chunks' sums in chunk order, as one process adds them */
	memset(sums, 0, chunk_bytes);
	for (int c = 0; c < chunks; c++)
	{
		const double *chunk = chunk_sums + (Size) c * count;

		CHECK_FOR_INTERRUPTS();
		for (Size i = 0; i < count; i++)
			sums[i] += chunk[i];
	}

	DestroyParallelContext(pcxt);
	ExitParallelMode();
	return true;
}

/* The entry point of a silhouette worker: take chunks until none is left */
void
segment_silhouette_worker(dsm_segment *seg, shm_toc *toc)
{
	SilhouetteShared *shared = shm_toc_lookup(toc, PARALLEL_KEY_SILHOUETTE_SHARED, false);
	Matrix		x;

	x.rows = shared->rows;
	x.cols = shared->cols;
	x.values = shm_toc_lookup(toc, PARALLEL_KEY_SILHOUETTE_MATRIX, false);
	SilhouetteDoChunks(shared, &x, shm_toc_lookup(toc, PARALLEL_KEY_SILHOUETTE_LABELS, false),
					   shm_toc_lookup(toc, PARALLEL_KEY_SILHOUETTE_PACKED, false),
					   shm_toc_lookup(toc, PARALLEL_KEY_SILHOUETTE_CHUNKS, false));
}


/*
 * sums[i * n_labels + c] = sum of the distances from row i to the other
 * rows of cluster c.  The pairs are taken in SILHOUETTE_CHUNKS chunks of
 * column tiles, each summed from zero, and the chunks' sums are added in
 * chunk order: the same additions in the same order whether the chunks
 * are computed here one after the other or by parallel workers
 * (SilhouetteSumsParallel), so the result is the same bits either way.
 */
static void
SilhouetteSums(const LabeledRows *rows, double *sums)
{
	const Matrix *x = &rows->x;
	Size		count = (Size) x->rows * rows->n_labels;
	int64		blocks = (x->rows + DISTANCE_LANES - 1) / DISTANCE_LANES;
	int64		tile = SilhouetteTileBlocks(x->cols);
	int64		tiles = (blocks + tile - 1) / tile;
	int			chunks = (int) Min(SILHOUETTE_CHUNKS, tiles);
	double	   *packed;
	double	   *chunk_sums;

	if (SilhouetteSumsParallel(x, rows->labels, rows->n_labels, tiles, chunks, sums))
		return;
	packed = MemoryAllocLarge(CurrentMemoryContext, SilhouettePackedSize(x));
	SilhouettePackInto(x, packed);
	chunk_sums = MemoryAllocLarge(CurrentMemoryContext, MemoryProduct(count, sizeof(double)));
	MemSetAligned(sums, 0, count * sizeof(double));
	for (int c = 0; c < chunks; c++)
	{
		MemSetAligned(chunk_sums, 0, count * sizeof(double));
		SilhouetteChunkSums(x, rows->labels, rows->n_labels, packed,
							SilhouetteChunkStart(tiles, chunks, c), SilhouetteChunkStart(tiles, chunks, c + 1), chunk_sums);
		for (Size i = 0; i < count; i++)
			sums[i] += chunk_sums[i];
	}
	pfree(chunk_sums);
	pfree(packed);
}

/* Silhouette of each row from the per-cluster distance sums */
static void
SilhouetteFromSums(const LabeledRows *rows, const double *sums, double *silhouettes)
{
	int			L = rows->n_labels;

	for (int64 i = 0; i < rows->x.rows; i++)
	{
		int			own = rows->labels[i];
		double		a;
		double		b = get_float8_infinity();

		if (rows->sizes[own] <= 1)
		{
			silhouettes[i] = 0.0;	/* a row alone in its cluster */
			continue;
		}
		a = sums[i * L + own] / (rows->sizes[own] - 1);
		for (int c = 0; c < L; c++)
			if (c != own)
				b = Min(b, sums[i * L + c] / rows->sizes[c]);
		silhouettes[i] = Max(a, b) > 0 ? (b - a) / Max(a, b) : 0.0;
	}
}

/* Per-row silhouettes of grouped rows */
static double *
SilhouetteRows(const LabeledRows *rows)
{
	double	   *sums = MemoryAllocLarge(CurrentMemoryContext,
											  MemoryProduct(rows->x.rows, MemoryProduct(rows->n_labels, sizeof(double))));
	double	   *silhouettes = MemoryAllocLarge(CurrentMemoryContext,
													 MemoryProduct(rows->x.rows, sizeof(double)));

	SilhouetteSums(rows, sums);
	SilhouetteFromSums(rows, sums, silhouettes);
	pfree(sums);
	return silhouettes;
}

/* Order row positions by vector, then by cluster: a canonical order */
static int
MetricsCompareRows(const void *a, const void *b, void *arg)
{
	const SourceData *source = (const SourceData *) arg;
	int64		ra = *(const int64 *) a;
	int64		rb = *(const int64 *) b;
	const double *xa = MatrixRow(&source->x, ra);
	const double *xb = MatrixRow(&source->x, rb);
	int			order = VectorCompare(xa, xb, source->x.cols);

	if (order != 0)
		return order;
	if (source->clusters[ra] != source->clusters[rb])
		return source->clusters[ra] < source->clusters[rb] ? -1 : 1;
	return 0;
}

/* MetricsSortByRow: positions sorted by MetricsCompareRows, interruptible */
#define ST_SORT MetricsSortByRow
#define ST_ELEMENT_TYPE int64
#define ST_COMPARE_ARG_TYPE void
#define ST_COMPARE(a, b, arg) MetricsCompareRows((a), (b), (arg))
#define ST_SCOPE static
#define ST_DEFINE
#define ST_CHECK_FOR_INTERRUPTS
#include "lib/sort_template.h"

/*
 * Per-row silhouettes of grouped rows, once the labels and the memory of
 * the sums (the sums, a chunk's sums and its column totals) are checked;
 * function names the caller in the errors
 */
static double *
SilhouetteRowsChecked(const LabeledRows *rows, const char *function)
{
	MetricsCheckLabels(rows, function);
	MemoryCheck(MemoryProduct(3 * rows->x.rows, MemoryProduct(rows->n_labels, sizeof(double))),
				psprintf("segment.%s", function));
	return SilhouetteRows(rows);
}

/* Mean silhouette of grouped rows */
static double
SilhouetteMean(const LabeledRows *rows)
{
	double	   *silhouettes = SilhouetteRowsChecked(rows, "silhouette");
	double		total = 0.0;

	for (int64 i = 0; i < rows->x.rows; i++)
		total += silhouettes[i];
	pfree(silhouettes);
	return total / rows->x.rows;
}

/*
 * Memory per row, beyond the vectors and clusters, of a silhouette over all
 * rows (sample_size 0) or a sample: positions, labels, the grouped copy's
 * label and the per-row sums (at most 16 clusters' worth)
 */
Size
SilhouetteExtraPerRow(int64 sample_size)
{
	return 2 * sizeof(int64) + sizeof(int32) + sizeof(double) + (sample_size > 0 ? 0 : 16 * sizeof(double));
}

/*
 * Mean silhouette over all rows, or over a seeded sample of sample_size rows
 * (as scikit-learn's silhouette_score with sample_size).  The sample is
 * drawn from the rows in canonical order, so it does not depend on the
 * order of the source.
 */
double
SilhouetteScore(text *source_text, int64 sample_size, int64 seed)
{
	SourceOptions options;
	SourceData	source;

	options.function = "silhouette";
	options.integer_ids = false;
	options.clusters = true;
	options.extra_per_row = SilhouetteExtraPerRow(sample_size);
	options.extra_per_dim = SILHOUETTE_EXTRA_PER_DIM;
	SourceRead(source_text, &options, &source);
	return SilhouetteOfSource(&source, sample_size, seed);
}

/*
 * Mean silhouette of rows in memory (source->clusters set), over all of
 * them or a seeded sample of sample_size (see SilhouetteScore)
 */
double
SilhouetteOfSource(const SourceData *source, int64 sample_size, int64 seed)
{
	LabeledRows rows;
	int64	   *positions;
	int64		count;
	double		result;
	int64		n = source->x.rows;

	positions = MemoryAllocLarge(CurrentMemoryContext, MemoryProduct(n, sizeof(int64)));
	for (int64 i = 0; i < n; i++)
		positions[i] = i;
	count = n;
	if (sample_size > 0 && sample_size < n)
	{
		RandomState rng;

		MetricsSortByRow(positions, n, (void *) source);
		RandomSeed(&rng, seed, 0);
		/* The first sample_size entries of a partial Fisher-Yates shuffle */
		for (int64 i = 0; i < sample_size; i++)
		{
			int64		j = i + RandomBelow(&rng, n - i);
			int64		t = positions[i];

			positions[i] = positions[j];
			positions[j] = t;
		}
		count = sample_size;
	}
	MetricsGroup(source, positions, count, &rows);
	pfree(positions);
	result = SilhouetteMean(&rows);
	MetricsFreeRows(&rows);
	return result;
}

/*
 * The silhouette of each row in memory (source->clusters set), in the
 * source's order: silhouettes[i] is row i's
 */
void
SilhouetteSamplesOfSource(const SourceData *source, double *silhouettes)
{
	LabeledRows rows;
	int64	   *positions;
	double	   *grouped;
	int64		n = source->x.rows;

	positions = MemoryAllocLarge(CurrentMemoryContext, MemoryProduct(n, sizeof(int64)));
	for (int64 i = 0; i < n; i++)
		positions[i] = i;
	/* sorted by MetricsGroup: grouped row i is source row positions[i] */
	MetricsGroup(source, positions, n, &rows);
	grouped = SilhouetteRowsChecked(&rows, "silhouette_samples");
	for (int64 i = 0; i < n; i++)
		silhouettes[positions[i]] = grouped[i];
	pfree(grouped);
	pfree(positions);
	MetricsFreeRows(&rows);
}

/* silhouette(source, sample_size, seed): the mean silhouette */
PG_FUNCTION_INFO_V1(silhouette);
Datum
silhouette(PG_FUNCTION_ARGS)
{
	int64		sample_size = 0;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(2))
		PG_RETURN_NULL();
	if (!PG_ARGISNULL(1))
	{
		sample_size = PG_GETARG_INT32(1);
		if (sample_size < 2)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sample_size must be at least 2"),
					 errhint("Pass NULL for the exact silhouette over all rows.")));
	}
	PG_RETURN_FLOAT8(SilhouetteScore(PG_GETARG_TEXT_PP(0), sample_size, PG_GETARG_INT64(2)));
}

/* silhouette_samples(source): each row's id, cluster and silhouette */
PG_FUNCTION_INFO_V1(silhouette_samples);
Datum
silhouette_samples(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SourceData	source;
	LabeledRows rows;
	double	   *silhouettes;

	SegmentInitMaterializedSRF(fcinfo);
	MetricsRead(PG_GETARG_TEXT_PP(0), "silhouette_samples", true, sizeof(double) * 16, &source);
	MetricsGroupAll(&source, &rows);
	silhouettes = SilhouetteRowsChecked(&rows, "silhouette_samples");
	for (int c = 0; c < rows.n_labels; c++)
		if (rows.values[c] < PG_INT32_MIN || rows.values[c] > PG_INT32_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("cluster " INT64_FORMAT " is out of range for type integer", rows.values[c]),
					 errdetail("segment.silhouette_samples returns the cluster as an integer.")));
	for (int64 i = 0; i < rows.x.rows; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {0};

		values[0] = Int64GetDatum(rows.ids[i]);
		values[1] = Int32GetDatum((int32) rows.values[rows.labels[i]]);
		values[2] = Float8GetDatum(silhouettes[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		CHECK_FOR_INTERRUPTS();	/* the tuplestore may spill to disk */
	}
	return (Datum) 0;
}

/* Cluster means (n_labels × dims) of grouped rows, summed in row order */
static double *
MetricsCentroids(const LabeledRows *rows)
{
	int			dims = rows->x.cols;
	double	   *centroids = palloc0(MemoryProduct(rows->n_labels, dims * sizeof(double)));

	for (int64 i = 0; i < rows->x.rows; i++)
	{
		double	   *c = centroids + (Size) rows->labels[i] * dims;
		const double *x = MatrixRow(&rows->x, i);

		for (int j = 0; j < dims; j++)
			c[j] += x[j];
	}
	for (int c = 0; c < rows->n_labels; c++)
		for (int j = 0; j < dims; j++)
			centroids[(Size) c * dims + j] /= rows->sizes[c];
	return centroids;
}

/*
 * Davies-Bouldin index of grouped rows: the mean over clusters of the largest
 * (s_i + s_j) / d(c_i, c_j), s the mean distance of a cluster's rows to its
 * centroid (Davies and Bouldin 1979), with scikit-learn's conventions: 0 when
 * all s or all centroid distances are within 1e-8 of 0, and coinciding
 * centroids ignored.
 */
static double
DaviesBouldinOfRows(const LabeledRows *rows)
{
	double	   *centroids;
	double	   *spread;
	int			L = rows->n_labels;
	int			dims = rows->x.cols;
	bool		spread_zero = true;
	bool		distances_zero = true;
	double		total = 0.0;

	centroids = MetricsCentroids(rows);
	spread = palloc0(L * sizeof(double));
	for (int64 i = 0; i < rows->x.rows; i++)
		spread[rows->labels[i]] += sqrt(SquaredDistance(MatrixRow(&rows->x, i),
														centroids + (Size) rows->labels[i] * dims, dims));
	for (int c = 0; c < L; c++)
	{
		spread[c] /= rows->sizes[c];
		spread_zero &= fabs(spread[c]) <= 1e-8;
	}
	for (int a = 0; a < L && distances_zero; a++)
	{
		CHECK_FOR_INTERRUPTS();
		for (int b = 0; b < L && distances_zero; b++)
			if (a != b)
				distances_zero = sqrt(SquaredDistance(centroids + (Size) a * dims,
													  centroids + (Size) b * dims, dims)) <= 1e-8;
	}
	/* 0 when all spreads or all centroid distances vanish (scikit-learn) */
	if (!spread_zero && !distances_zero)
		for (int a = 0; a < L; a++)
		{
			double		worst = 0.0;

			CHECK_FOR_INTERRUPTS();
			for (int b = 0; b < L; b++)
			{
				double		distance;

				if (a == b)
					continue;
				distance = sqrt(SquaredDistance(centroids + (Size) a * dims, centroids + (Size) b * dims, dims));
				if (distance > 0)
					worst = Max(worst, (spread[a] + spread[b]) / distance);
			}
			total += worst;
		}
	pfree(centroids);
	pfree(spread);
	return total / L;
}

/* Davies-Bouldin index of rows in memory (source->clusters set) */
double
DaviesBouldinOfSource(const SourceData *source)
{
	LabeledRows rows;

	MetricsGroupAll(source, &rows);
	MetricsCheckLabels(&rows, "davies_bouldin");
	return DaviesBouldinOfRows(&rows);
}

/* davies_bouldin(source) */
PG_FUNCTION_INFO_V1(davies_bouldin);
Datum
davies_bouldin(PG_FUNCTION_ARGS)
{
	SourceData	source;

	MetricsRead(PG_GETARG_TEXT_PP(0), "davies_bouldin", false, 0, &source);
	PG_RETURN_FLOAT8(DaviesBouldinOfSource(&source));
}

/*
 * Calinski-Harabasz index of grouped rows: between-cluster over within-cluster dispersion,
 * each per degree of freedom (Calinski and Harabasz 1974); 1 when the
 * within-cluster dispersion is 0, as scikit-learn.
 */
static double
CalinskiHarabaszOfRows(const LabeledRows *rows)
{
	double	   *centroids;
	double	   *mean;
	int			dims = rows->x.cols;
	int64		n = rows->x.rows;
	double		between = 0.0;
	double		within = 0.0;

	centroids = MetricsCentroids(rows);
	mean = palloc0(dims * sizeof(double));
	for (int64 i = 0; i < n; i++)
		for (int j = 0; j < dims; j++)
			mean[j] += MatrixRow(&rows->x, i)[j];
	for (int j = 0; j < dims; j++)
		mean[j] /= n;
	for (int c = 0; c < rows->n_labels; c++)
		between += rows->sizes[c] * SquaredDistance(centroids + (Size) c * dims, mean, dims);
	for (int64 i = 0; i < n; i++)
		within += SquaredDistance(MatrixRow(&rows->x, i), centroids + (Size) rows->labels[i] * dims, dims);
	pfree(centroids);
	pfree(mean);
	if (within == 0.0)
		return 1.0;
	return between * (n - rows->n_labels) / (within * (rows->n_labels - 1.0));
}

/* Calinski-Harabasz index of rows in memory (source->clusters set) */
double
CalinskiHarabaszOfSource(const SourceData *source)
{
	LabeledRows rows;

	MetricsGroupAll(source, &rows);
	MetricsCheckLabels(&rows, "calinski_harabasz");
	return CalinskiHarabaszOfRows(&rows);
}

/* calinski_harabasz(source) */
PG_FUNCTION_INFO_V1(calinski_harabasz);
Datum
calinski_harabasz(PG_FUNCTION_ARGS)
{
	SourceData	source;

	MetricsRead(PG_GETARG_TEXT_PP(0), "calinski_harabasz", false, 0, &source);
	PG_RETURN_FLOAT8(CalinskiHarabaszOfSource(&source));
}

/*
 * The mean silhouette (over all rows, or a seeded sample of sample_size as
 * SilhouetteOfSource draws it), Davies-Bouldin and Calinski-Harabasz
 * indexes of rows in memory (source->clusters set): what silhouette,
 * davies_bouldin and calinski_harabasz return for the same rows, with the
 * rows grouped by cluster once for all three
 */
void
ClusterScoresOfSource(const SourceData *source, int64 sample_size, int64 seed,
					  double *silhouette, double *davies_bouldin, double *calinski_harabasz)
{
	LabeledRows rows;

	MetricsGroupAll(source, &rows);
	MetricsCheckLabels(&rows, "evaluate");
	*davies_bouldin = DaviesBouldinOfRows(&rows);
	*calinski_harabasz = CalinskiHarabaszOfRows(&rows);
	if (sample_size > 0 && sample_size < source->x.rows)
		*silhouette = SilhouetteOfSource(source, sample_size, seed);
	else
		*silhouette = SilhouetteMean(&rows);
	MetricsFreeRows(&rows);
}
