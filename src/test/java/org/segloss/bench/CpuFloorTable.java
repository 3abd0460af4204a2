package org.segloss.bench;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import org.segloss.DeviceBuffer;
import org.segloss.Layout;
import org.segloss.Loss;
import org.segloss.LossEngine;
import org.segloss.LossSpec;
import org.segloss.Mode;
import org.segloss.backend.Backend;
import org.segloss.backend.cpu.CpuBackend;

/**
 * The issue-14 table of the CPU loops: forward and forward+backward of the vector kernels (hot) against
 * the read floor (streamRead of pred and target: forward = read(pred) + read(target); forward+backward
 * = 2 x that + read(pred)) and the compute floor of the loss family ({@link CpuBackend#computeFloor}),
 * for binary / multilabel / multiclass, nchw / nhwc, float / uint8 / int32 targets, arrays and direct
 * buffers, at 8x4x512x512 and 8x19x256x256. Prints a Markdown table; ratio = ms / max(read floor,
 * compute floor). Threads: the common pool's (run with
 * {@code -Djava.util.concurrent.ForkJoinPool.common.parallelism=1} for one worker thread beside the caller).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp target/classes:target/test-classes:$(cat cp.txt) \
 *   org.segloss.bench.CpuFloorTable [--rows a,b] [--seconds S]
 * </pre>
 */
public final class CpuFloorTable {
    /** One row: a loss in a mode, layout, target type, buffer kind and shape. */
    static final class Row {
        final String name;
        final Loss loss;
        final Mode mode;
        final Layout layout;
        final String target; // float, uint8, int32
        final boolean direct;
        final long[] shape; // N, C, H, W (NCHW) whatever the layout; NHWC shapes are built from it

        Row(String name, Loss loss, Mode mode, Layout layout, String target, boolean direct, long... shape) {
            this.name = name;
            this.loss = loss;
            this.mode = mode;
            this.layout = layout;
            this.target = target;
            this.direct = direct;
            this.shape = shape;
        }
    }

    static final long[] A = {8, 4, 512, 512};
    static final long[] B = {8, 19, 256, 256};

    static final List<Row> ROWS = List.of(
            new Row("bce", Loss.BCE, Mode.BINARY, Layout.NCHW, "float", false, A),
            new Row("bce-direct", Loss.BCE, Mode.BINARY, Layout.NCHW, "float", true, A),
            new Row("dice", Loss.DICE, Mode.BINARY, Layout.NCHW, "float", false, A),
            new Row("bce_logdice", Loss.BCE_LOGDICE, Mode.BINARY, Layout.NCHW, "float", false, A),
            new Row("dice-ml-nhwc", Loss.DICE, Mode.MULTILABEL, Layout.NHWC, "float", false, A),
            new Row("ce", Loss.CE, Mode.MULTICLASS, Layout.NCHW, "uint8", false, A),
            new Row("ce-int32", Loss.CE, Mode.MULTICLASS, Layout.NCHW, "int32", false, A),
            new Row("ce-nhwc", Loss.CE, Mode.MULTICLASS, Layout.NHWC, "uint8", false, A),
            new Row("ce-direct", Loss.CE, Mode.MULTICLASS, Layout.NCHW, "uint8", true, A),
            new Row("dice-mc", Loss.DICE, Mode.MULTICLASS, Layout.NCHW, "uint8", false, A),
            new Row("ce-19", Loss.CE, Mode.MULTICLASS, Layout.NCHW, "uint8", false, B),
            new Row("ce_logdice-19", Loss.CE_LOGDICE, Mode.MULTICLASS, Layout.NCHW, "uint8", false, B),
            new Row("ce-19-nhwc-int32", Loss.CE, Mode.MULTICLASS, Layout.NHWC, "int32", false, B));

    private static double warmSeconds = 4;

    private CpuFloorTable() {
    }

