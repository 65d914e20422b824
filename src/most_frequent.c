/*-------------------------------------------------------------------------
 *
 * most_frequent.c
 *	  segment.most_frequent(text): the most frequent non-NULL value of a
 *	  group, the first in the collation's order among equally frequent ones
 *
 * What mode() WITHIN GROUP (ORDER BY value) returns for text, without the
 * sort: an ordered-set aggregate makes the whole GROUP BY sort its input
 * (an external merge of the invoice lines), where this one counts distinct
 * values in a small table per group and lets the GROUP BY hash.  The
 * pipeline takes a customer's country with it, beside customer_features.
 *
 * A group's distinct values are kept in an array, searched linearly while
 * there are few of them (a customer's lines name one or two countries) and
 * through an open-addressing index of their hashes beyond that, so a group
 * with many distinct values costs O(1) per line.  Combine, serialize and
 * deserialize functions let a GROUP BY with it run in parallel workers, as
 * customer_features does.
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/varlena.h"
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

/* Distinct values searched linearly before the hash index is built */
#define MOST_FREQUENT_LINEAR 8

typedef struct MostFrequentEntry
{
	text	   *value;			/* a copy in the aggregate's context */
	uint32		hash;
	int64		count;
} MostFrequentEntry;

typedef struct MostFrequentState
{
	int			used;			/* distinct values */
	int			allocated;
	MostFrequentEntry *entries;
	int			slot_count;		/* power of two, or 0 while linear */
	int		   *slots;			/* entry index, -1 when empty */
} MostFrequentState;

/* Whether entry e holds the bytes data[0 .. length) with this hash */
static inline bool
MostFrequentMatches(const MostFrequentEntry *e, uint32 hash, const char *data, int length)
{
	return e->hash == hash && VARSIZE_ANY_EXHDR(e->value) == length &&
		memcmp(VARDATA_ANY(e->value), data, length) == 0;
}

/* Rebuild the hash index with slot_count slots (at least twice the values) */
static void
MostFrequentIndex(MostFrequentState *state, int slot_count)
{
	if (state->slots)
		pfree(state->slots);
	state->slot_count = slot_count;
	state->slots = palloc(slot_count * sizeof(int));
	memset(state->slots, -1, slot_count * sizeof(int));
	for (int i = 0; i < state->used; i++)
	{
		int			s = state->entries[i].hash & (slot_count - 1);

		while (state->slots[s] >= 0)
			s = (s + 1) & (slot_count - 1);
		state->slots[s] = i;
	}
}

/* A new, empty state */
static MostFrequentState *
MostFrequentNew(void)
{
	MostFrequentState *state = palloc0(sizeof(MostFrequentState));

	state->allocated = 4;
	state->entries = palloc(state->allocated * sizeof(MostFrequentEntry));
	return state;
}

/* The entry of the bytes data[0 .. length), added with count 0 when new */
static MostFrequentEntry *
MostFrequentFind(MostFrequentState *state, const char *data, int length)
{
	uint32		hash = DatumGetUInt32(hash_any((const unsigned char *) data, length));
	int			slot = -1;
	MostFrequentEntry *e;

	if (state->slot_count == 0)
	{
		for (int i = 0; i < state->used; i++)
			if (MostFrequentMatches(&state->entries[i], hash, data, length))
				return &state->entries[i];
	}
	else
	{
		for (slot = hash & (state->slot_count - 1); state->slots[slot] >= 0;
			 slot = (slot + 1) & (state->slot_count - 1))
			if (MostFrequentMatches(&state->entries[state->slots[slot]], hash, data, length))
				return &state->entries[state->slots[slot]];
	}

	/* a new value */
	if (state->used == state->allocated)
	{
		if (state->allocated >= MaxAllocSize / (2 * sizeof(MostFrequentEntry)))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("segment.most_frequent: too many distinct values in one group")));
		state->allocated *= 2;
		state->entries = repalloc(state->entries, state->allocated * sizeof(MostFrequentEntry));
	}
	e = &state->entries[state->used];
	e->value = cstring_to_text_with_len(data, length);
	e->hash = hash;
	e->count = 0;
	if (slot >= 0)
		state->slots[slot] = state->used;
	state->used++;
	if (state->slot_count == 0 ? state->used > MOST_FREQUENT_LINEAR : 2 * state->used > state->slot_count)
		MostFrequentIndex(state, state->slot_count == 0 ? 4 * MOST_FREQUENT_LINEAR : 2 * state->slot_count);
	return e;
}

/* most_frequent_accum(state, value): count one value; NULLs are skipped */
PG_FUNCTION_INFO_V1(most_frequent_accum);
Datum
most_frequent_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggregate_context;
	MemoryContext old_context;
	MostFrequentState *state;

	if (!AggCheckCallContext(fcinfo, &aggregate_context))
		elog(ERROR, "most_frequent_accum called in non-aggregate context");
	state = PG_ARGISNULL(0) ? NULL : (MostFrequentState *) PG_GETARG_POINTER(0);
	old_context = MemoryContextSwitchTo(aggregate_context);
	if (state == NULL)
		state = MostFrequentNew();
	if (!PG_ARGISNULL(1))
	{
		text	   *value = PG_GETARG_TEXT_PP(1);

		MostFrequentFind(state, VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value))->count++;
	}
	MemoryContextSwitchTo(old_context);
	PG_RETURN_POINTER(state);
}

