package org.segloss.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import org.segloss.DeviceBuffer;
import org.segloss.Layout;
import org.segloss.Loss;
import org.segloss.LossEngine;
import org.segloss.LossSpec;
import org.segloss.Mode;
import org.segloss.backend.cpu.CpuBackend;

/**
 * The issue-14 table of the CPU loops (run by {@code ci/cpu-table.sh}): forward and forward+backward of the
 * vector kernels (hot) against the read floor (streamRead of pred and target: forward = read(pred) +
 * read(target); forward+backward = 2 x that + read(pred)) and the compute floor of the loss family
 * ({@link CpuBackend#computeFloor}), for binary / multilabel / multiclass, nchw / nhwc, float / uint8 / int32
 * targets, arrays and direct buffers, at 8x4x512x512 and 8x19x256x256.
 *
 * <p>Two steps, so that the code before (another build) is timed by the same tool in the same run:
 * <pre>
 * CpuFloorTable measure LABEL [--floors] [--rows a,b] [--seconds S] &gt; LABEL.tsv   (one JVM per label)
 * CpuFloorTable table NOW.tsv... [--before BEFORE.tsv]... [--cpu]                      (the Markdown table)
 * </pre>
 * {@code measure} uses only API that the code before had too (the engine, {@code CpuBackend.vector()},
 * streamRead, computeFloor), so it runs against either build's classes. Threads: the caller's
 * (run the JVM with {@code -Djava.util.concurrent.ForkJoinPool.common.parallelism=0} for one thread,
 * {@code =1} for two: the caller and one worker); the label carries the count (e.g. {@code now-1}).
 *
 * <p>Each figure is the median of 7 runs after a warm-up that ends when 5 runs in a row are within 5% of
 * their median (at most S seconds), both as wall time and as the CPU time of all the JVM's threads ( on a
 * loaded machine {@code --cpu} gives the steadier comparison). A loss faster than its compute floor by more
 * than {@link #NOISE} is flagged: the floor would then do more than the loss, so it is wrong.
 */
public final class CpuFloorTable {
    /** A loss below {@code (1 - NOISE)} x its compute floor is flagged. */
    static final double NOISE = 0.10;

    /** One row: a loss in a mode, layout, target type, buffer kind and shape. */
    static final class Row {
        final String name;
        final Loss loss;
        final Mode mode;
        final Layout layout;
        final String target; // float, uint8, int32
        final boolean direct;
        final long[] shape; // N, C, H, W whatever the layout; NHWC shapes are built from it

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
            new Row("dice-direct", Loss.DICE, Mode.BINARY, Layout.NCHW, "float", true, A),
            new Row("bce_logdice", Loss.BCE_LOGDICE, Mode.BINARY, Layout.NCHW, "float", false, A),
            new Row("dice-ml-nhwc", Loss.DICE, Mode.MULTILABEL, Layout.NHWC, "float", false, A),
            new Row("bce-ml-nhwc-direct", Loss.BCE, Mode.MULTILABEL, Layout.NHWC, "float", true, A),
            new Row("ce", Loss.CE, Mode.MULTICLASS, Layout.NCHW, "uint8", false, A),
            new Row("ce-int32", Loss.CE, Mode.MULTICLASS, Layout.NCHW, "int32", false, A),
            new Row("ce-nhwc", Loss.CE, Mode.MULTICLASS, Layout.NHWC, "uint8", false, A),
            new Row("ce-direct", Loss.CE, Mode.MULTICLASS, Layout.NCHW, "uint8", true, A),
            new Row("dice-mc", Loss.DICE, Mode.MULTICLASS, Layout.NCHW, "uint8", false, A),
            new Row("ce_logdice", Loss.CE_LOGDICE, Mode.MULTICLASS, Layout.NCHW, "uint8", false, A),
            new Row("dice-ml-19", Loss.DICE, Mode.MULTILABEL, Layout.NCHW, "float", false, B),
            new Row("ce-19", Loss.CE, Mode.MULTICLASS, Layout.NCHW, "uint8", false, B),
            new Row("ce_logdice-19", Loss.CE_LOGDICE, Mode.MULTICLASS, Layout.NCHW, "uint8", false, B),
            new Row("ce-19-nhwc-int32", Loss.CE, Mode.MULTICLASS, Layout.NHWC, "int32", false, B),
            new Row("dice-mc-19-nhwc-direct", Loss.DICE, Mode.MULTICLASS, Layout.NHWC, "uint8", true, B));

    /** Columns of a measured line (tab-separated, after "ROW"). */
    private static final String[] FIELDS = {"row", "label", "fwd_ms", "fb_ms", "read_fwd_ms", "read_fb_ms",
        "compute_ms", "fwd_cpu_ms", "fb_cpu_ms", "read_fwd_cpu_ms", "read_fb_cpu_ms", "compute_cpu_ms"};

    private static double warmSeconds = 2;

