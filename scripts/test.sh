#!/usr/bin/env bash
# Runs every test of mqttc:
#   - the Rust unit and integration tests (cargo test --release),
#   - the C tests, the header checks and the examples (CMake + ctest),
#   - the same C tests built with ASan+UBSan, and the threaded ones with TSan
#     (tests/tsan.supp; skipped with --quick),
#   - the same C tests under valgrind memcheck (skipped with --quick),
#   - a build of a user's project against `cmake --install` and pkg-config,
#   - the benchmark harness at tiny sizes (bench/run.sh --quick; no timing is judged).
# The tests that need a broker get a private mosquitto (scripts/broker.sh),
# stopped on exit. Missing packages are installed with apt-get when run as
# root (mosquitto mosquitto-clients cmake pkg-config valgrind, build-essential
# when there is no C compiler); otherwise the command to run is printed.
#
#   scripts/test.sh [--quick]
#
# Environment: CARGO (cargo program), MQTTC_JOBS (parallel jobs; default nproc).
set -euo pipefail

usage() {
    echo "usage: $0 [--quick]   (--quick: no valgrind run)" >&2
    exit 2
}

QUICK=0
for arg in "$@"; do
    case $arg in
    --quick) QUICK=1 ;;
    -h | --help) usage ;;
    *) usage ;;
    esac
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
# shellcheck source=scripts/common.sh
. scripts/common.sh

FAILED=()
INSTALL_DIR=
TIMES=()       # "name: N s" for each ctest pass, printed at the end
CTEST_ARGS=()  # extra ctest arguments for the next configure_and_test

fail() {
    FAILED+=("$1")
    printf '\n!!! FAILED: %s\n' "$1" >&2
}

