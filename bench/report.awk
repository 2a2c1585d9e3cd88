# Turns target/bench/results.txt (written by bench/run.sh) into the table of medians,
# mqttc's ratio to each peer, and the targets. Portable awk (mawk has no asort).
#
#   T CASE CLIENT msgs_per_s cpu_s_per_M_msgs sink_cpu_s_per_M_msgs
#   L lat CLIENT p50_us p99_us max_us
#   I idle CLIENT bytes_per_conn loop_misc_ns connections

function median(key, col,    n, i, j, v, a, t) {
    n = cnt[key]
    if (n == 0) return ""
    for (i = 1; i <= n; i++) {
        v = val[key, i, col]
        if (v == "-") return "-"
        a[i] = v + 0
    }
    for (i = 2; i <= n; i++) {
        t = a[i]
        for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]
        a[j + 1] = t
    }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}

# The slowest and the fastest run of column `col`: "min..max".
function spread(key, col,    n, i, v, lo, hi) {
    n = cnt[key]
    if (n == 0) return ""
    for (i = 1; i <= n; i++) {
        v = val[key, i, col] + 0
        if (i == 1 || v < lo) lo = v
        if (i == 1 || v > hi) hi = v
    }
    return short(lo) ".." short(hi)
}

# 3,456,789 -> 3.46M; 75,123 -> 75.1k
function short(x) {
    if (x >= 1e6) return sprintf("%.2fM", x / 1e6)
    if (x >= 1e3) return sprintf("%.1fk", x / 1e3)
    return sprintf("%.0f", x)
}

# Whether client `n` is mqttc itself (either protocol) rather than a peer.
function own(n) {
    return n == "mqttc" || n == "mqttc-v5"
}

# The fastest peer of case `c` (its median), and its name in best_name.
function best_peer(c,    i, n, b) {
    b = 0
    best_name = ""
    for (i = 1; i <= nclients[c]; i++) {
        n = clients[c, i]
        if (!own(n) && rate[c, n] > b) {
            b = rate[c, n]
            best_name = n
        }
    }
    return b
}

function group(c, n) {
    return c SUBSEP n
}

function commas(x,    s, r) {
    s = sprintf("%.0f", x)
    r = ""
    while (length(s) > 3) {
        r = "," substr(s, length(s) - 2) r
        s = substr(s, 1, length(s) - 3)
    }
    return s r
}

function ok(b) {
    return b ? "met" : "NOT met"
}

{
    key = group($2, $3)
    if (!(key in cnt)) {
        cnt[key] = 0
        if (!(($1, $2) in seen_case)) {
            seen_case[$1, $2] = 1
            ncases[$1]++
            cases[$1, ncases[$1]] = $2
        }
        nclients[$2]++
        clients[$2, nclients[$2]] = $3
    }
    cnt[key]++
    for (i = 4; i <= NF; i++) val[key, cnt[key], i - 3] = $i
}

