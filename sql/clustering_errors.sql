-- Bad input to the building blocks: each gets a clear error with a SQLSTATE,
-- naming the offending row id where there is one
CREATE TABLE good (id bigint, vec float8[], cluster integer);
INSERT INTO good SELECT i, ARRAY[i, i % 3]::float8[], i % 2 FROM generate_series(1, 10) AS i;
-- arguments
SELECT error_of($$ SELECT segment.kmeans_fit('SELECT id, vec FROM good', 0) $$);
SELECT error_of($$ SELECT segment.kmeans_fit('SELECT id, vec FROM good', 11) $$);
SELECT error_of($$ SELECT segment.kmeans_fit('SELECT id, vec FROM good', 2, n_init => 0) $$);
SELECT error_of($$ SELECT segment.kmeans_fit('SELECT id, vec FROM good', 2, max_iter => 0) $$);
SELECT error_of($$ SELECT segment.kmeans_fit('SELECT id, vec FROM good', 2, tol => -1) $$);
SELECT error_of($$ SELECT segment.kmeans_fit('SELECT id, vec FROM good', 2, tol => 'NaN') $$);
SELECT error_of($$ SELECT * FROM segment.elbow('SELECT id, vec FROM good', 5, 3) $$);
SELECT error_of($$ SELECT * FROM segment.elbow('SELECT id, vec FROM good', 0, 3) $$);
SELECT error_of($$ SELECT * FROM segment.elbow('SELECT id, vec FROM good', 1, 11) $$);
SELECT error_of($$ SELECT * FROM segment.elbow('SELECT id, vec FROM good', 1, 10, 200000000) $$);
SELECT error_of($$ SELECT segment.silhouette('SELECT id, vec, cluster FROM good', 1) $$);
SELECT error_of($$ SELECT segment.pca_fit('SELECT id, vec FROM good', 0) $$);
SELECT error_of($$ SELECT segment.pca_fit('SELECT id, vec FROM good', 3) $$);
SELECT error_of($$ SELECT segment.pca_fit('SELECT id, vec FROM good LIMIT 1', 1) $$);
-- sources that fail, return nothing or return the wrong shape
SELECT error_of($$ SELECT segment.kmeans_fit('SELEC id, vec FROM good', 2) $$);
SELECT error_of($$ SELECT segment.kmeans_fit('SELECT id, vec FROM no_such_table', 2) $$);
SELECT error_of($$ SELECT segment.kmeans_fit('SELECT id, vec FROM good WHERE false', 2) $$);
SELECT error_of($$ SELECT segment.kmeans_fit('SELECT id FROM good', 2) $$);
SELECT error_of($$ SELECT segment.kmeans_fit('SELECT id, vec::text FROM good', 2) $$);
SELECT error_of($$ SELECT segment.kmeans_fit('SELECT id, vec::real[] FROM good', 2) $$);
SELECT error_of($$ SELECT segment.kmeans_fit('CREATE TABLE nope (a int)', 2) $$);
SELECT error_of($$ SELECT * FROM segment.kmeans('SELECT id::text, vec FROM good', 2) $$);
SELECT error_of($$ SELECT segment.silhouette('SELECT id, vec FROM good') $$);
SELECT error_of($$ SELECT segment.silhouette('SELECT id, vec, cluster::text FROM good') $$);
SELECT error_of($$ SELECT segment.silhouette('SELECT id, vec, 1 FROM good') $$);
SELECT error_of($$ SELECT segment.davies_bouldin('SELECT id, vec, id FROM good') $$);
-- bad rows, named by their id
SELECT error_of($$ SELECT segment.kmeans_fit('SELECT id, CASE WHEN id = 7 THEN NULL ELSE vec END FROM good', 2) $$);
SELECT error_of($$ SELECT segment.kmeans_fit('SELECT id, CASE WHEN id = 7 THEN ''{1,NULL}'' ELSE vec END FROM good', 2) $$);
SELECT error_of($$ SELECT segment.kmeans_fit('SELECT id, CASE WHEN id = 7 THEN ''{1,NaN}'' ELSE vec END FROM good', 2) $$);
SELECT error_of($$ SELECT segment.kmeans_fit('SELECT id, CASE WHEN id = 7 THEN ''{1,-Infinity}'' ELSE vec END FROM good', 2) $$);
SELECT error_of($$ SELECT segment.kmeans_fit('SELECT id, CASE WHEN id = 7 THEN ''{1,2,3}'' ELSE vec END FROM good', 2) $$);
SELECT error_of($$ SELECT segment.kmeans_fit('SELECT id, CASE WHEN id = 7 THEN ''{{1,2},{3,4}}'' ELSE vec END FROM good', 2) $$);
SELECT error_of($$ SELECT segment.kmeans_fit('SELECT id, CASE WHEN id = 1 THEN ''{}'' ELSE vec END FROM good', 2) $$);
SELECT error_of($$ SELECT segment.kmeans_fit('SELECT NULL::int, vec FROM good', 2) $$);
SELECT error_of($$ SELECT segment.silhouette('SELECT id, vec, CASE WHEN id = 4 THEN NULL ELSE cluster END FROM good') $$);
SELECT error_of($$ SELECT * FROM segment.silhouette_samples('SELECT id, vec, cluster + 5000000000 FROM good') $$);
-- the memory need is checked against maintenance_work_mem before it is taken
SET maintenance_work_mem = '1MB';
SELECT error_of($$ SELECT segment.kmeans_fit('SELECT i, ARRAY[i, i, i, i, i, i, i, i]::float8[] FROM generate_series(1, 20000) AS i', 2) $$);
RESET maintenance_work_mem;
-- vector arguments and models
SELECT error_of($$ SELECT segment.scale('{1,2,3}', segment.scaler_fit(vec)) FROM good $$);
SELECT error_of($$ SELECT segment.scale('{1,NaN}', segment.scaler_fit(vec)) FROM good $$);
SELECT error_of($$ SELECT segment.scale('{1,2}', ROW(1, '{0,0}', '{1,0}')::segment.scaler) $$);
SELECT error_of($$ SELECT segment.scaler_fit(v) FROM (VALUES ('{1,2}'::float8[]), ('{1}')) AS t (v) $$);
SELECT error_of($$ SELECT segment.scaler_fit(v) FROM (VALUES ('{{1,2},{3,4}}'::float8[])) AS t (v) $$);
SELECT error_of($$ SELECT segment.one_hot('a', '{{a,b},{c,d}}') $$);
-- categories must be distinct and not NULL: a repeat or a NULL would make
-- a column that can never be 1, or two columns for one value
SELECT error_of($$ SELECT segment.one_hot('a', '{a,NULL,b}') $$);
SELECT error_of($$ SELECT segment.one_hot('a', '{a,b,a}') $$);
SELECT error_of($$ SELECT segment.one_hot(NULL, '{x,y,x}') $$);
SELECT error_of($$ SELECT segment.kmeans_assign('{1,2,3}', segment.kmeans_fit('SELECT id, vec FROM good', 2)) $$);
SELECT error_of($$ SELECT segment.kmeans_assign('{1,2}', ROW(2, 2, '{1,2,3,4}', 0, 1, 1, 0)::segment.kmeans_model) $$);
SELECT error_of($$ SELECT segment.kmeans_assign('{1,2}', ROW(3, 2, '{{1,2},{3,4}}', 0, 1, 1, 0)::segment.kmeans_model) $$);
SELECT error_of($$ SELECT segment.kmeans_distance('{1,2}', ROW(1, 2, NULL, 0, 1, 1, 0)::segment.kmeans_model) $$);
SELECT error_of($$ SELECT segment.pca_transform('{1}', segment.pca_fit('SELECT id, vec FROM good', 1)) $$);
SELECT error_of($$ SELECT segment.pca_transform('{1,2}', ROW('{0,0}', '{{1,0,0}}', '{1}', '{1}')::segment.pca_model) $$);
-- NULL arguments give NULL (the functions are strict)
SELECT segment.kmeans_fit(NULL, 2) IS NULL AS null_source, segment.kmeans_assign(NULL, NULL) IS NULL AS null_vector,
	segment.silhouette('SELECT id, vec, cluster FROM good', NULL) IS NOT NULL AS null_sample_is_exact;
