package org.segloss.backend.cpu;

import java.nio.FloatBuffer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.segloss.backend.GradCoefficients;
import org.segloss.backend.Problem;

/**
 * Background compilation of the Vector API kernels. Before C2 has compiled them, Vector API loops run
 * boxed and are many times slower than the scalar kernels; so while a default {@link CpuBackend} runs
 * its first calls on the scalar kernels, one daemon thread loads the vector kernels (the Vector API's classes:
 * none of the caller's time), waits for their compiler directive (C2 must not compile the loops without it),
 * then runs the vector kernels of the same problem on a slice of the caller's own buffers, again and again,
 * until they are compiled: the time per round has stopped improving and is at least {@link #SPEEDUP} times
 * below the scalar kernels' on the same slice (or it has not improved for {@link #LONG_PLATEAU_NANOS}), or a
 * backend switches that problem to the vector kernels. Its results are thrown away: it only makes the JIT
 * compile the code paths that the later calls take (the grad pass too, with the coefficients of a real call,
 * and the kept-activation path when the kernels keep). Each kind of problem (mode, layout, target type, loss
 * terms, array or direct buffers) is warmed once per JVM.
 *
 * <p>The slice: sample 0, the first {@link #PIXELS} pixels (fewer for many classes), as a problem of
 * that size: small calls reach the JIT's compile thresholds with little interpreted work, and a lane loop of
 * PIXELS / lanes iterations reaches C2's invocation threshold before its back-edge one, so each loop is compiled
 * once instead of once on stack replacement and once again; gradients go to a private buffer. Reading the
 * caller's buffers while the caller works is harmless (reads only, results discarded); they stay referenced
 * until the warm-up of that problem ends (at most {@link #MAX_NANOS}).
 */
