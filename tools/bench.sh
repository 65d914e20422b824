#!/usr/bin/env bash
# tools/bench.sh (make bench): benchmarks on the bundled data in a throwaway
# cluster.  Each query runs RUNS times (default 5), interleaved with the
# others, in one backend, after a warm-up; medians and ratios are printed and
# checked against the targets.  The 100,000-row synthetic benchmarks run
# RUNS_LARGE times (default 3), the whole pipeline RUNS_PIPELINE times
# (default 3).  SCALE=n runs the scale benchmark instead, on n copies of the
# bundled data (SCALE=25: 13.5 million lines, 109,000 customers).  Exits
# non-zero when a target is missed.
cd "$(dirname "$0")/.."
. tools/common.sh
install_packages bench
build_and_install
export BENCH_RUNS="${RUNS:-5}" BENCH_RUNS_LARGE="${RUNS_LARGE:-3}" BENCH_PIPELINE_RUNS="${RUNS_PIPELINE:-3}"
export BENCH_DIR="$(mktemp -d)"
trap 'rm -rf "$BENCH_DIR"' EXIT
if [ "${SCALE:-1}" -gt 1 ]; then
	# SCALE=n: the scale benchmark alone, on n copies of the bundled data
	export BENCH_SCALE="$SCALE"
	exec pg_virtualenv -v "$PG_MAJOR" -o maintenance_work_mem=512MB -o work_mem=64MB sh -c '
		psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION segment" -f data/load.sql >/dev/null &&
		psql -X -v ON_ERROR_STOP=1 -v scale="$BENCH_SCALE" -f tools/bench_scale.sql'
fi
pg_virtualenv -v "$PG_MAJOR" sh -c '
	psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION segment" -f data/load.sql -f test/reference/features_plain.sql >/dev/null || exit 1
	status=0
	psql -X -v ON_ERROR_STOP=1 -v runs="$BENCH_RUNS" -f tools/bench.sql || status=1
	echo
	echo "clustering: segment in one backend and scikit-learn in one Python process, interleaved, on the same matrices; median of $BENCH_RUNS runs ($BENCH_RUNS_LARGE at 100,000 rows)"
	psql -X -q -v ON_ERROR_STOP=1 -v dir="$BENCH_DIR" -f tools/bench_clustering.sql || exit 1
	# numpy as its users run it: OpenBLAS picks its kernel for the CPU (a
	# core-type pin in the environment would hold a current numpy back)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 tools/bench_sklearn.py \
		"$BENCH_DIR" "$BENCH_RUNS" "$BENCH_RUNS_LARGE" || status=1
	# the aggregate forms next to the text forms, on the same 100,000 rows
	psql -X -q -v ON_ERROR_STOP=1 -v runs="$BENCH_RUNS_LARGE" -f tools/bench_aggregates.sql || status=1
	echo
	echo "pipeline: segment in one backend; the notebook (pandas + scikit-learn) reads the same table, median of $BENCH_PIPELINE_RUNS runs"
	psql -X -q -v ON_ERROR_STOP=1 -v runs="$BENCH_PIPELINE_RUNS" -v dir="$BENCH_DIR" -f tools/bench_pipeline.sql || exit 1
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 tools/bench_pipeline.py \
		"$BENCH_DIR" "$BENCH_PIPELINE_RUNS" || status=1
	exit $status'