/* most_frequent_combine(state, other): the counts of both */
PG_FUNCTION_INFO_V1(most_frequent_combine);
Datum
most_frequent_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggregate_context;
	MemoryContext old_context;
	MostFrequentState *state = PG_ARGISNULL(0) ? NULL : (MostFrequentState *) PG_GETARG_POINTER(0);
	MostFrequentState *other = PG_ARGISNULL(1) ? NULL : (MostFrequentState *) PG_GETARG_POINTER(1);

	if (!AggCheckCallContext(fcinfo, &aggregate_context))
		elog(ERROR, "most_frequent_combine called in non-aggregate context");
	if (other == NULL)
		PG_RETURN_POINTER(state);
	old_context = MemoryContextSwitchTo(aggregate_context);
	if (state == NULL)
		state = MostFrequentNew();
	for (int i = 0; i < other->used; i++)
	{
		MostFrequentEntry *e = &other->entries[i];

		MostFrequentFind(state, VARDATA_ANY(e->value), VARSIZE_ANY_EXHDR(e->value))->count += e->count;
	}
	MemoryContextSwitchTo(old_context);
	PG_RETURN_POINTER(state);
}

/* most_frequent_serialize(state): the values and counts as bytea */
PG_FUNCTION_INFO_V1(most_frequent_serialize);
Datum
most_frequent_serialize(PG_FUNCTION_ARGS)
{
	MostFrequentState *state = (MostFrequentState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "most_frequent_serialize called in non-aggregate context");
	pq_begintypsend(&buf);
	pq_sendint32(&buf, state->used);
	for (int i = 0; i < state->used; i++)
	{
		MostFrequentEntry *e = &state->entries[i];

		pq_sendint64(&buf, e->count);
		pq_sendint32(&buf, VARSIZE_ANY_EXHDR(e->value));
		pq_sendbytes(&buf, VARDATA_ANY(e->value), VARSIZE_ANY_EXHDR(e->value));
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* most_frequent_deserialize(bytes): the state most_frequent_serialize wrote */
PG_FUNCTION_INFO_V1(most_frequent_deserialize);
Datum
most_frequent_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *bytes;
	StringInfoData buf;
	MostFrequentState *state;
	int			used;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "most_frequent_deserialize called in non-aggregate context");
	bytes = PG_GETARG_BYTEA_PP(0);
	buf.data = VARDATA_ANY(bytes);
	buf.len = VARSIZE_ANY_EXHDR(bytes);
	buf.maxlen = buf.len;
	buf.cursor = 0;
	state = MostFrequentNew();
	used = pq_getmsgint(&buf, 4);
	for (int i = 0; i < used; i++)
	{
		int64		count = pq_getmsgint64(&buf);
		int			length = pq_getmsgint(&buf, 4);
		const char *data;

		if (length < 0 || length > buf.len - buf.cursor)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid segment.most_frequent state")));
		data = pq_getmsgbytes(&buf, length);
		MostFrequentFind(state, data, length)->count += count;
	}
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(state);
}

/*
 * most_frequent_final(state): the value counted most often, the first in the
 * order of the aggregate's collation among equally frequent ones (then in
 * byte order); NULL when every value was NULL
 */
PG_FUNCTION_INFO_V1(most_frequent_final);
Datum
most_frequent_final(PG_FUNCTION_ARGS)
{
	MostFrequentState *state;
	MostFrequentEntry *best = NULL;
	Oid			collation = PG_GET_COLLATION();

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = (MostFrequentState *) PG_GETARG_POINTER(0);
	for (int i = 0; i < state->used; i++)
	{
		MostFrequentEntry *e = &state->entries[i];
		int			order;

		if (best == NULL || e->count > best->count)
		{
			best = e;
			continue;
		}
		if (e->count < best->count)
			continue;
		order = varstr_cmp(VARDATA_ANY(e->value), VARSIZE_ANY_EXHDR(e->value),
						   VARDATA_ANY(best->value), VARSIZE_ANY_EXHDR(best->value),
						   OidIsValid(collation) ? collation : DEFAULT_COLLATION_OID);
		if (order == 0)
		{
			int			e_length = VARSIZE_ANY_EXHDR(e->value);
			int			best_length = VARSIZE_ANY_EXHDR(best->value);

			order = memcmp(VARDATA_ANY(e->value), VARDATA_ANY(best->value), Min(e_length, best_length));
			if (order == 0)
				order = e_length - best_length;
		}
		if (order < 0)
			best = e;
	}
	if (best == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(best->value);
}
