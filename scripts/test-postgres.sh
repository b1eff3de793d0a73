#!/usr/bin/env bash
# Run pytest against PostgreSQL 15.
#
#   scripts/test-postgres.sh [pytest args...]
#   scripts/test-postgres.sh --exec COMMAND [args...]   # any command instead of pytest
#
# Which server is used, first match wins:
#   0. XINFANG_PG_THROWAWAY=1  -> always a throwaway cluster (skips 1 and 2; for checking path 3)
#   1. DATABASE_URL            -> used as given
#   2. a server answering on 127.0.0.1:5432 (pg_isready)
#                              -> postgres://postgres@127.0.0.1:5432/xinfang (trust auth)
#   3. otherwise               -> a throwaway cluster started here from the PostgreSQL 15 server
#                                 binaries (initdb/pg_ctl), on a free port of 127.0.0.1, trust
#                                 auth, data in a mktemp dir; stopped and deleted on exit.
#
# The command runs with DATABASE_URL exported. pytest-django creates and drops the
# test_<name> database itself, so the named database need not exist on servers 1 and 2.
#
# Knobs: XINFANG_PG_BINDIR (default /usr/lib/postgresql/15/bin), XINFANG_PG_PORT (first port
# tried for the throwaway cluster, default 55432), XINFANG_PG_OS_USER (OS user that owns the
# throwaway cluster when running as root, default xinfangpg).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

PG_BINDIR="${XINFANG_PG_BINDIR:-/usr/lib/postgresql/15/bin}"
PG_OS_USER="${XINFANG_PG_OS_USER:-xinfangpg}"
LOCAL_HOST=127.0.0.1
LOCAL_PORT=5432

log() { echo "test-postgres: $*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}

# The command to run once DATABASE_URL is set.
if [[ "${1:-}" == "--exec" ]]; then
	shift
	[[ $# -gt 0 ]] || die "--exec needs a command"
	cmd=("$@")
else
	[[ -x .venv/bin/pytest ]] || die ".venv/bin/pytest not found; run 'make venv' first"
	cmd=(.venv/bin/pytest "$@")
fi

# A client binary: from PATH (Debian's wrappers in /usr/bin), else from the server bindir.
pg_tool() {
	if command -v "$1" >/dev/null 2>&1; then
		command -v "$1"
	elif [[ -x "$PG_BINDIR/$1" ]]; then
		echo "$PG_BINDIR/$1"
	else
		return 1
	fi
}

# True if something (PostgreSQL or not) accepts TCP connections on 127.0.0.1:$1.
port_in_use() {
	(exec 3<>"/dev/tcp/$LOCAL_HOST/$1") 2>/dev/null
}

# --- throwaway cluster ------------------------------------------------------------------------
pg_tmp=""
pg_data=""
run_as=() # prefix that runs the server binaries as a non-root user when we are root

# shellcheck disable=SC2317 # only called from the EXIT trap
pg_ctl_stop() { # $1: shutdown mode
	(cd "$pg_tmp" && "${run_as[@]}" "$PG_BINDIR/pg_ctl" -D "$pg_data" -m "$1" -w -t 30 stop) >/dev/null
}

# EXIT trap (shellcheck cannot see that it is called).
# shellcheck disable=SC2317
stop_throwaway() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ -n "$pg_data" && -f "$pg_data/postmaster.pid" ]]; then
		log "stopping throwaway cluster"
		if ! pg_ctl_stop fast && ! pg_ctl_stop immediate; then
			# Leave the directory: deleting it under a running server helps nobody.
			log "WARNING: could not stop the throwaway cluster; left in $pg_tmp"
			exit "$rc"
		fi
	fi
	if [[ -n "$pg_tmp" ]]; then
		rm -rf "$pg_tmp"
	fi
	exit "$rc"
}

