/*-------------------------------------------------------------------------
 *
 * vector.c
 *	  float8[] vectors and matrices: input checks, conversions, memory sizes
 *
 * Every function that takes a vector checks it here, so each rule has one
 * error message: one-dimensional, not empty, no NULL elements, no NaN or
 * infinity (the habits of intarray's and pgvector's array checks).
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "vector.h"

/* Find what, if anything, is wrong with a float8[] offered as a vector */
VectorProblem
VectorCheck(ArrayType *array, int *length)
{
	int			n;
	const double *values;

	*length = 0;
	if (ARR_NDIM(array) == 0)
		return VECTOR_EMPTY;
	if (ARR_NDIM(array) != 1)
		return VECTOR_NOT_ONE_DIMENSIONAL;
	n = ARR_DIMS(array)[0];
	if (n == 0)
		return VECTOR_EMPTY;
	if (n > SEGMENT_MAX_DIMS)
		return VECTOR_TOO_LONG;
	if (array_contains_nulls(array))
		return VECTOR_NULL_ELEMENT;
	values = (const double *) ARR_DATA_PTR(array);
	for (int i = 0; i < n; i++)
	{
		if (!isfinite(values[i]))
			return VECTOR_NOT_FINITE;
		if (fabs(values[i]) > SEGMENT_MAX_MAGNITUDE)
			return VECTOR_OUT_OF_RANGE;
	}
	*length = n;
	return VECTOR_OK;
}

/*
 * Raise the error for a vector problem.  what names the vector ("vec",
 * "vector"); row_id, when not NULL, names the source row it came from.
 */
void
VectorReportProblem(VectorProblem problem, const char *what, const char *row_id)
{
	char	   *subject = row_id ? psprintf("%s of row id %s", what, row_id) : pstrdup(what);

	switch (problem)
	{
		case VECTOR_NOT_ONE_DIMENSIONAL:
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("%s must be a one-dimensional array", subject)));
			break;
		case VECTOR_EMPTY:
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("%s must not be empty", subject)));
			break;
		case VECTOR_TOO_LONG:
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("%s has more than %d elements", subject, SEGMENT_MAX_DIMS)));
			break;
		case VECTOR_NULL_ELEMENT:
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not contain NULL elements", subject)));
			break;
		case VECTOR_NOT_FINITE:
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("%s must not contain NaN or infinite values", subject)));
			break;
		case VECTOR_OUT_OF_RANGE:
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("%s has an element beyond %g in magnitude", subject, SEGMENT_MAX_MAGNITUDE),
					 errdetail("Squared distances of such values could overflow."),
					 errhint("Divide the vectors by a constant, or standardize them with segment.scale.")));
			break;
		case VECTOR_OK:
			break;
	}
	elog(ERROR, "unexpected vector problem %d", (int) problem);
}

/* Check a vector argument and return its elements (inside the array) */
double *
VectorFromArray(ArrayType *array, const char *what, int *length)
{
	VectorProblem problem = VectorCheck(array, length);

	if (problem != VECTOR_OK)
		VectorReportProblem(problem, what, NULL);
	return (double *) ARR_DATA_PTR(array);
}

/* Raise an error when a vector does not have the expected length */
void
VectorCheckLength(int length, int expected, const char *what, const char *row_id)
{
	if (length == expected)
		return;
	if (row_id)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s of row id %s has %d elements, expected %d", what, row_id, length, expected),
				 errdetail("All vectors of one source must have the same length.")));
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("%s has %d elements, expected %d", what, length, expected)));
}

/* Build a float8[] of the given dimensions from contiguous values */
static ArrayType *
ArrayFromValues(const double *values, int ndims, const int *dims)
{
	int			lbs[2] = {1, 1};
	Size		count = 1;
	Size		size;
	ArrayType  *array;

	for (int i = 0; i < ndims; i++)
		count = MemoryProduct(count, dims[i]);
	size = ARR_OVERHEAD_NONULLS(ndims) + MemoryProduct(count, sizeof(double));
	if (!AllocSizeIsValid(size))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("array of %zu elements is too large", count)));
	array = (ArrayType *) palloc0(size);
	SET_VARSIZE(array, size);
	array->ndim = ndims;
	array->dataoffset = 0;
	array->elemtype = FLOAT8OID;
	memcpy(ARR_DIMS(array), dims, ndims * sizeof(int));
	memcpy(ARR_LBOUND(array), lbs, ndims * sizeof(int));
	memcpy(ARR_DATA_PTR(array), values, count * sizeof(double));
	return array;
}

