-- The rules of the pipeline's SQL layer, column by column, after every kind
-- of refresh: create, assign-only, a refit kept warm, an unchanged source, a
-- refit to another k, customers gone, a refit of another recipe.  Each rule
-- is computed again here in plain SQL from the README's statement of it and
-- the snapshot taken before the refresh, never with the pipeline's own
-- queries; a rule's count is the rows that break it (0 when all is well).
SET extra_float_digits = 0;
CREATE VIEW rules_lines AS SELECT * FROM invoices WHERE customer_id < 13000 AND invoice_date < '2011-09-01';
-- 0: create (the state before is empty)
SELECT segment.create_segmentation('rules', 'rules_lines', k => 4);

-- the features of the source's lines by the plain SQL reference of the
-- features tests (test/reference/features_plain.sql), read over rules_lines
CREATE SCHEMA rules_reference;
CREATE VIEW rules_reference.invoices AS SELECT * FROM rules_lines;
SET search_path = rules_reference, public;
\i test/reference/features_plain.sql
RESET search_path;

-- the state before a refresh
CREATE TABLE rules_before_history AS SELECT NULL::integer AS customer_id, NULL::integer AS cluster, NULL::text AS label,
	NULL::timestamptz AS valid_from, NULL::timestamptz AS valid_to WITH NO DATA;
CREATE TABLE rules_before_registry AS SELECT * FROM segment.segmentations WITH NO DATA;
CREATE TABLE rules_before_model AS SELECT NULL::integer AS k, NULL::double precision AS inertia, NULL::integer AS iterations,
	NULL::timestamptz AS fitted_at WITH NO DATA;
CREATE FUNCTION rules_snapshot() RETURNS void LANGUAGE sql AS $$
	DELETE FROM rules_before_history;
	INSERT INTO rules_before_history SELECT customer_id, cluster, label, valid_from, valid_to FROM rules.history;
	DELETE FROM rules_before_registry;
	INSERT INTO rules_before_registry SELECT * FROM segment.segmentations WHERE name = 'rules';
	DELETE FROM rules_before_model;
	INSERT INTO rules_before_model SELECT k, inertia, iterations, fitted_at FROM rules.model;
$$;

-- The model vector of a customer in the README's words: ln(1 + x) of
-- recency, invoices and the four rates, sign × ln(1 + |amount| / unit) of
-- the two amounts, ln(1 + days between purchases, else recency), the
-- domestic flag; standardized by a scaler of the registry's (model_scaler
-- for the model's space, scaler for the profiles' z-scores)
CREATE FUNCTION rules_vector(f rules.features, r segment.segmentations, scaler segment.scaler) RETURNS double precision[]
LANGUAGE sql AS $$
	SELECT array_agg((x - scaler.mean[i]) / scaler.scale[i] ORDER BY i)
	FROM unnest(ARRAY[ln(1 + greatest(f.recency_days, 0)), ln(1 + f.invoices), ln(1 + f.invoices_per_hour),
		ln(1 + f.invoices_per_day), ln(1 + f.invoices_per_month), ln(1 + f.invoices_per_year),
		sign(f.total_amount) * ln(1 + abs(f.total_amount) / r.amount_unit),
		sign(f.avg_invoice_amount) * ln(1 + abs(f.avg_invoice_amount) / r.amount_unit),
		ln(1 + greatest(coalesce(f.mean_days_between, f.recency_days), 0)),
		(f.country IS NOT DISTINCT FROM r.domestic_country)::integer]) WITH ORDINALITY AS u (x, i)
$$;

