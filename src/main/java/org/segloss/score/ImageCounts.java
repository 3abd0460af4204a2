package org.segloss.score;

import java.util.Arrays;
import org.segloss.ConfusionCounts;

/**
 * Exact per-class counts of one image (one pair of files), with where it came from so the worst
 * images can be drawn again for the report.
 */
final class ImageCounts {
    final String file;
    final String predPath;
    final String targetPath;
    final ConfusionCounts counts;
    /** Surface distances per class, or null when they were not computed. */
    final Surface.Values surface;

    ImageCounts(String file, String predPath, String targetPath, ConfusionCounts counts) {
        this(file, predPath, targetPath, counts, null);
    }

    ImageCounts(String file, String predPath, String targetPath, ConfusionCounts counts, Surface.Values surface) {
        this.file = file;
        this.predPath = predPath;
        this.targetPath = targetPath;
        this.counts = counts;
        this.surface = surface;
    }

    /** Mean Dice over the classes defined in this image (TP + FP + FN > 0); NaN when none is. */
    double meanDice() {
        return counts.meanDice();
    }

    double meanIou() {
        return counts.meanIou();
    }

    /**
     * {@code c} widened to {@code classes} classes: classes it did not see have zero TP, FP and FN,
     * and every counted pixel is a true negative for them (TN = the valid pixels, which any class's
     * TP + FP + FN + TN gives; none when {@code c} has no class yet).
     */
    static ConfusionCounts widen(ConfusionCounts c, int classes) {
        if (c.classes() == classes) {
            return c;
        }
        long[][] k = new long[4][];
        for (int j = 0; j < 4; j++) {
            k[j] = Arrays.copyOf(column(c, j), classes);
        }
        if (c.classes() > 0) {
            long valid = c.tp(0) + c.fp(0) + c.fn(0) + c.tn(0);
            Arrays.fill(k[3], c.classes(), classes, valid);
        }
        return new ConfusionCounts(k[0], k[1], k[2], k[3]);
    }

    /** Column {@code j} (0 TP, 1 FP, 2 FN, 3 TN) of {@code c} as an array. */
    static long[] column(ConfusionCounts c, int j) {
        long[] out = new long[c.classes()];
        for (int i = 0; i < out.length; i++) {
            out[i] = j == 0 ? c.tp(i) : j == 1 ? c.fp(i) : j == 2 ? c.fn(i) : c.tn(i);
        }
        return out;
    }
}
