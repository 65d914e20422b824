/*-------------------------------------------------------------------------
 *
 * gamma_gamma.c
 *	  The Gamma-Gamma model of spend per transaction: fit and a customer's
 *	  expected spend
 *
 * Fader, Hardie and Lee, "RFM and CLV: using iso-value curves for customer
 * base analysis" (Journal of Marketing Research 42(4), 2005), after Colombo
 * and Jiang (1999).  A customer's transactions are worth gamma(p, ν) amounts
 * around its mean p/ν, and ν is drawn from a gamma(q, γ) distribution
 * across customers.  The fit maximizes the likelihood of each customer's
 * number of transactions x and their mean value m,
 *
 *   Γ(px+q)/(Γ(px) Γ(q)) γ^q m^(px-1) x^(px) / (γ + m x)^(px+q),
 *
 * over the logarithms of p, q and γ; the customers are sorted and identical
 * ones counted once, so the fit is the same bits whatever the order of the
 * rows.  The expected spend of a customer is the posterior mean of p/ν,
 * (γ + m x) p / (p x + q - 1): a weighted mean of the population's
 * γ p / (q - 1) and the customer's own m, with weight p x / (p x + q - 1).
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
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/memutils.h"

#include "gamma_gamma.h"
#include "minimize.h"
#include "vector.h"

PG_FUNCTION_INFO_V1(gamma_gamma_fit_accum);
PG_FUNCTION_INFO_V1(gamma_gamma_fit_final);
PG_FUNCTION_INFO_V1(gamma_gamma_expected_value);

/*
 * A fit that ends within one of the minimizer's wall (a parameter beyond
 * e^29 or below e^-29) has no maximum: the likelihood keeps rising towards a
 * boundary, as when every customer's mean is the same; it is refused
 */
#define GAMMA_GAMMA_MAX_LOG_PARAMETER (MINIMIZE_WALL - 1.0)

/* One customer (or several identical ones, counted) */
typedef struct GammaGammaCustomer
{
	int32		x;
	double		mean_value;
	double		count;
} GammaGammaCustomer;

/* The aggregate's state: the customers seen so far */
typedef struct GammaGammaState
{
	GammaGammaCustomer *customers;
	int64		n;
	int64		capacity;
} GammaGammaState;

/* The log-likelihood of all the customers at log-parameters theta */
static double
GammaGammaLogLikelihood(const GammaGammaState *state, const double *theta)
{
	double		p = exp(theta[0]);
	double		q = exp(theta[1]);
	double		gamma = exp(theta[2]);
	double		total = 0.0;

	for (int64 i = 0; i < state->n; i++)
	{
		const GammaGammaCustomer *c = &state->customers[i];
		double		px = p * c->x;

		total += c->count * (lgamma(px + q) - lgamma(px) - lgamma(q) + q * log(gamma)
							 + (px - 1.0) * log(c->mean_value) + px * log((double) c->x)
							 - (px + q) * log(gamma + c->mean_value * c->x));
	}
	return isfinite(total) ? total : -get_float8_infinity();
}

/* The objective of the fit: minus the log-likelihood at log-parameters theta */
static double
GammaGammaObjective(const void *arg, const double *theta)
{
	return -GammaGammaLogLikelihood((const GammaGammaState *) arg, theta);
}

/* Order of customers: by x, then mean value (a canonical order) */
static int
GammaGammaCompare(const void *pa, const void *pb)
{
	const GammaGammaCustomer *ca = (const GammaGammaCustomer *) pa;
	const GammaGammaCustomer *cb = (const GammaGammaCustomer *) pb;

	if (ca->x != cb->x)
		return ca->x < cb->x ? -1 : 1;
	if (ca->mean_value != cb->mean_value)
		return ca->mean_value < cb->mean_value ? -1 : 1;
	return 0;
}

/* gamma_gamma_fit(x, mean_value) transition: check and keep one customer; NULLs skipped */
Datum
gamma_gamma_fit_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	MemoryContext old;
	GammaGammaState *state;
	int32		x;
	double		mean_value;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "gamma_gamma_fit_accum called in non-aggregate context");
	state = PG_ARGISNULL(0) ? NULL : (GammaGammaState *) PG_GETARG_POINTER(0);
	if (state == NULL)
	{
		state = MemoryContextAllocZero(aggcontext, sizeof(GammaGammaState));
		state->capacity = 1024;
		state->customers = MemoryContextAlloc(aggcontext, state->capacity * sizeof(GammaGammaCustomer));
	}
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(state);
	x = PG_GETARG_INT32(1);
	mean_value = PG_GETARG_FLOAT8(2);
	if (x <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("x must be above 0: %d", x),
				 errhint("The model is fitted on the customers with x > 0 transactions behind their mean value.")));
	if (!isfinite(mean_value) || mean_value <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a mean value must be finite and above 0: %g", mean_value),
				 errhint("Leave out the customers whose transactions are worth nothing or less.")));
	if (state->n == state->capacity)
	{
		/* the customers and, in the final function, their sorted copy */
		MemoryCheck(MemoryProduct(2 * state->capacity, 2 * sizeof(GammaGammaCustomer)), "segment.gamma_gamma_fit");
		old = MemoryContextSwitchTo(aggcontext);
		state->capacity *= 2;
		state->customers = repalloc_huge(state->customers, MemoryProduct(state->capacity, sizeof(GammaGammaCustomer)));
		MemoryContextSwitchTo(old);
	}
	state->customers[state->n].x = x;
	state->customers[state->n].mean_value = mean_value;
	state->customers[state->n].count = 1;
	state->n++;
	PG_RETURN_POINTER(state);
}

