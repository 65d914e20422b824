/* src/sql/features.sql */

-- Per-customer features: the type segment.features and the aggregate
-- segment.customer_features (docs/reference.md)

CREATE TYPE segment.features AS (
	invoices integer,
	returns integer,
	lines bigint,
	ignored_lines bigint,
	items double precision,
	total_amount double precision,
	purchase_amount double precision,
	returned_amount double precision,
	avg_invoice_amount double precision,
	first_purchase timestamp,
	last_purchase timestamp,
	tenure_days double precision,
	mean_days_between double precision,
	active_hours integer,
	active_days integer,
	active_months integer,
	active_years integer,
	invoices_per_hour double precision,
	invoices_per_day double precision,
	invoices_per_month double precision,
	invoices_per_year double precision
);

COMMENT ON TYPE segment.features IS 'per-customer purchase features computed by segment.customer_features';
COMMENT ON COLUMN segment.features.invoices IS 'distinct invoice numbers among purchase lines (quantity > 0)';
COMMENT ON COLUMN segment.features.returns IS 'distinct invoice numbers among return lines (quantity < 0)';
COMMENT ON COLUMN segment.features.lines IS 'lines used: purchase, return and zero-quantity lines';
COMMENT ON COLUMN segment.features.ignored_lines IS 'lines not used: a NULL invoice number, or a NULL, NaN or infinite time, quantity or price';
COMMENT ON COLUMN segment.features.items IS 'sum of quantity over purchase lines';
COMMENT ON COLUMN segment.features.total_amount IS 'sum of quantity * unit_price over all lines used, net of returns';
COMMENT ON COLUMN segment.features.purchase_amount IS 'sum of quantity * unit_price over purchase lines';
COMMENT ON COLUMN segment.features.returned_amount IS 'minus the sum of quantity * unit_price over return lines (>= 0 for normal data)';
COMMENT ON COLUMN segment.features.avg_invoice_amount IS 'purchase_amount / invoices; NULL when invoices = 0';
COMMENT ON COLUMN segment.features.first_purchase IS 'earliest time of a purchase line (session time zone for timestamptz input)';
COMMENT ON COLUMN segment.features.last_purchase IS 'latest time of a purchase line (session time zone for timestamptz input)';
COMMENT ON COLUMN segment.features.tenure_days IS 'elapsed days from first_purchase to last_purchase (fractional); NULL without purchases';
COMMENT ON COLUMN segment.features.mean_days_between IS 'tenure_days / (invoices - 1); NULL when invoices < 2';
COMMENT ON COLUMN segment.features.active_hours IS 'distinct date_trunc(''hour'', time) over purchase lines';
COMMENT ON COLUMN segment.features.active_days IS 'distinct date_trunc(''day'', time) over purchase lines';
COMMENT ON COLUMN segment.features.active_months IS 'distinct date_trunc(''month'', time) over purchase lines';
COMMENT ON COLUMN segment.features.active_years IS 'distinct date_trunc(''year'', time) over purchase lines';
COMMENT ON COLUMN segment.features.invoices_per_hour IS 'invoices / active_hours; NULL when active_hours = 0';
COMMENT ON COLUMN segment.features.invoices_per_day IS 'invoices / active_days; NULL when active_days = 0';
COMMENT ON COLUMN segment.features.invoices_per_month IS 'invoices / active_months; NULL when active_months = 0';
COMMENT ON COLUMN segment.features.invoices_per_year IS 'invoices / active_years; NULL when active_years = 0';

-- Transition functions, one per overload; not strict, so NULL inputs can be counted
CREATE FUNCTION segment.customer_features_accum(internal, text, timestamp, double precision, double precision)
	RETURNS internal
	AS 'MODULE_PATHNAME', 'customer_features_accum_text'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- timestamptz overloads read the session time zone, hence STABLE
CREATE FUNCTION segment.customer_features_accum(internal, text, timestamptz, double precision, double precision)
	RETURNS internal
	AS 'MODULE_PATHNAME', 'customer_features_accum_text_tz'
	LANGUAGE C STABLE PARALLEL SAFE;

CREATE FUNCTION segment.customer_features_accum(internal, bigint, timestamp, double precision, double precision)
	RETURNS internal
	AS 'MODULE_PATHNAME', 'customer_features_accum_int8'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION segment.customer_features_accum(internal, bigint, timestamptz, double precision, double precision)
	RETURNS internal
	AS 'MODULE_PATHNAME', 'customer_features_accum_int8_tz'
	LANGUAGE C STABLE PARALLEL SAFE;

