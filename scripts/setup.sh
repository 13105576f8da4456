#!/usr/bin/env bash
# Installs what drctl's tests and drill need on a fresh Debian/Ubuntu machine:
# the PostgreSQL server and client binaries (the tests and the drill start
# throwaway clusters), PgBouncer (team mode's pooler test), curl (the drill's health checks) and the OpenSSH
# server (the ssh adapter's tests start a throwaway sshd on 127.0.0.1; the
# system service is not used). The Rust toolchain is assumed present. Safe to
# run twice; quick when everything is installed.
set -euo pipefail

have_postgres() {
    { command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } &&
        command -v psql >/dev/null 2>&1 && command -v pg_isready >/dev/null 2>&1
}

have_sshd() {
    [ -x /usr/sbin/sshd ] && command -v ssh >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1
}

if ! have_postgres || ! [ -x /usr/sbin/pgbouncer ] || ! command -v curl >/dev/null 2>&1 || ! have_sshd; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: PostgreSQL, PgBouncer, curl or the OpenSSH server is missing; run as root or:" \
            "sudo apt-get install -y postgresql pgbouncer curl openssh-server" >&2
        exit 1
    fi
    echo "setup: installing PostgreSQL, PgBouncer, curl and the OpenSSH server (apt-get)" >&2
    apt-get update -qq
    # The package's service is not needed (it may not start in a
    # container): the tests start their own sshd.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-client pgbouncer curl \
        openssh-server </dev/null >/dev/null
fi
# Throwaway clusters run as the `postgres` user when the tests run as root.
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
fi
# The ssh tests log in to their throwaway sshd as this system user when they
# run as root, so that the remote side runs as someone else. `-p '*'`: no
# password, but not locked (sshd refuses key logins to locked accounts).
if [ "$(id -u)" -eq 0 ] && ! id drctl-ssh >/dev/null 2>&1; then
    useradd --system --create-home --home-dir /var/lib/drctl-ssh --shell /bin/sh -p '*' drctl-ssh
fi
