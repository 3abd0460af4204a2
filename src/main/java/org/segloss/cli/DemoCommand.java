package org.segloss.cli;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.segloss.ConfusionCounts;
import org.segloss.ConfusionSpec;
import org.segloss.DeviceBuffer;
import org.segloss.Loss;
import org.segloss.LossEngine;
import org.segloss.LossResult;
import org.segloss.LossSpec;
import org.segloss.Mode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code segloss demo}: every loss on a synthetic batch, then a per-pixel linear classifier trained
 * with a loss gradient.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Every loss on a synthetic batch, per-class Dice/IoU, then a short training run.",
        description = {"Run every loss forward and backward on a synthetic batch (circles, squares and triangles",
                "on a background; predictions are noisy logits), show per-class Dice/IoU, then train a per-pixel",
                "linear classifier on the images' colours with a loss gradient."})
final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    DebugOption debugOption;

    @Mixin
    BackendOption backendOption;

    @Option(names = "--images", paramLabel = "N", defaultValue = "4", description = "Images in the batch (default: ${DEFAULT-VALUE}).")
    int images;

    @Option(names = "--size", paramLabel = "PX", defaultValue = "96", description = "Image height and width (default: ${DEFAULT-VALUE}).")
    int size;

    @Option(names = "--steps", paramLabel = "K", defaultValue = "300", description = "Training steps (default: ${DEFAULT-VALUE}; 0 skips training).")
    int steps;

    @Option(names = "--train-loss", paramLabel = "NAME", defaultValue = "ce_logdice", converter = Converters.LossConverter.class,
            description = "Multiclass loss to train with: ce, ce_logdice, dice, iou, focal, tversky, generalized_dice, mcc, dice_ce,"
                    + " dice_focal (default: ${DEFAULT-VALUE}).")
    Loss trainLoss;

    @Option(names = "--lr", paramLabel = "RATE", defaultValue = "0.05", description = "Adam learning rate (default: ${DEFAULT-VALUE}).")
    double learningRate;

    @Option(names = "--seed", defaultValue = "7", description = "Seed of the synthetic data (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--djl", description = {"Train a small conv net in DJL (PyTorch engine, CPU) through SeglossLoss instead, with",
            "DiceEvaluator/IouEvaluator; needs DJL and libtorch on the class path (./segloss demo --djl adds them)."})
    boolean djl;

    /** Timed runs per loss and pass in the table. */
    static final int TIMED_RUNS = 5;

    @Override
    public Integer call() {
        backendOption.applyDevice();
        if (images < 1) {
            throw new CliInputException("--images must be >= 1, was " + images);
        }
        if (size < 8 || size > 4096) {
            throw new CliInputException("--size must be in [8, 4096], was " + size);
        }
        if (steps < 0) {
            throw new CliInputException("--steps must be >= 0, was " + steps);
        }
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            throw new CliInputException("--lr must be > 0, was " + learningRate);
        }
        if (!trainLoss.supports(Mode.MULTICLASS)) {
            throw new CliInputException("--train-loss must be a multiclass loss (ce, ce_logdice, dice, iou, focal, tversky,"
                    + " generalized_dice, mcc, dice_ce, dice_focal), was " + trainLoss);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (djl) {
            return djlDemo(out);
        }
        DemoData data = new DemoData(images, size, seed);
        try (LossEngine engine = backendOption.createEngine()) {
            out.println("segloss demo on " + engine.backendName() + ": " + engine.device());
            out.printf(Locale.ROOT, "batch: %d images %dx%d, %d classes (%s); predictions: noisy logits%n%n",
                    images, size, size, DemoData.CLASSES, String.join(", ", DemoData.CLASS_NAMES));
            lossTable(out, engine, data);
            out.println();
            out.println("hard metrics of the noisy logits (argmax):");
            metricsTable(out, engine.confusion(ConfusionSpec.builder(Mode.MULTICLASS).fromLogits(true).build(),
                    data.logits, data.predShape(), data.labels));
            if (steps > 0) {
                out.println();
                train(out, engine, data);
            }
        }
        out.flush();
        return 0;
    }

    /** The DJL example (org.segloss.djl.DjlDemo): dice_ce, 32x32 images and learning rate 0.01 unless given. */
    private int djlDemo(PrintWriter out) {
        try {
            Class.forName("ai.djl.training.loss.Loss", false, DemoCommand.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new CliInputException("--djl needs DJL and libtorch on the class path; run it as ./segloss demo --djl "
                    + "(the script adds them from the local Maven repository)");
        }
        var parsed = spec.commandLine().getParseResult();
        int px = parsed.hasMatchedOption("--size") ? size : 32;
        double lr = parsed.hasMatchedOption("--lr") ? learningRate : 0.01;
        Loss loss = parsed.hasMatchedOption("--train-loss") ? trainLoss : Loss.DICE_CE;
        org.segloss.djl.DjlDemo.run(loss, Math.max(1, steps), px, lr, seed, out);
        return 0;
    }

    /** The losses of the table: every multiclass one on the class map, every binary-family one on the one-hot target. */
    private static final List<Object[]> TABLE = List.of(
            new Object[] {Loss.CE, Mode.MULTICLASS}, new Object[] {Loss.CE_LOGDICE, Mode.MULTICLASS},
            new Object[] {Loss.DICE, Mode.MULTICLASS}, new Object[] {Loss.IOU, Mode.MULTICLASS},
            new Object[] {Loss.FOCAL, Mode.MULTICLASS}, new Object[] {Loss.TVERSKY, Mode.MULTICLASS},
            new Object[] {Loss.BCE, Mode.MULTILABEL}, new Object[] {Loss.BCE_LOGDICE, Mode.MULTILABEL},
            new Object[] {Loss.DICE, Mode.MULTILABEL}, new Object[] {Loss.IOU, Mode.MULTILABEL},
            new Object[] {Loss.FOCAL, Mode.MULTILABEL}, new Object[] {Loss.TVERSKY, Mode.MULTILABEL},
            new Object[] {Loss.GENERALIZED_DICE, Mode.MULTICLASS}, new Object[] {Loss.MCC, Mode.MULTICLASS},
            new Object[] {Loss.DICE_CE, Mode.MULTICLASS}, new Object[] {Loss.DICE_FOCAL, Mode.MULTICLASS},
            new Object[] {Loss.GENERALIZED_DICE, Mode.MULTILABEL}, new Object[] {Loss.MCC, Mode.MULTILABEL},
            new Object[] {Loss.DICE_CE, Mode.MULTILABEL}, new Object[] {Loss.DICE_FOCAL, Mode.MULTILABEL});

    private void lossTable(PrintWriter out, LossEngine engine, DemoData data) {
        long[] shape = data.predShape();
        out.printf(Locale.ROOT, "%-16s %-10s %9s %9s %9s %9s %9s %9s %10s%n", "loss", "mode", "value", "pixel", "region",
                "mean coef", "fwd ms", "f+b ms", "|grad|");
        try (DeviceBuffer pred = engine.upload(data.logits);
             DeviceBuffer labels = engine.upload(data.labels);
             DeviceBuffer oneHot = engine.upload(data.oneHot);
             DeviceBuffer grad = engine.allocateFloats(data.logits.length)) {
            float[] hostGrad = new float[data.logits.length];
            for (Object[] row : TABLE) {
                Loss loss = (Loss) row[0];
                Mode mode = (Mode) row[1];
                DeviceBuffer target = mode == Mode.MULTICLASS ? labels : oneHot;
                LossSpec lossSpec = LossSpec.builder(loss, mode).fromLogits(true).build();
                LossResult r = engine.forward(lossSpec, pred, shape, target);
                double fwdMs = medianMs(() -> engine.forward(lossSpec, pred, shape, target));
                double fbMs = medianMs(() -> engine.forwardBackward(lossSpec, pred, shape, target, grad));
                engine.download(grad, hostGrad);
                double norm = 0;
                for (float g : hostGrad) {
                    norm += (double) g * g;
                }
                out.printf(Locale.ROOT, "%-16s %-10s %9.5f %9s %9s %9s %9.2f %9.2f %10.3e%n", loss.id(), mode.id(), r.value(),
                        loss.hasPixelTerm() ? String.format(Locale.ROOT, "%.5f", r.pixelLoss()) : "-",
                        loss.hasRegionTerm() ? String.format(Locale.ROOT, "%.5f", r.regionLoss()) : "-",
                        loss.hasRegionTerm() ? String.format(Locale.ROOT, "%.5f", r.meanCoefficient()) : "-",
                        fwdMs, fbMs, Math.sqrt(norm));
                out.flush();
            }
        }
    }

    /** Warm-up budget of each demo timing, seconds (the demo stays short). */
    static final double WARMUP_SECONDS = 1;

    private static double medianMs(Runnable work) {
        Warmup.untilStable(work, 1, WARMUP_SECONDS); // until the timings are stable: JIT-compiled kernels
        double[] ms = new double[TIMED_RUNS];
        for (int i = 0; i < ms.length; i++) {
            long t0 = System.nanoTime();
            work.run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return ms[ms.length / 2];
    }

    private static void metricsTable(PrintWriter out, ConfusionCounts k) {
        out.printf(Locale.ROOT, "%-12s %9s %9s %9s %8s %8s%n", "class", "TP", "FP", "FN", "dice", "iou");
        for (int c = 0; c < k.classes(); c++) {
            out.printf(Locale.ROOT, "%-12s %9d %9d %9d %8s %8s%n", DemoData.CLASS_NAMES[c], k.tp(c), k.fp(c), k.fn(c),
                    metric(k.dice(c)), metric(k.iou(c)));
        }
        out.printf(Locale.ROOT, "%-12s %29s %8s %8s%n", "mean", "", metric(k.meanDice()), metric(k.meanIou()));
    }

    private static String metric(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.4f", v);
    }

    /** Adam moment decay rates and the denominator guard. */
    private static final double ADAM_BETA1 = 0.9;
    private static final double ADAM_BETA2 = 0.999;
    private static final double ADAM_EPS = 1e-8;

    /**
     * Trains logits z[n,c,s] = sum_f W[c,f] x[n,f,s] + b[c] on the colour features x. The loss gives
     * G = dL/dz; the chain rule through the linear layer gives dL/dW[c,f] = sum_{n,s} G[n,c,s] x[n,f,s]
     * and dL/db[c] = sum_{n,s} G[n,c,s]; Adam updates W and b.
     */
    private void train(PrintWriter out, LossEngine engine, DemoData data) {
        int c = DemoData.CLASSES;
        int f = DemoData.FEATURES;
        int pixels = size * size;
        long[] shape = data.predShape();
        int params = c * (f + 1); // W[c][f] then b[c] at index c * (f + 1) + f
        double[] w = new double[params];
        double[] m = new double[params];
        double[] v = new double[params];
        double[] dw = new double[params];
        float[] z = new float[data.logits.length];
        float[] g = new float[z.length];
        LossSpec lossSpec = LossSpec.builder(trainLoss, Mode.MULTICLASS).fromLogits(true).build();
        out.printf(Locale.ROOT, "training a per-pixel linear classifier (%d colour features + bias -> %d logits) with %s, "
                + "Adam lr %s, %d steps%n", f, c, trainLoss.id(), learningRate, steps);
        out.printf(Locale.ROOT, "%6s %10s %10s %10s %10s %10s %9s%n", "step", "loss", "pixel", "region", "mean dice",
                "mean iou", "ms/step");
        int every = Math.max(1, steps / 10);
        long t0 = System.nanoTime();
        int sinceReport = 0;
        ConfusionCounts last = null;
        for (int step = 1; step <= steps; step++) {
            for (int n = 0; n < images; n++) {
                for (int k = 0; k < c; k++) {
                    int zo = (n * c + k) * pixels;
                    float bias = (float) w[k * (f + 1) + f];
                    for (int s = 0; s < pixels; s++) {
                        z[zo + s] = bias;
                    }
                    for (int j = 0; j < f; j++) {
                        float wkj = (float) w[k * (f + 1) + j];
                        int xo = (n * f + j) * pixels;
                        for (int s = 0; s < pixels; s++) {
                            z[zo + s] += wkj * data.features[xo + s];
                        }
                    }
                }
            }
            LossResult r = engine.forwardBackward(lossSpec, z, shape, data.labels, g);
            Arrays.fill(dw, 0);
            for (int n = 0; n < images; n++) {
                for (int k = 0; k < c; k++) {
                    int go = (n * c + k) * pixels;
                    double bsum = 0;
                    for (int s = 0; s < pixels; s++) {
                        bsum += g[go + s];
                    }
                    dw[k * (f + 1) + f] += bsum;
                    for (int j = 0; j < f; j++) {
                        int xo = (n * f + j) * pixels;
                        double sum = 0;
                        for (int s = 0; s < pixels; s++) {
                            sum += (double) g[go + s] * data.features[xo + s];
                        }
                        dw[k * (f + 1) + j] += sum;
                    }
                }
            }
            double correction1 = 1 - Math.pow(ADAM_BETA1, step);
            double correction2 = 1 - Math.pow(ADAM_BETA2, step);
            for (int i = 0; i < params; i++) {
                m[i] = ADAM_BETA1 * m[i] + (1 - ADAM_BETA1) * dw[i];
                v[i] = ADAM_BETA2 * v[i] + (1 - ADAM_BETA2) * dw[i] * dw[i];
                w[i] -= learningRate * (m[i] / correction1) / (Math.sqrt(v[i] / correction2) + ADAM_EPS);
            }
            sinceReport++;
            if (step == 1 || step % every == 0 || step == steps) {
                double msPerStep = (System.nanoTime() - t0) / 1e6 / sinceReport;
                last = engine.confusion(ConfusionSpec.builder(Mode.MULTICLASS).fromLogits(true).build(), z, shape,
                        data.labels);
                out.printf(Locale.ROOT, "%6d %10.5f %10s %10s %10s %10s %9.2f%n", step, r.value(),
                        lossSpec.loss().hasPixelTerm() ? String.format(Locale.ROOT, "%.5f", r.pixelLoss()) : "-",
                        lossSpec.loss().hasRegionTerm() ? String.format(Locale.ROOT, "%.5f", r.regionLoss()) : "-",
                        metric(last.meanDice()), metric(last.meanIou()), msPerStep);
                out.flush();
                t0 = System.nanoTime();
                sinceReport = 0;
            }
        }
        out.println();
        out.println("hard metrics of the trained classifier (logits before the last update):");
        metricsTable(out, last);
    }
}
