/*-------------------------------------------------------------------------
 *
 * features.c
 *	  segment.customer_features: the per-customer feature aggregate
 *
 * Turns a customer's invoice lines into one segment.features row: counts of
 * distinct invoices and returns, sums of items and amounts, first and last
 * purchase, and distinct active hours, days, months and years.  The state is
 * `internal` with combine, serialize and deserialize functions, so a GROUP BY
 * customer runs in parallel workers (and, on Citus, on the workers).
 *
 * Amounts are summed exactly in 128-bit fixed point (units of 2^-64), not in
 * float8: a float8 sum depends on the order of its terms, and a parallel plan
 * adds the terms in another order than a serial one.  Integer addition is
 * associative, so every plan gives the same result, bit for bit, and that
 * result is the exact sum of the lines' float8 amounts, rounded once.
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "keyset.h"

#ifndef HAVE_INT128
#error "segment needs a compiler with a 128-bit integer type"
#endif

/* Version byte at the start of a serialized state */
#define FEATURES_STATE_VERSION 1

/* Fixed-point scale: a value v is stored as v * 2^FIXED_FRACTION_BITS */
#define FIXED_FRACTION_BITS 64
/* Largest magnitude of one term, so that sums of two stay far from overflow */
#define FIXED_TERM_LIMIT 4611686018427387904.0	/* 2^62 */
/* Largest magnitude of a running sum (2^126, in fixed-point units) */
#define FIXED_SUM_LIMIT (((int128) 1) << 126)

/* Number of columns of segment.features */
#define FEATURES_NATTS 21

typedef struct FeaturesState
{
	int64		lines;			/* lines used */
	int64		ignored_lines;	/* lines with a NULL, NaN or infinite input */
	int128		items;			/* Σ quantity over purchase lines, fixed point */
	int128		purchase_sum;	/* Σ quantity × price over purchase lines */
	int128		return_sum;		/* Σ quantity × price over return lines (≤ 0) */
	bool		byte_invoices;	/* invoice numbers are text (else bigint) */
	bool		time_zone;		/* invoiced_at is timestamptz */
	bool		has_purchase;	/* first_* and last_* are set */
	bool		has_bucket_time;	/* bucket_time is set */
	Timestamp	first_instant;	/* min invoiced_at over purchase lines */
	Timestamp	first_local;	/* the same in the session time zone */
	Timestamp	last_instant;	/* max invoiced_at over purchase lines */
	Timestamp	last_local;
	Timestamp	bucket_time;	/* latest invoiced_at whose buckets were added */
	KeySet		purchase_invoices;
	KeySet		return_invoices;
	KeySet		hours;
	KeySet		days;
	KeySet		months;
	KeySet		years;
} FeaturesState;

static void FeaturesAmountRangeError(double value) pg_attribute_noreturn();
static void FeaturesNotAggregateError(const char *function) pg_attribute_noreturn();

/* Raise the error for an amount that leaves the fixed-point range */
static void
FeaturesAmountRangeError(double value)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("amount out of range in segment.customer_features: %g", value),
			 errdetail("Quantities, amounts and their sums must stay below 2^62 (about 4.6e18) in magnitude.")));
}

/* Convert a finite float8 to fixed point, exactly for |v| >= 2^-12 */
static inline int128
FixedFromDouble(double value)
{
	if (!(fabs(value) < FIXED_TERM_LIMIT))
		FeaturesAmountRangeError(value);
	/* ldexp is exact here; the conversion truncates bits below 2^-64 */
	return (int128) ldexp(value, FIXED_FRACTION_BITS);
}

/* Convert fixed point to the nearest float8 */
static inline double
FixedToDouble(int128 value)
{
	return ldexp((double) value, -FIXED_FRACTION_BITS);
}

/* Add two fixed-point values, keeping the sum inside its range */
static inline int128
FixedAdd(int128 a, int128 b)
{
	int128		sum = a + b;	/* |a|, |b| < 2^126: cannot overflow */

	if (sum >= FIXED_SUM_LIMIT || sum <= -FIXED_SUM_LIMIT)
		FeaturesAmountRangeError(FixedToDouble(a) + FixedToDouble(b));
	return sum;
}

/* Raise the error for a support function called outside an aggregate */
static void
FeaturesNotAggregateError(const char *function)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("segment.%s can only be called by the segment.customer_features aggregate", function)));
}

