package org.segloss.djl;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.listener.EvaluatorTrainingListener;
import ai.djl.training.listener.TrainingListener;
import ai.djl.training.listener.TrainingListenerAdapter;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.Random;
import org.segloss.ConfusionCounts;
import org.segloss.InvalidInputException;
import org.segloss.Loss;
import org.segloss.LossSpec;
import org.segloss.Mode;

/**
 * The DJL example ({@code ./segloss demo --djl}): a small 2-D segmentation net (three convolutions) trained
 * with a segloss loss through {@link SeglossLoss} in {@code EasyTrain.fit}, on synthetic images of disks and
 * squares on a noisy background (three classes), validated every epoch by {@link DiceEvaluator} and
 * {@link IouEvaluator}; it prints a progress line per epoch and the per-class table of the validation set.
 * Needs DJL's api, its PyTorch engine and libtorch on the class path (the {@code segloss} script puts them
 * there from the local Maven repository).
 */
public final class DjlDemo {
    private DjlDemo() {
    }

    static final int CLASSES = 3;
    static final String[] CLASS_NAMES = {"background", "disk", "square"};
    static final int CHANNELS = 3;
    static final int TRAIN_IMAGES = 64;
    static final int VALIDATION_IMAGES = 32;
    static final int BATCH = 8;

    /** What a run gives: the evaluators' validation results after the last epoch. */
    record Outcome(int steps, float validationDice, float validationLoss, ConfusionCounts counts, double meanDice,
                   double meanIou, double seconds) {
    }

    /**
     * Trains for about {@code steps} steps (whole epochs of {@value #TRAIN_IMAGES} images in batches of
     * {@value #BATCH}) with {@code loss} (a multiclass loss, from logits) and prints the progress and the
     * per-class table to {@code out}. Returns the validation mean Dice.
     *
     * @param loss a loss that supports multiclass mode (e.g. dice_ce, ce_logdice)
     * @param steps the number of optimiser steps wanted, >= 1; rounded up to whole epochs
     * @param size the images' height and width in pixels
     * @param learningRate Adam's fixed learning rate, e.g. 0.01
     * @param seed seeds the data and DJL's initialisation; the same seed gives the same images
     * @param out receives one line per reported epoch and the per-class table; not null
     * @return the validation mean Dice after the last epoch, in [0, 1]
     * @throws org.segloss.InvalidInputException when the loss is not multiclass or an argument is out of
     *     range
     * @throws IllegalStateException when DJL fails to train
     */
    public static double run(Loss loss, int steps, int size, double learningRate, long seed, PrintWriter out) {
        Outcome o = train(loss, steps, size, learningRate, seed, out);
        table(o.counts, out);
        out.printf(Locale.ROOT, "validation mean Dice %.4f, mean IoU %.4f (%d steps, %.1f s)%n", o.meanDice, o.meanIou,
                o.steps, o.seconds);
        out.flush();
        return o.meanDice;
    }

