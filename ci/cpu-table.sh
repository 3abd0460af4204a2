#!/usr/bin/env bash
# The README's CPU table of issue 14, regenerated: forward and forward+backward of the CPU vector kernels,
# hot, on 1 and 2 threads, against the read floor, the compute floor and the code before (a second build
# of an older commit). Prints the Markdown table on stdout; the raw rounds (tab-separated) stay in
# target/cpu-table/.
#
# Robust on a loaded machine: one JVM of each build per thread count, alternated row by row (REPEATS requests
# of each row, now then before); every request times ROUNDS rounds of floors and losses interleaved, so that the
# ratio to the floor is the median of ratios of figures timed next to each other, and "/ before" the median of
# ratios of requests that ran one right after the other (see CpuFloorTable).
#
#   ci/cpu-table.sh                      # every row, 1 and 2 threads, before = 3a94dd1
#   BEFORE=<commit> ci/cpu-table.sh      # another "before"; BEFORE=none: no before columns
#   ROWS=bce,ce ci/cpu-table.sh          # some rows only (names: CpuFloorTable rows)
#   THREADS="1 2" WARM_SECONDS=2 REPEATS=3 ROUNDS=7 CPU_TIME=1 ci/cpu-table.sh   # CPU_TIME=1: process CPU times
#
# About 15 minutes on 2 cores with the defaults. Threads: the common fork-join pool's (parallelism 0 runs the
# passes on the caller alone, 1 on the caller and one worker), the same setting for both builds.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
before="${BEFORE:-3a94dd1}"
threads="${THREADS:-1 2}"
warm="${WARM_SECONDS:-2}"
out="$root/target/cpu-table"
load="$(cut -d" " -f1-3 /proc/loadavg)"
mkdir -p "$out"
java_bin="java"
if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    java_bin="$JAVA_HOME/bin/java"
fi

echo "cpu-table: building this tree (test classes) ..." >&2
mvn -o -q -B test-compile dependency:build-classpath -Dmdep.outputFile="$out/cp.txt" >&2
deps="$(cat "$out/cp.txt")"
if [ "$before" != "none" ]; then
    src="$out/before-$before"
    if [ ! -d "$src/target/classes" ]; then
        echo "cpu-table: building $before (main classes) in $src ..." >&2
        rm -rf "$src" && mkdir -p "$src"
        git archive "$before" | tar -x -C "$src"
        (cd "$src" && mvn -o -q -B compile >&2)
    fi
fi

repeats="${REPEATS:-3}"
rounds="${ROUNDS:-7}"
if [ -n "${ROWS:-}" ]; then
    IFS=, read -r -a rows <<< "$ROWS"
else
    mapfile -t rows < <("$java_bin" -cp "$root/target/test-classes:$root/target/classes:$deps" org.segloss.bench.CpuFloorTable rows)
fi
start_server() { # label classes-dir fd-in fd-out [--floors]
    local label="$1" classes="$2" fin="$3" fout="$4"
    local n="${label##*-}"
    shift 4
    rm -f "$out/$label.in" "$out/$label.out"
    mkfifo "$out/$label.in" "$out/$label.out"
    "$java_bin" --add-modules jdk.incubator.vector -Dsegloss.quiet=true -Xmx8g \
        -Djava.util.concurrent.ForkJoinPool.common.parallelism=$((n - 1)) \
        -cp "$root/target/test-classes:$classes:$deps" org.segloss.bench.CpuFloorTable serve "$label" \
        --seconds "$warm" --rounds "$rounds" "$@" < "$out/$label.in" > "$out/$label.out" &
    eval "exec $fin>\"\$out/\$label.in\" $fout<\"\$out/\$label.out\""
}
ask() { # label fd-in fd-out row: one request, its lines appended to label.tsv
    local label="$1" fin="$2" fout="$3" row="$4" line
    echo "$row" >&"$fin"
    while IFS= read -r line <&"$fout"; do
        [ "$line" = "END" ] && return 0
        printf '%s\n' "$line" >> "$out/$label.tsv"
    done
    echo "cpu-table: the $label JVM ended before answering $row" >&2
    return 1
}
tables=()
befores=()
for n in $threads; do
    echo "cpu-table: measuring $n thread(s): ${rows[*]} ..." >&2
    : > "$out/now-$n.tsv"
    start_server "now-$n" "$root/target/classes" 3 4 --floors
    if [ "$before" != "none" ]; then
        : > "$out/before-$n.tsv"
        start_server "before-$n" "$out/before-$before/target/classes" 5 6
    fi
    for row in "${rows[@]}"; do
        for ((r = 0; r < repeats; r++)); do
            ask "now-$n" 3 4 "$row"
            if [ "$before" != "none" ]; then
                ask "before-$n" 5 6 "$row"
            fi
        done
    done
    exec 3>&- 4<&-
    if [ "$before" != "none" ]; then
        exec 5>&- 6<&-
        befores+=(--before "$out/before-$n.tsv")
    fi
    wait
    tables+=("$out/now-$n.tsv")
done
cpu=()
if [ "${CPU_TIME:-0}" = 1 ]; then
    cpu=(--cpu)
fi
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; load before the run: $load; before = $before"
echo
"$java_bin" -cp "$root/target/test-classes:$root/target/classes:$deps" org.segloss.bench.CpuFloorTable table \
    "${tables[@]}" "${befores[@]}" "${cpu[@]}"
