#!/usr/bin/env bash
# test/replication/subscriber.sh: a segmentation's whole life replicates to a
# real subscriber.  The publisher is the cluster the script runs in (it needs
# wal_level = logical): a database of its own with a publication FOR ALL
# TABLES, a source table of invoice lines (the customers below 13500, with a
# primary key, as a published source needs one for its deletes) and a
# segmentation with k = 4 made by an ordinary role.  The subscriber is a
# second cluster the script makes (initdb, listening on loopback only,
# stopped and removed at exit): logical replication carries no DDL, so the
# segmentation is made first, the publisher's schema goes to the subscriber
# with pg_dump --schema-only and a subscription copies the rows.  Then, on
# the publisher: a refit after a new customer's first invoice; an
# assign-only refresh after customers left, others lost lines and the new
# one came back; set_label; trim_history; a refit after more changes;
# drop_segmentation.  After each step, once the subscriber has caught up,
# every table of the segmentation and both registry tables must equal the
# publisher's row for row (after the drop: the registry row and its scores
# are gone there too), and the subscriber must have applied it all without
# an error.  (Not tested, as they stop the subscription until the DBA acts:
# a segmentation made while the subscription exists, whose schema the
# subscriber lacks, and one made again under the name of a dropped one,
# whose old tables the subscriber keeps.)  Run by tools/run-tests.sh inside
# the test cluster; prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 1
publisher=segment_publisher
subscriber=segment_subscriber
publication=segment_everything
subscription=segment_replica
owner=regress_segment_replica_owner
bindir=$("${PG_CONFIG:-pg_config}" --bindir)
work=$(mktemp -d)
subscriber_port=
timeout=60

