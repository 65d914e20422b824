/*-------------------------------------------------------------------------
 *
 * bgnbd.c
 *	  The BG/NBD model of repeat purchases: fit, probability alive, expected
 *	  purchases over a horizon, and the probability of n purchases of a new
 *	  customer
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

#include "bgnbd.h"
#include "minimize.h"
#include "vector.h"

PG_FUNCTION_INFO_V1(bgnbd_fit_accum);
PG_FUNCTION_INFO_V1(bgnbd_fit_final);
PG_FUNCTION_INFO_V1(bgnbd_probability_alive);
PG_FUNCTION_INFO_V1(bgnbd_probability_of_purchases);
PG_FUNCTION_INFO_V1(bgnbd_expected_purchases);

/* the most terms of the hypergeometric series of the conditional expectation */
#define BGNBD_MAX_SERIES_TERMS 100000000

/* One customer (or several identical ones, counted) */
typedef struct BgnbdCustomer
{
	int32		x;
	double		t_x;
	double		t;
	double		count;
} BgnbdCustomer;

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

/* The terms of a customer's log-likelihood that depend on x alone */
typedef struct BgnbdTermsOfX
{
	int32		x;
	double		common;			/* ln Γ(r+x) - ln Γ(r) + r ln α */
	double		gone_never;		/* ln B(a, b+x) - ln B(a, b) */
	double		gone_after;		/* ln B(a+1, b+x-1) - ln B(a, b), for x > 0 */
} BgnbdTermsOfX;

/*
 * The log-likelihood of one customer (the paper's equation 6):
 * ln Γ(r+x) - ln Γ(r) + r ln α + ln[B(a, b+x)/B(a, b) (α+t)^-(r+x)
 * + [x > 0] B(a+1, b+x-1)/B(a, b) (α+t_x)^-(r+x)], from the terms of its x
 */
static double
BgnbdCustomerLogLikelihood(const BgnbdTermsOfX *terms, double r, double alpha, double t_x, double t)
{
	double		gone_never = terms->gone_never - (r + terms->x) * log(alpha + t);
	double		gone_after;
	double		high;

	if (terms->x == 0)
		return terms->common + gone_never;
	gone_after = terms->gone_after - (r + terms->x) * log(alpha + t_x);
	high = Max(gone_never, gone_after);
	return terms->common + high + log(exp(gone_never - high) + exp(gone_after - high));
}

/*
 * The log-likelihood of all the customers at log-parameters theta; the
 * customers are sorted by x, so the terms of an x (six lgamma calls) are
 * worked out once per x
 */
