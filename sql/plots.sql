-- Pictures: every plot is a standalone SVG document and the report a
-- self-contained page; both parse as XML and hold the expected elements
SELECT kind, xml_is_well_formed_document(segment.plot('retail', kind)) AS well_formed,
	length(segment.plot('retail', kind)) < 1000000 AS under_1_mb
FROM unnest(ARRAY['elbow', 'clusters', 'profiles', 'silhouette']) AS kind;
-- the elbow plot: one mark per candidate k, the chosen k and the elbow marked, a legend
WITH svg AS (SELECT segment.plot('retail', 'elbow')::xml AS doc)
SELECT (xpath('count(//*[@class="k-mark"])', doc))[1]::text::integer = (SELECT count(*) FROM retail.elbow) AS one_mark_per_k,
	(xpath('count(//*[@class="silhouette-mark"])', doc))[1]::text::integer = (SELECT count(*) FROM retail.elbow) AS one_silhouette_mark_per_k,
	(xpath('//*[@class="chosen-label"]/text()', doc))[1]::text = 'chosen k = ' || (SELECT k FROM retail.model) AS chosen_marked,
	(xpath('count(//*[@class="elbow-mark"])', doc))[1]::text::integer = 1 AS one_elbow,
	(xpath('count(//*[@class="legend-entry"])', doc))[1]::text::integer AS legend_entries,
	(xpath('count(//*[@class="title"])', doc))[1]::text::integer = 1 AS titled,
	(xpath('count(//*[@class="axis-title"])', doc))[1]::text::integer AS axis_titles
FROM svg;
-- why the chosen k was chosen, in the elbow plot's subtitle and the report:
-- the rule of segment.choose_k that picks it from the elbow table, a k kept
-- from the previous fit when the rule picks another, the k asked for
CREATE TEMP TABLE k_reasons (case_name text, reason text, in_plot boolean, in_report boolean);
CREATE FUNCTION pg_temp.record_k_reason(case_name text) RETURNS void LANGUAGE sql AS $$
	INSERT INTO k_reasons
	SELECT case_name, segment.k_choice_reason(s),
		(xpath('//*[@class="subtitle"]/text()', segment.plot('retail', 'elbow')::xml))[1]::text
			LIKE '%chosen (' || segment.k_choice_reason(s) || ')',
		strpos(segment.report('retail'), format('k = %s: %s.', (SELECT k FROM retail.model), segment.k_choice_reason(s))) > 0
	FROM segment.segmentations s WHERE s.name = 'retail'
$$;
SELECT pg_temp.record_k_reason('as fitted');
BEGIN;
-- the chosen k moved off the rule's pick: kept from the previous fit
UPDATE retail.elbow SET is_chosen = (k = (SELECT max(k) FROM retail.elbow WHERE NOT is_chosen AND k BETWEEN 3 AND 8));
SELECT pg_temp.record_k_reason('another k chosen');
-- no candidate qualifies (every k has a segment under 2 %): the elbow
UPDATE retail.elbow SET smallest_share = 0.01, is_chosen = is_elbow;
SELECT pg_temp.record_k_reason('no k qualifies');
-- only a k far from the elbow qualifies: the best silhouette among them
UPDATE retail.elbow SET smallest_share = CASE WHEN k = 8 THEN 0.05 ELSE 0.01 END, is_elbow = (k = 3),
	is_chosen = (k = 8);
SELECT pg_temp.record_k_reason('only k = 8 qualifies');
-- a k asked for
UPDATE segment.segmentations SET k = (SELECT k FROM retail.model) WHERE name = 'retail';
SELECT pg_temp.record_k_reason('k asked for');
SELECT * FROM k_reasons;
ROLLBACK;
DROP TABLE k_reasons;
-- the clusters plot: one legend entry and one group of points per segment,
-- every customer drawn, every point clipped to the plotting area the axes
-- frame (x 80..600, y 70..470)
WITH svg AS (SELECT segment.plot('retail', 'clusters')::xml AS doc)
SELECT (xpath('count(//*[@class="legend-entry"])', doc))[1]::text::integer = (SELECT k FROM retail.model) AS one_legend_entry_per_segment,
	(xpath('count(//*[@class="cluster-points"])', doc))[1]::text::integer = (SELECT k FROM retail.model) AS one_group_per_segment,
	(xpath('count(//*[local-name()="circle"])', doc))[1]::text::integer = (SELECT customers_clustered FROM retail.model) AS every_customer_drawn,
	(xpath('count(//*[@clip-path="url(#segment-clusters-area)"]//*[local-name()="circle"])', doc))[1]::text::integer
		= (SELECT customers_clustered FROM retail.model)
	AND (xpath('string(//*[local-name()="clipPath"][@id="segment-clusters-area"]/*[local-name()="rect"]/@x)', doc))[1]::text
		|| ' ' || (xpath('string(//*[local-name()="clipPath"][@id="segment-clusters-area"]/*[local-name()="rect"]/@width)', doc))[1]::text
		= '80 520' AS points_clipped_to_the_axes,
	(xpath('count(//*[@class="axis-title"])', doc))[1]::text::integer AS axis_titles
