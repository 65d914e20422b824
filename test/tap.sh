# test/tap.sh: what the shell suites share, sourced from the top of the
# tree after their cd there: one TAP line per check, and running a server
# program as the postgres user when the suite runs as root.
test_number=0
failures=0

# ok CONDITION DESCRIPTION: one TAP line ("t" passes)
ok() {
	test_number=$((test_number + 1))
	if [ "$1" = "t" ]; then
		echo "ok $test_number - $2"
	else
		echo "not ok $test_number - $2"
		failures=$((failures + 1))
	fi
}

# as_server_owner COMMAND...: initdb, pg_ctl and the servers run as postgres
# when the suite runs as root (initdb refuses root)
if [ "$(id -u)" -eq 0 ]; then
	as_server_owner() { (cd / && runuser -u postgres -- "$@"); }
else
	as_server_owner() { "$@"; }
fi
