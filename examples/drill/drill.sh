#!/usr/bin/env bash
# The drill: one command that rehearses the four shipped runbooks end to end
# against local targets it sets up itself, then leaves nothing running.
#
#   examples/drill/drill.sh [--team] [DIR]
#
# 1. env.sh up: a PostgreSQL primary with seeded data and a last good backup,
#    a streaming standby, and the demo application (examples/drill_app.rs).
# 2. freeze            stop writes (maintenance mode, read-only role, snapshot)
# 3. (the incident)    corrupt the data: delete most orders
# 4. db-restore        restore the backup, verify, back in service — in the
#                      same incident as the freeze
# 5. rotate-secrets    new database password for the application
# 6. (the incident)    the primary dies
# 7. failover          promote the standby, repoint the application
# 8. a post-mortem report per incident (Markdown and HTML), then env.sh down.
#
# --team runs the same four runbooks in team mode (docs/team-mode.md): env.sh
# also starts a cluster holding drctl's shared store (DRCTL_STORE), which
# `drctl store init` prepares; every incident, journal and lock is then in
# that database instead of DIR/state, and a second "host" (DRCTL_HOST)
# follows the failover with `drctl log ID --follow` as it happens.
#
# Confirmations are answered by flags (--yes, --confirm WORD) as automation
# must; run a runbook by hand on a terminal to see the prompts.
# DIR (default: a new directory under /tmp) keeps the reports and the state.
# DRILL_KEEP_RUNNING=1 leaves the environment up for inspection (stop it with
# `examples/drill/env.sh down DIR/env`). DRCTL_BIN and DRILL_APP_BIN use those
# binaries instead of building them.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
TEAM=0
if [[ "${1:-}" == --team ]]; then
	TEAM=1
	shift
