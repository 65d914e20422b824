-- tools/value_holdout.sql, the README's out-of-sample table of the
-- customer-value models (CDNOW and Online Retail, fitted on a calibration
-- period, against the purchases of the holdout), run as a user runs it but
-- without its fit times: what it prints stays what the README quotes
\set timings off
\i tools/value_holdout.sql
