package org.segloss.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.training.GradientCollector;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import java.util.function.BiFunction;
import org.segloss.Loss;
import org.segloss.LossSpec;
import org.segloss.Mode;

/**
 * Forward + backward of a loss through SeglossLoss against the same loss composed from DJL NDArray ops
 * (libtorch autograd), on the CPU, at N x C x H x W (default 8x4x512x512). Not a test: run it with
 * {@code ci/djl-bench.sh} (which sets glibc's malloc thresholds so that libtorch's times are not page faults).
 * Prints the median of {@code reps} timed runs after two warm-up runs, in ms.
 */
public final class DjlBench {
    private DjlBench() {
    }

    public static void main(String[] args) {
        int n = 8;
        int c = 4;
        int h = args.length > 0 ? Integer.parseInt(args[0]) : 512;
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 7;
        Random rnd = new Random(1);
        float[] x = new float[n * c * h * h];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (2 * rnd.nextGaussian());
        }
        long[] y = new long[n * h * h];
        for (int i = 0; i < y.length; i++) {
            y[i] = rnd.nextInt(c);
        }
        float[] mask = new float[x.length];
        for (int i = 0; i < mask.length; i++) {
            mask[i] = rnd.nextInt(3) == 0 ? 1 : 0;
        }
        System.out.printf(Locale.ROOT, "%dx%dx%dx%d float32 on the CPU, libtorch %s, median of %d (ms)%n", n, c, h, h,
                Djl.engine().getVersion(), reps);
        System.out.printf(Locale.ROOT, "%-28s %12s %12s %8s%n", "loss", "segloss+DJL", "DJL ops", "ratio");
        try (NDManager m = Djl.manager()) {
            NDArray pred = m.create(x, new Shape(n, c, h, h));
            pred.setRequiresGradient(true);
            NDArray classes = m.create(y, new Shape(n, h, h));
            NDArray oneHot = classes.oneHot(c).transpose(0, 3, 1, 2).duplicate();
            NDArray masks = m.create(mask, new Shape(n, c, h, h));
            row(m, "dice multilabel (sigmoid)", LossSpec.builder(Loss.DICE, Mode.MULTILABEL).fromLogits(true).build(),
                    pred, masks, (p, t) -> meanDice(Activation.sigmoid(p), t).neg().add(1), reps);
            row(m, "bce_logdice multilabel", LossSpec.builder(Loss.BCE_LOGDICE, Mode.MULTILABEL).fromLogits(true).build(),
                    pred, masks, (p, t) -> Activation.softPlus(p).sub(p.mul(t)).mean()
                            .sub(meanDice(Activation.sigmoid(p), t).maximum(1e-7f).log()), reps);
            row(m, "dice multiclass (softmax)", LossSpec.builder(Loss.DICE, Mode.MULTICLASS).fromLogits(true).build(),
                    pred, classes, (p, t) -> meanDice(p.softmax(1), oneHot).neg().add(1), reps);
            row(m, "ce_logdice multiclass", LossSpec.builder(Loss.CE_LOGDICE, Mode.MULTICLASS).fromLogits(true).build(),
                    pred, classes, (p, t) -> p.logSoftmax(1).mul(oneHot).sum(new int[] {1}).neg().mean()
                            .sub(meanDice(p.softmax(1), oneHot).maximum(1e-7f).log()), reps);
        }
    }

    static NDArray meanDice(NDArray p, NDArray t) {
        int[] spatial = {2, 3};
        NDArray i = p.mul(t).sum(spatial);
        return i.mul(2).add(1).div(p.sum(spatial).add(t.sum(spatial)).add(1)).mean();
    }

    private static void row(NDManager m, String name, LossSpec spec, NDArray pred, NDArray labels,
                            BiFunction<NDArray, NDArray, NDArray> djl, int reps) {
        try (SeglossLoss loss = new SeglossLoss(spec)) {
            double a = median(m, reps, () -> loss.evaluate(new NDList(labels), new NDList(pred)));
            double b = median(m, reps, () -> djl.apply(pred, labels));
            System.out.printf(Locale.ROOT, "%-28s %12.1f %12.1f %8.2f%n", name, a, b, a / b);
        }
    }

    /** Median ms of forward + backward (each run in a sub-manager closed after it). */
    private static double median(NDManager m, int reps, java.util.function.Supplier<NDArray> lossOf) {
        double[] t = new double[reps];
        for (int r = -2; r < reps; r++) {
            try (NDManager sub = m.newSubManager()) {
                long start = System.nanoTime();
                try (GradientCollector collector = Djl.engine().newGradientCollector()) {
                    NDArray v = lossOf.get();
                    collector.backward(v);
                    v.getFloat();
                }
                double ms = (System.nanoTime() - start) / 1e6;
                if (r >= 0) {
                    t[r] = ms;
                }
            }
        }
        Arrays.sort(t);
        return t[reps / 2];
    }
}
