/*-------------------------------------------------------------------------
 *
 * vector.h
 *	  float8[] vectors and matrices: input checks, conversions, memory sizes
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEGMENT_VECTOR_H
#define SEGMENT_VECTOR_H

#include "utils/array.h"

/* Longest vector accepted (pgvector's limit is 16,000; ours is generous) */
#define SEGMENT_MAX_DIMS 100000

/*
 * Largest magnitude of an element.  Sums of squared differences of up to
 * SEGMENT_MAX_DIMS elements this large, over billions of rows, stay far
 * below the float8 range, so no distance, inertia or variance overflows.
 */
#define SEGMENT_MAX_MAGNITUDE 1e100

/* What is wrong with a float8[] offered as a vector */
typedef enum VectorProblem
{
	VECTOR_OK,
	VECTOR_NOT_ONE_DIMENSIONAL,
	VECTOR_EMPTY,
	VECTOR_TOO_LONG,
	VECTOR_NULL_ELEMENT,
	VECTOR_NOT_FINITE,
	VECTOR_OUT_OF_RANGE
} VectorProblem;

/* A dense row-major matrix: rows × cols doubles */
typedef struct Matrix
{
	int64		rows;
	int			cols;
	double	   *values;
} Matrix;

#define MatrixRow(m, i) ((m)->values + (Size) (i) * (m)->cols)

extern VectorProblem VectorCheck(ArrayType *array, int *length);
extern void VectorReportProblem(VectorProblem problem, const char *what, const char *row_id) pg_attribute_noreturn();
extern double *VectorFromArray(ArrayType *array, const char *what, int *length);
extern void VectorCheckLength(int length, int expected, const char *what, const char *row_id);
extern ArrayType *VectorToArray(const double *values, int length);
extern ArrayType *MatrixToArray(const double *values, int rows, int cols);
extern double *MatrixFromArray(ArrayType *array, const char *what, int *rows, int *cols);
extern Size MemoryProduct(Size a, Size b);

/* Lexicographic order of two vectors of equal length: -1, 0 or 1 */
static inline int
VectorCompare(const double *a, const double *b, int dims)
{
	for (int j = 0; j < dims; j++)
		if (a[j] != b[j])
			return a[j] < b[j] ? -1 : 1;
	return 0;
}

extern void MemoryCheck(Size needed, const char *function);

/* Allocations from this size on are advised to use huge pages (numpy's 4 MB) */
#define MEMORY_HUGE_PAGES_MIN ((Size) 4 * 1024 * 1024)

extern void *MemoryAllocLarge(MemoryContext context, Size size);

#endif							/* SEGMENT_VECTOR_H */