-- magnitudes: elements beyond 1e100 are refused (their squared distances
-- could overflow), instead of an infinite inertia or a scale of 1; a column
-- whose standard deviation is below 10 eps is constant, as in scikit-learn
SELECT error_of($$ SELECT segment.kmeans_fit('SELECT i, ARRAY[i * 1e200::float8, 0] FROM generate_series(1, 10) i', 2) $$);
SELECT error_of($$ SELECT segment.silhouette('SELECT i, ARRAY[i * 1e200::float8], i % 2 + 1 FROM generate_series(1, 10) i') $$);
SELECT error_of($$ SELECT segment.scaler_fit(v) FROM (VALUES ('{0}'::float8[]), ('{1e160}'), ('{2e160}')) AS t (v) $$);
SELECT error_of($$ SELECT segment.kmeans_assign('{1,2}', ROW(2, 2, '{{1e200,0},{0,0}}', 0, 0, 1, 0)::segment.kmeans_model) $$);
SELECT segment.scaler_fit(v) FROM (VALUES ('{0}'::float8[]), ('{1e-170}'), ('{2e-170}')) AS t (v);
SELECT (segment.scaler_fit(v)).scale FROM (VALUES ('{0}'::float8[]), ('{1e90}'), ('{2e90}')) AS t (v);
