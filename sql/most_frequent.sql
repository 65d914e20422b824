-- segment.most_frequent(text) against mode() WITHIN GROUP (ORDER BY value):
-- the most frequent non-NULL value, the first in collation order among
-- equally frequent ones; NULL when every value is NULL
SELECT count(*) AS customers, count(*) FILTER (WHERE a IS DISTINCT FROM b) AS differ
FROM (SELECT customer_id, mode() WITHIN GROUP (ORDER BY country) AS a, segment.most_frequent(country) AS b
	  FROM invoices GROUP BY customer_id) AS g;
-- ties, NULLs, one value, no values, and groups with many distinct values
-- (beyond the linear search: the hash index and its growth)
CREATE TABLE frequent_cases (g integer, v text);
INSERT INTO frequent_cases VALUES
	(1, 'b'), (1, 'a'), (1, 'b'), (1, 'a'),	-- a tie: the first in order
	(2, NULL), (2, 'x'), (2, NULL), (2, NULL),	-- NULLs do not count
	(3, NULL),	-- only NULLs
	(4, 'only'),
	(5, ''), (5, ''), (5, 'z');	-- the empty string is a value
INSERT INTO frequent_cases SELECT 6, 'v' || (i % 1000) FROM generate_series(1, 5000) AS i;
INSERT INTO frequent_cases SELECT 6, 'v999' FROM generate_series(1, 3);
INSERT INTO frequent_cases SELECT 7, md5(i::text) FROM generate_series(1, 20000) AS i;
SELECT g, mode() WITHIN GROUP (ORDER BY v) AS mode, segment.most_frequent(v) AS most_frequent
FROM frequent_cases GROUP BY g ORDER BY g;
-- the collation decides ties, as it decides mode()'s order
SELECT segment.most_frequent(v COLLATE "C") AS c_order, mode() WITHIN GROUP (ORDER BY v COLLATE "C") AS c_mode
FROM (VALUES ('a'), ('B'), ('a'), ('B')) AS t (v);
SELECT segment.most_frequent(v COLLATE "und-x-icu") AS icu_order, mode() WITHIN GROUP (ORDER BY v COLLATE "und-x-icu") AS icu_mode
FROM (VALUES ('a'), ('B'), ('a'), ('B')) AS t (v);
-- partial states combined (partitionwise aggregation): each partition's own
-- favourite (y, z) loses to the value that is second in both (x)
CREATE TABLE frequent_parts (part integer, g integer, v text) PARTITION BY LIST (part);
CREATE TABLE frequent_parts_1 PARTITION OF frequent_parts FOR VALUES IN (1);
CREATE TABLE frequent_parts_2 PARTITION OF frequent_parts FOR VALUES IN (2);
INSERT INTO frequent_parts SELECT 1, 1, CASE WHEN i <= 10 THEN 'y' ELSE 'x' END FROM generate_series(1, 18) AS i;
INSERT INTO frequent_parts SELECT 2, 1, CASE WHEN i <= 10 THEN 'z' ELSE 'x' END FROM generate_series(1, 18) AS i;
ANALYZE frequent_parts;
SET enable_partitionwise_aggregate = on;
EXPLAIN (COSTS OFF) SELECT g, segment.most_frequent(v) FROM frequent_parts GROUP BY g;
SELECT g, segment.most_frequent(v) AS most_frequent, mode() WITHIN GROUP (ORDER BY v) AS mode FROM frequent_parts GROUP BY g;
RESET enable_partitionwise_aggregate;
DROP TABLE frequent_parts;
-- a parallel plan (partial aggregates serialized, combined) gives the same
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT customer_id, segment.most_frequent(country) FROM invoices GROUP BY customer_id;
SELECT count(*) AS customers, count(*) FILTER (WHERE a IS DISTINCT FROM b) AS differ
FROM (SELECT customer_id, segment.most_frequent(country) AS b FROM invoices GROUP BY customer_id) AS p
JOIN (SELECT customer_id, mode() WITHIN GROUP (ORDER BY country) AS a FROM invoices GROUP BY customer_id) AS s
	USING (customer_id);
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
DROP TABLE frequent_cases;