-- The named group of the README's grid, and the action of a group
CREATE TABLE rules_grid (rfm_segment text, r_low integer, r_high integer, f_low integer, f_high integer, action text);
INSERT INTO rules_grid VALUES
	('Champions', 5, 5, 4, 5, 'reward them: early access and perks; ask for reviews and referrals'),
	('Loyal', 3, 4, 4, 5, 'upsell higher-value products; invite them to a loyalty programme'),
	('Potential loyalists', 4, 5, 2, 3, 'offer a membership or loyalty programme; recommend related products'),
	('New customers', 5, 5, 1, 1, 'welcome them and nurture them towards a second order'),
	('Promising', 4, 4, 1, 1, 'build the relationship: a small incentive for a repeat order'),
	('Need attention', 3, 3, 3, 3, 'limited-time offers based on their past purchases'),
	('About to sleep', 3, 3, 1, 2, 'reconnect before they lapse: recommendations and a discount'),
	('At risk', 1, 2, 3, 4, 'win them back with personal emails and an offer'),
	('Cannot lose them', 1, 2, 5, 5, 'win them back personally: talk to them, a strong offer'),
	('Hibernating', 2, 2, 1, 2, 're-engage with relevant offers at low cost'),
	('Lost', 1, 1, 1, 2, 'a low-cost reactivation campaign, or leave them alone');

-- Whether this refresh moves a customer out of a row of history in segment
-- cluster: gone from the source, in another segment, or, after a refit that
-- renumbers, in a segment that got another number
CREATE FUNCTION rules_moves(customer integer, cluster integer) RETURNS boolean LANGUAGE sql AS $$
	SELECT NOT EXISTS (SELECT FROM rules.assignments a WHERE a.customer_id = customer AND a.cluster IS NOT DISTINCT FROM rules_moves.cluster)
		OR (cluster IS NOT NULL AND (SELECT renumbering[cluster] IS DISTINCT FROM cluster AND renumbering IS NOT NULL
									 FROM segment.segmentations WHERE name = 'rules'))
$$;

CREATE FUNCTION rules_broken(refit boolean) RETURNS TABLE (rule text, broken bigint) LANGUAGE sql AS $$
WITH r AS (SELECT * FROM segment.segmentations WHERE name = 'rules'),
b AS (SELECT * FROM rules_before_registry),
clustered AS (
	SELECT f.customer_id, a.cluster, a.distance, rules_vector(f, r, r.model_scaler) AS v, f.total_amount, f.r_score, f.f_score, f.m_score,
		f.recency_days, f.invoices,
		-- the features in original units, in the order of r.features
		ARRAY[f.recency_days, f.invoices, f.invoices_per_hour, f.invoices_per_day, f.invoices_per_month, f.invoices_per_year,
			f.total_amount, f.avg_invoice_amount, coalesce(f.mean_days_between, f.recency_days),
			(f.country IS NOT DISTINCT FROM r.domestic_country)::integer] AS vals,
		rules_vector(f, r, r.scaler) AS zs
	FROM rules.features f JOIN rules.assignments a USING (customer_id), r WHERE f.invoices > 0),
feature_means AS (
	SELECT c.cluster, u.i, avg(u.value) AS mean, avg(u.z) AS z
	FROM clustered c, unnest(c.vals, c.zs) WITH ORDINALITY AS u (value, z, i) GROUP BY c.cluster, u.i),
distances AS (
	SELECT c.customer_id, c.cluster, c.distance, j AS centre,
		sqrt((SELECT sum((c.v[i] - (r.model).centroids[j][i]) ^ 2) FROM generate_series(1, array_length(c.v, 1)) AS i)) AS d
	FROM clustered c, r, generate_series(1, (r.model).k) AS j),
nearest AS (
	SELECT DISTINCT ON (customer_id) customer_id, cluster, distance, centre, d FROM distances ORDER BY customer_id, d, centre),
segments AS (
	SELECT cluster, count(*) AS customers, sum(total_amount) AS revenue, avg(r_score) AS r_mean, avg(f_score) AS f_mean,
		avg(m_score) AS m_mean, avg(recency_days) AS recency_mean, avg(invoices) AS invoices_mean
	FROM clustered GROUP BY cluster),
