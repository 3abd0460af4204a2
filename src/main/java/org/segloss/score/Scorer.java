package org.segloss.score;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.segloss.ConfusionCounts;
import org.segloss.Layout;
import org.segloss.LossEngine;

/**
 * The scoring pipeline. A pool of CPU threads decodes pairs (and counts label-vs-label pairs on the
 * host right there); the calling thread takes results in file order and counts per-class score
 * arrays on the engine, so the device works while the next files decode. At most {@code window}
 * decoded pairs exist at once, so memory is bounded whatever the dataset size.
 */
final class Scorer {
    /** What to score and how. */
    static final class Options {
        Integer classes;
        Integer ignoreIndex;
        double threshold = 0.5;
        boolean fromLogits;
        Layout layout;
        String backend;
        int threads = Runtime.getRuntime().availableProcessors();
        boolean strict;
        boolean keepPerImage;
        int worstK;
        /** PNGs declaring more pixels are skipped before decoding. */
        long maxPixels = Decoder.DEFAULT_MAX_PIXELS;
        /** --surface: compute HD95, ASSD and NSD; with the tolerance and --spacing (x first, or null). */
        boolean surface;
        double nsdTolerance = 1;
        double[] spacing;
        /** --exclude-background: class 0's surface distances are not computed. */
        boolean excludeBackground;
    }

    /** Called after each pair (scored or skipped), on the calling thread. */
    interface Progress {
        void step();
    }

    /** The outcome: the tally, the file that stopped a strict run (or null), and where time went. */
    static final class Outcome {
        final Tally tally;
        final Tally.Skipped stoppedAt;
        final String backend;
        final long decodeNanos;
        final long hostCountNanos;
        final long engineCountNanos;
        final long engineImages;
        final long wallNanos;
        final int threads;
        /** Time in surface distances (decode threads on the CPU, the calling thread on a device), summed. */
        long surfaceNanos;

        Outcome(Tally tally, Tally.Skipped stoppedAt, String backend, long decodeNanos, long hostCountNanos,
                long engineCountNanos, long engineImages, long wallNanos, int threads) {
            this.tally = tally;
            this.stoppedAt = stoppedAt;
            this.backend = backend;
            this.decodeNanos = decodeNanos;
            this.hostCountNanos = hostCountNanos;
            this.engineCountNanos = engineCountNanos;
            this.engineImages = engineImages;
            this.wallNanos = wallNanos;
            this.threads = threads;
        }
    }

    /** A decoded pair: host counts, an engine job, or the reason it is skipped. */
    private static final class Decoded {
        final Pairing.Pair pair;
        final ConfusionCounts counts;
        final Counting.EngineJob job;
        final String badReason;
        /** The file to blame: the one that failed to decode, else the prediction. */
        final String badFile;
        /** Surface values computed on the decode thread, or null. */
        Surface.Values surface;
        /** The label maps, kept when the surface distances run on the engine (the calling thread). */
        Decoder.LabelMap pred;
        Decoder.LabelMap target;

        Decoded(Pairing.Pair pair, ConfusionCounts counts, Counting.EngineJob job, String badReason, String badFile) {
            this.pair = pair;
            this.counts = counts;
            this.job = job;
            this.badReason = badReason;
            this.badFile = badFile;
        }
    }

    /**
     * The distance transform of the engine's backend: upload, transform, download. The CPU backend's
     * runs on the decode threads instead (the same Java code, in parallel over pairs).
     */
    static Surface.Transform onBackend(LossEngine engine) {
        return (grid, dims, spacing) -> {
            long[] ld = new long[dims.length];
            for (int i = 0; i < dims.length; i++) {
                ld[i] = dims[i];
            }
            try (org.segloss.DeviceBuffer b = engine.upload(grid)) {
                engine.backend().distanceTransform(b, ld, spacing);
                engine.download(b, grid);
            }
        };
    }

    private final Options options;
    /** The transform decode threads use (CPU), or null when surfaces run on the engine or not at all. */
    private volatile Surface.Job hostSurface;
    private final LongAdder decodeNanos = new LongAdder();
    private final LongAdder hostCountNanos = new LongAdder();
    private final LongAdder surfaceNanos = new LongAdder();
    /**
     * Per decode thread: the label arrays of its last pair (prediction, target), read into again by the
     * next pair of the same voxel count. Only while the label maps do not outlive {@link #decode} (they stay
     * on the thread unless the surface distances run on a device). Without it every volume allocated two
     * fresh arrays (humongous objects), and G1 grew the heap to 2-2.5 GB and spent the decode time in
     * page faults in about a third of the runs.
     */
    private final ThreadLocal<int[][]> labelArrays = ThreadLocal.withInitial(() -> new int[2][]);

    Scorer(Options options) {
        this.options = options;
    }

