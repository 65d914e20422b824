/* src/sql/most_frequent.sql */

-- The most frequent value of a group (src/most_frequent.c): a customer's
-- country, counted in a hash table rather than sorted as mode() sorts
CREATE FUNCTION segment.most_frequent_accum(internal, text)
	RETURNS internal
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment.most_frequent_combine(internal, internal)
	RETURNS internal
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment.most_frequent_serialize(internal)
	RETURNS bytea
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION segment.most_frequent_deserialize(bytea, internal)
	RETURNS internal
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION segment.most_frequent_final(internal)
	RETURNS text
	AS 'MODULE_PATHNAME'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE segment.most_frequent(text) (
	SFUNC = segment.most_frequent_accum,
	STYPE = internal,
	SSPACE = 160,
	COMBINEFUNC = segment.most_frequent_combine,
	SERIALFUNC = segment.most_frequent_serialize,
	DESERIALFUNC = segment.most_frequent_deserialize,
	FINALFUNC = segment.most_frequent_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE segment.most_frequent(text) IS
	'the most frequent non-NULL value, the first in collation order among equally frequent ones (mode() WITHIN GROUP (ORDER BY value) without the sort)';
COMMENT ON FUNCTION segment.most_frequent_accum(internal, text) IS 'transition function of segment.most_frequent';
COMMENT ON FUNCTION segment.most_frequent_combine(internal, internal) IS 'combine function of segment.most_frequent';
COMMENT ON FUNCTION segment.most_frequent_serialize(internal) IS 'serialize function of segment.most_frequent';
COMMENT ON FUNCTION segment.most_frequent_deserialize(bytea, internal) IS 'deserialize function of segment.most_frequent';
COMMENT ON FUNCTION segment.most_frequent_final(internal) IS 'final function of segment.most_frequent';
