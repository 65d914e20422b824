/* src/sql/report.sql */

-- The HTML report of a segmentation (README: "Pictures")

-- The page of segment.report, written with the rights of its caller
-- (segment.report calls it as the segmentation's owner, restricted): one
-- self-contained HTML page (also well-formed XML) with the
-- five plots and the profile, elbow and silhouette tables
CREATE OR REPLACE FUNCTION segment.write_report(name text)
	RETURNS text
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	r segment.segmentations := segment.check_segmentation(name);
	html text;
	profile_rows text;
	elbow_rows text;
	silhouette_rows text;
	action_rows text;
	header text;
	means text;
	m record;
BEGIN
	PERFORM segment.check_segmentation_shapes(r.name);
	-- the key features in the table (all of them are in the profiles table)
	header := (SELECT string_agg(format('<th>%s</th>', segment.xml_text(replace(f, '_', ' '))), '' ORDER BY i)
			   FROM unnest(r.features) WITH ORDINALITY AS u (f, i)
			   WHERE f IN ('recency_days', 'invoices', 'invoices_per_month', 'total_amount', 'avg_invoice_amount',
						   'mean_days_between', 'domestic'));
	means := (SELECT string_agg(CASE WHEN f = 'domestic'
					THEN '''<td>'' || to_char(100 * domestic_mean, ''FM990'') || '' %</td>'''
					ELSE format('''<td>'' || segment.table_number(%I) || ''</td>''', f || '_mean') END,
					' || ' ORDER BY i)
			  FROM unnest(r.features) WITH ORDINALITY AS u (f, i)
			  WHERE f IN ('recency_days', 'invoices', 'invoices_per_month', 'total_amount', 'avg_invoice_amount',
						  'mean_days_between', 'domestic'));
	EXECUTE format($sql$
		SELECT string_agg('<tr><td><span class="swatch" style="background:' || segment.plot_colour(cluster) || '"></span>'
			|| cluster || '</td><td class="label">' || segment.xml_text(label) || '</td><td>'
			|| to_char(customers, 'FM999,999,999') || '</td><td>' || to_char(100 * share, 'FM990.0') || ' %%</td>'
			|| %s || '</tr>', '' ORDER BY cluster) FROM %I.profiles $sql$, means, r.name)
		INTO profile_rows;
	EXECUTE format($sql$
		SELECT string_agg(format('<tr%%s><td>%%s</td><td>%%s</td><td>%%s</td><td>%%s</td><td>%%s</td><td>%%s</td></tr>',
			CASE WHEN is_chosen THEN ' class="chosen"' ELSE '' END, k, segment.table_number(inertia),
			to_char(silhouette, 'FM0.000'), segment.table_number(davies_bouldin, 3), segment.table_number(calinski_harabasz),
			concat_ws(', ', CASE WHEN is_elbow THEN 'elbow' END, CASE WHEN is_chosen THEN 'chosen' END)), '' ORDER BY k)
		FROM %I.elbow $sql$, r.name)
		INTO elbow_rows;
	EXECUTE format($sql$
		SELECT string_agg(format('<tr><td>%%s</td><td>%%s</td><td>%%s</td><td>%%s</td><td>%%s</td></tr>',
			coalesce(cluster::text, 'all'), to_char(customers, 'FM999,999,999'), to_char(mean_silhouette, 'FM0.000'),
			to_char(min_silhouette, 'FM0.000'), to_char(max_silhouette, 'FM0.000')), '' ORDER BY cluster NULLS LAST)
		FROM %I.silhouette $sql$, r.name)
		INTO silhouette_rows;
	-- what to do: each segment's revenue so far, the revenue expected over
	-- the horizon and how many of its customers are likely still buying, its
	-- RFM group and suggested action
	EXECUTE format($sql$
		SELECT string_agg('<tr><td><span class="swatch" style="background:' || segment.plot_colour(cluster) || '"></span>'
			|| cluster || '</td><td class="label">' || segment.xml_text(label) || '</td><td>'
			|| to_char(customers, 'FM999,999,999') || '</td><td>' || segment.table_number(revenue) || '</td><td>'
			|| coalesce(to_char(100 * revenue_share, 'FM99990.0') || ' %%', '') || '</td><td>'
			|| coalesce(segment.table_number(expected_revenue), '') || '</td><td>'
			|| coalesce(to_char(100 * probability_alive_mean, 'FM990.0') || ' %%', '') || '</td><td class="label">'
			|| segment.xml_text(coalesce(rfm_segment, '')) || '</td><td class="label action">'
			|| segment.xml_text(coalesce(action, '')) || '</td></tr>', '' ORDER BY revenue DESC, cluster)
		FROM %I.profiles $sql$, r.name)
		INTO action_rows;
	EXECUTE format('SELECT * FROM %I.model', r.name) INTO m;

	html := '<!DOCTYPE html>' || E'\n'
		|| '<html xmlns="http://www.w3.org/1999/xhtml" lang="en"><head><meta charset="utf-8"/>'
		|| '<meta name="viewport" content="width=device-width, initial-scale=1"/>'
		|| format('<title>Segmentation %s</title>', segment.xml_text(r.name))
		|| '<style>body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;color:#222;max-width:960px;margin:2em auto;padding:0 1em;line-height:1.4}'
		|| 'h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}'
		|| 'table{border-collapse:collapse;margin:1em 0;font-size:.85em}th,td{padding:4px 9px;border-bottom:1px solid #e2e2e2;text-align:right}'
		-- numbers stay on one line; labels, headers and actions wrap, so that
		-- the tables fit a desktop window; on a phone a table scrolls inside its
		-- frame, and says so
		|| 'th{background:#f4f4f4}td.label,th.label{text-align:left}td{white-space:nowrap}'
		|| 'td.label{white-space:normal;min-width:7em}td.action{min-width:12em}tr.chosen{font-weight:bold;background:#fff7e0}'
		|| 'div.wide{overflow-x:auto}p.scroll{display:none;color:#555;font-size:.85em;margin:0}'
		|| '@media (max-width:720px){p.scroll{display:block}body{margin:1em auto}}'
		|| '.swatch{display:inline-block;width:10px;height:10px;margin-right:6px}figure{margin:1.5em 0}svg{max-width:100%;height:auto}'
		|| 'p.note{color:#555;font-size:.9em}</style></head><body>'
		|| format('<h1>Segmentation %s</h1>', segment.xml_text(r.name))
		|| format('<p>%s segments of %s customers of <code>%s</code>, recency as of %s; fitted %s (seed %s).</p>',
			m.k, to_char(m.customers_clustered, 'FM999,999,999'), segment.xml_text(r.source_name),
			segment.xml_text(m.as_of::text), segment.xml_text(to_char(m.fitted_at, 'YYYY-MM-DD HH24:MI TZ')), m.seed)
		|| '<h2>What to do</h2><p class="note">Segments by revenue (net of returns); the revenue expected over the next '
		|| segment.xml_text(r.value_horizon::text) || ' and the mean probability that a customer is still buying (BG/NBD and '
		|| 'Gamma-Gamma models); the RFM group of each segment''s mean recency and frequency scores, and the action suggested for it.</p>'
		|| '<p class="scroll">The table scrolls sideways.</p>'
		|| '<div class="wide"><table><thead><tr><th class="label">segment</th><th class="label">label</th><th>customers</th>'
		|| '<th>revenue</th><th>revenue share</th><th>expected revenue</th><th>alive</th><th class="label">RFM group</th>'
		|| '<th class="label">what to do</th></tr></thead><tbody>'
		|| coalesce(action_rows, '') || '</tbody></table></div>'
		|| '<h2>Segments</h2><p class="note">Means in original units.</p>'
		|| '<p class="scroll">The table scrolls sideways.</p>'
		|| '<div class="wide"><table><thead><tr><th class="label">segment</th><th class="label">label</th><th>customers</th><th>share</th>'
		|| header || '</tr></thead><tbody>' || profile_rows || '</tbody></table></div>'
		|| '<figure>' || segment.plot_clusters(r) || '</figure>'
		|| '<figure>' || segment.plot_profiles(r) || '</figure>'
		|| '<h2>What changed at the last refresh</h2>'
		|| format('<p>Assigned %s.</p>', segment.xml_text(to_char(m.assigned_at, 'YYYY-MM-DD HH24:MI TZ')))
		|| '<figure>' || segment.plot_transitions(r) || '</figure>'
		|| '<h2>Choosing the number of segments</h2>'
		|| format('<p class="note">k = %s: %s.</p>', m.k, segment.xml_text(segment.k_choice_reason(r)))
		|| '<p class="scroll">The table scrolls sideways.</p>'
		|| '<div class="wide"><table><thead><tr><th>k</th><th>inertia</th><th>silhouette</th><th>Davies–Bouldin</th><th>Calinski–Harabasz</th><th class="label"></th></tr></thead><tbody>'
		|| elbow_rows || '</tbody></table></div>'
		|| '<figure>' || segment.plot_elbow(r) || '</figure>'
		|| '<h2>Silhouette</h2>'
		|| '<table><thead><tr><th>segment</th><th>customers</th><th>mean</th><th>min</th><th>max</th></tr></thead><tbody>'
		|| silhouette_rows || '</tbody></table>'
		|| '<figure>' || segment.plot_silhouette(r) || '</figure>'
		|| '<p class="note">Made by the segment extension from the tables of schema '
		|| segment.xml_text(r.name) || '.</p></body></html>';
	RETURN html;
END
$function$;
COMMENT ON FUNCTION segment.write_report(text) IS 'the page of segment.report, written with the rights of the caller';

-- report(name): the page, drawn as segment.plot draws a picture
CREATE OR REPLACE FUNCTION segment.report(name text)
	RETURNS text
	LANGUAGE sql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT segment.render_as_owner(r.name, NULL) FROM segment.check_segmentation(name) AS r
	$$;
COMMENT ON FUNCTION segment.report(text) IS 'one self-contained HTML page of a segmentation: plots, profiles, elbow and silhouette';
