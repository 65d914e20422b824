/*-------------------------------------------------------------------------
 *
 * bgnbd.c
 *	  The BG/NBD model of repeat purchases: fit, probability alive, and the
 *	  probability of n purchases of a new customer
 *
 * Fader, Hardie and Lee, "Counting your customers the easy way: an
 * alternative to the Pareto/NBD model" (Marketing Science 24(2), 2005).  A
 * customer buys at a Poisson rate drawn from a gamma(r, alpha) distribution
 * and, after each purchase, drops out with a probability drawn from a
 * beta(a, b) distribution.  The fit maximizes the likelihood of each
 * customer's repeat transactions x, time of the last one t_x and age t
 * (equation 6 of the paper) over the logarithms of the four parameters,
 * with the two terms of a customer's likelihood added in the log-sum-exp
 * form so that no term underflows.  The customers are sorted and identical
 * ones counted once, so the fit is the same bits whatever the order of the
 * rows.
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

#include "vector.h"

PG_FUNCTION_INFO_V1(bgnbd_fit_accum);
PG_FUNCTION_INFO_V1(bgnbd_fit_final);
PG_FUNCTION_INFO_V1(bgnbd_probability_alive);
PG_FUNCTION_INFO_V1(bgnbd_probability_of_purchases);

/* Nelder-Mead's limits: iterations per start, restarts, and the spread that ends it */
#define BGNBD_MAX_ITERATIONS 20000
#define BGNBD_MAX_RESTARTS 20
#define BGNBD_TOLERANCE 1e-12

/* One customer (or several identical ones, counted) */
typedef struct BgnbdCustomer
{
	int32		x;
	double		t_x;
	double		t;
	double		count;
} BgnbdCustomer;

/* A model's parameters */
typedef struct BgnbdParameters
{
	double		r;
	double		alpha;
	double		a;
	double		b;
} BgnbdParameters;

/* The aggregate's state: the customers seen so far */
typedef struct BgnbdState
{
	BgnbdCustomer *customers;
	int64		n;
	int64		capacity;
} BgnbdState;

/* log B(p, q) */
static double
LogBeta(double p, double q)
{
	return lgamma(p) + lgamma(q) - lgamma(p + q);
}

/*
 * The log-likelihood of one customer (the paper's equation 6):
 * ln Γ(r+x) - ln Γ(r) + r ln α + ln[B(a, b+x)/B(a, b) (α+t)^-(r+x)
 * + [x > 0] B(a+1, b+x-1)/B(a, b) (α+t_x)^-(r+x)]
 */
static double
BgnbdCustomerLogLikelihood(double r, double alpha, double a, double b, int32 x, double t_x, double t)
{
	double		common = lgamma(r + x) - lgamma(r) + r * log(alpha);
	double		beta_ab = LogBeta(a, b);
	double		gone_never = LogBeta(a, b + x) - beta_ab - (r + x) * log(alpha + t);
	double		gone_after;
	double		high;

	if (x == 0)
		return common + gone_never;
	gone_after = LogBeta(a + 1, b + x - 1) - beta_ab - (r + x) * log(alpha + t_x);
	high = Max(gone_never, gone_after);
	return common + high + log(exp(gone_never - high) + exp(gone_after - high));
}

/* The log-likelihood of all the customers at log-parameters theta */
static double
BgnbdLogLikelihood(const BgnbdState *state, const double *theta)
{
	double		r = exp(theta[0]);
	double		alpha = exp(theta[1]);
	double		a = exp(theta[2]);
	double		b = exp(theta[3]);
	double		total = 0.0;

	for (int64 i = 0; i < state->n; i++)
	{
		const BgnbdCustomer *c = &state->customers[i];

		total += c->count * BgnbdCustomerLogLikelihood(r, alpha, a, b, c->x, c->t_x, c->t);
	}
	return isfinite(total) ? total : -get_float8_infinity();
}

/* Order of customers: by x, then t_x, then t (a canonical order) */
static int
BgnbdCompare(const void *pa, const void *pb)
{
	const BgnbdCustomer *ca = (const BgnbdCustomer *) pa;
	const BgnbdCustomer *cb = (const BgnbdCustomer *) pb;

	if (ca->x != cb->x)
		return ca->x < cb->x ? -1 : 1;
	if (ca->t_x != cb->t_x)
		return ca->t_x < cb->t_x ? -1 : 1;
	if (ca->t != cb->t)
		return ca->t < cb->t ? -1 : 1;
	return 0;
}

