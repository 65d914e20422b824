-- The segmentation pipeline on the bundled data: one call, eight BI-ready
-- views, useful segments, stable and atomic refreshes, safe names
SET extra_float_digits = 0;
SELECT segment.create_segmentation('retail', 'invoices');

-- the eight tables: scalar columns only, every table and column commented
SELECT c.relname AS view, count(*) AS columns,
	bool_and(t.typcategory <> 'A' AND t.typtype <> 'c') AS scalar_columns,
	bool_and(col_description(c.oid, a.attnum) IS NOT NULL) AS columns_commented,
	obj_description(c.oid, 'pg_class') IS NOT NULL AS view_commented
FROM pg_class c
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
JOIN pg_type t ON t.oid = a.atttypid
WHERE c.relnamespace = 'retail'::regnamespace AND c.relkind = 'r'
GROUP BY c.oid, c.relname ORDER BY c.relname;

-- every customer is in features; the 33 without a purchase are not clustered
SELECT (SELECT count(*) FROM retail.features) AS customers,
	(SELECT count(*) FROM retail.assignments WHERE cluster IS NULL) AS not_clustered,
	(SELECT customers_clustered FROM retail.model) AS clustered;

-- useful segments: k in 3..8, every segment at least 2 % of the customers,
-- unique labels, sizes that add up
SELECT m.k BETWEEN 3 AND 8 AS k_in_3_to_8,
	(SELECT count(*) FROM retail.profiles) = m.k AS one_profile_per_segment,
	(SELECT min(share) FROM retail.profiles) >= 0.02 AS every_segment_2_percent,
	(SELECT count(DISTINCT label) FROM retail.profiles) = m.k AS labels_unique,
	(SELECT sum(customers) FROM retail.profiles) = m.customers_clustered AS sizes_add_up,
	(SELECT bool_and(p.customers = s.customers) FROM retail.profiles p JOIN retail.silhouette s USING (cluster)) AS views_agree
FROM retail.model AS m;

-- the elbow view: every candidate 2..10, one elbow, the chosen k is the model's
SELECT count(*) AS candidates, count(*) FILTER (WHERE is_elbow) AS elbows,
	min(k) FILTER (WHERE is_chosen) = (SELECT k FROM retail.model) AS chosen_is_model,
	bool_and(silhouette BETWEEN -1 AND 1) AS silhouettes_in_range
FROM retail.elbow;
-- the chosen k is the rule applied to the elbow table's own scores: among
-- k = 3..8 whose smallest segment holds at least 2 % of the customers, the
-- best silhouette within one of the elbow (then the best silhouette, then
-- the smaller k); the smallest share is the profiles' at the chosen k
WITH elbow AS (SELECT k FROM retail.elbow WHERE is_elbow),
rule AS (SELECT e.k FROM retail.elbow e, elbow
		 WHERE e.k BETWEEN 3 AND 8 AND e.smallest_share >= 0.02
		 ORDER BY abs(e.k - elbow.k) > 1, e.silhouette DESC, e.k LIMIT 1)
SELECT (SELECT k FROM rule) AS rule_k, (SELECT k FROM retail.elbow WHERE is_chosen) AS chosen_k,
	(SELECT abs(e.smallest_share - (SELECT min(share) FROM retail.profiles)) < 1e-12 FROM retail.elbow e WHERE e.is_chosen)
		AS smallest_share_is_the_profiles;
-- the rule on hand-made scores: k = 2 is never chosen, even with the best
-- silhouette next to the elbow; a smallest segment under 2 % rules a k out;
-- without a qualifying k near the elbow, the best qualifying silhouette;
-- without any, the elbow
SELECT c.case_name, segment.choose_k(c.ks, c.silhouettes, c.shares, c.elbow_k) AS chosen
FROM (VALUES
	('k = 2 best, elbow 3', '{2,3,4,5,6}'::integer[], '{0.9,0.5,0.6,0.4,0.3}'::float8[], '{0.1,0.1,0.1,0.1,0.1}'::float8[], 3),
	('best k has a 1.5 % segment', '{2,3,4,5,6}', '{0.1,0.2,0.9,0.3,0.2}', '{0.5,0.3,0.015,0.1,0.05}', 4),
	('none near the elbow qualifies', '{2,3,4,5,6,7,8}', '{0.9,0.8,0.2,0.3,0.7,0.4,0.1}', '{0.3,0.01,0.1,0.1,0.1,0.1,0.1}', 2),
	('none qualifies', '{2,3,4}', '{0.5,0.4,0.3}', '{0.3,0.01,0.019}', 2)
) AS c (case_name, ks, silhouettes, shares, elbow_k);

