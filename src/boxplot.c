/*-------------------------------------------------------------------------
 *
 * boxplot.c
 *	  segment.boxplot(float8): the five numbers, whiskers and outliers of a
 *	  box plot of a group, from one sort
 *
 * The box plots table needs, per segment and feature, min, the quartiles
 * as percentile_cont(0.25 / 0.5 / 0.75) gives them, max, the whiskers
 * (Tukey's: the most extreme values within 1.5 interquartile ranges of the
 * box) and the number of values beyond them.  In SQL that is three
 * ordered-set aggregates and a second pass over every value joined to its
 * group's quartiles; here the values of a group are collected, sorted once
 * and read off.  Each number is computed with the same float8 operations as
 * the SQL (percentile_cont's linear interpolation lo + (p (n - 1) -
 * floor(p (n - 1))) (hi - lo); the whisker limits q1 - 1.5 (q3 - q1) and
 * q3 + 1.5 (q3 - q1)), so the results are the same bits.  NULLs are
 * skipped, as those aggregates skip them; NaN and infinities are refused
 * (a box plot of them means nothing).
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/float.h"
#include "utils/memutils.h"

#include "vector.h"

#define BOXPLOT_INITIAL_VALUES 64
#define BOXPLOT_NATTS 8

/* The non-NULL values of a group */
typedef struct BoxplotState
{
	int64		count;
	int64		allocated;
	double	   *values;
} BoxplotState;

/* Ascending order of doubles (all finite: see boxplot_accum) */
static inline int
BoxplotCompare(const double *a, const double *b)
{
	return *a < *b ? -1 : (*a > *b ? 1 : 0);
}

#define ST_SORT BoxplotSort
#define ST_ELEMENT_TYPE double
#define ST_COMPARE(a, b) BoxplotCompare((a), (b))
#define ST_SCOPE static
#define ST_DEFINE
#define ST_CHECK_FOR_INTERRUPTS
#include "lib/sort_template.h"

/* boxplot_accum(state, value): add a non-NULL value to the group's values */
PG_FUNCTION_INFO_V1(boxplot_accum);
Datum
boxplot_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggregate_context;
	BoxplotState *state = PG_ARGISNULL(0) ? NULL : (BoxplotState *) PG_GETARG_POINTER(0);
	double		value;

	if (!AggCheckCallContext(fcinfo, &aggregate_context))
		elog(ERROR, "boxplot_accum called in non-aggregate context");
	if (state == NULL)
	{
		state = MemoryContextAlloc(aggregate_context, sizeof(BoxplotState));
		state->count = 0;
		state->allocated = BOXPLOT_INITIAL_VALUES;
		state->values = MemoryContextAlloc(aggregate_context, BOXPLOT_INITIAL_VALUES * sizeof(double));
	}
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(state);
	value = PG_GETARG_FLOAT8(1);
	if (isnan(value) || isinf(value))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("segment.boxplot takes finite values, not %s", float8out_internal(value))));
	if (state->count == state->allocated)
	{
		Size		bytes = MemoryProduct(2 * state->allocated, sizeof(double));

		MemoryCheck(bytes, "segment.boxplot");
		state->values = repalloc_huge(state->values, bytes);
		state->allocated *= 2;
	}
	state->values[state->count++] = value;
	PG_RETURN_POINTER(state);
}

/* percentile_cont(fraction) of n sorted values, as PostgreSQL computes it */
static double
BoxplotPercentile(const double *sorted, int64 n, double fraction)
{
	double		position = fraction * (n - 1);
	int64		first = (int64) floor(position);
	int64		second = (int64) ceil(position);
	double		low = sorted[first];
	double		high = sorted[second];

	if (first == second)
		return low;
	return low + ((position - first) * (high - low));
}

/* boxplot_final(state): (min, q1, median, q3, max, lower_whisker, upper_whisker, outliers) */
PG_FUNCTION_INFO_V1(boxplot_final);
Datum
boxplot_final(PG_FUNCTION_ARGS)
{
	BoxplotState *state = PG_ARGISNULL(0) ? NULL : (BoxplotState *) PG_GETARG_POINTER(0);
	TupleDesc	tupdesc;
	Datum		values[BOXPLOT_NATTS];
	bool		nulls[BOXPLOT_NATTS];
	int64		outliers = 0;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "boxplot_final must return a composite type");
	tupdesc = BlessTupleDesc(tupdesc);
	memset(nulls, true, sizeof(nulls));
	if (state != NULL && state->count > 0)
	{
		const double *v = state->values;
		int64		n = state->count;
		double		q1;
		double		q3;
		double		lower_limit;
		double		upper_limit;
		int64		low = 0;
		int64		high = n - 1;

		/*
		 * Sorting in place leaves the same values, only in order: a second
		 * final call on a shared state, or more values added in a window
		 * frame and sorted again, still see every value once
		 */
		BoxplotSort(state->values, n);
		q1 = BoxplotPercentile(v, n, 0.25);
		q3 = BoxplotPercentile(v, n, 0.75);
		lower_limit = q1 - 1.5 * (q3 - q1);
		upper_limit = q3 + 1.5 * (q3 - q1);
		while (low < n && v[low] < lower_limit)
			low++;
		while (high >= 0 && v[high] > upper_limit)
			high--;
		outliers = low + (n - 1 - high);
		values[0] = Float8GetDatum(v[0]);
		values[1] = Float8GetDatum(q1);
		values[2] = Float8GetDatum(BoxplotPercentile(v, n, 0.5));
		values[3] = Float8GetDatum(q3);
		values[4] = Float8GetDatum(v[n - 1]);
		values[5] = Float8GetDatum(v[low]);
		values[6] = Float8GetDatum(v[high]);
		memset(nulls, false, 7 * sizeof(bool));
	}
	values[7] = Int64GetDatum(outliers);
	nulls[7] = false;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
