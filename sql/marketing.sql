-- The marketer's view: RFM scores and named groups checked against a plain
-- SQL computation of their definitions, revenue and actions per segment,
-- and recipe => 'notebook' against pandas + scikit-learn
-- (test/reference/notebook_reference.py) on the bundled data
SELECT segment.create_segmentation('marketing', 'invoices');

-- RFM scores: 1 + floor(5 w / n), w the customers with a purchase that are
-- strictly worse (older, fewer invoices, less spent), n all of them;
-- counted here by comparing distinct values, not by rank()
CREATE TEMP TABLE purchasers AS
SELECT customer_id, recency_days, invoices, total_amount, r_score, f_score, m_score, rfm_score, rfm_segment
FROM marketing.features WHERE invoices > 0;
CREATE TEMP TABLE reference_scores AS
WITH n AS (SELECT count(*) AS n FROM purchasers),
recency AS (SELECT recency_days AS v, count(*) AS c FROM purchasers GROUP BY 1),
frequency AS (SELECT invoices AS v, count(*) AS c FROM purchasers GROUP BY 1),
monetary AS (SELECT total_amount AS v, count(*) AS c FROM purchasers GROUP BY 1),
r AS (SELECT a.v, 1 + floor(5.0 * coalesce((SELECT sum(b.c) FROM recency b WHERE b.v > a.v), 0) / n.n) AS score FROM recency a, n),
f AS (SELECT a.v, 1 + floor(5.0 * coalesce((SELECT sum(b.c) FROM frequency b WHERE b.v < a.v), 0) / n.n) AS score FROM frequency a, n),
m AS (SELECT a.v, 1 + floor(5.0 * coalesce((SELECT sum(b.c) FROM monetary b WHERE b.v < a.v), 0) / n.n) AS score FROM monetary a, n)
SELECT p.customer_id, r.score AS r, f.score AS f, m.score AS m
FROM purchasers p JOIN r ON r.v = p.recency_days JOIN f ON f.v = p.invoices JOIN m ON m.v = p.total_amount;
SELECT count(*) AS purchasers,
	count(*) FILTER (WHERE s.r = p.r_score AND s.f = p.f_score AND s.m = p.m_score) AS scores_as_defined,
	count(*) FILTER (WHERE p.rfm_score = p.r_score::text || p.f_score::text || p.m_score::text) AS rfm_score_is_the_digits
FROM purchasers p JOIN reference_scores s USING (customer_id);
-- equal values share a score, so the classes are not fifths: a third of
-- the customers have exactly one invoice
SELECT f_score, count(*) AS customers, min(invoices) AS from_invoices, max(invoices) AS to_invoices
FROM purchasers GROUP BY f_score ORDER BY f_score;
SELECT (SELECT count(*) FROM (SELECT invoices FROM purchasers GROUP BY invoices HAVING count(DISTINCT f_score) > 1) x)
	+ (SELECT count(*) FROM (SELECT recency_days FROM purchasers GROUP BY recency_days HAVING count(DISTINCT r_score) > 1) x)
	+ (SELECT count(*) FROM (SELECT total_amount FROM purchasers GROUP BY total_amount HAVING count(DISTINCT m_score) > 1) x)
	AS equal_values_with_different_scores;
-- the quintile rule by itself: ten customers, two per class; seven, as
-- 1 + floor(5 (rank - 1) / 7)
SELECT array_agg(segment.rfm_quintile(r, 10) ORDER BY r) AS ten_customers,
	array_agg(segment.rfm_quintile(r, 7) ORDER BY r) FILTER (WHERE r <= 7) AS seven_customers
FROM generate_series(1, 10) AS r;
SELECT count(*) AS without_purchase, count(r_score) + count(f_score) + count(m_score) + count(rfm_score) + count(rfm_segment) AS scored
FROM marketing.features WHERE invoices = 0;

-- the domestic country is the most common one among the customers with a purchase
SELECT domestic_country, domestic_country = (SELECT country FROM marketing.features WHERE invoices > 0 AND country IS NOT NULL
		GROUP BY country ORDER BY count(*) DESC LIMIT 1) AS most_common
FROM segment.segmentations WHERE name = 'marketing';

