package org.segloss.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.segloss.Loss;
import org.segloss.LossEngine;
import org.segloss.LossSpec;
import org.segloss.Mode;
import org.segloss.backend.cpu.CpuBackend;

/**
 * {@code segloss bench --cold}: the first calls of a fresh cpu engine, each measurement in a fresh JVM
 * (a child process running {@link #main}), so that nothing the JIT compiled before is reused. For each
 * loss and each kernel choice (scalar: the scalar kernels only; vector: the Vector API kernels from the
 * first call; default: what {@code LossEngine.create("cpu")} does, scalar for the first
 * {@link CpuBackend#DEFAULT_SCALAR_CALLS} calls, the vector kernels compiling in the background during the
 * second half of them, see {@link CpuBackend}),
 * the child times, in a loop of forwardBackward calls on the same buffers: the engine's creation, the
 * first call, the first 10 calls together, the next 50 together, and the fastest of the last 10; and the CPU
 * time of the whole process (every thread) over the first call and over the first 10, which a loaded machine
 * distorts far less than wall time.
 * {@code bench --threads N} and the properties {@code segloss.cpu.threads} and {@code segloss.cpu.scalarCalls}
 * of this JVM are passed on to the children. A child run by hand with {@code -Dsegloss.cold.calls=true} also prints
 * every call's time (a {@code CALLS} line), and with {@code -Dsegloss.cpu.warmupLog=true} how its warm-up ended.
 */
final class ColdBench {
    /** Calls of the loop in each child. */
    static final int STEPS = 60;
    /** The default shape of the cold bench. */
    static final long[] DEFAULT_SHAPE = {8, 4, 128, 128};
    /** The losses timed by default: the ce_logdice, and a binary loss with and without a pixel term. */
    static final List<BenchCommand.Case> DEFAULT_CASES = List.of(new BenchCommand.Case(Loss.CE_LOGDICE, Mode.MULTICLASS),
            new BenchCommand.Case(Loss.BCE, Mode.BINARY), new BenchCommand.Case(Loss.DICE, Mode.BINARY));
    static final String[] KERNELS = {"scalar", "vector", "default"};

    private ColdBench() {
    }

    static int run(BenchCommand cmd, long[] shape) {
        long[] s = shape == null ? DEFAULT_SHAPE : shape;
        PrintWriter out = cmd.spec.commandLine().getOut();
        List<BenchCommand.Case> cases = new ArrayList<>();
        if (cmd.losses == null) {
            cases.addAll(DEFAULT_CASES);
        } else {
            for (BenchCommand.Case c : BenchCommand.ALL_CASES) {
                if (cmd.losses.contains(c.loss) && (s[1] >= 2 || c.mode != Mode.MULTICLASS)) {
                    cases.add(c);
                }
            }
        }
        out.println("cold start (cpu), shape " + java.util.Arrays.toString(s) + ", forwardBackward from logits, each row a fresh JVM;"
                + " ratios against the scalar row of the same loss");
        out.printf(Locale.ROOT, "%-16s %-10s %-8s %10s %10s %11s %13s %9s %9s %9s %13s %15s %12s %10s%n", "loss", "mode",
                "kernels", "create_ms", "first_ms", "first10_ms", "next50/step", "hot_ms", "first/sc", "10/sc", "first_cpu_ms",
                "first10_cpu_ms", "first_cpu/sc", "10_cpu/sc");
        out.flush();
        for (BenchCommand.Case c : cases) {
            double[] scalar = null;
            for (String kernels : KERNELS) {
                double[] r = child(kernels, c, s, cmd.threads);
                if (kernels.equals("scalar")) {
                    scalar = r;
                }
                out.printf(Locale.ROOT, "%-16s %-10s %-8s %10.1f %10.1f %11.1f %13.2f %9.2f %9.2f %9.2f %13.1f %15.1f %12.2f %10.2f%n",
                        c.loss.id(), c.mode.id(), kernels, r[0], r[1], r[2], r[3] / 50, r[4], r[1] / scalar[1], r[2] / scalar[2],
                        r[5], r[6], r[5] / scalar[5], r[6] / scalar[6]);
                out.flush();
            }
        }
        return 0;
    }