. test/tap.sh
# the servers run as postgres when the script runs as root
[ "$(id -u)" -eq 0 ] && chown postgres "$work"
# pub / sub [PSQL ARGUMENTS]: psql on the publisher's or the subscriber's
# database (SQL on standard input when no -c)
pub() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$publisher" "$@"; }
sub() { psql -X -q -At -v ON_ERROR_STOP=1 -h "$work" -p "$subscriber_port" -U "$superuser" -d "$subscriber" "$@"; }
# poll pub|sub SQL: wait until SQL returns true, at most $timeout seconds
poll() {
	local deadline=$((SECONDS + timeout))
	while [ $SECONDS -lt $deadline ]; do
		[ "$("$1" -c "$2" 2>/dev/null)" = t ] && return 0
		sleep 0.2
	done
	return 1
}
# caught_up: the subscription has applied everything the publisher has
# written so far (its apply worker streams and reports a later position)
caught_up() {
	local lsn
	lsn=$(pub -c "SELECT pg_current_wal_lsn()")
	poll pub "SELECT coalesce(bool_and(replay_lsn >= '$lsn'), false) FROM pg_stat_replication
		WHERE application_name = '$subscription' AND state = 'streaming'"
}
# contents pub|sub: the registry rows of the segmentation and every table of
# it, one line each (rows, md5 of the rows sorted as text)
contents() {
	"$1" <<'SQL'
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SELECT 'segment.segmentations: ' || count(*) || ' rows, md5 ' || md5(coalesce(string_agg(s::text, E'\n' ORDER BY s::text COLLATE "C"), ''))
FROM segment.segmentations s;
SELECT 'segment.segmentation_scores: ' || count(*) || ' rows, md5 ' || md5(coalesce(string_agg(s::text, E'\n' ORDER BY s::text COLLATE "C"), ''))
FROM segment.segmentation_scores s;
SELECT format('SELECT %L || count(*) || '' rows, md5 '' || md5(coalesce(string_agg(x::text, E''\n'' ORDER BY x::text COLLATE "C"), '''')) FROM %I.%I x',
		s.name || '.' || t.result_table || ': ', s.name, t.result_table)
FROM segment.segmentations s, segment.segmentation_tables() t ORDER BY s.name, t.result_table
\gexec
SQL
}
# same STEP: after the step the subscriber catches up and holds the
# publisher's rows in the registry and in every table of the segmentation
same() {
	if ! caught_up; then
		ok f "$1: the subscriber catches up within $timeout s"
		return
	fi
	contents pub > "$work/publisher.txt" 2>&1
	contents sub > "$work/subscriber.txt" 2>&1
	if [ "$(grep -c ' rows, md5 ' "$work/publisher.txt")" -eq 12 ] && cmp -s "$work/publisher.txt" "$work/subscriber.txt"; then
		ok t "$1: every table of the segmentation and both registry tables equal the publisher's row for row"
	else
		ok f "$1: every table of the segmentation and both registry tables equal the publisher's row for row"
		diff "$work/publisher.txt" "$work/subscriber.txt" | head -n 20 | sed 's/^/# /'
	fi
}
# step DESCRIPTION: run standard input on the publisher, then compare
step() {
	if ! pub > "$work/step.log" 2>&1; then
		ok f "$1: runs on the publisher"
		sed 's/^/# /' "$work/step.log"
		return
	fi
	same "$1"
}

# The publisher's side of a run: its slots (one the subscription could not
# drop), database and role
drop_publisher_side() {
	local deadline=$((SECONDS + 10))
	while [ "$(psql -X -q -At -d postgres -c "SELECT count(*) FROM pg_replication_slots WHERE database = '$publisher'" 2>/dev/null)" != 0 ] &&
		[ $SECONDS -lt $deadline ]; do
		psql -X -q -At -d postgres -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
			WHERE database = '$publisher' AND NOT active" > /dev/null 2>&1
		sleep 0.2
	done
	dropdb --if-exists --force "$publisher" > /dev/null 2>&1
	psql -X -q -d postgres -c "DROP ROLE IF EXISTS $owner" > /dev/null 2>&1
}
# At exit, even after a failure: the subscription (its DROP drops its slot
# on the publisher; one that cannot reach the publisher leaves the slot to
# drop_publisher_side), the subscriber cluster, the publisher's side
cleanup() {
	if [ -n "$subscriber_port" ] && [ -f "$work/data/postmaster.pid" ]; then
		sub -c "DROP SUBSCRIPTION IF EXISTS $subscription" > /dev/null 2>&1 ||
			sub -c "ALTER SUBSCRIPTION $subscription DISABLE" -c "ALTER SUBSCRIPTION $subscription SET (slot_name = NONE)" \
				-c "DROP SUBSCRIPTION $subscription" > /dev/null 2>&1
		as_server_owner "$bindir/pg_ctl" -D "$work/data" -m fast -w stop > /dev/null 2>&1
	fi
	drop_publisher_side
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

echo "1..15"
wal_level=$(psql -X -q -At -d postgres -c "SHOW wal_level")
if [ "$wal_level" != logical ]; then
	ok f "the publisher has wal_level = logical (it has ${wal_level:-no answer}: start the cluster with -o wal_level=logical)"
	exit 1
fi
ok t "the publisher has wal_level = logical"
superuser=$(psql -X -q -At -d postgres -c "SELECT current_user")

# The publisher: the source, the publication, the segmentation (before the
# subscription: its tables must exist on the subscriber first)
drop_publisher_side
createdb "$publisher"
pub > "$work/setup.log" 2>&1 <<SQL || { echo "Bail out! could not set up the publisher"; sed 's/^/# /' "$work/setup.log"; exit 1; }
SET client_min_messages = warning;
CREATE EXTENSION segment;
\i data/load.sql
CREATE TABLE shop_lines (
	line_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	invoice_no text NOT NULL,
	invoice_date timestamp NOT NULL,
	quantity integer NOT NULL,
	unit_price numeric NOT NULL,
	customer_id integer,
	country text
);
INSERT INTO shop_lines (invoice_no, invoice_date, quantity, unit_price, customer_id, country)
	SELECT invoice_no, invoice_date, quantity, unit_price, customer_id, country FROM invoices
	WHERE customer_id < 13500 ORDER BY invoice_date, invoice_no, customer_id;
DROP TABLE invoices;
CREATE ROLE $owner;
GRANT SELECT ON shop_lines TO $owner;
GRANT CREATE ON DATABASE $publisher TO $owner;
CREATE PUBLICATION $publication FOR ALL TABLES;
SET ROLE $owner;
SELECT segment.create_segmentation('shop', 'shop_lines', k => 4);
SQL

# The subscriber: a cluster of its own on a free port of loopback
subscriber_port=$((${PGPORT:-5432} + 1))
while (exec 3<> "/dev/tcp/127.0.0.1/$subscriber_port") 2> /dev/null; do
	subscriber_port=$((subscriber_port + 1))
done
if as_server_owner "$bindir/initdb" -D "$work/data" -U "$superuser" --auth=trust --no-sync -E UTF8 --no-locale > "$work/initdb.log" 2>&1 &&
	as_server_owner "$bindir/pg_ctl" -D "$work/data" -l "$work/subscriber.log" -w -t 60 \
		-o "-p $subscriber_port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work -c fsync=off" start > "$work/start.log" 2>&1; then
	ok t "the subscriber cluster starts on port $subscriber_port of loopback"
else
	ok f "the subscriber cluster starts on port $subscriber_port of loopback"
	cat "$work/initdb.log" "$work/start.log" "$work/subscriber.log" 2> /dev/null | tail -n 20 | sed 's/^/# /'
	subscriber_port=
	exit 1
fi

# The publisher's schema (the segmentation's tables, the extension and its
# registry), without the publication, in a database of the subscriber; the
# roles that own objects there first
"$bindir/pg_dump" --schema-only --no-publications --no-subscriptions -f "$work/schema.sql" "$publisher" 2> "$work/schema.log" &&
	psql -X -q -v ON_ERROR_STOP=1 -h "$work" -p "$subscriber_port" -U "$superuser" -d postgres \
		-c "CREATE ROLE $owner" -c "CREATE DATABASE $subscriber" >> "$work/schema.log" 2>&1 &&
	sub -f "$work/schema.sql" >> "$work/schema.log" 2>&1
status=$?
ok "$([ $status -eq 0 ] && echo t)" "the publisher's schema (pg_dump --schema-only) loads into the subscriber"
[ $status -eq 0 ] || sed 's/^/# /' "$work/schema.log"

# The subscription: the initial copy of every table
conninfo="host=127.0.0.1 port=${PGPORT:-5432} dbname=$publisher user=$superuser"
if [ -n "${PGPASSWORD:-}" ]; then
	password=${PGPASSWORD//\\/\\\\}
	conninfo="$conninfo password='${password//\'/\\\'}'"
fi
sub -v conninfo="$conninfo" > "$work/subscribe.log" 2>&1 <<SQL
CREATE SUBSCRIPTION $subscription CONNECTION :'conninfo' PUBLICATION $publication WITH (copy_data = true);
SQL
status=$?
if [ $status -eq 0 ] && poll sub "SELECT count(*) > 0 AND count(*) FILTER (WHERE srsubstate NOT IN ('r', 's')) = 0
	FROM pg_subscription_rel r JOIN pg_subscription s ON s.oid = r.srsubid WHERE s.subname = '$subscription'"; then
	ok t "the subscription copies every published table (all synchronized within $timeout s)"
else
	ok f "the subscription copies every published table (all synchronized within $timeout s)"
	sed 's/^/# /' "$work/subscribe.log"
	sub -c "SELECT r.srrelid::regclass, r.srsubstate FROM pg_subscription_rel r WHERE r.srsubstate NOT IN ('r', 's')" 2>&1 | sed 's/^/# /'
	grep -E 'ERROR|FATAL' "$work/subscriber.log" | head -n 10 | sed 's/^/# /'
fi
same "after the initial copy"

# The life of the segmentation on the publisher: only DML from here on
step "a refit after a new customer's first invoice" <<SQL
INSERT INTO shop_lines (invoice_no, invoice_date, quantity, unit_price, customer_id, country) VALUES
	('900001', '2011-12-12 10:00', 12, 2.55, 99001, 'United Kingdom'),
	('900001', '2011-12-12 10:00', 6, 4.95, 99001, 'United Kingdom');
SET ROLE $owner;
SELECT segment.refresh_segmentation('shop');
SQL

step "an assign-only refresh after three customers left, others lost lines and the new customer came back" <<SQL
DELETE FROM shop_lines WHERE customer_id IN (12347, 12348, 12349);
DELETE FROM shop_lines WHERE customer_id BETWEEN 12350 AND 12500 AND invoice_date < '2011-06-01';
INSERT INTO shop_lines (invoice_no, invoice_date, quantity, unit_price, customer_id, country) VALUES
	('900002', '2011-12-16 11:30', 24, 1.25, 99001, 'United Kingdom');
SET ROLE $owner;
SELECT segment.refresh_segmentation('shop', refit => false);
SQL
moved=$(sub -c "SELECT (SELECT count(*) FROM shop.assignments WHERE customer_id = 99001 AND cluster IS NOT NULL)
	|| ',' || (SELECT count(*) FROM shop.features WHERE customer_id IN (12347, 12348, 12349))
	|| ',' || (SELECT count(*) FROM shop.history WHERE customer_id IN (12347, 12348, 12349) AND valid_to IS NULL)
	|| ',' || (SELECT count(DISTINCT customer_id) FROM shop.history WHERE customer_id IN (12347, 12348, 12349))" 2>&1)
ok "$([ "$moved" = "1,0,0,3" ] && echo t)" \
	"on the subscriber the new customer has a segment, and the three who left no features and only closed history rows ($moved)"

step "set_label" <<SQL
SET ROLE $owner;
SELECT segment.set_label('shop', 1, 'replicated regulars');
SQL

closed=$(pub -c "SELECT count(*) FROM shop.history WHERE valid_to IS NOT NULL")
step "trim_history" <<SQL
SET ROLE $owner;
SELECT segment.trim_history('shop', '0 seconds');
SQL
trimmed=$(tail -n 1 "$work/step.log")
kept=$(pub -c "SELECT count(*) FROM shop.history WHERE valid_to IS NOT NULL")
left=$(sub -c "SELECT count(*) FROM shop.history WHERE valid_to IS NOT NULL" 2>&1)
ok "$([ "$trimmed" -gt 0 ] 2> /dev/null && [ $((closed - kept)) = "$trimmed" ] && [ "$left" = "$kept" ] && echo t)" \
	"trim_history deleted $trimmed of the $closed closed history rows on the publisher, and the subscriber has the $left others"

step "a refit after more changes to the source" <<SQL
DELETE FROM shop_lines WHERE customer_id BETWEEN 12600 AND 12700 AND quantity < 6;
INSERT INTO shop_lines (invoice_no, invoice_date, quantity, unit_price, customer_id, country) VALUES
	('900003', '2011-12-20 09:15', 48, 0.85, 99001, 'United Kingdom'),
	('900004', '2011-12-20 12:00', 3, 12.75, 99002, 'France');
SET ROLE $owner;
SELECT segment.refresh_segmentation('shop');
SQL

# drop_segmentation: the schema goes on the publisher only (DDL), the
# registry row and its scores go on both (DML)
pub > "$work/drop.log" 2>&1 <<SQL
SET ROLE $owner;
SELECT segment.drop_segmentation('shop');
SQL
status=$?
if [ $status -ne 0 ]; then
	ok f "drop_segmentation: runs on the publisher"
	sed 's/^/# /' "$work/drop.log"
elif ! caught_up; then
	ok f "drop_segmentation: the subscriber catches up within $timeout s"
else
	left=$(sub -c "SELECT (SELECT count(*) FROM segment.segmentations) || ',' || (SELECT count(*) FROM segment.segmentation_scores)" 2>&1)
	ok "$([ "$left" = "0,0" ] && echo t)" "drop_segmentation: the registry row and its scores are gone on the subscriber too ($left left)"
	if [ "$(sub -c "SELECT to_regclass('shop.profiles') IS NOT NULL" 2>&1)" = t ]; then
		echo "# the subscriber keeps schema shop and its tables: DDL is not replicated"
	fi
fi

errors=$(sub -c "SELECT apply_error_count || ',' || sync_error_count FROM pg_stat_subscription_stats WHERE subname = '$subscription'" 2>&1)
logged=$(grep -c 'ERROR' "$work/subscriber.log")
ok "$([ "$errors" = "0,0" ] && [ "$logged" -eq 0 ] && echo t)" \
	"the subscriber applied everything without an error (apply and sync errors: $errors; ERROR lines in its log: $logged)"
[ "$logged" -eq 0 ] || grep 'ERROR' "$work/subscriber.log" | head -n 10 | sed 's/^/# /'

ok "$([ "$test_number" -eq 14 ] && echo t)" "every step ran"
