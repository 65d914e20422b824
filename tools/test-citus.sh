#!/usr/bin/env bash
# tools/test-citus.sh (make test-citus): build and install the extension,
# then run the Citus suite alone; it starts a coordinator and two workers of
# its own and prints one "skipped" line when Citus is not installed (README:
# Running on Citus, for how to build it).
cd "$(dirname "$0")/.."
. tools/common.sh
install_packages test
build_and_install
mkdir -p results
test/citus/citus.sh 2>&1 | tee results/citus.log
grep -q '^skipped: ' results/citus.log && exit 0
! grep -q '^not ok ' results/citus.log && grep -q '^ok [0-9]* - every step ran' results/citus.log
