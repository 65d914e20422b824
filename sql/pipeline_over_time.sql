-- Segments over time: the cheap refresh (refit => false), the warm-started
-- refit that keeps customers in place, transitions, history and user labels
SET extra_float_digits = 0;

-- The target: segment all but the last month (from 2011-11-09), let the month
-- arrive, refresh.  The refit keeps every customer whose segment the frozen
-- model (refit => false) keeps, give or take 2 points, at every k from 3 to 8
-- and with automatic k
CREATE VIEW invoices_until AS SELECT * FROM invoices WHERE invoice_date < '2011-11-09';
CREATE TEMP TABLE stability (k text, frozen numeric, refit numeric, k_kept boolean);
DO $$
DECLARE
	wanted integer;
	frozen numeric;
	refit numeric;
	k_before integer;
BEGIN
	FOR wanted IN SELECT * FROM unnest(ARRAY[3, 4, 5, 6, 7, 8, NULL]) LOOP
		CREATE OR REPLACE VIEW invoices_until AS SELECT * FROM invoices WHERE invoice_date < '2011-11-09';
		PERFORM segment.create_segmentation('stable', 'invoices_until', k => wanted);
		CREATE TEMP TABLE month_before AS SELECT customer_id, cluster FROM stable.assignments WHERE cluster IS NOT NULL;
		k_before := (SELECT k FROM stable.model);
		CREATE OR REPLACE VIEW invoices_until AS SELECT * FROM invoices;
		PERFORM segment.refresh_segmentation('stable', refit => false);
		frozen := (SELECT avg((a.cluster = b.cluster)::integer) FROM month_before b JOIN stable.assignments a USING (customer_id));
		PERFORM segment.refresh_segmentation('stable');
		refit := (SELECT avg((a.cluster = b.cluster)::integer) FROM month_before b JOIN stable.assignments a USING (customer_id));
		INSERT INTO stability VALUES (coalesce(wanted::text, 'automatic'), frozen, refit, (SELECT k FROM stable.model) = k_before);
		DROP TABLE month_before;
		PERFORM segment.drop_segmentation('stable');
	END LOOP;
END
$$;
SELECT k, refit >= frozen - 0.02 AS refit_keeps_what_frozen_keeps, frozen > 0.7 AS frozen_keeps_most, k_kept
FROM stability ORDER BY k;

-- Three refreshes of a changing source: a fortnight (assign only), a month
-- (refit), then some customers leave and the rest come back unchanged
CREATE OR REPLACE VIEW invoices_until AS SELECT * FROM invoices WHERE invoice_date < '2011-10-25';
SELECT segment.create_segmentation('monthly', 'invoices_until', k => 4);
CREATE TEMP TABLE snapshots AS
SELECT 0 AS refresh, (SELECT as_of FROM monthly.model)::timestamptz AS at, customer_id, cluster FROM monthly.assignments WHERE cluster IS NOT NULL;
CREATE TEMP TABLE model_0 AS SELECT * FROM monthly.model;
CREATE TEMP TABLE elbow_0 AS SELECT * FROM monthly.elbow;
SELECT (SELECT count(*) FROM monthly.transitions WHERE from_cluster IS NOT NULL) AS transitions_from_a_segment,
	(SELECT sum(customers) FROM monthly.transitions) = (SELECT count(*) FROM snapshots) AS creation_moves_everyone_in,
	(SELECT count(*) FROM monthly.history) = (SELECT count(*) FROM snapshots) AS history_starts_at_creation;

-- the transitions of refresh n equal the join of snapshot n - 1 and the assignments
CREATE FUNCTION pg_temp.transitions_match(n integer) RETURNS boolean LANGUAGE sql AS $$
	WITH expected AS (
		SELECT p.cluster AS from_cluster, c.cluster AS to_cluster, count(*) AS customers
		FROM (SELECT customer_id, cluster FROM snapshots WHERE refresh = n - 1) AS p
		FULL JOIN (SELECT customer_id, cluster FROM monthly.assignments WHERE cluster IS NOT NULL) AS c USING (customer_id)
		GROUP BY 1, 2)
	SELECT NOT EXISTS (
		SELECT FROM expected e FULL JOIN monthly.transitions t
			ON coalesce(t.from_cluster, 0) = coalesce(e.from_cluster, 0) AND coalesce(t.to_cluster, 0) = coalesce(e.to_cluster, 0)
		WHERE e.customers IS DISTINCT FROM t.customers)
	AND NOT EXISTS (
		SELECT FROM (SELECT from_cluster, sum(share_of_from) AS shares FROM monthly.transitions GROUP BY 1) AS s
		WHERE abs(s.shares - 1) > 1e-9)
