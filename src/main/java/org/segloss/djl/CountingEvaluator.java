package org.segloss.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.evaluator.Evaluator;
import java.util.HashMap;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.segloss.ConfusionCounts;
import org.segloss.ConfusionSpec;
import org.segloss.DeviceBuffer;
import org.segloss.InvalidInputException;
import org.segloss.LossEngine;
import org.segloss.LossSpec;

/**
 * A DJL evaluator on segloss's hard counts (TP, FP, FN, TN per class, 64-bit), accumulated across batches by
 * addition, so an epoch's value is the metric of the whole epoch's counts (not a mean of batch means).
 * Binary and multilabel: positive where {@code p >= threshold} (from logits {@code x >= logit(threshold)});
 * multiclass: argmax, ties to the lowest class; the spec's ignore index is left out. The subclasses differ only in
 * their {@link Metric}.
 */
abstract class CountingEvaluator extends Evaluator implements AutoCloseable {
    /** Which metric of the counts an evaluator reports. */
    enum Metric {
        /** Hard Dice, {@code 2 TP / (2 TP + FP + FN)}. */
        DICE(ConfusionCounts::meanDice, ConfusionCounts::dice),
        /** Hard IoU (Jaccard), {@code TP / (TP + FP + FN)}. */
        IOU(ConfusionCounts::meanIou, ConfusionCounts::iou);

        /** The mean over the classes where the metric is defined. */
        final ToDoubleFunction<ConfusionCounts> mean;
        /** The metric of one class, NaN where it is undefined (TP + FP + FN = 0). */
        final ClassMetric ofClass;

        Metric(ToDoubleFunction<ConfusionCounts> mean, ClassMetric ofClass) {
            this.mean = mean;
            this.ofClass = ofClass;
        }
    }

    /** A per-class metric of counts. */
    interface ClassMetric {
        double of(ConfusionCounts counts, int c);
    }

    private final ConfusionSpec spec;
    private final Metric metric;
    private final LossEngine engine = LossEngine.create("cpu");
    private final Map<String, ConfusionCounts> accumulated = new HashMap<>();

    CountingEvaluator(String name, LossSpec spec, double threshold, Metric metric) {
        super(name);
        if (spec == null) {
            throw new InvalidInputException("spec must not be null");
        }
        if (!(threshold >= 0 && threshold <= 1)) {
            throw new InvalidInputException("threshold must be in [0, 1], was " + threshold);
        }
        this.spec = ConfusionSpec.builder(spec.mode()).fromLogits(spec.fromLogits()).layout(spec.layout())
                .ignoreIndex(spec.ignoreIndex()).threshold(threshold).build();
        this.metric = metric;
    }

    /**
     * The counts of one batch, computed on segloss's CPU backend.
     *
     * @param labels one array: class indices (multiclass; int64, int32, uint8 or integral float32) or 0/1
     *     targets of the predictions' shape (binary, multilabel)
     * @param predictions one float32 array of the spec's layout: probabilities, or logits when the spec says
     *     from logits
     * @return per-class TP, FP, FN and TN of this batch (64-bit); nothing is accumulated
     * @throws InvalidInputException when a list does not hold exactly one array, or the shapes, types or
     *     labels do not fit the spec
     */
    public synchronized ConfusionCounts counts(NDList labels, NDList predictions) {
        NDArray x = Views.single(predictions, "predictions");
        NDArray y = Views.single(labels, "labels");
        long[] shape = x.getShape().getShape();
        try (DeviceBuffer pred = engine.backend().upload(Views.floats(x, "predictions"));
             DeviceBuffer target = upload(Views.target(y))) {
            return engine.confusion(spec, pred, shape, target);
        }
    }

    private DeviceBuffer upload(java.nio.Buffer target) {
        if (target instanceof java.nio.FloatBuffer) {
            return engine.backend().upload((java.nio.FloatBuffer) target);
        } else if (target instanceof java.nio.LongBuffer) {
            return engine.backend().upload((java.nio.LongBuffer) target);
        } else if (target instanceof java.nio.IntBuffer) {
            return engine.backend().upload((java.nio.IntBuffer) target);
        }
        return engine.backend().upload((java.nio.ByteBuffer) target);
    }

    /** The metric of one batch, as a scalar on the predictions' device. */
    @Override
    public NDArray evaluate(NDList labels, NDList predictions) {
        NDArray x = Views.single(predictions, "predictions");
        return x.getManager().create((float) metric.mean.applyAsDouble(counts(labels, predictions)))
                .toDevice(x.getDevice(), false);
    }

    @Override
    public synchronized void addAccumulator(String key) {
        totalInstances.put(key, 0L);
        accumulated.remove(key);
    }

    @Override
    public void updateAccumulator(String key, NDList labels, NDList predictions) {
        updateAccumulators(new String[] {key}, labels, predictions);
    }

    /** Counts the batch once and adds it to every key. */
    @Override
    public synchronized void updateAccumulators(String[] keys, NDList labels, NDList predictions) {
        ConfusionCounts batch = counts(labels, predictions);
        for (String key : keys) {
            accumulated.merge(key, batch, ConfusionCounts::plus);
            totalInstances.merge(key, 1L, Long::sum);
        }
    }

    @Override
    public synchronized void resetAccumulator(String key) {
        accumulated.remove(key);
        totalInstances.put(key, 0L);
    }

    /** The metric of the counts accumulated under key; NaN before the first batch. */
    @Override
    public synchronized float getAccumulator(String key) {
        if (!totalInstances.containsKey(key)) {
            throw new IllegalArgumentException("no accumulator " + key + " (call addAccumulator first)");
        }
        ConfusionCounts k = accumulated.get(key);
        return k == null ? Float.NaN : (float) metric.mean.applyAsDouble(k);
    }

    /**
     * The counts accumulated under a key since it was added or last reset.
     *
     * @param key the accumulator's key (DJL uses the training or validation prefix)
     * @return the sum of the batches' per-class counts (64-bit); null before the first batch or for an unknown key
     */
    public synchronized ConfusionCounts accumulated(String key) {
        return accumulated.get(key);
    }

    /**
     * The metric of each class of the counts accumulated under a key.
     *
     * @param key the accumulator's key (DJL uses the training or validation prefix)
     * @return one value in [0, 1] per class, indexed by class, NaN where the class is undefined (TP + FP + FN = 0);
     *     null before the first batch or for an unknown key
     */
    public synchronized double[] perClass(String key) {
        ConfusionCounts k = accumulated.get(key);
        if (k == null) {
            return null;
        }
        double[] v = new double[k.classes()];
        for (int c = 0; c < v.length; c++) {
            v[c] = metric.ofClass.of(k, c);
        }
        return v;
    }

    @Override
    public void close() {
        engine.close();
    }
}
