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

    private static final LossSpec CE_LOGDICE = LossSpec.builder(Loss.CE_LOGDICE, Mode.MULTICLASS).fromLogits(true).build();

    /** Logits (2, 3, 5, 4) and an int64 class map (2, 5, 4). */
    private static NDList[] batch(NDManager m, long seed) {
        Random rnd = new Random(seed);
        Case k = new Case(CE_LOGDICE, new long[] {2, 3, 5, 4}, DataType.INT64);
        NDArray pred = m.create(predictions(k, rnd), new Shape(k.shape()));
        NDArray labels = Djl.labels(m, labelValues(k, rnd), new Shape(k.labelShape()), DataType.INT64);
        return new NDList[] {new NDList(labels), new NDList(pred)};
    }

    @Test
    void djlsSecondCallOnTheSameBatchAfterBackwardComputesNothing() {
        try (NDManager m = Djl.manager(); SeglossLoss loss = new SeglossLoss(CE_LOGDICE)) {
            NDList[] b = batch(m, 1);
            b[1].head().setRequiresGradient(true);
            float first;
            try (GradientCollector collector = Djl.engine().newGradientCollector()) {
                NDArray v = loss.evaluate(b[0], b[1]);
                first = v.getFloat();
                collector.backward(v);
            }
            // EasyTrain's EvaluatorTrainingListener: evaluate(labels, preds).sum().getFloat() on the same lists
            float again = loss.evaluate(b[0], b[1]).sum().getFloat();
            assertEquals(first, again, 0f);
            assertEquals(1, loss.gradientPasses, "one gradient pass");
            assertEquals(0, loss.forwardPasses, "the second call ran no pass");
        }
    }

    @Test
    void outsideAGradientCollectorOnlyTheForwardPassRuns() {
        try (NDManager m = Djl.manager(); SeglossLoss loss = new SeglossLoss(CE_LOGDICE)) {
            NDList[] b = batch(m, 2);
            NDArray v = loss.evaluate(b[0], b[1]);
            assertEquals((float) loss.lastResult().value(), v.getFloat(), 0f);
            assertEquals(0, loss.gradientPasses, "no gradient pass while DJL does not record");
            assertEquals(1, loss.forwardPasses);
            // a new batch is computed again, the same batch is not
            NDList[] c = batch(m, 3);
            loss.evaluate(c[0], c[1]);
            loss.evaluate(c[0], c[1]);
            assertEquals(2, loss.forwardPasses);
        }
    }

    @Test
    void aBatchFirstSeenWithoutRecordingGetsItsGradientWhenRecordingStarts() {
        try (NDManager m = Djl.manager(); SeglossLoss loss = new SeglossLoss(CE_LOGDICE)) {
            NDList[] b = batch(m, 4);
            b[1].head().setRequiresGradient(true);
            loss.evaluate(b[0], b[1]);
            try (GradientCollector collector = Djl.engine().newGradientCollector()) {
                collector.backward(loss.evaluate(b[0], b[1]));
            }
            assertEquals(1, loss.forwardPasses);
            assertEquals(1, loss.gradientPasses);
            float[] expected = new float[(int) b[1].head().size()];
            try (LossEngine e = LossEngine.create("cpu")) {
                e.forwardBackward(CE_LOGDICE, b[1].head().toFloatArray(), b[1].head().getShape().getShape(),
                        b[0].head().toLongArray(), expected);
            }
            float[] got = b[1].head().getGradient().toFloatArray();
            for (int i = 0; i < got.length; i++) {
                assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(got[i]), "element " + i);
            }
        }
    }

    @Test
    void float64PredictionsAreRefusedWithTheirType() {
        try (NDManager m = Djl.manager(); SeglossLoss loss = new SeglossLoss(CE_LOGDICE)) {
            NDList[] b = batch(m, 5);
            NDList pred64 = new NDList(b[1].head().toType(DataType.FLOAT64, false));
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> loss.evaluate(b[0], pred64));
            assertEquals("predictions must be float32, was float64", e.getMessage());
        }
    }

    @Test
    void int8LabelsAreRefusedNamingTheAllowedTypes() {
        try (NDManager m = Djl.manager(); SeglossLoss loss = new SeglossLoss(CE_LOGDICE)) {
            NDList[] b = batch(m, 6);
            NDList int8 = new NDList(b[0].head().toType(DataType.INT8, false));
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> loss.evaluate(int8, b[1]));
            assertEquals("labels must be int64, int32, uint8, boolean or float32, was int8", e.getMessage());
        }
    }

    @Test
    void aClassIndexOutsideTheClassesIsRefusedByTheCoreWithItsValue() {
        try (NDManager m = Djl.manager(); SeglossLoss loss = new SeglossLoss(CE_LOGDICE)) {
            NDList[] b = batch(m, 7);
            long[] y = b[0].head().toLongArray();
            y[5] = 1L << 33;
            NDList bad = new NDList(m.create(y, b[0].head().getShape()));
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> loss.evaluate(bad, b[1]));
            assertTrue(e.getMessage().contains("8589934592") && e.getMessage().contains("target"), e.getMessage());
        }
    }
}