    static Outcome train(Loss loss, int steps, int size, double learningRate, long seed, PrintWriter out) {
        if (!loss.supports(Mode.MULTICLASS)) {
            throw new InvalidInputException("the DJL demo trains a multiclass loss, was " + loss);
        }
        if (steps < 1) {
            throw new InvalidInputException("steps must be >= 1, was " + steps);
        }
        int epochs = Math.max(1, (steps + TRAIN_IMAGES / BATCH - 1) / (TRAIN_IMAGES / BATCH));
        LossSpec spec = LossSpec.builder(loss, Mode.MULTICLASS).fromLogits(true).build();
        Engine engine = Engine.getEngine("PyTorch");
        engine.setRandomSeed((int) seed);
        long start = System.nanoTime();
        try (NDManager manager = engine.newBaseManager(Device.cpu());
             Model model = Model.newInstance("segloss-djl-demo", Device.cpu(), "PyTorch");
             SeglossLoss segloss = new SeglossLoss(spec);
             DiceEvaluator dice = new DiceEvaluator(spec);
             IouEvaluator iou = new IouEvaluator(spec)) {
            ArrayDataset trainSet = shapes(manager, TRAIN_IMAGES, size, new Random(seed), true);
            ArrayDataset validationSet = shapes(manager, VALIDATION_IMAGES, size, new Random(seed + 1), false);
            model.setBlock(network());
            EvaluatorTrainingListener evaluations = new EvaluatorTrainingListener();
            Progress progress = new Progress(out, epochs, evaluations, segloss, dice.getName());
            DefaultTrainingConfig config = new DefaultTrainingConfig(segloss)
                    .optOptimizer(Optimizer.adam().optLearningRateTracker(Tracker.fixed((float) learningRate)).build())
                    .optDevices(new Device[] {Device.cpu()})
                    .addEvaluator(dice)
                    .addEvaluator(iou)
                    .addTrainingListeners(evaluations, progress);
            out.printf(Locale.ROOT, "DJL %s (%s), segloss %s from logits, %d train / %d validation images %dx%d, "
                            + "%d epochs of %d steps%n", engine.getEngineName(), engine.getVersion(), loss,
                    TRAIN_IMAGES, VALIDATION_IMAGES, size, size, epochs, TRAIN_IMAGES / BATCH);
            out.flush();
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(new Shape(BATCH, CHANNELS, size, size));
                EasyTrain.fit(trainer, epochs, trainSet, validationSet);
                // the per-class table: one more pass over the validation set with the trained net
                String key = "final";
                dice.addAccumulator(key);
                iou.addAccumulator(key);
                for (Batch batch : trainer.iterateDataset(validationSet)) {
                    NDList preds = trainer.evaluate(batch.getData());
                    dice.updateAccumulator(key, batch.getLabels(), preds);
                    iou.updateAccumulator(key, batch.getLabels(), preds);
                    batch.close();
                }
                ConfusionCounts counts = dice.accumulated(key);
                return new Outcome(epochs * (TRAIN_IMAGES / BATCH), progress.validationDice, progress.validationLoss,
                        counts, counts.meanDice(), iou.accumulated(key).meanIou(), (System.nanoTime() - start) / 1e9);
            }
        } catch (java.io.IOException | ai.djl.translate.TranslateException e) {
            throw new IllegalStateException("DJL training failed: " + e.getMessage(), e);
        }
    }

    /** conv 3x3 (16) - relu - conv 3x3 (16) - relu - conv 1x1 (C): logits per pixel, NCHW. */
    static SequentialBlock network() {
        return new SequentialBlock()
                .add(Conv2d.builder().setKernelShape(new Shape(3, 3)).optPadding(new Shape(1, 1)).setFilters(16).build())
                .add(Activation::relu)
                .add(Conv2d.builder().setKernelShape(new Shape(3, 3)).optPadding(new Shape(1, 1)).setFilters(16).build())
                .add(Activation::relu)
                .add(Conv2d.builder().setKernelShape(new Shape(1, 1)).setFilters(CLASSES).build());
    }

    /**
     * Synthetic images: a gray background and one to three disks (class 1, reddish) and squares (class 2,
     * bluish) of radius 3 to size/4, colours jittered per object, Gaussian pixel noise 0.12; labels are int64
     * class maps (N, H, W).
     */
    static ArrayDataset shapes(NDManager m, int images, int size, Random rnd, boolean shuffle) {
        float[] x = new float[images * CHANNELS * size * size];
        long[] y = new long[images * size * size];
        int plane = size * size;
        for (int n = 0; n < images; n++) {
            float[] bg = {0.25f + 0.1f * (rnd.nextFloat() - 0.5f), 0.25f + 0.1f * (rnd.nextFloat() - 0.5f),
                0.25f + 0.1f * (rnd.nextFloat() - 0.5f)};
            float[][] colour = new float[plane][];
            for (int i = 0; i < plane; i++) {
                colour[i] = bg;
            }
            int objects = 1 + rnd.nextInt(3);
            for (int k = 0; k < objects; k++) {
                int cls = 1 + rnd.nextInt(2);
                int r = 3 + rnd.nextInt(Math.max(1, size / 4 - 2));
                int cy = rnd.nextInt(size);
                int cx = rnd.nextInt(size);
                float j = 0.3f * (rnd.nextFloat() - 0.5f);
                float[] c = cls == 1 ? new float[] {0.8f + j, 0.35f, 0.3f - j} : new float[] {0.3f - j, 0.45f, 0.8f + j};
                for (int yy = Math.max(0, cy - r); yy <= Math.min(size - 1, cy + r); yy++) {
                    for (int xx = Math.max(0, cx - r); xx <= Math.min(size - 1, cx + r); xx++) {
                        boolean inside = cls == 2 || (yy - cy) * (yy - cy) + (xx - cx) * (xx - cx) <= r * r;
                        if (inside) {
                            y[n * plane + yy * size + xx] = cls;
                            colour[yy * size + xx] = c;
                        }
                    }
                }
            }
            for (int ch = 0; ch < CHANNELS; ch++) {
                for (int i = 0; i < plane; i++) {
                    x[(n * CHANNELS + ch) * plane + i] = colour[i][ch] + (float) (0.12 * rnd.nextGaussian());
                }
            }
        }
        NDArray data = m.create(x, new Shape(images, CHANNELS, size, size));
        NDArray labels = m.create(y, new Shape(images, size, size));
        return new ArrayDataset.Builder().setData(data).optLabels(labels).setSampling(BATCH, shuffle).build();
    }

    /** The per-class table of hard counts. */
    static void table(ConfusionCounts k, PrintWriter out) {
        out.printf(Locale.ROOT, "%-12s %9s %9s %9s %8s %8s%n", "class", "TP", "FP", "FN", "Dice", "IoU");
        for (int c = 0; c < k.classes(); c++) {
            out.printf(Locale.ROOT, "%-12s %9d %9d %9d %8s %8s%n", c < CLASS_NAMES.length ? CLASS_NAMES[c] : "class " + c,
                    k.tp(c), k.fp(c), k.fn(c), fmt(k.dice(c)), fmt(k.iou(c)));
        }
        out.printf(Locale.ROOT, "%-12s %9s %9s %9s %8s %8s%n", "mean", "", "", "", fmt(k.meanDice()), fmt(k.meanIou()));
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.4f", v);
    }

    /**
     * The progress display: a bar redrawn after every step on a terminal, and one line per epoch (every epoch
     * of the first and last two, else every tenth) with the training loss and the validation loss and Dice.
     */
    static final class Progress extends TrainingListenerAdapter {
        private final PrintWriter out;
        private final int epochs;
        private final EvaluatorTrainingListener evaluations;
        private final SeglossLoss loss;
        private final String diceName;
        private final boolean terminal = System.console() != null;
        private int epoch;
        private int step;
        float validationDice = Float.NaN;
        float validationLoss = Float.NaN;

        Progress(PrintWriter out, int epochs, EvaluatorTrainingListener evaluations, SeglossLoss loss, String diceName) {
            this.out = out;
            this.epochs = epochs;
            this.evaluations = evaluations;
            this.loss = loss;
            this.diceName = diceName;
        }

        @Override
        public void onTrainingBatch(Trainer trainer, BatchData batchData) {
            step++;
            if (terminal) {
                int width = 30;
                int done = (int) ((long) width * step / ((long) epochs * (TRAIN_IMAGES / BATCH)));
                out.printf(Locale.ROOT, "\r[%s%s] step %d, loss %.4f ", "#".repeat(done), ".".repeat(width - done), step,
                        loss.lastResult().value());
                out.flush();
            }
        }

        @Override
        public void onEpoch(Trainer trainer) {
            epoch++;
            java.util.Map<String, Float> e = evaluations.getLatestEvaluations();
            validationDice = e.getOrDefault("validate_" + diceName, Float.NaN);
            validationLoss = e.getOrDefault("validate_loss", Float.NaN);
            if (epoch <= 2 || epoch > epochs - 2 || epoch % 10 == 0) {
                out.printf(Locale.ROOT, "%sepoch %3d/%d  step %4d  train loss %.4f  validation loss %.4f  Dice %.4f%n",
                        terminal ? "\r" : "", epoch, epochs, step, e.getOrDefault("train_loss", Float.NaN), validationLoss,
                        validationDice);
                out.flush();
            }
        }
    }

    /**
     * {@code java -cp <segloss and DJL> org.segloss.djl.DjlDemo [loss [steps]]}.
     *
     * @param args optional: a loss name (default dice_ce), then the number of steps (default 320)
     */
    public static void main(String[] args) {
        Loss loss = args.length > 0 ? Loss.parse(args[0]) : Loss.DICE_CE;
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 320;
        PrintWriter out = new PrintWriter(System.out, true);
        run(loss, steps, 32, 0.01, 7, out);
    }
}
