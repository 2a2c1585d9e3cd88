#!/usr/bin/env bash
# Builds mqttc and its C demo, starts a private mosquitto, and runs
# examples-c/demo against it: the demo subscribes to a topic, publishes
# messages to it at QoS 0, 1 and 2, and prints each one as it comes back.
#
#   scripts/demo.sh [demo arguments...]     (see examples-c/demo.c)
#
# Missing packages are installed with apt-get when run as root (mosquitto
# mosquitto-clients cmake pkg-config, build-essential when there is no C
# compiler); otherwise the command to run is printed. Rust (cargo) must be
# installed already.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/common.sh
. scripts/common.sh

cleanup() {
    local status=$?
    if ((status != 0)); then
        stop_broker show-log
    else
        stop_broker
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ensure_packages no-valgrind

log "building the library (cargo, through CMake) and the demo"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build --target demo --parallel "$(jobs_count)"

log "starting a private mosquitto"
start_broker

log "running build/demo against $MQTTC_TEST_HOST:$MQTTC_TEST_PORT"
build/demo "$@"
log "demo finished"
