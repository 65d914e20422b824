#!/usr/bin/env bash
# tools/test.sh (make test): install what is missing, build and install the
# extension, then run pg_regress and the pgTAP suite in a throwaway cluster.
cd "$(dirname "$0")/.."
. tools/common.sh
install_packages test
build_and_install
pg_virtualenv -v "$PG_MAJOR" tools/run-tests.sh
