#!/usr/bin/env bash
# Renders an HTML post-mortem (`drctl report ID --format html`) in a real
# headless browser and writes a PNG screenshot of it, to see the page as a
# team would. CI does not run it; run it after changing the report's HTML.
#
#   scripts/report_screenshot.sh [REPORT.html] [OUT.png]
#
# Without REPORT.html it makes one: it builds drctl, runs a small sample
# runbook (shell steps only: a status-page step, a retried step, a reported
# output, an operator note) in a new directory under /tmp, and writes that
# incident's HTML report beside the PNG. OUT.png defaults to
# report-screenshot.png in that directory (or beside REPORT.html).
#
# Chromium is installed with apt-get when it is missing (Debian; run as root).
# The browser runs with every host name unresolvable, so the page could load
# nothing from the network even if it tried; the DOM it built is checked for
# the chart and for the absence of any script element.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

find_browser() {
	for name in chromium chromium-browser google-chrome; do
		if command -v "$name" >/dev/null 2>&1; then
			command -v "$name"
			return 0
		fi
	done
	return 1
}

if ! BROWSER="$(find_browser)"; then
	if [[ "$(id -u)" -ne 0 ]]; then
		echo "report_screenshot: no chromium; run as root or: sudo apt-get install -y chromium" >&2
		exit 1
	fi
	echo "report_screenshot: installing chromium (apt-get)" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
	BROWSER="$(find_browser)"
fi

if [[ $# -ge 1 ]]; then
	HTML="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
	OUT="${2:-$(dirname "$HTML")/report-screenshot.png}"
else
	DIR="$(mktemp -d /tmp/drctl-report-shot.XXXXXX)"
	(cd "$REPO_ROOT" && cargo build --quiet --bin drctl)
	DRCTL="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/debug/drctl"
	mkdir -p "$DIR/runbooks"
	cat >"$DIR/runbooks/sample.yaml" <<'YAML'
version: 1
name: sample
title: Restore the shop database (sample for the screenshot)
severity: SEV-2
objectives: { rto: 30s, rpo: 5m }
roles:
  commander: Carol (on-call lead)
  approvers: [DBA on call]
impact:
  services: [shop-api, orders-db]
  summary: Checkout unavailable while the database is restored.
steps:
  - id: status-page
    comms: true
    shell: { run: "echo 'Investigating: checkout unavailable'" }
  - id: maintenance-on
    needs: [status-page]
    shell: { run: "sleep 1" }
  - id: restore
    needs: [maintenance-on]
    retry: { attempts: 3, delay: 500ms }
    shell:
      run: |
        echo try >> tries
        [ "$(wc -l < tries)" -ge 3 ] || { echo "connection refused" >&2; exit 1; }
        sleep 2
    outputs:
      rows: { value: "1234", report: true }
  - id: verify
    needs: [restore]
    shell: { run: "sleep 1" }
  - id: all-clear
    needs: [verify]
    comms: true
    shell: { run: "echo 'Resolved'" }
YAML
	cd "$DIR"
	detected="$(date -u -d '-20 seconds' +%Y-%m-%dT%H:%M:%SZ)"
	DRCTL_OPERATOR=alice "$DRCTL" --state-dir "$DIR/state" run sample --yes --plain --detected-at "$detected" \
		--set "impact.began=$(date -u -d '-50 seconds' +%Y-%m-%dT%H:%M:%SZ)" >/dev/null
	incident="$(ls "$DIR/state/incidents")"
	DRCTL_OPERATOR=bob "$DRCTL" --state-dir "$DIR/state" note "$incident" "support told customers at 10:42"
	HTML="$DIR/report.html"
	"$DRCTL" --state-dir "$DIR/state" report "$incident" --format html -o "$HTML"
	OUT="${2:-$DIR/report-screenshot.png}"
fi

flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run
	--host-resolver-rules="MAP * ~NOTFOUND" --window-size=1100,2600)
"$BROWSER" "${flags[@]}" --screenshot="$OUT" "file://$HTML" 2>/dev/null
dom="$("$BROWSER" "${flags[@]}" --dump-dom "file://$HTML" 2>/dev/null)"
grep -q '<svg' <<<"$dom" || {
	echo "report_screenshot: the browser's DOM has no chart" >&2
	exit 1
}
if grep -qi '<script' <<<"$dom"; then
	echo "report_screenshot: the browser's DOM has a script element" >&2
	exit 1
fi
[[ -s "$OUT" ]] || {
	echo "report_screenshot: no screenshot written" >&2
	exit 1
}
echo "$OUT"
