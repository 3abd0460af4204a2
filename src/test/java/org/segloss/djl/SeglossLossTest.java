package org.segloss.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.segloss.InvalidInputException;
import org.segloss.Layout;
import org.segloss.Loss;
import org.segloss.LossEngine;
import org.segloss.LossResult;
import org.segloss.LossSpec;
import org.segloss.Mode;

/**
 * SeglossLoss inside DJL's autograd (PyTorch on the CPU): the gradient that reaches the predictions is
 * segloss's own, bit for bit, for every label type and layout; the gradient pass runs only while DJL records;
 * DJL's second call on the same batch computes nothing.
 */
class SeglossLossTest {
    /** One row: a spec, the logical (N, C, H, W) shape, and the label type. */
    record Case(LossSpec spec, long[] nchw, DataType labels) {
        @Override
        public String toString() {
            return spec.loss() + " " + spec.mode() + " " + spec.layout() + (spec.fromLogits() ? " logits" : " probs")
                    + " labels " + labels + (spec.ignoreIndex() == null ? "" : " ignore " + spec.ignoreIndex());
        }

        long[] shape() {
            return spec.layout() == Layout.NHWC ? new long[] {nchw[0], nchw[2], nchw[3], nchw[1]} : nchw.clone();
        }

        boolean multiclass() {
            return spec.mode() == Mode.MULTICLASS;
        }

        long[] labelShape() {
            return multiclass() ? new long[] {nchw[0], nchw[2], nchw[3]} : shape();
        }
    }

    static Stream<Case> cases() {
        List<Case> out = new ArrayList<>();
        long[] shape = {2, 3, 9, 7};
        for (Layout layout : Layout.values()) {
            for (DataType labels : new DataType[] {DataType.INT64, DataType.INT32, DataType.UINT8, DataType.FLOAT32}) {
                for (Loss loss : new Loss[] {Loss.CE_LOGDICE, Loss.DICE, Loss.FOCAL}) {
                    LossSpec.Builder b = LossSpec.builder(loss, Mode.MULTICLASS).fromLogits(true).layout(layout);
                    if (labels == DataType.INT64 || labels == DataType.INT32) {
                        b.ignoreIndex(-100);
                    } else if (labels == DataType.UINT8) {
                        b.ignoreIndex(255);
                    }
                    out.add(new Case(b.build(), shape, labels));
                }
                for (Loss loss : new Loss[] {Loss.BCE_LOGDICE, Loss.TVERSKY}) {
                    out.add(new Case(LossSpec.builder(loss, Mode.MULTILABEL).fromLogits(true).layout(layout).build(),
                            shape, labels));
                }
            }
            // probabilities (not logits), binary C = 1
            out.add(new Case(LossSpec.builder(Loss.IOU, Mode.BINARY).layout(layout).build(), new long[] {2, 1, 8, 8},
                    DataType.FLOAT32));
        }
        return out.stream();
    }

    static float[] predictions(Case k, Random rnd) {
        int n = 1;
        for (long d : k.nchw) {
            n *= (int) d;
        }
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = k.spec.fromLogits() ? (float) (2 * rnd.nextGaussian()) : 0.02f + 0.96f * rnd.nextFloat();
        }
        return x;
    }

    static long[] labelValues(Case k, Random rnd) {
        int n = 1;
        for (long d : k.labelShape()) {
            n *= (int) d;
        }
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            if (k.multiclass()) {
                y[i] = k.spec.ignoreIndex() != null && rnd.nextInt(10) == 0 ? k.spec.ignoreIndex() : rnd.nextInt((int) k.nchw[1]);
            } else {
                y[i] = rnd.nextInt(3) == 0 ? 1 : 0;
            }
        }
        return y;
    }

    /** segloss's own result on host arrays of the same values (int64 labels). */
    static LossResult reference(Case k, float[] x, long[] y, float[] grad) {
        try (LossEngine e = LossEngine.create("cpu")) {
            return e.forwardBackward(k.spec, x, k.shape(), y, grad);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void theGradientThatReachesThePredictionsIsSeglossGradientBitForBit(Case k) {
        Random rnd = new Random(k.toString().hashCode());
        float[] x = predictions(k, rnd);
        long[] y = labelValues(k, rnd);
        float[] expected = new float[x.length];
        LossResult ref = reference(k, x, y, expected);
        try (NDManager m = Djl.manager(); SeglossLoss loss = new SeglossLoss(k.spec)) {
            NDArray pred = m.create(x, new Shape(k.shape()));
            pred.setRequiresGradient(true);
            NDArray labels = Djl.labels(m, y, new Shape(k.labelShape()), k.labels);
            NDArray value;
            try (GradientCollector collector = Djl.engine().newGradientCollector()) {
                value = loss.evaluate(new NDList(labels), new NDList(pred));
                collector.backward(value);
            }
            assertEquals(Float.floatToRawIntBits((float) ref.value()), Float.floatToRawIntBits(value.getFloat()),
                    k + ": value " + value.getFloat() + " vs segloss " + ref.value());
            float[] got = pred.getGradient().toFloatArray();
            for (int i = 0; i < x.length; i++) {
                if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(expected[i])) {
                    fail(k + ": gradient element " + i + " is " + got[i] + ", segloss's is " + expected[i]);
                }
            }
            boolean nonZero = false;
            for (float g : got) {
                nonZero |= g != 0;
            }
            assertTrue(nonZero, k + ": a non-zero gradient");
            assertEquals(1, loss.gradientPasses, k + ": one gradient pass");
            assertEquals(0, loss.forwardPasses, k + ": no separate forward pass");
            assertEquals(ref.value(), loss.lastResult().value(), 0.0, k + ": the last LossResult");
        }
    }
}
