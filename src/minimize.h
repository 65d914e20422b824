/*-------------------------------------------------------------------------
 *
 * minimize.h
 *	  Nelder-Mead minimization of a smooth function of a few parameters,
 *	  shared by the customer-value models' maximum-likelihood fits
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEGMENT_MINIMIZE_H
#define SEGMENT_MINIMIZE_H

/* the most parameters a model has */
#define MINIMIZE_MAX_DIMS 4

/*
 * the wall of the search: |theta_j| <= MINIMIZE_WALL (the fits run on the
 * logarithms of their parameters, so e^-30 to e^30)
 */
#define MINIMIZE_WALL 30.0

/* the function minimized: its value at theta, +infinity where undefined */
typedef double (*MinimizeObjective) (const void *arg, const double *theta);

extern int	MinimizeNelderMead(MinimizeObjective objective, const void *arg, double *theta, int dims);

#endif							/* SEGMENT_MINIMIZE_H */
