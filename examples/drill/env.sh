#!/usr/bin/env bash
# Local targets for the drctl drill: a PostgreSQL primary, a streaming standby, a
# "last good" backup and the demo app (examples/drill_app.rs) pointed at the primary.
#
#   examples/drill/env.sh up DIR [--team]   set everything up under DIR (must not exist or be empty);
#                                           --team adds a third cluster holding drctl's shared
#                                           store (docs/team-mode.md) and exports DRCTL_STORE
#   examples/drill/env.sh down DIR [--purge] stop everything started under DIR; --purge also deletes DIR
#
# `up` writes DIR/env.yaml (a drctl --inputs file) and DIR/env.sh (the same as
# `export` lines, named as the runbooks' inputs read them: `source` it and run).
# Everything listens on 127.0.0.1 only, on free ports.
#
# Environment overrides:
#   DRILL_APP_BIN   use this drill_app binary instead of `cargo build --example drill_app`
#   PG_BIN_DIR      directory holding initdb, pg_ctl, pg_basebackup, psql, pg_dump, pg_restore
#   DRILL_ORDERS    number of seeded orders (default 100)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
readonly SCRIPT_DIR REPO_ROOT
readonly PG_TOOLS=(initdb pg_ctl postgres pg_basebackup psql pg_dump pg_restore)
readonly MARKER=".drctl-drill"

log() { printf 'drill: %s\n' "$*" >&2; }
die() {
	printf 'drill: error: %s\n' "$*" >&2
	exit 1
}

usage() {
	cat >&2 <<'EOF'
usage: env.sh up DIR [--team]
       env.sh down DIR [--purge]
EOF
	exit 2
}

