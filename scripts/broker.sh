#!/usr/bin/env bash
# Start or stop a private mosquitto broker for the tests and examples.
#
#   scripts/broker.sh start DIR   # writes DIR/mosquitto.conf, DIR/pid, DIR/env, DIR/mosquitto.log
#   scripts/broker.sh stop DIR
#
# After `start`, `. DIR/env` exports:
#   MQTTC_TEST_HOST       127.0.0.1
#   MQTTC_TEST_PORT       plain listener, anonymous access
#   MQTTC_TEST_AUTH_PORT  listener that requires MQTTC_TEST_USER / MQTTC_TEST_PASS
#   MQTTC_TEST_USER       mqttc-user
#   MQTTC_TEST_PASS       mqttc-pass
#   MQTTC_TEST_TLS_PORT   TLS, anonymous access, server certificate from MQTTC_TEST_CA
#                         (subjectAltName localhost and 127.0.0.1)
#   MQTTC_TEST_TLS_CLIENT_PORT  TLS that requires a client certificate from MQTTC_TEST_CA
#   MQTTC_TEST_WS_PORT    MQTT over WebSockets, anonymous access
#   MQTTC_TEST_WSS_PORT   MQTT over WebSockets over TLS, anonymous access
#   MQTTC_TEST_UNIX       path of a Unix domain socket listener, anonymous access
#   MQTTC_TEST_CA         PEM file of the CA that signed the broker's and the client's certificates
#   MQTTC_TEST_OTHER_CA   PEM file of an unrelated CA (signed nothing here)
#   MQTTC_TEST_CLIENT_CERT  client certificate (PEM, signed by MQTTC_TEST_CA)
#   MQTTC_TEST_CLIENT_KEY   its private key (PEM, SEC1 "EC PRIVATE KEY", not encrypted)
#   MQTTC_TEST_MOSQUITTO  path of the mosquitto binary (tests start private brokers with it)
#   MQTTC_TEST_BROKER_DIR DIR
#
# Certificates are made at each start with the openssl command (installed with
# apt-get when missing and run as root); the library itself never uses OpenSSL.
#
# Ports are chosen at random among free ones; if mosquitto still loses a race
# for one, start picks new ports and tries again.
#
# Listeners are described by the listener_* functions below: each one is given
# its port and prints its part of mosquitto.conf. A new listener (TLS,
# WebSockets, ...) is one more function, one more entry in LISTENERS and in
# LISTENER_ENV, and whatever files it needs made in prepare_files.
set -euo pipefail

readonly TEST_HOST=127.0.0.1
readonly TEST_USER=mqttc-user
readonly TEST_PASS=mqttc-pass
readonly START_TIMEOUT_S=${MQTTC_BROKER_START_TIMEOUT:-15}
readonly STOP_TIMEOUT_S=10
readonly START_ATTEMPTS=5

# listener name -> environment variable holding its port
# (mosquitto 2.0 opens a websockets listener only beside a plain one: keep plain.)
LISTENERS=(plain auth tls tls_client ws wss)
declare -A LISTENER_ENV=(
    [plain]=MQTTC_TEST_PORT
    [auth]=MQTTC_TEST_AUTH_PORT
    [tls]=MQTTC_TEST_TLS_PORT
    [tls_client]=MQTTC_TEST_TLS_CLIENT_PORT
    [ws]=MQTTC_TEST_WS_PORT
    [wss]=MQTTC_TEST_WSS_PORT
)
# Certificates live for this long; a broker directory is not meant to be kept.
readonly CERT_DAYS=30

die() {
    echo "broker.sh: $*" >&2
    exit 1
}

usage() {
    echo "usage: $0 start DIR | stop DIR" >&2
    exit 2
}

find_mosquitto() {
    local m
    if m=$(command -v mosquitto); then
        echo "$m"
        return 0
    fi
    for m in /usr/sbin/mosquitto /usr/local/sbin/mosquitto /usr/bin/mosquitto; do
        if [[ -x $m ]]; then
            echo "$m"
            return 0
        fi
    done
    return 1
}

