# test/citus/cluster.sh: a Citus cluster of one's own, sourced by the Citus
# suite (test/citus/citus.sh) and benchmark (tools/bench_citus.sh) from the
# top of the tree after test/tap.sh: a coordinator and two workers, each
# initdb'd into $work with citus preloaded, on free loopback ports, with a
# database "segment_citus" and the citus extension.  citus_cluster_start
# returns non-zero when a node does not come up; citus_cluster_stop stops
# them (the caller removes $work).
citus_nodes="coordinator worker1 worker2"
declare -A citus_port

# on NODE [PSQL ARGUMENTS]: psql on a node's database "segment_citus"
on() {
	local node=$1
	shift
	psql -X -q -At -v ON_ERROR_STOP=1 -h "$work" -p "${citus_port[$node]}" -U "$superuser" -d segment_citus "$@"
}
coordinator() { on coordinator "$@"; }

# citus_cluster_start [SERVER OPTIONS]: start the nodes and join the workers
citus_cluster_start() {
	local next_port=$((${CITUS_PORT:-${PGPORT:-5432}} + 20))
	local started=0
	[ "$(id -u)" -eq 0 ] && chown postgres "$work"
	for node in $citus_nodes; do
		while (exec 3<> "/dev/tcp/127.0.0.1/$next_port") 2> /dev/null; do
			next_port=$((next_port + 1))
		done
		citus_port[$node]=$next_port
		next_port=$((next_port + 1))
		if ! { as_server_owner "$bindir/initdb" -D "$work/$node" -U "$superuser" --auth=trust --no-sync -E UTF8 --no-locale &&
			as_server_owner "$bindir/pg_ctl" -D "$work/$node" -l "$work/$node.log" -w -t 60 \
				-o "-p ${citus_port[$node]} -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work -c fsync=off -c shared_preload_libraries=citus $*" \
				start &&
			psql -X -q -h "$work" -p "${citus_port[$node]}" -U "$superuser" -d postgres -c "CREATE DATABASE segment_citus" &&
			on "$node" -c "CREATE EXTENSION citus"; } > "$work/$node.setup.log" 2>&1; then
			started=1
			cat "$work/$node.setup.log" "$work/$node.log" 2> /dev/null | tail -n 10 | sed 's/^/# /'
		fi
	done
	[ "$started" -eq 0 ] || return 1
	coordinator -c "SELECT citus_set_coordinator_host('127.0.0.1', ${citus_port[coordinator]})" \
		-c "SELECT citus_add_node('127.0.0.1', ${citus_port[worker1]})" -c "SELECT citus_add_node('127.0.0.1', ${citus_port[worker2]})" \
		> "$work/nodes.log" 2>&1
}

# citus_cluster_stop: stop every node that runs
citus_cluster_stop() {
	for node in $citus_nodes; do
		[ -f "$work/$node/postmaster.pid" ] && as_server_owner "$bindir/pg_ctl" -D "$work/$node" -m immediate -w stop > /dev/null 2>&1
	done
}
