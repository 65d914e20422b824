#!/usr/bin/env bash
# tools/bench.sh (make bench): benchmarks on the bundled data in a throwaway
# cluster.  Each query runs RUNS times (default 7), interleaved with the
# others, in one backend; the medians and their ratios are printed and
# checked against the targets.  Exits non-zero when a target is missed.
cd "$(dirname "$0")/.."
. tools/common.sh
install_packages bench
build_and_install
export BENCH_RUNS="${RUNS:-7}"
pg_virtualenv -v "$PG_MAJOR" sh -c '
	psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION segment" -f data/load.sql -f test/reference/features_plain.sql >/dev/null &&
	psql -X -v ON_ERROR_STOP=1 -v runs="$BENCH_RUNS" -f tools/bench.sql'
