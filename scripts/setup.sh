#!/usr/bin/env bash
# Installs what drctl's tests and drill need on a fresh Debian/Ubuntu machine:
# the PostgreSQL server and client binaries (the tests and the drill start
# throwaway clusters) and curl (the drill's health checks). The Rust
# toolchain is assumed present. Safe to run twice.
set -euo pipefail

have_postgres() {
    { command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } &&
        command -v psql >/dev/null 2>&1 && command -v pg_isready >/dev/null 2>&1
}

if ! have_postgres || ! command -v curl >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: PostgreSQL or curl is missing; run as root or: sudo apt-get install -y postgresql curl" >&2
        exit 1
    fi
    echo "setup: installing PostgreSQL (apt-get)" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-client curl >/dev/null
fi
# Throwaway clusters run as the `postgres` user when the tests run as root.
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
fi
