package org.segloss.score;

import java.io.Serializable;
import java.util.Arrays;
import org.segloss.ConfusionCounts;

/**
 * The mergeable sums behind the means that are not functions of the summed counts: per-image mean
 * Dice and IoU (image-wise means; index 0 over every class, 1 without class 0, so
 * {@code --exclude-background} can be chosen when reporting or merging) and, with surface distances,
 * per class the sums and counts of HD95, ASSD and NSD over the images where each is defined, and the
 * images with exactly one empty mask ({@code surface_missed}). Sums are {@link ExactSum}s: merging
 * in any order gives the same bits.
 */
final class MeanSums implements Serializable {
    private static final long serialVersionUID = 1L;
    final ExactSum[] imageDice = {new ExactSum(), new ExactSum()};
    final long[] imageDiceN = new long[2];
    final ExactSum[] imageIou = {new ExactSum(), new ExactSum()};
    final long[] imageIouN = new long[2];
    /** Per class; length = the class count. Index: 0 HD95, 1 ASSD, 2 NSD. */
    ExactSum[][] surfaceSum = new ExactSum[3][0];
    long[][] surfaceN = new long[3][0];
    long[] missed = new long[0];

    int classes() {
        return missed.length;
    }

    void widen(int classes) {
        int old = missed.length;
        if (classes <= old) {
            return;
        }
        for (int m = 0; m < 3; m++) {
            surfaceSum[m] = Arrays.copyOf(surfaceSum[m], classes);
            for (int c = old; c < classes; c++) {
                surfaceSum[m][c] = new ExactSum();
            }
            surfaceN[m] = Arrays.copyOf(surfaceN[m], classes);
        }
        missed = Arrays.copyOf(missed, classes);
    }

    /** One image's counts (and surface values, or null). */
    void addImage(ConfusionCounts k, Surface.Values s) {
        widen(k.classes());
        for (int from = 0; from < 2; from++) {
            double d = meanOver(k, from, true);
            if (!Double.isNaN(d)) {
                imageDice[from].add(d);
                imageDiceN[from]++;
            }
            double i = meanOver(k, from, false);
            if (!Double.isNaN(i)) {
                imageIou[from].add(i);
                imageIouN[from]++;
            }
        }
        if (s != null) {
            widen(s.classes());
            for (int c = 0; c < s.classes(); c++) {
                double[] v = {s.hd95[c], s.assd[c], s.nsd[c]};
                for (int m = 0; m < 3; m++) {
                    if (!Double.isNaN(v[m])) {
                        surfaceSum[m][c].add(v[m]);
                        surfaceN[m][c]++;
                    }
                }
                if (s.missed[c]) {
                    missed[c]++;
                }
            }
        }
    }

    void add(MeanSums o) {
        widen(o.classes());
        for (int j = 0; j < 2; j++) {
            imageDice[j].add(o.imageDice[j]);
            imageDiceN[j] = Math.addExact(imageDiceN[j], o.imageDiceN[j]);
            imageIou[j].add(o.imageIou[j]);
            imageIouN[j] = Math.addExact(imageIouN[j], o.imageIouN[j]);
        }
        for (int m = 0; m < 3; m++) {
            for (int c = 0; c < o.classes(); c++) {
                surfaceSum[m][c].add(o.surfaceSum[m][c]);
                surfaceN[m][c] = Math.addExact(surfaceN[m][c], o.surfaceN[m][c]);
            }
        }
        for (int c = 0; c < o.classes(); c++) {
            missed[c] = Math.addExact(missed[c], o.missed[c]);
        }
    }

    /** The dataset value of surface metric {@code m} (0 HD95, 1 ASSD, 2 NSD) for class c; NaN if never defined. */
    double surface(int m, int c) {
        return c < classes() ? surfaceSum[m][c].mean(surfaceN[m][c]) : Double.NaN;
    }

    /** Mean Dice (or IoU) over the defined classes from {@code from} on; NaN when none is. */
    static double meanOver(ConfusionCounts k, int from, boolean dice) {
        double sum = 0;
        int n = 0;
        for (int c = from; c < k.classes(); c++) {
            double v = dice ? k.dice(c) : k.iou(c);
            if (!Double.isNaN(v)) {
                sum += v;
                n++;
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }
}