FROM svg;
-- the profiles plot: one panel per feature, one box per segment and feature
WITH svg AS (SELECT segment.plot('retail', 'profiles')::xml AS doc)
SELECT (xpath('count(//*[@class="panel"])', doc))[1]::text::integer AS panels,
	(xpath('count(//*[@class="box"])', doc))[1]::text::integer = (SELECT count(*) FROM retail.boxplots) AS one_box_per_row_of_boxplots,
	(xpath('count(//*[@class="legend-entry"])', doc))[1]::text::integer = (SELECT k FROM retail.model) AS one_legend_entry_per_segment
FROM svg;
-- the silhouette plot: one band and one label per segment, the mean marked
WITH svg AS (SELECT segment.plot('retail', 'silhouette')::xml AS doc)
SELECT (xpath('count(//*[@class="silhouette-band"])', doc))[1]::text::integer = (SELECT k FROM retail.model) AS one_band_per_segment,
	(xpath('count(//*[@class="legend-entry"])', doc))[1]::text::integer = (SELECT k FROM retail.model) AS one_legend_entry_per_segment,
	(xpath('//*[@class="mean-label"]/text()', doc))[1]::text
		= 'mean ' || round((SELECT mean_silhouette FROM retail.silhouette WHERE cluster IS NULL)::numeric, 3) AS mean_marked
FROM svg;
-- Every legend entry has the colour of the series it names, in every plot
-- kind: a segment's swatch is the colour of its points (clusters), of each
-- of its boxes (profiles) and of its band (silhouette); the elbow's entries
-- have their curve's stroke and dashes and their marks' fill; the
-- transitions' headers have the segment's colour in the clusters plot
CREATE TEMP TABLE plot_docs AS
SELECT kind, segment.plot('retail', kind)::xml AS doc
FROM unnest(ARRAY['elbow', 'clusters', 'profiles', 'silhouette', 'transitions']) AS kind;
CREATE TEMP TABLE legend_entries AS
SELECT d.kind, (xpath('/*/@data-cluster', e))[1]::text::integer AS cluster, (xpath('/*/@data-series', e))[1]::text AS series,
	(xpath('/*/*[local-name()="rect"]/@fill', e))[1]::text AS swatch,
	(xpath('/*/*[local-name()="line"]/@stroke', e))[1]::text AS line_stroke,
	(xpath('/*/*[local-name()="line"]/@stroke-dasharray', e))[1]::text AS line_dashes,
	(xpath('/*/*[local-name()="circle"]/@fill', e))[1]::text AS circle_fill,
	(xpath('/*/*[local-name()="text"]/text()', e))[1]::text AS first_text
FROM plot_docs d, unnest(xpath('//*[@class="legend-entry" or @class="row-header" or @class="column-header"]', d.doc)) AS e;
-- the colours each segment is drawn in: points, bands, and every part of every box
CREATE TEMP TABLE series_colours AS
SELECT d.kind, (xpath('/*/@data-cluster', e))[1]::text::integer AS cluster, c::text AS colour
FROM plot_docs d, unnest(xpath('//*[@class="cluster-points" or @class="silhouette-band"]', d.doc)) AS e,
	unnest(xpath('/*/@fill', e)) AS c
UNION ALL
SELECT d.kind, (xpath('/*/@data-cluster', e))[1]::text::integer, c::text
FROM plot_docs d, unnest(xpath('//*[@class="box"]', d.doc)) AS e,
	unnest(xpath('/*/*[local-name()="rect"]/@fill | /*/*/@stroke', e)) AS c;
