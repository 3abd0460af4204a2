#!/usr/bin/env bash
# Runs the GPU check (target/gpu-check, from ci/pack-gpu-check.sh) against a host emulation of the
# CUDA driver: ci/emulated-gpu/fake_driver.cpp is compiled with g++ together with kernels-cu/segloss.cu and edt.cu
# (CUDA keywords mapped to threads and barriers by emu_runtime.h) into a libcuda.so.1 that
# libJCudaDriver then loads through LD_LIBRARY_PATH. This exercises the Java backend and the kernels'
# logic on a machine without a GPU; it says nothing about speed, PTX or the real driver.
# Usage: ci/emulated-gpu-check.sh   (after ci/pack-gpu-check.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
build="target/emulated-gpu"
mkdir -p "$build"
# __shared__ arrays become static; the one dynamic shared array becomes the launch's buffer
sed 's/extern __shared__ unsigned int class_counts\[\];/unsigned int* class_counts = (unsigned int*) emu_dynamic_shared;/' \
  kernels-cu/segloss.cu > "$build/segloss_emu.inc"
# every other kernel file (its own PTX module on a GPU) joins the same emulated driver
cp kernels-cu/edt.cu "$build/edt_emu.inc"
g++ -O2 -std=c++17 -shared -fPIC -pthread -Wno-unknown-pragmas -I ci/emulated-gpu -I "$build" -I kernels-cl \
  -o "$build/libcuda.so.1" ci/emulated-gpu/fake_driver.cpp
echo "emulated-gpu-check: built $build/libcuda.so.1"
# Under nhwc the last dimension is the channel count: the agreement cases whose name ends the shape with
# 1000 or more (nhwc [1, 1, 70000], [2, 2, 9000], [2, 1, 4099], [3, 4, 1000], [1, 2, 70000]) have thousands
# of rows (or classes) of few pixels: thousands of blocks, fine on a GPU, minutes to hours each on fibers
# (nhwc [3, 4, 1000] multiclass: 43 s; [2, 2, 9000]: over 7 minutes). The emulation leaves them out.
export JAVA_TOOL_OPTIONS="${JAVA_TOOL_OPTIONS:-} -Dsegloss.test.cases=(?!.*nhwc.*[0-9]{4}\]).*"
# the benchmarks only show that they run: small shapes (a 1 GiB pass takes hours on fibers)
export GPU_CHECK_BENCH_SHAPE="${GPU_CHECK_BENCH_SHAPE:-2,3,32,32}" GPU_CHECK_BIG_SHAPE="${GPU_CHECK_BIG_SHAPE:-1,1,128,128}"
LD_LIBRARY_PATH="$PWD/$build" OUT="${OUT:-$PWD/$build/out}" target/gpu-check/gpu-check.sh