    public static void main(String[] args) {
        List<String> only = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--rows")) {
                only = Arrays.asList(args[++i].split(","));
            } else if (args[i].equals("--seconds")) {
                warmSeconds = Double.parseDouble(args[++i]);
            } else {
                throw new IllegalArgumentException("unknown argument " + args[i] + " (allowed: --rows a,b --seconds S)");
            }
        }
        System.out.printf(Locale.ROOT, "threads: %d cores, common pool parallelism %d; warm-up until stable (at most %.0f s)%n%n",
                Runtime.getRuntime().availableProcessors(), java.util.concurrent.ForkJoinPool.getCommonPoolParallelism(),
                warmSeconds);
        System.out.println("| row | loss | mode | layout | target | buffers | shape | read floor ms | compute floor ms"
                + " | forward ms | fwd / floor | fwd+bwd ms | fwd+bwd / floor |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        try (LossEngine engine = LossEngine.of(CpuBackend.vector())) {
            for (Row r : ROWS) {
                if (only == null || only.contains(r.name)) {
                    run(engine, r);
                }
            }
        }
    }

    private static void run(LossEngine engine, Row r) {
        long n = r.shape[0];
        long c = r.shape[1];
        long pixels = r.shape[2] * r.shape[3];
        int total = Math.toIntExact(n * c * pixels);
        int targets = Math.toIntExact(r.mode == Mode.MULTICLASS ? n * pixels : total);
        long[] shape = r.layout == Layout.NHWC ? new long[] {n, r.shape[2], r.shape[3], c} : r.shape;
        SplittableRandom rnd = new SplittableRandom(12345);
        FloatBuffer logits = r.direct ? ByteBuffer.allocateDirect(4 * total).order(ByteOrder.nativeOrder()).asFloatBuffer()
                : FloatBuffer.allocate(total);
        for (int i = 0; i < total; i++) {
            logits.put(i, (float) (rnd.nextDouble() * 8 - 4));
        }
        CpuBackend b = (CpuBackend) engine.backend();
        DeviceBuffer pred = b.upload(logits);
        DeviceBuffer target;
        if (r.target.equals("float")) {
            FloatBuffer t = r.direct ? ByteBuffer.allocateDirect(4 * targets).order(ByteOrder.nativeOrder()).asFloatBuffer()
                    : FloatBuffer.allocate(targets);
            for (int i = 0; i < targets; i++) {
                t.put(i, rnd.nextInt(4) == 0 ? 1f : 0f);
            }
            target = b.upload(t);
        } else if (r.target.equals("uint8")) {
            ByteBuffer t = r.direct ? ByteBuffer.allocateDirect(targets) : ByteBuffer.allocate(targets);
            for (int i = 0; i < targets; i++) {
                t.put(i, (byte) rnd.nextInt((int) c));
            }
            target = b.upload(t);
        } else {
            int[] t = new int[targets];
            for (int i = 0; i < targets; i++) {
                t[i] = rnd.nextInt((int) c);
            }
            target = b.upload(java.nio.IntBuffer.wrap(t));
        }
        DeviceBuffer grad = b.allocateFloats(total);
        LossSpec spec = LossSpec.builder(r.loss, r.mode).fromLogits(true).layout(r.layout).build();
        double read = time(() -> b.streamRead(pred)) + time(() -> b.streamRead(target));
        CpuBackend.Work work = r.mode == Mode.MULTICLASS ? CpuBackend.Work.SOFTMAX
                : r.loss == Loss.BCE || r.loss == Loss.BCE_LOGDICE || r.loss == Loss.FOCAL ? CpuBackend.Work.BCE
                : CpuBackend.Work.SIGMOID;
        double compute = time(() -> b.computeFloor(work, pred, n, c));
        double fwd = time(() -> engine.forward(spec, pred, shape, target).value());
        double fb = time(() -> engine.forwardBackward(spec, pred, shape, target, grad).value());
        double fbRead = 2 * read + time(() -> b.streamRead(pred)); // inputs read twice, the gradient written once
        System.out.printf(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %.2f | %.2f | %.2f | %.2fx | %.2f | %.2fx |%n", r.name,
                r.loss.id(), r.mode.id(), r.layout.name().toLowerCase(Locale.ROOT), r.target, r.direct ? "direct" : "array",
                n + "x" + c + "x" + r.shape[2] + "x" + r.shape[3], read, compute, fwd, fwd / Math.max(read, compute), fb,
                fb / Math.max(fbRead, compute));
        System.out.flush();
        pred.close();
        target.close();
        grad.close();
    }

    static volatile double sink;

    /** Median ms of 7 runs after a warm-up that ends when 5 runs in a row are within 5% of their median. */
    private static double time(DoubleSupplier work) {
        long start = System.nanoTime();
        double[] last = new double[5];
        int k = 0;
        while (System.nanoTime() - start < warmSeconds * 1e9) {
            long t0 = System.nanoTime();
            sink += work.getAsDouble();
            last[k++ % last.length] = (System.nanoTime() - t0) / 1e6;
            if (k >= 8) {
                double[] s = last.clone();
                Arrays.sort(s);
                if (s[4] <= 1.05 * s[2] && s[0] >= 0.95 * s[2]) {
                    break;
                }
            }
        }
        double[] ms = new double[7];
        for (int i = 0; i < ms.length; i++) {
            long t0 = System.nanoTime();
            sink += work.getAsDouble();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return ms[3];
    }
}