expected_profiles AS (
	SELECT s.*, s.customers::double precision / sum(s.customers) OVER () AS share, s.revenue / sum(s.revenue) FILTER (WHERE s.revenue > 0) OVER () AS revenue_share,
		g.rfm_segment,
		CASE WHEN s.revenue < 0 THEN 'look into their returns (products, descriptions, fraud) before marketing to them: they return more than they buy'
			WHEN floor(s.m_mean + 0.5) >= 4 AND g.rfm_segment IN ('Need attention', 'About to sleep', 'At risk', 'Hibernating', 'Lost')
			THEN 'win them back personally: talk to them, a strong offer' ELSE g.action END AS action
	FROM segments s JOIN rules_grid g ON floor(s.r_mean + 0.5) BETWEEN g.r_low AND g.r_high AND floor(s.f_mean + 0.5) BETWEEN g.f_low AND g.f_high),
now AS (SELECT a.customer_id, a.cluster FROM rules.assignments a),
-- history is in the data's time: this refresh's time is the as_of history
-- runs to now, in the segmentation's time zone
times AS (SELECT (SELECT history_as_of AT TIME ZONE time_zone FROM r) AS t, (SELECT history_as_of AT TIME ZONE time_zone FROM b) AS t_before),
-- a refresh at the same time as the last corrects it: a row the last one
-- opened for a customer who moves again is taken back, and the row it
-- closed reopened when its number means what the last refresh's numbers
-- meant (that one had a model to start from and renumbered nothing),
-- before the rules below apply
taken_back AS (
	SELECT o.customer_id FROM rules_before_history o, times
	WHERE times.t = times.t_before AND o.valid_to IS NULL AND o.valid_from = times.t AND rules_moves(o.customer_id, o.cluster)),
settled_before AS (
	SELECT h.customer_id, h.cluster, h.label, h.valid_from,
		CASE WHEN h.customer_id IN (SELECT customer_id FROM taken_back) AND h.valid_to = (SELECT t FROM times)
			AND (SELECT b.model IS NOT NULL AND b.renumbering IS NULL FROM b) THEN NULL ELSE h.valid_to END AS valid_to
	FROM rules_before_history h
	WHERE NOT (h.customer_id IN (SELECT customer_id FROM taken_back) AND h.valid_to IS NULL)),
open_before AS (SELECT * FROM settled_before WHERE valid_to IS NULL),
-- whose open row this refresh closes
closing AS (SELECT o.* FROM open_before o WHERE rules_moves(o.customer_id, o.cluster)),
-- transitions compare with the open rows as the last refresh left them
expected_transitions AS (
	SELECT o.cluster AS from_cluster, min(o.label) AS from_label, n.cluster AS to_cluster, count(*) AS customers
	FROM (SELECT * FROM rules_before_history WHERE valid_to IS NULL AND cluster IS NOT NULL) o
	FULL JOIN (SELECT * FROM now WHERE cluster IS NOT NULL) n USING (customer_id)
	GROUP BY o.cluster, n.cluster)
-- the features table is the reference's, at the reference time used
SELECT 'features: every customer''s invoices, returns, lines, items, amounts, purchases, active days and months, recency (1e-9)',
	(SELECT count(*) FROM rules.features f FULL JOIN rules_reference.features_plain p USING (customer_id), r
	 WHERE (f.invoices, f.returns, f.lines, f.items, f.first_purchase, f.last_purchase, f.active_days, f.active_months)
			IS DISTINCT FROM (p.invoices, p.returns, p.lines, p.items, p.first_purchase, p.last_purchase, p.active_days, p.active_months)
		OR abs(f.total_amount - p.total_amount) > 1e-9 * greatest(1, abs(p.total_amount))
		OR abs(f.purchase_amount - p.purchase_amount) > 1e-9 * greatest(1, abs(p.purchase_amount))
		OR abs(f.recency_days - extract(epoch FROM r.used_as_of - p.last_purchase)::double precision / 86400) > 1e-9
		OR (f.recency_days IS NULL) <> (p.last_purchase IS NULL))