start_throwaway() {
	if [[ ! -x "$PG_BINDIR/initdb" || ! -x "$PG_BINDIR/pg_ctl" ]]; then
		die "no PostgreSQL server reachable and no server binaries in $PG_BINDIR.
  Install them (Debian: apt-get install postgresql-15), start a server on 127.0.0.1:5432,
  or set DATABASE_URL=postgres://user:pass@host:5432/db. PostgreSQL tests are not skipped."
	fi

	# initdb and postgres refuse to run as root: use a dedicated system user instead.
	if [[ "$(id -u)" == 0 ]]; then
		if ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
			log "creating system user $PG_OS_USER to own the throwaway cluster"
			useradd --system --no-create-home --home-dir /nonexistent \
				--shell /usr/sbin/nologin "$PG_OS_USER"
		fi
		run_as=(runuser -u "$PG_OS_USER" --)
		# /tmp rather than $TMPDIR: the server user must be able to reach the directory.
		pg_tmp="$(mktemp -d /tmp/xinfang-pg.XXXXXX)"
		chown "$PG_OS_USER:" "$pg_tmp"
	else
		pg_tmp="$(mktemp -d "${TMPDIR:-/tmp}/xinfang-pg.XXXXXX")"
	fi
	pg_data="$pg_tmp/data"
	trap stop_throwaway EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	local port="${XINFANG_PG_PORT:-55432}" last
	last=$((port + 100))
	while port_in_use "$port"; do
		port=$((port + 1))
		[[ $port -lt $last ]] || die "no free port between ${XINFANG_PG_PORT:-55432} and $last"
	done

	log "starting throwaway PostgreSQL ($PG_BINDIR) on $LOCAL_HOST:$port, data in $pg_data"
	# The subshells cd into pg_tmp so the server user never needs access to the work tree.
	(cd "$pg_tmp" && "${run_as[@]}" "$PG_BINDIR/initdb" -D "$pg_data" -U postgres \
		--auth=trust --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$pg_tmp/initdb.log" 2>&1) ||
		{
			cat "$pg_tmp/initdb.log" >&2
			die "initdb failed"
		}
	# Durability is pointless for a cluster deleted at exit: turn it off for speed.
	local opts="-c listen_addresses=$LOCAL_HOST -c port=$port -c unix_socket_directories=$pg_tmp"
	opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	(cd "$pg_tmp" && "${run_as[@]}" "$PG_BINDIR/pg_ctl" -D "$pg_data" -l "$pg_tmp/postgres.log" \
		-o "$opts" -w -t 60 start >/dev/null) ||
		{
			tail -n 30 "$pg_tmp/postgres.log" >&2 || true
			die "pg_ctl start failed"
		}

	# Create the named database too, so DATABASE_URL is usable as-is (e.g. with --exec psql).
	local psql
	psql="$(pg_tool psql)" || psql=""
	if [[ -n "$psql" ]]; then
		"$psql" -q -h "$LOCAL_HOST" -p "$port" -U postgres -d postgres \
			-c 'CREATE DATABASE xinfang' >/dev/null
	fi
	export DATABASE_URL="postgres://postgres@$LOCAL_HOST:$port/xinfang"
	log "throwaway cluster up: DATABASE_URL=$DATABASE_URL"
}

# --- choose the server --------------------------------------------------------------------
if [[ "${XINFANG_PG_THROWAWAY:-0}" == 1 ]]; then
	log "XINFANG_PG_THROWAWAY=1: using a throwaway cluster"
	start_throwaway
elif [[ -n "${DATABASE_URL:-}" ]]; then
	log "using DATABASE_URL from the environment"
elif pg_isready="$(pg_tool pg_isready)" && "$pg_isready" -q -h "$LOCAL_HOST" -p "$LOCAL_PORT"; then
	export DATABASE_URL="postgres://postgres@$LOCAL_HOST:$LOCAL_PORT/xinfang"
	log "using the local server on $LOCAL_HOST:$LOCAL_PORT (user postgres, trust auth)"
	# Fail early with a clear message if that server wants a password for user postgres.
	if psql="$(pg_tool psql)" &&
		! "$psql" -w -q -h "$LOCAL_HOST" -p "$LOCAL_PORT" -U postgres -d postgres \
			-c 'select 1' >/dev/null 2>&1; then
		die "the server on $LOCAL_HOST:$LOCAL_PORT does not let user postgres in without a password.
  Set DATABASE_URL=postgres://user:pass@$LOCAL_HOST:$LOCAL_PORT/xinfang, or XINFANG_PG_THROWAWAY=1."
	fi
else
	log "no server on $LOCAL_HOST:$LOCAL_PORT; using a throwaway cluster"
	start_throwaway
fi

# Not exec: the EXIT trap must still run to stop a throwaway cluster. The command runs in
# the background (stdin kept) and we wait for it, because bash only runs a signal trap once
# a foreground child has finished; this way a TERM/INT is passed on to it at once.
"${cmd[@]}" <&0 &
child=$!
trap 'kill -TERM "$child" 2>/dev/null || true' INT TERM
rc=0
wait "$child" || rc=$?
# A trapped signal makes `wait` return early: wait again until the child has really exited.
while kill -0 "$child" 2>/dev/null; do
	wait "$child" || rc=$?
done
exit "$rc"