fi
if [[ $# -gt 1 || "${1:-}" == -* ]]; then
	echo "usage: examples/drill/drill.sh [--team] [DIR]" >&2
	exit 2
fi
DIR="${1:-$(mktemp -d /tmp/drctl-drill.XXXXXX)}"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
# As root, env.sh runs the servers as the postgres user, which must pass through
# DIR to reach DIR/env (mktemp -d makes it 0700); traversal only, no listing.
if [[ "$(id -u)" == 0 ]]; then
	chmod go+x "$DIR"
fi

say() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

# DRCTL_BIN and DRILL_APP_BIN name prebuilt binaries (a test harness has them
# already); whichever is unset is built here.
build=()
[[ -n "${DRCTL_BIN:-}" ]] || build+=(--bin drctl)
[[ -n "${DRILL_APP_BIN:-}" ]] || build+=(--example drill_app)
if ((${#build[@]} > 0)); then
	say "building ${build[*]}"
	(cd "$REPO_ROOT" && cargo build --quiet "${build[@]}")
fi
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
DRCTL="${DRCTL_BIN:-$TARGET_DIR/debug/drctl}"
export DRILL_APP_BIN="${DRILL_APP_BIN:-$TARGET_DIR/debug/examples/drill_app}"
for bin in "$DRCTL" "$DRILL_APP_BIN"; do
	[[ -x "$bin" ]] || {
		echo "drill: $bin is not an executable file" >&2
		exit 1
	}
done

# The environment lives in DIR/env; drctl's incidents in DIR/state.
ENV_DIR="$DIR/env"
STATE="$DIR/state"
REPORTS="$DIR/reports"
mkdir -p "$ENV_DIR" "$REPORTS"

cleanup() {
	local status=$?
	if [[ -n "${follower:-}" ]]; then
		kill "$follower" 2>/dev/null || true
	fi
	if [[ "${DRILL_KEEP_RUNNING:-0}" != 1 ]]; then
		"$SCRIPT_DIR/env.sh" down "$ENV_DIR" >/dev/null 2>&1 || "$SCRIPT_DIR/env.sh" down "$ENV_DIR" || true
	fi
	exit "$status"
}
trap cleanup EXIT

say "setting up the drill environment in $ENV_DIR"
team_flag=()
((TEAM == 0)) || team_flag=(--team)
"$SCRIPT_DIR/env.sh" up "$ENV_DIR" "${team_flag[@]}"
# shellcheck disable=SC1091
# The runbooks read every value from this environment: no --inputs needed.
# With --team it also sets DRCTL_STORE, so every drctl below uses the store.
source "$ENV_DIR/env.sh"
if ((TEAM == 1)); then
	say "team mode: preparing the shared store"
	"$DRCTL" store init
fi

as_postgres() {
	if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
orders_checksum() {
	psql "$1" --no-psqlrc --tuples-only --no-align --command \
		"SELECT count(*) || ' ' || md5(string_agg(id || ':' || item, ',' ORDER BY id)) FROM orders WHERE item NOT LIKE 'failover-probe%'"
}
# --team: waits for the incident after the last one to appear in the store,
# then follows it from a second host until its run ends.
follow_failover() {
	local id="" deadline=$((SECONDS + 60))
	while [[ -z "$id" || "$id" == "$rotation" ]]; do
		((SECONDS < deadline)) || {
			echo "drill: the failover's incident did not appear in the store" >&2
			return 1
		}
		sleep 0.1
		# Newest first: the first id is the latest incident.
		id="$("$DRCTL" incidents --format json | grep -o '"id": *"INC-[0-9-]*"' | head -n1 | grep -o 'INC-[0-9-]*' || true)"
	done
	# exec: the job's pid is the follower's, for cleanup to stop.
	DRCTL_HOST=drill-bastion-2 exec "$DRCTL" log "$id" --follow >"$DIR/failover.follow" 2>"$DIR/failover.follow.err"
}

# Runs a runbook; prints the incident id it used on stdout.
run_runbook() {
	local log="$DIR/$1.log" status=0
	"$DRCTL" --dir "$REPO_ROOT/runbooks" --state-dir "$STATE" run "$@" \
		--yes --operator drill --plain 2>"$log" || status=$?
	cat "$log" >&2
	sed -n 's/^Incident \(INC-[0-9-]*\) .*/\1/p' "$log" | tail -n1
	if [[ $status != 0 ]]; then
		echo "drill: runbook $1 failed (exit $status); see $log" >&2
	fi
	return "$status"
}

orders_checksum "$PRIMARY_URL" >"$DIR/backup.checksum"
say "the last good backup holds: $(cat "$DIR/backup.checksum")"

say "runbook 1/4: freeze"
incident=$(run_runbook freeze)

say "the incident: a bad deploy deletes most orders"
psql "$PRIMARY_URL" --no-psqlrc --quiet --command "DELETE FROM orders WHERE id > 40"

say "runbook 2/4: db-restore (same incident: $incident)"
run_runbook db-restore --incident "$incident" --confirm restore \
	--set "expected_orders=${DRILL_ORDERS:-100}" >/dev/null
orders_checksum "$PRIMARY_URL" >"$DIR/restored.checksum"
if cmp -s "$DIR/backup.checksum" "$DIR/restored.checksum"; then
	say "restored data matches the backup: $(cat "$DIR/restored.checksum")"
else
	echo "drill: restored data does not match the backup" >&2
	exit 1
fi

say "runbook 3/4: rotate-secrets"
rotation=$(run_runbook rotate-secrets --confirm rotate)

say "the next incident: the primary dies"
as_postgres "$PG_BIN_DIR/pg_ctl" --silent -D "$PRIMARY_DATA_DIR" stop -m immediate

say "runbook 4/4: failover"
if ((TEAM == 1)); then
	# A teammate on another host follows the failover as it happens: it is
	# the next incident, and follows it as soon as the run has opened it.
	follow_failover &
	follower=$!
fi
failover=$(run_runbook failover --confirm promote)
if ((TEAM == 1)); then
	follower_status=0
	wait "$follower" || follower_status=$?
	"$DRCTL" log "$failover" >"$DIR/failover.log"
	if [[ $follower_status != 0 ]] || ! cmp -s "$DIR/failover.log" "$DIR/failover.follow"; then
		echo "drill: the follower on host drill-bastion-2 (exit $follower_status) did not see the failover as \`drctl log\` shows it; compare $DIR/failover.follow with $DIR/failover.log" >&2
		exit 1
	fi
	say "host drill-bastion-2 followed the failover as it happened: $(wc -l <"$DIR/failover.follow") lines, as \`drctl log $failover\` prints them"
fi

say "post-mortem reports"
for id in "$incident" "$rotation" "$failover"; do
	"$DRCTL" --state-dir "$STATE" report "$id" --output "$REPORTS/$id.md" >/dev/null
	"$DRCTL" --state-dir "$STATE" report "$id" --format html --output "$REPORTS/$id.html" >/dev/null
done
"$DRCTL" --state-dir "$STATE" incidents
where="$DRCTL --state-dir $STATE incidents"
if ((TEAM == 1)); then
	where="source $ENV_DIR/env.sh; $DRCTL incidents   (the store; needs DRILL_KEEP_RUNNING=1)"
fi
cat >&2 <<EOF

Drill complete: four runbooks, three incidents$( ((TEAM == 0)) || echo ', in the shared store').
  reports:    $REPORTS/
  incidents:  $where   (log ID, report ID)
EOF
if [[ "${DRILL_KEEP_RUNNING:-0}" == 1 ]]; then
	echo "  still running (DRILL_KEEP_RUNNING=1); stop with: $SCRIPT_DIR/env.sh down $ENV_DIR" >&2
fi
