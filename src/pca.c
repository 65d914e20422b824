/*-------------------------------------------------------------------------
 *
 * pca.c
 *	  Principal component analysis through LAPACKE: pca_fit, pca_transform
 *
 * The principal axes are the right singular vectors of the centred data
 * matrix X - mean (n × d), computed with LAPACK's dgesvd.  The matrix is
 * handed to LAPACK as it lies in memory: row-major n × d is column-major
 * d × n, i.e. (X - mean)^T, whose left singular vectors are the axes, so no
 * copy is made.  As scikit-learn's PCA, explained variance is s^2 / (n - 1)
 * and its ratio is taken over all min(n, d) components.  Signs are fixed:
 * each component's loading of largest magnitude is positive.  The rows are
 * taken in the canonical order of k-means (sorted by vector), so the model
 * is the same bits whatever order they come in, from a source or from the
 * aggregate.
 *
 * LAPACKE is opened with dlopen on the first PCA, not linked: the BLAS under
 * it (OpenBLAS on Debian) starts a thread per core when it loads, in every
 * backend that loads segment.  Loading it late, after asking for one thread
 * through the environment, keeps backends single-threaded and leaves
 * sessions that never run PCA untouched.
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <dlfcn.h>
#include <math.h>
#include <stdlib.h>
#include <lapacke.h>

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"

#include "kmeans.h"
#include "pca.h"
#include "source.h"
#include "vector.h"

/* Columns of segment.pca_model */
#define PCA_MODEL_NATTS 4

#ifndef SEGMENT_LAPACKE_LIBRARY
#define SEGMENT_LAPACKE_LIBRARY "liblapacke.so.3"
#endif

typedef lapack_int (*DgesvdFunction) (int layout, char jobu, char jobvt, lapack_int m, lapack_int n,
									  double *a, lapack_int lda, double *s, double *u, lapack_int ldu,
									  double *vt, lapack_int ldvt, double *superb);

/*
 * Keep the BLAS under LAPACKE to one thread.  A backend is one process
 * serving one session: a multithreaded BLAS would run a thread per core in
 * every backend that runs PCA and oversubscribe the machine.  Besides the
 * environment read at load time, ask each known BLAS by its setter.
 */
static void
PcaSingleThreadedBlas(void *library)
{
	static const char *const setters[] = {
		"openblas_set_num_threads",	/* OpenBLAS */
		"goto_set_num_threads",		/* GotoBLAS */
		"bli_thread_set_num_threads",	/* BLIS */
		"MKL_Set_Num_Threads"		/* Intel MKL */
	};

	for (int i = 0; i < (int) lengthof(setters); i++)
	{
		void		(*set_threads) (int) = (void (*) (int)) dlsym(library, setters[i]);

		if (set_threads != NULL)
			set_threads(1);
	}
}

/* Load LAPACKE once, with its BLAS limited to one thread */
static DgesvdFunction
PcaLapack(void)
{
	static DgesvdFunction dgesvd = NULL;
	void	   *library;

	if (dgesvd != NULL)
		return dgesvd;
	/* read by OpenBLAS and OpenMP builds when they initialize */
	setenv("OPENBLAS_NUM_THREADS", "1", 1);
	setenv("OMP_NUM_THREADS", "1", 1);
	library = dlopen(SEGMENT_LAPACKE_LIBRARY, RTLD_NOW | RTLD_LOCAL);
	if (library == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("could not load LAPACKE library \"%s\": %s", SEGMENT_LAPACKE_LIBRARY, dlerror()),
				 errhint("Install LAPACKE, on Debian: apt-get install liblapacke.")));
	dgesvd = (DgesvdFunction) dlsym(library, "LAPACKE_dgesvd");
	if (dgesvd == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("LAPACKE library \"%s\" has no LAPACKE_dgesvd", SEGMENT_LAPACKE_LIBRARY)));
	PcaSingleThreadedBlas(library);
	return dgesvd;
}

/* Make the loading of largest magnitude (the first on ties) positive */
static void
PcaFixSign(double *component, int dims)
{
	int			largest = 0;

	for (int j = 1; j < dims; j++)
		if (fabs(component[j]) > fabs(component[largest]))
			largest = j;
	if (component[largest] < 0)
		for (int j = 0; j < dims; j++)
			component[j] = -component[j];
}