UNION ALL
-- the model table is the registry's model
SELECT 'model: one row, k, seed, as_of, fitted_at, iterations, inertia, customers, assigned_at of the registry',
	(SELECT count(*) FROM rules.model m, r WHERE (m.k, m.seed, m.as_of, m.fitted_at, m.iterations, m.inertia, m.customers_clustered,
		m.fitted_rows, m.assigned_at) IS DISTINCT FROM ((r.model).k, r.seed, r.used_as_of, r.fitted_at, (r.model).iterations,
		(r.model).inertia, r.customers_clustered, r.fitted_rows, r.assigned_at)) + abs((SELECT count(*) FROM rules.model) - 1)
UNION ALL
SELECT 'model: the model was fitted with the registry''s seed and k (when k is given)',
	(SELECT count(*) FROM r WHERE (r.model).seed <> r.seed OR (r.k IS NOT NULL AND (r.model).k <> r.k))
UNION ALL
SELECT 'model: customers_clustered counts the customers with a purchase',
	(SELECT count(*) FROM rules.model WHERE customers_clustered <> (SELECT count(*) FROM rules.features WHERE invoices > 0))
UNION ALL
SELECT 'model: an assign-only refresh keeps k, inertia, iterations and fitted_at; a refit moves fitted_at',
	(SELECT count(*) FROM rules.model m, rules_before_model p
	 WHERE CASE WHEN refit THEN m.fitted_at <= p.fitted_at
		ELSE (m.k, m.inertia, m.iterations, m.fitted_at) IS DISTINCT FROM (p.k, p.inertia, p.iterations, p.fitted_at) END)
UNION ALL
SELECT 'model: the inertia of a refit is the sum of the squared distances to the nearest centre (1e-9)',
	CASE WHEN refit THEN (SELECT count(*) FROM rules.model m
		WHERE abs(m.inertia - (SELECT sum(d ^ 2) FROM nearest)) > 1e-9 * m.inertia) ELSE 0 END
UNION ALL
SELECT 'model: as_of is the latest line used (no as_of given)',
	(SELECT count(*) FROM rules.model WHERE as_of IS DISTINCT FROM (SELECT max(invoice_date) FROM rules_lines WHERE customer_id IS NOT NULL))
UNION ALL
SELECT 'assignments: every customer with a purchase in the segment of its nearest centre, at that distance (1e-9)',
	(SELECT count(*) FROM nearest WHERE cluster IS DISTINCT FROM centre OR abs(distance - d) > 1e-9)
UNION ALL
SELECT 'assignments: a customer without a purchase has no segment',
	(SELECT count(*) FROM rules.assignments a JOIN rules.features f USING (customer_id) WHERE f.invoices = 0 AND a.cluster IS NOT NULL)
UNION ALL
SELECT 'profiles: one row per filled segment; customers and share',
	(SELECT count(*) FROM rules.profiles p FULL JOIN expected_profiles e USING (cluster)
	 WHERE p.customers IS DISTINCT FROM e.customers OR abs(p.share - e.share) > 1e-12 OR p.share IS NULL)
UNION ALL
SELECT 'profiles: revenue, revenue_share (1e-9) and the mean scores (1e-12)',
	(SELECT count(*) FROM rules.profiles p JOIN expected_profiles e USING (cluster)
	 WHERE abs(p.revenue - e.revenue) > 1e-9 * abs(e.revenue) OR abs(p.revenue_share - e.revenue_share) > 1e-9
		OR abs(p.r_score_mean - e.r_mean) > 1e-12 OR abs(p.f_score_mean - e.f_mean) > 1e-12 OR abs(p.m_score_mean - e.m_mean) > 1e-12)