END {
    title["raw"] = "raw socket: pre-encoded QoS 0 PUBLISH, 64 B, to the sink"
    title["pub0"] = "publish QoS 0, 64 B, 1M msgs (loop thread + publishing thread)"
    title["pub1"] = "publish QoS 1, 64 B, max inflight 1000, until all PUBACKed"
    title["pub2"] = "publish QoS 2, 64 B, max inflight 1000, until all PUBCOMPed"
    title["recv"] = "receive QoS 0, 64 B, flooded by the server"
    title["big"] = "publish QoS 1, 16 KiB payloads, max inflight 1000"
    title["ext0"] = "publish QoS 0, 64 B, one thread driving an external epoll loop"
    order = "raw pub0 pub1 pub2 recv big ext0"
    nord = split(order, ord, " ")
    printf "%-20s %13s %15s %13s %13s %12s %12s\n", "client", "msg/s", "spread", "CPU s/M msg",
        "sink s/M msg", "mqttc speed", "mqttc CPU"
    printf "%-20s %13s %15s %13s %13s %12s %12s\n", "", "(median)", "(runs)", "(client)", "(server)",
        "(x peer)", "(peer / it)"
    for (o = 1; o <= nord; o++) {
        c = ord[o]
        if (!(c SUBSEP 1 in clients)) continue
        printf "\n%s: %s\n", c, title[c]
        mk = group(c, "mqttc")
        mr = median(mk, 1)
        mc = median(mk, 2)
        for (i = 1; i <= nclients[c]; i++) {
            n = clients[c, i]
            k = group(c, n)
            r = median(k, 1)
            u = median(k, 2)
            s = median(k, 3)
            rate[c, n] = r
            cpu[c, n] = u
            sp = (n == "mqttc" || mr == "" || c == "raw") ? "" : sprintf("%.2fx", mr / r)
            cp = (n == "mqttc" || mc == "" || c == "raw") ? "" : sprintf("%.2fx", u / mc)
            printf "  %-18s %13s %15s %13.3f %13s %12s %12s\n", n, commas(r), spread(k, 1), u,
                (s == "-" ? "-" : sprintf("%.3f", s)), sp, cp
        }
    }
    if (("lat", 1) in clients) {
        printf "\nlat: round trip publish -> receive through mosquitto, QoS 0, 64 B (microseconds)\n"
        printf "  %-18s %10s %10s %10s\n", "client", "p50", "p99", "max"
        for (i = 1; i <= nclients["lat"]; i++) {
            n = clients["lat", i]
            k = group("lat", n)
            p50[n] = median(k, 1)
            p99[n] = median(k, 2)
            printf "  %-18s %10.1f %10.1f %10.1f\n", n, p50[n], p99[n], median(k, 3)
        }
    }
    if (("idle", 1) in clients) {
        printf "\nidle: connections in one external epoll loop\n"
        printf "  %-18s %12s %16s %22s\n", "client", "connections", "bytes/connection", "loop_misc ns/call"
        for (i = 1; i <= nclients["idle"]; i++) {
            n = clients["idle", i]
            k = group("idle", n)
            mem[n] = median(k, 1)
            printf "  %-18s %12s %16s %22.1f\n", n, commas(median(k, 3)), commas(mem[n]), median(k, 2)
        }
    }

    printf "\ntargets (mqttc, ratios within this run)\n"
    if (("pub0", "mqttc") in rate && ("pub0", "libmosquitto") in rate) {
        x = rate["pub0", "mqttc"] / rate["pub0", "libmosquitto"]
        printf "  QoS 0 publish >= 6x libmosquitto: %.2fx (%s)\n", x, ok(x >= 6)
        least = 1
        for (i = 1; i <= nclients["pub0"]; i++) {
            n = clients["pub0", i]
            if (!own(n) && cpu["pub0", n] <= cpu["pub0", "mqttc"]) least = 0
        }
        printf "  QoS 0 publish CPU per message below every peer: %.3f s/M (%s)\n",
            cpu["pub0", "mqttc"], ok(least)
    }
    # Against rumqttc at its fastest (AsyncClient), or its Client when that is all there is.
    split("pub0 4 pub1 1.5 pub2 1.5", rt, " ")
    for (j = 1; j <= 6; j += 2) {
        c = rt[j]
        peer = ((c, "rumqttc-async") in rate) ? "rumqttc-async" : "rumqttc"
        if ((c, "mqttc") in rate && (c, peer) in rate) {
            x = rate[c, "mqttc"] / rate[c, peer]
            printf "  %s >= %sx %s: %.2fx (%s)\n", c, rt[j + 1], peer, x, ok(x >= rt[j + 1])
        }
    }
    split("recv 2 big 1.3", bt, " ")
    for (j = 1; j <= 4; j += 2) {
        c = bt[j]
        if ((c, "mqttc") in rate && (b = best_peer(c)) > 0) {
            x = rate[c, "mqttc"] / b
            printf "  %s >= %sx the best peer (%s): %.2fx (%s)\n", c, bt[j + 1], best_name, x,
                ok(x >= bt[j + 1])
        }
    }
    # MQTT 5 costs under 5% against 3.1.1 for the same work.
    split("pub0 pub1 recv", vc, " ")
    for (j = 1; j <= 3; j++) {
        c = vc[j]
        if ((c, "mqttc") in rate && (c, "mqttc-v5") in rate) {
            x = 100 * (1 - rate[c, "mqttc-v5"] / rate[c, "mqttc"])
            printf "  %s under MQTT 5 costs < 5%% against 3.1.1: %+.1f%% (%s)\n", c, x, ok(x < 5)
        }
    }
    if (("pub0", "mqttc") in rate && ("raw", "raw-64KiB-writes") in rate) {
        printf "  QoS 0 publish vs raw socket: %.1f%% of 64 KiB writes, %.2fx one write per packet\n",
            100 * rate["pub0", "mqttc"] / rate["raw", "raw-64KiB-writes"],
            rate["pub0", "mqttc"] / rate["raw", "raw-write-per-pkt"]
    }
    if (("ext0", "mqttc") in rate && ("raw", "raw-64KiB-writes") in rate) {
        printf "  external-loop QoS 0 vs raw socket: %.1f%% of 64 KiB writes, %.2fx one write per packet\n",
            100 * rate["ext0", "mqttc"] / rate["raw", "raw-64KiB-writes"],
            rate["ext0", "mqttc"] / rate["raw", "raw-write-per-pkt"]
    }
    if ("mqttc" in p99 && "libmosquitto" in p99) {
        printf "  latency p99 <= 0.9x libmosquitto's: %.1f vs %.1f us (%s)\n", p99["mqttc"],
            p99["libmosquitto"], ok(p99["mqttc"] <= 0.9 * p99["libmosquitto"])
    }
    if ("mqttc" in p50 && "raw-socket" in p50) {
        d = p50["mqttc"] - p50["raw-socket"]
        printf "  latency p50 within 10 us of the raw socket: %+.1f us (%s)\n", d, ok(d <= 10)
    }
    if ("mqttc" in mem) {
        printf "  idle memory <= 16 KiB per connection: %s bytes (%s)\n", commas(mem["mqttc"]),
            ok(mem["mqttc"] <= 16384)
    }
}
