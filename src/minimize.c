/*-------------------------------------------------------------------------
 *
 * minimize.c
 *	  Nelder-Mead minimization, restarted until a restart no longer improves
 *
 * Nelder and Mead, "A simplex method for function minimization" (The
 * Computer Journal 7(4), 1965), with the standard coefficients: reflection
 * 1, expansion 2, contraction 1/2, shrink 1/2.  The fits of BG/NBD and
 * Gamma-Gamma run it over the logarithms of their parameters, so that every
 * point it tries is a valid model, and restart it from its result as
 * lifetimes' fitters do with scipy, so that a simplex that collapsed early
 * does not stop short of the optimum.
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/float.h"

#include "minimize.h"

/* iterations per start, restarts, and the spread of values that ends a start */
#define MINIMIZE_MAX_ITERATIONS 20000
#define MINIMIZE_MAX_RESTARTS 20
#define MINIMIZE_TOLERANCE 1e-12

/*
 * The objective at theta, +infinity beyond the wall |theta_j| =
 * MINIMIZE_WALL: where a model's likelihood rises forever towards a limit
 * (a parameter running to 0 or infinity), the simplex stops at the wall
 * instead of crawling along the ridge until the iterations run out
 */
static double
Evaluate(MinimizeObjective objective, const void *arg, const double *theta, int dims)
{
	for (int j = 0; j < dims; j++)
		if (fabs(theta[j]) > MINIMIZE_WALL)
			return get_float8_infinity();
	return objective(arg, theta);
}

/* The vertex of the lowest value among count (the first on ties) */
static int
BestVertex(const double *values, int count)
{
	int			best = 0;

	for (int v = 1; v < count; v++)
		if (values[v] < values[best])
			best = v;
	return best;
}

/*
 * Whether every vertex is within MINIMIZE_TOLERANCE (relative) of the best
 * one: where the function is flat to rounding, as along a ridge to a limit
 * of the model, the values' spread stays at the rounding noise of the sum
 * while the simplex shrinks to a point, and a collapsed simplex has nothing
 * more to find
 */
static bool
SimplexCollapsed(double simplex[][MINIMIZE_MAX_DIMS], int dims, int best)
{
	for (int v = 0; v <= dims; v++)
		for (int j = 0; j < dims; j++)
			if (fabs(simplex[v][j] - simplex[best][j]) > MINIMIZE_TOLERANCE * (1.0 + fabs(simplex[best][j])))
				return false;
	return true;
}

/*
 * Minimize objective from theta (dims <= MINIMIZE_MAX_DIMS) within the
 * wall, leaving the minimum in theta; returns the number of iterations, or
 * -1 when it did not converge within the limits
 */
int
MinimizeNelderMead(MinimizeObjective objective, const void *arg, double *theta, int dims)
{
	double		simplex[MINIMIZE_MAX_DIMS + 1][MINIMIZE_MAX_DIMS];
	double		values[MINIMIZE_MAX_DIMS + 1];
	int			total_iterations = 0;
	double		previous_best = get_float8_infinity();

	Assert(dims >= 1 && dims <= MINIMIZE_MAX_DIMS);
	for (int restart = 0; restart < MINIMIZE_MAX_RESTARTS; restart++)
	{
		int			iterations = 0;
		int			best;

		for (int v = 0; v <= dims; v++)
		{
			for (int j = 0; j < dims; j++)
				simplex[v][j] = theta[j] + (v == j + 1 ? 0.1 : 0.0);
			values[v] = Evaluate(objective, arg, simplex[v], dims);
		}
		for (;;)
		{
			int			worst = 0,
						second;
			double		centroid[MINIMIZE_MAX_DIMS] = {0};
			double		reflected[MINIMIZE_MAX_DIMS];
			double		value_reflected;

			CHECK_FOR_INTERRUPTS();
			best = BestVertex(values, dims + 1);
			for (int v = 1; v <= dims; v++)
				if (values[v] > values[worst])
					worst = v;
			second = best;
			for (int v = 0; v <= dims; v++)
				if (v != worst && values[v] > values[second])
					second = v;
			if (fabs(values[worst] - values[best]) <= MINIMIZE_TOLERANCE * (1.0 + fabs(values[best])) ||
				SimplexCollapsed(simplex, dims, best))
				break;
			if (++iterations > MINIMIZE_MAX_ITERATIONS)
				return -1;
			for (int v = 0; v <= dims; v++)
				if (v != worst)
					for (int j = 0; j < dims; j++)
						centroid[j] += simplex[v][j] / dims;
			for (int j = 0; j < dims; j++)
				reflected[j] = centroid[j] + (centroid[j] - simplex[worst][j]);
			value_reflected = Evaluate(objective, arg, reflected, dims);
			if (value_reflected < values[best])
			{
				double		expanded[MINIMIZE_MAX_DIMS];
				double		value_expanded;

				for (int j = 0; j < dims; j++)
					expanded[j] = centroid[j] + 2.0 * (centroid[j] - simplex[worst][j]);
				value_expanded = Evaluate(objective, arg, expanded, dims);
				if (value_expanded < value_reflected)
				{
					memcpy(simplex[worst], expanded, sizeof(double) * dims);
					values[worst] = value_expanded;
				}
				else
				{
					memcpy(simplex[worst], reflected, sizeof(double) * dims);
					values[worst] = value_reflected;
				}
			}
			else if (value_reflected < values[second])
			{
				memcpy(simplex[worst], reflected, sizeof(double) * dims);
				values[worst] = value_reflected;
			}
			else
			{
				double		contracted[MINIMIZE_MAX_DIMS];
				double		value_contracted;
				bool		outside = value_reflected < values[worst];

				for (int j = 0; j < dims; j++)
					contracted[j] = outside ? centroid[j] + 0.5 * (reflected[j] - centroid[j])
						: centroid[j] + 0.5 * (simplex[worst][j] - centroid[j]);
				value_contracted = Evaluate(objective, arg, contracted, dims);
				if (value_contracted < (outside ? value_reflected : values[worst]))
				{
					memcpy(simplex[worst], contracted, sizeof(double) * dims);
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
						values[v] = Evaluate(objective, arg, simplex[v], dims);
					}
				}
			}
		}
		total_iterations += iterations;
		best = BestVertex(values, dims + 1);
		memcpy(theta, simplex[best], sizeof(double) * dims);
		if (!(values[best] < previous_best - MINIMIZE_TOLERANCE * (1.0 + fabs(values[best]))))
			return total_iterations;
		previous_best = values[best];
	}
	return -1;
}