-- the views agree with the building blocks: the overall silhouette row is
-- the mean of the assignments' silhouettes, which is segment.silhouette
SELECT abs(s.mean_silhouette - (SELECT avg(silhouette) FROM retail.assignments)) < 1e-12 AS overall_row_is_mean,
	abs(s.mean_silhouette - e.silhouette) < 1e-12 AS equals_elbow_score,
	s.sample_size = s.customers AS exact_below_the_limit
FROM retail.silhouette s, retail.elbow e WHERE s.cluster IS NULL AND e.is_chosen;
-- box plots: ordered five numbers, whiskers inside, one row per segment and feature
SELECT count(*) = (SELECT k FROM retail.model) * 10 AS rows_per_segment_and_feature,
	bool_and(min <= q1 AND q1 <= median AND median <= q3 AND q3 <= max) AS ordered,
	bool_and(lower_whisker >= min AND upper_whisker <= max AND lower_whisker <= upper_whisker) AS whiskers_inside
FROM retail.boxplots;
-- PCA: two components over the ten features, ratios decreasing
SELECT count(*) AS loadings, count(DISTINCT component) AS components,
	bool_and(explained_variance_ratio > 0 AND explained_variance_ratio < 1) AS ratios_in_range
FROM retail.pca;

-- A refresh of an unchanged source gives identical assignments
CREATE TABLE assignments_before AS SELECT * FROM retail.assignments;
CREATE TABLE profiles_before AS SELECT * FROM retail.profiles;
SELECT segment.refresh_segmentation('retail');
SELECT count(*) AS customers,
	count(*) FILTER (WHERE (b.cluster, b.distance, b.silhouette, b.pc1, b.pc2)
		IS DISTINCT FROM (a.cluster, a.distance, a.silhouette, a.pc1, a.pc2)) AS changed
FROM assignments_before AS b FULL JOIN retail.assignments AS a USING (customer_id);

-- A failing refresh (bad data) raises its error and changes nothing
BEGIN;
INSERT INTO invoices VALUES ('999999', 'X', 'absurd', 1, '2011-12-09', 1e300, 12347, 'Iceland');
SELECT error_of($$ SELECT segment.refresh_segmentation('retail') $$);
ROLLBACK;
SELECT count(*) FILTER (WHERE b IS DISTINCT FROM a) AS profiles_changed
FROM profiles_before AS b FULL JOIN retail.profiles AS a USING (cluster);

-- Stable numbers: a segmentation of all but the last month, refreshed after
-- the source grew by that month, keeps most customers in their segment
CREATE VIEW invoices_growing AS SELECT * FROM invoices WHERE invoice_date < '2011-11-09';
SELECT segment.create_segmentation('growing', 'invoices_growing', k => 4);
CREATE TABLE month_before AS SELECT customer_id, cluster FROM growing.assignments WHERE cluster IS NOT NULL;
CREATE OR REPLACE VIEW invoices_growing AS SELECT * FROM invoices;
SELECT segment.refresh_segmentation('growing');
SELECT count(*) AS customers_then,
	avg((a.cluster = b.cluster)::integer) >= 0.8 AS most_keep_their_segment
FROM month_before AS b JOIN growing.assignments AS a USING (customer_id);
SELECT segment.drop_segmentation('growing');
SELECT to_regnamespace('growing') IS NULL AS schema_dropped,
	NOT EXISTS (SELECT FROM segment.segmentations WHERE name = 'growing') AS record_dropped;

-- Bounded memory: when the vectors do not fit maintenance_work_mem, the model
-- is fitted on a seeded sample and every customer is still assigned
SET maintenance_work_mem = '2MB';
SELECT segment.create_segmentation('small_memory', 'invoices', k => 3);
RESET maintenance_work_mem;
SELECT m.fitted_rows < m.customers_clustered AS fitted_on_a_sample,
	(SELECT count(*) FROM small_memory.assignments WHERE cluster IS NOT NULL) = m.customers_clustered AS every_customer_assigned,
	(SELECT sample_size FROM small_memory.silhouette WHERE cluster IS NULL) <= m.fitted_rows AS silhouettes_sampled,
	m.inertia <= 1.01 * (SELECT inertia FROM retail.elbow WHERE k = 3) AS inertia_within_1_percent