/* The vertex of the lowest value among count (the first on ties) */
static int
BgnbdBestVertex(const double *values, int count)
{
	int			best = 0;

	for (int v = 1; v < count; v++)
		if (values[v] < values[best])
			best = v;
	return best;
}

/*
 * Minimize the negative log-likelihood over the log-parameters by
 * Nelder-Mead (the standard coefficients), restarted from its result until a
 * restart no longer improves it, as lifetimes' fitter does with scipy;
 * returns the number of iterations, or -1 when it did not converge
 */
static int
BgnbdMinimize(const BgnbdState *state, double *theta)
{
	const int	dims = 4;
	double		simplex[5][4];
	double		values[5];
	int			total_iterations = 0;
	double		previous_best = get_float8_infinity();

	for (int restart = 0; restart < BGNBD_MAX_RESTARTS; restart++)
	{
		int			iterations = 0;
		int			best;

		for (int v = 0; v <= dims; v++)
		{
			for (int j = 0; j < dims; j++)
				simplex[v][j] = theta[j] + (v == j + 1 ? 0.1 : 0.0);
			values[v] = -BgnbdLogLikelihood(state, simplex[v]);
		}
		for (;;)
		{
			int			worst = 0,
						second;
			double		centroid[4] = {0};
			double		reflected[4];
			double		value_reflected;

			CHECK_FOR_INTERRUPTS();
			best = BgnbdBestVertex(values, dims + 1);
			for (int v = 1; v <= dims; v++)
				if (values[v] > values[worst])
					worst = v;
			second = best;
			for (int v = 0; v <= dims; v++)
				if (v != worst && values[v] > values[second])
					second = v;
			if (fabs(values[worst] - values[best]) <= BGNBD_TOLERANCE * (1.0 + fabs(values[best])))
				break;
			if (++iterations > BGNBD_MAX_ITERATIONS)
				return -1;
			for (int v = 0; v <= dims; v++)
				if (v != worst)
					for (int j = 0; j < dims; j++)
						centroid[j] += simplex[v][j] / dims;
			for (int j = 0; j < dims; j++)
				reflected[j] = centroid[j] + (centroid[j] - simplex[worst][j]);
			value_reflected = -BgnbdLogLikelihood(state, reflected);
			if (value_reflected < values[best])
			{
				double		expanded[4];
				double		value_expanded;

				for (int j = 0; j < dims; j++)
					expanded[j] = centroid[j] + 2.0 * (centroid[j] - simplex[worst][j]);
				value_expanded = -BgnbdLogLikelihood(state, expanded);
				if (value_expanded < value_reflected)
				{
					memcpy(simplex[worst], expanded, sizeof(expanded));
					values[worst] = value_expanded;
				}
				else
				{
					memcpy(simplex[worst], reflected, sizeof(reflected));
					values[worst] = value_reflected;
				}
			}
			else if (value_reflected < values[second])
			{
				memcpy(simplex[worst], reflected, sizeof(reflected));
				values[worst] = value_reflected;
			}
			else
			{
				double		contracted[4];
				double		value_contracted;
				bool		outside = value_reflected < values[worst];

				for (int j = 0; j < dims; j++)
					contracted[j] = outside ? centroid[j] + 0.5 * (reflected[j] - centroid[j])
						: centroid[j] + 0.5 * (simplex[worst][j] - centroid[j]);
				value_contracted = -BgnbdLogLikelihood(state, contracted);
				if (value_contracted < (outside ? value_reflected : values[worst]))
				{
					memcpy(simplex[worst], contracted, sizeof(contracted));
					values[worst] = value_contracted;
				}
				else
				{
					/* shrink towards the best vertex */
					for (int v = 0; v <= dims; v++)
					{
						if (v == best)
							continue;
						for (int j = 0; j < dims; j++)
							simplex[v][j] = simplex[best][j] + 0.5 * (simplex[v][j] - simplex[best][j]);
						values[v] = -BgnbdLogLikelihood(state, simplex[v]);
					}
				}
			}
		}
		total_iterations += iterations;
		best = BgnbdBestVertex(values, dims + 1);
		memcpy(theta, simplex[best], sizeof(double) * dims);
		if (!(values[best] < previous_best - BGNBD_TOLERANCE * (1.0 + fabs(values[best]))))
			return total_iterations;
		previous_best = values[best];
	}
	return -1;
}

