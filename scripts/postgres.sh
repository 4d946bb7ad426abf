#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and benchmarks, from Debian's
# package (`apt-get install postgresql`, done here as root when missing): a cluster in DIR that listens on a
# unix socket in DIR only (no TCP port to collide on), trusting local users.
#
#   scripts/postgres.sh start DIR   # prints a libpq connection string (the socket's)
#   scripts/postgres.sh start DIR tcp PORT   # also on 127.0.0.1:PORT, plain
#   scripts/postgres.sh start DIR tls PORT   # also on 127.0.0.1:PORT, TLS only:
#                                   # DIR/ca.crt is the CA of its certificate,
#                                   # made here with openssl for 127.0.0.1 and localhost
#   scripts/postgres.sh down DIR    # stops the server, keeping its data
#   scripts/postgres.sh up DIR      # starts it again as it was
#   scripts/postgres.sh stop DIR    # stops the server and removes DIR
#
# PostgreSQL refuses to run as root: as root, the server runs as `nobody`
# (through setpriv), and DIR is given to that user.
set -euo pipefail

command=${1:?usage: postgres.sh start|down|up|stop DIR}
dir=${2:?usage: postgres.sh start|down|up|stop DIR}
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

# A CA, and a certificate it signs for 127.0.0.1 and localhost, in DIR:
# ca.crt, server.crt, server.key (the server's, readable by it alone).
make_certificates() {
    # openssl comes with Debian's postgresql (through ssl-cert).
    command -v openssl >/dev/null ||
        { echo "postgres.sh: tls needs openssl: apt-get install openssl" >&2; exit 1; }
    local key="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" \
        "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
        "extendedKeyUsage=serverAuth" >"$dir/server.ext"
    # shellcheck disable=SC2086
    as_server sh -c "cd '$dir' && umask 077 &&
        openssl req -x509 $key -keyout ca.key -out ca.crt -days 2 -subj '/CN=atlex test CA' \
            -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign &&
        openssl req -new $key -keyout server.key -out server.csr -subj /CN=localhost &&
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -set_serial 2 -days 2 \
            -extfile server.ext -out server.crt && chmod 644 ca.crt server.crt" \
        >"$dir/openssl.log" 2>&1 || { cat "$dir/openssl.log" >&2; exit 1; }
}

# Starts the server with the options `start` saved.
server_up() {
    as_server "$bin/pg_ctl" start -w -t 30 -D "$dir/data" -l "$dir/server.log" \
        -o "$(cat "$dir/server.options")" >/dev/null ||
        { cat "$dir/server.log" >&2; exit 1; }
}

case "$command" in
start)
    mode=${3:-socket}
    port=${4:-5432}
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
        chown nobody "$dir"
    fi
    # No fsync while the cluster is made; the server itself syncs as usual.
    as_server "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
        --no-sync --no-instructions >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
    options="-k $dir -p $port -c max_connections=200"
    case "$mode" in
    socket) options="$options -c listen_addresses=''" ;;
    tcp) options="$options -c listen_addresses=127.0.0.1" ;;
    tls)
        make_certificates
        options="$options -c listen_addresses=127.0.0.1 -c ssl=on"
        options="$options -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key"
        # TCP connections without TLS are refused.
        sed -i 's/^host /hostssl /' "$dir/data/pg_hba.conf"
        ;;
    *)
        echo "postgres.sh: start DIR [tcp PORT | tls PORT]" >&2
        exit 1
        ;;
    esac
    echo "$options" >"$dir/server.options"
    server_up
    echo "host=$dir port=$port user=postgres dbname=postgres"
    ;;
down)
    as_server "$bin/pg_ctl" stop -w -D "$dir/data" -m fast >/dev/null
    ;;
up)
    server_up
    ;;
stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_server "$bin/pg_ctl" stop -w -D "$dir/data" -m fast >/dev/null || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: postgres.sh start|down|up|stop DIR" >&2
    exit 1
    ;;
esac