    /** Runs {@link #main} in a fresh JVM with this one's class path and Vector API setting. */
    private static double[] child(String kernels, BenchCommand.Case c, long[] shape, Integer threads) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
            command.add("--add-modules");
            command.add("jdk.incubator.vector");
        }
        command.add("-Dsegloss.quiet=true");
        if (threads != null) {
            command.add("-Dsegloss.cpu.threads=" + threads);
        }
        for (String property : new String[] {"segloss.cpu.threads", "segloss.cpu.scalarCalls"}) {
            if (System.getProperty(property) != null && (threads == null || !property.equals("segloss.cpu.threads"))) {
                command.add("-D" + property + "=" + System.getProperty(property));
            }
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(ColdBench.class.getName());
        command.add(kernels);
        command.add(c.loss.id());
        command.add(c.mode.id());
        StringBuilder dims = new StringBuilder();
        for (long d : shape) {
            dims.append(dims.length() == 0 ? "" : ",").append(d);
        }
        command.add(dims.toString());
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String result = null;
            StringBuilder all = new StringBuilder();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    all.append(line).append('\n');
                    if (line.startsWith("RESULT ")) {
                        result = line.substring(7);
                    }
                }
            }
            int rc = p.waitFor();
            if (rc != 0 || result == null) {
                throw new IllegalStateException("the cold-bench child JVM failed (exit " + rc + "): " + all.toString().trim());
            }
            String[] f = result.trim().split(" ");
            double[] v = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                v[i] = Double.parseDouble(f[i]);
            }
            return v;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the cold-bench child JVM: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /**
     * The child: {@code kernels loss mode N,C,H,W}; prints {@code RESULT create first first10 next50 hot firstCpu
     * first10Cpu} in ms (the last two: the process's CPU time over the first call and the first 10 calls, every
     * thread, see {@link #processCpuNanos}).
     */
    public static void main(String[] args) {
        String kernels = args[0];
        Loss loss = Loss.parse(args[1]);
        Mode mode = Mode.parse(args[2]);
        String[] d = args[3].split(",");
        long[] shape = new long[d.length];
        long total = 1;
        for (int i = 0; i < d.length; i++) {
            shape[i] = Long.parseLong(d[i]);
            total *= shape[i];
        }
        SplittableRandom rnd = new SplittableRandom(12345);
        float[] logits = new float[(int) total];
        float[] mask = new float[(int) total];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) (rnd.nextDouble() * 8 - 4);
            mask[i] = rnd.nextInt(4) == 0 ? 1f : 0f;
        }
        byte[] classMap = new byte[(int) (total / shape[1])];
        for (int i = 0; i < classMap.length; i++) {
            classMap[i] = (byte) rnd.nextInt((int) shape[1]);
        }
        float[] grad = new float[(int) total];
        LossSpec spec = LossSpec.builder(loss, mode).fromLogits(true).build();
        long t0 = System.nanoTime();
        LossEngine engine = kernels.equals("scalar") ? LossEngine.of(CpuBackend.scalar())
                : kernels.equals("vector") ? LossEngine.of(CpuBackend.vector()) : LossEngine.create("cpu");
        double create = (System.nanoTime() - t0) / 1e6;
        double[] ms = new double[STEPS];
        long cpu0 = processCpuNanos();
        long cpuFirst = 0;
        long cpuFirst10 = 0;
        for (int i = 0; i < STEPS; i++) {
            if (i == 1) {
                cpuFirst = processCpuNanos() - cpu0;
            } else if (i == 10) {
                cpuFirst10 = processCpuNanos() - cpu0;
            }
            long a = System.nanoTime();
            if (mode == Mode.MULTICLASS) {
                engine.forwardBackward(spec, logits, shape, classMap, grad);
            } else {
                engine.forwardBackward(spec, logits, shape, mask, grad);
            }
            ms[i] = (System.nanoTime() - a) / 1e6;
        }
        engine.close();
        double first10 = 0;
        double next50 = 0;
        double hot = Double.MAX_VALUE;
        for (int i = 0; i < STEPS; i++) {
            if (i < 10) {
                first10 += ms[i];
            } else {
                next50 += ms[i];
            }
            if (i >= STEPS - 10) {
                hot = Math.min(hot, ms[i]);
            }
        }
        if (Boolean.getBoolean("segloss.cold.calls")) { // every call's time, for a look at where the time goes
            StringBuilder calls = new StringBuilder("CALLS");
            for (double m : ms) {
                calls.append(String.format(Locale.ROOT, " %.1f", m));
            }
            System.out.println(calls);
        }
        System.out.println("RESULT " + create + " " + ms[0] + " " + first10 + " " + next50 + " " + hot + " "
                + cpuFirst / 1e6 + " " + cpuFirst10 / 1e6);
    }

    /**
     * CPU time of every thread of this process so far (the caller, the pool's workers, the JIT's compiler threads,
     * the warm-up, GC), in ns, from /proc (Linux; 0 elsewhere): a count that a loaded machine distorts far
     * less than wall time. Read from /proc rather than through JMX, which would load a few hundred classes into the
     * fresh JVM before its first call.
     */
    static long processCpuNanos() {
        long sum = 0;
        java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
        if (tasks == null) {
            return 0;
        }
        for (java.io.File task : tasks) {
            try {
                String stat = java.nio.file.Files.readString(task.toPath().resolve("schedstat"));
                sum += Long.parseLong(stat.substring(0, stat.indexOf(' ')));
            } catch (IOException | RuntimeException gone) {
                // a thread that ended between the listing and the read: its time is no longer counted anywhere
            }
        }
        return sum;
    }
}