$$;

-- 1: two weeks later, refit => false: the stored model assigns every
-- customer, new ones too; the fit and the elbow stay, assigned_at moves
CREATE OR REPLACE VIEW invoices_until AS SELECT * FROM invoices WHERE invoice_date < '2011-11-09';
SELECT segment.refresh_segmentation('monthly', refit => false);
INSERT INTO snapshots SELECT 1, (SELECT as_of FROM monthly.model)::timestamptz, customer_id, cluster FROM monthly.assignments WHERE cluster IS NOT NULL;
SELECT m.fitted_at = m0.fitted_at AS fitted_at_kept, m.assigned_at > m0.assigned_at AS assigned_at_moved,
	(m.k, m.inertia, m.iterations) = (m0.k, m0.inertia, m0.iterations) AS model_kept,
	m.customers_clustered > m0.customers_clustered AS new_customers_counted,
	(SELECT count(*) FROM monthly.assignments a JOIN monthly.features f USING (customer_id)
	 WHERE f.invoices > 0 AND a.cluster IS NULL) AS purchasers_without_segment,
	(SELECT count(*) FROM monthly.elbow e FULL JOIN elbow_0 e0 USING (k) WHERE e IS DISTINCT FROM e0) AS elbow_rows_changed,
	pg_temp.transitions_match(1) AS transitions_match
FROM monthly.model m, model_0 m0;

-- 2: the month arrives, refit
CREATE OR REPLACE VIEW invoices_until AS SELECT * FROM invoices;
SELECT segment.refresh_segmentation('monthly');
INSERT INTO snapshots SELECT 2, (SELECT as_of FROM monthly.model)::timestamptz, customer_id, cluster FROM monthly.assignments WHERE cluster IS NOT NULL;
SELECT m.fitted_at > m0.fitted_at AS refitted, pg_temp.transitions_match(2) AS transitions_match,
	(SELECT count(*) FROM monthly.transitions WHERE from_cluster IS NULL) > 0 AS new_customers_arrive
FROM monthly.model m, model_0 m0;

-- 3: every fiftieth customer leaves the source, seen the next day
CREATE OR REPLACE VIEW invoices_until AS SELECT * FROM invoices WHERE customer_id % 50 <> 0;
SELECT segment.alter_segmentation('monthly', as_of => '2011-12-10');
SELECT segment.refresh_segmentation('monthly', refit => false);
INSERT INTO snapshots SELECT 3, (SELECT as_of FROM monthly.model)::timestamptz, customer_id, cluster FROM monthly.assignments WHERE cluster IS NOT NULL;
SELECT pg_temp.transitions_match(3) AS transitions_match,
	(SELECT sum(customers) FROM monthly.transitions WHERE to_cluster IS NULL) AS customers_gone,
	(SELECT count(DISTINCT customer_id) FROM snapshots WHERE refresh = 2 AND customer_id % 50 = 0) AS customers_removed;

-- history is in the data's time: each refresh's rows start at its as_of,
-- and record the clock on the wall beside it
SELECT s.refresh, s.at, count(*) FILTER (WHERE h.valid_from = s.at) > 0 AS rows_start_at_its_as_of,
	count(*) FILTER (WHERE h.valid_from = s.at AND h.recorded_at IS NULL) AS without_recorded_at
