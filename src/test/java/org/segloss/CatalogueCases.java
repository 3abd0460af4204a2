package org.segloss;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * The random case table of the MONAI / smp catalogue ({@code shared/spec/losses.md}, "More region losses and options"
 * and "More pixel options"): each row is a loss, a mode, options and a kind of target; each row runs twice, on
 * probabilities in nchw and on logits in nhwc, on small odd shapes (binary C = 1, multilabel C = 3, multiclass C = 3
 * or 4, one 3-D volume). Predictions stay away from the probability clamp, so the table also serves the gradient
 * checks against finite differences.
 */
final class CatalogueCases {
    private CatalogueCases() {
    }

    /** The kinds of target a row can ask for. */
    enum Target {
        /** 0/1 floats, about 40% ones. */
        HARD,
        /** 0/1 as uint8. */
        HARD_UINT8,
        /** Soft labels in [0, 1]. */
        SOFT,
        /** 0/1 floats, about 20% set to ignore_index 255 (set by the row). */
        IGNORE_FLOAT_255,
        /** 0/1 uint8, about 20% set to 255. */
        IGNORE_UINT8_255,
        /** 0/1 int32, about 20% set to -1. */
        IGNORE_INT32_MINUS_1,
        /** Binary/multilabel: hard, the last channel empty. Multiclass: a class map that never holds class C - 1. */
        EMPTY_LAST_CLASS,
        /** An int32 class map. */
        CLASS_MAP,
        /** A uint8 class map, about 20% set to 255. */
        CLASS_MAP_IGNORE_255,
        /** Soft multiclass targets: class probabilities of pred's shape and layout, each pixel summing to 1. */
        SOFT_MULTICLASS
    }

    /** One row: what it checks, the loss, the mode, the options and the target. */
    record Row(String name, Loss loss, Mode mode, Consumer<LossSpec.Builder> options, Target target) {
    }

    private static Row row(String name, Loss loss, Mode mode, Target target, Consumer<LossSpec.Builder> options) {
        return new Row(name, loss, mode, options, target);
    }

    private static final Mode BIN = Mode.BINARY;
    private static final Mode ML = Mode.MULTILABEL;
    private static final Mode MC = Mode.MULTICLASS;