static double
BgnbdLogLikelihood(const BgnbdState *state, const double *theta)
{
	double		r = exp(theta[0]);
	double		alpha = exp(theta[1]);
	double		a = exp(theta[2]);
	double		b = exp(theta[3]);
	double		beta_ab = LogBeta(a, b);
	double		total = 0.0;
	BgnbdTermsOfX terms = {.x = -1};

	for (int64 i = 0; i < state->n; i++)
	{
		const BgnbdCustomer *c = &state->customers[i];

		if (c->x != terms.x)
		{
			terms.x = c->x;
			terms.common = lgamma(r + c->x) - lgamma(r) + r * log(alpha);
			terms.gone_never = LogBeta(a, b + c->x) - beta_ab;
			terms.gone_after = c->x > 0 ? LogBeta(a + 1, b + c->x - 1) - beta_ab : 0.0;
		}
		total += c->count * BgnbdCustomerLogLikelihood(&terms, r, alpha, c->t_x, c->t);
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

/*
 * The objective of the fit: minus the log-likelihood at log-parameters
 * theta.  When the customers show no drop-out, the likelihood rises forever
 * as a goes to 0 (or b to infinity): the model tends to the NBD model of
 * purchases without drop-out, and the fit ends at the minimizer's wall (a of
 * about e^-30, every customer alive), a limit it may report.
 */
static double
BgnbdObjective(const void *arg, const double *theta)
{
	return -BgnbdLogLikelihood((const BgnbdState *) arg, theta);
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
	if (MinimizeNelderMead(BgnbdObjective, &grouped, theta, 4) < 0 || !isfinite(BgnbdLogLikelihood(&grouped, theta)))
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
bool
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
	if (!(isfinite(p->r) && isfinite(p->alpha) && isfinite(p->a) && isfinite(p->b)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a BG/NBD model's r, alpha, a and b must be finite")));
	return true;
}

/*
 * The odds that a customer with this history has dropped out, against being
 * alive (the paper's equation 12 is 1 / (1 + these odds)):
 * [x > 0] a / (b + x - 1) ((α + t) / (α + t_x))^(r + x), in logs
 */
static double
BgnbdDropOutOdds(const BgnbdParameters *p, int32 x, double t_x, double t)
{
	if (x == 0)
		return 0.0;
	return exp(log(p->a) - log(p->b + x - 1) + (p->r + x) * (log(p->alpha + t) - log(p->alpha + t_x)));
}

/* Refuse a horizon that is negative or infinite */
void
BgnbdCheckHorizon(double horizon)
{
	if (!isfinite(horizon) || horizon < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the horizon must be finite and not negative: %g", horizon)));
}

/* Refuse a customer's history that cannot be: x < 0, t_x outside [0, t] */
void
BgnbdCheckCustomer(int32 x, double t_x, double t)
{
	if (x < 0 || !isfinite(t_x) || !isfinite(t) || t_x < 0 || t_x > t)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("x must not be negative and t_x must be between 0 and t: x = %d, t_x = %g, t = %g", x, t_x, t)));
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
	BgnbdCheckCustomer(x, t_x, t);
	PG_RETURN_FLOAT8(1.0 / (1.0 + BgnbdDropOutOdds(&p, x, t_x, t)));
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

/*
 * Sum a series of terms that turn positive and whose ratios tend to z
 * monotonically from some term on: first, then each next term as
 * next_term(state, n, term) gives it, until the rest, at most
 * term / (1 - max(ratio, z)), is below 1e-17 of the sum (or a term is 0),
 * once n > settled; 22003 beyond BGNBD_MAX_SERIES_TERMS terms
 */
typedef double (*BgnbdNextTerm) (void *state, int64 n, double term);

static double
BgnbdSumSeries(BgnbdNextTerm next_term, void *state, double first, double z, double settled, double horizon, double alpha)
{
	double		term = first;
	double		sum = 0.0;

	for (int64 n = 1;; n++)
	{
		double		next;
		double		ratio;

		sum += term;
		next = next_term(state, n, term);
		ratio = next / term;
		term = next;
		if (term == 0.0 ||
			(n > settled && ratio < 1.0 && fabs(term) / (1.0 - Max(ratio, z)) <= 1e-17 * fabs(sum)))
			return sum;
		if (n >= BGNBD_MAX_SERIES_TERMS)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("the BG/NBD expectation over a horizon of %g does not converge in %d terms", horizon,
							BGNBD_MAX_SERIES_TERMS),
					 errhint("The horizon is too long for the model's alpha = %g: use a coarser time unit.", alpha)));
		if ((n & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
}

/* The state of the series of equation 10's terms */
typedef struct BgnbdSeries
{
	double		a;
	double		b;
	double		d;				/* r + x */
	double		x;
	double		bottom;			/* C = a + b + x - 1 */
	double		z;
	double		w;				/* w_n of the positive form */
	double		q;				/* q_n of the positive form */
} BgnbdSeries;

/* The next term w_{n+1} q_{n+1} of the positive form (see BgnbdExpectedPurchases) */
static double
BgnbdNextPositiveTerm(void *state, int64 n, double term)
{
	BgnbdSeries *s = (BgnbdSeries *) state;

	s->q += s->d * (s->bottom - s->q) / (s->bottom + n);
	s->w *= (s->a + n - 1.0) * s->z / (n + 1.0);
	return s->w * s->q;
}

/* The next term of 2F1(r+x, b+x; a+b+x-1; z), its n-th from 0 given */
static double
BgnbdNextPaperTerm(void *state, int64 n, double term)
{
	BgnbdSeries *s = (BgnbdSeries *) state;

	return term * (s->d + n - 1.0) * (s->b + s->x + n - 1.0) * s->z / ((s->bottom + n - 1.0) * n);
}

/*
 * The expected number of purchases in (t, t + horizon] of a customer with x
 * repeat transactions, the last at t_x, and age t: the paper's equation 10,
 *
 *   (a+b+x-1)/(a-1) [1 - ((α+t)/(α+t+h))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)]
 *   / (1 + [x > 0] a/(b+x-1) ((α+t)/(α+t_x))^(r+x)),   z = h/(α+t+h).
 *
 * As written, the bracket cancels to a few digits or none when a is near 1
 * (0/0 at a = 1) or b is large (six digits lost at b = 10^6, near the
 * no-drop-out limit).  So it is summed as a series of terms that need no
 * cancellation: Euler's transformation 2F1(A, B; C; z) = (1-z)^(C-A-B)
 * 2F1(C-A, C-B; C; z) turns the bracket into 1 - (1-z)^(a-1) Σ_n (a-1)_n/n!
 * z^n ρ_n, where ρ_n = (C-d)_n/(C)_n, C = a+b+x-1, d = r+x.  Since
 * Σ_n (a-1)_n/n! z^n is (1-z)^(1-a), the bracket is -(1-z)^(a-1)
 * Σ_{n>=1} (a-1)_n/n! z^n (ρ_n - 1), and with (a-1)_n = (a-1) (a)_{n-1} the
 * numerator is
 *
 *   (1-z)^(a-1) Σ_{n>=1} w_n q_n,  w_n = (a)_{n-1} z^n / n!,  q_n = C (1 - ρ_n),
 *
 * where q_1 = d and q_{n+1} = q_n + d (C - q_n)/(C + n): every term positive
 * once C - d + n is (at once for fitted models).  Its terms grow like
 * (1-z)^(1-a) before they fall, so where that would overflow (a large: the
 * drop-out probability the same for every customer) the paper's form is
 * summed instead, which has no cancellation there: its prefactor
 * (a+b+x-1)/(a-1) is then moderate and its series converges at the rate
 * z b/(a+b).
 */
double
BgnbdExpectedPurchases(const BgnbdParameters *p, double horizon, int32 x, double t_x, double t)
{
	BgnbdSeries s;
	double		log_rest = log(p->alpha + t) - log(p->alpha + t + horizon);	/* ln(1-z) */
	double		numerator;
	double		expected;

	if (horizon == 0.0)
		return 0.0;
	s.a = p->a;
	s.b = p->b;
	s.d = p->r + x;
	s.x = x;
	s.bottom = p->a + p->b + x - 1.0;
	s.z = horizon / (p->alpha + t + horizon);
	s.w = s.z;
	s.q = s.d;
	if (p->a <= 1.0 || (p->a - 1.0) * -log_rest + log(s.bottom + 1.0) < 600.0)
		numerator = exp((p->a - 1.0) * log_rest)
			* BgnbdSumSeries(BgnbdNextPositiveTerm, &s, s.z * s.d, s.z, s.d - s.bottom, horizon, p->alpha);
	else
		numerator = s.bottom / (p->a - 1.0)
			* -expm1(s.d * log_rest + log(BgnbdSumSeries(BgnbdNextPaperTerm, &s, 1.0, s.z, 0.0, horizon, p->alpha)));
	expected = numerator / (1.0 + BgnbdDropOutOdds(p, x, t_x, t));
	if (!isfinite(expected))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("the BG/NBD expectation over a horizon of %g is out of range for r = %g, alpha = %g, a = %g, b = %g",
						horizon, p->r, p->alpha, p->a, p->b)));
	return expected;
}

/*
 * bgnbd_expected_purchases(model, horizon, x, t_x, t): the expected number
 * of purchases over the next horizon of a customer with this history
 */
Datum
bgnbd_expected_purchases(PG_FUNCTION_ARGS)
{
	BgnbdParameters p;
	double		horizon = PG_GETARG_FLOAT8(1);
	int32		x = PG_GETARG_INT32(2);
	double		t_x = PG_GETARG_FLOAT8(3);
	double		t = PG_GETARG_FLOAT8(4);

	if (!BgnbdModelParameters(PG_GETARG_HEAPTUPLEHEADER(0), &p))
		PG_RETURN_NULL();
	BgnbdCheckHorizon(horizon);
	BgnbdCheckCustomer(x, t_x, t);
	PG_RETURN_FLOAT8(BgnbdExpectedPurchases(&p, horizon, x, t_x, t));
}
