#!/usr/bin/env bash
# tools/valgrind-check.sh (make valgrind-check): run regression tests with the
# server under valgrind memcheck and fail on any invalid read or write, or
# use of uninitialised memory, in segment's code.  Slow (valgrind runs the
# server some 30 times slower): VALGRIND_TESTS picks the pg_regress tests, by
# default every one that needs no outside program.
cd "$(dirname "$0")/.."
. tools/common.sh
install_packages test
if ! command -v valgrind > /dev/null; then
	$SUDO apt-get install -y -qq valgrind > /dev/null
fi
build_and_install

tests=${VALGRIND_TESTS:-"load_data features_cases features_errors features_data features_parallel most_frequent clustering_cases clustering_errors pipeline pipeline_value plots fuzz"}
bin=$("$PG_CONFIG" --bindir)
work=$(mktemp -d)
chmod 755 "$work"
# initdb refuses root: the server runs as postgres then
run=""
if [ "$(id -u)" -eq 0 ]; then
	chown postgres "$work"
	run="runuser -u postgres --"
fi
port=54${RANDOM:0:2}
$run "$bin/initdb" -D "$work/data" -A trust -U postgres > /dev/null
$run valgrind --quiet --trace-children=yes --num-callers=30 --error-limit=no --read-var-info=no \
	--log-file="$work/valgrind.%p.log" "$bin/postgres" -D "$work/data" -k "$work" -p "$port" \
	-c listen_addresses='' -c max_parallel_workers_per_gather=2 > "$work/server.log" 2>&1 &
for attempt in $(seq 1 120); do
	"$bin/pg_isready" -q -h "$work" -p "$port" && break
	sleep 1
done
status=0
PGHOST="$work" PGPORT="$port" PGUSER=postgres make -s installcheck PG_CONFIG="$PG_CONFIG" REGRESS="$tests" || status=1
$run "$bin/pg_ctl" -D "$work/data" -m fast stop > /dev/null
sleep 2

# errors whose stack passes through segment's library
segment_errors=0
for log in "$work"/valgrind.*.log; do
	# one valgrind report is a block of lines from its headline to a blank line
	count=$(awk '/^==[0-9]+== (Invalid (read|write)|Conditional jump|Use of uninitialised|Invalid free)/ { block = 1; text = "" }
				 block { text = text $0 "\n" }
				 /^==[0-9]+== $/ && block { if (text ~ /segment\.so/) n++; block = 0 }
				 END { print n + 0 }' "$log")
	if [ "$count" -gt 0 ]; then
		segment_errors=$((segment_errors + count))
		cp "$log" results/ 2>/dev/null
	fi
done
echo "valgrind: $(ls "$work"/valgrind.*.log | wc -l) processes, $segment_errors reports in segment's code"
rm -rf "$work"
[ "$segment_errors" -eq 0 ] && [ "$status" -eq 0 ]
