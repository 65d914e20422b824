/*-------------------------------------------------------------------------
 *
 * gamma_gamma.h
 *	  The Gamma-Gamma model's parameters and its expected spend, for
 *	  customer_value.c
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEGMENT_GAMMA_GAMMA_H
#define SEGMENT_GAMMA_GAMMA_H

#include "access/htup_details.h"

/* A model's parameters */
typedef struct GammaGammaParameters
{
	double		p;
	double		q;
	double		gamma;
} GammaGammaParameters;

extern bool GammaGammaModelParameters(HeapTupleHeader model, GammaGammaParameters *g);
extern double GammaGammaExpectedValue(const GammaGammaParameters *g, int32 x, double mean_value);

#endif							/* SEGMENT_GAMMA_GAMMA_H */