UNION ALL
SELECT 'profiles: means in original units (recency_days, invoices; 1e-9)',
	(SELECT count(*) FROM rules.profiles p JOIN expected_profiles e USING (cluster)
	 WHERE abs(p.recency_days_mean - e.recency_mean) > 1e-9 * greatest(1, abs(e.recency_mean))
		OR abs(p.invoices_mean - e.invoices_mean) > 1e-9 * greatest(1, e.invoices_mean))
UNION ALL
SELECT 'profiles: every feature''s mean in original units and mean z-score (1e-9)',
	(SELECT count(*) FROM feature_means m JOIN rules.profiles p USING (cluster), r
	 WHERE abs((to_jsonb(p) ->> (r.features[m.i] || '_mean'))::double precision - m.mean) > 1e-9 * greatest(1, abs(m.mean))
		OR abs((to_jsonb(p) ->> (r.features[m.i] || '_z'))::double precision - m.z) > 1e-9 * greatest(1, abs(m.z))
		OR (to_jsonb(p) ->> (r.features[m.i] || '_mean')) IS NULL OR (to_jsonb(p) ->> (r.features[m.i] || '_z')) IS NULL)
UNION ALL
SELECT 'profiles: the RFM group of the mean scores rounded half up, and its action (a lapsing high spender''s is the win-back)',
	(SELECT count(*) FROM rules.profiles p JOIN expected_profiles e USING (cluster)
	 WHERE p.rfm_segment IS DISTINCT FROM e.rfm_segment OR p.action IS DISTINCT FROM e.action)
UNION ALL
SELECT 'profiles: label is the registry''s label of the segment, label_source user where a user named it',
	(SELECT count(*) FROM rules.profiles p, r
	 WHERE p.label IS DISTINCT FROM r.labels[p.cluster]
		OR p.label_source IS DISTINCT FROM CASE WHEN r.user_labels[p.cluster] IS NULL THEN 'automatic' ELSE 'user' END)
UNION ALL
SELECT 'transitions: the open history rows before against the segments now, with their labels as they were and are',
	(SELECT count(*) FROM rules.transitions t FULL JOIN expected_transitions e
		ON coalesce(t.from_cluster, 0) = coalesce(e.from_cluster, 0) AND coalesce(t.to_cluster, 0) = coalesce(e.to_cluster, 0)
	 WHERE t.customers IS DISTINCT FROM e.customers OR t.from_label IS DISTINCT FROM e.from_label
		OR t.to_label IS DISTINCT FROM (SELECT labels[e.to_cluster] FROM r))
UNION ALL
SELECT 'transitions: share_of_from is the customers over all of from_cluster before (1e-12)',
	(SELECT count(*) FROM rules.transitions t
	 WHERE abs(t.share_of_from - t.customers::double precision / (SELECT sum(customers) FROM rules.transitions u
		WHERE u.from_cluster IS NOT DISTINCT FROM t.from_cluster)) > 1e-12)
UNION ALL
SELECT 'history: rows closed before are kept as they were',
	(SELECT count(*) FROM settled_before o LEFT JOIN rules.history h USING (customer_id, valid_from)
	 WHERE o.valid_to IS NOT NULL AND (h.customer_id IS NULL OR (h.cluster, h.label, h.valid_to) IS DISTINCT FROM (o.cluster, o.label, o.valid_to)))
UNION ALL
SELECT 'history: a row this refresh closes keeps customer, segment, label and start, and ends at the refresh''s as_of',
	(SELECT count(*) FROM closing o LEFT JOIN rules.history h USING (customer_id, valid_from)
	 WHERE h.customer_id IS NULL OR (h.cluster, h.label) IS DISTINCT FROM (o.cluster, o.label)
		OR h.valid_to IS DISTINCT FROM (SELECT t FROM times))
UNION ALL
SELECT 'history: an open row that stays open keeps its start',
	(SELECT count(*) FROM open_before o JOIN rules.history h USING (customer_id, valid_from)
	 WHERE o.customer_id NOT IN (SELECT customer_id FROM closing) AND h.valid_to IS NOT NULL)