/* Allocate an empty state in the aggregate's memory context */
static FeaturesState *
FeaturesStateCreate(MemoryContext context, bool byte_invoices, bool time_zone)
{
	FeaturesState *state = MemoryContextAllocZero(context, sizeof(FeaturesState));

	state->byte_invoices = byte_invoices;
	state->time_zone = time_zone;
	KeySetInit(&state->purchase_invoices, context, byte_invoices);
	KeySetInit(&state->return_invoices, context, byte_invoices);
	KeySetInit(&state->hours, context, false);
	KeySetInit(&state->days, context, false);
	KeySetInit(&state->months, context, false);
	KeySetInit(&state->years, context, false);
	return state;
}

/*
 * Record the active hour, day, month and year of a purchase time.  The keys
 * are the calendar fields of the time (in the session time zone for
 * timestamptz), which are distinct exactly when date_trunc(unit, t) is.  For
 * hours the UTC offset is part of the key: date_trunc('hour') keeps the
 * offset, so 01:30 EDT and 01:30 EST on a fall-back night are two hours.
 * Returns the time in local (session time zone) form.
 */
static Timestamp
FeaturesAddBuckets(FeaturesState *state, Timestamp t)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz = 0;			/* seconds west of UTC */
	int			day;
	Timestamp	local;

	if (timestamp2tm(t, state->time_zone ? &tz : NULL, &tm, &fsec, NULL, NULL) != 0 ||
		tm2timestamp(&tm, fsec, NULL, &local) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));

	day = date2j(tm.tm_year, tm.tm_mon, tm.tm_mday);
	KeySetAddInt(&state->hours, ((int64) day * 24 + tm.tm_hour) * SECS_PER_HOUR + tz);
	KeySetAddInt(&state->days, day);
	KeySetAddInt(&state->months, (int64) tm.tm_year * 12 + tm.tm_mon - 1);
	KeySetAddInt(&state->years, tm.tm_year);
	return local;
}

/* Add one invoice number, text or bigint, to a set */
static inline void
FeaturesAddInvoice(FeaturesState *state, KeySet *set, FunctionCallInfo fcinfo)
{
	if (state->byte_invoices)
	{
		text	   *invoice = PG_GETARG_TEXT_PP(1);

		KeySetAddBytes(set, VARDATA_ANY(invoice), VARSIZE_ANY_EXHDR(invoice));
	}
	else
		KeySetAddInt(set, PG_GETARG_INT64(1));
}

/*
 * The transition step shared by the four overloads:
 * (state, invoice_no, invoiced_at, quantity, unit_price).
 */
static Datum
FeaturesAccum(FunctionCallInfo fcinfo, bool byte_invoices, bool time_zone)
{
	MemoryContext aggcontext;
	FeaturesState *state;
	Timestamp	t;
	double		quantity;
	double		price;
	int128		amount;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		FeaturesNotAggregateError("customer_features_accum");

	if (PG_ARGISNULL(0))
		state = FeaturesStateCreate(aggcontext, byte_invoices, time_zone);
	else
		state = (FeaturesState *) PG_GETARG_POINTER(0);

	/* NULL policy (docs/reference.md): such a line is counted, not used */
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3) || PG_ARGISNULL(4))
	{
		state->ignored_lines++;
		PG_RETURN_POINTER(state);
	}
	t = PG_GETARG_TIMESTAMP(2);
	quantity = PG_GETARG_FLOAT8(3);
	price = PG_GETARG_FLOAT8(4);
	if (TIMESTAMP_NOT_FINITE(t) || !isfinite(quantity) || !isfinite(price))
	{
		state->ignored_lines++;
		PG_RETURN_POINTER(state);
	}

	state->lines++;
	amount = FixedFromDouble(quantity * price);
	if (quantity > 0)
	{
		state->items = FixedAdd(state->items, FixedFromDouble(quantity));
		state->purchase_sum = FixedAdd(state->purchase_sum, amount);
		FeaturesAddInvoice(state, &state->purchase_invoices, fcinfo);

		/* Lines of one invoice share a time: add its buckets once */
		if (!state->has_bucket_time || t != state->bucket_time)
		{
			Timestamp	local = FeaturesAddBuckets(state, t);

			state->bucket_time = t;
			state->has_bucket_time = true;
			if (!state->has_purchase || t < state->first_instant)
			{
				state->first_instant = t;
				state->first_local = local;
			}
			if (!state->has_purchase || t > state->last_instant)
			{
				state->last_instant = t;
				state->last_local = local;
			}
			state->has_purchase = true;
		}
	}
	else if (quantity < 0)
	{
		state->return_sum = FixedAdd(state->return_sum, amount);
		FeaturesAddInvoice(state, &state->return_invoices, fcinfo);
	}
	PG_RETURN_POINTER(state);
}

