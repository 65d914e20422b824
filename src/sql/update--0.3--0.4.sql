/* src/sql/update--0.3--0.4.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION segment UPDATE TO '0.4'" to load this file. \quit

-- The update from 0.3: this file, then owner.sql and the files of the
-- pipeline layer, which create or replace the functions of 0.4.
--
-- 0.3 switched to a segmentation's owner with SET ROLE, which the owner's
-- own code could undo: its replacement, segment.execute_as_owner, runs the
-- owner's work security-restricted.
DROP FUNCTION segment.become_owner(text, oid);

-- History is kept in the data's time (the refreshes' as_of), the clock on
-- the wall beside it: the registry records the time history runs to, and
-- record_history takes both times
ALTER TABLE segment.segmentations ADD COLUMN history_as_of timestamp;
COMMENT ON COLUMN segment.segmentations.history_as_of IS 'the data''s time history runs to: the latest as_of of the refreshes (it does not go back when the latest line is deleted)';
DROP FUNCTION segment.record_history(text, timestamptz);