UNION ALL
SELECT 'history: one open row per customer now assigned (a segment, or none after one), in its segment now, with its label now',
	(SELECT count(*) FROM (SELECT customer_id, cluster, label FROM rules.history WHERE valid_to IS NULL) h
		FULL JOIN (SELECT n.customer_id, n.cluster, (SELECT labels[n.cluster] FROM r) AS label FROM now n
				   WHERE n.cluster IS NOT NULL OR n.customer_id IN (SELECT customer_id FROM rules_before_history)
						OR n.customer_id IN (SELECT customer_id FROM rules.history)) n USING (customer_id)
	 WHERE (h.cluster, h.label) IS DISTINCT FROM (n.cluster, n.label) OR h.customer_id IS NULL OR n.customer_id IS NULL)
UNION ALL
SELECT 'history: a row this refresh opens starts at its as_of, and records when the refresh assigned',
	(SELECT count(*) FROM rules.history h WHERE h.valid_to IS NULL
		AND NOT EXISTS (SELECT FROM open_before o WHERE o.customer_id = h.customer_id AND o.valid_from = h.valid_from)
		AND (h.valid_from, h.recorded_at) IS DISTINCT FROM ((SELECT t FROM times), (SELECT assigned_at FROM r)))
UNION ALL
SELECT 'history: no row ends before it starts, and the rows of a customer do not overlap',
	(SELECT count(*) FROM (SELECT h.valid_from, h.valid_to, lead(h.valid_from) OVER w AS next_from
						   FROM rules.history h WINDOW w AS (PARTITION BY h.customer_id ORDER BY h.valid_from)) AS h
	 WHERE h.valid_to <= h.valid_from OR (h.next_from IS NOT NULL AND (h.valid_to IS NULL OR h.valid_to > h.next_from)))
UNION ALL
SELECT 'registry: assigned_at moves at every refresh',
	(SELECT count(*) FROM r, b WHERE r.assigned_at <= b.assigned_at)
$$;

SELECT * FROM rules_broken(true);

-- every later step: the rules checked, those broken (none), and what the
-- step did, so that no rule holds only because nothing happened
CREATE FUNCTION rules_step(refit boolean) RETURNS TABLE (rules_checked bigint, broken text) LANGUAGE sql AS $$
	SELECT count(*), string_agg(rule || ': ' || broken, '; ') FILTER (WHERE broken <> 0) FROM rules_broken(refit)
$$;
CREATE FUNCTION rules_changes() RETURNS TABLE (customers_now bigint, rows_closed bigint, rows_opened bigint, moved bigint, renumbered boolean)
LANGUAGE sql AS $$
	SELECT (SELECT count(*) FROM rules.assignments WHERE cluster IS NOT NULL),
		(SELECT count(*) FROM rules.history h JOIN rules_before_history b USING (customer_id, valid_from)
		 WHERE b.valid_to IS NULL AND h.valid_to IS NOT NULL),
		(SELECT count(*) FROM rules.history h WHERE NOT EXISTS (SELECT FROM rules_before_history b
		 WHERE b.customer_id = h.customer_id AND b.valid_from = h.valid_from)),
		(SELECT coalesce(sum(customers), 0) FROM rules.transitions WHERE from_cluster IS DISTINCT FROM to_cluster),
		(SELECT renumbering IS NOT NULL FROM segment.segmentations WHERE name = 'rules')
$$;

-- 1: a month later, assign-only: new customers come in
CREATE OR REPLACE VIEW rules_lines AS SELECT * FROM invoices WHERE customer_id < 13000 AND invoice_date < '2011-10-01';
SELECT rules_snapshot();
SELECT segment.refresh_segmentation('rules', refit => false);
SELECT * FROM rules_step(false);
SELECT * FROM rules_changes();

-- 2: a refit of the same lines (the previous model kept warm) and a user's label
SELECT segment.set_label('rules', 2, 'second');
SELECT rules_snapshot();
SELECT segment.refresh_segmentation('rules');
SELECT * FROM rules_step(true);
SELECT * FROM rules_changes();

