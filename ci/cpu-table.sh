#!/usr/bin/env bash
# The README's CPU table of issue 14, regenerated: forward and forward+backward of the CPU vector kernels,
# hot, on 1 and 2 threads, against the read floor, the compute floor and the code before (a second build
# of an older commit, timed by the same tool in the same run). Prints the Markdown table on stdout; the
# raw measurements (tab-separated) stay in target/cpu-table/.
#
#   ci/cpu-table.sh                      # every row, 1 and 2 threads, before = 3a94dd1
#   BEFORE=<commit> ci/cpu-table.sh      # another "before"; BEFORE=none: no before columns
#   ROWS=bce,ce ci/cpu-table.sh          # some rows only (names in CpuFloorTable.ROWS)
#   THREADS="1 2" WARM_SECONDS=2 CPU_TIME=1 ci/cpu-table.sh   # CPU_TIME=1: process CPU times (loaded machines)
#
# About 7 minutes on 2 cores. Threads: the common fork-join pool's (parallelism 0 runs the passes on the
# caller alone, 1 on the caller and one worker), the same setting for both builds.
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

rows=()
if [ -n "${ROWS:-}" ]; then
    rows=(--rows "$ROWS")
fi
run() { # label classes-dir [--floors]
    local label="$1" classes="$2"
    local n="${label##*-}"
    shift 2
    echo "cpu-table: measuring $label ..." >&2
    nice -n 0 "$java_bin" --add-modules jdk.incubator.vector -Dsegloss.quiet=true -Xmx8g \
        -Djava.util.concurrent.ForkJoinPool.common.parallelism=$((n - 1)) \
        -cp "$root/target/test-classes:$classes:$deps" org.segloss.bench.CpuFloorTable measure "$label" \
        --seconds "$warm" "${rows[@]}" "$@" > "$out/$label.tsv"
}
tables=()
befores=()
for n in $threads; do
    run "now-$n" "$root/target/classes" --floors
    tables+=("$out/now-$n.tsv")
    if [ "$before" != "none" ]; then
        run "before-$n" "$out/before-$before/target/classes"
        befores+=(--before "$out/before-$n.tsv")
    fi
done
cpu=()
if [ "${CPU_TIME:-0}" = 1 ]; then
    cpu=(--cpu)
fi
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; load before the run: $load; before = $before"
echo
"$java_bin" -cp "$root/target/test-classes:$root/target/classes:$deps" org.segloss.bench.CpuFloorTable table \
    "${tables[@]}" "${befores[@]}" "${cpu[@]}"
