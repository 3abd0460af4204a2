#!/usr/bin/env bash
# The GPU check: on a machine with an NVIDIA GPU and driver but no JDK, runs
#  1. the CUDA test suite (the whole contract suite on the CUDA backend, the device tests, the probe
#     tests) with SEGLOSS_REQUIRE_CUDA=1, so an unusable CUDA backend fails instead of skipping;
#  2. `segloss bench --backend cuda` on the default shape (GPU_CHECK_BENCH_SHAPE), then binary Dice on
#     1 GiB of predictions (GPU_CHECK_BIG_SHAPE, default 16,1,4096,4096) against the device's copy
#     bandwidth (targets: forward >= 80%, forward+backward >= 70%) and the cuBLAS composition where it
#     loads (cuBLAS 13 through the shim of ci/cublas-shim when there is no libcublas.so.12);
#  3. when `segloss info` finds an OpenCL GPU (NVIDIA's OpenCL driver; the ICD loader libOpenCL.so.1
#     travels along in opencl/ for machines without one), or GPU_CHECK_OPENCL=1: the OpenCL test suite
#     with SEGLOSS_REQUIRE_OPENCL=1 and the same two benchmarks with --backend opencl;
# then prints one summary line. Each step writes its results under $OUT as it finishes.
#
# Run it from the folder made by ci/pack-gpu-check.sh (it is copied there as gpu-check.sh):
#   ci/pack-gpu-check.sh && scp -r target/gpu-check gpu-host: && ssh gpu-host gpu-check/gpu-check.sh
# Outputs (info, JUnit XML reports, console logs, bench tables) go to $OUT if set, else ./gpu-check-out.
# Exit status: 0 when every test that ran passed, 1 otherwise (benchmarks and targets are reported, not judged).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ ! -x "$here/runtime/bin/java" ] && [ -x "$here/../target/gpu-check/runtime/bin/java" ]; then
  here="$(cd "$here/../target/gpu-check" && pwd)"   # called as ci/gpu-check.sh in the repository
fi
JAVA="$here/runtime/bin/java"
[ -x "$JAVA" ] || { echo "gpu-check: no runtime at $here/runtime (run ci/pack-gpu-check.sh first)" >&2; exit 2; }
out="${OUT:-$PWD/gpu-check-out}"
mkdir -p "$out"
big_shape="${GPU_CHECK_BIG_SHAPE:-16,1,4096,4096}"   # 2^28 floats: 1 GiB of predictions
bench_shape="${GPU_CHECK_BENCH_SHAPE:-8,4,512,512}"   # the default of segloss bench