FROM (SELECT DISTINCT refresh, at FROM snapshots) AS s LEFT JOIN monthly.history h ON h.valid_from = s.at
GROUP BY s.refresh, s.at ORDER BY s.refresh;
SELECT count(*) FILTER (WHERE valid_from NOT IN (SELECT at FROM snapshots)) AS rows_at_another_time,
	count(*) FILTER (WHERE valid_to NOT IN (SELECT at FROM snapshots)) AS rows_ending_at_another_time,
	(SELECT count(DISTINCT recorded_at) FROM monthly.history) = 4 AS one_wall_clock_time_per_refresh,
	(SELECT bool_and(r1 < r2) FROM (SELECT min(recorded_at) AS r1, lead(min(recorded_at)) OVER (ORDER BY valid_from) AS r2
		FROM monthly.history GROUP BY valid_from) AS t WHERE r2 IS NOT NULL) AS wall_clock_follows_data_time
FROM monthly.history;
-- history replays every snapshot exactly
SELECT s.refresh, count(*) AS customers,
	count(*) FILTER (WHERE h.cluster IS DISTINCT FROM s.cluster) AS wrong_segment,
	(SELECT count(*) FROM monthly.history h2 WHERE h2.cluster IS NOT NULL AND h2.valid_from <= s.at
		AND (h2.valid_to IS NULL OR h2.valid_to > s.at)) = count(*) AS nothing_else_valid
FROM snapshots s LEFT JOIN monthly.history h ON h.customer_id = s.customer_id
	AND h.valid_from <= s.at AND (h.valid_to IS NULL OR h.valid_to > s.at)
GROUP BY s.refresh, s.at ORDER BY s.refresh;
-- periods never overlap nor leave gaps; one open row at most; a row opens
-- only when the segment changes
SELECT count(*) FILTER (WHERE next_from IS NOT NULL AND valid_to IS DISTINCT FROM next_from) AS gaps_or_overlaps,
	count(*) FILTER (WHERE next_from IS NULL AND valid_to IS NOT NULL AND customer_id % 50 <> 0) AS closed_without_successor,
	count(*) FILTER (WHERE cluster IS NOT DISTINCT FROM next_cluster) AS rows_without_change
FROM (SELECT h.*, lead(valid_from) OVER w AS next_from, lead(cluster) OVER w AS next_cluster
	  FROM monthly.history h WINDOW w AS (PARTITION BY customer_id ORDER BY valid_from)) AS h;
SELECT count(*) AS customers_with_two_open_rows FROM (
	SELECT customer_id FROM monthly.history WHERE valid_to IS NULL GROUP BY customer_id HAVING count(*) > 1) AS c;

-- an unchanged source: a refit, then another gives identical assignments,
-- nobody moves, history unchanged
SELECT segment.refresh_segmentation('monthly');
CREATE TEMP TABLE assignments_3 AS SELECT * FROM monthly.assignments;
CREATE TEMP TABLE history_3 AS SELECT * FROM monthly.history;
SELECT segment.refresh_segmentation('monthly');
SELECT (SELECT count(*) FROM assignments_3 b FULL JOIN monthly.assignments a USING (customer_id)
		WHERE (a.cluster, a.distance) IS DISTINCT FROM (b.cluster, b.distance)) AS assignments_changed,
	(SELECT count(*) FROM monthly.transitions WHERE from_cluster IS DISTINCT FROM to_cluster) AS moves,
	(SELECT count(*) FROM history_3 b FULL JOIN monthly.history h USING (customer_id, valid_from)
		WHERE (h.cluster, h.valid_to) IS DISTINCT FROM (b.cluster, b.valid_to)) AS history_changed;

-- User labels: shown everywhere, kept through a refit, unique, NULL restores
SELECT segment.set_label('monthly', 2, 'Weekly wholesalers');
SELECT cluster, label, label_source FROM monthly.profiles ORDER BY cluster;
SELECT (SELECT bool_and(from_label = 'Weekly wholesalers') FROM monthly.transitions WHERE from_cluster = 2) AS in_transitions,
	(SELECT bool_and(label = 'Weekly wholesalers') FROM monthly.history WHERE cluster = 2 AND valid_to IS NULL) AS in_history,
	segment.plot('monthly', 'clusters') LIKE '%Weekly wholesalers%' AS in_the_plot,
	segment.report('monthly') LIKE '%Weekly wholesalers%' AS in_the_report;
