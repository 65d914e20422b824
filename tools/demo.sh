#!/usr/bin/env bash
# tools/demo.sh (make demo): build and install the extension, load the bundled
# Online Retail data and print the per-customer feature summary.
#
# By default everything happens in a throwaway cluster that is removed at the
# end.  DEMO_DB="<libpq connection string>" runs it in that database instead:
# it creates the extension there if needed, (re)creates table
# segment_demo.invoices and the segmentation "retail" (schema retail); it
# touches nothing else.
cd "$(dirname "$0")/.."
. tools/common.sh
install_packages demo
build_and_install
if [ -n "${DEMO_DB:-}" ]; then
	psql -X -v ON_ERROR_STOP=1 -d "$DEMO_DB" -f tools/demo.sql
else
	pg_virtualenv -v "$PG_MAJOR" psql -X -v ON_ERROR_STOP=1 -f tools/demo.sql
fi
