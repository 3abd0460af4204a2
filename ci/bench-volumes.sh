#!/usr/bin/env bash
# Benchmark of `segloss score` on 3-D NIfTI volumes with and without --surface (not a test).
# Usage: ci/bench-volumes.sh [COUNT] [NX NY NZ] [BACKENDS] [EXTRA]   (default: 100 volumes of 256x256x128, "cpu opencl")
# EXTRA: more score options for every run, e.g. --classes 4
# SEGLOSS_JAVA_OPTS: more JVM options for every run, e.g. -Xlog:gc:file=target/bench-volumes/gc-%p.log (the runs'
# stdout is dropped: write such evidence to files, one per process with %p)
# Generates the volumes once under target/bench-volumes (uint8 .nii.gz, 4 classes, spacing 0.8x0.8x2), then
# per backend runs score three ways under /usr/bin/time -v: without --surface, with --surface (class 0
# included) and with --surface --exclude-background. Prints one table: volumes/s (the score command's own
# rate: files over the scoring time, JVM start excluded), the ratio to the run without --surface of the same
# backend (issue 13's target: >= 0.5 on the CPU), the decode and surface milliseconds per volume (per decode
# thread; the surface time of a device backend is on the calling thread), peak RSS, wall time with the JVM,
# the CPU utilisation and the CPU seconds (user + system, JVM start included: steadier than the rate on a
# loaded machine), and the load around it; then whether the CPU and OpenCL JSON are byte-identical.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-100}"; nx="${2:-256}"; ny="${3:-256}"; nz="${4:-128}"; backends="${5:-cpu opencl}"; extra="${6:-}"
data="target/bench-volumes/${count}x${nx}x${ny}x${nz}"
mvn -q -B -o test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
# a private copy of the classes: a build during the benchmark does not change what the runs load
rm -rf target/bench-volumes/classes && mkdir -p target/bench-volumes/classes
cp -r target/classes target/test-classes target/bench-volumes/classes/
cp="target/bench-volumes/classes/classes:target/bench-volumes/classes/test-classes:$(cat target/cp.txt)"
if [ ! -d "$data/target" ]; then
  nice java -cp "$cp" org.segloss.score.SyntheticVolumes "$data" "$count" "$nx" "$ny" "$nz" 4
fi
java_opts="--add-modules jdk.incubator.vector -Xmx4g ${SEGLOSS_JAVA_OPTS:-}"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
rows=()
for backend in $backends; do
  base=""
  for variant in "" "--surface" "--surface --exclude-background"; do
    name="$backend$(echo "$variant" | tr -d ' ' | sed 's/--/-/g')"
    log="target/bench-volumes/$name.log"
    status=0
    rm -f "target/bench-volumes/$name.json"
    /usr/bin/time -v java $java_opts -cp "$cp" org.segloss.score.ScoreCommand --pred "$data/pred" --target "$data/target" \
      --backend "$backend" $variant $extra --format json --out "target/bench-volumes/$name.json" > /dev/null 2> "$log" || status=$?
    rate="$(grep -o '([0-9.]* files/s)' "$log" | grep -o '[0-9.]*' | head -1 || true)"
    rss="$(grep 'Maximum resident set size' "$log" | grep -o '[0-9]*$' || echo 0)"
    wall="$(grep 'Elapsed (wall clock)' "$log" | grep -o '[0-9:.]*$' || true)"
    decode="$(grep -o 'decode [0-9.]* ms' "$log" | grep -o '[0-9.]*' | head -1 || true)"
    surface="$(grep -o 'surface distances [0-9.]* ms' "$log" | grep -o '[0-9.]*' | head -1 || true)"
    cpu="$(grep 'Percent of CPU' "$log" | grep -o '[0-9]*%' || true)"
    cpus="$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.1f", s }' "$log")"
    if [ -z "$rate" ]; then
      rows+=("$(printf '%-8s %-32s %9s %6s %9s %10s %8s %8s %5s %6s' "$backend" "${variant:-(no --surface)}" "failed" "-" "-" "-" "-" "$wall" "-" "-") (exit $status, see $log)")
      continue
    fi
    [ -z "$variant" ] && base="$rate"
    ratio="$(awk -v r="$rate" -v b="$base" 'BEGIN { if (b > 0) printf "%.2f", r / b; else print "-" }')"
    rows+=("$(printf '%-8s %-32s %9s %6s %9s %10s %8s %8s %5s %6s' "$backend" "${variant:-(no --surface)}" "$rate" "$ratio" \
      "${decode:--}" "${surface:--}" "$((rss / 1024))" "$wall" "${cpu:--}" "$cpus")")
  done
done
echo "data: $data ($(du -sh "$data" | cut -f1)), $(nproc) cores, load before $load_before, after $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %-32s %9s %6s %9s %10s %8s %8s %5s %6s\n' backend run volumes/s ratio "decode ms" "surface ms" "RSS MiB" wall CPU "CPU s"
for r in "${rows[@]}"; do
  echo "$r"
done
for variant in surface surface-exclude-background; do
  a="target/bench-volumes/cpu-$variant.json"; b="target/bench-volumes/opencl-$variant.json"
  if [ -f "$a" ] && [ -f "$b" ]; then
    if cmp -s "$a" "$b"; then echo "JSON --$variant: cpu and opencl identical"; else echo "JSON --$variant: cpu and opencl DIFFER"; fi
  fi
done
