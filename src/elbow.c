/*-------------------------------------------------------------------------
 *
 * elbow.c
 *	  segment.elbow: k-means inertia for a range of k, with the Kneedle elbow
 *
 * The source is read once; each k is fitted exactly as kmeans_fit(source, k,
 * n_init, 300, 1e-4, seed) would, so a row's inertia is that fit's.  The
 * runs of all the fits are spread over parallel workers together.
 *
 * The elbow is found with Kneedle (Satopää, Albrecht, Irwin and Raghavan
 * 2011, "Finding a 'Kneedle' in a Haystack"): scale k and inertia to [0, 1],
 * flip the convex decreasing curve into a concave increasing one, and take
 * the k where it rises highest above the diagonal.  Taking the largest
 * difference (the offline form) marks exactly one k; ties go to the smaller.
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"

#include "compat.h"
#include "elbow.h"
#include "model.h"
#include "vector.h"

/* Index of the Kneedle elbow of a convex decreasing curve y over x */
int
KneedleElbow(const double *x, const double *y, int count)
{
	double		x_min = x[0];
	double		x_max = x[0];
	double		y_min = y[0];
	double		y_max = y[0];
	int			best = 0;
	double		best_difference = 0.0;

	for (int i = 1; i < count; i++)
	{
		x_min = Min(x_min, x[i]);
		x_max = Max(x_max, x[i]);
		y_min = Min(y_min, y[i]);
		y_max = Max(y_max, y[i]);
	}
	for (int i = 0; i < count; i++)
	{
		double		x_scaled = x_max > x_min ? (x[i] - x_min) / (x_max - x_min) : 0.0;
		double		y_scaled = y_max > y_min ? (y[i] - y_min) / (y_max - y_min) : 0.0;
		/* flipped: 1 - y_scaled rises where the inertia falls */
		double		difference = (1.0 - y_scaled) - x_scaled;

		if (i == 0 || difference > best_difference)
		{
			best_difference = difference;
			best = i;
		}
	}
	return best;
}

/* elbow(source, k_min, k_max, n_init, seed): one row per k */
PG_FUNCTION_INFO_V1(elbow);
Datum
elbow(PG_FUNCTION_ARGS)
{
	int			k_min = PG_GETARG_INT32(1);
	int			k_max = PG_GETARG_INT32(2);
	KMeansParams params = KMeansParamsFromArgs(fcinfo, -1, 3, -1, -1, 4);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SourceData	source;
	KMeansData	data;
	int			count;
	double	   *ks;
	double	   *inertias;
	int		   *k_values;
	KMeansModel *models;
	int			chosen;

	if (k_min < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k_min must be at least 1")));
	if (k_min > k_max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k_min (%d) is larger than k_max (%d)", k_min, k_max)));

	SegmentInitMaterializedSRF(fcinfo);
	KMeansReadSource(PG_GETARG_TEXT_PP(0), "elbow", false, KMeansFitsExtraPerRow(k_min, k_max),
					 KMEANS_EXTRA_PER_DIM, &source, &data);
	if (k_max > data.x.rows)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k_max (%d) is larger than the number of rows (" INT64_FORMAT ")",
						k_max, data.x.rows)));

	/* the fits of every k together: their runs go to parallel workers as one */
	count = k_max - k_min + 1;
	ks = palloc(count * sizeof(double));
	inertias = palloc(count * sizeof(double));
	k_values = palloc(count * sizeof(int));
	models = palloc(count * sizeof(KMeansModel));
	for (int i = 0; i < count; i++)
		k_values[i] = k_min + i;
	KMeansFitMany(&data, &params, k_values, count, models);
	for (int i = 0; i < count; i++)
	{
		ks[i] = k_values[i];
		inertias[i] = models[i].inertia;
	}
	chosen = KneedleElbow(ks, inertias, count);

	for (int i = 0; i < count; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {0};

		values[0] = Int32GetDatum(k_min + i);
		values[1] = Float8GetDatum(inertias[i]);
		values[2] = BoolGetDatum(i == chosen);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* kneedle(x, y): the 1-based position of the Kneedle elbow of y over x */
PG_FUNCTION_INFO_V1(kneedle);
Datum
kneedle(PG_FUNCTION_ARGS)
{
	int			x_length;
	int			y_length;
	double	   *x = VectorFromArray(PG_GETARG_ARRAYTYPE_P(0), "x", &x_length);
	double	   *y = VectorFromArray(PG_GETARG_ARRAYTYPE_P(1), "y", &y_length);

	VectorCheckLength(y_length, x_length, "y", NULL);
	PG_RETURN_INT32(KneedleElbow(x, y, x_length) + 1);
}