-- The named groups: the README's table of score ranges, cell by cell
CREATE TEMP TABLE rfm_grid (name text, r_from int, r_to int, f_from int, f_to int);
INSERT INTO rfm_grid VALUES
	('Champions', 5, 5, 4, 5), ('Loyal', 3, 4, 4, 5), ('Potential loyalists', 4, 5, 2, 3),
	('New customers', 5, 5, 1, 1), ('Promising', 4, 4, 1, 1), ('Need attention', 3, 3, 3, 3),
	('About to sleep', 3, 3, 1, 2), ('At risk', 1, 2, 3, 4), ('Cannot lose them', 1, 2, 5, 5),
	('Hibernating', 2, 2, 1, 2), ('Lost', 1, 1, 1, 2);
SELECT count(*) AS cells,
	count(*) FILTER (WHERE (SELECT count(*) FROM rfm_grid g WHERE r BETWEEN g.r_from AND g.r_to AND f BETWEEN g.f_from AND g.f_to) = 1) AS in_one_group,
	count(*) FILTER (WHERE segment.rfm_segment(r, f) = (SELECT g.name FROM rfm_grid g
		WHERE r BETWEEN g.r_from AND g.r_to AND f BETWEEN g.f_from AND g.f_to)) AS named_as_the_table
FROM generate_series(1, 5) AS r, generate_series(1, 5) AS f;
SELECT count(*) FILTER (WHERE rfm_segment IS DISTINCT FROM segment.rfm_segment(r_score, f_score)) AS misnamed
FROM purchasers;
SELECT rfm_segment, count(*) AS customers FROM purchasers GROUP BY rfm_segment ORDER BY customers DESC, rfm_segment;

-- Profiles: revenue is the sum of the segment's customers' total amounts;
-- the shares add up to 1; the group is the rule applied to the mean scores
-- rounded half up; the action follows the group, and a slipping group of
-- high spenders gets the action of Cannot lose them
WITH plain AS (
	SELECT a.cluster, sum(f.total_amount) AS revenue, avg(f.r_score) AS r, avg(f.f_score) AS f, avg(f.m_score) AS m
	FROM marketing.assignments a JOIN marketing.features f USING (customer_id)
	WHERE a.cluster IS NOT NULL GROUP BY a.cluster)
SELECT count(*) AS segments,
	count(*) FILTER (WHERE abs(p.revenue - plain.revenue) <= 1e-9 * abs(plain.revenue)) AS revenue_as_defined,
	abs((SELECT sum(revenue_share) FROM marketing.profiles) - 1) < 1e-12 AS shares_add_up_to_1,
	count(*) FILTER (WHERE abs(p.r_score_mean - plain.r) < 1e-12 AND abs(p.f_score_mean - plain.f) < 1e-12
		AND abs(p.m_score_mean - plain.m) < 1e-12) AS mean_scores_as_defined,
	count(*) FILTER (WHERE p.rfm_segment = segment.rfm_segment(floor(plain.r + 0.5)::int, floor(plain.f + 0.5)::int)) AS grouped_by_rule,
	count(*) FILTER (WHERE p.action = segment.rfm_action(CASE
		WHEN floor(plain.m + 0.5) >= 4 AND p.rfm_segment IN ('Need attention', 'About to sleep', 'At risk', 'Hibernating', 'Lost')
		THEN 'Cannot lose them' ELSE p.rfm_segment END)) AS action_by_rule
FROM marketing.profiles p JOIN plain USING (cluster);
SELECT cluster, label, customers, round(revenue::numeric) AS revenue, round(revenue_share::numeric, 3) AS revenue_share,
	rfm_segment, action
FROM marketing.profiles ORDER BY cluster;
-- the first eleven months (as make demo segments them) have a slipping
-- segment of high spenders: it gets the action of Cannot lose them
SELECT segment.create_segmentation('marketing_early', 'invoices', as_of => '2011-11-08');
WITH plain AS (
	SELECT a.cluster, avg(f.r_score) AS r, avg(f.f_score) AS f, avg(f.m_score) AS m
	FROM marketing_early.assignments a JOIN marketing_early.features f USING (customer_id)
	WHERE a.cluster IS NOT NULL GROUP BY a.cluster)
