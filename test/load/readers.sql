-- a BI reader: every view answers, never empty (1/0 raises when it is)
SELECT 1 / (count(*) > 0)::integer FROM retail.profiles;
SELECT 1 / (count(*) > 0)::integer FROM retail.assignments WHERE cluster IS NOT NULL;
SELECT 1 / (count(*) > 0)::integer FROM retail.elbow WHERE is_chosen;
SELECT 1 / (count(*) > 0)::integer FROM retail.silhouette;
