/*-------------------------------------------------------------------------
 *
 * scaler.c
 *	  Standardization and encoding: scaler_fit, scale, unscale, one_hot
 *
 * scaler_fit is an aggregate whose state is a plain float8[]
 * {n, mean_1..d, m2_1..d}, not `internal`, so it needs no serialization and
 * Citus can run it partially on its workers.  Rows are added with Welford's
 * update and partial states merged with the pairwise formulas of Chan,
 * Golub and LeVeque (1979): with delta = mean_b - mean_a,
 *   mean = mean_a + delta * n_b / n,   m2 = m2_a + m2_b + delta^2 * n_a * n_b / n.
 * The scale is the population standard deviation (ddof 0), 1 for a constant
 * column, as scikit-learn's StandardScaler.
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "vector.h"

/* Number of vector elements in a state array of 1 + 2d elements */
static int
ScalerStateDims(ArrayType *state)
{
	int			length = ARR_NDIM(state) == 1 ? ARR_DIMS(state)[0] : 0;

	if (length < 3 || length % 2 != 1 || array_contains_nulls(state))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid segment.scaler_fit state")));
	return (length - 1) / 2;
}

/* Transition: add one vector with Welford's update; NULL vectors are skipped */
PG_FUNCTION_INFO_V1(scaler_fit_accum);
Datum
scaler_fit_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	double	   *s;
	double	   *x;
	double		n;
	int			dims;
	int			length;

	if (!AggCheckCallContext(fcinfo, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("segment.scaler_fit_accum can only be called by the segment.scaler_fit aggregate")));
	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	x = VectorFromArray(PG_GETARG_ARRAYTYPE_P(1), "vec", &length);

	if (PG_ARGISNULL(0))
	{
		/* built in the per-call context: the executor copies a new state */
		double	   *zeros = palloc0((1 + 2 * (Size) length) * sizeof(double));

		state = VectorToArray(zeros, 1 + 2 * length);
		pfree(zeros);
	}
	else
		state = PG_GETARG_ARRAYTYPE_P(0);
	dims = ScalerStateDims(state);
	VectorCheckLength(length, dims, "vec", NULL);

	/* In aggregate context the state may be updated in place */
	s = (double *) ARR_DATA_PTR(state);
	n = s[0] + 1;
	s[0] = n;
	for (int j = 0; j < dims; j++)
	{
		double		delta = x[j] - s[1 + j];

		s[1 + j] += delta / n;
		s[1 + dims + j] += delta * (x[j] - s[1 + j]);
	}
	PG_RETURN_ARRAYTYPE_P(state);
}

/* Combine: merge two partial states (Chan et al.) */
PG_FUNCTION_INFO_V1(scaler_fit_combine);
Datum
scaler_fit_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *left = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *right = PG_GETARG_ARRAYTYPE_P(1);
	int			dims = ScalerStateDims(left);
	const double *a = (const double *) ARR_DATA_PTR(left);
	const double *b;
	double	   *merged;
	double		n;

	if (ScalerStateDims(right) != dims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("cannot combine scaler states of %d and %d elements", dims, ScalerStateDims(right))));
	b = (const double *) ARR_DATA_PTR(right);
	if (b[0] == 0)
		PG_RETURN_ARRAYTYPE_P(left);
	if (a[0] == 0)
		PG_RETURN_ARRAYTYPE_P(right);

	n = a[0] + b[0];
	merged = palloc((1 + 2 * (Size) dims) * sizeof(double));
	merged[0] = n;
	for (int j = 0; j < dims; j++)
	{
		double		delta = b[1 + j] - a[1 + j];

		merged[1 + j] = a[1 + j] + delta * (b[0] / n);
		merged[1 + dims + j] = a[1 + dims + j] + b[1 + dims + j] + delta * delta * (a[0] * b[0] / n);
	}
	PG_RETURN_ARRAYTYPE_P(VectorToArray(merged, 1 + 2 * dims));
}

/*
 * Final: the segment.scaler (n, mean, scale).  A column is constant, with
 * scale 1, when its variance is within rounding of 0, by scikit-learn's
 * test: var <= n eps var + (n mean eps)^2, or std < 10 eps.
 */
PG_FUNCTION_INFO_V1(scaler_fit_final);
Datum
scaler_fit_final(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	int			dims = ScalerStateDims(state);
	const double *s = (const double *) ARR_DATA_PTR(state);
	double		n = s[0];
	double	   *scale = palloc(dims * sizeof(double));
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {0};

	for (int j = 0; j < dims; j++)
	{
		double		mean = s[1 + j];
		double		variance = s[1 + dims + j] / n;
		double		bound = n * DBL_EPSILON * variance + (n * mean * DBL_EPSILON) * (n * mean * DBL_EPSILON);

		scale[j] = sqrt(variance);
		if (variance <= bound || scale[j] < 10 * DBL_EPSILON)
			scale[j] = 1.0;
	}
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "scaler_fit_final must return a composite type");
	tupdesc = BlessTupleDesc(tupdesc);
	values[0] = Int64GetDatum((int64) n);
	values[1] = PointerGetDatum(VectorToArray(s + 1, dims));
	values[2] = PointerGetDatum(VectorToArray(scale, dims));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* Read and check the mean and scale of a segment.scaler argument */
