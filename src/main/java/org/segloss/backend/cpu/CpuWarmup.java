package org.segloss.backend.cpu;

import java.nio.FloatBuffer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.segloss.backend.GradCoefficients;
import org.segloss.backend.Problem;

/**
 * Background compilation of the Vector API kernels. Before C2 has compiled them, Vector API loops run
 * boxed and are many times slower than the scalar kernels; so while a default {@link CpuBackend} runs
 * its first calls on the scalar kernels, one daemon thread runs the vector kernels of the same problem
 * on a slice of the caller's own buffers, again and again, until the time per round stops
 * improving or a backend switches that problem to the vector kernels. Its results are thrown away: it only makes the JIT compile the code paths that the later
 * calls take. Each kind of problem (mode, layout, target type, loss terms, array or direct buffers) is
 * warmed once per JVM.
 *
 * <p>The slice: sample 0, the first {@link #PIXELS} pixels (fewer for many classes), as a problem of
 * that size (small calls reach the JIT's compile thresholds with little interpreted work); gradients go
 * to a private buffer. Reading the caller's buffers while the caller works is harmless (reads only,
 * results discarded); they stay referenced until the warm-up of that problem ends (at most
 * {@link #MAX_NANOS}).
 */
final class CpuWarmup {
    /** Pixels of the warm-up slice: two of the kernels' 512-element chunks. */
    static final int PIXELS = 1024;
    /** Most floats of the private gradient buffer (pixels x classes); many classes take fewer pixels. */
    private static final int MAX_GRAD_FLOATS = 1 << 18;
    /** Calls per timed round. */
    private static final int ROUND = 16;
    /** Longest warm-up of one kind of problem. */
    static final long MAX_NANOS = 20_000_000_000L;
    /** Longest wait of a backend's first vector call for the warm-up of its problem. */
    static final long MAX_WAIT_NANOS = 5_000_000_000L;

