# tools/common.sh: shared set-up for make test, make demo and make bench.
# Sourced, not run.  Finds the installed PostgreSQL server, installs the
# Debian packages a target needs when they are missing, and builds and
# installs the extension.

set -euo pipefail

# Root runs apt-get and make install directly; other users through sudo.
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi

# The server major: PG_MAJOR if set, else the newest installed server.
if [ -z "${PG_MAJOR:-}" ]; then
	PG_MAJOR=$(ls -d /usr/lib/postgresql/*/bin/postgres 2>/dev/null | sed 's|/usr/lib/postgresql/\([0-9]*\)/.*|\1|' | sort -n | tail -n 1)
fi
if [ -z "$PG_MAJOR" ]; then
	echo "no PostgreSQL server found under /usr/lib/postgresql: install one first (apt-get install postgresql)" >&2
	exit 1
fi
export PG_MAJOR
export PG_CONFIG="/usr/lib/postgresql/$PG_MAJOR/bin/pg_config"

# Debian packages per target (build is part of every target)
packages_for() {
	local build="make gcc postgresql-server-dev-$PG_MAJOR liblapacke-dev"
	case "$1" in
		build|demo) echo "$build" ;;
		test) echo "$build postgresql-$PG_MAJOR-pgtap postgresql-$PG_MAJOR-cron postgresql-contrib libxml2-utils python3-sklearn python3-scipy python3-mpmath python3-pandas odbc-postgresql unixodbc python3-pyodbc libpostgresql-jdbc-java default-jdk-headless" ;;
		bench) echo "$build python3-sklearn python3-pandas python3-psycopg2 libopenblas0-pthread" ;;
		browser) echo "$build chromium python3-pil fonts-dejavu-core" ;;
	esac
}

# Install the packages of a target that are not installed yet
install_packages() {
	local missing=()
	for package in $(packages_for "$1"); do
		if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
			missing+=("$package")
		fi
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "installing missing packages: ${missing[*]}"
		$SUDO apt-get update -qq
		$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
	fi
}

# Build as the current user, install into the server's directories
build_and_install() {
	make -s PG_CONFIG="$PG_CONFIG"
	$SUDO make -s install PG_CONFIG="$PG_CONFIG" >/dev/null
}
