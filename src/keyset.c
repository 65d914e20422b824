/*-------------------------------------------------------------------------
 *
 * keyset.c
 *	  An exact, mergeable set of int64 or byte-string keys for aggregate states
 *
 * The per-customer feature aggregate counts distinct invoices and distinct
 * active hours, days, months and years exactly.  Invoice lines usually arrive
 * grouped by invoice, so most additions repeat the previous key and cost one
 * comparison.  Other keys are appended to an array that is sorted and
 * de-duplicated only when it fills up or when the count is read; memory stays
 * proportional to the number of distinct keys (at most twice it), and
 * merging two sets (the aggregate's combine step) is an append.
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "libpq/pqformat.h"
#include "utils/memutils.h"

#include "keyset.h"

#define KEYSET_INITIAL_CAPACITY 8
#define KEYSET_MAX_CAPACITY ((int32) (MaxAllocSize / sizeof(KeySetEntry)))
#define KEYSET_HASH_SEED UINT64CONST(0x5e97e47)

static void KeySetLimitError(void) pg_attribute_noreturn();

/* Raise the error for a set that would outgrow one allocation */
static void
KeySetLimitError(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("too many distinct values in one group"),
			 errdetail("A distinct-count set of segment.customer_features holds at most %d values or %zu bytes of invoice numbers.",
					   KEYSET_MAX_CAPACITY, (size_t) MaxAllocSize)));
}

/* Prepare an empty set; nothing is allocated until the first key */
void
KeySetInit(KeySet *set, MemoryContext context, bool byte_keys)
{
	memset(set, 0, sizeof(KeySet));
	set->byte_keys = byte_keys;
	set->context = context;
}

/* Order entries by hash (or value), then length, then bytes */
static int
KeySetCompare(const void *a, const void *b, void *arg)
{
	const KeySetEntry *x = (const KeySetEntry *) a;
	const KeySetEntry *y = (const KeySetEntry *) b;
	const KeySet *set = (const KeySet *) arg;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (!set->byte_keys)
		return 0;
	if (x->length != y->length)
		return x->length < y->length ? -1 : 1;
	return memcmp(set->arena + x->offset, set->arena + y->offset, x->length);
}

/* Sort and de-duplicate the entries; for byte keys rebuild the arena too */
static void
KeySetCompact(KeySet *set)
{
	int32		kept = 0;

	if (set->sorted == set->count)
		return;

	qsort_arg(set->entries, set->count, sizeof(KeySetEntry), KeySetCompare, set);
	for (int32 i = 0; i < set->count; i++)
	{
		if (kept > 0 && KeySetCompare(&set->entries[kept - 1], &set->entries[i], set) == 0)
			continue;
		set->entries[kept++] = set->entries[i];
	}
	set->count = kept;
	set->sorted = kept;

	/* Drop the bytes of removed duplicates, so memory follows distinct keys */
	if (set->byte_keys && set->arena != NULL)
	{
		uint32		used = 0;
		char	   *arena;

		for (int32 i = 0; i < kept; i++)
			used += set->entries[i].length;
		arena = MemoryContextAlloc(set->context, Max(used, 16));
		used = 0;
		for (int32 i = 0; i < kept; i++)
		{
			memcpy(arena + used, set->arena + set->entries[i].offset, set->entries[i].length);
			set->entries[i].offset = used;
			used += set->entries[i].length;
		}
		pfree(set->arena);
		set->arena = arena;
		set->arena_used = used;
		set->arena_size = Max(used, 16);
	}
}

/* Make room for one more entry: compact first, grow when mostly distinct */
static void
KeySetReserveEntry(KeySet *set)
{
	int32		capacity;

	if (set->count < set->capacity)
		return;
	if (set->entries == NULL)
	{
		set->entries = MemoryContextAlloc(set->context,
										  KEYSET_INITIAL_CAPACITY * sizeof(KeySetEntry));
		set->capacity = KEYSET_INITIAL_CAPACITY;
		return;
	}
	KeySetCompact(set);
	if (set->count <= set->capacity / 2)
		return;
	if (set->capacity >= KEYSET_MAX_CAPACITY / 2)
		KeySetLimitError();
	capacity = set->capacity * 2;
	set->entries = repalloc(set->entries, (Size) capacity * sizeof(KeySetEntry));
	set->capacity = capacity;
}

