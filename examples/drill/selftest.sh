#!/usr/bin/env bash
# Proves the drill environment works: brings it up, exercises the demo app (health,
# admin auth, maintenance, orders), fails over to the standby by hand, rotates the app
# password, checks restart persistence and outage reporting, then tears everything
# down and checks that nothing of ours is still running. Exits non-zero on any failure.
#
#   examples/drill/selftest.sh [DIR]     DIR defaults to a new /tmp/drill-selftest.XXXXXX
#
# DRILL_APP_BIN is passed through to env.sh; DRILL_KEEP=1 keeps DIR afterwards.

# APP_URL, PRIMARY_URL ... come from the DIR/env.sh that `env.sh up` writes (SC2153);
# ShellCheck 0.9 takes the helpers below for unreachable code (SC2317).
# shellcheck disable=SC2153,SC2317
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR
readonly ENV_SH="$SCRIPT_DIR/env.sh"
DIR="${1:-$(mktemp -d /tmp/drill-selftest.XXXXXX)}"
RESPONSE="$(mktemp)"
STEP="setup"
STATUS=""
BODY=""

fail() {
	printf 'selftest: FAIL [%s] %s\n' "$STEP" "$*" >&2
	exit 1
}
step() {
	STEP="$1"
	printf 'selftest: %s\n' "$1" >&2
}
ok() { printf 'selftest:   ok  %s\n' "$*" >&2; }

