/*-------------------------------------------------------------------------
 *
 * progress.h
 *	  Where a refresh is (progress.c)
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEGMENT_PROGRESS_H
#define SEGMENT_PROGRESS_H

extern void SegmentProgressInit(void);

#endif