/* Make room for length more bytes in the arena */
static void
KeySetReserveBytes(KeySet *set, uint32 length)
{
	Size		needed = (Size) set->arena_used + length;
	Size		size;

	if (set->arena != NULL && needed <= set->arena_size)
		return;
	if (needed >= MaxAllocSize)
		KeySetLimitError();
	size = Max(set->arena_size, 64);
	while (size < needed)
		size *= 2;
	size = Min(size, MaxAllocSize - 1);
	if (set->arena == NULL)
		set->arena = MemoryContextAlloc(set->context, size);
	else
		set->arena = repalloc(set->arena, size);
	set->arena_size = (uint32) size;
}

/* Add an int64 key */
void
KeySetAddInt(KeySet *set, int64 value)
{
	KeySetEntry *entry;

	Assert(!set->byte_keys);
	if (set->count > 0 && set->entries[set->count - 1].key == (uint64) value)
		return;
	KeySetReserveEntry(set);
	entry = &set->entries[set->count++];
	entry->key = (uint64) value;
	entry->offset = 0;
	entry->length = 0;
}

/* Add a byte-string key */
void
KeySetAddBytes(KeySet *set, const char *data, uint32 length)
{
	KeySetEntry *entry;
	uint64		hash;

	Assert(set->byte_keys);
	if (set->count > 0)
	{
		KeySetEntry *last = &set->entries[set->count - 1];

		if (last->length == length && memcmp(set->arena + last->offset, data, length) == 0)
			return;
	}
	hash = hash_bytes_extended((const unsigned char *) data, (int) length, KEYSET_HASH_SEED);
	KeySetReserveEntry(set);
	KeySetReserveBytes(set, length);
	memcpy(set->arena + set->arena_used, data, length);
	entry = &set->entries[set->count++];
	entry->key = hash;
	entry->offset = set->arena_used;
	entry->length = length;
	set->arena_used += length;
}

/* Number of distinct keys */
int32
KeySetCount(KeySet *set)
{
	KeySetCompact(set);
	return set->count;
}

/* Add every key of one set to another of the same kind */
void
KeySetMerge(KeySet *into, const KeySet *from)
{
	Assert(into->byte_keys == from->byte_keys);
	for (int32 i = 0; i < from->count; i++)
	{
		const KeySetEntry *entry = &from->entries[i];

		if (from->byte_keys)
			KeySetAddBytes(into, from->arena + entry->offset, entry->length);
		else
			KeySetAddInt(into, (int64) entry->key);
	}
}

/*
 * Append the set to buf: a count, then each key (int64, or length and bytes).
 * Hashes are not written; deserialization recomputes them.
 */
void
KeySetSerialize(StringInfo buf, KeySet *set)
{
	KeySetCompact(set);
	pq_sendint32(buf, (uint32) set->count);
	for (int32 i = 0; i < set->count; i++)
	{
		const KeySetEntry *entry = &set->entries[i];

		if (set->byte_keys)
		{
			pq_sendint32(buf, entry->length);
			pq_sendbytes(buf, set->arena + entry->offset, (int) entry->length);
		}
		else
			pq_sendint64(buf, (int64) entry->key);
	}
}

/*
 * Read a set written by KeySetSerialize into an initialized, empty set.
 * Counts and lengths are checked against the bytes left, so a damaged state
 * raises an error instead of allocating or reading past the end.
 */
void
KeySetDeserialize(StringInfo buf, KeySet *set)
{
	int32		count = (int32) pq_getmsgint(buf, 4);
	int			min_entry_size = set->byte_keys ? 4 : 8;

	if (count < 0 || count > (buf->len - buf->cursor) / min_entry_size)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid segment.customer_features state"),
				 errdetail("A set claims %d keys but only %d bytes remain.",
						   count, buf->len - buf->cursor)));
	for (int32 i = 0; i < count; i++)
	{
		if (set->byte_keys)
		{
			uint32		length = pq_getmsgint(buf, 4);
			const char *data;

			if (length > (uint32) (buf->len - buf->cursor))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
						 errmsg("invalid segment.customer_features state"),
						 errdetail("A key claims %u bytes but only %d remain.",
								   length, buf->len - buf->cursor)));
			data = pq_getmsgbytes(buf, (int) length);
			KeySetAddBytes(set, data, length);
		}
		else
			KeySetAddInt(set, pq_getmsgint64(buf));
	}
}