SELECT l.kind, count(*) AS legend_entries,
	count(*) FILTER (WHERE l.swatch IS NOT NULL AND NOT EXISTS (
		SELECT FROM series_colours s WHERE s.kind = l.kind AND s.cluster = l.cluster AND s.colour <> l.swatch)
		AND EXISTS (SELECT FROM series_colours s WHERE s.kind = l.kind AND s.cluster = l.cluster)) AS coloured_as_their_series,
	count(*) FILTER (WHERE l.first_text LIKE l.cluster || ' · %' OR l.first_text = 'segment ' || l.cluster) AS named_by_their_number
FROM legend_entries l WHERE l.kind IN ('clusters', 'profiles', 'silhouette')
GROUP BY l.kind ORDER BY l.kind;
SELECT l.series, l.line_stroke = (xpath('//*[@class="' || l.series || '-line"]/@stroke', d.doc))[1]::text AS stroke_of_its_curve,
	l.line_dashes IS NOT DISTINCT FROM (xpath('//*[@class="' || l.series || '-line"]/@stroke-dasharray', d.doc))[1]::text AS dashes_of_its_curve,
	coalesce(l.circle_fill, l.swatch) = ALL (SELECT m::text FROM unnest(xpath(
		'//*[@class="' || CASE l.series WHEN 'inertia' THEN 'k-mark' ELSE 'silhouette-mark' END || '"]/@fill', d.doc)) AS m)
		AS fill_of_its_marks
FROM legend_entries l JOIN plot_docs d USING (kind) WHERE l.kind = 'elbow' ORDER BY l.series;
SELECT count(*) AS segment_headers,
	count(*) FILTER (WHERE h.swatch = (SELECT l.swatch FROM legend_entries l WHERE l.kind = 'clusters' AND l.cluster = h.cluster))
		AS coloured_as_in_the_clusters_plot
FROM legend_entries h WHERE h.kind = 'transitions' AND h.swatch IS NOT NULL;
-- and its cells are blue where customers stayed, orange where they moved
-- (as its note says)
SELECT count(*) AS cells, count(*) FILTER (WHERE (c.from_cluster = c.to_cluster) = (c.fill = '#0072B2')
		AND c.fill IN ('#0072B2', '#D55E00')) AS blue_iff_stayed
FROM (SELECT (xpath('/*/@data-from', e))[1]::text AS from_cluster, (xpath('/*/@data-to', e))[1]::text AS to_cluster,
		(xpath('/*/*[local-name()="rect"]/@fill', e))[1]::text AS fill
	  FROM plot_docs d, unnest(xpath('//*[@class="transition"]', d.doc)) AS e WHERE d.kind = 'transitions') AS c;
DROP TABLE plot_docs, legend_entries, series_colours;
-- the report: well-formed, self-contained (no scripts, no fetches), with the plots and tables
WITH page AS (SELECT segment.report('retail') AS html)
SELECT xml_is_well_formed_document(html) AS well_formed,
	(xpath('count(//*[local-name()="svg"])', html::xml))[1]::text::integer AS plots,
	(xpath('count(//*[local-name()="table"])', html::xml))[1]::text::integer AS tables,
	-- what to do, then the profiles: one row per segment each
	(xpath('count((//*[local-name()="table"])[1]/*[local-name()="tbody"]/*[local-name()="tr"])', html::xml))[1]::text::integer
		= (SELECT k FROM retail.model)
	AND (xpath('count((//*[local-name()="table"])[2]/*[local-name()="tbody"]/*[local-name()="tr"])', html::xml))[1]::text::integer
		= (SELECT k FROM retail.model) AS one_row_per_segment,
	html !~* '<script|https?://(?!www\.w3\.org/)|src=|@import|url\((?!#)' AS self_contained
FROM page;
-- the report's tables say what the tables hold: what to do by revenue,
-- largest first; the segments with their shares in per cent and the key
-- features' columns in the features' order; the chosen k highlighted
CREATE TEMP TABLE report_page AS SELECT segment.report('retail')::xml AS doc;
CREATE TEMP TABLE report_rows AS
SELECT t.n AS table_no, r.pos, (xpath('/*/*[local-name()="td"][1]/text()', r.tr))[1]::text AS first_cell,
	(xpath('/*/*[local-name()="td"][4]/text()', r.tr))[1]::text AS fourth_cell,
	(xpath('/*/@class', r.tr))[1]::text AS class
FROM report_page, generate_series(1, 3) AS t (n),
	unnest(xpath(format('(//*[local-name()="table"])[%s]/*[local-name()="tbody"]/*[local-name()="tr"]', t.n), doc))
		WITH ORDINALITY AS r (tr, pos);