# Postgres refuses to run as root; when we are root every server-side command runs
# as the postgres user, on directories it owns.
as_pg() {
	if [[ $EUID -eq 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# One directory holding every tool, so the reported pg_bin_dir is consistent:
# the directories of tools on PATH first (symlinks resolved), then the newest
# /usr/lib/postgresql/*/bin.
find_pg_bin_dir() {
	if [[ -n "${PG_BIN_DIR:-}" ]]; then
		has_all_tools "$PG_BIN_DIR" || die "PG_BIN_DIR=$PG_BIN_DIR lacks one of: ${PG_TOOLS[*]}"
		printf '%s\n' "$PG_BIN_DIR"
		return
	fi
	local candidates=() tool path dir
	for tool in "${PG_TOOLS[@]}"; do
		if path="$(command -v "$tool")"; then
			candidates+=("$(dirname "$(readlink -f "$path")")" "$(dirname "$path")")
		fi
	done
	while IFS= read -r dir; do
		candidates+=("$dir")
	done < <(compgen -G '/usr/lib/postgresql/*/bin' | sort -t/ -k5,5 -V -r)
	for dir in "${candidates[@]}"; do
		if has_all_tools "$dir"; then
			printf '%s\n' "$dir"
			return
		fi
	done
	die "no directory holds all of ${PG_TOOLS[*]}; install PostgreSQL or set PG_BIN_DIR"
}

has_all_tools() {
	local tool
	for tool in "${PG_TOOLS[@]}"; do
		[[ -x "$1/$tool" ]] || return 1
	done
}

# Sets PORT to a port nobody listens on now and that was not handed out before
# (a global, not stdout: a $(...) subshell could not remember what it handed out).
free_port() {
	local port taken p
	for _ in $(seq 1 50); do
		if command -v python3 >/dev/null 2>&1; then
			port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
		else
			port=$((20000 + RANDOM % 40000))
		fi
		taken=0
		for p in "${USED_PORTS[@]}"; do
			[[ "$p" == "$port" ]] && taken=1
		done
		if ((taken == 0)) && ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			USED_PORTS+=("$port")
			PORT="$port"
			return
		fi
	done
	die "could not find a free port on 127.0.0.1"
}

# Hex only, so it needs no quoting in URLs, SQL or YAML.
random_secret() {
	od -An -N16 -tx1 /dev/urandom | tr -d ' \n'
}

# Remembered as we go, so `down` can stop whatever `up` got to before failing.
record() {
	printf '%s=%q\n' "$1" "$2" >>"$DIR/drill.state"
}

psql_primary() {
	"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR/run" -p "$PRIMARY_PORT" -U postgres "$@"
}

wait_for() {
	local what="$1" seconds="$2"
	shift 2
	local deadline=$((SECONDS + seconds))
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			log "timed out after ${seconds}s waiting for $what"
			return 1
		fi
		sleep 0.2
	done
}

standby_streaming() {
	[[ "$(psql_primary -At -d postgres -c "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" == 1 ]]
}

app_healthy() {
	[[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$APP_URL/health")" == 200 ]]
}

build_app() {
	if [[ -n "${DRILL_APP_BIN:-}" ]]; then
		[[ -x "$DRILL_APP_BIN" ]] || die "DRILL_APP_BIN=$DRILL_APP_BIN is not an executable file"
		printf '%s\n' "$DRILL_APP_BIN"
		return
	fi
	log "building the demo app (cargo build --example drill_app in $REPO_ROOT)"
	local out bin
	out="$(cd "$REPO_ROOT" && cargo build --quiet --example drill_app --message-format=json-render-diagnostics)" ||
		die "cargo build --example drill_app failed (see above)"
	bin="$(grep '"name":"drill_app"' <<<"$out" | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n1)"
	[[ -n "$bin" && -x "$bin" ]] || bin="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/debug/examples/drill_app"
	[[ -x "$bin" ]] || die "built drill_app but cannot find the binary; set DRILL_APP_BIN"
	printf '%s\n' "$bin"
}

cmd_up() {
	if [[ -e "$DIR" ]] && [[ -n "$(ls -A "$DIR")" ]]; then
		die "$DIR already exists and is not empty; run 'env.sh down $DIR --purge' first or pick a new directory"
	fi
	local started=$SECONDS
	mkdir -p "$DIR"
	DIR="$(cd "$DIR" && pwd)"
	: >"$DIR/$MARKER"
	: >"$DIR/drill.state"
	chmod 0600 "$DIR/drill.state"
	# The trap may fire inside a command whose stderr goes to a log; keep the terminal
	# on fd 9 (closed for the servers and the app, or they would hold our caller's pipe).
	exec 9>&2
	trap 'on_up_failure' EXIT
	trap 'exit 130' INT TERM

	PG_BIN="$(find_pg_bin_dir)"
	record PG_BIN "$PG_BIN"
	command -v curl >/dev/null || die "curl is needed to check the app"
	if [[ $EUID -eq 0 ]]; then
		id postgres >/dev/null 2>&1 || die "running as root needs a 'postgres' user to run the servers"
		# mktemp -d makes 0700 directories; postgres only needs to pass through.
		chmod go+x "$DIR"
		runuser -u postgres -- test -x "$DIR" ||
			die "the postgres user cannot enter $DIR; use a directory under /tmp or make its parents traversable"
	fi
	log "PostgreSQL tools: $PG_BIN"

	mkdir -p "$DIR/run" "$DIR/logs" "$DIR/backups" "$DIR/app" "$DIR/secrets" "$DIR/primary" "$DIR/standby"
	chmod 0700 "$DIR/secrets" "$DIR/app" "$DIR/primary" "$DIR/standby"
	if [[ $EUID -eq 0 ]]; then
		chown postgres: "$DIR/run" "$DIR/logs" "$DIR/secrets" "$DIR/primary" "$DIR/standby"
	fi

	USED_PORTS=()
	free_port
	PRIMARY_PORT="$PORT"
	free_port
	STANDBY_PORT="$PORT"
	free_port
	APP_PORT="$PORT"
	STORE_PORT=""
	if [[ "$TEAM" == 1 ]]; then
		free_port
		STORE_PORT="$PORT"
		record STORE_PORT "$STORE_PORT"
	fi
	record PRIMARY_PORT "$PRIMARY_PORT"
	record STANDBY_PORT "$STANDBY_PORT"
	record APP_PORT "$APP_PORT"

	local pg_pw app_pw repl_pw admin_token store_pw
	pg_pw="$(random_secret)"
	store_pw="$(random_secret)"
	app_pw="$(random_secret)"
	repl_pw="$(random_secret)"
	admin_token="$(random_secret)"

	# Secrets reach the servers through files readable by postgres only, never argv.
	(umask 077 && printf '%s\n' "$pg_pw" >"$DIR/secrets/postgres.pw")
	(umask 077 && printf '127.0.0.1:%s:replication:replicator:%s\n' "$PRIMARY_PORT" "$repl_pw" >"$DIR/secrets/pgpass")
	if [[ $EUID -eq 0 ]]; then
		chown postgres: "$DIR/secrets/postgres.pw" "$DIR/secrets/pgpass"
	fi

	log "initdb primary (port $PRIMARY_PORT)"
	as_pg "$PG_BIN/initdb" -D "$DIR/primary" -U postgres --pwfile="$DIR/secrets/postgres.pw" \
		--auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C --no-sync \
		>"$DIR/logs/initdb.log" 2>&1 || die "initdb failed; see $DIR/logs/initdb.log"
	record PRIMARY_DATA "$DIR/primary"
	as_pg tee -a "$DIR/primary/postgresql.conf" >/dev/null <<EOF

# --- drctl drill ---
listen_addresses = '127.0.0.1'
port = $PRIMARY_PORT
unix_socket_directories = '$DIR/run'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
wal_keep_size = '128MB'
hot_standby = on
shared_buffers = '32MB'
max_connections = 50
password_encryption = 'scram-sha-256'
log_line_prefix = '%m [%p] %q%u@%d '
EOF
	as_pg tee "$DIR/primary/pg_hba.conf" >/dev/null <<'EOF'
# drctl drill: trust on the socket (setup only), passwords over TCP.
local   all          all                      trust
local   replication  all                      trust
host    all          all         127.0.0.1/32 scram-sha-256
host    replication  replicator  127.0.0.1/32 scram-sha-256
EOF
	as_pg "$PG_BIN/pg_ctl" -D "$DIR/primary" -l "$DIR/logs/primary.log" -w -t 60 start >/dev/null 9>&- ||
		die "the primary did not start; see $DIR/logs/primary.log"

	log "creating roles, database shop and seed data"
	psql_primary -d postgres <<EOF
CREATE ROLE app LOGIN PASSWORD '$app_pw';
CREATE ROLE replicator LOGIN REPLICATION PASSWORD '$repl_pw';
CREATE DATABASE shop OWNER app;
EOF
	psql_primary -d shop <<EOF
SET ROLE app;
CREATE TABLE customers (
    id serial PRIMARY KEY,
    name text NOT NULL,
    email text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE orders (
    id serial PRIMARY KEY,
    item text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO customers (name, email)
    SELECT 'customer ' || g, 'customer' || g || '@example.com' FROM generate_series(1, 20) AS g;
INSERT INTO orders (item, created_at)
    SELECT 'item-' || g, now() - make_interval(mins => ${DRILL_ORDERS:-100} - g)
    FROM generate_series(1, ${DRILL_ORDERS:-100}) AS g;
EOF

	log "taking the last good backup"
	"$PG_BIN/pg_dump" -h "$DIR/run" -p "$PRIMARY_PORT" -U postgres --format=custom \
		--file="$DIR/backups/shop.dump" shop || die "pg_dump failed"
	(cd "$DIR/backups" && sha256sum shop.dump >shop.dump.sha256)

	log "creating the standby (port $STANDBY_PORT) with pg_basebackup"
	as_pg env PGPASSFILE="$DIR/secrets/pgpass" "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" \
		-U replicator -D "$DIR/standby" -R -X stream -C -S drill_standby --checkpoint=fast --no-sync \
		>"$DIR/logs/basebackup.log" 2>&1 || die "pg_basebackup failed; see $DIR/logs/basebackup.log"
	record STANDBY_DATA "$DIR/standby"
	# The copied postgresql.conf still names the primary's port; the last setting wins.
	as_pg tee -a "$DIR/standby/postgresql.conf" >/dev/null <<EOF

# --- drctl drill: standby ---
port = $STANDBY_PORT
EOF
	as_pg "$PG_BIN/pg_ctl" -D "$DIR/standby" -l "$DIR/logs/standby.log" -w -t 60 start >/dev/null 9>&- ||
		die "the standby did not start; see $DIR/logs/standby.log"
	wait_for "the standby to stream from the primary" 30 standby_streaming ||
		die "the standby is not streaming; see $DIR/logs/standby.log"

	local bin
	bin="$(build_app)"
	record APP_BIN "$bin"
	APP_URL="http://127.0.0.1:$APP_PORT"
	local app_db_url="postgres://app:$app_pw@127.0.0.1:$PRIMARY_PORT/shop"
	log "starting the demo app on $APP_URL"
	# Secrets by environment (not argv, which any user can read in ps); setsid so a
	# Ctrl-C aimed at whoever ran `up` does not reach the app later.
	DRILL_DATABASE_URL="$app_db_url" DRILL_ADMIN_TOKEN="$admin_token" \
		setsid "$bin" --listen "127.0.0.1:$APP_PORT" --state-file "$DIR/app/state.json" \
		</dev/null >>"$DIR/logs/app.log" 2>&1 9>&- &
	local app_pid=$!
	record APP_PID "$app_pid"
	local deadline=$((SECONDS + 30))
	until app_healthy; do
		kill -0 "$app_pid" 2>/dev/null || die "the app exited; last lines of $DIR/logs/app.log: $(tail -n 5 "$DIR/logs/app.log")"
		((SECONDS < deadline)) || die "the app is not healthy after 30s; see $DIR/logs/app.log"
		sleep 0.2
	done

	STORE_URL=""
	if [[ "$TEAM" == 1 ]]; then
		start_store "$store_pw"
		STORE_URL="postgres://drctl:$store_pw@127.0.0.1:$STORE_PORT/drctl"
	fi

	write_inputs "$pg_pw" "$app_pw" "$admin_token"
	trap - EXIT INT TERM
	local store_line=""
	if [[ -n "$STORE_PORT" ]]; then
		store_line="  store     127.0.0.1:$STORE_PORT  data $DIR/store  (the shared store of drctl: DRCTL_STORE in env.sh)
"
	fi
	cat >&2 <<EOF

drill environment is up in $DIR ($((SECONDS - started))s)
  primary   127.0.0.1:$PRIMARY_PORT  data $DIR/primary  (streaming to the standby)
  standby   127.0.0.1:$STANDBY_PORT  data $DIR/standby  (hot standby, slot drill_standby)
  app       $APP_URL  (pid $app_pid, log $DIR/logs/app.log)
  backup    $DIR/backups/shop.dump  (${DRILL_ORDERS:-100} orders, 20 customers)
  inputs    $DIR/env.yaml  (drctl run ... --inputs $DIR/env.yaml)
$store_line  shell     source $DIR/env.sh
stop with:  $0 down $DIR   (add --purge to delete the directory)
EOF
}

# --team: drctl's shared store in a cluster of its own, which outlives the
# primary that the failover drill kills. Role and database `drctl`, password
# over TCP; the schema is `drctl store init`'s (drill.sh runs it).
start_store() {
	local store_pw="$1"
	mkdir -p "$DIR/store"
	chmod 0700 "$DIR/store"
	(umask 077 && printf '%s\n' "$store_pw" >"$DIR/secrets/store.pw")
	if [[ $EUID -eq 0 ]]; then
		chown postgres: "$DIR/store" "$DIR/secrets/store.pw"
	fi
	log "initdb store (port $STORE_PORT)"
	as_pg "$PG_BIN/initdb" -D "$DIR/store" -U postgres --pwfile="$DIR/secrets/store.pw" \
		--auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C --no-sync \
		>"$DIR/logs/initdb-store.log" 2>&1 || die "initdb failed; see $DIR/logs/initdb-store.log"
	record STORE_DATA "$DIR/store"
	as_pg tee -a "$DIR/store/postgresql.conf" >/dev/null <<EOF

# --- drctl drill: the shared store ---
listen_addresses = '127.0.0.1'
port = $STORE_PORT
unix_socket_directories = '$DIR/run'
shared_buffers = '16MB'
max_connections = 50
password_encryption = 'scram-sha-256'
EOF
	as_pg "$PG_BIN/pg_ctl" -D "$DIR/store" -l "$DIR/logs/store.log" -w -t 60 start >/dev/null 9>&- ||
		die "the store's cluster did not start; see $DIR/logs/store.log"
	"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR/run" -p "$STORE_PORT" -U postgres -d postgres <<EOF
CREATE ROLE drctl LOGIN PASSWORD '$store_pw';
CREATE DATABASE drctl OWNER drctl;
EOF
}

write_inputs() {
	local pg_pw="$1" app_pw="$2" admin_token="$3"
	local -a keys=(
		app_url admin_token primary_url standby_url app_db_url standby_app_db_url
		backup_file primary_data_dir standby_data_dir pg_bin_dir
		primary_port standby_port drill_dir
	)
	local -A v=(
		[app_url]="$APP_URL"
		[admin_token]="$admin_token"
		[primary_url]="postgres://postgres:$pg_pw@127.0.0.1:$PRIMARY_PORT/shop"
		[standby_url]="postgres://postgres:$pg_pw@127.0.0.1:$STANDBY_PORT/shop"
		[app_db_url]="postgres://app:$app_pw@127.0.0.1:$PRIMARY_PORT/shop"
		[standby_app_db_url]="postgres://app:$app_pw@127.0.0.1:$STANDBY_PORT/shop"
		[backup_file]="$DIR/backups/shop.dump"
		[primary_data_dir]="$DIR/primary"
		[standby_data_dir]="$DIR/standby"
		[pg_bin_dir]="$PG_BIN"
		[primary_port]="$PRIMARY_PORT"
		[standby_port]="$STANDBY_PORT"
		[drill_dir]="$DIR"
	)
	local -A env_names=([admin_token]=DRILL_ADMIN_TOKEN)
	local key
	(
		umask 077
		{
			printf '# drctl drill inputs, written by examples/drill/env.sh; holds secrets.\n'
			for key in "${keys[@]}"; do
				printf '%s: "%s"\n' "$key" "${v[$key]}"
			done
		} >"$DIR/env.yaml"
		{
			printf '# drctl drill environment, written by examples/drill/env.sh; holds secrets.\n'
			# The names the runbooks' inputs read (`env:`), so that sourcing this file is
			# enough for `drctl run` and `drctl resume` without --inputs.
			for key in "${keys[@]}"; do
				printf 'export %s=%q\n' "${env_names[$key]:-${key^^}}" "${v[$key]}"
			done
			# Team mode: every drctl command that sources this uses the shared store.
			if [[ -n "$STORE_URL" ]]; then
				printf 'export DRCTL_STORE=%q\n' "$STORE_URL"
			fi
		} >"$DIR/env.sh"
	)
}

on_up_failure() {
	local rc=$?
	trap - EXIT INT TERM
	exec 2>&9
	log "up failed (exit $rc); stopping what was started (logs are kept in $DIR/logs)"
	cmd_down || true
	exit "$rc"
}

# Whether a process still runs: a zombie has exited already, it only waits for
# whichever ancestor reaps orphans (after `up` exits, that is not us).
alive() {
	local state
	state="$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null || true)"
	[[ -n "$state" && "$state" != Z ]]
}

is_postmaster_of() {
	alive "$1" || return 1
	local exe
	exe="$(readlink "/proc/$1/exe" 2>/dev/null)" || return 1
	# The postmaster works in its data directory, however -D was spelled.
	[[ "${exe% (deleted)}" == */postgres ]] &&
		[[ "$(readlink -f "/proc/$1/cwd" 2>/dev/null)" == "$(readlink -f "$2")" ]]
}

# A drill_app serving this DIR's state file (a recycled pid is not one of these).
is_our_app() {
	local exe
	exe="$(readlink "/proc/$1/exe" 2>/dev/null)" || return 1
	# A rebuilt binary shows as "/path/drill_app (deleted)" while the old one runs.
	exe="${exe% (deleted)}"
	[[ "$exe" == */drill_app || (-n "${APP_BIN:-}" && "$exe" == "$(readlink -f "$APP_BIN")") ]] &&
		tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | grep -q -x -F -e "$DIR/app/state.json" -e "--state-file=$DIR/app/state.json"
}

find_our_apps() {
	local proc
	for proc in /proc/[0-9]*; do
		is_our_app "${proc#/proc/}" && printf '%s\n' "${proc#/proc/}"
	done
	return 0
}

# Stops the app and every cluster found under DIR, whatever state each is in
# (stopped, still a standby, promoted, or one a runbook created itself).
cmd_down() {
	[[ -f "$DIR/$MARKER" ]] || die "$DIR is not a drill directory (no $MARKER); refusing to touch it"
	local PG_BIN="" APP_PID="" APP_BIN=""
	# shellcheck disable=SC1091 # written by cmd_up
	[[ -f "$DIR/drill.state" ]] && source "$DIR/drill.state"
	# Without pg_ctl (up failed before finding it) the servers still get signals.
	local pg_ctl=""
	if [[ -n "$PG_BIN" ]]; then
		pg_ctl="$PG_BIN/pg_ctl"
	else
		pg_ctl="$(command -v pg_ctl || true)"
	fi

	# The recorded pid, plus any drill_app on this DIR's state file: a runbook may have
	# restarted the app, or `up` may have been stopped before it recorded the pid.
	local pid app_pids=()
	[[ -n "$APP_PID" ]] && is_our_app "$APP_PID" && app_pids+=("$APP_PID")
	for pid in $(find_our_apps); do
		[[ "$pid" == "$APP_PID" ]] || app_pids+=("$pid")
	done
	for pid in "${app_pids[@]}"; do
		log "stopping the app (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do
			alive "$pid" || break
			sleep 0.1
		done
		if alive "$pid"; then
			log "the app ignored SIGTERM for 5s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done

	local pidfile data
	while IFS= read -r pidfile; do
		data="$(dirname "$pidfile")"
		[[ -f "$data/PG_VERSION" ]] || continue
		pid="$(head -n1 "$pidfile" 2>/dev/null || true)"
		# A stale pid file after a crash may name a pid since reused by something else.
		if ! [[ "$pid" =~ ^[0-9]+$ ]] || ! is_postmaster_of "$pid" "$data"; then
			continue
		fi
		log "stopping the cluster in $data (pid $pid)"
		if [[ -n "$pg_ctl" ]]; then
			as_pg "$pg_ctl" -D "$data" -w -t 30 -m fast stop >/dev/null 2>&1 || true
		fi
		if is_postmaster_of "$pid" "$data"; then
			log "$data is still running; sending SIGQUIT to $pid"
			kill -QUIT "$pid" 2>/dev/null || true
			sleep 2
			if is_postmaster_of "$pid" "$data"; then
				kill -KILL "$pid" 2>/dev/null || true
			fi
		fi
	done < <(find "$DIR" -maxdepth 3 -name postmaster.pid -type f 2>/dev/null)

	if [[ "$PURGE" == 1 ]]; then
		log "deleting $DIR"
		rm -rf -- "$DIR"
	fi
}

main() {
	[[ $# -ge 2 ]] || usage
	local cmd="$1"
	DIR="$2"
	PURGE=0
	TEAM=0
	shift 2
	while [[ $# -gt 0 ]]; do
		case "$1" in
		--purge) PURGE=1 ;;
		--team) TEAM=1 ;;
		*) usage ;;
		esac
		shift
	done
	[[ -n "$DIR" && "$DIR" != "/" ]] || die "DIR must be a directory for the drill, not '$DIR'"
	case "$cmd" in
	up)
		[[ "$PURGE" == 0 ]] || usage
		cmd_up
		;;
	down)
		[[ "$TEAM" == 0 ]] || usage
		[[ -d "$DIR" ]] || {
			log "$DIR does not exist; nothing to stop"
			return 0
		}
		DIR="$(cd "$DIR" && pwd)"
		cmd_down
		;;
	*) usage ;;
	esac
}

main "$@"