/* Check n_components before any row is read */
void
PcaCheckComponents(int n_components)
{
	if (n_components < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_components must be at least 1")));
}

/*
 * The segment.pca_model (of tupdesc) of the rows of x, which are consumed:
 * put in canonical order (that of k-means), so the sums and the
 * decomposition do not depend on the order the rows came in, then centred
 * in place and overwritten by LAPACK
 */
Datum
PcaFitRows(Matrix *x, int n_components, TupleDesc tupdesc)
{
	KMeansData	sorted;
	Matrix	   *rows;
	int64		n = x->rows;
	int			dims = x->cols;
	int			rank = (int) Min(n, dims);
	double	   *mean;
	double	   *singular;
	double	   *axes;
	double	   *superb;
	double	   *components;
	double	   *variance;
	double	   *ratio;
	double		total = 0.0;
	lapack_int	info;
	Datum		values[PCA_MODEL_NATTS];
	bool		nulls[PCA_MODEL_NATTS] = {0};

	PcaCheckComponents(n_components);
	if (n < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("segment.pca_fit needs at least 2 rows")));
	if (n > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("segment.pca_fit takes at most %d rows", PG_INT32_MAX)));
	if (n_components > rank)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_components (%d) must be at most min(rows, dims) = %d", n_components, rank)));
	if (tupdesc->natts != PCA_MODEL_NATTS)
		elog(ERROR, "segment.pca_model has %d attributes, expected %d", tupdesc->natts, PCA_MODEL_NATTS);

	KMeansPrepare(x, &sorted);
	rows = &sorted.x;

	/* Centre the columns (two passes: the mean, then the differences) */
	mean = palloc0(dims * sizeof(double));
	for (int64 i = 0; i < n; i++)
		for (int j = 0; j < dims; j++)
			mean[j] += MatrixRow(rows, i)[j];
	for (int j = 0; j < dims; j++)
		mean[j] /= n;
	for (int64 i = 0; i < n; i++)
		for (int j = 0; j < dims; j++)
			MatrixRow(rows, i)[j] -= mean[j];
	CHECK_FOR_INTERRUPTS();

	singular = palloc(rank * sizeof(double));
	axes = MemoryAllocLarge(CurrentMemoryContext, MemoryProduct(dims, MemoryProduct(rank, sizeof(double))));
	superb = palloc(Max(rank, 2) * sizeof(double));
	info = PcaLapack() (LAPACK_COL_MAJOR, 'S', 'N', dims, (lapack_int) n, rows->values, dims,
						  singular, axes, dims, NULL, 1, superb);
	if (info == LAPACK_WORK_MEMORY_ERROR)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory for the workspace of LAPACK dgesvd")));
	if (info < 0)
		elog(ERROR, "LAPACKE_dgesvd: argument %d had an illegal value", (int) -info);
	if (info > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("the singular value decomposition of segment.pca_fit did not converge"),
				 errdetail("LAPACK dgesvd left %d superdiagonals unconverged.", (int) info)));
	CHECK_FOR_INTERRUPTS();

	components = palloc(MemoryProduct(n_components, dims * sizeof(double)));
	variance = palloc(n_components * sizeof(double));
	ratio = palloc(n_components * sizeof(double));
	for (int c = 0; c < rank; c++)
		total += singular[c] * singular[c] / (n - 1);
	for (int c = 0; c < n_components; c++)
	{
		memcpy(components + (Size) c * dims, axes + (Size) c * dims, dims * sizeof(double));
		PcaFixSign(components + (Size) c * dims, dims);
		variance[c] = singular[c] * singular[c] / (n - 1);
		ratio[c] = total > 0 ? variance[c] / total : 0.0;
	}

	values[0] = PointerGetDatum(VectorToArray(mean, dims));
	values[1] = PointerGetDatum(MatrixToArray(components, n_components, dims));
	values[2] = PointerGetDatum(VectorToArray(variance, n_components));
	values[3] = PointerGetDatum(VectorToArray(ratio, n_components));
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

/* pca_fit(source, n_components): mean, components and explained variance */
PG_FUNCTION_INFO_V1(pca_fit);
Datum
pca_fit(PG_FUNCTION_ARGS)
{
	int			n_components = PG_GETARG_INT32(1);
	SourceOptions options;
	SourceData	source;
	TupleDesc	tupdesc;

	PcaCheckComponents(n_components);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "pca_fit must return a composite type");
	options.function = "pca_fit";
	options.integer_ids = false;
	options.clusters = false;
	options.extra_per_row = PCA_EXTRA_PER_ROW;
	options.extra_per_dim = PCA_EXTRA_PER_DIM;
	SourceRead(PG_GETARG_TEXT_PP(0), &options, &source);
	PG_RETURN_DATUM(PcaFitRows(&source.x, n_components, BlessTupleDesc(tupdesc)));
}

/* pca_transform(vec, model): the coordinates of vec on the components */
PG_FUNCTION_INFO_V1(pca_transform);
Datum
pca_transform(PG_FUNCTION_ARGS)
{
	HeapTupleHeader model = PG_GETARG_HEAPTUPLEHEADER(1);
	bool		mean_null;
	bool		components_null;
	Datum		mean_datum = GetAttributeByNum(model, 1, &mean_null);
	Datum		components_datum = GetAttributeByNum(model, 2, &components_null);
	const double *mean;
	const double *components;
	const double *x;
	double	   *result;
	int			dims;
	int			length;
	int			rows;
	int			cols;

	if (mean_null || components_null)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid segment.pca_model"),
				 errdetail("Its %s is NULL.", mean_null ? "mean" : "components")));
	mean = VectorFromArray(DatumGetArrayTypeP(mean_datum), "mean of segment.pca_model", &dims);
	components = MatrixFromArray(DatumGetArrayTypeP(components_datum), "components of segment.pca_model",
								 &rows, &cols);
	if (cols != dims || rows < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid segment.pca_model"),
				 errdetail("Its components are %d × %d but its mean has %d elements.", rows, cols, dims)));
	x = VectorFromArray(PG_GETARG_ARRAYTYPE_P(0), "vec", &length);
	VectorCheckLength(length, dims, "vec", NULL);

	result = palloc0(rows * sizeof(double));
	for (int c = 0; c < rows; c++)
		for (int j = 0; j < dims; j++)
			result[c] += components[(Size) c * dims + j] * (x[j] - mean[j]);
	PG_RETURN_ARRAYTYPE_P(VectorToArray(result, rows));
}