/* bgnbd_fit(x, t_x, t) transition: check and keep one customer; NULLs skipped */
Datum
bgnbd_fit_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	MemoryContext old;
	BgnbdState *state;
	int32		x;
	double		t_x;
	double		t;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "bgnbd_fit_accum called in non-aggregate context");
	state = PG_ARGISNULL(0) ? NULL : (BgnbdState *) PG_GETARG_POINTER(0);
	if (state == NULL)
	{
		state = MemoryContextAllocZero(aggcontext, sizeof(BgnbdState));
		state->capacity = 1024;
		state->customers = MemoryContextAlloc(aggcontext, state->capacity * sizeof(BgnbdCustomer));
	}
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_POINTER(state);
	x = PG_GETARG_INT32(1);
	t_x = PG_GETARG_FLOAT8(2);
	t = PG_GETARG_FLOAT8(3);
	if (x < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("x must not be negative: %d", x),
				 errhint("x counts a customer's repeat transactions.")));
	if (!isfinite(t_x) || !isfinite(t) || t_x < 0 || t_x > t || t <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("t_x must be between 0 and t, and t above 0: t_x = %g, t = %g", t_x, t),
				 errhint("t_x is the time of the last repeat transaction and t the customer's age, both since the first.")));
	if (x == 0 && t_x != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("t_x must be 0 for a customer without a repeat transaction: t_x = %g", t_x)));
	if (state->n == state->capacity)
	{
		/* the customers and, in the final function, their sorted copy */
		MemoryCheck(MemoryProduct(2 * state->capacity, 2 * sizeof(BgnbdCustomer)), "segment.bgnbd_fit");
		old = MemoryContextSwitchTo(aggcontext);
		state->capacity *= 2;
		state->customers = repalloc_huge(state->customers, MemoryProduct(state->capacity, sizeof(BgnbdCustomer)));
		MemoryContextSwitchTo(old);
	}
	state->customers[state->n].x = x;
	state->customers[state->n].t_x = t_x;
	state->customers[state->n].t = t;
	state->customers[state->n].count = 1;
	state->n++;
	PG_RETURN_POINTER(state);
}