CREATE FUNCTION segment.customer_features_combine(internal, internal)
	RETURNS internal
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION segment.customer_features_serialize(internal)
	RETURNS bytea
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION segment.customer_features_deserialize(bytea, internal)
	RETURNS internal
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION segment.customer_features_final(internal)
	RETURNS segment.features
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION segment.customer_features_accum(internal, text, timestamp, double precision, double precision) IS 'transition function of segment.customer_features(text, timestamp, float8, float8)';
COMMENT ON FUNCTION segment.customer_features_accum(internal, text, timestamptz, double precision, double precision) IS 'transition function of segment.customer_features(text, timestamptz, float8, float8)';
COMMENT ON FUNCTION segment.customer_features_accum(internal, bigint, timestamp, double precision, double precision) IS 'transition function of segment.customer_features(bigint, timestamp, float8, float8)';
COMMENT ON FUNCTION segment.customer_features_accum(internal, bigint, timestamptz, double precision, double precision) IS 'transition function of segment.customer_features(bigint, timestamptz, float8, float8)';
COMMENT ON FUNCTION segment.customer_features_combine(internal, internal) IS 'combine function of segment.customer_features: merges two partial states';
COMMENT ON FUNCTION segment.customer_features_serialize(internal) IS 'serialize function of segment.customer_features';
COMMENT ON FUNCTION segment.customer_features_deserialize(bytea, internal) IS 'deserialize function of segment.customer_features';
COMMENT ON FUNCTION segment.customer_features_final(internal) IS 'final function of segment.customer_features: builds the segment.features row';

CREATE AGGREGATE segment.customer_features(invoice_no text, invoiced_at timestamp, quantity double precision, unit_price double precision) (
	SFUNC = segment.customer_features_accum,
	STYPE = internal,
	SSPACE = 512,
	FINALFUNC = segment.customer_features_final,
	COMBINEFUNC = segment.customer_features_combine,
	SERIALFUNC = segment.customer_features_serialize,
	DESERIALFUNC = segment.customer_features_deserialize,
	PARALLEL = SAFE
);

CREATE AGGREGATE segment.customer_features(invoice_no text, invoiced_at timestamptz, quantity double precision, unit_price double precision) (
	SFUNC = segment.customer_features_accum,
	STYPE = internal,
	SSPACE = 512,
	FINALFUNC = segment.customer_features_final,
	COMBINEFUNC = segment.customer_features_combine,
	SERIALFUNC = segment.customer_features_serialize,
	DESERIALFUNC = segment.customer_features_deserialize,
	PARALLEL = SAFE
);

CREATE AGGREGATE segment.customer_features(invoice_no bigint, invoiced_at timestamp, quantity double precision, unit_price double precision) (
	SFUNC = segment.customer_features_accum,
	STYPE = internal,
	SSPACE = 512,
	FINALFUNC = segment.customer_features_final,
	COMBINEFUNC = segment.customer_features_combine,
	SERIALFUNC = segment.customer_features_serialize,
	DESERIALFUNC = segment.customer_features_deserialize,
	PARALLEL = SAFE
);

CREATE AGGREGATE segment.customer_features(invoice_no bigint, invoiced_at timestamptz, quantity double precision, unit_price double precision) (
	SFUNC = segment.customer_features_accum,
	STYPE = internal,
	SSPACE = 512,
	FINALFUNC = segment.customer_features_final,
	COMBINEFUNC = segment.customer_features_combine,
	SERIALFUNC = segment.customer_features_serialize,
	DESERIALFUNC = segment.customer_features_deserialize,
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE segment.customer_features(text, timestamp, double precision, double precision) IS 'per-customer purchase features from invoice lines (invoice_no, invoiced_at, quantity, unit_price)';
COMMENT ON AGGREGATE segment.customer_features(text, timestamptz, double precision, double precision) IS 'per-customer purchase features from invoice lines; calendar units in the session time zone';
COMMENT ON AGGREGATE segment.customer_features(bigint, timestamp, double precision, double precision) IS 'per-customer purchase features from invoice lines with numeric invoice numbers';
COMMENT ON AGGREGATE segment.customer_features(bigint, timestamptz, double precision, double precision) IS 'per-customer purchase features from invoice lines with numeric invoice numbers; calendar units in the session time zone';