CREATE OR REPLACE VIEW invoices_until AS SELECT * FROM invoices;
SELECT segment.refresh_segmentation('monthly');
SELECT cluster, label_source FROM monthly.profiles WHERE label = 'Weekly wholesalers';
SELECT error_of($$ SELECT segment.set_label('monthly', 3, 'Weekly wholesalers') $$);
SELECT error_of(format('SELECT segment.set_label(%L, 3, %L)', 'monthly', (SELECT label FROM monthly.profiles WHERE cluster = 1)));
SELECT segment.set_label('monthly', 2, NULL);
SELECT label_source, label <> 'Weekly wholesalers' AS automatic_again FROM monthly.profiles WHERE cluster = 2;
SELECT error_of($$ SELECT segment.set_label('no_such', 1, 'x') $$);
SELECT error_of($$ SELECT segment.set_label('monthly', 0, 'x') $$);
SELECT error_of($$ SELECT segment.set_label('monthly', 99, 'x') $$);
SELECT error_of($$ SELECT segment.set_label('monthly', NULL, 'x') $$);
SELECT error_of($$ SELECT segment.set_label('monthly', 1, '   ') $$);
SELECT error_of($$ SELECT segment.set_label('monthly', 1, E'tab\there') $$);

-- trim_history deletes the closed rows that ended more than older_than
-- before the time history runs to (the last as_of: the data's time, not
-- the clock on the wall)
CREATE TEMP TABLE history_before_trim AS SELECT h.*, (SELECT as_of FROM monthly.model)::timestamptz AS runs_to FROM monthly.history h;
SELECT segment.trim_history('monthly', '30 days')
		= (SELECT count(*) FROM history_before_trim WHERE valid_to < runs_to - interval '30 days') AS trimmed_those_ended_30_days_before,
	(SELECT count(*) FROM history_before_trim WHERE valid_to < runs_to - interval '30 days') > 0 AS there_were_some;
SELECT segment.trim_history('monthly', '0')
		= (SELECT count(*) FROM history_before_trim WHERE valid_to < runs_to AND valid_to >= runs_to - interval '30 days')
	AS trimmed_the_others_ended_before;
SELECT count(*) FILTER (WHERE valid_to IS NOT NULL)
		= (SELECT count(*) FROM history_before_trim WHERE valid_to = runs_to) AS kept_those_ended_at_the_last_as_of,
	count(*) FILTER (WHERE valid_to IS NULL) = (SELECT count(*) FROM history_before_trim WHERE valid_to IS NULL) AS open_rows_kept
FROM monthly.history;
SELECT error_of($$ SELECT segment.trim_history('monthly', '-1 day') $$);
SELECT error_of($$ SELECT segment.trim_history('no_such', '1 day') $$);
SELECT error_of($$ SELECT segment.refresh_segmentation('monthly', NULL) $$);

SELECT error_of(E'SELECT segment.set_label(''monthly'', 1, ''bidi \u202E evil'')');
-- an automatic label that a user label repeats gets a number, and never a
-- label that is taken already
CREATE TEMP TABLE automatic_1 AS SELECT label FROM monthly.profiles WHERE cluster = 1;
SELECT segment.set_label('monthly', 1, 'Alpha');
SELECT segment.set_label('monthly', 3, (SELECT label FROM automatic_1));
SELECT segment.set_label('monthly', 4, (SELECT label FROM automatic_1) || ' 1');
SELECT segment.set_label('monthly', 1, NULL);
SELECT count(*) AS labels, count(DISTINCT label) AS distinct_labels,
	(SELECT label FROM monthly.profiles WHERE cluster = 1) LIKE (SELECT label FROM automatic_1) || ' %' AS automatic_one_numbered
FROM monthly.profiles;
SELECT segment.set_label('monthly', 4, NULL);
SELECT segment.set_label('monthly', 3, NULL);
SELECT count(*) FILTER (WHERE label_source = 'user') AS user_labels_left,
	(SELECT label FROM monthly.profiles WHERE cluster = 1) = (SELECT label FROM automatic_1) AS automatic_one_back
