#!/usr/bin/env bash
# Makes a small Java runtime with jlink for machines without a JDK (ci/gpu-check.sh):
#   java.base, java.logging (JCuda/JOCL/JUnit logging), jdk.incubator.vector (CPU kernels),
#   java.sql + java.xml (JUnit console reports, Jackson's optional date support), jdk.unsupported,
#   jdk.zipfs (the JUnit console scans test jars through the zip file system).
# Debug symbols stripped, no man pages or headers, compressed.
# Usage: ci/make-runtime.sh [output-dir]   (default: target/runtime). Needs a JDK 17+ with jmods.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/runtime}"
JAVA_HOME="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}"
JLINK="$JAVA_HOME/bin/jlink"
[ -x "$JLINK" ] || { echo "make-runtime: no jlink in $JAVA_HOME (set JAVA_HOME to a JDK)" >&2; exit 2; }
[ -d "$JAVA_HOME/jmods" ] || { echo "make-runtime: $JAVA_HOME has no jmods folder" >&2; exit 2; }
MODULES="java.base,java.logging,java.sql,java.xml,jdk.incubator.vector,jdk.unsupported,jdk.zipfs"
rm -rf "$out"
mkdir -p "$(dirname "$out")"
"$JLINK" --module-path "$JAVA_HOME/jmods" --add-modules "$MODULES" \
  --strip-debug --strip-native-debug-symbols=exclude-debuginfo-files --no-man-pages --no-header-files --compress=2 --output "$out"
echo "make-runtime: $out ($(du -sm "$out" | cut -f1) MB, modules $MODULES, from $JAVA_HOME)"
