/*-------------------------------------------------------------------------
 *
 * keyset.h
 *	  An exact, mergeable set of int64 or byte-string keys for aggregate states
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEGMENT_KEYSET_H
#define SEGMENT_KEYSET_H

#include "lib/stringinfo.h"

/*
 * One key.  For int64 sets "key" is the value itself; for byte-string sets it
 * is a 64-bit hash of the bytes, which live in the set's arena.
 */
typedef struct KeySetEntry
{
	uint64		key;
	uint32		offset;			/* start of the bytes in the arena */
	uint32		length;			/* number of bytes (0 for int64 keys) */
} KeySetEntry;

/*
 * Entries are appended unsorted (skipping a repeat of the last key, the usual
 * case for invoice lines that arrive grouped by invoice) and are sorted and
 * de-duplicated lazily, when the array fills up or the count is needed.
 */
typedef struct KeySet
{
	KeySetEntry *entries;
	int32		count;			/* entries in use */
	int32		sorted;			/* entries[0..sorted) are sorted and unique */
	int32		capacity;		/* entries allocated */
	bool		byte_keys;		/* keys are byte strings, not int64 */
	char	   *arena;			/* bytes of byte-string keys */
	uint32		arena_used;
	uint32		arena_size;
	MemoryContext context;		/* where entries and arena live */
} KeySet;

extern void KeySetInit(KeySet *set, MemoryContext context, bool byte_keys);
extern void KeySetAddInt(KeySet *set, int64 value);
extern void KeySetAddBytes(KeySet *set, const char *data, uint32 length);
extern int32 KeySetCount(KeySet *set);
extern void KeySetMerge(KeySet *into, const KeySet *from);
extern void KeySetSerialize(StringInfo buf, KeySet *set);
extern void KeySetDeserialize(StringInfo buf, KeySet *set);

#endif							/* SEGMENT_KEYSET_H */