as_pg() {
	if [[ $EUID -eq 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# http METHOD PATH [JSON] [TOKEN] -> STATUS, BODY
http() {
	local method="$1" path="$2" data="${3:-}" token="${4:-}"
	local args=(-s -o "$RESPONSE" -w '%{http_code}' --max-time 15 -X "$method")
	[[ -n "$data" ]] && args+=(-H 'content-type: application/json' --data "$data")
	[[ -n "$token" ]] && args+=(-H "Authorization: Bearer $token")
	STATUS="$(curl "${args[@]}" "$APP_URL$path" || true)"
	BODY="$(cat "$RESPONSE")"
}

expect_status() {
	[[ "$STATUS" == "$1" ]] || fail "$2: expected HTTP $1, got $STATUS: $BODY"
	ok "$2 -> $STATUS $BODY"
}

expect_body() {
	[[ "$BODY" == *"$1"* ]] || fail "expected the response to contain '$1', got: $BODY"
}

sql() {
	local url="$1" query="$2"
	"$PG_BIN_DIR/psql" -X -At -v ON_ERROR_STOP=1 -d "$url" -c "$query"
}

wait_sql() {
	local url="$1" query="$2" want="$3" what="$4"
	for _ in $(seq 1 100); do
		[[ "$(sql "$url" "$query" 2>/dev/null || true)" == "$want" ]] && {
			ok "$what"
			return
		}
		sleep 0.1
	done
	fail "$what: '$query' never returned '$want' (last: $(sql "$url" "$query" 2>&1 || true))"
}

no_secret_in() {
	local text="$1" where="$2" secret
	for secret in "${SECRETS[@]}"; do
		[[ "$text" != *"$secret"* ]] || fail "a secret leaked into $where"
	done
}

# A zombie has exited already; it only waits for whichever ancestor reaps orphans.
alive() {
	local state
	state="$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null || true)"
	[[ -n "$state" && "$state" != Z ]]
}

on_exit() {
	local rc=$?
	rm -f "$RESPONSE"
	if ((rc != 0)); then
		printf 'selftest: failed; stopping the environment (kept in %s for inspection)\n' "$DIR" >&2
		"$ENV_SH" down "$DIR" || true
	fi
	exit "$rc"
}
trap on_exit EXIT

step "env.sh up $DIR"
started=$SECONDS
"$ENV_SH" up "$DIR"
ok "up took $((SECONDS - started))s"
# shellcheck disable=SC1091 # written by env.sh up
source "$DIR/env.sh"
# shellcheck disable=SC1091
source "$DIR/drill.state"
[[ "$(stat -c %a "$DIR/env.yaml")" == 600 ]] || fail "env.yaml must be mode 0600"
APP_PW="$(sed -n 's|^postgres://app:\([^@]*\)@.*|\1|p' <<<"$APP_DB_URL")"
PG_PW="$(sed -n 's|^postgres://postgres:\([^@]*\)@.*|\1|p' <<<"$PRIMARY_URL")"
SECRETS=("$APP_PW" "$PG_PW" "$DRILL_ADMIN_TOKEN")

step "health of the app on the primary"
http GET /health
expect_status 200 "GET /health"
expect_body '"status":"ok"'
expect_body '"orders":100'
expect_body "\"database\":\"127.0.0.1:$PRIMARY_PORT/shop\""
no_secret_in "$BODY" "/health"

step "admin endpoints need the token"
http POST /admin/maintenance '{"enabled":true}'
expect_status 401 "POST /admin/maintenance without a token"
http POST /admin/maintenance '{"enabled":true}' "not-the-token"
expect_status 401 "POST /admin/maintenance with a wrong token"
http GET /admin/maintenance
expect_status 401 "GET /admin/maintenance without a token"
http POST /admin/database "{\"url\":\"$STANDBY_APP_DB_URL\"}"
expect_status 401 "POST /admin/database without a token"

step "maintenance mode refuses writes"
http POST /admin/maintenance '{"enabled":true}' "$DRILL_ADMIN_TOKEN"
expect_status 200 "POST /admin/maintenance on"
expect_body '"enabled":true'
http GET /admin/maintenance "" "$DRILL_ADMIN_TOKEN"
expect_status 200 "GET /admin/maintenance"
expect_body '"enabled":true'
http POST /orders '{"item":"frozen"}'
expect_status 503 "POST /orders while frozen"
http POST /admin/maintenance '{"enabled":false}' "$DRILL_ADMIN_TOKEN"
expect_status 200 "POST /admin/maintenance off"
expect_body '"enabled":false'

step "writes work"
http POST /orders '{"item":"first"}'
expect_status 201 "POST /orders"
expect_body '"id":'
http GET /orders/count
expect_status 200 "GET /orders/count"
expect_body '"count":101'

step "the standby streams"
[[ "$(sql "$STANDBY_URL" 'SELECT pg_is_in_recovery()')" == t ]] || fail "the standby is not in recovery"
ok "standby: pg_is_in_recovery() = t"
wait_sql "$PRIMARY_URL" "SELECT state FROM pg_stat_replication" streaming "primary: pg_stat_replication shows streaming"
wait_sql "$STANDBY_URL" "SELECT count(*) FROM orders" 101 "the new order reached the standby"

step "a bad database url is refused and the old one kept"
bad_pw="wrong$RANDOM$RANDOM"
http POST /admin/database "{\"url\":\"postgres://app:$bad_pw@127.0.0.1:$STANDBY_PORT/shop\"}" "$DRILL_ADMIN_TOKEN"
expect_status 400 "POST /admin/database with a wrong password"
[[ "$BODY" != *"$bad_pw"* ]] || fail "the error repeats the password"
http GET /health
expect_status 200 "GET /health still works"
expect_body "127.0.0.1:$PRIMARY_PORT/shop"

step "fail over by hand: promote the standby, switch the app"
as_pg "$PG_BIN_DIR/pg_ctl" -D "$STANDBY_DATA_DIR" -w -t 30 promote >/dev/null
wait_sql "$STANDBY_URL" 'SELECT pg_is_in_recovery()' f "the standby is promoted"
http POST /admin/database "{\"url\":\"$STANDBY_APP_DB_URL\"}" "$DRILL_ADMIN_TOKEN"
expect_status 200 "POST /admin/database to the standby"
expect_body '"reloaded":true'
expect_body "127.0.0.1:$STANDBY_PORT/shop"
http GET /health
expect_status 200 "GET /health on the promoted standby"
expect_body "\"database\":\"127.0.0.1:$STANDBY_PORT/shop\""
expect_body '"read_only":false'
http POST /orders '{"item":"after failover"}'
expect_status 201 "POST /orders after failover"
[[ "$(sql "$STANDBY_URL" 'SELECT count(*) FROM orders')" == 102 ]] || fail "the order did not land on the promoted standby"
[[ "$(sql "$PRIMARY_URL" 'SELECT count(*) FROM orders')" == 101 ]] || fail "the order landed on the old primary"
ok "the write went to the new primary, not the old one"

step "rotate the app password"
new_pw="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
SECRETS+=("$new_pw")
sql "$STANDBY_URL" "ALTER ROLE app PASSWORD '$new_pw'" >/dev/null
new_url="postgres://app:$new_pw@127.0.0.1:$STANDBY_PORT/shop"
http POST /admin/database "{\"url\":\"$new_url\"}" "$DRILL_ADMIN_TOKEN"
expect_status 200 "POST /admin/database with the new password"
http GET /health
expect_status 200 "GET /health with the new password"
http POST /orders '{"item":"after rotation"}'
expect_status 201 "POST /orders with the new password"
if sql "$STANDBY_APP_DB_URL" 'SELECT 1' >/dev/null 2>&1; then
	fail "the old app password still works"
fi
ok "psql with the old password is refused"
[[ "$(sql "$new_url" 'SELECT 1')" == 1 ]] || fail "psql with the new password failed"
ok "psql with the new password works"
[[ "$(stat -c %a "$DIR/app/state.json")" == 600 ]] || fail "the state file must be mode 0600"
grep -q "127.0.0.1:$STANDBY_PORT/shop" "$DIR/app/state.json" || fail "the state file does not hold the new url"
ok "state file is 0600 and holds the new url"

step "a restart keeps the switched database"
kill -TERM "$APP_PID"
for _ in $(seq 1 50); do
	kill -0 "$APP_PID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$APP_PID" 2>/dev/null && fail "the app did not stop on SIGTERM"
# Started as env.sh does, deliberately with the ORIGINAL url: the state file must win.
DRILL_DATABASE_URL="$APP_DB_URL" DRILL_ADMIN_TOKEN="$DRILL_ADMIN_TOKEN" \
	setsid "$APP_BIN" --listen "127.0.0.1:$APP_PORT" --state-file "$DIR/app/state.json" \
	</dev/null >>"$DIR/logs/app.log" 2>&1 &
APP_PID=$!
printf 'APP_PID=%q\n' "$APP_PID" >>"$DIR/drill.state"
for _ in $(seq 1 100); do
	http GET /health
	[[ "$STATUS" == 200 ]] && break
	sleep 0.1
done
expect_status 200 "GET /health after restart"
expect_body "\"database\":\"127.0.0.1:$STANDBY_PORT/shop\""

step "a dead database gives a quick 503"
as_pg "$PG_BIN_DIR/pg_ctl" -D "$STANDBY_DATA_DIR" -w -t 30 -m fast stop >/dev/null
t0=$(date +%s%N)
http GET /health
elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
expect_status 503 "GET /health with the database stopped (${elapsed_ms}ms)"
expect_body '"status":"error"'
((elapsed_ms < 5000)) || fail "/health took ${elapsed_ms}ms to report a dead database"
no_secret_in "$BODY" "the 503 body"
as_pg "$PG_BIN_DIR/pg_ctl" -D "$STANDBY_DATA_DIR" -l "$DIR/logs/standby.log" -w -t 30 start >/dev/null
http GET /health
expect_status 200 "GET /health after the database is back"

step "no secrets in the app log"
no_secret_in "$(cat "$DIR/logs/app.log")" "$DIR/logs/app.log"
ok "app.log holds no password or token"

step "env.sh down $DIR"
# Our processes: the app, both postmasters and every server process under them
# (their command lines no longer name DIR, so they are found by parent).
pids=("$APP_PID")
for pidfile in "$DIR/primary/postmaster.pid" "$DIR/standby/postmaster.pid"; do
	[[ -f "$pidfile" ]] || continue
	postmaster="$(head -n1 "$pidfile")"
	pids+=("$postmaster")
	mapfile -t children < <(ps -o pid= --ppid "$postmaster" | tr -d ' ')
	pids+=("${children[@]}")
done
((${#pids[@]} > 6)) || fail "expected the app, 2 postmasters and their children, found only: ${pids[*]}"
"$ENV_SH" down "$DIR"
for pid in "${pids[@]}"; do
	for _ in $(seq 1 50); do
		alive "$pid" || break
		sleep 0.1
	done
	if alive "$pid"; then
		fail "process $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)) is still running"
	fi
done
for proc in /proc/[0-9]*; do
	exe="$(readlink "$proc/exe" 2>/dev/null || true)"
	case "${exe##*/}" in
	postgres | drill_app) ;;
	*) continue ;;
	esac
	if grep -q -F "$DIR" "$proc/cmdline" 2>/dev/null; then
		fail "${proc#/proc/} ($(tr '\0' ' ' <"$proc/cmdline")) still runs on $DIR"
	fi
done
for port in "$PRIMARY_PORT" "$STANDBY_PORT" "$APP_PORT"; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		fail "something still listens on port $port"
	fi
done
ok "none of our ${#pids[@]} processes remains; ports ${PRIMARY_PORT}, ${STANDBY_PORT}, ${APP_PORT} are closed"

if [[ "${DRILL_KEEP:-0}" != 1 ]]; then
	"$ENV_SH" down "$DIR" --purge
fi
printf 'selftest: PASS (%ss)\n' "$((SECONDS - started))" >&2