cp="$here/lib-test/segloss-tests.jar"
for j in "$here"/lib/*.jar; do cp="$cp:$j"; done
console="$(ls "$here"/lib-test/junit-platform-console-standalone-*.jar | head -1)"

device="$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1 | tr -s ' ')"
[ -n "$device" ] || device="no nvidia-smi"
echo "gpu-check: $(cat "$here/COMMIT" 2>/dev/null || echo '?') on $device"

# OpenCL: the ICD loader from the pack when the system has none; NVIDIA's ICD when its .icd file is missing
if ! /sbin/ldconfig -p 2>/dev/null | grep -q 'libOpenCL.so.1 ' && [ -e "$here/opencl/libOpenCL.so.1" ]; then
  export LD_LIBRARY_PATH="$here/opencl${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
if ! ls /etc/OpenCL/vendors/*.icd >/dev/null 2>&1 && /sbin/ldconfig -p 2>/dev/null | grep -q 'libnvidia-opencl.so.1 '; then
  mkdir -p "$out/icd" && echo libnvidia-opencl.so.1 > "$out/icd/nvidia.icd"
  export OCL_ICD_VENDORS="$out/icd"
fi

# cuBLAS: JCublas 12.6 needs libcublas.so.12; with only cuBLAS 13 here, the shim from the pack forwards to it
cublas="libcublas.so.12"
if ! /sbin/ldconfig -p 2>/dev/null | grep -q 'libcublas.so.12 ' && [ -e "$here/cublas12-shim/libcublas.so.12" ]; then
  cublas13="$(/sbin/ldconfig -p 2>/dev/null | awk '/libcublas\.so\.13 / { print $NF; exit }')"
  [ -n "$cublas13" ] || cublas13="$(timeout 30 find / -xdev \( -path /proc -o -path /sys \) -prune -o \
    -name 'libcublas.so.13*' -print 2>/dev/null | head -1)"
  if [ -n "$cublas13" ]; then
    export SEGLOSS_CUBLAS13="$cublas13"
    export LD_LIBRARY_PATH="$here/cublas12-shim:$(dirname "$cublas13")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    cublas="cuBLAS 13 ($cublas13) through the libcublas.so.12 shim"
  else
    cublas="none (neither libcublas.so.12 nor libcublas.so.13 found)"
  fi
fi
echo "gpu-check: cuBLAS: $cublas"

jvm=(--add-modules jdk.incubator.vector -Xss4m -Xmx16g -Dsegloss.test.classpath="$cp")
# JCuda and JOCL load their JNI libraries with System.load: allowed without a warning on runtimes that know the flag
"$JAVA" --enable-native-access=ALL-UNNAMED -version >/dev/null 2>&1 && jvm+=(--enable-native-access=ALL-UNNAMED)
segloss() { "$JAVA" "${jvm[@]}" -cp "$cp" org.segloss.cli.Main "$@"; }
segloss info > "$out/info.txt" 2>&1
sed 's/^/  info: /' "$out/info.txt"

# run_tests NAME PACKAGE...: the JUnit console on those packages; sets NAME_summary and NAME_ok
run_tests() {
  local name="$1"; shift
  local selectors=()
  for p in "$@"; do selectors+=(--select-package "$p"); done
  "$JAVA" "${jvm[@]}" -jar "$console" execute --disable-banner --details=tree --class-path "$cp" "${selectors[@]}" \
    --reports-dir "$out/reports-$name" > "$out/tests-$name.log" 2>&1
  local rc=$?
  count() { grep -Eo "[0-9]+ tests $1" "$out/tests-$name.log" | tail -1 | grep -Eo '^[0-9]+' || echo "?"; }
  local ok failed skipped aborted
  ok="$(count successful)"; failed="$(count failed)"; skipped="$(count skipped)"; aborted="$(count aborted)"
  printf -v "${name}_summary" '%s' "$ok ok, $failed failed, $skipped skipped, $aborted aborted"
  if [ "$rc" = 0 ] && [ "$failed" = 0 ] && [ "$ok" != 0 ] && [ "$ok" != "?" ]; then
    printf -v "${name}_ok" '%s' 1
  else
    printf -v "${name}_ok" '%s' 0
    grep -E "✘|MethodSource|=>" "$out/tests-$name.log" | head -20 | sed "s/^/  $name: /"
  fi
  local summary_var="${name}_summary"
  echo "gpu-check: $name tests: ${!summary_var}"
}

# bench_backend B: the default-shape table and the 1 GiB Dice table; sets B_bench (one phrase)
bench_backend() {
  local b="$1" phrase
  if segloss bench --backend "$b" --shape "$bench_shape" --warmup-seconds 0.5 --max-seconds 0.5 > "$out/bench-$b.txt" 2> "$out/bench-$b.log"; then
    phrase="table in bench-$b.txt"
  else
    phrase="default shape FAILED (bench-$b.log)"
  fi
  if segloss bench --backend "$b" --shape "$big_shape" --losses dice --warmup-seconds 0.5 \
      > "$out/bench-$b-big.txt" 2> "$out/bench-$b-big.log"; then
    phrase="$phrase; $(targets "$out/bench-$b-big.txt" "$b")"
  else
    phrase="$phrase; dice $big_shape FAILED (bench-$b-big.log)"
  fi
  cat "$out/bench-$b.txt" "$out/bench-$b-big.txt" 2>/dev/null | sed "s/^/  bench: /"
  printf -v "${b}_bench" '%s' "$phrase"
}

# targets FILE B: Dice on the big shape as % of the copy bandwidth (columns: ... GB/s %copy), and cuBLAS
targets() {
  awk -v b="$2" -v shape="$big_shape" '
    $1 == b && $2 == "dice" && $3 == "binary" { ms[$4] = $5; pct[$4] = $9 + 0 }
    /cuBLAS comparison skipped/ { sub(/.*cuBLAS comparison skipped: /, ""); sub(/\)$/, ""); cublas = "cuBLAS skipped: " $0 }
    END {
      s = "dice " shape ": forward " pct["forward"] "% of copy (target 80%: " (pct["forward"] >= 80 ? "met" : "NOT met") ")"
      s = s ", forward+backward " pct["forward_backward"] "% (target 70%: " (pct["forward_backward"] >= 70 ? "met" : "NOT met") ")"
      if ("cublas_sums" in ms) s = s sprintf(", cuBLAS sums %.3f ms vs kernel forward %.3f ms (%.2fx)", ms["cublas_sums"], ms["forward"], ms["cublas_sums"] / ms["forward"])
      else if (cublas != "") s = s ", " cublas
      print s
    }' "$1"
}

export SEGLOSS_REQUIRE_CUDA="${SEGLOSS_REQUIRE_CUDA:-1}"   # 0 only to try the script on a machine without a GPU
run_tests cuda org.segloss.cuda org.segloss.backend.cuda
bench_backend cuda
echo "gpu-check: cuda bench: $cuda_bench"
result=PASS
[ "$cuda_ok" = 1 ] || result=FAIL
line="gpu-check: $result device=[$device] cuda tests: $cuda_summary; cuda bench: $cuda_bench; cuBLAS: $cublas"

opencl_gpu=0
grep -Eq '^ +for auto: +usable' "$out/info.txt" && opencl_gpu=1
if [ "${GPU_CHECK_OPENCL:-auto}" = 1 ] || { [ "${GPU_CHECK_OPENCL:-auto}" = auto ] && [ "$opencl_gpu" = 1 ]; }; then
  export SEGLOSS_REQUIRE_OPENCL=1
  run_tests opencl org.segloss.opencl
  bench_backend opencl
  echo "gpu-check: opencl bench: $opencl_bench"
  [ "$opencl_ok" = 1 ] || result=FAIL
  line="$line; opencl tests: $opencl_summary; opencl bench: $opencl_bench"
else
  line="$line; opencl: not run ($(grep -E '^ +for auto:' "$out/info.txt" | sed 's/^ *for auto: *//' | head -1))"
fi
echo "$line" | tee "$out/summary.txt"
[ "$result" = PASS ]