    /** Every row of the table. */
    static List<Row> rows() {
        return List.of(
            // generalized_dice
            row("default weights", Loss.GENERALIZED_DICE, BIN, Target.HARD, b -> { }),
            row("gd_weight simple batch empty channel", Loss.GENERALIZED_DICE, ML, Target.EMPTY_LAST_CLASS,
                    b -> b.gdWeight(GdWeight.SIMPLE).batch(true)),
            row("gd_weight square absent class", Loss.GENERALIZED_DICE, MC, Target.EMPTY_LAST_CLASS, b -> { }),
            row("gd_weight uniform no background squared_pred ignore 255", Loss.GENERALIZED_DICE, MC,
                    Target.CLASS_MAP_IGNORE_255,
                    b -> b.gdWeight(GdWeight.UNIFORM).includeBackground(false).squaredPred(true).ignoreIndex(255)),
            row("smooth_nr 0 smooth_dr 1e-3 soft labels", Loss.GENERALIZED_DICE, ML, Target.SOFT,
                    b -> b.smoothNr(0).smoothDr(1e-3)),
            row("soft multiclass targets", Loss.GENERALIZED_DICE, MC, Target.SOFT_MULTICLASS, b -> { }),
            // mcc
            row("default smooth", Loss.MCC, BIN, Target.HARD, b -> { }),
            row("batch smooth 0.5 soft labels", Loss.MCC, ML, Target.SOFT, b -> b.batch(true).smooth(0.5)),
            row("class weights ignore 255", Loss.MCC, MC, Target.CLASS_MAP_IGNORE_255,
                    b -> b.classWeights(0.5, 2, 1).ignoreIndex(255)),
            row("no background batch", Loss.MCC, MC, Target.CLASS_MAP, b -> b.includeBackground(false).batch(true)),
            row("ignore -1", Loss.MCC, ML, Target.IGNORE_INT32_MINUS_1, b -> b.ignoreIndex(-1)),
            // dice, iou, tversky options
            row("squared_pred smooth_nr 0.5 smooth_dr 2", Loss.DICE, BIN, Target.HARD,
                    b -> b.squaredPred(true).smoothNr(0.5).smoothDr(2)),
            row("log_loss", Loss.DICE, MC, Target.CLASS_MAP, b -> b.logLoss(true)),
            row("ignore 255 in binary mode", Loss.DICE, BIN, Target.IGNORE_FLOAT_255, b -> b.ignoreIndex(255)),
            row("squared_pred log_loss soft labels", Loss.IOU, ML, Target.SOFT, b -> b.squaredPred(true).logLoss(true)),
            row("smooth_nr 0 smooth_dr 1 ignore 255", Loss.IOU, MC, Target.CLASS_MAP_IGNORE_255,
                    b -> b.smoothNr(0).smoothDr(1).ignoreIndex(255)),
            row("gamma 0.75 alpha 0.3 beta 0.7", Loss.TVERSKY, BIN, Target.HARD,
                    b -> b.gamma(0.75).alpha(0.3).beta(0.7)),
            row("gamma 2 log_loss", Loss.TVERSKY, MC, Target.CLASS_MAP, b -> b.gamma(2).logLoss(true)),
            row("gamma 1.5 smooth_nr 1e-3 smooth_dr 0.5 ignore 255", Loss.TVERSKY, ML, Target.IGNORE_UINT8_255,
                    b -> b.gamma(1.5).smoothNr(1e-3).smoothDr(0.5).ignoreIndex(255)),
            // dice_ce
            row("defaults", Loss.DICE_CE, BIN, Target.HARD, b -> { }),
            row("lambdas 0.5 and 2 label_smoothing 0.1 pos_weight ignore -1", Loss.DICE_CE, ML,
                    Target.IGNORE_INT32_MINUS_1,
                    b -> b.lambdaPixel(0.5).lambdaRegion(2).labelSmoothing(0.1).posWeight(2, 0.5, 1).ignoreIndex(-1)),
            row("label_smoothing 0.2 class weights ignore 255", Loss.DICE_CE, MC, Target.CLASS_MAP_IGNORE_255,
                    b -> b.labelSmoothing(0.2).classWeights(1, 3, 0.5).ignoreIndex(255)),
            row("squared_pred smooth_nr 1e-5 smooth_dr 1e-3 soft multiclass targets", Loss.DICE_CE, MC,
                    Target.SOFT_MULTICLASS, b -> b.squaredPred(true).smoothNr(1e-5).smoothDr(1e-3)),
            row("lambda_pixel 0 class weights", Loss.DICE_CE, ML, Target.HARD_UINT8,
                    b -> b.lambdaPixel(0).classWeights(1, 2, 0)),
            // dice_focal
            row("defaults", Loss.DICE_FOCAL, BIN, Target.HARD, b -> { }),
            row("alpha none gamma 1 lambda_region 0.5 class weights soft labels", Loss.DICE_FOCAL, ML, Target.SOFT,
                    b -> b.alphaNone().gamma(1).lambdaRegion(0.5).classWeights(2, 1, 0.5)),
            row("gamma 1.5 lambda_pixel 2 no background", Loss.DICE_FOCAL, MC, Target.CLASS_MAP,
                    b -> b.gamma(1.5).lambdaPixel(2).includeBackground(false)),
            row("soft multiclass targets class weights", Loss.DICE_FOCAL, MC, Target.SOFT_MULTICLASS,
                    b -> b.classWeights(0.5, 1, 2)),
            row("lambda_region 0 ignore 255", Loss.DICE_FOCAL, BIN, Target.IGNORE_UINT8_255,
                    b -> b.lambdaRegion(0).ignoreIndex(255)),
            // the log-Dice combinations
            row("lambdas 0.3 and 1.7 label_smoothing 0.05 pos_weight 3", Loss.BCE_LOGDICE, BIN, Target.HARD,
                    b -> b.lambdaPixel(0.3).lambdaRegion(1.7).labelSmoothing(0.05).posWeight(3)),
            row("lambdas 0.5 and 0.5 label_smoothing 0.1", Loss.CE_LOGDICE, MC, Target.CLASS_MAP,
                    b -> b.lambdaPixel(0.5).lambdaRegion(0.5).labelSmoothing(0.1)),
            // pixel options
            row("pos_weight 3", Loss.BCE, BIN, Target.HARD, b -> b.posWeight(3)),
            row("pos_weight class weights label_smoothing 0.1 soft labels", Loss.BCE, ML, Target.SOFT,
                    b -> b.posWeight(0.5, 2, 1).classWeights(1, 0.25, 2).labelSmoothing(0.1)),
            row("ignore 255", Loss.BCE, ML, Target.IGNORE_UINT8_255, b -> b.ignoreIndex(255)),
            row("ignore -1 label_smoothing 0.2", Loss.BCE, BIN, Target.IGNORE_INT32_MINUS_1,
                    b -> b.ignoreIndex(-1).labelSmoothing(0.2)),
            row("ignore 255 class weights", Loss.FOCAL, ML, Target.IGNORE_FLOAT_255,
                    b -> b.ignoreIndex(255).classWeights(1, 2, 0.5)),
            row("soft multiclass targets class weights", Loss.FOCAL, MC, Target.SOFT_MULTICLASS,
                    b -> b.classWeights(2, 1, 0.5)),
            row("soft multiclass targets", Loss.CE, MC, Target.SOFT_MULTICLASS, b -> { }),
            row("soft multiclass targets label_smoothing 0.1 class weights", Loss.CE, MC, Target.SOFT_MULTICLASS,
                    b -> b.labelSmoothing(0.1).classWeights(1, 0.5, 2)),
            row("label_smoothing 0.3 class weights ignore 255", Loss.CE, MC, Target.CLASS_MAP_IGNORE_255,
                    b -> b.labelSmoothing(0.3).classWeights(0.5, 1, 2).ignoreIndex(255)),
            row("label_smoothing 0.1", Loss.CE, MC, Target.CLASS_MAP, b -> b.labelSmoothing(0.1)));
    }