/* Transition function for (text, timestamp, float8, float8) */
PG_FUNCTION_INFO_V1(customer_features_accum_text);
Datum
customer_features_accum_text(PG_FUNCTION_ARGS)
{
	return FeaturesAccum(fcinfo, true, false);
}

/* Transition function for (text, timestamptz, float8, float8) */
PG_FUNCTION_INFO_V1(customer_features_accum_text_tz);
Datum
customer_features_accum_text_tz(PG_FUNCTION_ARGS)
{
	return FeaturesAccum(fcinfo, true, true);
}

/* Transition function for (bigint, timestamp, float8, float8) */
PG_FUNCTION_INFO_V1(customer_features_accum_int8);
Datum
customer_features_accum_int8(PG_FUNCTION_ARGS)
{
	return FeaturesAccum(fcinfo, false, false);
}

/* Transition function for (bigint, timestamptz, float8, float8) */
PG_FUNCTION_INFO_V1(customer_features_accum_int8_tz);
Datum
customer_features_accum_int8_tz(PG_FUNCTION_ARGS)
{
	return FeaturesAccum(fcinfo, false, true);
}

/* Add the lines of state `from` to state `into` */
static void
FeaturesStateMerge(FeaturesState *into, FeaturesState *from)
{
	if (into->byte_invoices != from->byte_invoices || into->time_zone != from->time_zone)
		elog(ERROR, "cannot combine customer_features states of different overloads");

	into->lines += from->lines;
	into->ignored_lines += from->ignored_lines;
	into->items = FixedAdd(into->items, from->items);
	into->purchase_sum = FixedAdd(into->purchase_sum, from->purchase_sum);
	into->return_sum = FixedAdd(into->return_sum, from->return_sum);
	if (from->has_purchase)
	{
		if (!into->has_purchase || from->first_instant < into->first_instant)
		{
			into->first_instant = from->first_instant;
			into->first_local = from->first_local;
		}
		if (!into->has_purchase || from->last_instant > into->last_instant)
		{
			into->last_instant = from->last_instant;
			into->last_local = from->last_local;
		}
		into->has_purchase = true;
	}
	KeySetMerge(&into->purchase_invoices, &from->purchase_invoices);
	KeySetMerge(&into->return_invoices, &from->return_invoices);
	KeySetMerge(&into->hours, &from->hours);
	KeySetMerge(&into->days, &from->days);
	KeySetMerge(&into->months, &from->months);
	KeySetMerge(&into->years, &from->years);
}

/* Combine function: merge two partial states (non-strict) */
PG_FUNCTION_INFO_V1(customer_features_combine);
Datum
customer_features_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	FeaturesState *left = PG_ARGISNULL(0) ? NULL : (FeaturesState *) PG_GETARG_POINTER(0);
	FeaturesState *right = PG_ARGISNULL(1) ? NULL : (FeaturesState *) PG_GETARG_POINTER(1);

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		FeaturesNotAggregateError("customer_features_combine");

	if (right == NULL)
	{
		if (left == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(left);
	}
	/* Copy the right state into the aggregate context when the left is empty */
	if (left == NULL)
		left = FeaturesStateCreate(aggcontext, right->byte_invoices, right->time_zone);
	FeaturesStateMerge(left, right);
	PG_RETURN_POINTER(left);
}

/* Append a fixed-point value as two int64 halves */
static void
FixedSend(StringInfo buf, int128 value)
{
	pq_sendint64(buf, (int64) (value >> 64));
	pq_sendint64(buf, (int64) (uint64) value);
}

/* Read a fixed-point value written by FixedSend */
static int128
FixedReceive(StringInfo buf)
{
	int128		high = (int128) pq_getmsgint64(buf);
	uint64		low = (uint64) pq_getmsgint64(buf);
	int128		value = (int128) (((uint128) high << 64) | low);

	if (value >= FIXED_SUM_LIMIT || value <= -FIXED_SUM_LIMIT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid segment.customer_features state"),
				 errdetail("A sum is outside the fixed-point range.")));
	return value;
}