cleanup() {
    local status=$?
    if ((status != 0)) || ((${#FAILED[@]} > 0)); then
        stop_broker show-log
    else
        stop_broker
    fi
    if [[ -n $INSTALL_DIR ]]; then
        rm -rf "$INSTALL_DIR"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ((QUICK)); then
    ensure_packages no-valgrind
else
    ensure_packages valgrind
fi
JOBS=$(jobs_count)

log "cargo build --release"
"$CARGO" build --release

log "checking that the build left the committed header unchanged"
if have git && git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    if ! git ls-files --error-unmatch include/mqttc.h >/dev/null 2>&1; then
        fail "include/mqttc.h is not committed (commit the header that build.rs generates)"
    elif ! git diff --exit-code -- include/mqttc.h; then
        fail "the build changed include/mqttc.h: commit the regenerated header"
    else
        echo "include/mqttc.h is up to date"
    fi
else
    echo "not a git checkout: skipped"
fi

log "starting the test broker"
start_broker

log "cargo test --release"
if ! "$CARGO" test --release; then
    fail "cargo test --release"
fi

# configure_and_test BUILD_DIR NAME [cmake args...]
configure_and_test() {
    local dir=$1 name=$2
    shift 2
    log "$name: configuring and building in $dir"
    cmake -S "$ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
    cmake --build "$dir" --parallel "$JOBS"
    log "$name: ctest ${CTEST_ARGS[*]}"
    local t0=$SECONDS
    if ! (cd "$dir" && ctest --output-on-failure --parallel "$JOBS" "${CTEST_ARGS[@]}"); then
        fail "$name"
    fi
    TIMES+=("$name: $((SECONDS - t0)) s")
}

configure_and_test build "C tests" -DMQTTC_TEST_WRAPPER= -DMQTTC_TEST_TIMEOUT=120

if ((QUICK)); then
    log "--quick: skipping the sanitizer runs"
else
    # Only the C test programs are instrumented; libmqttc.so is not (a Rust build with
    # sanitizers needs a nightly toolchain). ASan still checks every C access to memory
    # the library hands out or takes (messages, topics, granted-QoS arrays), and
    # LeakSanitizer every allocation, the library's included, when each case exits.
    san="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
    ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        MQTTC_TEST_TIME_SCALE=2 configure_and_test build/asan "C tests under ASan+UBSan" \
        -DMQTTC_TEST_WRAPPER= -DMQTTC_TEST_TIMEOUT=300 "-DCMAKE_C_FLAGS=$san" "-DCMAKE_CXX_FLAGS=$san" \
        "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined"
    # TSan on the threaded tests; see tests/tsan.supp for what it can and cannot see.
    # Left out: the suites that assert timings or memory figures, which TSan's
    # slowdown and shadow memory distort (hostile: RSS bound; options: retry
    # interval; qos: large payloads within 10 s; wire: keepalive timing).
    CTEST_ARGS=(-E '^(test_hostile|test_options|test_qos|test_wire)$')
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$ROOT/tests/tsan.supp" \
        MQTTC_TEST_TIME_SCALE=3 configure_and_test build/tsan "threaded C tests under TSan" \
        -DMQTTC_TEST_WRAPPER= -DMQTTC_TEST_TIMEOUT=300 "-DCMAKE_C_FLAGS=-fsanitize=thread -fno-omit-frame-pointer" \
        "-DCMAKE_CXX_FLAGS=-fsanitize=thread" "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread"
    CTEST_ARGS=()
fi

if ((QUICK)); then
    log "--quick: skipping the valgrind run"
else
    wrapper="valgrind;--error-exitcode=99;--leak-check=full;--errors-for-leak-kinds=definite"
    wrapper+=";--show-leak-kinds=definite;--num-callers=40;--quiet"
    if [[ -f tests/valgrind.supp ]]; then
        wrapper+=";--suppressions=$ROOT/tests/valgrind.supp"
    fi
    configure_and_test build/valgrind "C tests under valgrind" \
        "-DMQTTC_TEST_WRAPPER=$wrapper" -DMQTTC_TEST_TIMEOUT=900
fi

log "install test: cmake --install, find_package(mqttc), pkg-config"
INSTALL_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mqttc-install.XXXXXX")
install_test() {
    local prefix=$INSTALL_DIR/prefix pcdir libdir
    cmake --install build --prefix "$prefix"
    cmake -S tests/install -B "$INSTALL_DIR/build" -DCMAKE_PREFIX_PATH="$prefix"
    cmake --build "$INSTALL_DIR/build"
    "$INSTALL_DIR/build/install_test_shared"
    "$INSTALL_DIR/build/install_test_static"

    pcdir=$(dirname "$(find "$prefix" -name mqttc.pc -print -quit)")
    [[ -f $pcdir/mqttc.pc ]] || {
        echo "mqttc.pc was not installed" >&2
        return 1
    }
    libdir=$(dirname "$pcdir")
    echo "pkg-config: mqttc $(PKG_CONFIG_PATH=$pcdir pkg-config --modversion mqttc):" \
        "$(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs mqttc)"
    # shellcheck disable=SC2046 # pkg-config output is meant to be split
    cc -std=c11 -Wall -Wextra -Werror tests/install/main.c \
        $(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs mqttc) \
        -o "$INSTALL_DIR/install_test_pkgconfig"
    LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
        "$INSTALL_DIR/install_test_pkgconfig"
}
# set -e is off inside an `if` condition, even in a subshell: test $? instead.
set +e
(
    set -e
    install_test
)
status=$?
set -e
if ((status != 0)); then
    fail "install test"
fi

# Last, the benchmark harness at tiny sizes: proves that it builds and runs (a few
# seconds once built); no timing is judged. MQTTC_SKIP_BENCH=1 skips it, and so does
# a non-root run on a machine without the peers' packages.
if [[ ${MQTTC_SKIP_BENCH:-0} == 1 ]]; then
    log "bench/run.sh --quick: skipped (MQTTC_SKIP_BENCH=1)"
elif ((EUID != 0)) && [[ ! -f /usr/include/mosquitto.h || ! -f /usr/include/MQTTAsync.h ]]; then
    log "bench/run.sh --quick: skipped (needs libmosquitto-dev and libpaho-mqtt-dev)"
else
    log "bench/run.sh --quick"
    if ! timeout 900 bench/run.sh --quick; then
        fail "bench/run.sh --quick"
    fi
fi

echo
echo "test.sh: ctest pass durations:"
printf '  %s\n' "${TIMES[@]}"
if ((${#FAILED[@]} > 0)); then
    echo "test.sh: FAILED:" >&2
    printf '  - %s\n' "${FAILED[@]}" >&2
    exit 1
fi
if ((QUICK)); then
    echo "test.sh: everything passed (--quick: without valgrind)"
else
    echo "test.sh: everything passed"
fi
