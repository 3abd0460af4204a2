#!/usr/bin/env bash
# The GPU check: on a machine with an NVIDIA GPU and driver but no JDK, runs the CUDA test suite
# (the whole contract suite on the CUDA backend, the device tests, the probe tests) with
# SEGLOSS_REQUIRE_CUDA=1, so an unusable CUDA backend fails instead of skipping; then
# `segloss bench --backend cuda --json` when the CLI is in the build; then prints one summary line.
#
# Run it from the folder made by ci/pack-gpu-check.sh (it is copied there as gpu-check.sh):
#   ci/pack-gpu-check.sh && scp -r target/gpu-check gpu-host: && ssh gpu-host gpu-check/gpu-check.sh
# Outputs (JUnit XML reports, console log, bench JSON) go to $OUT if set, else ./gpu-check-out.
# Exit status: 0 when every test passed (bench absence is tolerated), 1 otherwise.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ ! -x "$here/runtime/bin/java" ] && [ -x "$here/../target/gpu-check/runtime/bin/java" ]; then
  here="$(cd "$here/../target/gpu-check" && pwd)"   # called as ci/gpu-check.sh in the repository
fi
JAVA="$here/runtime/bin/java"
[ -x "$JAVA" ] || { echo "gpu-check: no runtime at $here/runtime (run ci/pack-gpu-check.sh first)" >&2; exit 2; }
out="${OUT:-$PWD/gpu-check-out}"
mkdir -p "$out"

cp="$here/lib-test/segloss-tests.jar"
for j in "$here"/lib/*.jar; do cp="$cp:$j"; done
console="$(ls "$here"/lib-test/junit-platform-console-standalone-*.jar | head -1)"

device="$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1 | tr -s ' ')"
[ -n "$device" ] || device="no nvidia-smi"
echo "gpu-check: $(cat "$here/COMMIT" 2>/dev/null || echo '?') on $device"

export SEGLOSS_REQUIRE_CUDA="${SEGLOSS_REQUIRE_CUDA:-1}"   # 0 only to try the script on a machine without a GPU
jvm=(--add-modules jdk.incubator.vector -Xss4m -Dsegloss.test.classpath="$cp")
"$JAVA" "${jvm[@]}" -jar "$console" execute --disable-banner --details=tree \
  --class-path "$cp" \
  --select-package org.segloss.cuda --select-package org.segloss.backend.cuda \
  --reports-dir "$out/reports" 2>&1 | tee "$out/tests.log"
tests_rc=${PIPESTATUS[0]}
count() { grep -Eo "[0-9]+ tests $1" "$out/tests.log" | tail -1 | grep -Eo '^[0-9]+' || echo "?"; }
ok="$(count successful)"; failed="$(count failed)"; skipped="$(count skipped)"; aborted="$(count aborted)"

if "$JAVA" "${jvm[@]}" -cp "$cp" org.segloss.cli.Main bench --backend cuda --json > "$out/bench.json" 2> "$out/bench.log"; then
  bench="ok ($(wc -c < "$out/bench.json") bytes of JSON in $out/bench.json)"
elif grep -q "Could not find or load main class org.segloss.cli.Main" "$out/bench.log"; then
  bench="absent (org.segloss.cli.Main is not in this build)"
else
  bench="failed (see $out/bench.log)"
fi

result=PASS
[ "$tests_rc" = 0 ] && [ "$failed" = 0 ] || result=FAIL
[ "$ok" != 0 ] && [ "$ok" != "?" ] || { result=FAIL; ok="$ok (no test ran)"; }
echo "gpu-check: $result device=[$device] tests: $ok ok, $failed failed, $skipped skipped, $aborted aborted; bench: $bench"
[ "$result" = PASS ]
