package org.segloss.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.evaluator.Evaluator;
import java.util.HashMap;
import java.util.Map;
import org.segloss.ConfusionCounts;
import org.segloss.DeviceBuffer;
import org.segloss.InvalidInputException;
import org.segloss.LossEngine;
import org.segloss.LossSpec;

/**
 * A DJL evaluator on segloss's hard counts (TP, FP, FN, TN per class, 64-bit), accumulated across batches by
 * addition, so an epoch's value is the metric of the whole epoch's counts (not a mean of batch means).
 * Binary and multilabel: positive where {@code p >= threshold} (from logits {@code x >= logit(threshold)});
 * multiclass: argmax, ties to the lowest class; the spec's ignore index is left out.
 */
abstract class CountingEvaluator extends Evaluator implements AutoCloseable {
    private final LossSpec spec;
    private final double threshold;
    private final LossEngine engine = LossEngine.create("cpu");
    private final Map<String, ConfusionCounts> accumulated = new HashMap<>();

    CountingEvaluator(String name, LossSpec spec, double threshold) {
        super(name);
        if (spec == null) {
            throw new InvalidInputException("spec must not be null");
        }
        if (!(threshold >= 0 && threshold <= 1)) {
            throw new InvalidInputException("threshold must be in [0, 1], was " + threshold);
        }
        this.spec = spec;
        this.threshold = threshold;
    }

    /** The metric of counts: the mean over the classes where it is defined. */
    abstract double mean(ConfusionCounts counts);

    /** The metric of one class (NaN where it is undefined: TP + FP + FN = 0). */
    abstract double ofClass(ConfusionCounts counts, int c);

    /** The counts of one batch. */
    public synchronized ConfusionCounts counts(NDList labels, NDList predictions) {
        NDArray x = Views.single(predictions, "predictions");
        NDArray y = Views.single(labels, "labels");
        long[] shape = x.getShape().getShape();
        try (DeviceBuffer pred = engine.backend().upload(Views.floats(x, "predictions"));
             DeviceBuffer target = upload(Views.target(y))) {
            return engine.confusion(spec.mode(), spec.fromLogits(), spec.layout(), spec.ignoreIndex(), threshold,
                    pred, shape, target);
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
        return x.getManager().create((float) mean(counts(labels, predictions))).toDevice(x.getDevice(), false);
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
        return k == null ? Float.NaN : (float) mean(k);
    }

    /** The counts accumulated under key (64-bit, per class); null before the first batch. */
    public synchronized ConfusionCounts accumulated(String key) {
        return accumulated.get(key);
    }

    /** The metric of each class of the counts accumulated under key (NaN where undefined); null before the first batch. */
    public synchronized double[] perClass(String key) {
        ConfusionCounts k = accumulated.get(key);
        if (k == null) {
            return null;
        }
        double[] v = new double[k.classes()];
        for (int c = 0; c < v.length; c++) {
            v[c] = ofClass(k, c);
        }
        return v;
    }

    @Override
    public void close() {
        engine.close();
    }
}