SELECT count(*) AS segments,
	count(*) FILTER (WHERE p.rfm_segment = segment.rfm_segment(floor(plain.r + 0.5)::int, floor(plain.f + 0.5)::int)) AS grouped_by_rule,
	count(*) FILTER (WHERE p.action = segment.rfm_action(CASE
		WHEN floor(plain.m + 0.5) >= 4 AND p.rfm_segment IN ('Need attention', 'About to sleep', 'At risk', 'Hibernating', 'Lost')
		THEN 'Cannot lose them' ELSE p.rfm_segment END)) AS action_by_rule,
	count(*) FILTER (WHERE floor(plain.m + 0.5) >= 4
		AND p.rfm_segment IN ('Need attention', 'About to sleep', 'At risk', 'Hibernating', 'Lost')) AS slipping_high_spenders
FROM marketing_early.profiles p JOIN plain USING (cluster);
SELECT segment.drop_segmentation('marketing_early');
SELECT a AS slipping_group, segment.rfm_action(a, 5) = segment.rfm_action('Cannot lose them') AS high_spenders_win_back,
	segment.rfm_action(a, 3) = segment.rfm_action(a) AS others_keep_it
FROM unnest(ARRAY['Need attention', 'About to sleep', 'At risk', 'Hibernating', 'Lost']) AS a;
SELECT count(DISTINCT segment.rfm_action(name)) AS distinct_actions FROM rfm_grid;

