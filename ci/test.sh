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
for k, (t, f, e, s) in sorted(groups.items()):
    print(f"segloss tests [{k}]: {t} run, {f} failed, {e} errors, {s} skipped")
PY
exit $status
