/*-------------------------------------------------------------------------
 *
 * parallel.c
 *	  Parallel workers inside one call: the runs of k-means fits and the
 *	  chunks of an exact silhouette
 *
 * The n_init runs of a fit, and the fits of the candidate k of an elbow or
 * an evaluation, are independent, so they are spread over parallel workers
 * the PostgreSQL way, as the parallel B-tree build does (nbtsort.c): the
 * leader enters parallel mode, creates a ParallelContext, copies the sorted
 * matrix into its dynamic shared memory, launches the workers and takes
 * runs itself too.  Every participant takes (k, run) items from one shared
 * counter and keeps the best run of each k in a slot of its own; the leader
 * then picks each k's best slot by (inertia, run index).  A run's result
 * does not depend on the process that does it, so each model is the same
 * bits with any number of workers, and the same as in one process.
 *
 * The number of workers follows max_parallel_maintenance_workers (0 keeps
 * the single-process path), within max_worker_processes and
 * max_parallel_workers like any parallel operation, and within
 * maintenance_work_mem: each participant needs the working memory of a fit.
 * Workers get plain data only (no catalog access), check for interrupts in
 * their loops like the leader, and their errors reach the caller with their
 * SQLSTATE through the ParallelContext.  When no worker can be launched,
 * the leader does every run.
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <unistd.h>

#include "access/parallel.h"
#include "access/xact.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/shm_toc.h"
#include "utils/memutils.h"

#include "kmeans.h"
#include "metrics.h"

/* Keys of the shared memory table of contents */
#define PARALLEL_KEY_KMEANS_SHARED	UINT64CONST(0x5E6D000000000001)
#define PARALLEL_KEY_KMEANS_MATRIX	UINT64CONST(0x5E6D000000000002)
#define PARALLEL_KEY_KMEANS_SLOTS	UINT64CONST(0x5E6D000000000003)
#define PARALLEL_KEY_KMEANS_KS		UINT64CONST(0x5E6D000000000004)
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

PGDLLEXPORT void segment_kmeans_worker(dsm_segment *seg, shm_toc *toc);
PGDLLEXPORT void segment_silhouette_worker(dsm_segment *seg, shm_toc *toc);

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
 * max_parallel_maintenance_workers, but no more participants (the workers
 * and the leader, which takes items too) than the machine has CPUs online:
 * the runs are pure computation, so a participant beyond that only
 * time-slices with the others and adds its start-up cost
 */
static int
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
static bool
ParallelWorkersAllowed(void)
{
	return !IsParallelWorker() && IsUnderPostmaster;
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
bool
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

/* How many workers a silhouette gets (see KMeansWorkersFor) */
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
bool
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

