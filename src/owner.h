/*-------------------------------------------------------------------------
 *
 * owner.h
 *	  The load-time set-up of owner.c (running a segmentation's work as its
 *	  owner)
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEGMENT_OWNER_H
#define SEGMENT_OWNER_H

extern void SegmentOwnerInit(void);

#endif							/* SEGMENT_OWNER_H */
