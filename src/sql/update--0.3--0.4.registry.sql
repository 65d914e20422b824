/* src/sql/update--0.3--0.4.registry.sql */

-- The update from 0.3, after the files of the objects new in 0.4: the
-- registry keeps each segmentation's customer-value models and horizon
-- (filled by update--0.3--0.4.finish.sql)
ALTER TABLE segment.segmentations ADD COLUMN value_horizon interval NOT NULL DEFAULT '1 year';
ALTER TABLE segment.segmentations ADD COLUMN bgnbd segment.bgnbd_model;
ALTER TABLE segment.segmentations ADD COLUMN gamma_gamma segment.gamma_gamma_model;
COMMENT ON COLUMN segment.segmentations.value_horizon IS 'the horizon of the customers'' expected purchases and value (features.expected_purchases, expected_value)';
COMMENT ON COLUMN segment.segmentations.bgnbd IS 'the BG/NBD model of the customers'' purchase days, in days (fitted at each refit; NULL when it could not be)';
COMMENT ON COLUMN segment.segmentations.gamma_gamma IS 'the Gamma-Gamma model of the spend of a purchase day (fitted at each refit; NULL when it could not be)';
-- create_segmentation and alter_segmentation take value_horizon
DROP FUNCTION segment.create_segmentation(text, regclass, integer, name, name, name, name, name, name, timestamp, bigint, text);
DROP FUNCTION segment.alter_segmentation(text, integer, name, name, name, name, name, name, timestamp, bigint, text);