SELECT (SELECT array_agg(first_cell::integer ORDER BY pos) FROM report_rows WHERE table_no = 1)
		= (SELECT array_agg(cluster ORDER BY revenue DESC) FROM retail.profiles) AS what_to_do_by_revenue,
	(SELECT bool_and(r.fourth_cell = to_char(100 * p.share, 'FM990.0') || ' %') FROM report_rows r
	 JOIN retail.profiles p ON p.cluster = r.first_cell::integer WHERE r.table_no = 2) AS shares_in_per_cent,
	(SELECT array_agg(h::text) FROM report_page, unnest(xpath('(//*[local-name()="table"])[2]/*[local-name()="thead"]//*[local-name()="th"]/text()', doc)) AS h)
		= ARRAY['segment', 'label', 'customers', 'share']
		|| (SELECT array_agg(replace(f, '_', ' ') ORDER BY i) FROM segment.segmentations s, unnest(s.features) WITH ORDINALITY AS u (f, i)
			WHERE s.name = 'retail' AND f IN ('recency_days', 'invoices', 'invoices_per_month', 'total_amount', 'avg_invoice_amount',
				'mean_days_between', 'domestic')) AS feature_columns_in_order,
	(SELECT array_agg(first_cell::integer) FROM report_rows WHERE table_no = 3 AND class = 'chosen')
		= ARRAY[(SELECT k FROM retail.model)] AS chosen_k_highlighted;
DROP TABLE report_page, report_rows;
-- xmllint agrees (files written as psql prints them)
\pset format unaligned
\pset tuples_only on
\o results/plot_elbow.svg
SELECT segment.plot('retail', 'elbow');
\o results/plot_clusters.svg
SELECT segment.plot('retail', 'clusters');
\o results/plot_profiles.svg
SELECT segment.plot('retail', 'profiles');
\o results/plot_silhouette.svg
SELECT segment.plot('retail', 'silhouette');
\o results/report.html
SELECT segment.report('retail');
\o
\! for f in results/plot_elbow.svg results/plot_clusters.svg results/plot_profiles.svg results/plot_silhouette.svg results/report.html; do xmllint --noout "$f" && echo "$f: well-formed"; done
\pset format aligned
\pset tuples_only off
-- errors
SELECT error_of($$ SELECT segment.plot('retail', 'pie') $$);
SELECT error_of($$ SELECT segment.plot('retail', NULL) $$);
SELECT error_of($$ SELECT segment.plot('no_such_segmentation', 'elbow') $$);
SELECT error_of($$ SELECT segment.report('no_such_segmentation') $$);

-- Thirteen segments, amounts in the billions, a source whose name holds a
-- control character: distinct colours, the legend inside the picture,
-- numbers printed in full, a well-formed report
CREATE TABLE "billions	tab" AS
	SELECT invoice_no, invoice_date, quantity, unit_price * 30000 AS unit_price, customer_id, country FROM invoices;
SELECT segment.create_segmentation('many', '"billions	tab"', k => 13);
WITH svg AS (SELECT segment.plot('many', 'clusters')::xml AS doc)
SELECT (xpath('count(//*[@class="legend-entry"])', doc))[1]::text::integer AS legend_entries,
	(SELECT count(DISTINCT f::text) FROM unnest(xpath('//*[@class="cluster-points"]/@fill', doc)) AS f) AS distinct_colours,
	(SELECT max(y::text::double precision) FROM unnest(xpath('//*[@class="legend-entry"]/*[local-name()="text"]/@y', doc)) AS y)
		< (xpath('/*/@height', doc))[1]::text::double precision AS legend_inside
FROM svg;
SELECT count(DISTINCT segment.plot_colour(c)) AS distinct_colours_of_40 FROM generate_series(1, 40) AS c;
WITH page AS (SELECT segment.report('many') AS html)
SELECT xml_is_well_formed_document(html) AS well_formed, html !~ '###' AS no_overflow_marks,
	html ~ '\d{1,3}(,\d{3}){3}' AS billions_printed
FROM page;
SELECT segment.plot_number(v) AS tick, segment.table_number(v) AS cell
FROM unnest(ARRAY[1234.5, 2.5e9, 7.25e12, 3e17, -4.2e22]::double precision[]) AS v;
SELECT segment.xml_text(E'a\u0001b<c>') AS escaped;
SELECT segment.drop_segmentation('many');
DROP TABLE "billions	tab";
