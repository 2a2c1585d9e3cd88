# shellcheck shell=bash
# Helpers shared by scripts/test.sh and scripts/demo.sh (sourced, not run).

log() {
    printf '\n==> %s\n' "$*"
}

die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

have() {
    command -v "$1" >/dev/null 2>&1
}

# mosquitto lives in /usr/sbin, which a non-root PATH may lack.
have_mosquitto() {
    have mosquitto || [[ -x /usr/sbin/mosquitto ]]
}

# ensure_packages valgrind|no-valgrind: installs, with apt-get, what the build and the
# tests need and this machine lacks. Without root (or apt-get), prints the
# command to run and exits.
ensure_packages() {
    local want_valgrind=$1 missing=()
    have_mosquitto || missing+=(mosquitto)
    have mosquitto_passwd || [[ -x /usr/bin/mosquitto_passwd ]] || missing+=(mosquitto)
    have mosquitto_pub || missing+=(mosquitto-clients)
    have cmake || missing+=(cmake)
    have openssl || missing+=(openssl) # scripts/broker.sh makes test certificates with it
    have pkg-config || missing+=(pkg-config)
    # Real proxies for tests/c/test_proxy.c (HTTP CONNECT, SOCKS5, SOCKS4).
    have tinyproxy || missing+=(tinyproxy)
    have microsocks || missing+=(microsocks)
    have danted || [[ -x /usr/sbin/danted ]] || missing+=(dante-server)
    if ! have cc || ! have c++ || ! have make; then
        missing+=(build-essential)
    fi
    if [[ $want_valgrind == valgrind ]]; then
        have valgrind || missing+=(valgrind)
    fi
    if ((${#missing[@]} > 0)); then
        # de-duplicate
        mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
        if ((EUID == 0)) && have apt-get; then
            log "installing ${missing[*]}"
            export DEBIAN_FRONTEND=noninteractive
            apt-get update
            apt-get install -y --no-install-recommends "${missing[@]}"
        elif have apt-get; then
            die "missing packages; install them with:
    sudo apt-get update && sudo apt-get install -y ${missing[*]}"
        else
            die "missing: ${missing[*]} (Debian package names); install them with your package manager"
        fi
    fi
    ensure_cargo
}

# cargo is not installed by these scripts: Debian's is too old for this crate.
ensure_cargo() {
    CARGO=${CARGO:-cargo}
    if ! have "$CARGO"; then
        if [[ -x $HOME/.cargo/bin/cargo ]]; then
            export PATH="$HOME/.cargo/bin:$PATH"
        else
            die "cargo not found: install Rust with rustup (https://rustup.rs), e.g.
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y
then open a new shell (or run: . \$HOME/.cargo/env)"
        fi
    fi
    export CARGO
}

# Starts the test broker into a new temporary directory and exports its
# MQTTC_TEST_* variables. The caller's EXIT trap must call stop_broker.
start_broker() {
    BROKER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mqttc-broker.XXXXXX")
    scripts/broker.sh start "$BROKER_DIR"
    # shellcheck source=/dev/null
    . "$BROKER_DIR/env"
}

# stop_broker [show-log]: stops the broker start_broker started, if any.
stop_broker() {
    if [[ -n ${BROKER_DIR:-} && -d $BROKER_DIR ]]; then
        if [[ ${1:-} == show-log && -s $BROKER_DIR/mosquitto.log ]]; then
            echo "---- last lines of the broker log ----" >&2
            tail -n 40 "$BROKER_DIR/mosquitto.log" >&2 || true
        fi
        scripts/broker.sh stop "$BROKER_DIR" || true
        rm -rf "$BROKER_DIR"
    fi
    BROKER_DIR=
}

jobs_count() {
    if [[ -n ${MQTTC_JOBS:-} ]]; then
        echo "$MQTTC_JOBS"
    elif have nproc; then
        nproc
    else
        echo 2
    fi
}
