/* src/sql/plots.sql */

-- Pictures: SVG plots drawn from a segmentation's tables, so a picture
-- always matches them (README: "Pictures")

-- Text made safe for XML and HTML: markup escaped, and control characters,
-- which XML 1.0 does not allow, shown as U+FFFD
CREATE OR REPLACE FUNCTION segment.xml_text(value text)
	RETURNS text
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT regexp_replace(
		replace(replace(replace(replace(replace(value, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;'),
		'[\u0001-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]', U&'\FFFD', 'g')
	$$;
COMMENT ON FUNCTION segment.xml_text(text) IS 'text escaped for XML and HTML';

-- Colour of cluster c: the Okabe-Ito palette, safe for colour-blind readers,
-- and two more; beyond twelve clusters, hues a golden angle (137.5 degrees)
-- apart, so that no two clusters share a colour
CREATE OR REPLACE FUNCTION segment.plot_colour(cluster integer)
	RETURNS text
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE WHEN cluster BETWEEN 1 AND 12
		THEN (ARRAY['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000',
					'#999999', '#882255', '#44AA99', '#6B4E16'])[cluster]
		ELSE format('hsl(%s,%s%%,%s%%)', round(((cluster * 137.508) % 360)::numeric, 1),
					55 + (cluster % 3) * 15, 35 + (cluster % 2) * 15) END
	$$;
COMMENT ON FUNCTION segment.plot_colour(integer) IS 'colour of a cluster in the plots (Okabe-Ito palette)';

-- About n "nice" tick values (1, 2 or 5 times a power of ten) covering low .. high
CREATE OR REPLACE FUNCTION segment.plot_ticks(low double precision, high double precision, n integer DEFAULT 5)
	RETURNS double precision[]
	LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	span double precision := high - low;
	raw double precision;
	magnitude double precision;
	step double precision;
	ticks double precision[] := '{}';
	tick double precision;
BEGIN
	IF span <= 0 OR NOT (span < 'Infinity') THEN
		RETURN ARRAY[low];
	END IF;
	raw := span / greatest(n, 1);
	magnitude := power(10, floor(log(raw)));
	step := magnitude * CASE WHEN raw / magnitude <= 1 THEN 1 WHEN raw / magnitude <= 2 THEN 2
		WHEN raw / magnitude <= 5 THEN 5 ELSE 10 END;
	tick := ceil(low / step) * step;
	WHILE tick <= high + step * 1e-9 LOOP
		ticks := ticks || round(tick::numeric, 12)::double precision;
		tick := tick + step;
	END LOOP;
	RETURN ticks;
END
$function$;
COMMENT ON FUNCTION segment.plot_ticks(double precision, double precision, integer) IS 'nice tick values for a plot axis';

-- A tick label: short, without float noise
CREATE OR REPLACE FUNCTION segment.plot_number(value double precision)
	RETURNS text
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE
		WHEN abs(value) >= 1e15 THEN btrim(to_char(value, '9.99EEEE'))
		WHEN abs(value) >= 1e12 THEN rtrim(rtrim(to_char(value / 1e12, 'FM999990.99'), '0'), '.') || 'T'
		WHEN abs(value) >= 1e9 THEN rtrim(rtrim(to_char(value / 1e9, 'FM999990.99'), '0'), '.') || 'G'
		WHEN abs(value) >= 1e6 THEN rtrim(rtrim(to_char(value / 1e6, 'FM999999990.99'), '0'), '.') || 'M'
		WHEN abs(value) >= 1e4 THEN rtrim(rtrim(to_char(value / 1e3, 'FM999999990.9'), '0'), '.') || 'k'
		WHEN value = trunc(value) THEN to_char(value, 'FM999999990')
		ELSE rtrim(rtrim(to_char(value, 'FM999999990.999'), '0'), '.') END
	$$;
COMMENT ON FUNCTION segment.plot_number(double precision) IS 'a short label for an axis tick';

-- A number for a table, grouped in thousands with the given decimals, of any
-- magnitude (amounts in dong or rupiah run into the billions)
CREATE OR REPLACE FUNCTION segment.table_number(value double precision, decimals integer DEFAULT 1)
	RETURNS text
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE WHEN value = 'NaN'::double precision OR abs(value) = 'Infinity'::double precision THEN value::text
		WHEN abs(value) >= 1e21 THEN btrim(to_char(value, '9.999EEEE'))
		ELSE to_char(value, 'FM999,999,999,999,999,999,990' || CASE WHEN decimals > 0 THEN '.' || repeat('0', decimals) ELSE '' END) END
	$$;
COMMENT ON FUNCTION segment.table_number(double precision, integer) IS 'a number for a table: grouped thousands, any magnitude';

-- Raise the error for a name that is no segmentation the caller can see
CREATE OR REPLACE FUNCTION segment.check_segmentation(name text)
	RETURNS segment.segmentations
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	r segment.segmentations;
BEGIN
	IF check_segmentation.name IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'name must not be NULL';
	END IF;
	SELECT * INTO r FROM segment.segmentations s WHERE s.name = check_segmentation.name;
	IF NOT FOUND OR r.model IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '42704',
			MESSAGE = format('segmentation "%s" does not exist', check_segmentation.name);
	END IF;
	RETURN r;
END
$function$;
COMMENT ON FUNCTION segment.check_segmentation(text) IS 'the registry row of a fitted segmentation, or an error';

-- The opening of an SVG document: size, white background, title and subtitle
CREATE OR REPLACE FUNCTION segment.svg_open(width integer, height integer, title text, subtitle text)
	RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT format('<svg xmlns="http://www.w3.org/2000/svg" width="%1$s" height="%2$s" viewBox="0 0 %1$s %2$s" '
		'font-family="DejaVu Sans, Arial, Helvetica, sans-serif" font-size="12" fill="#222222">'
		'<rect class="background" x="0" y="0" width="%1$s" height="%2$s" fill="#ffffff"/>'
		'<text class="title" x="%3$s" y="26" text-anchor="middle" font-size="17" font-weight="bold">%4$s</text>'
		'<text class="subtitle" x="%3$s" y="46" text-anchor="middle" font-size="12" fill="#555555">%5$s</text>',
		width, height, width / 2, segment.xml_text(title), segment.xml_text(coalesce(subtitle, '')))
	$$;
COMMENT ON FUNCTION segment.svg_open(integer, integer, text, text) IS 'the opening of a plot: svg element, background, title, subtitle';

-- Position of value on an axis from (low, high) to (from_px, to_px)
CREATE OR REPLACE FUNCTION segment.plot_scale(value double precision, low double precision, high double precision,
		from_px double precision, to_px double precision)
	RETURNS double precision
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT round((from_px + (to_px - from_px) * CASE WHEN high > low THEN (value - low) / (high - low) ELSE 0.5 END)::numeric, 1)::double precision
	$$;
COMMENT ON FUNCTION segment.plot_scale(double precision, double precision, double precision, double precision, double precision) IS
	'pixel position of a value on a linear axis';

-- A vertical axis: grid lines, tick labels and a rotated title
CREATE OR REPLACE FUNCTION segment.svg_y_axis(ticks double precision[], low double precision, high double precision,
		x double precision, top double precision, bottom double precision, grid_to double precision,
		title text, right_side boolean DEFAULT false)
	RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT format('<g class="axis y-axis"><line x1="%1$s" y1="%2$s" x2="%1$s" y2="%3$s" stroke="#444444"/>', x, top, bottom)
		|| coalesce(string_agg(format(
			'<line x1="%1$s" y1="%2$s" x2="%3$s" y2="%2$s" stroke="#e3e3e3"/>'
			'<text class="tick" x="%4$s" y="%5$s" text-anchor="%6$s">%7$s</text>',
			x, segment.plot_scale(t, low, high, bottom, top), grid_to,
			CASE WHEN right_side THEN x + 6 ELSE x - 6 END, segment.plot_scale(t, low, high, bottom, top) + 4,
			CASE WHEN right_side THEN 'start' ELSE 'end' END, segment.plot_number(t)), ''), '')
		|| format('<text class="axis-title" transform="translate(%1$s,%2$s) rotate(-90)" text-anchor="middle" font-size="13">%3$s</text></g>',
			CASE WHEN right_side THEN x + 58 ELSE x - 58 END, (top + bottom) / 2, segment.xml_text(title))
	FROM unnest(ticks) AS t
	$$;
COMMENT ON FUNCTION segment.svg_y_axis(double precision[], double precision, double precision, double precision,
	double precision, double precision, double precision, text, boolean) IS 'a vertical plot axis with grid lines';

-- A horizontal axis: tick marks, labels and a title
CREATE OR REPLACE FUNCTION segment.svg_x_axis(ticks double precision[], low double precision, high double precision,
		y double precision, left_px double precision, right_px double precision, title text)
	RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT format('<g class="axis x-axis"><line x1="%1$s" y1="%2$s" x2="%3$s" y2="%2$s" stroke="#444444"/>', left_px, y, right_px)
		|| coalesce(string_agg(format(
			'<line x1="%1$s" y1="%2$s" x2="%1$s" y2="%3$s" stroke="#444444"/>'
			'<text class="tick" x="%1$s" y="%4$s" text-anchor="middle">%5$s</text>',
			segment.plot_scale(t, low, high, left_px, right_px), y, y + 5, y + 19, segment.plot_number(t)), ''), '')
		|| format('<text class="axis-title" x="%1$s" y="%2$s" text-anchor="middle" font-size="13">%3$s</text></g>',
			(left_px + right_px) / 2, y + 40, segment.xml_text(title))
	FROM unnest(ticks) AS t
	$$;
COMMENT ON FUNCTION segment.svg_x_axis(double precision[], double precision, double precision, double precision,
	double precision, double precision, text) IS 'a horizontal plot axis';

-- The elbow plot: inertia and silhouette against k, the elbow and the chosen k marked
CREATE OR REPLACE FUNCTION segment.plot_elbow(r segment.segmentations)
	RETURNS text
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	ks integer[];
	inertias double precision[];
	silhouettes double precision[];
	chosen integer;
	elbow integer;
	inertia_ticks double precision[];
	silhouette_ticks double precision[];
	i_low double precision; i_high double precision;
	s_low double precision; s_high double precision;
	k_low double precision; k_high double precision;
	x0 constant double precision := 100; x1 constant double precision := 600;
	y0 constant double precision := 90; y1 constant double precision := 350;
	svg text;
	x double precision;
BEGIN
	EXECUTE format('SELECT array_agg(k ORDER BY k), array_agg(inertia ORDER BY k), array_agg(coalesce(silhouette, 0) ORDER BY k),
					min(k) FILTER (WHERE is_chosen), min(k) FILTER (WHERE is_elbow) FROM %I.elbow', r.name)
		INTO ks, inertias, silhouettes, chosen, elbow;
	inertia_ticks := segment.plot_ticks((SELECT min(v) FROM unnest(inertias) v), (SELECT max(v) FROM unnest(inertias) v));
	silhouette_ticks := segment.plot_ticks((SELECT min(v) FROM unnest(silhouettes) v), (SELECT max(v) FROM unnest(silhouettes) v));
	i_low := least(inertia_ticks[1], (SELECT min(v) FROM unnest(inertias) v));
	i_high := greatest(inertia_ticks[array_length(inertia_ticks, 1)], (SELECT max(v) FROM unnest(inertias) v));
	s_low := least(silhouette_ticks[1], (SELECT min(v) FROM unnest(silhouettes) v));
	s_high := greatest(silhouette_ticks[array_length(silhouette_ticks, 1)], (SELECT max(v) FROM unnest(silhouettes) v));
	k_low := ks[1] - 0.5;
	k_high := ks[array_length(ks, 1)] + 0.5;

	svg := segment.svg_open(720, 430, 'Choosing the number of segments',
		format('segmentation %s: elbow at k = %s, k = %s chosen (%s)', r.name, elbow, chosen, segment.k_choice_reason(r)))
		|| segment.svg_y_axis(inertia_ticks, i_low, i_high, x0, y0, y1, x1, 'inertia')
		|| segment.svg_y_axis(silhouette_ticks, s_low, s_high, x1, y0, y1, x1, 'mean silhouette', true)
		|| segment.svg_x_axis(ks::double precision[], k_low, k_high, y1, x0, x1, 'number of segments k');
	-- the chosen k
	x := segment.plot_scale(chosen, k_low, k_high, x0, x1);
	svg := svg || format('<line class="chosen" x1="%1$s" y1="%2$s" x2="%1$s" y2="%3$s" stroke="#333333" stroke-dasharray="5,4"/>'
		'<text class="chosen-label" x="%1$s" y="%4$s" text-anchor="middle" font-weight="bold">chosen k = %5$s</text>',
		x, y0, y1, y0 - 6, chosen);
	-- the curves and one mark per k
	svg := svg || format('<polyline class="inertia-line" fill="none" stroke="#0072B2" stroke-width="2" points="%s"/>',
		(SELECT string_agg(segment.plot_scale(ks[i], k_low, k_high, x0, x1) || ',' ||
						   segment.plot_scale(inertias[i], i_low, i_high, y1, y0), ' ' ORDER BY i)
		 FROM generate_subscripts(ks, 1) AS i));
	svg := svg || format('<polyline class="silhouette-line" fill="none" stroke="#D55E00" stroke-width="2" stroke-dasharray="6,4" points="%s"/>',
		(SELECT string_agg(segment.plot_scale(ks[i], k_low, k_high, x0, x1) || ',' ||
						   segment.plot_scale(silhouettes[i], s_low, s_high, y1, y0), ' ' ORDER BY i)
		 FROM generate_subscripts(ks, 1) AS i));
	svg := svg || (SELECT string_agg(format(
		'<circle class="k-mark" cx="%1$s" cy="%2$s" r="4.5" fill="#0072B2"><title>k = %3$s: inertia %4$s</title></circle>'
		'<rect class="silhouette-mark" x="%5$s" y="%6$s" width="8" height="8" fill="#D55E00"><title>k = %3$s: silhouette %7$s</title></rect>',
		segment.plot_scale(ks[i], k_low, k_high, x0, x1), segment.plot_scale(inertias[i], i_low, i_high, y1, y0),
		ks[i], round(inertias[i]::numeric, 1),
		segment.plot_scale(ks[i], k_low, k_high, x0, x1) - 4, segment.plot_scale(silhouettes[i], s_low, s_high, y1, y0) - 4,
		round(silhouettes[i]::numeric, 3)), '' ORDER BY i)
		FROM generate_subscripts(ks, 1) AS i);
	-- the elbow
	svg := svg || (SELECT format(
		'<circle class="elbow-mark" cx="%1$s" cy="%2$s" r="10" fill="none" stroke="#009E73" stroke-width="2.5"/>'
		'<text class="elbow-label" x="%1$s" y="%3$s" text-anchor="middle" fill="#009E73" font-weight="bold">elbow</text>',
		segment.plot_scale(ks[i], k_low, k_high, x0, x1), segment.plot_scale(inertias[i], i_low, i_high, y1, y0),
		segment.plot_scale(inertias[i], i_low, i_high, y1, y0) + 26)
		FROM generate_subscripts(ks, 1) AS i WHERE ks[i] = elbow);
	-- the legend, under the title
	svg := svg || '<g class="legend">'
		|| '<g class="legend-entry" data-series="inertia"><line x1="230" y1="62" x2="260" y2="62" stroke="#0072B2" stroke-width="2"/><circle cx="245" cy="62" r="4.5" fill="#0072B2"/><text x="266" y="66">inertia (left axis)</text></g>'
		|| '<g class="legend-entry" data-series="silhouette"><line x1="400" y1="62" x2="430" y2="62" stroke="#D55E00" stroke-width="2" stroke-dasharray="6,4"/><rect x="411" y="58" width="8" height="8" fill="#D55E00"/><text x="436" y="66">silhouette (right axis)</text></g>'
		|| '</g></svg>';
	RETURN svg;
END
$function$;
COMMENT ON FUNCTION segment.plot_elbow(segment.segmentations) IS 'SVG of the elbow table';

-- Legend entries, one per segment: colour, number, label and size
CREATE OR REPLACE FUNCTION segment.svg_cluster_legend(r segment.segmentations, x double precision, y double precision,
		columns integer, column_width double precision)
	RETURNS text
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	legend text := '<g class="legend">';
	p record;
	ex double precision;
	ey double precision;
BEGIN
	FOR p IN EXECUTE format('SELECT cluster, label, customers FROM %I.profiles ORDER BY cluster', r.name) LOOP
		ex := x + ((p.cluster - 1) % columns) * column_width;
		ey := y + ((p.cluster - 1) / columns) * 40;
		legend := legend || format('<g class="legend-entry" data-cluster="%10$s"><rect x="%1$s" y="%2$s" width="12" height="12" fill="%3$s"/>'
			'<text x="%4$s" y="%5$s" font-weight="bold">%6$s · %7$s customers</text>'
			'<text x="%4$s" y="%8$s" fill="#444444">%9$s</text></g>',
			ex, ey, segment.plot_colour(p.cluster), ex + 18, ey + 10, p.cluster,
			to_char(p.customers, 'FM999,999,999'), ey + 25, segment.xml_text(p.label), p.cluster);
	END LOOP;
	RETURN legend || '</g>';
END
$function$;
COMMENT ON FUNCTION segment.svg_cluster_legend(segment.segmentations, double precision, double precision, integer, double precision) IS
	'SVG legend entries of the segments';

-- The clusters plot: customers on the first two principal components
CREATE OR REPLACE FUNCTION segment.plot_clusters(r segment.segmentations)
	RETURNS text
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	sample_size constant integer := 5000;
	total bigint;
	x_low double precision; x_high double precision; y_low double precision; y_high double precision;
	x_ticks double precision[]; y_ticks double precision[];
	ratios double precision[];
	x0 constant double precision := 80; x1 constant double precision := 600;
	y0 constant double precision := 70; y1 constant double precision := 470;
	points text;
	sample text;
	svg text;
BEGIN
	EXECUTE format('SELECT count(*) FROM %I.assignments WHERE cluster IS NOT NULL', r.name) INTO total;
	EXECUTE format('SELECT array_agg(explained_variance_ratio ORDER BY component) FROM (SELECT DISTINCT component, explained_variance_ratio FROM %I.pca) p', r.name)
		INTO ratios;
	-- a seeded sample beyond sample_size customers keeps the picture light
	sample := format('SELECT cluster, pc1, coalesce(pc2, 0) AS pc2 FROM %I.assignments WHERE cluster IS NOT NULL
					  ORDER BY md5(customer_id::text) LIMIT %s', r.name, sample_size);
	EXECUTE format('SELECT min(pc1), max(pc1), min(pc2), max(pc2) FROM (%s) AS p', sample)
		INTO x_low, x_high, y_low, y_high;
	x_ticks := segment.plot_ticks(x_low, x_high, 6);
	y_ticks := segment.plot_ticks(y_low, y_high, 6);
	x_low := least(x_low, x_ticks[1]); x_high := greatest(x_high, x_ticks[array_length(x_ticks, 1)]);
	y_low := least(y_low, y_ticks[1]); y_high := greatest(y_high, y_ticks[array_length(y_ticks, 1)]);
	EXECUTE format($sql$
		SELECT string_agg(format('<g class="cluster-points" data-cluster="%%s" fill="%%s" fill-opacity="0.55">%%s</g>',
							 c.cluster, segment.plot_colour(c.cluster), c.circles), '' ORDER BY c.cluster)
		FROM (SELECT p.cluster, string_agg(format('<circle cx="%%s" cy="%%s" r="2.3"/>',
				segment.plot_scale(p.pc1, $1, $2, $5, $6), segment.plot_scale(p.pc2, $3, $4, $7, $8)), '') AS circles
			  FROM (%s) AS p GROUP BY p.cluster) AS c $sql$, sample)
		INTO points USING x_low, x_high, y_low, y_high, x0, x1, y1, y0;

	svg := segment.svg_open(900, greatest(560, 80 + 40 * (r.model).k + 10), 'Segments on the first two principal components',
			CASE WHEN total > sample_size
				THEN format('segmentation %s: a seeded sample of %s of %s customers', r.name,
							to_char(sample_size, 'FM999,999,999'), to_char(total, 'FM999,999,999'))
				ELSE format('segmentation %s: all %s customers', r.name, to_char(total, 'FM999,999,999')) END)
		|| segment.svg_y_axis(y_ticks, y_low, y_high, x0, y0, y1, x1,
			format('PC2 (%s %% of the variance)', round(100 * coalesce(ratios[2], 0)::numeric, 1)))
		|| segment.svg_x_axis(x_ticks, x_low, x_high, y1, x0, x1,
			format('PC1 (%s %% of the variance)', round(100 * coalesce(ratios[1], 0)::numeric, 1)))
		-- the points clipped to the plotting area, as the axes frame it
		|| format('<clipPath id="segment-clusters-area"><rect x="%s" y="%s" width="%s" height="%s"/></clipPath>',
			x0, y0, x1 - x0, y1 - y0)
		|| '<g clip-path="url(#segment-clusters-area)">' || points || '</g>'
		|| segment.svg_cluster_legend(r, 630, 80, 1, 0)
		|| '</svg>';
	RETURN svg;
END
$function$;
COMMENT ON FUNCTION segment.plot_clusters(segment.segmentations) IS 'SVG scatter of the customers on two principal components, by segment';

-- The profiles plot: box plots of each clustering feature by segment
CREATE OR REPLACE FUNCTION segment.plot_profiles(r segment.segmentations)
	RETURNS text
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	columns constant integer := 5;
	panel_width constant double precision := 176;
	panel_height constant double precision := 190;
	k integer := (r.model).k;
	features integer := array_length(r.features, 1);
	rows integer := (features + columns - 1) / columns;
	height double precision := 80 + rows * (panel_height + 46) + ((k + 2) / 3) * 40 + 10;
	svg text;
	feature text;
	position integer;
	px double precision; py double precision;
	low double precision; high double precision;
	ticks double precision[];
	slot double precision;
	b record;
	cx double precision;
BEGIN
	svg := segment.svg_open(920, height::integer, 'The segments, feature by feature',
		format('segmentation %s: box plots in original units; whiskers at 1.5 IQR, outliers not drawn', r.name));
	FOR feature, position IN SELECT * FROM unnest(r.features) WITH ORDINALITY LOOP
		px := 20 + ((position - 1) % columns) * panel_width;
		py := 70 + ((position - 1) / columns) * (panel_height + 46);
		EXECUTE format('SELECT min(lower_whisker), max(upper_whisker) FROM %I.boxplots WHERE feature = $1', r.name)
			INTO low, high USING feature;
		ticks := segment.plot_ticks(low, high, 4);
		low := least(low, ticks[1]);
		high := greatest(high, ticks[array_length(ticks, 1)]);
		IF high <= low THEN
			high := low + 1;
		END IF;
		svg := svg || format('<g class="panel" data-feature="%1$s"><text class="panel-title" x="%2$s" y="%3$s" text-anchor="middle" font-weight="bold">%1$s</text>',
				segment.xml_text(feature), px + panel_width / 2, py + 14)
			|| format('<line x1="%1$s" y1="%2$s" x2="%1$s" y2="%3$s" stroke="#444444"/>', px + 52, py + 24, py + panel_height)
			|| (SELECT string_agg(format('<line x1="%1$s" y1="%2$s" x2="%3$s" y2="%2$s" stroke="#e3e3e3"/>'
										 '<text class="tick" x="%4$s" y="%5$s" text-anchor="end" font-size="11">%6$s</text>',
										 px + 52, segment.plot_scale(t, low, high, py + panel_height, py + 28), px + panel_width - 8,
										 px + 48, segment.plot_scale(t, low, high, py + panel_height, py + 28) + 4, segment.plot_number(t)), '')
				FROM unnest(ticks) AS t);
		slot := (panel_width - 66) / k;
		FOR b IN EXECUTE format('SELECT * FROM %I.boxplots WHERE feature = $1 ORDER BY cluster', r.name) USING feature LOOP
			cx := px + 58 + (b.cluster - 0.5) * slot;
			svg := svg || format(
				'<g class="box" data-cluster="%1$s">'
				'<line class="whisker" x1="%2$s" y1="%3$s" x2="%2$s" y2="%4$s" stroke="%5$s" stroke-width="1.5"/>'
				'<rect x="%6$s" y="%7$s" width="%8$s" height="%9$s" fill="%5$s" fill-opacity="0.35" stroke="%5$s" stroke-width="1.5"/>'
				'<line class="median" x1="%6$s" y1="%10$s" x2="%11$s" y2="%10$s" stroke="%5$s" stroke-width="2.5"/>'
				'<title>segment %1$s: median %12$s, quartiles %13$s to %14$s</title></g>',
				b.cluster, cx,
				segment.plot_scale(b.lower_whisker, low, high, py + panel_height, py + 28),
				segment.plot_scale(b.upper_whisker, low, high, py + panel_height, py + 28),
				segment.plot_colour(b.cluster), cx - slot * 0.32,
				segment.plot_scale(b.q3, low, high, py + panel_height, py + 28), round((slot * 0.64)::numeric, 1),
				greatest(segment.plot_scale(b.q1, low, high, py + panel_height, py + 28)
						 - segment.plot_scale(b.q3, low, high, py + panel_height, py + 28), 1),
				segment.plot_scale(b.median, low, high, py + panel_height, py + 28), cx + slot * 0.32,
				segment.plot_number(b.median), segment.plot_number(b.q1), segment.plot_number(b.q3));
		END LOOP;
		svg := svg || '</g>';
	END LOOP;
	RETURN svg || segment.svg_cluster_legend(r, 40, 80 + rows * (panel_height + 46), 3, 290) || '</svg>';
END
$function$;
COMMENT ON FUNCTION segment.plot_profiles(segment.segmentations) IS 'SVG box plots of the clustering features by segment';

-- The silhouette plot: each segment's silhouettes, sorted, as a band
CREATE OR REPLACE FUNCTION segment.plot_silhouette(r segment.segmentations)
	RETURNS text
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	most_rows constant integer := 2000;
	total bigint;
	clustered bigint;
	step integer;
	mean double precision;
	x_low double precision;
	x0 constant double precision := 150; x1 constant double precision := 690;
	y0 constant double precision := 80; y1 constant double precision := 470;
	bands text := '';
	labels text := '<g class="legend">';
	rows_drawn integer;
	drawn_rows text;
	gap integer;
	row_height double precision;
	c record;
	ticks double precision[];
	zero double precision;
BEGIN
	-- beyond segment.silhouette_limit() customers only a seeded sample has a
	-- silhouette: the plot draws those
	EXECUTE format('SELECT count(silhouette), count(*), avg(silhouette), least(-0.1, floor(10 * min(silhouette)) / 10)
					FROM %I.assignments WHERE cluster IS NOT NULL', r.name) INTO total, clustered, mean, x_low;
	step := greatest(1, ceil(total::double precision / most_rows)::integer);
	-- every step-th customer of each segment, in silhouette order
	drawn_rows := format('SELECT cluster, silhouette, (n - 1) / %2$s AS position FROM (
							SELECT cluster, silhouette, row_number() OVER (PARTITION BY cluster ORDER BY silhouette DESC, customer_id) AS n
							FROM %1$I.assignments WHERE cluster IS NOT NULL AND silhouette IS NOT NULL) AS s
						  WHERE (n - 1) %% %2$s = 0', r.name, step);
	EXECUTE format('SELECT count(*) FROM (%s) AS d', drawn_rows) INTO rows_drawn;
	gap := greatest(2, rows_drawn / 40);
	row_height := (y1 - y0) / (rows_drawn + gap * ((r.model).k - 1));
	zero := segment.plot_scale(0, x_low, 1, x0, x1);
	FOR c IN EXECUTE format($sql$
		WITH d AS (%s),
		sizes AS (SELECT cluster, count(*) AS drawn FROM d GROUP BY cluster),
		starts AS (SELECT cluster, drawn, coalesce(sum(drawn + $1) OVER (ORDER BY cluster ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS start
				   FROM sizes)
		SELECT s.cluster, s.drawn, s.start,
			string_agg('L ' || segment.plot_scale(d.silhouette, $2, 1, $3, $4) || ',' ||
					   round(($5 + (s.start + d.position + 0.5) * $6)::numeric, 1), ' ' ORDER BY d.position) AS path
		FROM starts s JOIN d USING (cluster)
		GROUP BY s.cluster, s.drawn, s.start ORDER BY s.cluster $sql$, drawn_rows)
		USING gap, x_low, x0, x1, y0, row_height
	LOOP
		bands := bands || format('<path class="silhouette-band" data-cluster="%6$s" fill="%1$s" fill-opacity="0.75" d="M %2$s,%3$s %4$s L %2$s,%5$s Z"/>',
			segment.plot_colour(c.cluster), zero, round((y0 + c.start * row_height)::numeric, 1), c.path,
			round((y0 + (c.start + c.drawn) * row_height)::numeric, 1), c.cluster);
		labels := labels || format('<g class="legend-entry" data-cluster="%4$s"><rect x="12" y="%1$s" width="12" height="12" fill="%2$s"/>'
			'<text x="30" y="%3$s" font-weight="bold">segment %4$s</text></g>',
			round((y0 + (c.start + c.drawn / 2.0) * row_height - 6)::numeric, 1), segment.plot_colour(c.cluster),
			round((y0 + (c.start + c.drawn / 2.0) * row_height + 5)::numeric, 1), c.cluster);
	END LOOP;
	ticks := segment.plot_ticks(x_low, 1, 6);
	RETURN segment.svg_open(720, 540, 'Silhouette of every customer, by segment',
			format('segmentation %s: %s%s, sorted within each segment', r.name,
				CASE WHEN step > 1 THEN format('1 in %s of ', step) ELSE '' END,
				CASE WHEN total < clustered
					THEN format('a seeded sample of %s of the %s customers', to_char(total, 'FM999,999,999'), to_char(clustered, 'FM999,999,999'))
					ELSE format('%s%s customers', CASE WHEN step > 1 THEN 'the ' ELSE 'all ' END, to_char(total, 'FM999,999,999')) END))
		|| bands || labels || '</g>'
		|| segment.svg_x_axis(ticks, x_low, 1, y1 + 6, x0, x1, 'silhouette (-1 to 1; higher fits the segment better)')
		|| format('<line x1="%1$s" y1="%2$s" x2="%1$s" y2="%3$s" stroke="#444444"/>', zero, y0, y1)
		|| format('<line class="mean-line" x1="%1$s" y1="%2$s" x2="%1$s" y2="%3$s" stroke="#D55E00" stroke-width="2" stroke-dasharray="6,4"/>'
				  '<text class="mean-label" x="%1$s" y="%4$s" text-anchor="middle" fill="#D55E00" font-weight="bold">mean %5$s</text>',
				  segment.plot_scale(mean, x_low, 1, x0, x1), y0 - 4, y1, y0 - 9, round(mean::numeric, 3))
		|| '</svg>';
END
$function$;
COMMENT ON FUNCTION segment.plot_silhouette(segment.segmentations) IS 'SVG of the silhouettes of the customers, sorted within each segment';

-- The transitions plot: a from × to matrix of the last refresh, one cell per
-- pair of segments with its number of customers, shaded by its share of the
-- row; "new" is the row of customers not clustered before, "gone" the column
-- of customers no longer clustered
CREATE OR REPLACE FUNCTION segment.plot_transitions(r segment.segmentations)
	RETURNS text
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	cell_width constant integer := 96;
	cell_height constant integer := 40;
	left_px constant integer := 310;
	top_px constant integer := 120;
	froms integer[];
	tos integer[];
	labels text[];
	from_labels text[];
	width integer;
	height integer;
	svg text;
	pair record;
	i integer;
	moved bigint;
	total bigint;
	assigned timestamptz;
BEGIN
	-- a segment stayed when its previous number maps to the new one (a
	-- refit that lowers k renumbers)
	EXECUTE format('SELECT array_agg(DISTINCT coalesce(from_cluster, 0)), array_agg(DISTINCT coalesce(to_cluster, 2147483647)),
						   sum(customers) FILTER (WHERE from_cluster IS NOT NULL AND to_cluster IS NOT NULL
							   AND coalesce($1[from_cluster], CASE WHEN $1 IS NULL THEN from_cluster END) IS DISTINCT FROM to_cluster),
						   sum(customers)
					FROM %I.transitions', r.name) INTO froms, tos, moved, total USING r.renumbering;
	labels := r.labels;
	-- the rows are the segments before: named as they were then
	FOR pair IN EXECUTE format('SELECT DISTINCT from_cluster, from_label FROM %I.transitions WHERE from_cluster IS NOT NULL', r.name) LOOP
		from_labels[pair.from_cluster] := pair.from_label;
	END LOOP;
	EXECUTE format('SELECT assigned_at FROM %I.model', r.name) INTO assigned;
	froms := ARRAY(SELECT f FROM unnest(coalesce(froms, '{}')) AS f ORDER BY f);
	tos := ARRAY(SELECT c FROM unnest(coalesce(tos, '{}')) AS c ORDER BY c);
	width := left_px + greatest(cardinality(tos), 1) * cell_width + 30;
	height := top_px + greatest(cardinality(froms), 1) * cell_height + 60;
	svg := segment.svg_open(greatest(width, 520), height, 'Where the customers went at the last refresh',
		format('segmentation %s, %s: %s of %s customers changed segment; rows before, columns after',
			r.name, to_char(assigned, 'YYYY-MM-DD HH24:MI'), to_char(coalesce(moved, 0), 'FM999,999,999'),
			to_char(coalesce(total, 0), 'FM999,999,999')));
	-- the headers: a swatch of the segment's colour and its number or name
	FOR i IN 1 .. cardinality(tos) LOOP
		svg := svg || format('<g class="column-header" data-cluster="%s">%s<text x="%s" y="%s" text-anchor="middle" font-weight="bold">%s</text></g>',
			tos[i], CASE WHEN tos[i] <= cardinality(labels) THEN format('<rect x="%s" y="%s" width="12" height="12" fill="%s"/>',
				left_px + (i - 1) * cell_width + cell_width / 2 - 6, top_px - 40, segment.plot_colour(tos[i])) ELSE '' END,
			left_px + (i - 1) * cell_width + cell_width / 2, top_px - 10,
			CASE WHEN tos[i] = 2147483647 THEN 'gone' ELSE 'to ' || tos[i] END);
	END LOOP;
	FOR i IN 1 .. cardinality(froms) LOOP
		svg := svg || format('<g class="row-header" data-cluster="%s">%s<text x="%s" y="%s" font-weight="bold">%s</text></g>',
			froms[i], CASE WHEN froms[i] BETWEEN 1 AND cardinality(labels) THEN format('<rect x="12" y="%s" width="12" height="12" fill="%s"/>',
				top_px + (i - 1) * cell_height + cell_height / 2 - 6, segment.plot_colour(froms[i])) ELSE '' END,
			30, top_px + (i - 1) * cell_height + cell_height / 2 + 4,
			segment.xml_text(CASE WHEN froms[i] = 0 THEN 'new (not clustered before)'
				ELSE froms[i] || ' · ' || CASE WHEN length(coalesce(from_labels[froms[i]], '')) > 36
					THEN left(from_labels[froms[i]], 35) || '…' ELSE coalesce(from_labels[froms[i]], '') END END));
	END LOOP;
	FOR pair IN EXECUTE format('SELECT * FROM %I.transitions', r.name) LOOP
		svg := svg || format('<g class="transition" data-from="%1$s" data-to="%2$s"><rect x="%3$s" y="%4$s" width="%5$s" height="%6$s" '
				'fill="%7$s" fill-opacity="%8$s" stroke="#ffffff"/><text x="%9$s" y="%10$s" text-anchor="middle" fill="%11$s">%12$s</text>'
				'<title>%13$s to %14$s: %12$s customers (%15$s %% of the row)</title></g>',
			coalesce(pair.from_cluster::text, 'new'), coalesce(pair.to_cluster::text, 'gone'),
			left_px + (array_position(tos, coalesce(pair.to_cluster, 2147483647)) - 1) * cell_width,
			top_px + (array_position(froms, coalesce(pair.from_cluster, 0)) - 1) * cell_height, cell_width, cell_height,
			CASE WHEN pair.from_cluster IS NOT NULL AND coalesce(r.renumbering[pair.from_cluster],
					CASE WHEN r.renumbering IS NULL THEN pair.from_cluster END) = pair.to_cluster THEN '#0072B2' ELSE '#D55E00' END,
			round((0.12 + 0.88 * pair.share_of_from)::numeric, 3),
			left_px + (array_position(tos, coalesce(pair.to_cluster, 2147483647)) - 1) * cell_width + cell_width / 2,
			top_px + (array_position(froms, coalesce(pair.from_cluster, 0)) - 1) * cell_height + cell_height / 2 + 4,
			CASE WHEN pair.share_of_from > 0.55 THEN '#ffffff' ELSE '#222222' END,
			to_char(pair.customers, 'FM999,999,999'),
			segment.xml_text(coalesce(pair.from_label, 'new')), segment.xml_text(coalesce(pair.to_label, 'gone')),
			round((100 * pair.share_of_from)::numeric, 1));
	END LOOP;
	RETURN svg || format('<text class="note" x="%s" y="%s" fill="#555555">blue: stayed in the segment; orange: moved; the darker, the larger its share of the row</text>',
		12, height - 16) || '</svg>';
END
$function$;
COMMENT ON FUNCTION segment.plot_transitions(segment.segmentations) IS 'SVG matrix of the customers who moved between segments at the last refresh';

-- Raise 42804 when a column of a table the pictures read no longer has the
-- type the segmentation gave it (ALTER TABLE ... TYPE by its owner): the
-- pictures and the report write the tables' values into their markup and
-- trust them to be numbers where the segmentation made numbers
CREATE OR REPLACE FUNCTION segment.check_segmentation_shapes(segmentation text)
	RETURNS void
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	altered text;
BEGIN
	SELECT string_agg(format('%I.%I.%I is %s, not %s', segmentation, t.result_table, q.column_name,
			format_type(a.atttypid, a.atttypmod), q.column_type), '; ' ORDER BY t.result_table, q.ordinal) INTO altered
	FROM segment.segmentation_tables() AS t
	CROSS JOIN LATERAL segment.query_columns(segment.segmentation_query(segmentation, t.result_table)) AS q
	JOIN pg_attribute a ON a.attrelid = to_regclass(format('%I.%I', segmentation, t.result_table))
		AND a.attname = q.column_name AND NOT a.attisdropped
	WHERE t.result_table NOT IN ('features', 'history') AND q.column_name <> 'customer_id'
		AND format_type(a.atttypid, a.atttypmod) <> q.column_type;
	IF altered IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = '42804',
			MESSAGE = format('the tables of segmentation "%s" were altered: %s', segmentation, altered),
			HINT = 'Give the columns their types back (ALTER TABLE ... TYPE), or drop the segmentation and create it again.';
	END IF;
END
$function$;
COMMENT ON FUNCTION segment.check_segmentation_shapes(text) IS
	'raises 42804 when a column the pictures read no longer has the type the segmentation gave it';

-- A picture of a segmentation, drawn from its tables with the rights of its
-- caller: segment.plot calls it as the segmentation's owner, restricted
CREATE OR REPLACE FUNCTION segment.draw_plot(name text, kind text)
	RETURNS text
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	r segment.segmentations := segment.check_segmentation(name);
BEGIN
	PERFORM segment.check_segmentation_shapes(r.name);
	IF kind IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'kind must not be NULL',
			HINT = 'The kinds are elbow, clusters, profiles, silhouette and transitions.';
	END IF;
	CASE kind
		WHEN 'elbow' THEN RETURN segment.plot_elbow(r);
		WHEN 'clusters' THEN RETURN segment.plot_clusters(r);
		WHEN 'profiles' THEN RETURN segment.plot_profiles(r);
		WHEN 'silhouette' THEN RETURN segment.plot_silhouette(r);
		WHEN 'transitions' THEN RETURN segment.plot_transitions(r);
		ELSE
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = format('unknown plot kind %s', quote_literal(kind)),
				HINT = 'The kinds are elbow, clusters, profiles, silhouette and transitions.';
	END CASE;
END
$function$;
COMMENT ON FUNCTION segment.draw_plot(text, text) IS 'the picture of segment.plot, drawn with the rights of the caller';

-- plot(name, kind): a standalone SVG plot of a segmentation, drawn as its
-- owner, security-restricted (segment.render_as_owner), for whoever may read
-- all of its tables: nothing the owner attached to them ever runs with the
-- rights of the caller
CREATE OR REPLACE FUNCTION segment.plot(name text, kind text)
	RETURNS text
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	r segment.segmentations := segment.check_segmentation(name);
BEGIN
	IF kind IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'kind must not be NULL',
			HINT = 'The kinds are elbow, clusters, profiles, silhouette and transitions.';
	END IF;
	RETURN segment.render_as_owner(r.name, kind);
END
$function$;
COMMENT ON FUNCTION segment.plot(text, text) IS 'a standalone SVG plot of a segmentation: elbow, clusters, profiles, silhouette or transitions';
