package org.segloss.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.segloss.Layout;
import org.segloss.Loss;
import org.segloss.LossSpec;
import org.segloss.Mode;

/**
 * The parameter gradients of a small conv net trained through SeglossLoss equal those of the same loss written
 * with DJL NDArray ops (libtorch's autograd), within 1e-5 of each parameter's largest gradient. The DJL
 * compositions below follow shared/spec/losses.md; bce is written {@code softplus(x) - x t} (DJL's own sigmoid
 * BCE has another subgradient at x = 0).
 */
class ParameterGradientTest {
    static final double TOLERANCE = 1e-5;
    static final int N = 2;
    static final int C = 3;
    static final int H = 10;
    static final int W = 9;

    /** A row: the spec, and the same loss composed from DJL ops of (logits NCHW, labels). */
    record Case(String name, LossSpec spec, BiFunction<NDArray, NDArray, NDArray> djl) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> cases() {
        List<Case> out = new ArrayList<>();
        LossSpec dice = LossSpec.builder(Loss.DICE, Mode.MULTICLASS).fromLogits(true).build();
        out.add(new Case("dice multiclass (softmax)", dice, (x, y) -> oneMinusMeanDice(x.softmax(1), oneHot(y))));
        out.add(new Case("dice multiclass (softmax) nhwc", dice.toBuilder().layout(Layout.NHWC).build(),
                (x, y) -> oneMinusMeanDice(x.softmax(1), oneHot(y))));
        out.add(new Case("focal binary (sigmoid, alpha 0.25, gamma 2) on C masks",
                LossSpec.builder(Loss.FOCAL, Mode.MULTILABEL).fromLogits(true).build(), ParameterGradientTest::focal));
        out.add(new Case("focal binary on C masks nhwc (labels transposed: not contiguous)",
                LossSpec.builder(Loss.FOCAL, Mode.MULTILABEL).fromLogits(true).layout(Layout.NHWC).build(),
                ParameterGradientTest::focal));
        out.add(new Case("ce_logdice multiclass", LossSpec.builder(Loss.CE_LOGDICE, Mode.MULTICLASS).fromLogits(true).build(),
                (x, y) -> ce(x, oneHot(y)).sub(meanDice(x.softmax(1), oneHot(y)).maximum(1e-7f).log())));
        out.add(new Case("bce_logdice multilabel (bce as softplus(x) - x t)",
                LossSpec.builder(Loss.BCE_LOGDICE, Mode.MULTILABEL).fromLogits(true).build(),
                (x, t) -> Activation.softPlus(x).sub(x.mul(t)).mean()
                        .sub(meanDice(Activation.sigmoid(x), t).maximum(1e-7f).log())));
        return out.stream();
    }

    /** (N, H, W) int64 class map to a float one-hot (N, C, H, W). */
    static NDArray oneHot(NDArray y) {
        return y.oneHot(C).transpose(0, 3, 1, 2);
    }

    /** Mean over (n, c) of (2I + 1) / (P + T + 1), sums over the spatial axes. */
    static NDArray meanDice(NDArray p, NDArray t) {
        int[] spatial = {2, 3};
        NDArray i = p.mul(t).sum(spatial);
        NDArray d = i.mul(2).add(1).div(p.sum(spatial).add(t.sum(spatial)).add(1));
        return d.mean();
    }

    static NDArray oneMinusMeanDice(NDArray p, NDArray t) {
        return meanDice(p, t).neg().add(1);
    }

    /** Mean over pixels of -sum_c t_c log softmax(x)_c. */
    static NDArray ce(NDArray x, NDArray t) {
        return x.logSoftmax(1).mul(t).sum(new int[] {1}).neg().mean();
    }

