/*-------------------------------------------------------------------------
 *
 * customer_value.c
 *	  A customer's discounted expected revenue over a horizon, from a BG/NBD
 *	  model of its purchases and a Gamma-Gamma model of its spend
 *
 * Fader, Hardie and Lee, "RFM and CLV: using iso-value curves for customer
 * base analysis" (2005): the value is the expected number of purchases
 * times the expected spend per purchase, the two models being independent.
 * Discounting follows lifetimes' customer_lifetime_value: the horizon is cut
 * into periods of one time unit of the models (the last one possibly
 * shorter), the purchases expected in period k are E[Y(k)] - E[Y(k-1)], and
 * they are discounted by (1 + discount_rate)^k, at the period's end.
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "miscadmin.h"

#include "bgnbd.h"
#include "gamma_gamma.h"

PG_FUNCTION_INFO_V1(customer_value);

/* the most periods a discounted horizon is cut into */
#define CUSTOMER_VALUE_MAX_PERIODS 1000000

/*
 * customer_value(bgnbd, gamma_gamma, horizon, x, t_x, t, mean_value,
 * discount_rate): the discounted expected revenue over the next horizon of
 * a customer with x repeat transactions of mean value mean_value, the last
 * at t_x, and age t
 */
Datum
customer_value(PG_FUNCTION_ARGS)
{
	BgnbdParameters purchases;
	GammaGammaParameters spend;
	double		horizon = PG_GETARG_FLOAT8(2);
	int32		x = PG_GETARG_INT32(3);
	double		t_x = PG_GETARG_FLOAT8(4);
	double		t = PG_GETARG_FLOAT8(5);
	double		mean_value = PG_GETARG_FLOAT8(6);
	double		discount_rate = PG_GETARG_FLOAT8(7);
	double		value_per_purchase;
	double		discounted = 0.0;
	double		before = 0.0;
	double		periods;

	if (!BgnbdModelParameters(PG_GETARG_HEAPTUPLEHEADER(0), &purchases) ||
		!GammaGammaModelParameters(PG_GETARG_HEAPTUPLEHEADER(1), &spend))
		PG_RETURN_NULL();
	BgnbdCheckHorizon(horizon);
	if (!isfinite(discount_rate) || discount_rate < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the discount rate must be finite and not negative: %g", discount_rate),
				 errhint("It is the rate per time unit of the models: per week when t is in weeks.")));
	BgnbdCheckCustomer(x, t_x, t);
	value_per_purchase = GammaGammaExpectedValue(&spend, x, mean_value);
	if (discount_rate == 0.0)
		PG_RETURN_FLOAT8(value_per_purchase * BgnbdExpectedPurchases(&purchases, horizon, x, t_x, t));
	periods = ceil(horizon);
	if (periods > CUSTOMER_VALUE_MAX_PERIODS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a discounted horizon must span at most %d time units: %g", CUSTOMER_VALUE_MAX_PERIODS, horizon),
				 errhint("Use a coarser time unit.")));
	for (int k = 1; k <= (int) periods; k++)
	{
		double		cumulative = BgnbdExpectedPurchases(&purchases, Min((double) k, horizon), x, t_x, t);

		CHECK_FOR_INTERRUPTS();
		discounted += (cumulative - before) / pow(1.0 + discount_rate, k);
		before = cumulative;
	}
	PG_RETURN_FLOAT8(value_per_purchase * discounted);
}