FROM small_memory.model AS m;
-- its silhouette plot draws the customers of the sample, and says so
WITH svg AS (SELECT segment.plot('small_memory', 'silhouette')::xml AS doc)
SELECT (xpath('//*[@class="subtitle"]/text()', doc))[1]::text ~ 'a seeded sample of [0-9,]+ of the [0-9,]+ customers' AS says_sampled,
	(xpath('count(//*[@class="silhouette-band"])', doc))[1]::text::integer AS bands,
	(xpath('//*[@class="silhouette-band"]/@d', doc))::text !~ 'NaN' AS no_missing_points
FROM svg;
-- the silhouettes' sample is the customers with the smallest hashes of
-- their ids, also when a bound on the hash lets each shard of a Citus
-- cluster send only those (a sample under half the customers: 1,260 fit
-- 1 MB): plain SQL draws the same customers
SET maintenance_work_mem = '1MB';
SELECT segment.refresh_segmentation('small_memory', refit => false);
SELECT count(*) FILTER (WHERE a.silhouette IS NOT NULL) AS sampled,
	count(*) FILTER (WHERE (a.silhouette IS NOT NULL) <> (t.customer_id IS NOT NULL)) AS not_the_smallest_hashes
FROM small_memory.assignments a LEFT JOIN (SELECT customer_id FROM small_memory.features WHERE invoices > 0
	ORDER BY md5(customer_id::text) LIMIT 1260) t USING (customer_id);
RESET maintenance_work_mem;
SELECT segment.drop_segmentation('small_memory');

-- Names and column mappings cannot inject SQL; bad arguments get clear errors
SELECT error_of($$ SELECT segment.create_segmentation('x; DROP TABLE invoices; --', 'invoices') $$);
SELECT error_of($$ SELECT segment.create_segmentation('Robert"); DROP TABLE invoices;--', 'invoices') $$);
SELECT error_of($$ SELECT segment.create_segmentation('pg_toast', 'invoices') $$);
SELECT error_of($$ SELECT segment.create_segmentation('segment', 'invoices') $$);
SELECT error_of($$ SELECT segment.create_segmentation('retail', 'invoices') $$);
SELECT error_of($$ SELECT segment.create_segmentation('public', 'invoices') $$);
SELECT error_of($$ SELECT segment.create_segmentation('other', 'invoices', customer_column => 'customer_id"; DROP TABLE invoices; --') $$);
SELECT error_of($$ SELECT segment.create_segmentation('other', 'invoices', price_column => NULL) $$);
SELECT error_of($$ SELECT segment.create_segmentation('other', 'no_such_table') $$);
SELECT error_of($$ SELECT segment.create_segmentation('other', 'invoices', k => 1) $$);
SELECT error_of($$ SELECT segment.refresh_segmentation('no_such_segmentation') $$);
SELECT error_of($$ SELECT segment.drop_segmentation('no_such_segmentation') $$);
SELECT count(*) AS invoices_still_there FROM invoices;
-- without a country column, the model has nine features and no country
SELECT segment.create_segmentation('no_country', 'invoices', k => 3, country_column => NULL, seed => 7);
SELECT (SELECT count(DISTINCT feature) FROM no_country.boxplots) AS features,
	(SELECT count(*) FROM no_country.features WHERE country IS NOT NULL) AS countries,
	(SELECT k FROM no_country.model) AS k, (SELECT seed FROM no_country.model) AS seed;
SELECT segment.drop_segmentation('no_country');

-- Privileges: a role without SELECT on the source can neither segment it nor
-- read the results; granted them, it reads the views; it never sees others'
-- registry rows
CREATE ROLE regress_segment_analyst;
CREATE ROLE regress_segment_reader;
GRANT USAGE ON SCHEMA retail TO regress_segment_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA retail TO regress_segment_reader;
SET ROLE regress_segment_analyst;
SELECT error_of($$ SELECT count(*) FROM retail.profiles $$);
SELECT error_of($$ SELECT segment.create_segmentation('mine', 'invoices') $$);
SELECT count(*) AS registry_rows_visible FROM segment.segmentations;
RESET ROLE;
SET ROLE regress_segment_reader;
SELECT count(*) AS profiles_readable FROM retail.profiles;
SELECT error_of($$ SELECT count(*) FROM invoices $$);
RESET ROLE;
REVOKE ALL ON SCHEMA retail FROM regress_segment_reader;
REVOKE ALL ON ALL TABLES IN SCHEMA retail FROM regress_segment_reader;
DROP ROLE regress_segment_analyst;
DROP ROLE regress_segment_reader;
