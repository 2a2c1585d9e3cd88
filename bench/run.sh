#!/usr/bin/env bash
# Benchmarks mqttc against libmosquitto, paho.mqtt.c (MQTTAsync) and rumqttc: builds
# every client and the servers, runs the same workloads through each on this machine,
# and prints a table of medians, with the spread of the runs (slowest and fastest) and
# mqttc's ratio to each peer. rumqttc runs twice: its synchronous Client and its
# AsyncClient on a tokio current-thread runtime (its fastest); mqttc-v5 is mqttc doing
# the same work under MQTT 5.
#
#   bench/run.sh [--quick] [--runs N] [--cases "pub0 pub1 ..."]
#
#   --quick   tiny sizes, one run each: proves the harness works (CI runs this)
#   --runs N  runs per case and client (default 3; the table shows medians)
#   --cases   a subset of: pub0 pub1 pub2 recv big ext0 lat idle raw
#
# Throughput cases talk to bench/sink.c, a minimal epoll server that acknowledges and
# discards (and floods a subscriber for `recv`); the latency case goes through a real
# mosquitto, broker and client pinned to different CPUs. Needs libmosquitto-dev,
# libpaho-mqtt-dev and mosquitto (installed with apt-get when run as root), a C
# compiler and cargo. Raw results go to target/bench/results.txt.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
# shellcheck source=scripts/common.sh
. scripts/common.sh

QUICK=0
RUNS=3
CASES="pub0 pub1 pub2 recv big ext0 lat idle raw"
usage() {
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
while (($# > 0)); do
    case $1 in
    --quick) QUICK=1 ;;
    --runs)
        RUNS=${2:?}
        shift
        ;;
    --cases)
        CASES=${2:?}
        shift
        ;;
    -h | --help) usage ;;
    *) usage ;;
    esac
    shift
done
if ((QUICK)); then
    RUNS=1
fi

