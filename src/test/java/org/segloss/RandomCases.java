package org.segloss;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;

/**
 * The random case table: every loss x mode it supports x from_logits x layout, each on five odd shapes
 * (C = 1, no spatial axis, prime sizes, one pixel, a 3-D volume) with rotating options (soft labels,
 * uint8 / int32 / float targets, ignore_index 255 with uint8 and -100 with int32, class weights, batch,
 * an int64 twin of every int32 case (appended, so the sampled subsets of the int32 cases stay put),
 * include_background = false, smooth = 0 with an empty class, focal alpha/gamma, Tversky alpha/beta).
 * Predictions stay away from the probability clamp, so the table also serves the gradient checks.
 */
final class RandomCases {
    private RandomCases() {
    }

    /** Logical shapes (N, C, *S); nhwc cases move C last. */
    private static final long[][] BINARY_SHAPES = {
        {2, 1, 5, 3}, {3, 4}, {1, 3, 7, 11}, {2, 3, 1, 1}, {2, 2, 3, 4, 5},
    };
    private static final long[][] MULTICLASS_SHAPES = {
        {2, 3, 5, 7}, {4, 5}, {1, 2, 13}, {2, 4, 1, 1}, {1, 3, 3, 4, 5},
    };

    private static List<LossCase> table;

    /**
     * The losses of the first catalogue. The MONAI / smp catalogue (generalized_dice, mcc, dice_ce, dice_focal) is
     * left out of these tables until its engine half lands (issue 10).
     */
    static final java.util.Set<Loss> FIRST_CATALOGUE = java.util.EnumSet.range(Loss.BCE, Loss.CE_LOGDICE);

    /** The table (built once; cases are never modified by the tests). */
    static synchronized List<LossCase> all() {
        if (table == null) {
            table = java.util.Collections.unmodifiableList(build());
        }
        return table;
    }

    private static List<LossCase> build() {
        List<LossCase> cases = new ArrayList<>();
        long seed = 1;
        for (Loss loss : FIRST_CATALOGUE) {
            for (Mode mode : Mode.values()) {
                if (!loss.supports(mode)) {
                    continue;
                }
                for (boolean logits : new boolean[] {false, true}) {
                    for (Layout layout : Layout.values()) {
                        long[][] shapes = mode == Mode.MULTICLASS ? MULTICLASS_SHAPES : BINARY_SHAPES;
                        for (int k = 0; k < shapes.length; k++) {
                            int variant = (k + loss.ordinal()) % 5;
                            cases.add(make(loss, mode, logits, layout, shapes[k], variant, k, seed++));
                        }
                    }
                }
            }
        }
        int before = cases.size();
        for (int i = 0; i < before; i++) {
            LossCase c = cases.get(i);
            if (c.target instanceof int[]) {
                long[] wide = Arrays.stream((int[]) c.target).asLongStream().toArray();
                cases.add(new LossCase(c.name.replace(" int32", " int64"), c.spec, c.shape, c.pred, wide));
            }
        }
        return cases;
    }

    static long[] inLayout(long[] logical, Layout layout) {
        if (layout == Layout.NCHW || logical.length == 2) {
            return logical.clone();
        }
        long[] s = new long[logical.length];
        s[0] = logical[0];
        System.arraycopy(logical, 2, s, 1, logical.length - 2);
        s[s.length - 1] = logical[1];
        return s;
    }

    private static LossCase make(Loss loss, Mode mode, boolean logits, Layout layout, long[] logical, int variant,
                                 int k, long seed) {
        Random rnd = new Random(seed);
        long[] shape = inLayout(logical, layout);
        int n = (int) logical[0];
        int c = (int) logical[1];
        int s = 1;
        for (int i = 2; i < logical.length; i++) {
            s *= (int) logical[i];
        }
        Reference.Geometry g = new Reference.Geometry(shape, layout);
        LossSpec.Builder b = LossSpec.builder(loss, mode).fromLogits(logits).layout(layout);
        List<String> notes = new ArrayList<>();
        lossParameters(loss, mode, b, k, notes);

        float[] pred = new float[n * c * s];
        boolean multiclass = mode == Mode.MULTICLASS;
        for (int ni = 0; ni < n; ni++) {
            for (int si = 0; si < s; si++) {
                double sum = 0;
                double[] u = new double[c];
                for (int ci = 0; ci < c; ci++) {
                    u[ci] = 0.05 + 0.95 * rnd.nextDouble();
                    sum += u[ci];
                }
                for (int ci = 0; ci < c; ci++) {
                    float v;
                    if (logits) {
                        v = (float) (2.5 * rnd.nextGaussian());
                    } else if (multiclass) {
                        v = (float) (u[ci] / sum);
                    } else {
                        v = (float) (0.02 + 0.96 * rnd.nextDouble());
                    }
                    pred[g.index(ni, ci, si)] = v;
                }
            }
        }

        Object target;
        if (multiclass) {
            target = multiclassTarget(b, variant, n, c, s, rnd, notes);
        } else {
            target = binaryTarget(b, loss, variant, g, rnd, notes);
        }
        String name = String.format("%s %s%s %s %s %s%s", loss, mode, logits ? " from logits" : "", layout,
                Arrays.stream(shape).mapToObj(Long::toString).collect(Collectors.joining(",", "(", ")")),
                target instanceof float[] ? "float" : target instanceof byte[] ? "uint8" : "int32",
                notes.isEmpty() ? "" : " " + String.join(" ", notes));
        return new LossCase(name, b.build(), shape, pred, target);
    }

