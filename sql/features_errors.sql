-- Bad input to segment.customer_features: each gets a clear error with a SQLSTATE
-- an amount whose product overflows float8
SELECT error_of($$ SELECT segment.customer_features('1', '2011-01-01', 1e300, 1e300) $$);
-- a quantity, a return and a sum beyond the exact fixed-point range of ±2^62
SELECT error_of($$ SELECT segment.customer_features('1', '2011-01-01', 1e19, 1) $$);
SELECT error_of($$ SELECT segment.customer_features('1', '2011-01-01', -1, 1e19) $$);
SELECT error_of($$ SELECT segment.customer_features(i::text, '2011-01-01', 4e18, 1) FROM generate_series(1, 2) AS i $$);
-- just inside the range works
SELECT (segment.customer_features(i::text, '2011-01-01', 2e18, 1)).items FROM generate_series(1, 2) AS i;
-- arguments of the wrong type
SELECT error_of($$ SELECT segment.customer_features(1.5, now(), 1, 1) $$);
SELECT error_of($$ SELECT segment.customer_features('1', 'not a time'::timestamp, 1, 1) $$);
SELECT error_of($$ SELECT segment.customer_features('1', now(), 'many', 1) $$);
-- support functions take internal, which SQL cannot produce
SELECT error_of($$ SELECT segment.customer_features_combine(NULL, NULL) $$);
SELECT error_of($$ SELECT segment.customer_features_deserialize('\x01'::bytea, NULL) $$);