/* bgnbd_fit final: the maximum-likelihood model, or NULL without a customer */
Datum
bgnbd_fit_final(PG_FUNCTION_ARGS)
{
	BgnbdState *state = PG_ARGISNULL(0) ? NULL : (BgnbdState *) PG_GETARG_POINTER(0);
	BgnbdState grouped;
	TupleDesc	tupdesc;
	Datum		values[6];
	bool		nulls[6] = {0};
	double		theta[4] = {0.0, 0.0, 0.0, 0.0};
	int64		customers;

	if (state == NULL || state->n == 0)
		PG_RETURN_NULL();
	/*
	 * identical customers once, counted, in a canonical order (a sorted copy:
	 * the state stays as it is for a window that reads it again)
	 */
	grouped.customers = palloc(MemoryProduct(state->n, sizeof(BgnbdCustomer)));
	memcpy(grouped.customers, state->customers, state->n * sizeof(BgnbdCustomer));
	qsort(grouped.customers, state->n, sizeof(BgnbdCustomer), BgnbdCompare);
	grouped.n = 0;
	for (int64 i = 0; i < state->n; i++)
	{
		if (grouped.n > 0 && BgnbdCompare(&grouped.customers[grouped.n - 1], &grouped.customers[i]) == 0)
			grouped.customers[grouped.n - 1].count += 1;
		else
			grouped.customers[grouped.n++] = grouped.customers[i];
	}
	customers = state->n;
	if (BgnbdMinimize(&grouped, theta) < 0 || !isfinite(BgnbdLogLikelihood(&grouped, theta)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("the BG/NBD fit did not converge on %lld customers", (long long) customers),
				 errhint("The model needs customers with and without repeat transactions over a period longer than their gaps.")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = Float8GetDatum(exp(theta[0]));
	values[1] = Float8GetDatum(exp(theta[1]));
	values[2] = Float8GetDatum(exp(theta[2]));
	values[3] = Float8GetDatum(exp(theta[3]));
	values[4] = Float8GetDatum(BgnbdLogLikelihood(&grouped, theta));
	values[5] = Int64GetDatum(customers);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/* The model's four parameters from a segment.bgnbd_model; false when a field is NULL */
static bool
BgnbdModelParameters(HeapTupleHeader model, BgnbdParameters *p)
{
	bool		isnull[4];
	Datum		fields[4];

	for (int i = 0; i < 4; i++)
		fields[i] = GetAttributeByNum(model, i + 1, &isnull[i]);
	if (isnull[0] || isnull[1] || isnull[2] || isnull[3])
		return false;
	p->r = DatumGetFloat8(fields[0]);
	p->alpha = DatumGetFloat8(fields[1]);
	p->a = DatumGetFloat8(fields[2]);
	p->b = DatumGetFloat8(fields[3]);
	if (!(p->r > 0 && p->alpha > 0 && p->a > 0 && p->b > 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a BG/NBD model's r, alpha, a and b must be above 0")));
	return true;
}

/*
 * bgnbd_probability_alive(model, x, t_x, t): the probability that a customer
 * with this history has not dropped out (the paper's equation 12)
 */
Datum
bgnbd_probability_alive(PG_FUNCTION_ARGS)
{
	BgnbdParameters p;
	int32		x = PG_GETARG_INT32(1);
	double		t_x = PG_GETARG_FLOAT8(2);
	double		t = PG_GETARG_FLOAT8(3);

	if (!BgnbdModelParameters(PG_GETARG_HEAPTUPLEHEADER(0), &p))
		PG_RETURN_NULL();
	if (x < 0 || !isfinite(t_x) || !isfinite(t) || t_x < 0 || t_x > t)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("x must not be negative and t_x must be between 0 and t: x = %d, t_x = %g, t = %g", x, t_x, t)));
	if (x == 0)
		PG_RETURN_FLOAT8(1.0);
	/* 1 / (1 + a / (b + x - 1) ((α + t) / (α + t_x))^(r + x)), in logs */
	PG_RETURN_FLOAT8(1.0 / (1.0 + exp(log(p.a) - log(p.b + x - 1) + (p.r + x) * (log(p.alpha + t) - log(p.alpha + t_x)))));
}

/*
 * bgnbd_probability_of_purchases(model, horizon, n): the probability that a
 * new customer makes n repeat purchases in (0, horizon] (the paper's
 * equation 8)
 */
Datum
bgnbd_probability_of_purchases(PG_FUNCTION_ARGS)
{
	BgnbdParameters p;
	double		horizon = PG_GETARG_FLOAT8(1);
	int32		n = PG_GETARG_INT32(2);
	double		log_share;
	double		log_rest;
	double		first;
	double		partial = 0.0;

	if (!BgnbdModelParameters(PG_GETARG_HEAPTUPLEHEADER(0), &p))
		PG_RETURN_NULL();
	if (n < 0 || !isfinite(horizon) || horizon < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n and the horizon must not be negative: n = %d, horizon = %g", n, horizon)));
	if (horizon == 0)
		PG_RETURN_FLOAT8(n == 0 ? 1.0 : 0.0);
	log_share = log(p.alpha) - log(p.alpha + horizon);
	log_rest = log(horizon) - log(p.alpha + horizon);
	/* B(a, b+n)/B(a, b) Γ(r+n)/(Γ(r) n!) (α/(α+t))^r (t/(α+t))^n */
	first = exp(LogBeta(p.a, p.b + n) - LogBeta(p.a, p.b) + lgamma(p.r + n) - lgamma(p.r) - lgamma(n + 1.0)
				+ p.r * log_share + n * log_rest);
	if (n == 0)
		PG_RETURN_FLOAT8(first);
	/* + B(a+1, b+n-1)/B(a, b) [1 - (α/(α+t))^r Σ_{j<n} Γ(r+j)/(Γ(r) j!) (t/(α+t))^j] */
	for (int j = 0; j < n; j++)
	{
		CHECK_FOR_INTERRUPTS();
		partial += exp(lgamma(p.r + j) - lgamma(p.r) - lgamma(j + 1.0) + p.r * log_share + j * log_rest);
	}
	PG_RETURN_FLOAT8(first + exp(LogBeta(p.a + 1, p.b + n - 1) - LogBeta(p.a, p.b)) * (1.0 - partial));
}
