/*-------------------------------------------------------------------------
 *
 * bgnbd.h
 *	  The BG/NBD model's parameters and its conditional expectation, for
 *	  customer_value.c
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEGMENT_BGNBD_H
#define SEGMENT_BGNBD_H

#include "access/htup_details.h"

/* A model's parameters */
typedef struct BgnbdParameters
{
	double		r;
	double		alpha;
	double		a;
	double		b;
} BgnbdParameters;

extern bool BgnbdModelParameters(HeapTupleHeader model, BgnbdParameters *p);
extern void BgnbdCheckCustomer(int32 x, double t_x, double t);
extern void BgnbdCheckHorizon(double horizon);
extern double BgnbdExpectedPurchases(const BgnbdParameters *p, double horizon, int32 x, double t_x, double t);

#endif							/* SEGMENT_BGNBD_H */