-- 3: the source unchanged: the model is kept
SELECT rules_snapshot();
SELECT segment.refresh_segmentation('rules');
SELECT * FROM rules_step(true);
SELECT * FROM rules_changes();

-- 3b: the same lines with another seed: no shortcut, a refit with that seed
SELECT segment.alter_segmentation('rules', seed => 1);
SELECT rules_snapshot();
SELECT segment.refresh_segmentation('rules');
SELECT * FROM rules_step(true);

-- 4: k lowered to 3: segments renumbered
SELECT segment.alter_segmentation('rules', k => 3);
SELECT rules_snapshot();
SELECT segment.refresh_segmentation('rules');
SELECT * FROM rules_step(true);
SELECT * FROM rules_changes();

-- 5: every seventh customer leaves, and customer 12352 keeps only its
-- returns (no purchase: no segment, an open row without one), assign-only
CREATE OR REPLACE VIEW rules_lines AS SELECT * FROM invoices
WHERE customer_id < 13000 AND invoice_date < '2011-10-01' AND customer_id % 7 <> 0
	AND NOT (customer_id = 12352 AND quantity > 0);
SELECT rules_snapshot();
SELECT segment.refresh_segmentation('rules', refit => false);
SELECT * FROM rules_step(false);
SELECT * FROM rules_changes();
SELECT customer_id, cluster, valid_to IS NULL AS open FROM rules.history WHERE customer_id = 12352 ORDER BY valid_from;

-- 6: the whole year and the automatic k: a refit from the start
CREATE OR REPLACE VIEW rules_lines AS SELECT * FROM invoices WHERE customer_id < 13000;
-- (alter_segmentation keeps k where given NULL: the registry row by hand)
UPDATE segment.segmentations SET k = NULL WHERE name = 'rules';
SELECT rules_snapshot();
SELECT segment.refresh_segmentation('rules');
SELECT * FROM rules_step(true);
SELECT * FROM rules_changes();