FROM monthly.profiles;

-- a refit that lowers k renumbers the segments: transitions name where the
-- customers were as it was named then, and history still replays
CREATE TEMP TABLE before_lower_k AS
SELECT a.customer_id, a.cluster, p.label FROM monthly.assignments a JOIN monthly.profiles p USING (cluster);
SELECT segment.alter_segmentation('monthly', k => 3);
SELECT segment.refresh_segmentation('monthly');
SELECT (SELECT k FROM monthly.model) AS k,
	NOT EXISTS (SELECT FROM monthly.transitions t JOIN before_lower_k b ON b.cluster = t.from_cluster
				WHERE t.from_label <> b.label) AS from_labels_as_they_were,
	(SELECT sum(customers) FROM monthly.transitions WHERE from_cluster IS NOT NULL) = (SELECT count(*) FROM before_lower_k) AS everyone_from_somewhere,
	(SELECT count(*) FROM monthly.assignments a JOIN monthly.history h ON h.customer_id = a.customer_id AND h.valid_to IS NULL
	 WHERE a.cluster IS NOT NULL AND h.cluster IS DISTINCT FROM a.cluster) AS open_rows_not_matching,
	(SELECT count(*) FROM monthly.history h JOIN before_lower_k b USING (customer_id)
	 WHERE h.valid_to IS NULL AND h.valid_from < (SELECT as_of FROM monthly.model) AND h.cluster <> b.cluster) AS rows_rewritten;

-- an assign-only refresh of a source that shrank to one segment: no
-- silhouettes, no error
CREATE OR REPLACE VIEW invoices_until AS SELECT * FROM invoices
WHERE customer_id IN (SELECT customer_id FROM monthly.assignments WHERE cluster = 1 ORDER BY customer_id LIMIT 20);
SELECT segment.refresh_segmentation('monthly', refit => false);
SELECT count(DISTINCT cluster) AS segments_filled, count(silhouette) AS silhouettes FROM monthly.assignments WHERE cluster IS NOT NULL;
CREATE OR REPLACE VIEW invoices_until AS SELECT * FROM invoices;

-- two customers swap countries: the standardization is the same to the
-- bit, but the vectors are not, so the refit does not keep the model
SELECT segment.refresh_segmentation('monthly');
CREATE TEMP TABLE fingerprint AS SELECT fit_fingerprint FROM segment.segmentations WHERE name = 'monthly';
CREATE OR REPLACE VIEW invoices_until AS SELECT invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id,
	CASE customer_id WHEN 12347 THEN 'United Kingdom' WHEN 17850 THEN 'Iceland' ELSE country END AS country FROM invoices;
SELECT segment.refresh_segmentation('monthly');
SELECT s.fit_fingerprint <> f.fit_fingerprint AS refitted_the_changed_vectors
FROM segment.segmentations s, fingerprint f WHERE s.name = 'monthly';
CREATE OR REPLACE VIEW invoices_until AS SELECT * FROM invoices;

-- inside a SECURITY DEFINER function owned by the segmentation's owner, a
-- role the owner lets in refreshes, labels and trims
CREATE ROLE regress_segment_owner_role;
CREATE ROLE regress_segment_app;
GRANT SELECT ON invoices TO regress_segment_owner_role;
SELECT format('GRANT CREATE ON DATABASE %I TO regress_segment_owner_role', current_database()) \gexec
SET ROLE regress_segment_owner_role;
SELECT segment.create_segmentation('owned_by_role', 'invoices', k => 3);
CREATE FUNCTION owned_by_role.nightly() RETURNS bigint LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $f$
	SELECT segment.refresh_segmentation('owned_by_role', refit => false);
	SELECT segment.set_label('owned_by_role', 1, 'first');
	SELECT segment.trim_history('owned_by_role', '1 year');
