package org.segloss.score;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.segloss.ConfusionCounts;
import org.segloss.Layout;
import org.segloss.LossEngine;

/**
 * The parts of {@code segloss score} for running it on other machinery (a Spark job, org.segloss.spark):
 * pairing by stem over any listing, decoding and counting one pair from its bytes, and a
 * serializable partial result that merges exactly (by addition and union, through {@link Tally})
 * and prints the same report. Nothing here repeats the scoring logic; it calls {@link Pairing},
 * {@link Decoder}, {@link Counting}, {@link Tally}, {@link Reports} and {@link StatsFile}.
 */
public final class ScoreParts {
    private ScoreParts() {
    }

    /** The options of {@code segloss score} that change the numbers, plus the backend and k worst. */
    public static final class Options implements Serializable {
        private static final long serialVersionUID = 1L;
        /** Fixed class count, or null to infer it (largest label seen + 1, or the prediction's channels). */
        public Integer classes;
        public Integer ignoreIndex;
        public double threshold = 0.5;
        public boolean fromLogits;
        /** Class axis of .npy scores: null (auto: channels first, then last), NCHW or NHWC. */
        public Layout layout;
        /** auto, cpu, opencl or cuda; null: {@code segloss.backend} / {@code SEGLOSS_BACKEND}, else auto. */
        public String backend;
        /** Worst images kept for the report (as {@code score --worst}, default as score without it). */
        public int worstK = ScoreCommand.DEFAULT_WORST;
        /** PNGs declaring more pixels are skipped before decoding (as {@code score --max-pixels}). */
        public long maxPixels = Decoder.DEFAULT_MAX_PIXELS;
        /** Leave class 0 out of every mean ({@code --exclude-background}). */
        public boolean excludeBackground;
        /** Surface distances ({@code --surface}) with this NSD tolerance and spacing (x first; null: the files', else 1). */
        public boolean surface;
        public double nsdTolerance = 1;
        public double[] spacing;

        /** Refuses what {@code segloss score} refuses, with the same messages. */
        public void check() {
            if (!(nsdTolerance >= 0) || Double.isInfinite(nsdTolerance)) {
                throw new IllegalArgumentException("--nsd-tolerance must be finite and >= 0, was " + nsdTolerance);
            }
            if (classes != null && (classes < 1 || classes > Counting.MAX_INFERRED_CLASSES)) {
                throw new IllegalArgumentException("--classes must be in [1, " + Counting.MAX_INFERRED_CLASSES + "], was " + classes);
            }
            if (!(threshold >= 0 && threshold <= 1)) {
                throw new IllegalArgumentException("--threshold must be in [0, 1], was " + threshold);
            }
            if (worstK < 0) {
                throw new IllegalArgumentException("--worst must be >= 0, was " + worstK);
            }
            if (maxPixels < 1) {
                throw new IllegalArgumentException("--max-pixels must be >= 1, was " + maxPixels);
            }
        }
    }

    /** A file left out and why (the {@code skipped} entries of the report). */
    public static final class Skipped implements Serializable {
        private static final long serialVersionUID = 1L;
        public final String file;
        public final String reason;

        public Skipped(String file, String reason) {
            this.file = file;
            this.reason = reason;
        }
    }

    /** A prediction and its target as the caller names them (display names and locations). */
    public static final class FilePair implements Serializable {
        private static final long serialVersionUID = 1L;
        /** The shared stem. */
        public final String stem;
        public final String pred;
        public final String target;

        public FilePair(String stem, String pred, String target) {
            this.stem = stem;
            this.pred = pred;
            this.target = target;
        }
    }

    /** Pairs and the files left out, as {@code segloss score} pairs two directories. */
    public static final class Pairs {
        public final List<FilePair> pairs = new ArrayList<>();
        public final List<Skipped> unpaired = new ArrayList<>();
    }

    /** True for the files {@code score} reads below a directory ({@code .png}, {@code .npy}). */
    public static boolean scorable(String fileName) {
        return Pairing.scorable(fileName);
    }

    /** The pairing key of a file at this path relative to its directory (path without extension). */
    public static String stem(String relativePath) {
        return Pairing.stem(relativePath);
    }