    /** Logical shapes (N, C, *S) of the two runs of a row, per mode. */
    private static long[][] shapes(Mode mode) {
        switch (mode) {
            case BINARY:
                return new long[][] {{2, 1, 5, 3}, {3, 1, 7}};
            case MULTILABEL:
                return new long[][] {{2, 3, 4, 5}, {1, 3, 2, 2, 3}};
            default:
                return new long[][] {{2, 3, 5, 7}, {1, 3, 3, 2, 2}};
        }
    }

    private static List<LossCase> table;

    /** The table (built once; cases are never modified by the tests). */
    static synchronized List<LossCase> all() {
        if (table == null) {
            List<LossCase> cases = new ArrayList<>();
            long seed = 1000;
            for (Row r : rows()) {
                long[][] shapes = shapes(r.mode);
                cases.add(make(r, false, Layout.NCHW, shapes[0], seed++));
                cases.add(make(r, true, Layout.NHWC, shapes[1], seed++));
            }
            table = java.util.Collections.unmodifiableList(cases);
        }
        return table;
    }

    /**
     * Each row once more on a tensor larger than one CPU work unit and one device work-group (so partial sums are
     * combined): binary (2, 1, 131, 127), multilabel (2, 3, 97, 89), multiclass (2, 3, 101, 83); probabilities in nchw
     * for the even rows, logits in nhwc for the odd ones.
     */
    static List<LossCase> larger() {
        List<LossCase> cases = new ArrayList<>();
        List<Row> rows = rows();
        for (int k = 0; k < rows.size(); k++) {
            Row r = rows.get(k);
            long[] logical = r.mode == Mode.BINARY ? new long[] {2, 1, 131, 127}
                    : r.mode == Mode.MULTILABEL ? new long[] {2, 3, 97, 89} : new long[] {2, 3, 101, 83};
            boolean logits = k % 2 == 1;
            cases.add(make(r, logits, logits ? Layout.NHWC : Layout.NCHW, logical, 5000 + k));
        }
        return cases;
    }

