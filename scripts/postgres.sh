#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and benchmarks, from Debian's
# package (`apt-get install postgresql`, done here as root when missing): a cluster in DIR that listens on a
# unix socket in DIR only (no TCP port to collide on), trusting local users.
#
#   scripts/postgres.sh start DIR   # prints a libpq connection string
#   scripts/postgres.sh stop DIR    # stops the server and removes DIR
#
# PostgreSQL refuses to run as root: as root, the server runs as `nobody`
# (through setpriv), and DIR is given to that user.
set -euo pipefail

command=${1:?usage: postgres.sh start|stop DIR}
dir=${2:?usage: postgres.sh start|stop DIR}
find_bin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}
bin=${ATLEX_PG_BIN:-$(find_bin)}
if [ "$command" = start ] && { [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; } &&
    [ -z "${ATLEX_PG_BIN:-}" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    # A fresh machine: Debian's package, once (tests start servers in
    # parallel; the lock makes them wait for one install).
    echo "postgres.sh: installing Debian's package postgresql" >&2
    (
        flock 9
        if [ -z "$(find_bin)" ]; then
            DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql >&2 ||
                { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql >&2; }
        fi
    ) 9>/tmp/atlex-postgres-install.lock
    bin=$(find_bin)
fi
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "postgres.sh: no PostgreSQL server binaries in /usr/lib/postgresql/*/bin;" \
        "install Debian's package: apt-get install postgresql" >&2
    exit 1
fi

# Runs its arguments as the server's user.
as_server() {
    if [ "$(id -u)" = 0 ]; then
        setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups -- "$@"
    else
        "$@"
    fi
}

case "$command" in
start)
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
        chown nobody "$dir"
    fi
    # No fsync while the cluster is made; the server itself syncs as usual.
    as_server "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
        --no-sync --no-instructions >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
    as_server "$bin/pg_ctl" start -w -t 30 -D "$dir/data" -l "$dir/server.log" \
        -o "-c listen_addresses='' -k $dir -c max_connections=200" >/dev/null ||
        { cat "$dir/server.log" >&2; exit 1; }
    echo "host=$dir port=5432 user=postgres dbname=postgres"
    ;;
stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_server "$bin/pg_ctl" stop -w -D "$dir/data" -m fast >/dev/null || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: postgres.sh start|stop DIR" >&2
    exit 1
    ;;
esac