/* A one-dimensional float8[] */
ArrayType *
VectorToArray(const double *values, int length)
{
	if (length == 0)
		return construct_empty_array(FLOAT8OID);
	return ArrayFromValues(values, 1, &length);
}

/* A two-dimensional float8[] of rows × cols, from row-major values */
ArrayType *
MatrixToArray(const double *values, int rows, int cols)
{
	int			dims[2] = {rows, cols};

	return ArrayFromValues(values, 2, dims);
}

/* Check a two-dimensional float8[] (a model's matrix) and return its elements */
double *
MatrixFromArray(ArrayType *array, const char *what, int *rows, int *cols)
{
	const double *values;
	Size		count;

	if (ARR_NDIM(array) != 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a two-dimensional array", what)));
	if (array_contains_nulls(array))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not contain NULL elements", what)));
	*rows = ARR_DIMS(array)[0];
	*cols = ARR_DIMS(array)[1];
	count = (Size) *rows * *cols;
	values = (const double *) ARR_DATA_PTR(array);
	for (Size i = 0; i < count; i++)
	{
		if (!isfinite(values[i]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("%s must not contain NaN or infinite values", what)));
		if (fabs(values[i]) > SEGMENT_MAX_MAGNITUDE)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("%s has an element beyond %g in magnitude", what, SEGMENT_MAX_MAGNITUDE)));
	}
	return (double *) values;
}

/* a × b for memory sizes, with an error instead of an overflow */
Size
MemoryProduct(Size a, Size b)
{
	if (b != 0 && a > SIZE_MAX / b)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("requested memory size overflows")));
	return a * b;
}

/*
 * Refuse to take more than maintenance_work_mem for one call's working set
 * (the habit of pgvector's ivfflat build), with the setting that would do.
 */
void
MemoryCheck(Size needed, const char *function)
{
	Size		limit = (Size) maintenance_work_mem * 1024;

	if (needed <= limit)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("%s needs %zu MB of memory, maintenance_work_mem is %d MB",
					function, needed / (1024 * 1024) + 1, maintenance_work_mem / 1024),
			 errhint("Increase maintenance_work_mem, for example SET maintenance_work_mem = '%zuMB'.",
					 needed / (1024 * 1024) + 2)));
}

/*
 * Ask the kernel to back the 2 MB-aligned interior of a large allocation
 * with transparent huge pages, as numpy does for its arrays of 4 MB and
 * more (numpy's hugepage madvise, on by default on Linux): a k-means fit
 * touches every page of its matrices at once, and one fault per 2 MB
 * instead of per 4 kB takes most of the cost of fresh memory away where
 * faults are dear (virtual machines).  Only advice: where the kernel
 * declines (transparent huge pages "never"), nothing changes.
 */
static void
MemoryAdviseHugePages(void *pointer, Size size)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
	const uintptr_t huge = 2 * 1024 * 1024;
	uintptr_t	start = TYPEALIGN(huge, (uintptr_t) pointer);
	uintptr_t	end = TYPEALIGN_DOWN(huge, (uintptr_t) pointer + size);

	if (size >= MEMORY_HUGE_PAGES_MIN && end > start)
		(void) madvise((void *) start, end - start, MADV_HUGEPAGE);
#endif
}

/* MemoryContextAllocHuge, with huge pages advised for a large size */
void *
MemoryAllocLarge(MemoryContext context, Size size)
{
	void	   *pointer = MemoryContextAllocHuge(context, size);

	MemoryAdviseHugePages(pointer, size);
	return pointer;
}
