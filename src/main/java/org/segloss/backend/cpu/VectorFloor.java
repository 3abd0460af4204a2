package org.segloss.backend.cpu;

import static org.segloss.backend.cpu.VectorKernels.FS;
import static org.segloss.backend.cpu.VectorKernels.L;

import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;

/**
 * The compute floor of the bench ({@link CpuBackend#computeFloor}): the transcendental work a loss
 * family cannot avoid, done by the cheapest vectorized pass over pred, with the same deterministic
 * {@link VectorMath} functions and the same tricks the kernels use, nothing else (no target, no stats, no
 * checks). It must be a lower bound of every loss of its family: a loss faster than its floor means
 * the floor does too much ({@code bench} flags it).
 * <ul>
 *   <li>sigmoid: sum of 1 / (1 + e), e = exp(-|x|) (one exp and one division per element, in one loop as the
 *       kernels' sigmoid);</li>
 *   <li>bce: sum of log1p(e), e = exp(-|x|) (one exp and one log1p per element, with the division-free
 *       {@link VectorMath#log1pUnit} the kernels use for e in [0, 1]);</li>
 *   <li>softmax: per pixel of an NCHW tensor, log(sum_c exp(x_c)) (C exps and one log per pixel; the exp clamps by
 *       compare and blend, {@link VectorMath#expBlendClamped}, as cheap as the kernels' exp of x_c - max).</li>
 * </ul>
 *
 * <p>Why it is cut the way it is (each point made the earlier floor slower than the losses): each family's
 * pass is the cheaper of one loop and staged loops over an L1 chunk, each family in its own method, so C2
 * inlines each loop whole and never boxes the vectors (one method holding every family's inlined exp and
 * log1p overran the inlining budget and ran boxed): the sigmoid in one loop (exp and division, as the
 * kernels' region lanes; staged, it was slower than the dice forward), bce staged (exp, then log1p in the sum
 * loop: one loop with both ran 1.4-2x slower); a loop's sum leaves through a scratch array, never as a vector
 * ({@code FloatVector.toArray} boxes it, and with it the 1-thread bce floor sat at 10-17 ms in some JVMs,
 * above the bce forward); the work is cut into fixed blocks of the size of the kernels' units, run by the
 * caller's parallel stream, that is on the backend's threads ({@link CpuBackend#computeFloor} runs it where
 * the loss passes run); each thread reuses its scratch.
 */
final class VectorFloor {
    /** Elements (sigmoid, bce) or pixels (softmax) per staged chunk, in L1 (the kernels' chunk). */
    private static final int CHUNK = 512;
    /** Elements (sigmoid, bce) per parallel block: one kernel unit of 4 classes (fixed). */
    private static final int BLOCK = 1 << 16;
    private static final int SLOT_X = 0;
    private static final int SLOT_E = 1;
    /** The lanes of a chunk's sum, stored by the loop that summed them. */
    private static final int SLOT_LANES = 2;
    private static final ThreadLocal<VectorScratch> SCRATCH = ThreadLocal.withInitial(VectorScratch::new);

    private VectorFloor() {
    }

    /** The pass of {@code work} over pred, {@code samples} x {@code classes} x pixels (NCHW for softmax). */
    static double run(CpuBackend.Work work, CpuBuffer pred, int samples, int classes) {
        int length = Math.toIntExact(pred.length());
        double[] partial;
        if (work != CpuBackend.Work.SOFTMAX) {
            int blocks = (length + BLOCK - 1) / BLOCK;
            partial = new double[blocks];
            IntStream.range(0, blocks).parallel().forEach(b -> {
                int from = b * BLOCK;
                int to = Math.min(length, from + BLOCK);
                partial[b] = elementBlock(work, pred, from, to, SCRATCH.get());
            });
        } else {
            int s = length / samples / classes;
            int units = (s + CpuBackend.PIXELS_PER_UNIT - 1) / CpuBackend.PIXELS_PER_UNIT;
            partial = new double[samples * units];
            IntStream.range(0, samples * units).parallel().forEach(u -> {
                int from = (u % units) * CpuBackend.PIXELS_PER_UNIT;
                int to = Math.min(s, from + CpuBackend.PIXELS_PER_UNIT);
                partial[u] = softmaxBlock(pred, (u / units) * classes * s, classes, s, from, to, SCRATCH.get());
            });
        }
        double sum = 0;
        for (double v : partial) {
            sum += v;
        }
        return sum;
    }

    /**
     * The floats [i, i + len) of pred: its own array in place, or a scratch copy (direct buffers). Only this
     * differs between the two: the vector loops ({@link #sigmoidChunk}, {@link #bceChunk}) take an array and
     * an offset either way, so switching buffer kinds never recompiles them (a block method holding both
     * paths was deoptimized by the first direct buffer and ran boxed, 300 ms, for its next runs).
     */
    private static double chunk(CpuBackend.Work work, CpuBuffer pred, int i, int len, VectorScratch sc) {
        float[] e = sc.floats(SLOT_E, CHUNK);
        float[] lanes = sc.floats(SLOT_LANES, L);
        if (pred.floats.hasArray()) {
            float[] x = pred.floats.array();
            int xo = pred.floats.arrayOffset() + i;
            return work == CpuBackend.Work.SIGMOID ? sigmoidChunk(x, xo, len, lanes) : bceChunk(x, xo, len, e, lanes);
        }
        float[] tmp = sc.floats(SLOT_X, CHUNK);
        pred.floats.get(i, tmp, 0, len);
        return work == CpuBackend.Work.SIGMOID ? sigmoidChunk(tmp, 0, len, lanes) : bceChunk(tmp, 0, len, e, lanes);
    }