-- trim_history deletes exactly the closed rows that ended more than the
-- interval before the last as_of (the data's time), and only those
CREATE TABLE rules_history_before_trim AS SELECT * FROM rules.history;
SELECT segment.trim_history('rules', '0 seconds') = (SELECT count(*) FROM rules_history_before_trim
		WHERE valid_to < (SELECT as_of FROM rules.model)::timestamptz) AS trimmed_the_closed_rows,
	(SELECT count(*) FROM rules_history_before_trim WHERE valid_to < (SELECT as_of FROM rules.model)::timestamptz) > 0 AS there_were_some;
SELECT (SELECT count(*) FROM rules.history WHERE valid_to IS NOT NULL) AS closed_rows_left,
	(SELECT count(*) FROM (SELECT * FROM rules.history WHERE valid_to IS NULL) h FULL JOIN (SELECT * FROM rules_history_before_trim WHERE valid_to IS NULL) b
		USING (customer_id, valid_from) WHERE (h.cluster, h.label, h.valid_to) IS DISTINCT FROM (b.cluster, b.label, b.valid_to)
			OR h.customer_id IS NULL OR b.customer_id IS NULL) AS open_rows_changed;

DROP FUNCTION rules_step(boolean), rules_changes(), rules_broken(boolean), rules_snapshot(), rules_vector(rules.features, segment.segmentations, segment.scaler);
SELECT segment.drop_segmentation('rules');
DROP TABLE rules_history_before_trim, rules_grid, rules_before_history, rules_before_registry, rules_before_model;
DROP SCHEMA rules_reference CASCADE;
DROP VIEW rules_lines;

-- Exact boundaries of every threshold the README states
-- the automatic labels on hand-made centroids: ±0.5 for recency, frequency
-- (the mean of invoices and invoices per month) and spending, 1 for the
-- mean of invoices per hour and per day, -0.5 of the domestic flag for
-- "abroad"; a repeated label gets its number
SELECT segment.segmentation_labels(ARRAY[
		[-0.5, 0.5, 1, 1, 0.5, 0, 0.5, 0, 0, 0],
		[0.5, -0.5, 0.99, 0.99, -0.5, 0, -0.5, 0, 0, -0.5],
		[-0.49, 0.49, 0, 0, 0.49, 0, 0.49, 0, 0, -0.49],
		[-0.49, 0.49, 0, 0, 0.49, 0, 0.49, 0, 0, -0.49],
		[0, 0.6, 0, 0, 0.39, 0, -0.49, 0, 0, 0]]::double precision[], true)
	= ARRAY['recent frequent high spenders, several orders a day', 'lapsed occasional low spenders abroad', 'mid spenders',
		'mid spenders 4', 'mid spenders 5'] AS labels_as_the_readme_states;
SELECT (segment.segmentation_labels(ARRAY[[0.5, -0.5, 0.99, 0.99, -0.5, 0, -0.5, 0, 0]]::double precision[], false))[1]
	= 'lapsed occasional low spenders' AS no_abroad_without_a_country;
-- the k rule: a smallest segment of exactly 2 % qualifies, just under does not
SELECT segment.choose_k(ARRAY[2, 3, 4, 5, 6, 7], ARRAY[0.9, 0.3, 0.31, 0.4, 0.5, 0.2], ARRAY[0.3, 0.2, 0.1, 0.02, 0.0199999, 0.1], 5) AS k_with_two_percent;
-- a silhouette one k away from the elbow is in, two away is out
SELECT segment.choose_k(ARRAY[3, 4, 5, 6, 7], ARRAY[0.3, 0.2, 0.1, 0.2, 0.9], ARRAY[0.1, 0.1, 0.1, 0.1, 0.1], 5) AS k_within_one_of_the_elbow;
-- box-plot whiskers: a value exactly at q3 + 1.5 IQR or q1 - 1.5 IQR is a
-- whisker, one just beyond an outlier
SELECT (b).q1, (b).q3, (b).lower_whisker, (b).upper_whisker, (b).outliers
FROM (SELECT segment.boxplot(v) AS b
	  FROM (SELECT unnest(array_fill(0::double precision, ARRAY[20]) || array_fill(4::double precision, ARRAY[20])
			|| ARRAY[-6, 10, 10.000001]::double precision[]) AS v) AS values) AS box;
-- RFM scores 1 + floor(5 w / n): of ten customers, w = 2 (a fifth) scores 2
SELECT array_agg(segment.rfm_quintile(rank, 10) ORDER BY rank) AS scores_of_ten FROM generate_series(1, 10) AS rank;
-- as_of: a line exactly at as_of is used, one a microsecond later is not
CREATE TABLE edge_lines (invoice_no text, invoice_date timestamp, quantity integer, unit_price numeric, customer_id integer, country text);
INSERT INTO edge_lines VALUES
	('a1', '2011-01-01 10:00', 1, 10, 1, 'X'), ('a2', '2011-06-01 12:00', 1, 10, 1, 'X'),
	('a3', '2011-06-01 12:00:00.000001', 1, 10, 1, 'X'),
	('b1', '2011-02-01', 2, 5, 2, 'X'), ('b2', '2011-03-01', 2, 5, 2, 'X'),
	('c1', '2011-04-01', 5, 20, 3, 'Y'), ('d1', '2011-05-01', 1, 1, 4, 'X'), ('e1', '2011-05-15', 9, 3, 5, 'X');
SELECT segment.create_segmentation('edges', 'edge_lines', k => 2, as_of => '2011-06-01 12:00');
SELECT invoices, recency_days, (SELECT as_of FROM edges.model) AS as_of FROM edges.features WHERE customer_id = 1;
SELECT segment.drop_segmentation('edges');
DROP TABLE edge_lines;