/* Serialize function: state to bytea, led by a format-version byte */
PG_FUNCTION_INFO_V1(customer_features_serialize);
Datum
customer_features_serialize(PG_FUNCTION_ARGS)
{
	FeaturesState *state;
	StringInfoData buf;

	if (!AggCheckCallContext(fcinfo, NULL))
		FeaturesNotAggregateError("customer_features_serialize");
	state = (FeaturesState *) PG_GETARG_POINTER(0);

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, FEATURES_STATE_VERSION);
	pq_sendbyte(&buf, (state->byte_invoices ? 1 : 0) | (state->time_zone ? 2 : 0) |
				(state->has_purchase ? 4 : 0) | (state->has_bucket_time ? 8 : 0));
	pq_sendint64(&buf, state->lines);
	pq_sendint64(&buf, state->ignored_lines);
	FixedSend(&buf, state->items);
	FixedSend(&buf, state->purchase_sum);
	FixedSend(&buf, state->return_sum);
	pq_sendint64(&buf, state->first_instant);
	pq_sendint64(&buf, state->first_local);
	pq_sendint64(&buf, state->last_instant);
	pq_sendint64(&buf, state->last_local);
	pq_sendint64(&buf, state->bucket_time);
	KeySetSerialize(&buf, &state->purchase_invoices);
	KeySetSerialize(&buf, &state->return_invoices);
	KeySetSerialize(&buf, &state->hours);
	KeySetSerialize(&buf, &state->days);
	KeySetSerialize(&buf, &state->months);
	KeySetSerialize(&buf, &state->years);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Deserialize function: bytea to state, checking version, flags and lengths */
PG_FUNCTION_INFO_V1(customer_features_deserialize);
Datum
customer_features_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *bytes;
	StringInfoData buf;
	FeaturesState *state;
	int			version;
	int			flags;

	if (!AggCheckCallContext(fcinfo, NULL))
		FeaturesNotAggregateError("customer_features_deserialize");
	bytes = PG_GETARG_BYTEA_PP(0);

	/* pq_getmsg* read from a StringInfo; point one at the bytea's data */
	buf.data = VARDATA_ANY(bytes);
	buf.len = VARSIZE_ANY_EXHDR(bytes);
	buf.maxlen = buf.len;
	buf.cursor = 0;

	version = pq_getmsgbyte(&buf);
	if (version != FEATURES_STATE_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid segment.customer_features state"),
				 errdetail("The state has format version %d; this library reads version %d.",
						   version, FEATURES_STATE_VERSION)));
	flags = pq_getmsgbyte(&buf);
	if ((flags & ~15) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid segment.customer_features state"),
				 errdetail("The state has unknown flags %d.", flags)));

	/*
	 * The state lives in the current (per-call) context, as numeric's
	 * deserialized states do: the combine function copies what it needs.
	 */
	state = FeaturesStateCreate(CurrentMemoryContext, (flags & 1) != 0, (flags & 2) != 0);
	state->has_purchase = (flags & 4) != 0;
	state->has_bucket_time = (flags & 8) != 0;
	state->lines = pq_getmsgint64(&buf);
	state->ignored_lines = pq_getmsgint64(&buf);
	state->items = FixedReceive(&buf);
	state->purchase_sum = FixedReceive(&buf);
	state->return_sum = FixedReceive(&buf);
	state->first_instant = pq_getmsgint64(&buf);
	state->first_local = pq_getmsgint64(&buf);
	state->last_instant = pq_getmsgint64(&buf);
	state->last_local = pq_getmsgint64(&buf);
	state->bucket_time = pq_getmsgint64(&buf);
	KeySetDeserialize(&buf, &state->purchase_invoices);
	KeySetDeserialize(&buf, &state->return_invoices);
	KeySetDeserialize(&buf, &state->hours);
	KeySetDeserialize(&buf, &state->days);
	KeySetDeserialize(&buf, &state->months);
	KeySetDeserialize(&buf, &state->years);
	if (buf.cursor != buf.len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid segment.customer_features state"),
				 errdetail("%d bytes are left after the state.", buf.len - buf.cursor)));
	PG_RETURN_POINTER(state);
}