    /** The pairing key of a single file (its name without extension). */
    public static String fileStem(String fileName) {
        return Pairing.fileStem(fileName);
    }

    /**
     * Pairs files listed under two directories, each map from stem to the files with that stem
     * (sorted by stem, each list sorted); pairs come in stem order.
     */
    public static Pairs pairByStem(Map<String, List<String>> pred, Map<String, List<String>> target) {
        Pairs out = new Pairs();
        Pairing.match(pred, target, new Pairing.Matches<String>() {
            @Override
            public void pair(String stem, String p, String t) {
                out.pairs.add(new FilePair(stem, p, t));
            }

            @Override
            public void unpaired(String file, String reason) {
                out.unpaired.add(new Skipped(file, reason));
            }
        });
        return out;
    }

    /** Class names, one per line, read as {@code score --class-names} reads them (null file: none). */
    public static List<String> classNames(Path file, Integer classes) {
        try {
            return CommandSupport.classNames(file, classes);
        } catch (CommandSupport.UsageException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** Reads a whole file from wherever it lives. */
    public interface ByteSource {
        byte[] read() throws IOException;
    }

    /** One pair's outcome: its counts, or the file to blame and the reason it was skipped. */
    public static final class ImageResult implements Serializable {
        private static final long serialVersionUID = 1L;
        /** The prediction's display name (the {@code file} of per-image rows). */
        public final String file;
        public final String predPath;
        public final String targetPath;
        /** Per-class counts at the image's own class count; null when skipped. */
        public final long[] tp;
        public final long[] fp;
        public final long[] fn;
        public final long[] tn;
        /** Skipped: the file that failed (the one that did not decode, else the prediction) and why. */
        public final Skipped skipped;
        /** Where the counts were computed: {@code host} (label maps) or the engine's backend name. */
        public final String countedOn;
        /** With --surface: per class HD95, ASSD, NSD (NaN where undefined) and whether exactly one mask was empty. */
        public final double[] hd95;
        public final double[] assd;
        public final double[] nsd;
        public final boolean[] surfaceMissed;

        ImageResult(String file, String predPath, String targetPath, ConfusionCounts c, Skipped skipped, String countedOn) {
            this(file, predPath, targetPath, c, null, skipped, countedOn);
        }

        ImageResult(String file, String predPath, String targetPath, ConfusionCounts c, Surface.Values surface, Skipped skipped,
                    String countedOn) {
            this.hd95 = surface == null ? null : surface.hd95;
            this.assd = surface == null ? null : surface.assd;
            this.nsd = surface == null ? null : surface.nsd;
            this.surfaceMissed = surface == null ? null : surface.missed;
            this.file = file;
            this.predPath = predPath;
            this.targetPath = targetPath;
            this.tp = c == null ? null : ImageCounts.column(c, 0);
            this.fp = c == null ? null : ImageCounts.column(c, 1);
            this.fn = c == null ? null : ImageCounts.column(c, 2);
            this.tn = c == null ? null : ImageCounts.column(c, 3);
            this.skipped = skipped;
            this.countedOn = countedOn;
        }

        /** The counts (null when skipped). */
        public ConfusionCounts counts() {
            return tp == null ? null : new ConfusionCounts(tp, fp, fn, tn);
        }

        /** The counts widened to {@code classes} classes (classes this image did not see are zero). */
        public ConfusionCounts counts(int classes) {
            return tp == null ? null : ImageCounts.widen(counts(), classes);
        }

        ImageCounts image() {
            return new ImageCounts(file, predPath, targetPath, counts(),
                    hd95 == null ? null : new Surface.Values(hd95, assd, nsd, surfaceMissed));
        }
    }

    /**
     * Scores pairs one after the other as {@code segloss score} does: label maps counted exactly
     * on the host, per-class scores on an engine the dispatcher opens on first need (a GPU when the
     * machine has one, else the CPU). Not thread-safe; one per task. Close it to free the engine.
     */
    public static final class PairScorer implements AutoCloseable {
        private final Options options;
        private LossEngine engine;
        private Surface.Job surface;

        public PairScorer(Options options) {
            this.options = options;
        }

        private LossEngine engine() {
            if (engine == null) {
                engine = options.backend == null ? LossEngine.create() : LossEngine.create(options.backend);
            }
            return engine;
        }

        /** The surface job: the Java transform on a CPU engine, else the engine's kernels. */
        private Surface.Job surface() {
            if (surface == null) {
                LossEngine e = engine();
                surface = new Surface.Job(options.nsdTolerance, options.spacing, e.backendName().equals("cpu")
                        ? Surface.JAVA : Scorer.onBackend(e), options.excludeBackground ? 1 : 0);
            }
            return surface;
        }

        /** The engine's backend name, or null when no pair needed one. */
        public String engineBackend() {
            return engine == null ? null : engine.backendName();
        }

        /**
         * Reads, decodes and counts one pair. A file that cannot be read or decoded, or a pair that
         * does not fit, comes back skipped with the same reason {@code segloss score} gives.
         */
        public ImageResult score(String predName, String targetName, String predPath, String targetPath,
                                 ByteSource predBytes, ByteSource targetBytes) {
            String reading = predName;
            try {
                byte[] pb = bytes(predBytes);
                Decoder.Header ph = Decoder.header(predName, pb, options.maxPixels);
                reading = targetName;
                byte[] tb = bytes(targetBytes);
                Decoder.Header th = Decoder.header(targetName, tb, options.maxPixels);
                Decoder.requireClassMap(th);
                reading = predName;
                Decoder.checkPair(ph, th, options.layout);
                Object pred = Decoder.read(predName, pb, options.maxPixels);
                reading = targetName;
                Decoder.LabelMap target = Decoder.readTarget(targetName, tb, options.maxPixels);
                reading = predName;
                if (pred instanceof Decoder.LabelMap) {
                    ConfusionCounts c = Counting.countLabels((Decoder.LabelMap) pred, target, options.classes,
                            options.ignoreIndex);
                    Surface.Values sv = options.surface
                            ? Surface.of((Decoder.LabelMap) pred, target, c.classes(), options.ignoreIndex, surface()) : null;
                    return new ImageResult(predName, predPath, targetPath, c, sv, null, "host");
                }
                if (options.surface) {
                    throw new BadFileException(Surface.NEEDS_CLASS_MAP);
                }
                Counting.EngineJob job = Counting.prepare((Decoder.Scores) pred, target, options.classes,
                        options.ignoreIndex, options.threshold, options.fromLogits, options.layout);
                ConfusionCounts c = Counting.countOnEngine(engine(), job, options.ignoreIndex, options.threshold,
                        options.fromLogits);
                return new ImageResult(predName, predPath, targetPath, c, null, engine.backendName());
            } catch (BadFileException e) {
                return new ImageResult(predName, predPath, targetPath, null, new Skipped(reading, e.getMessage()), null);
            } catch (OutOfMemoryError e) {
                return new ImageResult(predName, predPath, targetPath, null,
                        new Skipped(reading, "too large to decode in this JVM's heap (" + e.getMessage() + ")"), null);
            }
        }

        private static byte[] bytes(ByteSource source) throws BadFileException {
            try {
                return source.read();
            } catch (FileNotFoundException e) {
                throw new BadFileException("unreadable: no such file");
            } catch (IOException e) {
                throw new BadFileException("unreadable: " + Decoder.message(e));
            }
        }

        @Override
        public void close() {
            if (engine != null) {
                engine.close();
                engine = null;
            }
        }
    }

    /**
     * The mergeable result of scoring some pairs: counts summed in 64 bits, images, the per-image
     * Dice histogram, the k worst images and the skipped files, the same content as a
     * {@code --save-stats} file. {@link #merge} adds two exactly (order does not matter), so a
     * functional reduce over any partitioning gives the result of one {@code segloss score} run.
     */
    public static final class Partial implements Serializable {
        private static final long serialVersionUID = 1L;
        private final Options options;
        private final long[][] counts;
        private final long images;
        private final long[] histogram;
        private final List<ImageResult> worst;
        private final List<Skipped> skipped;
        private final MeanSums sums;

        private Partial(Options options, Tally t) {
            this.sums = new MeanSums();
            sums.add(t.sums());
            this.options = options;
            this.counts = new long[4][];
            for (int j = 0; j < 4; j++) {
                counts[j] = ImageCounts.column(t.total(), j);
            }
            this.images = t.images();
            this.histogram = t.histogram();
            this.worst = new ArrayList<>();
            for (ImageCounts i : t.worst()) {
                worst.add(new ImageResult(i.file, i.predPath, i.targetPath, i.counts, i.surface, null, null));
            }
            this.skipped = new ArrayList<>();
            for (Tally.Skipped s : t.skipped()) {
                skipped.add(new Skipped(s.file, s.reason));
            }
        }

        /** Nothing scored yet (the class count is {@code options.classes}, or 0 to be inferred). */
        public static Partial empty(Options options) {
            return new Partial(options, emptyTally(options));
        }

        /** The results of some pairs plus files skipped before scoring (e.g. unpaired ones). */
        public static Partial of(Options options, Iterator<ImageResult> results, List<Skipped> alsoSkipped) {
            Tally t = emptyTally(options);
            while (results.hasNext()) {
                ImageResult r = results.next();
                if (r.skipped != null) {
                    t.skip(r.skipped.file, r.skipped.reason);
                } else {
                    t.add(r.image());
                }
            }
            for (Skipped s : alsoSkipped) {
                t.skip(s.file, s.reason);
            }
            return new Partial(options, t);
        }

        private static Tally emptyTally(Options o) {
            Tally t = new Tally(new Tally.Settings(o.ignoreIndex, o.threshold, o.fromLogits, o.classes == null),
                    o.classes == null ? 0 : o.classes, false, o.worstK);
            t.excludeBackground = o.excludeBackground;
            if (o.surface) {
                t.surfaceFromClass = o.excludeBackground ? 1 : 0;
                t.surfaceTolerance = o.nsdTolerance;
                t.spacing = o.spacing == null ? null : ScoreCommand.spacingText(o.spacing);
            }
            return t;
        }

        /** This plus {@code other}: counts, images and histogram added, worst and skipped united. */
        public Partial merge(Partial other) {
            Tally t = tally();
            other.mergeInto(t);
            return new Partial(options, t);
        }

        private void mergeInto(Tally t) {
            List<ImageCounts> w = new ArrayList<>();
            for (ImageResult r : worst) {
                w.add(r.image());
            }
            List<Tally.Skipped> s = new ArrayList<>();
            for (Skipped k : skipped) {
                s.add(new Tally.Skipped(k.file, k.reason));
            }
            t.merge(new ConfusionCounts(counts[0], counts[1], counts[2], counts[3]), sums, images, histogram, s, null, w);
        }

        private Tally tally() {
            Tally t = emptyTally(options);
            mergeInto(t);
            return t;
        }

        public long images() {
            return images;
        }

        public int classes() {
            return counts[0].length;
        }

        /** The summed counts (TP, FP, FN, TN per class). */
        public ConfusionCounts total() {
            return new ConfusionCounts(counts[0], counts[1], counts[2], counts[3]);
        }

        /** Skipped files sorted by file name. */
        public List<Skipped> skipped() {
            return Collections.unmodifiableList(skipped);
        }

        /**
         * The report {@code segloss score} prints: {@code json}, {@code csv} or {@code table}
         * ({@code header}: the table's first line), with class names (or null) and the k worst
         * images when {@code withWorst}. Per-image rows are not part of it (they stay distributed).
         */
        public String report(String format, List<String> classNames, boolean withWorst, String header) throws IOException {
            Tally t = tally();
            switch (format) {
                case "json":
                    return Reports.JSON.writeValueAsString(Reports.json(t, classNames, false, withWorst)) + "\n";
                case "csv":
                    return Reports.csv(t, classNames, false, withWorst);
                case "table":
                    return Reports.table(t, classNames, false, withWorst, header);
                default:
                    throw new IllegalArgumentException("--format must be one of table, json, csv, was " + format);
            }
        }

        /** Writes the integer counts as {@code segloss merge} reads them ({@code score --save-stats}). */
        public void saveStats(Path file) throws IOException {
            StatsFile.save(tally(), file);
        }
    }
}
