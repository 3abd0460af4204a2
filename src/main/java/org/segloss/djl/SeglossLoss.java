package org.segloss.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.loss.Loss;
import java.nio.Buffer;
import java.nio.FloatBuffer;
import org.segloss.InvalidInputException;
import org.segloss.LossEngine;
import org.segloss.LossResult;
import org.segloss.LossSpec;

/**
 * A segloss loss as a DJL {@link Loss}: use it in {@code DefaultTrainingConfig}, {@code EasyTrain.fit} or a
 * hand-written {@code GradientCollector} loop.
 *
 * <pre>{@code
 * SeglossLoss loss = new SeglossLoss(LossSpec.builder(Loss.CE_LOGDICE, Mode.MULTICLASS).fromLogits(true).build());
 * TrainingConfig config = new DefaultTrainingConfig(loss).addEvaluator(new DiceEvaluator(loss.spec()));
 * }</pre>
 *
 * <p>{@link #evaluate} takes the labels first (DJL's order) and the predictions (logits or probabilities, as
 * the spec says; NCHW or NHWC by the spec's layout). Labels: int64 class maps (as DJL and PyTorch make them),
 * int32, uint8 or boolean, or float32 masks, of the shapes the contract gives ({@code (N, *S)} class maps in
 * multiclass mode; in binary and multilabel modes the shape of the predictions).
 *
 * <p>How the gradient reaches DJL's autograd: segloss computes the value {@code v} and the gradient {@code g}
 * with respect to the predictions {@code x}; with {@code s = sum(x * g)} the returned array is
 * {@code (s - stopGradient(s)) + v}. Its value is {@code v} (the bracket is exactly 0), and its gradient with
 * respect to {@code x} is {@code g} bit for bit ({@code d s / d x = 1 * g}). The gradient pass runs only while
 * DJL records gradients (PyTorch's grad mode, on inside a {@code GradientCollector}); DJL's
 * training listener calls {@code evaluate} a second time on the same arrays after the backward pass, and that
 * call returns the remembered value without computing anything.
 *
 * <p>Memory: on the CPU the predictions and labels are read in place through direct-buffer views of the
 * tensors ({@code toByteBuffer(true)}), and the gradient is written straight into a new NDArray's memory. On a
 * GPU, DJL exposes no device pointer: the predictions and labels are copied to the host once and the gradient
 * is copied back once (see the README, "Training with DJL").
 *
 * <p>Not thread-safe across concurrent {@code evaluate} calls of different batches (calls are serialised).
 */
public final class SeglossLoss extends Loss implements AutoCloseable {
    private final LossSpec spec;
    private final LossEngine engine;

    // the last call: its inputs (by identity), its value and, when one was computed, its gradient
    private NDArray lastPredictions;
    private NDArray lastLabels;
    private NDArray lastGradient;
    private float lastValue;
    private LossResult lastResult;

    /** Passes run (forward, and forward plus gradient); for the tests. */
    int forwardPasses;
    int gradientPasses;

    /**
     * The loss named after the spec's loss ({@code "dice"}, {@code "ce_logdice"}, ...).
     *
     * @param spec the loss and its options; pred is DJL's prediction, target DJL's label; not null
     * @throws org.segloss.InvalidInputException when spec is null
     */
    public SeglossLoss(LossSpec spec) {
        this(spec == null ? null : spec.loss().id(), spec);
    }

    /**
     * A loss with its own name.
     *
     * @param name the name DJL shows in its training logs and metrics; not empty
     * @param spec the loss and its options; pred is DJL's prediction, target DJL's label; not null
     * @throws org.segloss.InvalidInputException when name is null or empty, or spec is null
     */
    public SeglossLoss(String name, LossSpec spec) {
        super(requireName(name));
        if (spec == null) {
            throw new InvalidInputException("spec must not be null");
        }
        this.spec = spec;
        this.engine = LossEngine.create("cpu");
    }

    private static String requireName(String name) {
        if (name == null || name.isEmpty()) {
            throw new InvalidInputException("name must not be empty, was " + (name == null ? "null" : "\"\""));
        }
        return name;
    }

    /**
     * The spec this loss computes.
     *
     * @return the spec given to the constructor
     */
    public LossSpec spec() {
        return spec;
    }

    /**
     * The result of the last batch (value, per-(sample, class) and per-class coefficients, pixel terms), for
     * logging; null before the first call.
     *
     * @return the last batch's result, or null
     */
    public synchronized LossResult lastResult() {
        return lastResult;
    }

    @Override
    public synchronized NDArray evaluate(NDList labels, NDList predictions) {
        NDArray x = Views.single(predictions, "predictions");
        NDArray y = Views.single(labels, "labels");
        boolean wantGradient = recording(x);
        boolean same = x == lastPredictions && y == lastLabels && !x.isReleased() && !y.isReleased();
        if (!same || (wantGradient && (lastGradient == null || lastGradient.isReleased()))) {
            compute(x, y, wantGradient);
        }
        NDManager manager = x.getManager();
        NDArray value = manager.create(lastValue).toDevice(x.getDevice(), false);
        if (!wantGradient) {
            return value;
        }
        NDArray s = x.mul(lastGradient).sum();
        // this order is exact: (v + s) - s can be an ulp off v when s is large
        return s.sub(s.stopGradient()).add(value);
    }

    private void compute(NDArray x, NDArray y, boolean withGradient) {
        long[] shape = x.getShape().getShape();
        FloatBuffer pred = Views.floats(x, "predictions");
        Buffer target = Views.target(y);
        lastPredictions = null; // a refused input leaves nothing remembered
        if (withGradient) {
            NDArray grad = x.getManager().create(x.getShape(), DataType.FLOAT32, Device.cpu());
            lastResult = engine.forwardBackward(spec, pred, shape, target, Views.floats(grad, "gradient"));
            if (x.getDevice().equals(Device.cpu())) {
                lastGradient = grad;
            } else {
                lastGradient = grad.toDevice(x.getDevice(), false); // the one copy back to the GPU
                grad.close();
            }
            gradientPasses++;
        } else {
            lastResult = engine.forward(spec, pred, shape, target);
            lastGradient = null;
            forwardPasses++;
        }
        lastValue = (float) lastResult.value();
        lastPredictions = x;
        lastLabels = y;
    }

    /**
     * DJL records gradients: on PyTorch, while its (thread-local) grad mode is on, as inside a
     * {@code GradientCollector} (DJL turns it off elsewhere on the thread that started the engine); on other
     * engines always.
     */
    private static boolean recording(NDArray x) {
        if ("PyTorch".equals(x.getManager().getEngine().getEngineName())) {
            return PyTorchGradMode.enabled();
        }
        return true;
    }

    /** Loaded only on the PyTorch engine (the class refers to it). */
    private static final class PyTorchGradMode {
        static boolean enabled() {
            return ai.djl.pytorch.jni.JniUtils.isGradMode();
        }
    }

    /** Forgets the last batch and closes the segloss engine. */
    @Override
    public synchronized void close() {
        lastPredictions = null;
        lastLabels = null;
        lastGradient = null;
        engine.close();
    }
}