/* Look up and bless segment.features once per call site, checking its shape */
static TupleDesc
FeaturesTupleDesc(FunctionCallInfo fcinfo)
{
	TupleDesc	tupdesc = (TupleDesc) fcinfo->flinfo->fn_extra;
	static const Oid expected[FEATURES_NATTS] = {
		INT4OID, INT4OID, INT8OID, INT8OID,
		FLOAT8OID, FLOAT8OID, FLOAT8OID, FLOAT8OID, FLOAT8OID,
		TIMESTAMPOID, TIMESTAMPOID, FLOAT8OID, FLOAT8OID,
		INT4OID, INT4OID, INT4OID, INT4OID,
		FLOAT8OID, FLOAT8OID, FLOAT8OID, FLOAT8OID
	};
	MemoryContext oldcontext;

	if (tupdesc != NULL)
		return tupdesc;

	oldcontext = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "customer_features_final must return a composite type");
	if (tupdesc->natts != FEATURES_NATTS)
		elog(ERROR, "segment.features has %d columns, expected %d",
			 tupdesc->natts, FEATURES_NATTS);
	for (int i = 0; i < FEATURES_NATTS; i++)
		if (TupleDescAttr(tupdesc, i)->atttypid != expected[i])
			elog(ERROR, "column %d of segment.features has an unexpected type", i + 1);
	tupdesc = BlessTupleDesc(tupdesc);
	MemoryContextSwitchTo(oldcontext);
	fcinfo->flinfo->fn_extra = tupdesc;
	return tupdesc;
}

/* Set a float8 column, or NULL when the denominator is zero */
static inline void
SetRatio(Datum *values, bool *nulls, int column, double numerator, double denominator)
{
	if (denominator == 0)
		nulls[column] = true;
	else
		values[column] = Float8GetDatum(numerator / denominator);
}

/*
 * Final function: the segment.features row.  An empty group (no state) gives
 * the row of a customer with no lines: zero counts and sums, NULL dates and
 * ratios.
 */
PG_FUNCTION_INFO_V1(customer_features_final);
Datum
customer_features_final(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc = FeaturesTupleDesc(fcinfo);
	FeaturesState empty;
	FeaturesState *state;
	Datum		values[FEATURES_NATTS];
	bool		nulls[FEATURES_NATTS];
	int32		invoices;
	int32		active[4];
	double		purchase_amount;
	double		tenure_days = 0;

	if (PG_ARGISNULL(0))
	{
		state = &empty;
		memset(state, 0, sizeof(FeaturesState));
		KeySetInit(&state->purchase_invoices, CurrentMemoryContext, false);
		KeySetInit(&state->return_invoices, CurrentMemoryContext, false);
		KeySetInit(&state->hours, CurrentMemoryContext, false);
		KeySetInit(&state->days, CurrentMemoryContext, false);
		KeySetInit(&state->months, CurrentMemoryContext, false);
		KeySetInit(&state->years, CurrentMemoryContext, false);
	}
	else
		state = (FeaturesState *) PG_GETARG_POINTER(0);

	memset(nulls, 0, sizeof(nulls));
	invoices = KeySetCount(&state->purchase_invoices);
	active[0] = KeySetCount(&state->hours);
	active[1] = KeySetCount(&state->days);
	active[2] = KeySetCount(&state->months);
	active[3] = KeySetCount(&state->years);
	purchase_amount = FixedToDouble(state->purchase_sum);

	values[0] = Int32GetDatum(invoices);
	values[1] = Int32GetDatum(KeySetCount(&state->return_invoices));
	values[2] = Int64GetDatum(state->lines);
	values[3] = Int64GetDatum(state->ignored_lines);
	values[4] = Float8GetDatum(FixedToDouble(state->items));
	values[5] = Float8GetDatum(FixedToDouble(state->purchase_sum + state->return_sum));
	values[6] = Float8GetDatum(purchase_amount);
	values[7] = Float8GetDatum(FixedToDouble(-state->return_sum));
	SetRatio(values, nulls, 8, purchase_amount, invoices);
	if (state->has_purchase)
	{
		values[9] = TimestampGetDatum(state->first_local);
		values[10] = TimestampGetDatum(state->last_local);
		/* Elapsed time between the instants, also for timestamptz input */
		tenure_days = (double) (state->last_instant - state->first_instant) / USECS_PER_DAY;
		values[11] = Float8GetDatum(tenure_days);
	}
	else
		nulls[9] = nulls[10] = nulls[11] = true;
	SetRatio(values, nulls, 12, tenure_days, invoices < 2 ? 0 : invoices - 1);
	for (int unit = 0; unit < 4; unit++)
	{
		values[13 + unit] = Int32GetDatum(active[unit]);
		SetRatio(values, nulls, 17 + unit, invoices, active[unit]);
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
