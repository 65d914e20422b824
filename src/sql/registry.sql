/* src/sql/registry.sql */

-- The registry of segmentations: the tables that record each segmentation
-- (README: "Segmentation pipeline")

-- The registry: one row per segmentation, with its arguments and the fitted
-- scaler, model and PCA (who may read and write it: registry_access.sql)
CREATE TABLE segment.segmentations (
	name text PRIMARY KEY,
	owner regrole NOT NULL DEFAULT to_regrole(quote_ident(current_user)),
	source regclass NOT NULL,
	k integer,
	customer_column name NOT NULL,
	invoice_column name NOT NULL,
	time_column name NOT NULL,
	quantity_column name NOT NULL,
	price_column name NOT NULL,
	country_column name,
	as_of timestamp,
	seed bigint NOT NULL,
	time_zone text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	fitted_at timestamptz,
	used_as_of timestamp,
	domestic_country text,
	scaler segment.scaler,
	model_scaler segment.scaler,
	model segment.kmeans_model,
	pca segment.pca_model,
	labels text[],
	features text[],
	customers_clustered bigint,
	fitted_rows bigint,
	source_name text NOT NULL,
	amount_unit double precision,
	schema regnamespace,
	user_labels text[],
	assigned_at timestamptz,
	renumbering integer[],
	fit_fingerprint numeric,
	recipe text NOT NULL DEFAULT 'rfm',
	categories text[],
	model_recipe text,
	history_as_of timestamp,
	value_horizon interval NOT NULL DEFAULT '1 year',
	bgnbd segment.bgnbd_model,
	gamma_gamma segment.gamma_gamma_model
);
COMMENT ON TABLE segment.segmentations IS 'segmentations made by segment.create_segmentation: arguments and fitted models';
COMMENT ON COLUMN segment.segmentations.name IS 'name of the segmentation and of the schema holding its views';
COMMENT ON COLUMN segment.segmentations.owner IS 'role that owns it: the owner of its schema as of the last refresh (the creator at first)';
COMMENT ON COLUMN segment.segmentations.source IS 'table or view of invoice lines (as of the last refresh)';
COMMENT ON COLUMN segment.segmentations.k IS 'number of segments asked for; NULL when chosen automatically';
COMMENT ON COLUMN segment.segmentations.customer_column IS 'column of the customer';
COMMENT ON COLUMN segment.segmentations.invoice_column IS 'column of the invoice number';
COMMENT ON COLUMN segment.segmentations.time_column IS 'column of the invoice time';
COMMENT ON COLUMN segment.segmentations.quantity_column IS 'column of the quantity';
COMMENT ON COLUMN segment.segmentations.price_column IS 'column of the unit price';
COMMENT ON COLUMN segment.segmentations.country_column IS 'column of the country; NULL leaves country out';
COMMENT ON COLUMN segment.segmentations.as_of IS 'reference time of recency and cut-off (later lines are not used); NULL for the latest time among the lines used';
COMMENT ON COLUMN segment.segmentations.seed IS 'seed of k-means';
COMMENT ON COLUMN segment.segmentations.time_zone IS 'session time zone of the refreshes (calendar units of timestamptz sources)';
COMMENT ON COLUMN segment.segmentations.created_at IS 'when the segmentation was created';
COMMENT ON COLUMN segment.segmentations.fitted_at IS 'when the last refresh committed its fit';
COMMENT ON COLUMN segment.segmentations.used_as_of IS 'reference time used by the last refresh';
COMMENT ON COLUMN segment.segmentations.domestic_country IS 'the most common country of the customers, encoded against all others';
COMMENT ON COLUMN segment.segmentations.scaler IS 'standardization of the transformed features (for z-scores)';
COMMENT ON COLUMN segment.segmentations.model_scaler IS 'the scaler the model vectors are made with: the domestic flag is centred, not scaled';
COMMENT ON COLUMN segment.segmentations.model IS 'the k-means model';
COMMENT ON COLUMN segment.segmentations.pca IS 'principal components of the model vectors';
COMMENT ON COLUMN segment.segmentations.labels IS 'readable name of each segment, by cluster number: the user''s, else the automatic one';
COMMENT ON COLUMN segment.segmentations.features IS 'names of the clustering features, in vector order';
COMMENT ON COLUMN segment.segmentations.customers_clustered IS 'customers with a purchase, the rows clustered';
COMMENT ON COLUMN segment.segmentations.fitted_rows IS 'customers the model was fitted on: all of them, or a seeded sample when they do not fit maintenance_work_mem';
COMMENT ON COLUMN segment.segmentations.source_name IS 'qualified name of the source: a refresh finds the source by it when its table was dropped and created again';
COMMENT ON COLUMN segment.segmentations.amount_unit IS 'the unit amounts are clustered in: the typical invoice amount (median average invoice amount) at the first fit, so that the unit of the prices does not matter; 1 (currency units) for a segmentation made before 0.3';
COMMENT ON COLUMN segment.segmentations.schema IS 'the schema of the segmentation (named name); its owner owns the segmentation';
COMMENT ON COLUMN segment.segmentations.user_labels IS 'the names users gave the segments (segment.set_label), by cluster number; NULL where automatic';
COMMENT ON COLUMN segment.segmentations.assigned_at IS 'when the last refresh (either kind) assigned the customers';
COMMENT ON COLUMN segment.segmentations.renumbering IS 'the new number of each previous segment at the last refit (NULL: none matches it); NULL when numbers did not change';
COMMENT ON COLUMN segment.segmentations.fit_fingerprint IS 'a sum of hashes of the vectors of the last fit: a source unchanged since keeps its model';
COMMENT ON COLUMN segment.segmentations.recipe IS 'the clustering features: rfm (transformed recency, frequency and spending, a domestic flag) or notebook (the seed notebook''s raw features and one-hot countries)';
COMMENT ON COLUMN segment.segmentations.categories IS 'the countries of the one-hot encoding of the notebook recipe, as of the last fit; NULL for the rfm recipe';
COMMENT ON COLUMN segment.segmentations.history_as_of IS 'the data''s time history runs to: the latest as_of of the refreshes (it does not go back when the latest line is deleted)';
COMMENT ON COLUMN segment.segmentations.value_horizon IS 'the horizon of the customers'' expected purchases and value (features.expected_purchases, expected_value)';
COMMENT ON COLUMN segment.segmentations.bgnbd IS 'the BG/NBD model of the customers'' purchase days, in days (fitted at each refit; NULL when it could not be)';
COMMENT ON COLUMN segment.segmentations.gamma_gamma IS 'the Gamma-Gamma model of the spend of a purchase day (fitted at each refit; NULL when it could not be)';
COMMENT ON COLUMN segment.segmentations.model_recipe IS 'the recipe the model was fitted with: an assign-only refresh needs the same recipe';