$f$;
GRANT USAGE ON SCHEMA owned_by_role TO regress_segment_app;
GRANT EXECUTE ON FUNCTION owned_by_role.nightly() TO regress_segment_app;
RESET ROLE;
SET ROLE regress_segment_app;
SELECT owned_by_role.nightly() AS trimmed;
RESET ROLE;
SELECT label, label_source FROM owned_by_role.profiles WHERE cluster = 1;
SET ROLE regress_segment_owner_role;
SELECT segment.drop_segmentation('owned_by_role', cascade => true);
RESET ROLE;
SELECT format('REVOKE CREATE ON DATABASE %I FROM regress_segment_owner_role', current_database()) \gexec
REVOKE ALL ON invoices FROM regress_segment_owner_role;
DROP ROLE regress_segment_owner_role;
DROP ROLE regress_segment_app;

-- the transitions picture: one cell per pair, well-formed
WITH svg AS (SELECT segment.plot('monthly', 'transitions')::xml AS doc)
SELECT (xpath('count(//*[@class="transition"])', doc))[1]::text::integer = (SELECT count(*) FROM monthly.transitions) AS one_cell_per_pair
FROM svg;
SELECT segment.drop_segmentation('monthly');
DROP VIEW invoices_until;

-- Two segments swap size ranks at a refit: every customer keeps its number
-- (clusters are numbered largest first only at the first fit; a refit
-- matches the new centroids to the previous ones)
CREATE TABLE swap_invoices (invoice_no text, invoice_date timestamp, quantity integer, unit_price numeric,
	customer_id integer, country text);
-- 60 occasional small buyers, long ago; 30 frequent big buyers, lately;
-- 20 in between
INSERT INTO swap_invoices
SELECT 'a' || c, timestamp '2011-02-01' + c * interval '7 hours', 2, 3.5 + c % 3, 1000 + c, 'United Kingdom'
FROM generate_series(1, 60) AS c;
INSERT INTO swap_invoices
SELECT 'b' || c || '-' || i, timestamp '2011-10-01' + (c * 13 + i * 97) * interval '1 hour', 40, 25 + c % 5, 2000 + c, 'United Kingdom'
FROM generate_series(1, 30) AS c, generate_series(1, 12) AS i;
INSERT INTO swap_invoices
SELECT 'c' || c || '-' || i, timestamp '2011-06-01' + (c * 11 + i * 301) * interval '1 hour', 10, 8 + c % 4, 3000 + c, 'United Kingdom'
FROM generate_series(1, 20) AS c, generate_series(1, 4) AS i;
SELECT segment.create_segmentation('swap', 'swap_invoices', k => 3);
CREATE TEMP TABLE swap_before AS SELECT customer_id, cluster FROM swap.assignments;
SELECT cluster, customers, min(customer_id / 1000) AS customer_group
FROM swap.profiles JOIN swap.assignments USING (cluster) GROUP BY cluster, customers ORDER BY cluster;
-- 50 more frequent big buyers: theirs becomes the largest segment
INSERT INTO swap_invoices
SELECT 'b' || c || '-' || i, timestamp '2011-10-01' + (c * 13 + i * 97) * interval '1 hour', 40, 25 + c % 5, 2000 + c, 'United Kingdom'
FROM generate_series(31, 80) AS c, generate_series(1, 12) AS i;
SELECT segment.refresh_segmentation('swap');
SELECT cluster, customers, min(customer_id / 1000) AS customer_group
FROM swap.profiles JOIN swap.assignments USING (cluster) GROUP BY cluster, customers ORDER BY cluster;
SELECT count(*) AS customers_before, count(*) FILTER (WHERE a.cluster = b.cluster) AS kept_their_number
FROM swap_before b JOIN swap.assignments a USING (customer_id);
-- a fresh segmentation of the same data numbers the largest first: the kept
-- numbers are the matching's doing
SELECT segment.create_segmentation('swap_fresh', 'swap_invoices', k => 3);
SELECT count(*) FILTER (WHERE a.cluster <> f.cluster) AS numbered_otherwise_when_fresh
FROM swap.assignments a JOIN swap_fresh.assignments f USING (customer_id);
SELECT segment.drop_segmentation('swap');
SELECT segment.drop_segmentation('swap_fresh');
DROP TABLE swap_invoices, swap_before;