    private static void lossParameters(Loss loss, Mode mode, LossSpec.Builder b, int k, List<String> notes) {
        if (loss == Loss.FOCAL) {
            double[] gammas = {2, 0, 1.5, 3, 0.5};
            b.gamma(gammas[k]);
            notes.add("gamma " + gammas[k]);
            if (mode != Mode.MULTICLASS) {
                switch (k) {
                    case 1:
                    case 3:
                        b.alphaNone();
                        notes.add("alpha none");
                        break;
                    case 2:
                        b.alpha(0.6);
                        notes.add("alpha 0.6");
                        break;
                    case 4:
                        b.alpha(0.1);
                        notes.add("alpha 0.1");
                        break;
                    default:
                        break;
                }
            } else if (k == 2) {
                b.alpha(0.6); // alpha has no effect in multiclass mode
                notes.add("alpha 0.6 (unused)");
            }
        } else if (loss == Loss.TVERSKY) {
            double[][] ab = {{0.5, 0.5}, {0.3, 0.7}, {0.7, 0.3}, {1, 0}, {0.2, 0.2}};
            b.alpha(ab[k][0]).beta(ab[k][1]);
            notes.add("alpha " + ab[k][0] + " beta " + ab[k][1]);
        }
    }

    private static Object binaryTarget(LossSpec.Builder b, Loss loss, int variant, Reference.Geometry g, Random rnd,
                                       List<String> notes) {
        int len = g.size();
        float[] hard = new float[len];
        for (int i = 0; i < len; i++) {
            hard[i] = rnd.nextDouble() < 0.4 ? 1f : 0f;
        }
        switch (variant) {
            case 1: {
                float[] soft = new float[len];
                for (int i = 0; i < len; i++) {
                    soft[i] = (float) rnd.nextDouble();
                }
                b.smooth(0.5);
                notes.add("soft labels smooth 0.5");
                return soft;
            }
            case 2: {
                byte[] t = new byte[len];
                for (int i = 0; i < len; i++) {
                    t[i] = (byte) hard[i];
                }
                b.batch(true);
                notes.add("batch");
                return t;
            }
            case 3: {
                int[] t = new int[len];
                for (int i = 0; i < len; i++) {
                    t[i] = (int) hard[i];
                }
                b.classWeights(weights(g.c, rnd));
                notes.add("class weights");
                return t;
            }
            case 4: {
                for (int ni = 0; ni < g.n; ni++) {
                    for (int si = 0; si < g.s; si++) {
                        hard[g.index(ni, g.c - 1, si)] = 0f;
                    }
                }
                b.smooth(0);
                notes.add("smooth 0 empty channel");
                if (g.c >= 2 && loss.hasRegionTerm()) {
                    b.includeBackground(false);
                    notes.add("no background");
                }
                return hard;
            }
            default:
                return hard;
        }
    }

    private static Object multiclassTarget(LossSpec.Builder b, int variant, int n, int c, int s, Random rnd,
                                           List<String> notes) {
        int[] y = new int[n * s];
        for (int i = 0; i < y.length; i++) {
            y[i] = rnd.nextInt(c);
        }
        switch (variant) {
            case 1: {
                byte[] t = new byte[y.length];
                for (int i = 0; i < y.length; i++) {
                    t[i] = (byte) (rnd.nextDouble() < 0.2 ? 255 : y[i]);
                }
                b.ignoreIndex(255);
                notes.add("ignore 255");
                return t;
            }
            case 2: {
                for (int i = 0; i < y.length; i++) {
                    if (rnd.nextDouble() < 0.2) {
                        y[i] = -100;
                    }
                }
                b.ignoreIndex(-100).classWeights(weights(c, rnd));
                notes.add("ignore -100 class weights");
                return y;
            }
            case 3: {
                float[] t = new float[y.length];
                for (int i = 0; i < y.length; i++) {
                    t[i] = y[i];
                }
                b.batch(true).includeBackground(false);
                notes.add("batch no background");
                return t;
            }
            case 4: {
                byte[] t = new byte[y.length];
                for (int i = 0; i < y.length; i++) {
                    t[i] = (byte) rnd.nextInt(c - 1); // class C-1 never appears
                }
                b.smooth(0).ignoreIndex(0);
                notes.add("smooth 0 empty class ignore 0");
                return t;
            }
            default:
                return y;
        }
    }

    /** Weights in [0.25, 2], the last one 0 when C >= 3 (a zero weight is allowed, all zero is not). */
    private static double[] weights(int c, Random rnd) {
        double[] w = new double[c];
        for (int i = 0; i < c; i++) {
            w[i] = 0.25 + 1.75 * rnd.nextDouble();
        }
        if (c >= 3) {
            w[c - 1] = 0;
        }
        return w;
    }
}
