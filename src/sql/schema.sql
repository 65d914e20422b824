/* src/sql/schema.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION segment" to load this file. \quit

-- The schema of the extension: DROP EXTENSION removes it with everything in it
CREATE SCHEMA segment;
COMMENT ON SCHEMA segment IS 'segment: customer segmentation in the database';
GRANT USAGE ON SCHEMA segment TO PUBLIC;
