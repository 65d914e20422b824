#!/usr/bin/env bash
# tools/test.sh (make test): install what is missing, build and install the
# extension, then run pg_regress and the pgTAP suite in a throwaway cluster.
cd "$(dirname "$0")/.."
. tools/common.sh
install_packages test
build_and_install
# pg_cron preloaded for the scheduling test; background workers, as a throwaway
# cluster's loopback connections would need a password.  WORKERS=n sets the
# server's max_parallel_maintenance_workers (PostgreSQL's default, 2, unless
# given): the results are the same bits with any number.  wal_level=logical
# for the replication suite, whose subscriber subscribes to this cluster.
pg_virtualenv -v "$PG_MAJOR" -o shared_preload_libraries=pg_cron -o cron.database_name=contrib_regression \
	-o cron.use_background_workers=on -o max_parallel_maintenance_workers="${WORKERS:-2}" -o wal_level=logical tools/run-tests.sh