# -- what is needed --------------------------------------------------------------------
missing=()
[[ -f /usr/include/mosquitto.h ]] || missing+=(libmosquitto-dev)
[[ -f /usr/include/MQTTAsync.h ]] || missing+=(libpaho-mqtt-dev)
have_mosquitto || missing+=(mosquitto)
have cc || missing+=(build-essential)
have taskset || missing+=(util-linux)
if ((${#missing[@]} > 0)); then
    if ((EUID == 0)) && have apt-get; then
        log "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
    else
        die "missing packages; install them with:
    sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    fi
fi
ensure_cargo
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)

# -- build -------------------------------------------------------------------------------
OUT=$ROOT/target/bench
mkdir -p "$OUT"
log "building mqttc (cargo build --release) and the benchmark programs"
"$CARGO" build --release --quiet
CFLAGS=(-O2 -g -std=gnu11 -Wall -Wextra -Werror)
cc "${CFLAGS[@]}" bench/sink.c -o "$OUT/sink"
cc "${CFLAGS[@]}" bench/raw.c -o "$OUT/raw"
cc "${CFLAGS[@]}" -Iinclude bench/bench_mqttc.c -o "$OUT/bench_mqttc" \
    -L"$ROOT/target/release" -Wl,-rpath,"$ROOT/target/release" -lmqttc -lpthread
cc "${CFLAGS[@]}" bench/bench_mosq.c -o "$OUT/bench_mosq" -lmosquitto -lpthread
cc "${CFLAGS[@]}" bench/bench_paho.c -o "$OUT/bench_paho" -lpaho-mqtt3a -lpthread
CARGO_TARGET_DIR=$OUT/rumqttc "$CARGO" build --release --quiet \
    --manifest-path bench/rumqttc/Cargo.toml
RUMQTTC=$OUT/rumqttc/release/bench-rumqttc

# -- servers -----------------------------------------------------------------------------
# 10,000 idle connections need that many descriptors on both ends.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mqttc-bench.XXXXXX")
SINK_PID=
MOSQ_PID=
cleanup() {
    [[ -n $SINK_PID ]] && kill "$SINK_PID" 2>/dev/null
    [[ -n $MOSQ_PID ]] && kill "$MOSQ_PID" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$OUT/sink" "$TMP/sink.port" >"$TMP/sink.log" &
SINK_PID=$!
for _ in $(seq 100); do
    [[ -s $TMP/sink.port ]] && break
    sleep 0.05
done
SINK_PORT=$(cat "$TMP/sink.port")

# mosquitto on CPU 0, the latency clients on CPU 1 (or both on 0 on a 1-CPU machine).
NCPU=$(nproc)
BROKER_CPU=0
CLIENT_CPU=$((NCPU > 1 ? 1 : 0))
start_mosquitto() {
    local port
    for _ in 1 2 3 4 5; do
        port=$((20000 + RANDOM % 20000))
        printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' \
            "$port" >"$TMP/mosquitto.conf"
        taskset -c "$BROKER_CPU" "$MOSQUITTO" -c "$TMP/mosquitto.conf" >"$TMP/mosquitto.log" 2>&1 &
        MOSQ_PID=$!
        for _ in $(seq 50); do
            if ! kill -0 "$MOSQ_PID" 2>/dev/null; then
                break
            fi
            if (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
                MOSQ_PORT=$port
                return 0
            fi
            sleep 0.1
        done
        kill "$MOSQ_PID" 2>/dev/null || true
        wait "$MOSQ_PID" 2>/dev/null || true
        MOSQ_PID=
    done
    die "mosquitto did not start: $(cat "$TMP/mosquitto.log")"
}

# -- running -----------------------------------------------------------------------------
RESULTS=$OUT/results.txt
: >"$RESULTS"
RUN_TIMEOUT=600

# field LINE KEY: the value of KEY=... in a RESULT line
field() {
    sed -n "s/.*[[:space:]]$2=\([^[:space:]]*\).*/\1/p" <<<"$1"
}

sink_lines() {
    wc -l <"$TMP/sink.log"
}

# throughput CASE CLIENT COMMAND...: run against the sink, RUNS times; records
# "T CASE CLIENT msgs_per_s cpu_s_per_M sink_cpu_s_per_M" for each run.
throughput() {
    local case=$1 client=$2 before line msgs secs cpu sline scpu
    shift 2
    for ((r = 1; r <= RUNS; r++)); do
        before=$(sink_lines)
        if ! line=$(timeout "$RUN_TIMEOUT" "$@" 2>"$TMP/err" | grep '^RESULT'); then
            echo "  $case/$client: FAILED: $(tail -3 "$TMP/err")" >&2
            FAILURES=$((FAILURES + 1))
            continue
        fi
        # The sink reports when it sees the connection close.
        for _ in $(seq 200); do
            (($(sink_lines) > before)) && break
            sleep 0.01
        done
        sline=$(tail -n 1 "$TMP/sink.log")
        (($(sink_lines) > before)) || sline=""
        msgs=$(field "$line" msgs)
        secs=$(field "$line" secs)
        cpu=$(field "$line" cpu)
        scpu=$(field "$sline" cpu)
        awk -v c="$case" -v n="$client" -v m="$msgs" -v s="$secs" -v u="$cpu" -v k="${scpu:-nan}" \
            'BEGIN { printf "T %s %s %.0f %.4f %s\n", c, n, m / s, u * 1e6 / m,
                     (k == "nan" ? "-" : sprintf("%.4f", k * 1e6 / m)) }' >>"$RESULTS"
        printf '  %-5s %-18s run %d: %s\n' "$case" "$client" "$r" "${line#RESULT }"
    done
}

# latency CLIENT COMMAND...: records "L lat CLIENT p50 p99 max"
latency() {
    local client=$1 line
    shift
    for ((r = 1; r <= RUNS; r++)); do
        if ! line=$(timeout "$RUN_TIMEOUT" taskset -c "$CLIENT_CPU" "$@" 2>"$TMP/err" | grep '^RESULT'); then
            echo "  lat/$client: FAILED: $(tail -3 "$TMP/err")" >&2
            FAILURES=$((FAILURES + 1))
            continue
        fi
        echo "L lat $client $(field "$line" p50) $(field "$line" p99) $(field "$line" max)" >>"$RESULTS"
        printf '  %-5s %-18s run %d: %s\n' lat "$client" "$r" "${line#RESULT }"
    done
}

# idle CLIENT COMMAND...: records "I idle CLIENT bytes_per_conn misc_ns"
idle() {
    local client=$1 line
    shift
    for ((r = 1; r <= RUNS; r++)); do
        if ! line=$(timeout "$RUN_TIMEOUT" "$@" 2>"$TMP/err" | grep '^RESULT'); then
            echo "  idle/$client: FAILED: $(tail -3 "$TMP/err")" >&2
            FAILURES=$((FAILURES + 1))
            continue
        fi
        echo "I idle $client $(field "$line" mem_per_conn) $(field "$line" misc_ns) $(field "$line" conns)" >>"$RESULTS"
        printf '  %-5s %-18s run %d: %s\n' idle "$client" "$r" "${line#RESULT }"
    done
}

if ((QUICK)); then
    N0=20000 N1=5000 N2=5000 NR=20000 NB=500 NL=200 NI=100
else
    N0=1000000 N1=200000 N2=100000 NR=1000000 NB=20000 NL=10000 NI=10000
fi
SIZE=64
BIG=16384
FAILURES=0
H=127.0.0.1
B=$OUT

log "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); $RUNS run(s) per case"
has_case() { [[ " $CASES " == *" $1 "* ]]; }

if has_case raw; then
    log "raw socket limits ($N0 QoS 0 PUBLISH of $SIZE bytes to the sink)"
    throughput raw raw-64KiB-writes "$B/raw" chunk $H "$SINK_PORT" $N0 $SIZE
    throughput raw raw-write-per-pkt "$B/raw" perpkt $H "$SINK_PORT" $N0 $SIZE
fi
for spec in "pub0 pub0 $N0 $SIZE" "pub1 pub1 $N1 $SIZE" "pub2 pub2 $N2 $SIZE" \
    "recv recv $NR $SIZE" "big pub1 $NB $BIG"; do
    read -r case mode n size <<<"$spec"
    has_case "$case" || continue
    log "$case: $mode, $n messages of $size bytes"
    throughput "$case" mqttc "$B/bench_mqttc" "$mode" $H "$SINK_PORT" "$n" "$size"
    # The same work under MQTT 5 (its cost against 3.1.1 is one of the targets).
    if [[ $case == pub0 || $case == pub1 || $case == recv ]]; then
        throughput "$case" mqttc-v5 env BENCH_MQTT5=1 "$B/bench_mqttc" "$mode" $H "$SINK_PORT" "$n" "$size"
    fi
    throughput "$case" libmosquitto "$B/bench_mosq" "$mode" $H "$SINK_PORT" "$n" "$size"
    throughput "$case" paho.mqtt.c "$B/bench_paho" "$mode" $H "$SINK_PORT" "$n" "$size"
    throughput "$case" rumqttc "$RUMQTTC" "$mode" $H "$SINK_PORT" "$n" "$size"
    throughput "$case" rumqttc-async "$RUMQTTC" async "$mode" $H "$SINK_PORT" "$n" "$size"
done
if has_case ext0; then
    log "ext0: QoS 0 publish from one thread through an external epoll loop, $N0 messages"
    throughput ext0 mqttc "$B/bench_mqttc" ext0 $H "$SINK_PORT" $N0 $SIZE
    throughput ext0 libmosquitto "$B/bench_mosq" ext0 $H "$SINK_PORT" $N0 $SIZE
fi
if has_case lat; then
    start_mosquitto
    log "lat: $NL round trips through mosquitto (port $MOSQ_PORT, CPU $BROKER_CPU; clients on CPU $CLIENT_CPU)"
    latency mqttc "$B/bench_mqttc" lat $H "$MOSQ_PORT" $NL $SIZE
    latency libmosquitto "$B/bench_mosq" lat $H "$MOSQ_PORT" $NL $SIZE
    latency paho.mqtt.c "$B/bench_paho" lat $H "$MOSQ_PORT" $NL $SIZE
    latency rumqttc "$RUMQTTC" lat $H "$MOSQ_PORT" $NL $SIZE
    latency rumqttc-async "$RUMQTTC" async lat $H "$MOSQ_PORT" $NL $SIZE
    latency raw-socket "$B/raw" lat $H "$MOSQ_PORT" $NL $SIZE
    kill "$MOSQ_PID" 2>/dev/null || true
    wait "$MOSQ_PID" 2>/dev/null || true
    MOSQ_PID=
fi
if has_case idle; then
    log "idle: $NI connections to the sink in one external epoll loop"
    idle mqttc "$B/bench_mqttc" idle $H "$SINK_PORT" $NI 0
    # libmosquitto holds three descriptors per client (its socket and a socketpair to
    # wake its loop thread): as many as the descriptor limit allows.
    NI_MOSQ=$((($(ulimit -n) - 64) / 3))
    ((NI_MOSQ > NI)) && NI_MOSQ=$NI
    idle libmosquitto "$B/bench_mosq" idle $H "$SINK_PORT" $NI_MOSQ 0
fi

# -- report ------------------------------------------------------------------------------
log "results (medians of $RUNS, spread = slowest..fastest run; load average now $(cut -d' ' -f1-3 /proc/loadavg))"
awk -f bench/report.awk "$RESULTS"
if ((FAILURES > 0)); then
    die "$FAILURES run(s) failed"
fi