    Outcome run(List<Pairing.Pair> pairs, Tally tally, Progress progress) throws InterruptedException {
        long start = System.nanoTime();
        int threads = Math.max(1, options.threads);
        int window = 2 * threads + 2;
        AtomicInteger id = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "segloss-decode-" + id.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        LossEngine engine = null;
        long engineNanos = 0;
        long engineImages = 0;
        Tally.Skipped stoppedAt = null;
        Surface.Job engineSurface = null;
        if (options.surface) {
            engine = options.backend == null ? LossEngine.create() : LossEngine.create(options.backend);
            if (engine.backendName().equals("cpu")) {
                hostSurface = new Surface.Job(options.nsdTolerance, options.spacing, Surface.JAVA,
                        options.excludeBackground ? 1 : 0);
            } else {
                engineSurface = new Surface.Job(options.nsdTolerance, options.spacing, onBackend(engine),
                        options.excludeBackground ? 1 : 0);
            }
        }
        try {
            ArrayDeque<Future<Decoded>> inFlight = new ArrayDeque<>();
            int next = 0;
            while (next < pairs.size() && inFlight.size() < window) {
                Pairing.Pair p = pairs.get(next++);
                inFlight.add(pool.submit(() -> decode(p)));
            }
            while (!inFlight.isEmpty()) {
                Decoded d = get(inFlight.poll());
                if (next < pairs.size()) {
                    Pairing.Pair p = pairs.get(next++);
                    inFlight.add(pool.submit(() -> decode(p)));
                }
                String reason = d.badReason;
                ConfusionCounts counts = d.counts;
                Surface.Values surface = d.surface;
                if (reason == null && engineSurface != null && d.pred != null) {
                    long t0 = System.nanoTime();
                    try {
                        surface = Surface.of(d.pred, d.target, counts.classes(), options.ignoreIndex, engineSurface);
                    } catch (BadFileException e) {
                        reason = e.getMessage();
                    }
                    surfaceNanos.add(System.nanoTime() - t0);
                }
                if (reason == null && d.job != null) {
                    if (engine == null) {
                        engine = options.backend == null ? LossEngine.create() : LossEngine.create(options.backend);
                    }
                    long t0 = System.nanoTime();
                    try {
                        counts = Counting.countOnEngine(engine, d.job, options.ignoreIndex, options.threshold, options.fromLogits);
                        engineImages++;
                    } catch (BadFileException e) {
                        reason = e.getMessage();
                    }
                    engineNanos += System.nanoTime() - t0;
                }
                if (reason != null) {
                    String file = d.badFile != null ? d.badFile : d.pair.pred.toString();
                    tally.skip(file, reason);
                    if (options.strict) {
                        stoppedAt = new Tally.Skipped(file, reason);
                        for (Future<Decoded> f : inFlight) {
                            f.cancel(true);
                        }
                        break;
                    }
                } else {
                    tally.add(new ImageCounts(d.pair.pred.toString(), d.pair.pred.toAbsolutePath().toString(),
                            d.pair.target.toAbsolutePath().toString(), counts, surface));
                }
                if (progress != null) {
                    progress.step();
                }
            }
        } finally {
            pool.shutdownNow();
            if (engine != null) {
                engine.close();
            }
        }
        String backend = engine == null ? null : engine.backendName();
        Outcome out = new Outcome(tally, stoppedAt, backend, decodeNanos.sum(), hostCountNanos.sum(), engineNanos, engineImages,
                System.nanoTime() - start, threads);
        out.surfaceNanos = surfaceNanos.sum();
        return out;
    }

    private static Decoded get(Future<Decoded> f) throws InterruptedException {
        try {
            return f.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException) {
                throw (RuntimeException) c;
            }
            if (c instanceof Error) {
                throw (Error) c;
            }
            throw new IllegalStateException(c);
        }
    }

    /** Runs on a decode thread. */
    private Decoded decode(Pairing.Pair pair) {
        long t0 = System.nanoTime();
        String reading = pair.pred.toString();
        try {
            // both headers first: a target that does not fit is refused before a large pred is read
            Decoder.Header ph = Decoder.header(pair.pred, options.maxPixels);
            reading = pair.target.toString();
            Decoder.Header th = Decoder.header(pair.target, options.maxPixels);
            Decoder.requireClassMap(th);
            reading = null;
            Decoder.checkPair(ph, th, options.layout);
            reading = pair.pred.toString();
            boolean stayOnThread = hostSurface != null || !options.surface;
            int[][] arrays = stayOnThread ? labelArrays.get() : new int[2][];
            Object pred = Decoder.read(pair.pred, options.maxPixels, arrays[0]);
            if (pred instanceof Decoder.LabelMap) {
                arrays[0] = ((Decoder.LabelMap) pred).labels;
            }
            reading = pair.target.toString();
            Decoder.LabelMap target = Decoder.readTarget(pair.target, options.maxPixels, arrays[1]);
            arrays[1] = target.labels;
            reading = null;
            long t1 = System.nanoTime();
            decodeNanos.add(t1 - t0);
            if (pred instanceof Decoder.LabelMap) {
                Decoder.LabelMap p = (Decoder.LabelMap) pred;
                ConfusionCounts c = Counting.countLabels(p, target, options.classes, options.ignoreIndex);
                Decoded d = new Decoded(pair, c, null, null, null);
                long t2 = System.nanoTime();
                hostCountNanos.add(t2 - t1);
                Surface.Job host = hostSurface;
                if (host != null) {
                    d.surface = Surface.of(p, target, c.classes(), options.ignoreIndex, host);
                    surfaceNanos.add(System.nanoTime() - t2);
                } else if (options.surface) {
                    d.pred = p;
                    d.target = target;
                }
                return d;
            }
            if (options.surface) {
                throw new BadFileException(Surface.NEEDS_CLASS_MAP);
            }
            arrays[1] = null; // the engine job holds the target until the calling thread counts it
            Counting.EngineJob job = Counting.prepare((Decoder.Scores) pred, target, options.classes, options.ignoreIndex,
                    options.threshold, options.fromLogits, options.layout);
            decodeNanos.add(System.nanoTime() - t1);
            return new Decoded(pair, null, job, null, null);
        } catch (BadFileException e) {
            return new Decoded(pair, null, null, e.getMessage(), reading);
        } catch (OutOfMemoryError e) {
            return new Decoded(pair, null, null, "too large to decode in this JVM's heap (" + e.getMessage() + ")", reading);
        }
    }
}
