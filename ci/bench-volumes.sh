#!/usr/bin/env bash
# Benchmark of `segloss score` on 3-D NIfTI volumes with and without --surface (not a test).
# Usage: ci/bench-volumes.sh [COUNT] [NX NY NZ] [BACKENDS] [EXTRA]   (default: 100 volumes of 256x256x128, "cpu opencl")
# EXTRA: more score options for every run, e.g. --exclude-background
# Generates the volumes once under target/bench-volumes (uint8 .nii.gz, 4 classes, spacing 0.8x0.8x2),
# then runs score four ways per backend under /usr/bin/time -v and prints volumes/s and peak RSS.
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
echo "data: $data ($(du -sh "$data" | cut -f1))"
java_opts="--add-modules jdk.incubator.vector -Xmx4g"
for backend in $backends; do
  for surface in "" "--surface"; do
    log="target/bench-volumes/$backend${surface:+-surface}.log"
    nice /usr/bin/time -v java $java_opts -cp "$cp" org.segloss.score.ScoreCommand --pred "$data/pred" --target "$data/target" \
      --backend "$backend" $surface $extra --format json --out "target/bench-volumes/$backend${surface:+-surface}.json" > /dev/null 2> "$log" || true
    rate="$(grep -o '([0-9.]* files/s)' "$log" | tr -d '()')"
    rss="$(grep 'Maximum resident set size' "$log" | grep -o '[0-9]*$')"
    echo "backend $backend ${surface:-(no surface)} $extra: $rate, peak RSS $((rss / 1024)) MiB; $(grep '^scored' "$log" | sed 's/.*with/with/')"
  done
done