    private static double elementBlock(CpuBackend.Work work, CpuBuffer pred, int from, int to, VectorScratch sc) {
        double sum = 0;
        for (int i = from; i < to; i += CHUNK) {
            sum += chunk(work, pred, i, Math.min(CHUNK, to - i), sc);
        }
        return sum;
    }

    /**
     * Sum of 1 / (1 + exp(-|x|)) over x[xo, xo + len): e in the sum loop itself, not staged, as the kernels' sigmoid
     * ({@code VectorBinary.lanesLogitsExp}); a staged e cost a store and a load of every element, and the staged floor
     * was slower than the dice forward (flagged below its floor).
     */
    private static double sigmoidChunk(float[] x, int xo, int len, float[] lanes) {
        int vec = len - len % L;
        double sum = sumSigmoid(x, xo, vec, lanes);
        for (int j = vec; j < len; j++) {
            sum += 1 / (1 + Math.exp(-Math.abs(x[xo + j])));
        }
        return sum;
    }

    /** Sum of 1 / (1 + exp(-|x[xo + j]|)), j < n (a multiple of the lane count); {@code lanes} holds the lanes' sums. */
    private static double sumSigmoid(float[] x, int xo, int n, float[] lanes) {
        FloatVector acc = FloatVector.zero(FS);
        for (int j = 0; j < n; j += L) {
            FloatVector e = VectorMath.expNonPositive(FloatVector.fromArray(FS, x, xo + j).abs().neg());
            acc = acc.add(VectorKernels.ONE.div(e.add(1f)));
        }
        acc.intoArray(lanes, 0);
        return VectorMath.sumLanes(lanes, 0);
    }

    /** Sum of log1p(exp(-|x|)) over x[xo, xo + len). */
    private static double bceChunk(float[] x, int xo, int len, float[] e, float[] lanes) {
        int vec = len - len % L;
        VectorMath.expNegAbs(x, xo, e, 0, vec);
        double sum = sumLog1p(e, vec, lanes);
        for (int j = vec; j < len; j++) {
            sum += Math.log1p(Math.exp(-Math.abs(x[xo + j])));
        }
        return sum;
    }

    /** Sum of log1p(e[j]), j < n (a multiple of the lane count), e[j] in [0, 1]; {@code lanes} holds the lanes' sums. */
    private static double sumLog1p(float[] e, int n, float[] lanes) {
        FloatVector acc = FloatVector.zero(FS);
        for (int j = 0; j < n; j += L) {
            acc = acc.add(VectorMath.log1pUnit(FloatVector.fromArray(FS, e, j)));
        }
        acc.intoArray(lanes, 0);
        return VectorMath.sumLanes(lanes, 0);
    }

    private static double softmaxBlock(CpuBuffer pred, int base, int classes, int s, int from, int to,
                                       VectorScratch sc) {
        float[] sums = sc.floats(SLOT_E, CHUNK);
        float[] lanes = sc.floats(SLOT_LANES, L);
        boolean array = pred.floats.hasArray();
        float[] rows = array ? null : sc.floats(SLOT_X, classes * CHUNK);
        double sum = 0;
        for (int i = from; i < to; i += CHUNK) {
            int len = Math.min(CHUNK, to - i);
            int vec = len - len % L;
            float[] x;
            int xo;
            int stride;
            if (array) { // the class rows in place
                x = pred.floats.array();
                xo = pred.floats.arrayOffset() + base + i;
                stride = s;
            } else { // the class rows copied, as the kernels do
                for (int c = 0; c < classes; c++) {
                    pred.floats.get(base + c * s + i, rows, c * CHUNK, len);
                }
                x = rows;
                xo = 0;
                stride = CHUNK;
            }
            sumExp(x, xo, stride, classes, sums, vec);
            sum += sumLog(sums, vec, lanes);
            for (int j = vec; j < len; j++) {
                double e = 0;
                for (int c = 0; c < classes; c++) {
                    e += Math.exp(x[xo + c * stride + j]);
                }
                sum += Math.log(e);
            }
        }
        return sum;
    }

    /**
     * sums[j] = sum over the classes c of exp(x[xo + c * stride + j]) for j < n (a multiple of the lane
     * count): pixels outer, classes inner, the sum in a register (as the kernels' exp pass).
     */
    private static void sumExp(float[] x, int xo, int stride, int classes, float[] sums, int n) {
        for (int j = 0; j < n; j += L) {
            FloatVector e = FloatVector.zero(FS);
            for (int c = 0; c < classes; c++) {
                e = e.add(VectorMath.expBlendClamped(FloatVector.fromArray(FS, x, xo + c * stride + j)));
            }
            e.intoArray(sums, j);
        }
    }

    /** Sum of log(sums[j]), j < n (a multiple of the lane count); {@code lanes} holds the lanes' sums. */
    private static double sumLog(float[] sums, int n, float[] lanes) {
        FloatVector acc = FloatVector.zero(FS);
        for (int j = 0; j < n; j += L) {
            acc = acc.add(VectorMath.log(FloatVector.fromArray(FS, sums, j)));
        }
        acc.intoArray(lanes, 0);
        return VectorMath.sumLanes(lanes, 0);
    }
}