find_mosquitto_passwd() {
    local m
    if m=$(command -v mosquitto_passwd); then
        echo "$m"
        return 0
    fi
    for m in /usr/bin/mosquitto_passwd /usr/sbin/mosquitto_passwd /usr/local/bin/mosquitto_passwd; do
        if [[ -x $m ]]; then
            echo "$m"
            return 0
        fi
    done
    return 1
}

# True when something accepts TCP connections on $TEST_HOST:$1.
port_open() {
    (exec 3<>"/dev/tcp/$TEST_HOST/$1") 2>/dev/null
}

# True while pid $1 is a live (not zombie) process.
pid_alive() {
    local pid=$1 state
    kill -0 "$pid" 2>/dev/null || return 1
    if [[ -r /proc/$pid/stat ]]; then
        state=$(sed -E 's/^.*\) (.).*$/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
        [[ $state != Z ]] || return 1
    fi
    return 0
}

# Prints a port that nothing listens on, below the usual ephemeral range
# (32768-60999 on Linux) so that outgoing connections never hold it.
pick_port() {
    local port tries=0
    while ((tries < 200)); do
        port=$((20000 + RANDOM % 12000))
        tries=$((tries + 1))
        if [[ " ${USED_PORTS[*]-} " == *" $port "* ]]; then
            continue
        fi
        if ! port_open "$port"; then
            echo "$port"
            return 0
        fi
    done
    die "found no free TCP port on $TEST_HOST"
}

listener_plain() {
    local port=$1
    cat <<EOF
# Plain TCP, anonymous access.
listener $port $TEST_HOST
allow_anonymous true
EOF
}

listener_auth() {
    local port=$1
    cat <<EOF
# Plain TCP, user name and password required.
listener $port $TEST_HOST
allow_anonymous false
password_file $DIR/passwd
EOF
}

listener_tls() {
    local port=$1
    cat <<EOF
# TLS, anonymous access.
listener $port $TEST_HOST
allow_anonymous true
cafile $DIR/ca.crt
certfile $DIR/server.crt
keyfile $DIR/server.key
EOF
}

listener_tls_client() {
    local port=$1
    cat <<EOF
# TLS, a client certificate signed by the test CA required.
listener $port $TEST_HOST
allow_anonymous true
cafile $DIR/ca.crt
certfile $DIR/server.crt
keyfile $DIR/server.key
require_certificate true
EOF
}

listener_ws() {
    local port=$1
    cat <<EOF
# MQTT over WebSockets, anonymous access.
listener $port $TEST_HOST
protocol websockets
allow_anonymous true
EOF
}

listener_wss() {
    local port=$1
    cat <<EOF
# MQTT over WebSockets over TLS, anonymous access.
listener $port $TEST_HOST
protocol websockets
allow_anonymous true
cafile $DIR/ca.crt
certfile $DIR/server.crt
keyfile $DIR/server.key
EOF
}

# Prints the openssl command, installing it with apt-get when missing (as root).
find_openssl() {
    if ! command -v openssl >/dev/null 2>&1; then
        ((EUID == 0)) && command -v apt-get >/dev/null 2>&1 || return 1
        echo "broker.sh: installing openssl (for the test certificates)" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y --no-install-recommends openssl >&2 ||
            { apt-get update >&2 && apt-get install -y --no-install-recommends openssl >&2; } ||
            return 1
    fi
    command -v openssl
}

# openssl with its chatter kept in $DIR/openssl.log, shown when it fails.
ossl() {
    if ! "$OPENSSL" "$@" >>"$DIR/openssl.log" 2>&1; then
        tail -n 20 "$DIR/openssl.log" >&2
        die "openssl $1 failed"
    fi
}

# make_ca NAME SUBJECT: a self-signed CA, NAME.crt and NAME.key (EC P-256).
make_ca() {
    ossl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$DIR/$1.key" -out "$DIR/$1.crt" -days "$CERT_DAYS" -subj "$2" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign"
}

# sign NAME EXTENSIONS: NAME.crt for NAME.key, signed by the test CA.
sign() {
    local name=$1 ext=$2
    ossl req -new -key "$DIR/$name.key" -out "$DIR/$name.csr" -subj "/CN=mqttc test $name"
    printf '%s\n' "$ext" >"$DIR/$name.ext"
    ossl x509 -req -in "$DIR/$name.csr" -CA "$DIR/ca.crt" -CAkey "$DIR/ca.key" \
        -CAcreateserial -out "$DIR/$name.crt" -days "$CERT_DAYS" -extfile "$DIR/$name.ext"
    rm -f "$DIR/$name.csr" "$DIR/$name.ext"
}

# The test PKI: a CA; the broker's certificate (RSA, so that the ECDHE_RSA suites
# are usable) for localhost and 127.0.0.1; a client certificate (EC key, SEC1 form);
# and an unrelated CA.
make_certs() {
    OPENSSL=$(find_openssl) ||
        die "openssl not found (Debian: apt-get install -y openssl)"
    : >"$DIR/openssl.log"
    make_ca ca "/CN=mqttc test CA"
    make_ca other-ca "/CN=mqttc unrelated test CA"
    ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$DIR/server.key"
    sign server "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1"
    ossl ecparam -name prime256v1 -genkey -noout -out "$DIR/client.key"
    sign client "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
    # Test keys protect nothing; readable, so that a mosquitto that dropped its
    # privileges can load them.
    chmod 0644 "$DIR"/*.crt "$DIR"/*.key
    rm -f "$DIR"/*.srl
}

# Files the listeners need, made once per start.
prepare_files() {
    local passwd_bin
    passwd_bin=$(find_mosquitto_passwd) ||
        die "mosquitto_passwd not found (Debian: apt-get install -y mosquitto)"
    rm -f "$DIR/passwd"
    (umask 077 && "$passwd_bin" -b -c "$DIR/passwd" "$TEST_USER" "$TEST_PASS") ||
        die "mosquitto_passwd failed"
    make_certs
}

write_config() {
    local name
    {
        echo "# Written by scripts/broker.sh; mosquitto 2.0 syntax."
        echo "per_listener_settings true"
        if ((EUID == 0)); then
            # As root, mosquitto would switch to the user "mosquitto", who cannot
            # read files in a private temporary directory.
            echo "user root"
        fi
        echo "persistence false"
        echo "log_dest file $DIR/mosquitto.log"
        echo "log_type error"
        echo "log_type warning"
        echo "log_type notice"
        echo "log_type information"
        echo "log_timestamp true"
        echo "connection_messages true"
        echo "max_keepalive 65535"
        # No limit on QoS 1/2 messages in flight to a client: mosquitto 2.0.11
        # (Debian 12) stops delivering QoS 2 messages to a subscriber for good
        # once more than max_inflight_messages (default 20) are queued for it;
        # later releases fixed their inflight accounting.
        echo "max_inflight_messages 0"
        for name in "${LISTENERS[@]}"; do
            echo
            "listener_$name" "${PORTS[$name]}"
        done
        echo
        echo "# A Unix domain socket (port 0 and a path), anonymous access."
        echo "listener 0 $DIR/mosquitto.sock"
        echo "allow_anonymous true"
    } >"$DIR/mosquitto.conf"
}

write_env() {
    local name
    {
        printf 'export MQTTC_TEST_HOST=%q\n' "$TEST_HOST"
        for name in "${LISTENERS[@]}"; do
            printf 'export %s=%q\n' "${LISTENER_ENV[$name]}" "${PORTS[$name]}"
        done
        printf 'export MQTTC_TEST_UNIX=%q\n' "$DIR/mosquitto.sock"
        printf 'export MQTTC_TEST_USER=%q\n' "$TEST_USER"
        printf 'export MQTTC_TEST_PASS=%q\n' "$TEST_PASS"
        printf 'export MQTTC_TEST_CA=%q\n' "$DIR/ca.crt"
        printf 'export MQTTC_TEST_OTHER_CA=%q\n' "$DIR/other-ca.crt"
        printf 'export MQTTC_TEST_CLIENT_CERT=%q\n' "$DIR/client.crt"
        printf 'export MQTTC_TEST_CLIENT_KEY=%q\n' "$DIR/client.key"
        printf 'export MQTTC_TEST_MOSQUITTO=%q\n' "$MOSQUITTO"
        printf 'export MQTTC_TEST_BROKER_DIR=%q\n' "$DIR"
    } >"$DIR/env.tmp"
    mv "$DIR/env.tmp" "$DIR/env"
}

# Waits until every listener accepts connections. Returns 1 if mosquitto
# exited (the caller looks at the log), 2 on timeout.
wait_ready() {
    local pid=$1 name deadline ready
    deadline=$((SECONDS + START_TIMEOUT_S))
    while :; do
        if ! pid_alive "$pid"; then
            return 1
        fi
        ready=1
        for name in "${LISTENERS[@]}"; do
            if ! port_open "${PORTS[$name]}"; then
                ready=0
                break
            fi
        done
        [[ -S $DIR/mosquitto.sock ]] || ready=0
        if ((ready)); then
            return 0
        fi
        if ((SECONDS >= deadline)); then
            return 2
        fi
        sleep 0.1
    done
}

show_log() {
    echo "---- $DIR/mosquitto.log ----" >&2
    tail -n 30 "$DIR/mosquitto.log" >&2 2>/dev/null || true
    echo "---- mosquitto stderr ----" >&2
    tail -n 30 "$DIR/mosquitto.out" >&2 2>/dev/null || true
}

cmd_start() {
    local attempt name pid status
    MOSQUITTO=$(find_mosquitto) ||
        die "mosquitto not found (Debian: apt-get install -y mosquitto)"
    mkdir -p "$DIR"
    DIR=$(cd "$DIR" && pwd)
    if [[ -f $DIR/pid ]] && pid_alive "$(cat "$DIR/pid")"; then
        die "a broker already runs from $DIR (pid $(cat "$DIR/pid")); stop it first"
    fi
    prepare_files
    for ((attempt = 1; attempt <= START_ATTEMPTS; attempt++)); do
        USED_PORTS=()
        declare -gA PORTS=()
        for name in "${LISTENERS[@]}"; do
            PORTS[$name]=$(pick_port)
            USED_PORTS+=("${PORTS[$name]}")
        done
        write_config
        : >"$DIR/mosquitto.log"
        "$MOSQUITTO" -c "$DIR/mosquitto.conf" </dev/null >"$DIR/mosquitto.out" 2>&1 &
        pid=$!
        echo "$pid" >"$DIR/pid"
        status=0
        wait_ready "$pid" || status=$?
        case $status in
        0)
            write_env
            echo "broker.sh: mosquitto (pid $pid) listening on $TEST_HOST:$(
                for name in "${LISTENERS[@]}"; do printf '%s(%s) ' "${PORTS[$name]}" "$name"; done
            )"
            echo "broker.sh: environment in $DIR/env"
            return 0
            ;;
        1)
            wait "$pid" 2>/dev/null || true
            rm -f "$DIR/pid"
            if grep -qi "address already in use" "$DIR/mosquitto.log" "$DIR/mosquitto.out" 2>/dev/null; then
                echo "broker.sh: a port was taken meanwhile; trying other ports" >&2
                continue
            fi
            show_log
            die "mosquitto exited at start (config: $DIR/mosquitto.conf)"
            ;;
        *)
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
            rm -f "$DIR/pid"
            show_log
            die "mosquitto did not accept connections within ${START_TIMEOUT_S}s"
            ;;
        esac
    done
    show_log
    die "could not start mosquitto after $START_ATTEMPTS attempts"
}

cmd_stop() {
    local pid deadline
    [[ -d $DIR ]] || die "no such directory: $DIR"
    if [[ ! -f $DIR/pid ]]; then
        echo "broker.sh: no broker recorded in $DIR" >&2
        return 0
    fi
    pid=$(cat "$DIR/pid")
    [[ $pid =~ ^[0-9]+$ ]] || die "bad pid file $DIR/pid"
    if pid_alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        deadline=$((SECONDS + STOP_TIMEOUT_S))
        while pid_alive "$pid"; do
            if ((SECONDS >= deadline)); then
                echo "broker.sh: mosquitto (pid $pid) ignored SIGTERM; killing it" >&2
                kill -KILL "$pid" 2>/dev/null || true
                sleep 0.2
                break
            fi
            sleep 0.1
        done
    fi
    rm -f "$DIR/pid"
    echo "broker.sh: stopped mosquitto (pid $pid)"
}

(($# == 2)) || usage
DIR=$2
case $1 in
start) cmd_start ;;
stop) cmd_stop ;;
*) usage ;;
esac
