/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  The few server APIs that differ between PostgreSQL 13 and 17
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEGMENT_COMPAT_H
#define SEGMENT_COMPAT_H

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/tuplestore.h"

/*
 * Materialize-mode set-returning functions: InitMaterializedSRF appeared in
 * PostgreSQL 15; before it, set up the tuplestore by hand.
 */
#if PG_VERSION_NUM >= 150000
#define SegmentInitMaterializedSRF(fcinfo) InitMaterializedSRF((fcinfo), 0)
#else
static inline void
SegmentInitMaterializedSRF(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TupleDesc	tupdesc;
	MemoryContext old;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->setDesc = CreateTupleDescCopy(tupdesc);
	MemoryContextSwitchTo(old);
}
#endif

#endif							/* SEGMENT_COMPAT_H */