    /** Rounds at least, and rounds without a 10% gain that end the warm-up. */
    private static final int MIN_ROUNDS = 48;
    private static final int PLATEAU = 16;
    private static final ExecutorService THREAD = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "segloss-vector-warmup");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        return t;
    });

    private CpuWarmup() {
    }

    private static final ConcurrentHashMap<String, Job> JOBS = new ConcurrentHashMap<>();

    /** Starts warming the stats pass of {@code p} unless that kind of problem is already being warmed. */
    static void stats(CpuKernels vector, Problem p, CpuBuffer pred, CpuBuffer target) {
        if (vector instanceof VectorKernels && !VectorKernels.covered(p)) {
            return; // the vector kernels hand this problem to the scalar ones: nothing to compile
        }
        int c = Math.toIntExact(p.c);
        int pixels = (int) Math.min(p.s, Math.max(1, Math.min(PIXELS, MAX_GRAD_FLOATS / c)));
        JOBS.computeIfAbsent(key(p, pred, target), key -> {
            // The same problem over fewer pixels of one sample: every index stays inside the caller's buffers.
            Problem q = new Problem(p.multiclass, p.fromLogits, p.layout, 1, p.c, pixels, p.targetType,
                    p.hasIgnoreIndex, p.ignoreIndex, p.pixelTerm, p.region, p.focalPosWeight, p.focalNegWeight, p.gamma,
                    p.squares, p.posWeight, p.labelSmoothing, p.softTargets);
            Job job = new Job(vector, q, pred, target, pixels);
            THREAD.execute(job);
            return job;
        });
    }

    /** Adds the grad pass (with the coefficients of a real call) to the warm-up of {@code p}. */
    static void grad(Problem p, CpuBuffer pred, CpuBuffer target, GradCoefficients k) {
        Job job = JOBS.get(key(p, pred, target));
        if (job != null && job.coefficients == null) {
            job.grad = CpuBuffer.of(pred.cpuOwner(), FloatBuffer.allocate(Math.toIntExact(job.q.c * job.q.s)));
            job.coefficients = k;
        }
    }

    /**
     * Waits (at most {@link #MAX_WAIT_NANOS}) until the warm-up of {@code p} has ended, then ends it: a backend
     * runs it on the vector kernels now, and its own calls warm them from here on. Only the time of the
     * caller depends on this, never its results.
     */
    static void awaitAndStop(Problem p, CpuBuffer pred, CpuBuffer target) {
        Job job = JOBS.get(key(p, pred, target));
        if (job != null) {
            try {
                job.done.await(MAX_WAIT_NANOS, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            job.stopped = true;
        }
    }

    /** The warm-up of one kind of problem. */
    private static final class Job implements Runnable {
        final CpuKernels vector;
        final Problem q;
        CpuBuffer pred;
        CpuBuffer target;
        volatile GradCoefficients coefficients;
        volatile CpuBuffer grad;
        volatile boolean stopped;
        final CountDownLatch done = new CountDownLatch(1);

        final int pixels;

        Job(CpuKernels vector, Problem q, CpuBuffer pred, CpuBuffer target, int pixels) {
            this.vector = vector;
            this.q = q;
            this.pixels = pixels;
            this.pred = pred;
            this.target = target;
        }

        @Override
        public void run() {
            double[] acc = new double[Math.toIntExact(q.c) * Problem.STATS];
            long start = System.nanoTime();
            long best = Long.MAX_VALUE;
            int rounds = 0;
            int sinceBest = 0;
            boolean withGrad = false;
            try {
                // Until MIN_ROUNDS rounds are done and none of the last PLATEAU was faster than 0.9 x the best
                // (the JIT has compiled what it will), or MAX_NANOS. Counting restarts when grad joins.
                while (!stopped && System.nanoTime() - start < MAX_NANOS) {
                    GradCoefficients k = coefficients;
                    CpuBuffer g = grad;
                    long t0 = System.nanoTime();
                    for (int i = 0; i < ROUND && !stopped; i++) {
                        vector.stats(q, pred, target, 0, 0, pixels, acc);
                        if (k != null) {
                            vector.grad(q, pred, target, k, g, 0, 0, pixels);
                        }
                    }
                    long t = System.nanoTime() - t0;
                    if (k != null && !withGrad) { // the rounds are longer from here on: start counting again
                        withGrad = true;
                        best = Long.MAX_VALUE;
                        rounds = 0;
                        sinceBest = 0;
                    }
                    rounds++;
                    if (t < 0.9 * best) {
                        best = t;
                        sinceBest = 0;
                    } else if (++sinceBest >= PLATEAU && rounds >= MIN_ROUNDS) {
                        break;
                    }
                }
            } catch (RuntimeException | LinkageError e) {
                // A warm-up that fails only leaves the kernels cold; the calls themselves report real errors.
            } finally {
                if (Boolean.getBoolean("segloss.cpu.warmupLog")) {
                    System.err.printf("segloss: warm-up %s after %d rounds%s, %.0f ms, best round %.1f ms: %s%n",
                            stopped ? "stopped" : "done", rounds, withGrad ? " with grad" : "",
                            (System.nanoTime() - start) / 1e6, best / 1e6, q);
                }
                pred = null; // the caller's buffers are no longer referenced
                target = null;
                grad = null;
                done.countDown();
            }
        }
    }

    /** What selects the kernels' code paths: everything but the sizes. */
    private static String key(Problem p, CpuBuffer pred, CpuBuffer target) {
        return p.multiclass + " " + p.fromLogits + " " + p.layout + " " + p.targetType + " "
                + p.hasIgnoreIndex + " " + p.pixelTerm + " " + p.region + " " + p.gamma + " " + p.squares + " "
                + (p.posWeight != null) + " " + p.labelSmoothing + " " + p.softTargets + " " + arrayBacked(pred) + " " + arrayBacked(target);
    }

    private static boolean arrayBacked(CpuBuffer b) {
        return b.floats != null ? b.floats.hasArray()
                : b.bytes != null ? b.bytes.hasArray() : b.ints != null ? b.ints.hasArray() : b.longs.hasArray();
    }
}
