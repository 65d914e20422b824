/* src/sql/update--0.2--0.3.finish.sql */

-- The end of the update from 0.2, after the files of the pipeline layer:
-- each segmentation gets the tables and columns that 0.3 adds (transitions,
-- history, profiles.label_source, model.assigned_at, the RFM scores of
-- features, the revenue and actions of profiles), as its own objects,
-- with the privileges its profiles table has; its history starts now
DO $finish$
DECLARE
	segmentation record;
	created regclass;
BEGIN
	FOR segmentation IN
		SELECT s.name, n.nspowner::regrole AS owner, (SELECT c.oid FROM pg_catalog.pg_class c
			WHERE c.relnamespace = n.oid AND c.relname = 'profiles' AND c.relkind = 'r') AS profiles
		FROM segment.segmentations s JOIN pg_catalog.pg_namespace n ON n.oid = s.schema AND n.nspname = s.name
		ORDER BY s.name
	LOOP
		CONTINUE WHEN segmentation.profiles IS NULL;
		FOR created IN SELECT * FROM segment.complete_segmentation_tables(segmentation.name) LOOP
			-- made by this script, the table would belong to the extension
			EXECUTE pg_catalog.format('ALTER EXTENSION segment DROP TABLE %s', created);
			-- (complete_segmentation_tables gave it the privileges of profiles)
			EXECUTE pg_catalog.format('ALTER TABLE %s OWNER TO %s', created, segmentation.owner);
		END LOOP;
		EXECUTE pg_catalog.format('UPDATE %I.profiles SET label_source = ''automatic'' WHERE label_source IS NULL', segmentation.name);
		EXECUTE pg_catalog.format('UPDATE %I.model m SET assigned_at = m.fitted_at WHERE assigned_at IS NULL', segmentation.name);
		EXECUTE pg_catalog.format('UPDATE %I.elbow e SET smallest_share = s.smallest_share FROM segment.segmentation_scores s
			WHERE s.name = %L AND s.k = e.k', segmentation.name, segmentation.name);
		-- the RFM scores of the customers as they are, and the profiles'
		-- revenue, scores and actions from them
		EXECUTE pg_catalog.format('UPDATE %1$I.features f SET r_score = s.r_score, f_score = s.f_score, m_score = s.m_score,
				rfm_score = s.rfm_score, rfm_segment = s.rfm_segment
			FROM (%2$s) AS s WHERE s.customer_id = f.customer_id', segmentation.name,
			segment.rfm_scores_sql(pg_catalog.format('SELECT customer_id, recency_days, invoices, total_amount FROM %I.features',
				segmentation.name)));
		EXECUTE pg_catalog.format('UPDATE %1$I.profiles p SET revenue = s.revenue, revenue_share = s.revenue_share,
				r_score_mean = s.r_score_mean, f_score_mean = s.f_score_mean, m_score_mean = s.m_score_mean,
				rfm_segment = s.rfm_segment, action = s.action
			FROM (%2$s) AS s WHERE s.cluster = p.cluster', segmentation.name,
			segment.segmentation_query(segmentation.name, 'profiles'));
		PERFORM segment.record_history(segmentation.name, pg_catalog.now());
	END LOOP;
END
$finish$;