/* gamma_gamma_fit final: the maximum-likelihood model, or NULL without a customer */
Datum
gamma_gamma_fit_final(PG_FUNCTION_ARGS)
{
	GammaGammaState *state = PG_ARGISNULL(0) ? NULL : (GammaGammaState *) PG_GETARG_POINTER(0);
	GammaGammaState grouped;
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {0};
	double		theta[3] = {0.0, 0.0, 0.0};

	if (state == NULL || state->n == 0)
		PG_RETURN_NULL();
	/*
	 * identical customers once, counted, in a canonical order (a sorted copy:
	 * the state stays as it is for a window that reads it again)
	 */
	grouped.customers = palloc(MemoryProduct(state->n, sizeof(GammaGammaCustomer)));
	memcpy(grouped.customers, state->customers, state->n * sizeof(GammaGammaCustomer));
	qsort(grouped.customers, state->n, sizeof(GammaGammaCustomer), GammaGammaCompare);
	grouped.n = 0;
	for (int64 i = 0; i < state->n; i++)
	{
		if (grouped.n > 0 && GammaGammaCompare(&grouped.customers[grouped.n - 1], &grouped.customers[i]) == 0)
			grouped.customers[grouped.n - 1].count += 1;
		else
			grouped.customers[grouped.n++] = grouped.customers[i];
	}
	/* a fit running off to a boundary is refused, not returned */
	if (MinimizeNelderMead(GammaGammaObjective, &grouped, theta, 3) < 0 ||
		!isfinite(GammaGammaLogLikelihood(&grouped, theta)) ||
		!(fabs(theta[0]) < GAMMA_GAMMA_MAX_LOG_PARAMETER && fabs(theta[1]) < GAMMA_GAMMA_MAX_LOG_PARAMETER &&
		  fabs(theta[2]) < GAMMA_GAMMA_MAX_LOG_PARAMETER))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("the Gamma-Gamma fit did not converge on %lld customers", (long long) state->n),
				 errhint("The model needs customers whose mean values differ, some over several transactions.")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = Float8GetDatum(exp(theta[0]));
	values[1] = Float8GetDatum(exp(theta[1]));
	values[2] = Float8GetDatum(exp(theta[2]));
	values[3] = Float8GetDatum(GammaGammaLogLikelihood(&grouped, theta));
	values[4] = Int64GetDatum(state->n);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/* The model's three parameters from a segment.gamma_gamma_model; false when a field is NULL */
bool
GammaGammaModelParameters(HeapTupleHeader model, GammaGammaParameters *g)
{
	bool		isnull[3];
	Datum		fields[3];

	for (int i = 0; i < 3; i++)
		fields[i] = GetAttributeByNum(model, i + 1, &isnull[i]);
	if (isnull[0] || isnull[1] || isnull[2])
		return false;
	g->p = DatumGetFloat8(fields[0]);
	g->q = DatumGetFloat8(fields[1]);
	g->gamma = DatumGetFloat8(fields[2]);
	if (!(g->p > 0 && g->q > 0 && g->gamma > 0 && isfinite(g->p) && isfinite(g->q) && isfinite(g->gamma)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a Gamma-Gamma model's p, q and gamma must be finite and above 0")));
	return true;
}

/*
 * The expected spend per transaction of a customer with x transactions of
 * mean value m: (γ + m x) p / (p x + q - 1); with x = 0 the population's
 * mean γ p / (q - 1), m unused
 */
double
GammaGammaExpectedValue(const GammaGammaParameters *g, int32 x, double mean_value)
{
	double		shrink = g->p * x + g->q - 1.0;

	if (x < 0 || (x > 0 && !(isfinite(mean_value) && mean_value > 0)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("x must not be negative, and a mean value must be finite and above 0 when x > 0: x = %d, mean value = %g",
						x, mean_value)));
	if (!(shrink > 0))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("the expected spend is infinite when p x + q <= 1: p = %g, q = %g, x = %d", g->p, g->q, x)));
	if (x == 0)
		return g->gamma * g->p / shrink;
	return (g->gamma + mean_value * x) * g->p / shrink;
}

/*
 * gamma_gamma_expected_value(model, x, mean_value): the expected spend per
 * transaction of a customer with x transactions of this mean value
 */
Datum
gamma_gamma_expected_value(PG_FUNCTION_ARGS)
{
	GammaGammaParameters g;

	if (!GammaGammaModelParameters(PG_GETARG_HEAPTUPLEHEADER(0), &g))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(GammaGammaExpectedValue(&g, PG_GETARG_INT32(1), PG_GETARG_FLOAT8(2)));
}