static int
ScalerFromDatum(HeapTupleHeader scaler, const double **mean, const double **scale)
{
	bool		isnull;
	Datum		mean_datum = GetAttributeByNum(scaler, 2, &isnull);
	Datum		scale_datum;
	int			mean_length;
	int			scale_length;

	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid segment.scaler"),
				 errdetail("Its mean is NULL.")));
	scale_datum = GetAttributeByNum(scaler, 3, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid segment.scaler"),
				 errdetail("Its scale is NULL.")));
	*mean = VectorFromArray(DatumGetArrayTypeP(mean_datum), "mean of segment.scaler", &mean_length);
	*scale = VectorFromArray(DatumGetArrayTypeP(scale_datum), "scale of segment.scaler", &scale_length);
	VectorCheckLength(scale_length, mean_length, "scale of segment.scaler", NULL);
	for (int j = 0; j < scale_length; j++)
		if ((*scale)[j] == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid segment.scaler"),
					 errdetail("Element %d of its scale is 0.", j + 1)));
	return mean_length;
}

/* (vec - mean) / scale, or its inverse vec * scale + mean */
static Datum
ScalerApply(FunctionCallInfo fcinfo, bool inverse)
{
	const double *mean;
	const double *scale_by;
	int			dims = ScalerFromDatum(PG_GETARG_HEAPTUPLEHEADER(1), &mean, &scale_by);
	int			length;
	const double *x = VectorFromArray(PG_GETARG_ARRAYTYPE_P(0), "vec", &length);
	double	   *result;

	VectorCheckLength(length, dims, "vec", NULL);
	result = palloc(dims * sizeof(double));
	for (int j = 0; j < dims; j++)
		result[j] = inverse ? x[j] * scale_by[j] + mean[j] : (x[j] - mean[j]) / scale_by[j];
	PG_RETURN_ARRAYTYPE_P(VectorToArray(result, dims));
}

/* scale(vec, scaler): (vec - mean) / scale */
PG_FUNCTION_INFO_V1(scale);
Datum
scale(PG_FUNCTION_ARGS)
{
	return ScalerApply(fcinfo, false);
}

/* unscale(vec, scaler): vec * scale + mean, the inverse of scale */
PG_FUNCTION_INFO_V1(unscale);
Datum
unscale(PG_FUNCTION_ARGS)
{
	return ScalerApply(fcinfo, true);
}

/* Order texts by length, then byte for byte (for finding repeats) */
static int
OneHotCompareTexts(const void *a, const void *b)
{
	text	   *ta = *(text *const *) a;
	text	   *tb = *(text *const *) b;
	Size		la = VARSIZE_ANY_EXHDR(ta);
	Size		lb = VARSIZE_ANY_EXHDR(tb);

	if (la != lb)
		return la < lb ? -1 : 1;
	return memcmp(VARDATA_ANY(ta), VARDATA_ANY(tb), la);
}

/* Raise the error for categories with a NULL or a repeated value */
static void
OneHotCheckCategories(Datum *elements, bool *element_nulls, int count)
{
	text	  **sorted = palloc(count * sizeof(text *));

	for (int i = 0; i < count; i++)
	{
		if (element_nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("categories must not contain NULL elements"),
					 errdetail("Element %d is NULL.", i + 1)));
		sorted[i] = DatumGetTextPP(elements[i]);
	}
	qsort(sorted, count, sizeof(text *), OneHotCompareTexts);
	for (int i = 1; i < count; i++)
		if (OneHotCompareTexts(&sorted[i - 1], &sorted[i]) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("categories must not repeat a value"),
					 errdetail("The value \"%s\" is there more than once.", text_to_cstring(sorted[i]))));
	pfree(sorted);
}

/*
 * one_hot(value, categories): 1 at the position of value among the
 * categories, 0 elsewhere; NULL or unknown values give all zeros.  Values
 * are compared byte for byte, so the result does not depend on collations.
 * The categories must be distinct and not NULL (22023, 22004).
 */
PG_FUNCTION_INFO_V1(one_hot);
Datum
one_hot(PG_FUNCTION_ARGS)
{
	ArrayType  *categories;
	Datum	   *elements;
	bool	   *element_nulls;
	int			count;
	double	   *result;

	if (PG_ARGISNULL(1))
		PG_RETURN_NULL();
	categories = PG_GETARG_ARRAYTYPE_P(1);
	if (ARR_NDIM(categories) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("categories must be a one-dimensional array")));
	deconstruct_array(categories, TEXTOID, -1, false, TYPALIGN_INT, &elements, &element_nulls, &count);
	if (count == 0)
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(FLOAT8OID));
	OneHotCheckCategories(elements, element_nulls, count);
	result = palloc0(count * sizeof(double));
	if (!PG_ARGISNULL(0))
	{
		text	   *value = PG_GETARG_TEXT_PP(0);
		Size		length = VARSIZE_ANY_EXHDR(value);

		for (int i = 0; i < count; i++)
		{
			text	   *category;

			category = DatumGetTextPP(elements[i]);
			if (VARSIZE_ANY_EXHDR(category) == length &&
				memcmp(VARDATA_ANY(category), VARDATA_ANY(value), length) == 0)
			{
				result[i] = 1.0;
				break;
			}
		}
	}
	PG_RETURN_ARRAYTYPE_P(VectorToArray(result, count));
}
