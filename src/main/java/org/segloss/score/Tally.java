package org.segloss.score;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import org.segloss.ConfusionCounts;

/**
 * The mergeable result of scoring: 64-bit counts summed over images, the skipped files, a fixed-bin
 * histogram of per-image Dice, the k worst images and (when asked for) every per-image row. Every
 * part merges exactly by addition or by union, so shards scored apart and merged equal one run.
 * Memory is bounded by the class count and k unless per-image rows are kept.
 */
final class Tally {
    /** Bins of the per-image Dice histogram over [0, 1]. */
    static final int HISTOGRAM_BINS = 20;

    /** Worst first: the lowest mean Dice, ties by file name. */
    static final Comparator<ImageCounts> WORST_FIRST =
            Comparator.comparingDouble(ImageCounts::meanDice).thenComparing(i -> i.file);

    final Settings settings;
    private ConfusionCounts total;
    private long images;
    private final List<Skipped> skipped = new ArrayList<>();
    private final List<ImageCounts> perImage;
    private final PriorityQueue<ImageCounts> worst;
    private final int worstK;
    private final long[] histogram = new long[HISTOGRAM_BINS];
    private final MeanSums sums = new MeanSums();
    /** Leave class 0 out of every mean (a reporting choice: the sums keep both). */
    boolean excludeBackground;
    /** NSD tolerance when surface distances were computed, else null. */
    Double surfaceTolerance;
    /** The first class whose surface distances were computed (1 when scored with --exclude-background). */
    int surfaceFromClass;
    /** The spacing given with --spacing (x,y[,z]), or null when it came from the files (or 1). */
    String spacing;

    /** A skipped file and why. */
    static final class Skipped {
        final String file;
        final String reason;

        Skipped(String file, String reason) {
            this.file = file;
            this.reason = reason;
        }
    }

    /** What the counts mean: they only add up when these agree. */
    static final class Settings {
        final Integer ignoreIndex;
        final double threshold;
        final boolean fromLogits;
        /** True when the class count was inferred from the data (it may then grow). */
        final boolean classesInferred;

        Settings(Integer ignoreIndex, double threshold, boolean fromLogits, boolean classesInferred) {
            this.ignoreIndex = ignoreIndex;
            this.threshold = threshold;
            this.fromLogits = fromLogits;
            this.classesInferred = classesInferred;
        }
    }

    Tally(Settings settings, int classes, boolean keepPerImage, int worstK) {
        this.settings = settings;
        this.total = ConfusionCounts.zero(classes);
        this.perImage = keepPerImage ? new ArrayList<>() : null;
        this.worstK = worstK;
        this.worst = new PriorityQueue<>(Math.max(1, worstK + 1), WORST_FIRST.reversed());
    }

    int classes() {
        return total.classes();
    }

    /** Grows the class count (inferred classes); counts of the new classes are zero. */
    void widen(int classes) {
        if (classes > total.classes()) {
            total = ImageCounts.widen(total, classes);
        }
    }

    void add(ImageCounts image) {
        widen(image.counts.classes());
        total = total.plus(ImageCounts.widen(image.counts, total.classes()));
        sums.addImage(image.counts, image.surface);
        images++;
        if (perImage != null) {
            perImage.add(image);
        }
        double d = image.meanDice();
        if (!Double.isNaN(d)) {
            histogram[bin(d)]++;
            offerWorst(image);
        }
    }

    private void offerWorst(ImageCounts image) {
        if (worstK <= 0) {
            return;
        }
        worst.add(image);
        if (worst.size() > worstK) {
            worst.poll();
        }
    }

    static int bin(double dice) {
        return Math.min(HISTOGRAM_BINS - 1, (int) Math.floor(dice * HISTOGRAM_BINS));
    }

    void skip(String file, String reason) {
        skipped.add(new Skipped(file, reason));
    }

    /** Adds another tally's counts, images, histogram, skipped files, per-image rows and worst candidates. */
    void merge(ConfusionCounts counts, MeanSums moreSums, long moreImages, long[] moreHistogram, List<Skipped> moreSkipped,
               List<ImageCounts> morePerImage, List<ImageCounts> moreWorst) {
        checkSums(counts, moreImages, moreHistogram);
        widen(counts.classes());
        total = total.plus(ImageCounts.widen(counts, total.classes()));
        sums.add(moreSums);
        images = Math.addExact(images, moreImages);
        for (int i = 0; i < HISTOGRAM_BINS; i++) {
            histogram[i] = Math.addExact(histogram[i], moreHistogram[i]);
        }
        skipped.addAll(moreSkipped);
        if (perImage != null && morePerImage != null) {
            perImage.addAll(morePerImage);
        }
        for (ImageCounts w : moreWorst) {
            offerWorst(w);
        }
    }

    /**
     * Refuses a merge whose sums would overflow 64 bits, naming the field (nothing is added then):
     * {@code images}, {@code dice_histogram[i]} or {@code tp/fp/fn/tn} of a class.
     */
    private void checkSums(ConfusionCounts counts, long moreImages, long[] moreHistogram) {
        sum("images", images, moreImages);
        for (int i = 0; i < HISTOGRAM_BINS; i++) {
            sum("dice_histogram[" + i + "]", histogram[i], moreHistogram[i]);
        }
        for (int c = 0; c < Math.min(counts.classes(), total.classes()); c++) {
            sum("tp of class " + c, total.tp(c), counts.tp(c));
            sum("fp of class " + c, total.fp(c), counts.fp(c));
            sum("fn of class " + c, total.fn(c), counts.fn(c));
            sum("tn of class " + c, total.tn(c), counts.tn(c));
        }
    }

    private static void sum(String field, long a, long b) {
        long r = a + b;
        if (((a ^ r) & (b ^ r)) < 0) {
            throw new org.segloss.InvalidInputException(field + " overflows 64 bits when merged: " + a + " + " + b);
        }
    }

    ConfusionCounts total() {
        return total;
    }

    /** The image-wise and surface sums (live: the caller must not change them). */
    MeanSums sums() {
        return sums;
    }

    /** The first class the means use: 1 with --exclude-background, else 0. */
    int firstClass() {
        return excludeBackground ? 1 : 0;
    }

    long images() {
        return images;
    }

    long[] histogram() {
        return histogram.clone();
    }

    int worstK() {
        return worstK;
    }

    /** Skipped files sorted by file name (the order does not depend on threads or shards). */
    List<Skipped> skipped() {
        List<Skipped> s = new ArrayList<>(skipped);
        s.sort(Comparator.comparing((Skipped k) -> k.file).thenComparing(k -> k.reason));
        return s;
    }

    /** Per-image rows sorted by file name, or null when they were not kept. */
    List<ImageCounts> perImage() {
        if (perImage == null) {
            return null;
        }
        List<ImageCounts> s = new ArrayList<>(perImage);
        s.sort(Comparator.comparing(i -> i.file));
        return s;
    }

    /** The k worst images, worst first. */
    List<ImageCounts> worst() {
        List<ImageCounts> s = new ArrayList<>(worst);
        s.sort(WORST_FIRST);
        return s;
    }
}