    /** Mean of -a t (1-p)^2 log p - (1-a)(1-t) p^2 log(1-p), log p = -softplus(-x), log(1-p) = -softplus(x). */
    static NDArray focal(NDArray x, NDArray t) {
        NDArray p = Activation.sigmoid(x);
        NDArray q = p.neg().add(1);
        NDArray pos = t.mul(0.25f).mul(q.square()).mul(Activation.softPlus(x.neg()));
        NDArray neg = t.neg().add(1).mul(0.75f).mul(p.square()).mul(Activation.softPlus(x));
        return pos.add(neg).mean();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void parameterGradientsEqualThoseOfTheLossWrittenWithDjlOps(Case k) {
        try (NDManager m = Djl.manager(); SeglossLoss loss = new SeglossLoss(k.spec)) {
            Djl.engine().setRandomSeed(11);
            SequentialBlock net = new SequentialBlock()
                    .add(Conv2d.builder().setKernelShape(new Shape(3, 3)).optPadding(new Shape(1, 1)).setFilters(6).build())
                    .add(Activation::relu)
                    .add(Conv2d.builder().setKernelShape(new Shape(1, 1)).setFilters(C).build());
            net.initialize(m, DataType.FLOAT32, new Shape(N, 2, H, W));
            ParameterStore store = new ParameterStore(m, false);
            Random rnd = new Random(k.name.hashCode());
            float[] input = new float[N * 2 * H * W];
            for (int i = 0; i < input.length; i++) {
                input[i] = (float) rnd.nextGaussian();
            }
            NDArray image = m.create(input, new Shape(N, 2, H, W));
            boolean multiclass = k.spec.mode() == Mode.MULTICLASS;
            NDArray labels;
            if (multiclass) {
                long[] y = new long[N * H * W];
                for (int i = 0; i < y.length; i++) {
                    y[i] = rnd.nextInt(C);
                }
                labels = m.create(y, new Shape(N, H, W));
            } else {
                float[] t = new float[N * C * H * W];
                for (int i = 0; i < t.length; i++) {
                    t[i] = rnd.nextInt(3) == 0 ? 1 : 0;
                }
                labels = m.create(t, new Shape(N, C, H, W));
            }
            boolean nhwc = k.spec.layout() == Layout.NHWC;

            List<float[]> viaDjl = gradients(net, () -> {
                NDArray x = net.forward(store, new NDList(image), true).head();
                return k.djl.apply(x, labels);
            });
            List<float[]> viaSegloss = gradients(net, () -> {
                NDArray x = net.forward(store, new NDList(image), true).head();
                if (nhwc) {
                    x = x.transpose(0, 2, 3, 1); // channels last: DJL hands segloss a contiguous copy
                    NDArray t = multiclass ? labels : labels.transpose(0, 2, 3, 1);
                    return loss.evaluate(new NDList(t), new NDList(x));
                }
                return loss.evaluate(new NDList(labels), new NDList(x));
            });
            ai.djl.nn.ParameterList params = net.getParameters();
            assertEquals(viaDjl.size(), viaSegloss.size());
            for (int j = 0; j < viaDjl.size(); j++) {
                float[] a = viaDjl.get(j);
                float[] b = viaSegloss.get(j);
                double scale = 0;
                for (float v : a) {
                    scale = Math.max(scale, Math.abs(v));
                }
                assertTrue(scale > 0, k + ": parameter " + params.get(j).getKey() + " has a gradient");
                for (int i = 0; i < a.length; i++) {
                    if (!(Math.abs(a[i] - b[i]) <= TOLERANCE * scale)) {
                        fail(k + ": parameter " + params.get(j).getKey() + " element " + i + ": DJL ops " + a[i]
                                + ", segloss " + b[i] + " (max |grad| " + scale + ")");
                    }
                }
            }
        }
    }

    /** The parameter gradients of one backward pass (gradients zeroed before). */
    static List<float[]> gradients(SequentialBlock net, java.util.function.Supplier<NDArray> lossOfNet) {
        for (Pair<String, Parameter> p : net.getParameters()) {
            NDArray g = p.getValue().getArray().getGradient();
            g.subi(g);
        }
        try (GradientCollector collector = Djl.engine().newGradientCollector()) {
            collector.backward(lossOfNet.get());
        }
        List<float[]> out = new ArrayList<>();
        for (Pair<String, Parameter> p : net.getParameters()) {
            out.add(p.getValue().getArray().getGradient().toFloatArray());
        }
        return out;
    }
}