CREATE TABLE segment.segmentation_scores (
	name text NOT NULL REFERENCES segment.segmentations ON DELETE CASCADE ON UPDATE CASCADE,
	k integer NOT NULL,
	inertia double precision NOT NULL,
	silhouette double precision,
	davies_bouldin double precision,
	calinski_harabasz double precision,
	smallest_share double precision,
	is_elbow boolean NOT NULL,
	is_chosen boolean NOT NULL,
	PRIMARY KEY (name, k)
);
COMMENT ON TABLE segment.segmentation_scores IS 'the candidate k of each segmentation and their scores';
COMMENT ON COLUMN segment.segmentation_scores.name IS 'segmentation';
COMMENT ON COLUMN segment.segmentation_scores.k IS 'number of clusters';
COMMENT ON COLUMN segment.segmentation_scores.inertia IS 'k-means inertia';
COMMENT ON COLUMN segment.segmentation_scores.silhouette IS 'mean silhouette';
COMMENT ON COLUMN segment.segmentation_scores.davies_bouldin IS 'Davies-Bouldin index';
COMMENT ON COLUMN segment.segmentation_scores.calinski_harabasz IS 'Calinski-Harabasz index';
COMMENT ON COLUMN segment.segmentation_scores.smallest_share IS 'share of the customers in the smallest cluster';
COMMENT ON COLUMN segment.segmentation_scores.is_elbow IS 'the Kneedle elbow of the inertia curve';
COMMENT ON COLUMN segment.segmentation_scores.is_chosen IS 'the k of the model';
