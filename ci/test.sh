#!/usr/bin/env bash
# The test command of the README: installs what the tests need (PoCL for a real OpenCL device),
# runs the whole test suite with Maven, and prints how many tests ran on each backend.
#
#   ci/test.sh            # from the repository root
#
# Environment:
#   SEGLOSS_REQUIRE_OPENCL=1   OpenCL tests fail instead of skipping when no OpenCL device is found (CI sets it)
#   SEGLOSS_SKIP_INSTALL=1     never call apt-get
set -euo pipefail
cd "$(dirname "$0")/.."

have_opencl_device() {
    # An ICD loader plus at least one ICD file (PoCL installs /etc/OpenCL/vendors/pocl.icd).
    ldconfig -p 2>/dev/null | grep -q 'libOpenCL.so.1' && ls /etc/OpenCL/vendors/*.icd >/dev/null 2>&1
}

if ! have_opencl_device && [ "${SEGLOSS_SKIP_INSTALL:-0}" != 1 ]; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        echo "ci/test.sh: installing PoCL (pocl-opencl-icd, ocl-icd-libopencl1) for a real OpenCL device"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq pocl-opencl-icd ocl-icd-libopencl1 >/dev/null
    else
        echo "ci/test.sh: no OpenCL device and cannot install PoCL (needs root and apt-get); OpenCL tests will skip"
    fi
fi

if [ -x ci/check-ptx.sh ]; then
    ci/check-ptx.sh
fi

status=0
mvn -B -ntp test "$@" || status=$?

# The CPU vector kernels again at narrower widths than this machine's preferred float species: 8 lanes (AVX2) and
# 4 lanes (128-bit vectors, as NEON's on ARM laptops), each where the machine's own width is larger. Some passes
# have code for particular widths (the uint8 widening needs 64-bit byte vectors) and the lane tails differ with
# the width, so every width is tested wherever CI runs. -XX:MaxVectorSize caps the species (bytes per vector).
lanes_class="$(mktemp -d)/Lanes.java"
printf 'public class Lanes { public static void main(String[] a) { System.out.println(jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length()); } }\n' > "$lanes_class"
lanes="$(java --add-modules jdk.incubator.vector "$lanes_class" 2>/dev/null || echo 0)"
for narrow in 8 4; do
    if [ "$status" = 0 ] && [ "$lanes" -gt "$narrow" ] 2>/dev/null; then
        echo "ci/test.sh: the preferred float species has $lanes lanes; the CPU vector tests again at $narrow lanes"
        # Surefire writes its reports to target/surefire-reports: the first run's are set aside meanwhile
        rm -rf "target/surefire-reports-${narrow}lanes" target/surefire-reports-all
        mv target/surefire-reports target/surefire-reports-all
        mvn -B -ntp test -Dvector.args="--add-modules jdk.incubator.vector -XX:MaxVectorSize=$((narrow * 4))" \
            -Dsurefire.failIfNoSpecifiedTests=false \
            -Dtest='VectorIoRowsTest,VectorKeepTest,VectorKernelsTest,CpuKeepTest,VectorBinaryCheckTest,VectorMathTest,CpuDeterminismTest,CpuThreadsTest,CpuLossContractTest,CpuVectorCatalogueTest,VectorBadValueTest' \
            || status=$?
        mv target/surefire-reports "target/surefire-reports-${narrow}lanes" 2>/dev/null || true
        mv target/surefire-reports-all target/surefire-reports
    fi
done

# Per-backend summary from the Surefire reports.
python3 - <<'PY' || true
import glob, re, xml.etree.ElementTree as ET
groups = {}
for f in glob.glob("target/surefire-reports/TEST-*.xml"):
    r = ET.parse(f).getroot()
    name = r.get("name", "")
    low = name.lower()
    key = "opencl" if "opencl" in low else "cuda" if "cuda" in low else "djl" if ".djl." in low else "cli" if ".cli." in low else "score" if ".score." in low else "spark" if ".spark." in low else "cpu/core"
    g = groups.setdefault(key, [0, 0, 0, 0])
    g[0] += int(r.get("tests", 0)); g[1] += int(r.get("failures", 0)); g[2] += int(r.get("errors", 0)); g[3] += int(r.get("skipped", 0))
for f in glob.glob("target/surefire-reports-*lanes/TEST-*.xml"):
    r = ET.parse(f).getroot()
    g = groups.setdefault("cpu vector at " + re.search(r"reports-(\d+)lanes", f).group(1) + " lanes", [0, 0, 0, 0])
    g[0] += int(r.get("tests", 0)); g[1] += int(r.get("failures", 0)); g[2] += int(r.get("errors", 0)); g[3] += int(r.get("skipped", 0))
for k, (t, f, e, s) in sorted(groups.items()):
    print(f"segloss tests [{k}]: {t} run, {f} failed, {e} errors, {s} skipped")
PY
exit $status