    static LossCase make(Row r, boolean logits, Layout layout, long[] logical, long seed) {
        Random rnd = new Random(seed);
        long[] shape = RandomCases.inLayout(logical, layout);
        Reference.Geometry g = new Reference.Geometry(shape, layout);
        LossSpec.Builder b = LossSpec.builder(r.loss, r.mode).fromLogits(logits).layout(layout);
        r.options.accept(b);
        boolean multiclass = r.mode == Mode.MULTICLASS;
        float[] pred = new float[g.size()];
        for (int ni = 0; ni < g.n; ni++) {
            for (int si = 0; si < g.s; si++) {
                double[] u = new double[g.c];
                double sum = 0;
                for (int ci = 0; ci < g.c; ci++) {
                    u[ci] = 0.05 + 0.95 * rnd.nextDouble();
                    sum += u[ci];
                }
                for (int ci = 0; ci < g.c; ci++) {
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
        Object target = target(r.target, r.mode, g, rnd);
        String name = String.format("%s %s %s%s %s %s %s", r.loss, r.mode, r.name, logits ? " from logits" : "", layout,
                Arrays.stream(shape).mapToObj(Long::toString).collect(Collectors.joining(",", "(", ")")),
                target instanceof float[] ? "float" : target instanceof byte[] ? "uint8" : "int32");
        return new LossCase(name, b.build(), shape, pred, target);
    }

    private static Object target(Target kind, Mode mode, Reference.Geometry g, Random rnd) {
        int size = g.size();
        int pixels = g.n * g.s;
        switch (kind) {
            case HARD:
            case HARD_UINT8:
            case IGNORE_FLOAT_255:
            case IGNORE_UINT8_255:
            case IGNORE_INT32_MINUS_1: {
                float[] f = new float[size];
                byte[] u = new byte[size];
                int[] k = new int[size];
                for (int i = 0; i < size; i++) {
                    boolean ignore = kind.name().startsWith("IGNORE") && rnd.nextDouble() < 0.2;
                    int v = rnd.nextDouble() < 0.4 ? 1 : 0;
                    f[i] = ignore ? 255 : v;
                    u[i] = (byte) (ignore ? 255 : v);
                    k[i] = ignore ? -1 : v;
                }
                return kind == Target.HARD_UINT8 || kind == Target.IGNORE_UINT8_255 ? u
                        : kind == Target.IGNORE_INT32_MINUS_1 ? k : f;
            }
            case SOFT: {
                float[] f = new float[size];
                for (int i = 0; i < size; i++) {
                    f[i] = (float) rnd.nextDouble();
                }
                return f;
            }
            case EMPTY_LAST_CLASS: {
                if (mode == Mode.MULTICLASS) {
                    int[] y = new int[pixels];
                    for (int i = 0; i < pixels; i++) {
                        y[i] = rnd.nextInt(g.c - 1);
                    }
                    return y;
                }
                float[] f = new float[size];
                for (int ni = 0; ni < g.n; ni++) {
                    for (int ci = 0; ci < g.c - 1; ci++) {
                        for (int si = 0; si < g.s; si++) {
                            f[g.index(ni, ci, si)] = rnd.nextDouble() < 0.4 ? 1 : 0;
                        }
                    }
                }
                return f;
            }
            case CLASS_MAP:
            case CLASS_MAP_IGNORE_255: {
                int[] y = new int[pixels];
                byte[] u = new byte[pixels];
                for (int i = 0; i < pixels; i++) {
                    y[i] = rnd.nextInt(g.c);
                    u[i] = (byte) (rnd.nextDouble() < 0.2 ? 255 : y[i]);
                }
                return kind == Target.CLASS_MAP ? y : u;
            }
            default: {
                // soft multiclass: per pixel probabilities over the classes, summing to 1 (float rounding only)
                float[] f = new float[size];
                for (int ni = 0; ni < g.n; ni++) {
                    for (int si = 0; si < g.s; si++) {
                        double[] u = new double[g.c];
                        double sum = 0;
                        for (int ci = 0; ci < g.c; ci++) {
                            u[ci] = rnd.nextInt(4) == 0 ? 0.0 : rnd.nextDouble();
                            sum += u[ci];
                        }
                        if (sum == 0) {
                            u[0] = 1;
                            sum = 1;
                        }
                        for (int ci = 0; ci < g.c; ci++) {
                            f[g.index(ni, ci, si)] = (float) (u[ci] / sum);
                        }
                    }
                }
                return f;
            }
        }
    }
}
