package org.segloss.backend.cpu;

import static org.segloss.backend.cpu.VectorKernels.FS;
import static org.segloss.backend.cpu.VectorKernels.L;

import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;

/**
 * The compute floor of the bench ({@link CpuBackend#computeFloor}): the transcendental work a loss
 * family cannot avoid, done by a plain vectorized pass over pred on every core with the same
 * deterministic {@link VectorMath} functions the kernels use, nothing else (no target, no stats, no
 * checks). Each pass returns a sum that depends on every result, so nothing is optimised away.
 * <ul>
 *   <li>sigmoid: sum of 1 / (1 + exp(-x)) (one exp and one division per element);</li>
 *   <li>bce: sum of log1p(exp(-|x|)) (one exp and one log1p per element, staged in two loops as the kernels do);</li>
 *   <li>softmax: per pixel of an NCHW tensor, log(sum_c exp(x_c)) (C exps and one log per pixel).</li>
 * </ul>
 */
final class VectorFloor {
    /** Elements (sigmoid, bce) or pixels (softmax) per staged chunk, in L1. */
    private static final int CHUNK = 512;
    /** Elements or pixels per parallel block (fixed). */
    private static final int BLOCK = 1 << 16;

    private VectorFloor() {
    }

    /** The pass of {@code work} over pred, {@code samples} x {@code classes} x pixels (NCHW for softmax). */
    static double run(CpuBackend.Work work, CpuBuffer pred, int samples, int classes) {
        int length = Math.toIntExact(pred.length());
        if (work != CpuBackend.Work.SOFTMAX) {
            int blocks = (length + BLOCK - 1) / BLOCK;
            return IntStream.range(0, blocks).parallel().mapToDouble(b -> {
                int from = b * BLOCK;
                return elementwise(work, pred, from, Math.min(length, from + BLOCK));
            }).sum();
        }
        int s = length / samples / classes;
        int blocks = (s + BLOCK - 1) / BLOCK;
        return IntStream.range(0, samples * blocks).parallel().mapToDouble(u -> {
            int from = (u % blocks) * BLOCK;
            return softmax(pred, (u / blocks) * classes * s, classes, s, from, Math.min(s, from + BLOCK));
        }).sum();
    }

    private static float[] source(CpuBuffer pred, int index, int len, float[] tmp) {
        pred.floats.get(index, tmp, 0, len);
        return tmp;
    }

    private static double elementwise(CpuBackend.Work work, CpuBuffer pred, int from, int to) {
        VectorScratch sc = new VectorScratch();
        float[] tmp = sc.floats(0, CHUNK);
        float[] e = sc.floats(1, CHUNK);
        boolean array = pred.floats.hasArray();
        double sum = 0;
        for (int i = from; i < to; i += CHUNK) {
            int len = Math.min(CHUNK, to - i);
            int vec = len - len % L;
            float[] x = array ? pred.floats.array() : source(pred, i, len, tmp);
            int xo = array ? pred.floats.arrayOffset() + i : 0;
            FloatVector acc = FloatVector.zero(FS);
            if (work == CpuBackend.Work.SIGMOID) {
                for (int j = 0; j < vec; j += L) {
                    FloatVector v = FloatVector.fromArray(FS, x, xo + j);
                    acc = acc.add(VectorKernels.ONE.div(VectorMath.exp(v.neg()).add(1f)));
                }
                for (int j = vec; j < len; j++) {
                    sum += 1 / (1 + Math.exp(-x[xo + j]));
                }
            } else {
                VectorMath.expNegAbs(x, xo, e, 0, vec);
                for (int j = 0; j < vec; j += L) {
                    acc = acc.add(VectorMath.log1pUnit(FloatVector.fromArray(FS, e, j)));
                }
                for (int j = vec; j < len; j++) {
                    sum += Math.log1p(Math.exp(-Math.abs(x[xo + j])));
                }
            }
            sum += VectorMath.sumLanes(acc);
        }
        return sum;
    }

    private static double softmax(CpuBuffer pred, int base, int classes, int s, int from, int to) {
        VectorScratch sc = new VectorScratch();
        float[] tmp = sc.floats(0, CHUNK);
        float[] sums = sc.floats(1, CHUNK);
        boolean array = pred.floats.hasArray();
        double sum = 0;
        for (int i = from; i < to; i += CHUNK) {
            int len = Math.min(CHUNK, to - i);
            int vec = len - len % L;
            java.util.Arrays.fill(sums, 0, len, 0f);
            for (int c = 0; c < classes; c++) {
                int index = base + c * s + i;
                float[] x = array ? pred.floats.array() : source(pred, index, len, tmp);
                int xo = array ? pred.floats.arrayOffset() + index : 0;
                for (int j = 0; j < vec; j += L) {
                    FloatVector.fromArray(FS, sums, j).add(VectorMath.exp(FloatVector.fromArray(FS, x, xo + j)))
                            .intoArray(sums, j);
                }
                for (int j = vec; j < len; j++) {
                    sums[j] += (float) Math.exp(x[xo + j]);
                }
            }
            FloatVector acc = FloatVector.zero(FS);
            for (int j = 0; j < vec; j += L) {
                acc = acc.add(VectorMath.log(FloatVector.fromArray(FS, sums, j)));
            }
            for (int j = vec; j < len; j++) {
                sum += Math.log(sums[j]);
            }
            sum += VectorMath.sumLanes(acc);
        }
        return sum;
    }
}