    private CpuFloorTable() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length >= 2 && args[0].equals("measure")) {
            measure(args);
        } else if (args.length >= 2 && args[0].equals("table")) {
            table(args);
        } else {
            throw new IllegalArgumentException("usage: measure LABEL [--floors] [--rows a,b] [--seconds S]"
                    + " | table NOW.tsv... [--before BEFORE.tsv]... [--cpu]");
        }
    }

    private static void measure(String[] args) {
        String label = args[1];
        List<String> only = null;
        boolean floors = false;
        for (int i = 2; i < args.length; i++) {
            if (args[i].equals("--rows")) {
                only = Arrays.asList(args[++i].split(","));
            } else if (args[i].equals("--seconds")) {
                warmSeconds = Double.parseDouble(args[++i]);
            } else if (args[i].equals("--floors")) {
                floors = true;
            } else {
                throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        System.out.println("#" + String.join("\t", FIELDS));
        try (LossEngine engine = LossEngine.of(CpuBackend.vector())) {
            System.out.println("# " + label + ": " + engine.device());
            for (Row r : ROWS) {
                if (only == null || only.contains(r.name)) {
                    measureRow(engine, r, label, floors);
                }
            }
        }
    }

    private static void measureRow(LossEngine engine, Row r, String label, boolean floors) {
        long n = r.shape[0];
        long c = r.shape[1];
        long pixels = r.shape[2] * r.shape[3];
        int total = Math.toIntExact(n * c * pixels);
        int targets = Math.toIntExact(r.mode == Mode.MULTICLASS ? n * pixels : total);
        long[] shape = r.layout == Layout.NHWC ? new long[] {n, r.shape[2], r.shape[3], c} : r.shape;
        SplittableRandom rnd = new SplittableRandom(12345);
        FloatBuffer logits = floats(total, r.direct);
        for (int i = 0; i < total; i++) {
            logits.put(i, (float) (rnd.nextDouble() * 8 - 4));
        }
        CpuBackend b = (CpuBackend) engine.backend();
        DeviceBuffer pred = b.upload(logits);
        DeviceBuffer target;
        if (r.target.equals("float")) {
            FloatBuffer t = floats(targets, r.direct);
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
            target = b.upload(IntBuffer.wrap(t));
        }
        // streamRead sums floats: a class map is read as a float buffer of the same bytes
        DeviceBuffer targetBytes = r.target.equals("uint8") ? engine.upload(new float[(targets + 3) / 4]) : target;
        DeviceBuffer grad = b.allocateFloats(total);
        LossSpec spec = LossSpec.builder(r.loss, r.mode).fromLogits(true).layout(r.layout).build();
        double[] readPred = {0, 0};
        double[] readTarget = {0, 0};
        double[] compute = {0, 0};
        if (floors) {
            readPred = time(() -> b.streamRead(pred));
            readTarget = time(() -> b.streamRead(targetBytes));
            CpuBackend.Work work = work(r);
            compute = time(() -> b.computeFloor(work, pred, n, c));
        }
        double[] fwd = time(() -> engine.forward(spec, pred, shape, target).value());
        double[] fb = time(() -> engine.forwardBackward(spec, pred, shape, target, grad).value());
        double[] v = {fwd[0], fb[0], readPred[0] + readTarget[0], 3 * readPred[0] + 2 * readTarget[0], compute[0],
            fwd[1], fb[1], readPred[1] + readTarget[1], 3 * readPred[1] + 2 * readTarget[1], compute[1]};
        StringBuilder line = new StringBuilder("ROW\t" + r.name + "\t" + label);
        for (double x : v) {
            line.append(String.format(Locale.ROOT, "\t%.3f", x));
        }
        System.out.println(line);
        System.out.flush();
        for (DeviceBuffer d : new DeviceBuffer[] {pred, target, targetBytes, grad}) {
            d.close();
        }
    }

    /** The transcendental work the row's loss cannot avoid. */
    static CpuBackend.Work work(Row r) {
        if (r.mode == Mode.MULTICLASS) {
            return CpuBackend.Work.SOFTMAX;
        }
        return r.loss == Loss.DICE || r.loss == Loss.IOU || r.loss == Loss.TVERSKY || r.loss == Loss.MCC
                || r.loss == Loss.GENERALIZED_DICE ? CpuBackend.Work.SIGMOID : CpuBackend.Work.BCE;
    }

    private static FloatBuffer floats(int n, boolean direct) {
        return direct ? ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder()).asFloatBuffer()
                : FloatBuffer.allocate(n);
    }

    static volatile double sink;

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /** CPU time of every live thread of the JVM, ns (the workers of the pools stay alive between runs). */
    private static long cpuNanos() {
        long sum = 0;
        for (long id : THREADS.getAllThreadIds()) {
            long t = THREADS.getThreadCpuTime(id);
            if (t > 0) {
                sum += t;
            }
        }
        return sum;
    }

    /**
     * Median wall ms and median process CPU ms of 7 runs after a warm-up that ends when 5 runs in a row
     * are within 5% of their median (at most {@link #warmSeconds}).
     */
    private static double[] time(DoubleSupplier work) {
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
        double[] cpu = new double[7];
        for (int i = 0; i < ms.length; i++) {
            long c0 = cpuNanos();
            long t0 = System.nanoTime();
            sink += work.getAsDouble();
            ms[i] = (System.nanoTime() - t0) / 1e6;
            cpu[i] = (cpuNanos() - c0) / 1e6;
        }
        Arrays.sort(ms);
        Arrays.sort(cpu);
        return new double[] {ms[3], cpu[3]};
    }

    /** Measured lines of a {@code measure} output: label -> row -> values (FIELDS from fwd_ms on). */
    private static Map<String, Map<String, double[]>> read(Path file) throws IOException {
        Map<String, Map<String, double[]>> out = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (!line.startsWith("ROW\t")) {
                continue;
            }
            String[] f = line.split("\t");
            double[] v = new double[f.length - 3];
            for (int i = 0; i < v.length; i++) {
                v[i] = Double.parseDouble(f[i + 3]);
            }
            out.computeIfAbsent(f[2], x -> new LinkedHashMap<>()).put(f[1], v);
        }
        return out;
    }

    /**
     * The Markdown table of the measured files: one line per (row, label of the first files), ratios to the
     * floor of the same label and to the matching label of the file given with {@code --before}.
     */
    private static void table(String[] args) throws IOException {
        boolean cpu = false;
        List<Path> now = new ArrayList<>();
        List<Path> before = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--cpu")) {
                cpu = true;
            } else if (args[i].equals("--before")) {
                before.add(Path.of(args[++i]));
            } else {
                now.add(Path.of(args[i]));
            }
        }
        Map<String, Map<String, double[]>> m = new LinkedHashMap<>();
        for (Path p : now) {
            m.putAll(read(p));
        }
        Map<String, Map<String, double[]>> old = new LinkedHashMap<>();
        for (Path p : before) {
            old.putAll(read(p));
        }
        int o = cpu ? 5 : 0; // offset of the CPU-time columns
        System.out.println("| case | mode | layout | target | buffers | shape | threads | read floor fwd / fwd+bwd ms"
                + " | compute floor ms | forward ms | fwd / floor | fwd / before | fwd+bwd ms | fwd+bwd / floor"
                + " | fwd+bwd / before |");
        System.out.println("|---|---|---|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|");
        List<String> flagged = new ArrayList<>();
        for (Row r : ROWS) {
            for (Map.Entry<String, Map<String, double[]>> e : m.entrySet()) {
                double[] v = e.getValue().get(r.name);
                if (v == null) {
                    continue;
                }
                String label = e.getKey();
                String threads = label.contains("-") ? label.substring(label.lastIndexOf('-') + 1) : "?";
                double[] b = null;
                for (Map.Entry<String, Map<String, double[]>> q : old.entrySet()) {
                    if (q.getKey().endsWith("-" + threads)) {
                        b = q.getValue().get(r.name);
                    }
                }
                double fwd = v[o];
                double fb = v[o + 1];
                double readFwd = v[o + 2];
                double readFb = v[o + 3];
                double compute = v[o + 4];
                for (double[] pass : new double[][] {{fwd, 0}, {fb, 1}}) {
                    if (compute > 0 && pass[0] < (1 - NOISE) * compute) {
                        flagged.add(r.name + " " + (pass[1] == 0 ? "forward" : "forward+backward") + " (" + threads
                                + " threads): " + fmt(pass[0]) + " ms < compute floor " + fmt(compute) + " ms");
                    }
                }
                System.out.printf(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s / %s | %s | %s | %s | %s | %s | %s | %s |%n",
                        r.loss.id(), r.mode.id(), r.layout.name().toLowerCase(Locale.ROOT), r.target,
                        r.direct ? "direct" : "float[]", r.shape[0] + "x" + r.shape[1] + "x" + r.shape[2] + "x" + r.shape[3],
                        threads, fmt(readFwd), fmt(readFb), fmt(compute), fmt(fwd), ratio(fwd, Math.max(readFwd, compute)),
                        b == null ? "" : ratio(fwd, b[o]), fmt(fb), ratio(fb, Math.max(readFb, compute)),
                        b == null ? "" : ratio(fb, b[o + 1]));
            }
        }
        System.out.println();
        System.out.println(cpu ? "Times are process CPU times (all threads)." : "Times are wall times.");
        for (String f : flagged) {
            System.out.println("**Below its floor (the floor is wrong):** " + f);
        }
    }

    private static String fmt(double ms) {
        return String.format(Locale.ROOT, "%.2f", ms);
    }

    private static String ratio(double a, double b) {
        return b > 0 ? String.format(Locale.ROOT, "%.2fx", a / b) : "";
    }
}
