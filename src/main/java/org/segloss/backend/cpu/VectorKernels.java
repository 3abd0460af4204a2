package org.segloss.backend.cpu;

import java.nio.FloatBuffer;
import java.util.stream.IntStream;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.segloss.ElementType;
import org.segloss.backend.GradCoefficients;
import org.segloss.backend.PixelTerm;
import org.segloss.backend.Problem;

/**
 * The CPU passes written with the Vector API ({@code jdk.incubator.vector}); loaded by
 * {@link CpuKernels#best()} only when that module is in the boot layer.
 *
 * <p>Contract: the same statistics and gradients as {@link ScalarKernels} (the reference) within float
 * rounding. Lanes compute in float and accumulate over at most {@link VectorBinary#SUM_CHUNK} elements
 * (per row) before the partial sum is added to a double, so sums stay within ~1e-6 relative. Every unit
 * is computed by one thread with its own scratch arrays, in a fixed order: results do not depend on the
 * thread count.
 *
 * <p>Bad values (NaN/inf, probabilities outside [0, 1], targets outside [0, 1] or class indices out of
 * range) are detected with lane masks; a unit that holds any is recomputed by {@link ScalarKernels}, so
 * the bad counts are exactly the reference's (the engine refuses such input anyway). Problems the lanes do
 * not cover ({@link #covered}: a focal gamma that is not a small integer, a binary ignore_index beyond 2^24) are
 * delegated to {@link ScalarKernels} whole.
 */
final class VectorKernels extends CpuKernels {
    static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    /** Float lanes per vector. */
    static final int L = FS.length();
    /** Largest focal gamma computed with lanes (integer powers by repeated products). */
    static final int MAX_LANE_GAMMA = 8;

    /** Indices of the per-row statistics in an accumulator (see {@link Problem}), K of them per row. */
    static final int I = Problem.STAT_I;
    static final int P = Problem.STAT_P;
    static final int T = Problem.STAT_T;
    static final int TERM = Problem.STAT_TERM;
    static final int K = Problem.STATS;

    static final FloatVector ZERO = FloatVector.zero(FS);
    static final FloatVector ONE = FloatVector.broadcast(FS, 1f);
    /** The probability clamp of the contract, in float. */
    static final float EPS = (float) CpuMath.EPS;
    private static final ScalarKernels SCALAR = new ScalarKernels();
    private static final ThreadLocal<VectorScratch> SCRATCH = ThreadLocal.withInitial(VectorScratch::new);
    /** Floats per block of the parallel stream read (fixed, so the sum does not depend on the thread count). */
    private static final int READ_BLOCK = 1 << 20;

    /**
     * The methods that hold a lane loop, each to be compiled on its own: C2 inlines small hot callees into their
     * caller, and a compile unit that gathers a staged pass (exp, log) and the loops that read it passes C2's
     * inlining node cutoff (NodeCountInliningCutoff), after which the VectorTerms calls stay calls and every vector
     * in those loops is boxed on the heap (seen with JFR: gigabytes of float[] per second from gradLogits, the grad
     * pass 3 to 5 times slower than the stats pass). A compiler directive that refuses to inline them keeps every
     * loop in its own unit. The directive changes no result: the lanes compute the same bits inlined or not.
     */
    static final String[] OWN_COMPILE_UNITS = {
        "org/segloss/backend/cpu/VectorMath.expNegAbs",
        "org/segloss/backend/cpu/VectorMath.log1pPass",
        "org/segloss/backend/cpu/VectorMath.clampedLogs",
        "org/segloss/backend/cpu/VectorBinary.lanes*",
        "org/segloss/backend/cpu/VectorBinary.grad*",
        // the multiclass passes, one staged loop each (per-pixel partials between passes live in scratch rows)
        "org/segloss/backend/cpu/VectorMulticlass.*Pass",
    };

    /** The thread that adds the directive (null: none asked for). */
    private static final Thread DIRECTIVES;

