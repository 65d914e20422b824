/* src/sql/marketing.sql */

-- The marketer's view of the customers and segments: RFM scores, the named
-- RFM groups and a suggested action per segment (README: "RFM scores, named
-- groups and what to do")

-- A quintile score 1..5 from a customer's rank among n customers: 1 +
-- floor(5 (rank - 1) / n), where rank is the 1-based rank from the worst
-- value with ties sharing their lowest rank (rank() OVER ...), so equal
-- values always get the same score and a score class can hold more than a
-- fifth of the customers
-- (no SET search_path, so that the planner inlines it into the features
-- query, three times per customer; its operators are qualified instead)
CREATE FUNCTION segment.rfm_quintile(rank bigint, n bigint)
	RETURNS smallint
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$
	SELECT CAST(1 OPERATOR(pg_catalog.+) ((5 OPERATOR(pg_catalog.*) (rank OPERATOR(pg_catalog.-) 1))
		OPERATOR(pg_catalog./) n) AS pg_catalog.int2)
	$$;
COMMENT ON FUNCTION segment.rfm_quintile(bigint, bigint) IS
	'the quintile score 1..5 of the customer of rank rank (1 = worst, ties share their lowest rank) among n';

-- The named RFM group of a recency and a frequency score: the R x F grid of
-- the RFM segments common in marketing analytics (the grid of the widely
-- used pandas RFM notebooks), with Lost (R 1, F 1..2) split from
-- Hibernating as in Putler's eleven RFM segments; the README has the table
CREATE FUNCTION segment.rfm_segment(r_score integer, f_score integer)
	RETURNS text
	LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
BEGIN
	IF r_score NOT BETWEEN 1 AND 5 OR f_score NOT BETWEEN 1 AND 5 THEN
		RAISE EXCEPTION USING ERRCODE = '22003',
			MESSAGE = format('RFM scores are between 1 and 5, not r_score %s and f_score %s', r_score, f_score);
	END IF;
	RETURN CASE
		WHEN r_score = 5 AND f_score >= 4 THEN 'Champions'
		WHEN r_score >= 3 AND f_score >= 4 THEN 'Loyal'
		WHEN r_score >= 4 AND f_score >= 2 THEN 'Potential loyalists'
		WHEN r_score = 5 THEN 'New customers'
		WHEN r_score = 4 THEN 'Promising'
		WHEN r_score = 3 AND f_score = 3 THEN 'Need attention'
		WHEN r_score = 3 THEN 'About to sleep'
		WHEN f_score = 5 THEN 'Cannot lose them'
		WHEN f_score >= 3 THEN 'At risk'
		WHEN r_score = 2 THEN 'Hibernating'
		ELSE 'Lost' END;
END
$function$;
COMMENT ON FUNCTION segment.rfm_segment(integer, integer) IS
	'the named RFM group (Champions, Loyal, ..., Lost) of a recency score and a frequency score (1..5)';

-- The suggested action of a named RFM group (after Putler's table of RFM
-- segments and actions).  Spending changes it in one case: a group that is
-- slipping away (Need attention, About to sleep, At risk, Hibernating, Lost)
-- whose spending score is 4 or 5 gets the action of Cannot lose them, since
-- high spenders who lapse are worth a personal win-back.
CREATE FUNCTION segment.rfm_action(rfm_segment text, m_score integer DEFAULT NULL)
	RETURNS text
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
DECLARE
	groups CONSTANT text[] := ARRAY['Champions', 'Loyal', 'Potential loyalists', 'New customers', 'Promising',
		'Need attention', 'About to sleep', 'At risk', 'Cannot lose them', 'Hibernating', 'Lost'];
BEGIN
	IF rfm_segment IS NULL THEN
		RETURN NULL;
	END IF;
	IF NOT rfm_segment = ANY (groups) THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('unknown RFM group "%s"', rfm_segment),
			HINT = 'The groups are ' || array_to_string(groups, ', ') || '.';
	END IF;
	IF m_score NOT BETWEEN 1 AND 5 THEN
		RAISE EXCEPTION USING ERRCODE = '22003', MESSAGE = format('m_score is between 1 and 5, not %s', m_score);
	END IF;
	IF m_score >= 4 AND rfm_segment IN ('Need attention', 'About to sleep', 'At risk', 'Hibernating', 'Lost') THEN
		rfm_segment := 'Cannot lose them';
	END IF;
	RETURN CASE rfm_segment
		WHEN 'Champions' THEN 'reward them: early access and perks; ask for reviews and referrals'
		WHEN 'Loyal' THEN 'upsell higher-value products; invite them to a loyalty programme'
		WHEN 'Potential loyalists' THEN 'offer a membership or loyalty programme; recommend related products'
		WHEN 'New customers' THEN 'welcome them and nurture them towards a second order'
		WHEN 'Promising' THEN 'build the relationship: a small incentive for a repeat order'
		WHEN 'Need attention' THEN 'limited-time offers based on their past purchases'
		WHEN 'About to sleep' THEN 'reconnect before they lapse: recommendations and a discount'
		WHEN 'At risk' THEN 'win them back with personal emails and an offer'
		WHEN 'Cannot lose them' THEN 'win them back personally: talk to them, a strong offer'
		WHEN 'Hibernating' THEN 're-engage with relevant offers at low cost'
		ELSE 'a low-cost reactivation campaign, or leave them alone' END;
END
$function$;
COMMENT ON FUNCTION segment.rfm_action(text, integer) IS
	'the suggested marketing action of a named RFM group, given its spending score (1..5)';

-- The recipes of a segmentation's clustering features (docs/reference.md, "Recipes")
CREATE FUNCTION segment.segmentation_recipes()
	RETURNS text[]
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT ARRAY['rfm', 'notebook'] $$;
COMMENT ON FUNCTION segment.segmentation_recipes() IS
	'the recipes of clustering features create_segmentation knows: rfm (the default) and notebook';

-- Raise the error for a recipe that is not one
CREATE FUNCTION segment.check_recipe(recipe text)
	RETURNS void
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $function$
BEGIN
	IF recipe IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'recipe must not be NULL',
			HINT = 'The recipes are ' || array_to_string(segment.segmentation_recipes(), ', ') || '.';
	END IF;
	IF NOT recipe = ANY (segment.segmentation_recipes()) THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('unknown recipe "%s"', recipe),
			HINT = 'The recipes are ' || array_to_string(segment.segmentation_recipes(), ', ') || '.';
	END IF;
END
$function$;
COMMENT ON FUNCTION segment.check_recipe(text) IS 'raises the error for a recipe that is not one of segment.segmentation_recipes()';
