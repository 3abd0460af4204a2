#!/usr/bin/env bash
# Renders a `segloss score --report` page in headless Chromium and saves a screenshot.
# Usage: ci/check-report.sh [OUT_DIR]   (default target/report-check). Needs Maven and Java 17.
# Installs chromium with apt-get when it is missing. Exits non-zero when the screenshot is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/report-check}"
rm -rf "$out" && mkdir -p "$out"
out="$(cd "$out" && pwd)"

mvn -q -B -o test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
cp="target/classes:target/test-classes:$(cat target/cp.txt)"

# A synthetic dataset: 40 pairs of 256x256 label maps with 19 classes, plus one corrupt file.
java -cp "$cp" org.segloss.score.SyntheticDataset "$out/data" 40 256 19
printf 'not a png' > "$out/data/pred/img9999.png"
cp "$out/data/target/img0000.png" "$out/data/target/img9999.png"
names="$out/names.txt"
printf '%s\n' road sidewalk building wall fence pole 'traffic light' 'traffic sign' vegetation terrain sky \
  person rider car truck bus train motorcycle bicycle > "$names"

set +e
java -cp "$cp" org.segloss.score.ScoreCommand --pred "$out/data/pred" --target "$out/data/target" \
  --classes 19 --class-names "$names" --worst 6 --surface --report "$out/report.html" --quiet > "$out/score.txt"
code=$?
set -e
if [ "$code" -ne 3 ]; then
  echo "expected exit code 3 (one corrupt file skipped), got $code" >&2
  exit 1
fi
test -s "$out/report.html"
grep -q 'src="data:image/png;base64,' "$out/report.html"   # one self-contained file: overlays inline
grep -q 'HD95 per class' "$out/report.html"

browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
if [ -z "$browser" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  browser="$(command -v chromium)"
fi
profile="$(mktemp -d)"
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$profile" --screenshot="$out/screenshot.png" \
  --window-size=1400,3000 "file://$out/report.html" 2>"$out/chromium.log" || true
rm -rf "$profile"
if [ ! -s "$out/screenshot.png" ]; then
  echo "no screenshot; chromium said:" >&2
  tail -20 "$out/chromium.log" >&2
  exit 1
fi
echo "screenshot: $out/screenshot.png ($(stat -c %s "$out/screenshot.png") bytes)"