    static {
        CpuKernels.vectorKernelsLoaded = true;
        if (!"false".equals(System.getProperty("segloss.cpu.compilerDirectives"))) {
            // on a daemon thread: JMX starts in ~0.1 s (several times that on a loaded machine); the warm-up of a
            // default backend waits for it (awaitCompilerDirectives), a vector backend's first calls do not
            DIRECTIVES = new Thread(VectorKernels::addCompilerDirectives, "segloss-compiler-directives");
            DIRECTIVES.setDaemon(true);
            DIRECTIVES.start();
        } else {
            DIRECTIVES = null;
        }
    }

    /** Waits at most {@code nanos} for the compiler directive to be added (or refused). */
    static void awaitCompilerDirectives(long nanos) {
        if (DIRECTIVES != null) {
            try {
                DIRECTIVES.join(Math.max(1, nanos / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Adds the directive of {@link #OWN_COMPILE_UNITS} through the DiagnosticCommand MBean (jcmd
     * Compiler.directives_add); best effort: without it the kernels give the same results, only slower. System
     * property {@code segloss.cpu.compilerDirectives=false} leaves the JVM's directives alone.
     */
    static boolean addCompilerDirectives() {
        java.nio.file.Path file = null;
        try {
            StringBuilder json = new StringBuilder("[{ match: \"*.*\", inline: [");
            for (int i = 0; i < OWN_COMPILE_UNITS.length; i++) {
                json.append(i == 0 ? "" : ", ").append("\"-").append(OWN_COMPILE_UNITS[i]).append('"');
            }
            json.append("] }]");
            file = java.nio.file.Files.createTempFile("segloss-compiler-directives", ".json");
            java.nio.file.Files.writeString(file, json);
            Object reply = java.lang.management.ManagementFactory.getPlatformMBeanServer().invoke(
                    new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerDirectivesAdd",
                    new Object[] {new String[] {file.toString()}}, new String[] {String[].class.getName()});
            return String.valueOf(reply).contains("added");
        } catch (Exception | LinkageError e) {
            return false; // no JMX or no such command (another JVM): the loops may then be slower, never different
        } finally {
            if (file != null) {
                try {
                    java.nio.file.Files.deleteIfExists(file);
                } catch (java.io.IOException e) {
                    // a temp file left behind
                }
            }
        }
    }

    @Override
    String kind() {
        return "vector";
    }

    @Override
    String description() {
        return "Vector API kernels (" + L + " float lanes)";
    }

    /** Largest |binary ignore_index| compared in float lanes: every int up to 2^24 is exact in float. */
    static final int MAX_LANE_IGNORE = 1 << 24;

    /**
     * Whether the lanes cover this problem; otherwise {@link ScalarKernels} computes it. The lanes carry every
     * option of the catalogue (squared_pred, binary ignore_index, pos_weight, label smoothing, soft targets);
     * what is left to the scalar kernels:
     * <ul>
     * <li>a focal gamma that is not an integer in [0, {@value #MAX_LANE_GAMMA}]: the lanes raise to integer powers
     *     by products; a real power needs exp(g log q) per element with the q = 0 limit, which the scalar kernels
     *     give exactly;</li>
     * <li>a binary ignore_index beyond +-2^24: targets are compared in float lanes, where an int32 target next
     *     to such a value would round onto it;</li>
     * <li>a pixel term without lane versions in {@link VectorTerms} (none today).</li>
     * </ul>
     */
    static boolean covered(Problem p) {
        if (p.binaryIgnore() && Math.abs((long) p.ignoreIndex) > MAX_LANE_IGNORE) {
            return false;
        }
        switch (p.pixelTerm) {
            case NONE:
            case BCE:
            case CE:
                return true;
            case FOCAL: {
                double g = p.gamma;
                return g >= 0 && g <= MAX_LANE_GAMMA && g == Math.rint(g);
            }
            default:
                return false; // a term without lanes (VectorTerms) runs on the scalar kernels
        }
    }

    @Override
    void stats(Problem p, CpuBuffer pred, CpuBuffer target, int n, int s0, int s1, double[] acc) {
        stats(p, pred, target, n, s0, s1, acc, null);
    }

    @Override
    void grad(Problem p, CpuBuffer pred, CpuBuffer target, GradCoefficients k, CpuBuffer grad, int n, int s0,
              int s1) {
        grad(p, pred, target, k, grad, n, s0, s1, false);
    }

    /**
     * Binary / multilabel from logits keep e = exp(-|x|) for their grad pass ({@link VectorBinary#keeps}); multiclass
     * from logits with ce or no pixel term keep the softmax p_c ({@link VectorMulticlass#keeps}).
     */
    @Override
    boolean keeps(Problem p) {
        return covered(p) && (p.multiclass ? VectorMulticlass.keeps(p) : VectorBinary.keeps(p));
    }

    @Override
    void stats(Problem p, CpuBuffer pred, CpuBuffer target, int n, int s0, int s1, double[] acc, CpuBuffer keep) {
        if (!covered(p)) {
            SCALAR.stats(p, pred, target, n, s0, s1, acc);
            return;
        }
        CpuBuffer keepIn = keep != null && keeps(p) ? keep : null;
        VectorScratch scratch = SCRATCH.get();
        double[] unit = scratch.unitAccumulator(acc.length);
        boolean clean = p.multiclass
                ? VectorMulticlass.stats(p, pred, target, n, s0, s1, unit, scratch, keepIn)
                : VectorBinary.stats(p, pred, target, n, s0, s1, unit, scratch, keepIn);
        if (!clean) {
            // The unit holds refused values: count them exactly as the reference does (CpuBackend then drops the
            // keep of the whole pass).
            SCALAR.stats(p, pred, target, n, s0, s1, acc);
            return;
        }
        for (int i = 0; i < acc.length; i++) {
            acc[i] += unit[i];
        }
    }

    @Override
    void grad(Problem p, CpuBuffer pred, CpuBuffer target, GradCoefficients k, CpuBuffer grad, int n, int s0, int s1,
              boolean kept) {
        if (!covered(p)) {
            SCALAR.grad(p, pred, target, k, grad, n, s0, s1);
            return;
        }
        boolean keptIn = kept && keeps(p);
        if (p.multiclass) {
            VectorMulticlass.grad(p, pred, target, k, grad, n, s0, s1, SCRATCH.get(), keptIn);
        } else {
            VectorBinary.grad(p, pred, target, k, grad, n, s0, s1, SCRATCH.get(), keptIn);
        }
    }

    @Override
    double computeFloor(CpuBackend.Work work, CpuBuffer pred, int samples, int classes) {
        return VectorFloor.run(work, pred, samples, classes);
    }

    /**
     * The floor: sum of every element, read with full vectors on every core, in fixed blocks of
     * {@link #READ_BLOCK} elements combined in index order. Float buffers sum floats; class maps sum their
     * (unsigned) values.
     */
    @Override
    double streamRead(CpuBuffer buffer) {
        int length = Math.toIntExact(buffer.length());
        int blocks = (length + READ_BLOCK - 1) / READ_BLOCK;
        double[] partial = new double[blocks];
        IntStream.range(0, blocks).parallel().forEach(b -> {
            int from = b * READ_BLOCK;
            int to = Math.min(length, from + READ_BLOCK);
            partial[b] = readBlock(buffer, from, to, SCRATCH.get());
        });
        double sum = 0;
        for (double v : partial) {
            sum += v;
        }
        return sum;
    }

    private static double readBlock(CpuBuffer buffer, int from, int to, VectorScratch scratch) {
        switch (buffer.type) {
            case FLOAT32: {
                FloatBuffer f = buffer.floats;
                if (f.hasArray()) {
                    return sumFloats(f.array(), f.arrayOffset() + from, to - from);
                }
                double sum = 0;
                float[] tmp = scratch.floats(0, VectorScratch.COPY);
                for (int i = from; i < to; i += VectorScratch.COPY) {
                    int len = Math.min(VectorScratch.COPY, to - i);
                    f.get(i, tmp, 0, len);
                    sum += sumFloats(tmp, 0, len);
                }
                return sum;
            }
            case UINT8: {
                if (buffer.bytes.hasArray()) {
                    return sumBytes(buffer.bytes.array(), buffer.bytes.arrayOffset() + from, to - from);
                }
                byte[] tmp = scratch.bytes(VectorScratch.COPY);
                double sum = 0;
                for (int i = from; i < to; i += VectorScratch.COPY) {
                    int len = Math.min(VectorScratch.COPY, to - i);
                    buffer.bytes.get(i, tmp, 0, len);
                    sum += sumBytes(tmp, 0, len);
                }
                return sum;
            }
            case INT64: {
                double sum = 0;
                for (int i = from; i < to; i++) {
                    sum += buffer.longs.get(i);
                }
                return sum;
            }
            default: {
                if (buffer.ints.hasArray()) {
                    return sumInts(buffer.ints.array(), buffer.ints.arrayOffset() + from, to - from);
                }
                int[] tmp = scratch.ints(VectorScratch.COPY);
                double sum = 0;
                for (int i = from; i < to; i += VectorScratch.COPY) {
                    int len = Math.min(VectorScratch.COPY, to - i);
                    buffer.ints.get(i, tmp, 0, len);
                    sum += sumInts(tmp, 0, len);
                }
                return sum;
            }
        }
    }

    /** sum a[off .. off + len): four float accumulators over chunks of 4096, each chunk added to a double. */
    static double sumFloats(float[] a, int off, int len) {
        double sum = 0;
        int i = 0;
        int step = 4 * L;
        while (i + step <= len) {
            int chunkEnd = Math.min(len - step + 1, i + 4096);
            FloatVector s0 = FloatVector.zero(FS);
            FloatVector s1 = FloatVector.zero(FS);
            FloatVector s2 = FloatVector.zero(FS);
            FloatVector s3 = FloatVector.zero(FS);
            for (; i < chunkEnd; i += step) {
                s0 = s0.add(FloatVector.fromArray(FS, a, off + i));
                s1 = s1.add(FloatVector.fromArray(FS, a, off + i + L));
                s2 = s2.add(FloatVector.fromArray(FS, a, off + i + 2 * L));
                s3 = s3.add(FloatVector.fromArray(FS, a, off + i + 3 * L));
            }
            sum += s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
        }
        for (; i < len; i++) {
            sum += a[off + i];
        }
        return sum;
    }

    private static final VectorSpecies<Integer> IS = IntVector.SPECIES_PREFERRED;
    /** Bytes that widen to one int vector; null where that would be under 64 bits (128-bit vectors, as NEON's). */
    static final VectorSpecies<Byte> BS = IS.vectorBitSize() / 4 >= 64
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(IS.vectorBitSize() / 4)) : null;

    /** Unsigned sum of bytes: byte vectors widened to 32-bit lanes (B2I, then & 0xFF). */
    static double sumBytes(byte[] a, int off, int len) {
        long sum = 0;
        int i = 0;
        if (BS != null) { // else every byte by the plain loop below
            int step = BS.length();
            // Lanes are reduced every 2^20 vectors so that they cannot overflow (255 * 2^20 < 2^31).
            IntVector acc = IntVector.zero(IS);
            int count = 0;
            for (; i + step <= len; i += step) {
                ByteVector v = ByteVector.fromArray(BS, a, off + i);
                acc = acc.add(((IntVector) v.convertShape(VectorOperators.B2I, IS, 0)).and(0xFF));
                if (++count == 1 << 20) {
                    sum += acc.reduceLanesToLong(VectorOperators.ADD);
                    acc = IntVector.zero(IS);
                    count = 0;
                }
            }
            sum += acc.reduceLanesToLong(VectorOperators.ADD);
        }
        for (; i < len; i++) {
            sum += a[off + i] & 0xFF;
        }
        return sum;
    }

    /** Sum of ints in 64-bit total (lanes reduced every vector-chunk so they cannot overflow). */
    static double sumInts(int[] a, int off, int len) {
        long sum = 0;
        int i = 0;
        int step = IS.length();
        for (; i + step <= len; i += step) {
            sum += IntVector.fromArray(IS, a, off + i).reduceLanesToLong(VectorOperators.ADD);
        }
        for (; i < len; i++) {
            sum += a[off + i];
        }
        return sum;
    }

    static boolean isFloatArray(CpuBuffer b) {
        return b.type == ElementType.FLOAT32 && b.floats.hasArray();
    }

    static int rowIndex(Problem p, int n, int c) {
        return n * (int) p.c + c;
    }

    static int statBase(int c) {
        return c * K;
    }
}