final class CpuWarmup {
    /** Pixels of the warm-up slice (part of one of the kernels' 512-pixel chunks). */
    static final int PIXELS = 256;
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
    /** How much faster than the scalar kernels' round on the same slice a compiled vector round is at least. */
    private static final double SPEEDUP = 2;
    /** Longest time without a 10% gain that ends a warm-up whose rounds never reach {@link #SPEEDUP}. */
    private static final long LONG_PLATEAU_NANOS = 1_000_000_000L;
    /** Rounds of the scalar kernels timed (the fastest counts). */
    private static final int SCALAR_ROUNDS = 3;
    private static final ScalarKernels SCALAR = new ScalarKernels();
    /** Longest wait of the warm-up for the compiler directive of {@link VectorKernels}. */
    private static final long MAX_DIRECTIVES_WAIT_NANOS = 3_000_000_000L;
    /** System property {@code segloss.cpu.warmupTrace=true}: every round's time on stderr (for a look at the JIT). */
    private static final boolean TRACE = Boolean.getBoolean("segloss.cpu.warmupTrace");
    private static final ExecutorService THREAD = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "segloss-vector-warmup");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        return t;
    });

    private CpuWarmup() {
    }

    private static final ConcurrentHashMap<String, Job> JOBS = new ConcurrentHashMap<>();

    /**
     * Starts warming the stats pass of {@code p} unless that kind of problem is already being warmed. The kernels
     * are asked for on the warm-up thread: loading the Vector API's classes (the first time, a few hundred ms of
     * class loading and lambda spinning) then takes none of the caller's time.
     */
    static void stats(Supplier<CpuKernels> kernels, Problem p, CpuBuffer pred, CpuBuffer target) {
        int c = Math.toIntExact(p.c);
        int pixels = (int) Math.min(p.s, Math.max(1, Math.min(PIXELS, MAX_GRAD_FLOATS / c)));
        JOBS.computeIfAbsent(key(p, pred, target), key -> {
            // The same problem over fewer pixels of one sample: every index stays inside the caller's buffers.
            Problem q = new Problem(p.multiclass, p.fromLogits, p.layout, 1, p.c, pixels, p.targetType,
                    p.hasIgnoreIndex, p.ignoreIndex, p.pixelTerm, p.region, p.focalPosWeight, p.focalNegWeight, p.gamma,
                    p.squares, p.posWeight, p.labelSmoothing, p.softTargets);
            Job job = new Job(kernels, q, pred, target, pixels);
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
        final Supplier<CpuKernels> kernels;
        final Problem q;
        CpuBuffer pred;
        CpuBuffer target;
        volatile GradCoefficients coefficients;
        volatile CpuBuffer grad;
        volatile boolean stopped;
        final CountDownLatch done = new CountDownLatch(1);

        final int pixels;

        Job(Supplier<CpuKernels> kernels, Problem q, CpuBuffer pred, CpuBuffer target, int pixels) {
            this.kernels = kernels;
            this.q = q;
            this.pixels = pixels;
            this.pred = pred;
            this.target = target;
        }

        @Override
        public void run() {
            long start = System.nanoTime();
            long best = Long.MAX_VALUE;
            long bestAt = start;
            long scalarRound = 0;
            int rounds = 0;
            int sinceBest = 0;
            boolean withGrad = false;
            try {
                CpuKernels vector = kernels.get();
                if (vector instanceof ScalarKernels || (vector instanceof VectorKernels && !VectorKernels.covered(q))) {
                    return; // no vector kernels, or they hand this problem to the scalar ones: nothing to compile
                }
                // C2 must see the directive before it compiles the loops (a loop compiled without it stays slow)
                VectorKernels.awaitCompilerDirectives(MAX_DIRECTIVES_WAIT_NANOS);
                if (TRACE) {
                    System.err.printf("segloss: warm-up: kernels loaded, directive added at %.0f ms%n",
                            (System.nanoTime() - start) / 1e6);
                }
                double[] acc = new double[Math.toIntExact(q.c) * Problem.STATS];
                // Until the rounds have stopped improving: MIN_ROUNDS rounds and none of the last PLATEAU faster than
                // 0.9 x the best, the best at least SPEEDUP times faster than the scalar kernels' round on the same
                // slice (rounds that are merely steady may be C1 code waiting in C2's queue), or LONG_PLATEAU_NANOS
                // without a gain; or MAX_NANOS. Counting restarts when grad joins.
                while (!stopped && System.nanoTime() - start < MAX_NANOS) {
                    GradCoefficients k = coefficients;
                    CpuBuffer g = grad;
                    if (scalarRound == 0 || withGrad != (k != null)) {
                        withGrad = k != null;
                        best = Long.MAX_VALUE;
                        bestAt = System.nanoTime();
                        rounds = 0;
                        sinceBest = 0;
                        scalarRound = Long.MAX_VALUE;
                        for (int i = 0; i < SCALAR_ROUNDS; i++) {
                            scalarRound = Math.min(scalarRound, round(SCALAR, k, g, acc));
                        }
                    }
                    long t = round(vector, k, g, acc);
                    if (TRACE) {
                        System.err.printf("segloss: warm-up round %d at %.0f ms: %.2f ms (scalar %.2f)%s%n", rounds,
                                (System.nanoTime() - start) / 1e6, t / 1e6, scalarRound / 1e6, k != null ? " grad" : "");
                    }
                    rounds++;
                    if (t < 0.9 * best) {
                        best = t;
                        bestAt = System.nanoTime();
                        sinceBest = 0;
                    } else if (++sinceBest >= PLATEAU && rounds >= MIN_ROUNDS
                            && (best * SPEEDUP <= scalarRound || System.nanoTime() - bestAt >= LONG_PLATEAU_NANOS)) {
                        break;
                    }
                }
            } catch (RuntimeException | LinkageError e) {
                // A warm-up that fails only leaves the kernels cold; the calls themselves report real errors.
            } finally {
                if (Boolean.getBoolean("segloss.cpu.warmupLog")) {
                    System.err.printf("segloss: warm-up %s after %d rounds%s, %.0f ms, best round %.2f ms (scalar %.2f ms): %s%n",
                            stopped ? "stopped" : "done", rounds, withGrad ? " with grad" : "",
                            (System.nanoTime() - start) / 1e6, best / 1e6, scalarRound / 1e6, q);
                }
                pred = null; // the caller's buffers are no longer referenced
                target = null;
                grad = null;
                done.countDown();
            }
        }

        /**
         * {@link #ROUND} calls of {@code k}'s passes on the slice, as a backend makes them (the grad pass once
         * {@code coefficients} are known, reading back what the stats pass kept when the kernels keep); its time.
         */
        private long round(CpuKernels kernels, GradCoefficients k, CpuBuffer g, double[] acc) {
            boolean keep = k != null && kernels.keeps(q);
            long t0 = System.nanoTime();
            for (int i = 0; i < ROUND && !stopped; i++) {
                if (keep) {
                    kernels.stats(q, pred, target, 0, 0, pixels, acc, g);
                    kernels.grad(q, pred, target, k, g, 0, 0, pixels, true);
                } else {
                    kernels.stats(q, pred, target, 0, 0, pixels, acc);
                    if (k != null) {
                        kernels.grad(q, pred, target, k, g, 0, 0, pixels);
                    }
                }
            }
            return System.nanoTime() - t0;
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