-- The automatic labels follow the README's rule on the centroid's z-scores
-- (recency, invoices, per hour, per day, per month, per year, total,
-- average, days between, domestic): recency <= -0.5 recent, >= 0.5 lapsed;
-- frequency, the mean of invoices and invoices per month; spending, the total;
-- several orders a day when per hour and per day average >= 1; abroad when
-- domestic <= -0.5; a repeated label gets its number
SELECT u.c, u.label
FROM unnest(segment.segmentation_labels(ARRAY[
		[-1, 1, 0, 0, 1, -1, 1, 0, 0, -1],
		[1, -1, 1.5, 1.5, -1, 1, -1, 0, 0, 1],
		[0, 0.6, 0, 0, 0.6, -2, 0.6, 0, 0, 0.6],
		[0.2, -2, 0, 0, 1, 0, 0.2, 0, 0, -0.2],
		[0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
		[0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]::float8[], true)) WITH ORDINALITY AS u (label, c);

-- The report opens with what to do, before the statistics
SELECT strpos(html, '<h2>What to do</h2>') > 0 AS has_what_to_do,
	strpos(html, '<h2>What to do</h2>') < strpos(html, '<h2>Segments</h2>') AS what_to_do_first,
	(SELECT bool_and(strpos(html, segment.xml_text(p.action)) > 0) FROM marketing.profiles p) AS every_action_shown
FROM (SELECT segment.report('marketing') AS html) AS r;

-- Bad input
SELECT error_of($$ SELECT segment.rfm_segment(0, 3) $$);
SELECT error_of($$ SELECT segment.rfm_segment(5, 6) $$);
SELECT segment.rfm_segment(NULL, 3) IS NULL AS null_score_no_group, segment.rfm_action(NULL) IS NULL AS null_group_no_action;
SELECT error_of($$ SELECT segment.rfm_action('Whales') $$);
SELECT error_of($$ SELECT segment.rfm_action('Lost', 9) $$);
SELECT error_of($$ SELECT segment.create_segmentation('badrecipe', 'invoices', recipe => 'sklearn') $$);
SELECT error_of($$ SELECT segment.create_segmentation('badrecipe', 'invoices', recipe => NULL) $$);
SELECT error_of($$ SELECT segment.alter_segmentation('marketing', recipe => 'RFM') $$);
SELECT count(*) AS left_behind FROM pg_namespace WHERE nspname = 'badrecipe';

-- recipe => 'notebook': every customer with a line, raw features and
-- one-hot countries, StandardScaler on all of them
SELECT segment.create_segmentation('notebook', 'invoices', k => 4, recipe => 'notebook');
SELECT customers_clustered, (SELECT count(*) FROM notebook.features) AS customers,
	(SELECT count(*) FROM notebook.features WHERE invoices = 0) AS without_purchase,
	(SELECT count(*) FROM notebook.assignments WHERE cluster IS NULL) AS not_clustered
FROM notebook.model;
SELECT recipe, array_length(features, 1) AS features, array_length(categories, 1) AS countries,
	array_length((model).centroids, 2) AS dims, features[1:3] AS first_features
FROM segment.segmentations WHERE name = 'notebook';
-- its vectors, element by element with their names, as the pipeline makes them
CREATE TEMP TABLE notebook_vectors (customer_id bigint, dimension text, value double precision, j bigint);
DO $$
DECLARE
	r segment.segmentations;
BEGIN
	SELECT * INTO r FROM segment.segmentations WHERE name = 'notebook';
	EXECUTE format('INSERT INTO notebook_vectors SELECT f.customer_id, d.dimension, d.value, d.j
		FROM notebook.features f, (SELECT $1 AS categories) r,
			unnest($2, segment.scale(%s, $3)) WITH ORDINALITY AS d (dimension, value, j)
		WHERE %s', segment.segmentation_vector_sql('notebook', true), segment.segmentation_clustered_sql('notebook'))
		USING r.categories, segment.segmentation_dimensions(r), r.model_scaler;
END
$$;
CREATE TEMP TABLE notebook_reference (kind text, key bigint, dimension text, value text);
\copy notebook_reference FROM PROGRAM '/usr/bin/python3 test/reference/notebook_reference.py data/online_retail.csv.gz' WITH (FORMAT csv)
-- the scaled vectors equal scikit-learn's within 1e-9
SELECT count(*) AS elements, count(s.value) AS in_segment, count(p.value) AS in_pandas,
	max(abs(s.value - p.value::double precision)) < 1e-9 AS equal_within_1e_9
FROM notebook_vectors s FULL JOIN (SELECT * FROM notebook_reference WHERE kind = 'vector') p
	ON p.key = s.customer_id AND p.dimension = s.dimension;
-- k-means, k = 4, n_init = 10: the median inertia over seeds 0..4 is at
-- most scikit-learn's
CREATE TEMP TABLE notebook_matrix AS
SELECT customer_id AS id, array_agg(value ORDER BY j) AS vec FROM notebook_vectors GROUP BY customer_id;
CREATE TEMP TABLE notebook_fits AS
SELECT seed, segment.kmeans_fit('SELECT id, vec FROM notebook_matrix', 4, 10, seed => seed) AS model
FROM generate_series(0, 4) AS seed;
SELECT (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY (model).inertia) FROM notebook_fits)
		<= (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY value::double precision) FROM notebook_reference WHERE kind = 'inertia')
	AS median_inertia_at_most_scikit_learns,
	(SELECT abs((model).inertia - (SELECT inertia FROM notebook.model)) < 1e-9 * (model).inertia FROM notebook_fits WHERE seed = 0)
	AS pipeline_model_is_the_seed_0_fit;
-- the notebook's segments: a few outliers each in a segment of their own
SELECT array_agg(customers ORDER BY cluster) AS sizes FROM notebook.profiles;
SELECT cluster, label, customers, rfm_segment FROM notebook.profiles ORDER BY cluster;
-- its labels read the notebook's order of features (recency, invoices,
-- total, average, days between, per month, per day, per hour, per year)
SELECT segment.segmentation_automatic_labels(s, ARRAY[[-1, 1, 1, -1, 0, 1, 0, 0, 0], [1, -1, -1, 1, 0, -1, 1.5, 1.5, 0]]::float8[])
	AS notebook_labels
FROM segment.segmentations s WHERE s.name = 'notebook';
-- the one-hot countries appear in the PCA loadings by name
SELECT count(*) FILTER (WHERE feature LIKE 'country: %') / 2 AS country_loadings_per_component,
	count(*) FILTER (WHERE feature = 'country: United Kingdom') AS uk
FROM notebook.pca;

-- Another recipe: the next refresh must refit (the model's vectors had
-- other elements)
SELECT segment.alter_segmentation('notebook', recipe => 'rfm');
SELECT error_of($$ SELECT segment.refresh_segmentation('notebook', refit => false) $$);
SELECT segment.refresh_segmentation('notebook');
SELECT recipe, model_recipe, categories IS NULL AS no_countries, array_length((model).centroids, 2) AS dims
FROM segment.segmentations WHERE name = 'notebook';

SELECT segment.drop_segmentation('notebook');
SELECT segment.drop_segmentation('marketing');
DROP TABLE purchasers, reference_scores, rfm_grid, notebook_vectors, notebook_reference, notebook_matrix, notebook_fits;
