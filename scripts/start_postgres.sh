#!/usr/bin/env bash
# Start (or stop) a throwaway PostgreSQL server for the store tests.
#
#   scripts/start_postgres.sh          # start; prints SIMULATOR_TEST_POSTGRES_URL=...
#   scripts/start_postgres.sh stop     # stop it and delete its data directory
#
# The server listens on 127.0.0.1:$PGPORT (default 55432) with trust auth, user
# postgres, data in a temporary directory, fsync off (test data only). Only the
# URL line goes to stdout, so CI can do:
#   eval "export $(scripts/start_postgres.sh)"
# Installs the Debian "postgresql" package if no initdb is found (root only).
set -euo pipefail

PGPORT="${PGPORT:-55432}"
STATE_FILE="${TMPDIR:-/tmp}/simulator-postgres-${PGPORT}.dir"
MODE="${1:-start}"

log() { echo "start_postgres: $*" >&2; }
die() { log "error: $*"; exit 1; }

find_bindir() {
    local candidate
    # Newest Debian cluster binaries first, then whatever is on PATH.
    for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -V -r); do
        if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then
            echo "$candidate"
            return 0
        fi
    done
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v initdb)")"
        return 0
    fi
    return 1
}

# Run a command as the server's owner: "postgres" when we are root
# (initdb and postgres refuse to run as root), else ourselves.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        if command -v runuser >/dev/null 2>&1; then
            runuser -u postgres -- "$@"
        else
            su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
        fi
    else
        "$@"
    fi
}

url() { echo "SIMULATOR_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:${PGPORT}/postgres"; }

stop() {
    if [ ! -f "$STATE_FILE" ]; then
        log "no server recorded for port $PGPORT ($STATE_FILE missing); nothing to stop"
        return 0
    fi
    local dir bindir
    dir="$(cat "$STATE_FILE")"
    bindir="$(find_bindir)" || die "cannot find pg_ctl"
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || log "pg_ctl stop failed"
    fi
    case "$dir" in
        */simulator-pg.*) rm -rf "$dir" ;;
    esac
    rm -f "$STATE_FILE"
    log "stopped the server on port $PGPORT"
}

start() {
    local bindir dir
    if ! bindir="$(find_bindir)"; then
        [ "$(id -u)" -eq 0 ] || die "PostgreSQL is not installed and installing it needs root (apt-get install postgresql)"
        log "installing PostgreSQL (apt-get)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update >&2
        apt-get install -y --no-install-recommends postgresql >&2
        bindir="$(find_bindir)" || die "PostgreSQL installed but initdb not found"
    fi
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi

    # Already running from an earlier call on this port: reuse it.
    if [ -f "$STATE_FILE" ]; then
        dir="$(cat "$STATE_FILE")"
        if [ -f "$dir/data/postmaster.pid" ] && "$bindir/pg_isready" -q -h 127.0.0.1 -p "$PGPORT"; then
            log "already running on port $PGPORT ($dir)"
            url
            return 0
        fi
        log "stale state for port $PGPORT; starting afresh"
        stop
    fi

    dir="$(mktemp -d "${TMPDIR:-/tmp}/simulator-pg.XXXXXX")"
    echo "$dir" > "$STATE_FILE"
    mkdir -p "$dir/data" "$dir/socket"
    if [ "$(id -u)" -eq 0 ]; then
        chown -R postgres: "$dir"
    fi
    chmod 700 "$dir"

    log "initdb in $dir/data ($bindir)"
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; die "initdb failed"; }

    log "starting on 127.0.0.1:$PGPORT"
    if ! as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $PGPORT -c listen_addresses=127.0.0.1 -k $dir/socket -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >&2; then
        cat "$dir/server.log" >&2 || true
        die "the server did not start (is port $PGPORT already in use? set PGPORT)"
    fi

    local i
    for i in $(seq 1 60); do
        if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$PGPORT"; then
            url
            return 0
        fi
        sleep 0.5
    done
    cat "$dir/server.log" >&2 || true
    die "the server is not ready after 30 s"
}

case "$MODE" in
    start) start ;;
    stop) stop ;;
    *) die "usage: $0 [start|stop]" ;;
esac
