/* src/sql/labels.sql */

-- Readable names of the segments

-- A readable name per cluster from its centroid (z-scores of the
-- transformed features): recency, frequency, spending; "several orders a
-- day" for clusters whose invoices per hour and per day stand out (customers
-- who place several invoices within an hour or a day: on the bundled data
-- the segment that otherwise reads like the frequent high spenders); and
-- "abroad" for clusters of customers mostly outside the domestic country
CREATE OR REPLACE FUNCTION segment.segmentation_labels(centroids double precision[], with_country boolean)
	RETURNS text[]
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	labels text[] := '{}';
	label text;
	recency double precision;
	frequency double precision;
	spending double precision;
	intensity double precision;
BEGIN
	FOR c IN 1 .. array_length(centroids, 1) LOOP
		recency := centroids[c][1];
		frequency := (centroids[c][2] + centroids[c][5]) / 2;	-- invoices, invoices per month
		spending := centroids[c][7];							-- total amount
		intensity := (centroids[c][3] + centroids[c][4]) / 2;	-- invoices per hour, per day
		label := concat_ws(' ',
			CASE WHEN recency <= -0.5 THEN 'recent' WHEN recency >= 0.5 THEN 'lapsed' END,
			CASE WHEN frequency >= 0.5 THEN 'frequent' WHEN frequency <= -0.5 THEN 'occasional' END,
			CASE WHEN spending >= 0.5 THEN 'high spenders' WHEN spending <= -0.5 THEN 'low spenders'
				ELSE 'mid spenders' END,
			CASE WHEN with_country AND centroids[c][10] <= -0.5 THEN 'abroad' END)
			|| CASE WHEN intensity >= 1 THEN ', several orders a day' ELSE '' END;
		IF label = ANY (labels) THEN
			label := label || ' ' || c;
		END IF;
		labels := labels || label;
	END LOOP;
	RETURN labels;
END
$function$;
COMMENT ON FUNCTION segment.segmentation_labels(double precision[], boolean) IS 'readable, unique names of clusters from their centroids';

-- The automatic labels of a segmentation's clusters from their centroids.
-- The notebook recipe's centroids are z-scores of the raw features in
-- another order: each is read in the rfm recipe's order of features
-- (segment.segmentation_features), without a domestic flag.
CREATE OR REPLACE FUNCTION segment.segmentation_automatic_labels(r segment.segmentations, centroids double precision[])
	RETURNS text[]
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE WHEN r.recipe = 'notebook' THEN
		segment.segmentation_labels((
			SELECT array_agg(ARRAY(
				SELECT centroids[c][array_position(segment.segmentation_features('notebook', false), u.feature)]
				FROM unnest(segment.segmentation_features('rfm', false)) WITH ORDINALITY AS u (feature, i) ORDER BY u.i) ORDER BY c)
			FROM generate_series(1, array_length(centroids, 1)) AS c), false)
	ELSE segment.segmentation_labels(centroids, r.country_column IS NOT NULL) END
	$$;
COMMENT ON FUNCTION segment.segmentation_automatic_labels(segment.segmentations, double precision[]) IS
	'the automatic labels of the clusters of registry row r from their centroids';
