-- tools/demo.sql: the demo's SQL, run by tools/demo.sh from the top of the tree.
-- It loads segment_demo.invoices, makes the segmentation "retail" of its first
-- eleven months, then adds the last month and refreshes.
\set QUIET on
\pset footer off
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS segment;
CREATE SCHEMA IF NOT EXISTS segment_demo;
SET search_path = segment_demo, public;
DROP TABLE IF EXISTS segment_demo.invoices;
\echo 'Loading the bundled UCI Online Retail data into segment_demo.invoices ...'
\i data/load.sql
SELECT count(*) AS invoice_lines, count(customer_id) AS lines_with_customer,
	min(invoice_date) AS first_line, max(invoice_date) AS last_line
FROM segment_demo.invoices;

-- the last month arrives later: kept aside first
DROP TABLE IF EXISTS segment_demo.last_month;
CREATE TABLE segment_demo.last_month AS SELECT * FROM segment_demo.invoices WHERE invoice_date >= '2011-11-09';
DELETE FROM segment_demo.invoices WHERE invoice_date >= '2011-11-09';

\echo 'Segmenting the customers of the first eleven months (to 2011-11-08): one call of segment.create_segmentation'
SELECT segment.drop_segmentation(name) FROM segment.segmentations WHERE name = 'retail' \g /dev/null
SELECT segment.create_segmentation('retail', 'segment_demo.invoices') \g /dev/null
SELECT cluster, label, customers FROM retail.profiles ORDER BY cluster;

\echo 'A month later: the last month arrives, the nightly refresh assigns, the monthly one refits'
INSERT INTO segment_demo.invoices SELECT * FROM segment_demo.last_month;
DROP TABLE segment_demo.last_month;
SELECT segment.refresh_segmentation('retail', refit => false) \g /dev/null
SELECT segment.refresh_segmentation('retail') \g /dev/null
\echo 'Who moved at the refit (retail.transitions; NULL from = new customers):'
SELECT from_cluster, to_cluster, customers, round(100 * share_of_from::numeric, 1) AS pct_of_from
FROM retail.transitions ORDER BY from_cluster NULLS FIRST, to_cluster;

\echo 'What to do (retail.profiles): each segment''s revenue, its RFM group and a suggested action'
SELECT cluster, label, customers, round(revenue::numeric) AS revenue, round(100 * revenue_share::numeric, 1) AS revenue_pct,
	rfm_segment AS rfm_group, action AS what_to_do
FROM retail.profiles ORDER BY revenue DESC;

\echo 'What each segment is worth from here (retail.profiles): revenue so far, expected over the next year, mean probability alive'
SELECT cluster, label, round(revenue::numeric) AS revenue_so_far, round(expected_revenue::numeric) AS expected_revenue_next_year,
	round(100 * probability_alive_mean::numeric, 1) AS alive_pct
FROM retail.profiles ORDER BY expected_revenue DESC;
\echo 'The models behind it (segment.segmentations: BG/NBD in days, Gamma-Gamma):'
SELECT round((bgnbd).r::numeric, 4) AS r, round((bgnbd).alpha::numeric, 2) AS alpha, round((bgnbd).a::numeric, 5) AS a,
	round((bgnbd).b::numeric, 3) AS b, round((gamma_gamma).p::numeric, 3) AS p, round((gamma_gamma).q::numeric, 3) AS q,
	round((gamma_gamma).gamma::numeric, 2) AS gamma
FROM segment.segmentations WHERE name = 'retail';

\echo 'The customers by RFM group (retail.features: r_score, f_score, m_score, rfm_score, rfm_segment):'
SELECT rfm_segment, count(*) AS customers, round(sum(total_amount)::numeric) AS revenue
FROM retail.features WHERE rfm_segment IS NOT NULL GROUP BY rfm_segment ORDER BY revenue DESC;

\echo 'The model (retail.model):'
SELECT k AS chosen_k, seed, as_of, iterations, round(inertia::numeric, 1) AS inertia, customers_clustered
FROM retail.model;

\echo 'Every candidate k (retail.elbow): the elbow, the scores, and the k chosen'
SELECT k, round(inertia::numeric, 1) AS inertia, round(silhouette::numeric, 3) AS silhouette,
	round(davies_bouldin::numeric, 3) AS davies_bouldin, round(calinski_harabasz::numeric, 1) AS calinski_harabasz,
	is_elbow, is_chosen
FROM retail.elbow ORDER BY k;

\echo 'The segments (retail.profiles), means in original units:'
SELECT cluster, label, customers, round(100 * share::numeric, 1) AS share_pct,
	round(recency_days_mean::numeric, 1) AS recency_days, round(invoices_mean::numeric, 1) AS invoices,
	round(total_amount_mean::numeric, 0) AS total_amount, round(avg_invoice_amount_mean::numeric, 0) AS avg_invoice,
	round(mean_days_between_mean::numeric, 1) AS days_between, round(100 * domestic_mean::numeric, 0) AS domestic_pct
FROM retail.profiles ORDER BY cluster;

\echo 'Silhouette per segment (retail.silhouette; the last row is all customers):'
SELECT coalesce(cluster::text, 'all') AS cluster, customers, round(mean_silhouette::numeric, 3) AS mean,
	round(min_silhouette::numeric, 3) AS min, round(max_silhouette::numeric, 3) AS max
FROM retail.silhouette ORDER BY cluster NULLS LAST;

\echo 'The tables a BI tool reads: retail.features, assignments, profiles, elbow, silhouette, boxplots, pca, model, transitions, history'

-- The pictures, written as psql prints them
\! mkdir -p out
\pset format unaligned
\pset tuples_only on
\o out/elbow.svg
SELECT segment.plot('retail', 'elbow');
\o out/clusters.svg
SELECT segment.plot('retail', 'clusters');
\o out/profiles.svg
SELECT segment.plot('retail', 'profiles');
\o out/silhouette.svg
SELECT segment.plot('retail', 'silhouette');
\o out/transitions.svg
SELECT segment.plot('retail', 'transitions');
\o out/report.html
SELECT segment.report('retail');
\o
\echo 'Pictures written: out/report.html (open it in a browser), out/elbow.svg, out/clusters.svg, out/profiles.svg, out/silhouette.svg, out/transitions.svg'
