package org.segloss;

import java.util.List;

/**
 * Cases whose inputs and expected values are copied from the test files of two peer libraries, mapped to our options
 * as {@code shared/spec/losses.md} ("Where peers differ") says. The inputs and values were copied by hand; no code.
 *
 * <ul>
 *   <li>MONAI: {@code github.com/Project-MONAI/MONAI} at d388d1c6fec8cb3a0eebee5b5a0b9776ca59ca83,
 *       {@code tests/losses/test_*_loss.py}.</li>
 *   <li>segmentation_models_pytorch (smp): {@code github.com/qubvel-org/segmentation_models.pytorch} at
 *       5006616357631a48c7c8e11977cf5abb00803590, {@code tests/test_losses.py}.</li>
 * </ul>
 *
 * <p>How their options map to ours:
 * <ul>
 *   <li>MONAI {@code sigmoid=True}: our from_logits in binary/multilabel mode; with {@code to_onehot_y=True} the target
 *       is the one-hot float target of multilabel mode. {@code softmax=True, to_onehot_y=True}: our multiclass mode
 *       from logits with the class map. Neither: probabilities.</li>
 *   <li>MONAI {@code smooth_nr = smooth_dr = s}: our smooth s (DiceLoss, TverskyLoss, GeneralizedDiceLoss default
 *       1e-5); different values: our smooth_nr / smooth_dr.</li>
 *   <li>MONAI {@code jaccard=True}: (2I + s) / (2U + s) = (I + s/2) / (U + s/2): our iou with smooth s / 2.</li>
 *   <li>MONAI {@code FocalLoss}: alpha None = our alpha none; {@code include_background=False} drops class 0 from
 *       the focal mean = our class_weights (0, 1, 1); {@code weight=w} multiplies each element's term without
 *       dividing: our class_weights w give the sum of their weighted terms over sum_elements w_c;
 *       {@code use_softmax=True} averages over N*C*S elements of which only the target class is non-zero: our
 *       multiclass focal / C.</li>
 *   <li>MONAI {@code DiceCELoss(weight=w)} with one channel: BCEWithLogits pos_weight = our dice_ce pos_weight.</li>
 *   <li>smp {@code DiceLoss/JaccardLoss/TverskyLoss(smooth=s)}: our smooth 2s for Dice, s for Jaccard and Tversky;
 *       their default 0; they sum over the batch (our batch) and zero the term of classes absent from the target
 *       (only cases whose classes are present are copied).</li>
 *   <li>smp {@code MCCLoss(eps=s)} flattens batch and channels into one binary problem: our mcc with C = 1, batch,
 *       smooth s.</li>
 *   <li>smp {@code SoftBCEWithLogitsLoss(smooth_factor=f)}: our label_smoothing 2f; {@code SoftCrossEntropyLoss
 *       (smooth_factor=f)}: our label_smoothing f. Both divide by every element, ignored ones included; we divide by
 *       the counted ones: ours = theirs x all / counted.</li>
 * </ul>
 */
final class PeerCases {
    private PeerCases() {
    }

    static final String MONAI = "MONAI tests/losses/";
    static final String SMP = "smp tests/test_losses.py ";

    /**
     * One peer case: where it comes from, our spec and input, their value mapped to ours, the allowed error, and
     * (PyTorch cases) their gradient with respect to pred, or null.
     */
    record Peer(String source, String what, LossCase input, double expected, double tolerance, double[] grad) {
        @Override
        public String toString() {
            return what + " [" + source + "]";
        }
    }

    private static Peer peer(String source, String what, LossSpec spec, long[] shape, float[] pred, Object target,
                             double expected, double tolerance) {
        return new Peer(source, what, new LossCase(what, spec, shape, pred, target), expected, tolerance, null);
    }

    private static LossSpec.Builder spec(Loss loss, Mode mode) {
        return LossSpec.builder(loss, mode);
    }

    /** Allowed error of numpy's assert_allclose(rtol, atol). */
    private static double allclose(double expected, double rtol, double atol) {
        return atol + rtol * Math.abs(expected);
    }

    // MONAI's shared inputs
    /** (1, 1, 2, 2) logits [[1, -1], [-1, 1]] and target [[1, 0], [1, 1]]. */
    private static final long[] M1 = {1, 1, 2, 2};
    private static final float[] M1_X = {1, -1, -1, 1};
    private static final float[] M1_T = {1, 0, 1, 1};
    /** (2, 1, 2, 2) logits, both samples [[1, -1], [-1, 1]]; targets [[1, 1], [1, 1]] and [[1, 0], [1, 0]]. */
    private static final long[] M2 = {2, 1, 2, 2};
    private static final float[] M2_X = {1, -1, -1, 1, 1, -1, -1, 1};
    private static final float[] M2_T = {1, 1, 1, 1, 1, 0, 1, 0};
    /** (2, 1, 2, 2) probabilities used as their own soft target. */
    private static final float[] M3_P = {0.3f, 0.4f, 0.7f, 0.9f, 1.0f, 0.1f, 0.5f, 0.3f};
    /** (2, 2, 3) one-hot probabilities and the (2, 3) class map (include_background=False cases). */
    private static final long[] M4 = {2, 2, 3};
    private static final float[] M4_P = {1, 1, 0, 0, 0, 1, 1, 0, 1, 0, 1, 0};
    private static final int[] M4_Y = {0, 0, 1, 0, 1, 0};
    /** (2, 2, 3) logits [[-1, 0, 1], [1, 0, -1]], [[0, 0, 0], [0, 0, 0]], class map [1, 0, 0], [1, 1, 0]. */
    private static final float[] M5_X = {-1, 0, 1, 1, 0, -1, 0, 0, 0, 0, 0, 0};
    private static final int[] M5_Y = {1, 0, 0, 1, 1, 0};
    /** The same class map one-hot, (2, 2, 3). */
    private static final float[] M5_T = {0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0};
    /** test_focal_loss.py: (1, 3, 2, 2) logits, every channel [[1, 1], [0.5, 0]]; classes [[0, 1], [2, 0]] one-hot. */
    private static final long[] F1 = {1, 3, 2, 2};
    private static final float[] F1_X = {1, 1, 0.5f, 0, 1, 1, 0.5f, 0, 1, 1, 0.5f, 0};
    private static final float[] F1_T = {1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0};
    private static final int[] F1_Y = {0, 1, 2, 0};

    /** Every peer case: the MONAI and smp test values, then the PyTorch ones. */
    static List<Peer> all() {
        List<Peer> all = new java.util.ArrayList<>(libraries());
        all.addAll(torch());
        return all;
    }

    /**
     * Values and gradients computed with PyTorch 1.13 (Debian {@code python3-torch}) in float64 by this script (the
     * inputs are exact in float32; the soft targets 0.6, 0.1, 0.3 round in float32 by less than 1e-7):
     * <pre>
     * import torch
     * def show(name, loss, x):
     *     loss.backward(); print(name, repr(loss.item()), x.grad.flatten().tolist())
     * X = [[[0.5, -1.25], [2.0, 0.0], [-0.75, 1.5]], [[-2.0, 0.25], [1.0, -0.5], [0.0, 3.0]]]   # (2, 3, 2)
     * x = torch.tensor(X, dtype=torch.float64, requires_grad=True)
     * t = torch.tensor([[[1, 0], [1, 1], [0, 1]], [[0, 1], [0, 0], [1, 1]]], dtype=torch.float64)
     * pw = torch.tensor([0.5, 2.0, 1.0], dtype=torch.float64).view(3, 1)
     * show("bce pos_weight", torch.nn.BCEWithLogitsLoss(pos_weight=pw)(x, t), x)
     * x = torch.tensor(X, dtype=torch.float64, requires_grad=True)
     * y = torch.tensor([[1, -100], [2, 0]]); w = torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64)
     * show("ce", torch.nn.CrossEntropyLoss(weight=w, label_smoothing=0.1, ignore_index=-100)(x, y), x)
     * for e in (0.0, 0.2):
     *     x = torch.tensor(X, dtype=torch.float64, requires_grad=True)
     *     t = torch.tensor([[[0.25, 0.0], [0.5, 1.0], [0.25, 0.0]], [[0.0, 0.6], [0.0, 0.1], [1.0, 0.3]]],
     *                      dtype=torch.float64)
     *     show("soft ce", torch.nn.CrossEntropyLoss(label_smoothing=e)(x, t), x)
     * </pre>
     * PyTorch's mean reductions equal ours here: BCEWithLogits divides by every element, weighted cross-entropy by the
     * sum of the target classes' weights (label smoothing included), cross-entropy of probability targets without
     * weights by the pixel count.
     */
    static List<Peer> torch() {
        String src = "PyTorch 1.13 ";
        long[] shape = {2, 3, 2};
        float[] x = {0.5f, -1.25f, 2.0f, 0.0f, -0.75f, 1.5f, -2.0f, 0.25f, 1.0f, -0.5f, 0.0f, 3.0f};
        float[] soft = {0.25f, 0.0f, 0.5f, 1.0f, 0.25f, 0.0f, 0.0f, 0.6f, 0.0f, 0.1f, 1.0f, 0.3f};
        return List.of(
            new Peer(src + "BCEWithLogitsLoss(pos_weight)", "torch bce from logits pos_weight 0.5 2 1",
                    new LossCase("torch bce from logits pos_weight 0.5 2 1", spec(Loss.BCE, Mode.MULTILABEL).fromLogits(true)
                            .posWeight(0.5, 2, 1).build(), shape, x, new float[] {1, 0, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1}),
                    0.4717810971294438, 1e-6, new double[] {-0.015730861199922726, 0.01855834490210907,
                        -0.01986715367035295, -0.08333333333333333, 0.026735108402050584, -0.015202126983863029,
                        0.009933576835176462, -0.01824264579642508, 0.06092154821916707, 0.03146172239984545,
                        -0.041666666666666664, -0.003952156098130553}),
            new Peer(src + "CrossEntropyLoss(weight, label_smoothing, ignore_index)",
                    "torch ce class weights label_smoothing 0.1 ignore -100",
                    new LossCase("torch ce class weights label_smoothing 0.1 ignore -100",
                            spec(Loss.CE, Mode.MULTICLASS).fromLogits(true).classWeights(0.5, 1, 2).labelSmoothing(0.1)
                                    .ignoreIndex(-100).build(), shape, x, new int[] {1, -100, 2, 0}),
                    1.2861370509284915, 1e-6, new double[] {0.045596352461041434, 0.0, -0.04097661566931585, 0.0,
                        -0.004619736791725646, 0.0, 0.014469943334876521, -0.12387351582289652, 0.3767581855252274,
                        -0.0050553081368453845, -0.3912281288601039, 0.12892882395974187}),
            new Peer(src + "CrossEntropyLoss with probability targets", "torch ce soft targets",
                    new LossCase("torch ce soft targets", spec(Loss.CE, Mode.MULTICLASS).fromLogits(true).build(), shape, x,
                            soft),
                    1.6265463544736094, 1e-6, new double[] {-0.019158876980251226, 0.012417439646465635,
                        0.06924143733378557, -0.2066588769802512, -0.05008256035353437, 0.19424143733378563,
                        0.008779756739834933, -0.1353929288441784, 0.1763461281745603, -0.018100108152481847,
                        -0.18512588491439522, 0.15349303699666023}),
            new Peer(src + "CrossEntropyLoss(label_smoothing) with probability targets",
                    "torch ce soft targets label_smoothing 0.2",
                    new LossCase("torch ce soft targets label_smoothing 0.2", spec(Loss.CE, Mode.MULTICLASS).fromLogits(true)
                            .labelSmoothing(0.2).build(), shape, x, soft),
                    1.6609213544736097, 1e-6, new double[] {-0.02332554364691789, -0.004249227020201031,
                        0.0775747706671189, -0.17332554364691788, -0.05424922702020103, 0.17757477066711896,
                        -0.007886909926831734, -0.12205959551084507, 0.15967946150789364, -0.029766774819148512,
                        -0.1517925515810619, 0.15182637032999358}));
    }

    /** The cases copied from MONAI's and smp's test files. */
    static List<Peer> libraries() {
        String dice = MONAI + "test_dice_loss.py";
        String gd = MONAI + "test_generalized_dice_loss.py";
        String tv = MONAI + "test_tversky_loss.py";
        String focal = MONAI + "test_focal_loss.py";
        String diceCe = MONAI + "test_dice_ce_loss.py";
        return List.of(
            // ---- MONAI DiceLoss (rtol 1e-5)
            peer(dice, "MONAI dice sigmoid smooth_nr = smooth_dr = 1e-6", spec(Loss.DICE, Mode.BINARY).fromLogits(true)
                    .smoothNr(1e-6).smoothDr(1e-6).build(), M1, M1_X, M1_T, 0.307576, allclose(0.307576, 1e-5, 0)),
            peer(dice, "MONAI dice sigmoid of two samples smooth 1e-4", spec(Loss.DICE, Mode.BINARY).fromLogits(true)
                    .smooth(1e-4).build(), M2, M2_X, M2_T, 0.416657, allclose(0.416657, 1e-5, 0)),
            peer(dice, "MONAI dice of soft targets (soft_label False) smooth 1e-4", spec(Loss.DICE, Mode.BINARY)
                    .smooth(1e-4).build(), M2, M3_P, M3_P, 0.307773, allclose(0.307773, 1e-5, 0)),
            peer(dice, "MONAI dice without background smooth 0 is 0", spec(Loss.DICE, Mode.MULTICLASS)
                    .includeBackground(false).smoothNr(0).smoothDr(0).build(), M4, M4_P, M4_Y, 0.0, 1e-6),
            peer(dice, "MONAI dice sigmoid one-hot smooth 1e-4", spec(Loss.DICE, Mode.MULTILABEL).fromLogits(true)
                    .smooth(1e-4).build(), M4, M5_X, M5_T, 0.435050, allclose(0.435050, 1e-5, 0)),
            peer(dice, "MONAI dice softmax smooth 1e-4", spec(Loss.DICE, Mode.MULTICLASS).fromLogits(true)
                    .smooth(1e-4).build(), M4, M5_X, M5_Y, 0.383713, allclose(0.383713, 1e-5, 0)),
            peer(dice, "MONAI dice sigmoid squared_pred smooth 1e-5", spec(Loss.DICE, Mode.BINARY).fromLogits(true)
                    .squaredPred(true).smooth(1e-5).build(), M1, M1_X, M1_T, 0.178337, allclose(0.178337, 1e-5, 0)),
            // jaccard=True: (2I + s) / (2U + s) with s = 1e-5 is our iou with smooth 5e-6
            peer(dice, "MONAI dice jaccard sigmoid smooth 1e-5 (our iou smooth 5e-6)", spec(Loss.IOU, Mode.BINARY)
                    .fromLogits(true).smooth(5e-6).build(), M1, M1_X, M1_T, 0.470451, allclose(0.470451, 1e-5, 0)),
            // ---- MONAI GeneralizedDiceLoss (rtol 1e-5)
            peer(gd, "MONAI generalized dice sigmoid smooth 1e-6", spec(Loss.GENERALIZED_DICE, Mode.BINARY)
                    .fromLogits(true).smoothNr(1e-6).smoothDr(1e-6).build(), M1, M1_X, M1_T, 0.307576,
                    allclose(0.307576, 1e-5, 0)),
            peer(gd, "MONAI generalized dice sigmoid of two samples smooth 1e-4", spec(Loss.GENERALIZED_DICE, Mode.BINARY)
                    .fromLogits(true).smooth(1e-4).build(), M2, M2_X, M2_T, 0.416597, allclose(0.416597, 1e-5, 0)),
            peer(gd, "MONAI generalized dice of soft targets (soft_label False) smooth 1e-4",
                    spec(Loss.GENERALIZED_DICE, Mode.BINARY).smooth(1e-4).build(), M2, M3_P, M3_P, 0.307748,
                    allclose(0.307748, 1e-5, 0)),
            peer(gd, "MONAI generalized dice without background smooth 0 is 0", spec(Loss.GENERALIZED_DICE, Mode.MULTICLASS)
                    .includeBackground(false).smooth(0).build(), M4, M4_P, M4_Y, 0.0, 1e-6),
            peer(gd, "MONAI generalized dice sigmoid one-hot smooth 1e-4", spec(Loss.GENERALIZED_DICE, Mode.MULTILABEL)
                    .fromLogits(true).smooth(1e-4).build(), M4, M5_X, M5_T, 0.469964, allclose(0.469964, 1e-5, 0)),
            peer(gd, "MONAI generalized dice softmax smooth 1e-4", spec(Loss.GENERALIZED_DICE, Mode.MULTICLASS)
                    .fromLogits(true).smooth(1e-4).build(), M4, M5_X, M5_Y, 0.414507, allclose(0.414507, 1e-5, 0)),
            peer(gd, "MONAI generalized dice without background of an empty class is 0",
                    spec(Loss.GENERALIZED_DICE, Mode.MULTICLASS).includeBackground(false).smooth(1e-8).build(), M4, M4_P,
                    new int[] {0, 0, 0, 0, 0, 0}, 0.0, 1e-6),
            peer(gd, "MONAI generalized dice softmax w_type simple smooth 0", spec(Loss.GENERALIZED_DICE, Mode.MULTICLASS)
                    .fromLogits(true).gdWeight(GdWeight.SIMPLE).smooth(0).build(), new long[] {1, 2, 4},
                    new float[] {0, 10, 10, 10, 10, 0, 0, 0}, new int[] {1, 1, 0, 0}, 0.250023, allclose(0.250023, 1e-5, 0)),
            // ---- MONAI TverskyLoss (rtol 1e-4)
            peer(tv, "MONAI tversky sigmoid smooth 1e-6", spec(Loss.TVERSKY, Mode.BINARY).fromLogits(true).smooth(1e-6)
                    .build(), M1, M1_X, M1_T, 0.307576, allclose(0.307576, 1e-4, 0)),
            peer(tv, "MONAI tversky without background smooth_nr 0 smooth_dr 1e-3", spec(Loss.TVERSKY, Mode.MULTICLASS)
                    .includeBackground(false).smoothNr(0).smoothDr(1e-3).build(), M4, M4_P, M4_Y, 0.000999,
                    allclose(0.000999, 1e-4, 0)),
            peer(tv, "MONAI tversky sigmoid one-hot batch smooth 1e-5", spec(Loss.TVERSKY, Mode.MULTILABEL)
                    .fromLogits(true).batch(true).smooth(1e-5).build(), M4, M5_X, M5_T, 0.422979,
                    allclose(0.422979, 1e-4, 0)),
            peer(tv, "MONAI tversky alpha 0.3 beta 0.7 sigmoid smooth 1e-6", spec(Loss.TVERSKY, Mode.BINARY)
                    .fromLogits(true).alpha(0.3).beta(0.7).smooth(1e-6).build(), M1, M1_X, M1_T, 0.3589,
                    allclose(0.3589, 1e-4, 0)),
            peer(tv, "MONAI tversky alpha 0.7 beta 0.3 sigmoid smooth 1e-6", spec(Loss.TVERSKY, Mode.BINARY)
                    .fromLogits(true).alpha(0.7).beta(0.3).smooth(1e-6).build(), M1, M1_X, M1_T, 0.247366,
                    allclose(0.247366, 1e-4, 0)),
            peer(tv, "MONAI tversky softmax smooth 1e-4", spec(Loss.TVERSKY, Mode.MULTICLASS).fromLogits(true)
                    .smooth(1e-4).build(), M4, M5_X, M5_Y, 0.383713, allclose(0.383713, 1e-4, 0)),
            // ---- MONAI FocalLoss (atol 1e-4, rtol 1e-4)
            peer(focal, "MONAI focal sigmoid gamma 2 alpha None", spec(Loss.FOCAL, Mode.MULTILABEL).fromLogits(true)
                    .alphaNone().build(), F1, F1_X, F1_T, 0.34959, allclose(0.34959, 1e-4, 1e-4)),
            peer(focal, "MONAI focal without background (our class weights 0, 1, 1)", spec(Loss.FOCAL, Mode.MULTILABEL)
                    .fromLogits(true).alphaNone().classWeights(0, 1, 1).build(), F1, F1_X, F1_T, 0.36498,
                    allclose(0.36498, 1e-4, 1e-4)),
            peer(focal, "MONAI focal alpha 0.8", spec(Loss.FOCAL, Mode.MULTILABEL).fromLogits(true).alpha(0.8).build(),
                    F1, F1_X, F1_T, 0.08423, allclose(0.08423, 1e-4, 1e-4)),
            // reduction none with weight (0.5, 0.1, 0.2): their 12 weighted element terms, summed per class
            // (0.63761, 0.12753, 0.32892) = 1.09406, over the sum of the weights of the 12 elements, 4 x 0.8
            peer(focal, "MONAI focal weight 0.5 0.1 0.2 (reduction none, summed over 4 x 0.8)",
                    spec(Loss.FOCAL, Mode.MULTILABEL).fromLogits(true).alphaNone().classWeights(0.5, 0.1, 0.2).build(),
                    F1, F1_X, F1_T, 1.09406 / 3.2, 12 * 5e-6 / 3.2 + 1e-6),
            // use_softmax: the mean over N*C*S = 12 elements of which 4 are non-zero: ours = 3 x theirs
            peer(focal, "MONAI focal use_softmax (ours = 3 x theirs)", spec(Loss.FOCAL, Mode.MULTICLASS).fromLogits(true)
                    .build(), F1, F1_X, F1_Y, 3 * 0.16276, 3 * allclose(0.16276, 1e-4, 1e-4)),
            // ---- MONAI DiceCELoss (atol 1e-4, rtol 1e-4)
            peer(diceCe, "MONAI dice_ce sigmoid weight 0.5 (our pos_weight 0.5)", spec(Loss.DICE_CE, Mode.BINARY)
                    .fromLogits(true).posWeight(0.5).smooth(1e-5).build(), new long[] {2, 1, 3},
                    new float[] {0.8f, 0.6f, 0, 0, 0, 0.9f}, new float[] {0, 0, 1, 0, 1, 0}, 1.445239,
                    allclose(1.445239, 1e-4, 1e-4)),
            // ---- smp (pytest.approx abs 1e-5 unless noted)
            peer(SMP + "test_soft_dice_score", "smp soft dice score [1, 1, 0, 0] vs ones is 2/3",
                    spec(Loss.DICE, Mode.BINARY).smooth(0).build(), new long[] {1, 1, 4}, new float[] {1, 1, 0, 0},
                    new float[] {1, 1, 1, 1}, 1 - 2.0 / 3.0, 1e-5),
            peer(SMP + "test_soft_jaccard_score", "smp soft jaccard score [1, 1, 0, 0] vs ones is 1/2",
                    spec(Loss.IOU, Mode.BINARY).smooth(0).build(), new long[] {1, 1, 4}, new float[] {1, 1, 0, 0},
                    new float[] {1, 1, 1, 1}, 0.5, 1e-5),
            peer(SMP + "test_soft_tversky_score", "smp soft tversky score alpha = beta = 0.5 is 2/3",
                    spec(Loss.TVERSKY, Mode.BINARY).smooth(0).build(), new long[] {1, 1, 4}, new float[] {1, 1, 0, 0},
                    new float[] {1, 1, 1, 1}, 1 - 2.0 / 3.0, 1e-5),
            peer(SMP + "test_dice_loss_binary", "smp dice loss of disjoint masks is 1",
                    spec(Loss.DICE, Mode.BINARY).smooth(0).batch(true).build(), new long[] {1, 1, 3},
                    new float[] {1, 0, 1}, new float[] {0, 1, 0}, 1.0, 1e-5),
            peer(SMP + "test_multiclass_jaccard_loss", "smp multiclass jaccard loss 1 - 1/3",
                    spec(Loss.IOU, Mode.MULTICLASS).smooth(0).batch(true).build(), new long[] {1, 2, 4},
                    new float[] {1, 0, 1, 0, 0, 1, 0, 1}, new int[] {1, 1, 0, 0}, 1 - 1.0 / 3.0, 1e-5),
            peer(SMP + "test_multilabel_jaccard_loss", "smp multilabel jaccard loss 1 - 1/3",
                    spec(Loss.IOU, Mode.MULTILABEL).smooth(0).batch(true).build(), new long[] {1, 2, 4},
                    new float[] {0, 1, 1, 0, 0, 1, 1, 0}, new float[] {1, 1, 0, 0, 1, 1, 0, 0}, 1 - 1.0 / 3.0, 1e-5),
            peer(SMP + "test_binary_mcc_loss", "smp mcc ideal case is 0", mcc(), new long[] {1, 1, 8},
                    new float[] {1, 1, 0, 0, 0, 0, 1, 1}, new float[] {1, 1, 0, 0, 0, 0, 1, 1}, 0.0, 1e-5),
            peer(SMP + "test_binary_mcc_loss", "smp mcc worst case is 2", mcc(), new long[] {1, 1, 8},
                    new float[] {1, 1, 0, 0, 0, 0, 1, 1}, new float[] {0, 0, 1, 1, 1, 1, 0, 0}, 2.0, 1e-5),
            peer(SMP + "test_binary_mcc_loss", "smp mcc half right is 1", mcc(), new long[] {1, 1, 8},
                    new float[] {0, 1, 1, 0, 0, 1, 1, 0}, new float[] {1, 1, 0, 0, 1, 1, 0, 0}, 1.0, 1e-5),
            peer(SMP + "test_binary_mcc_loss", "smp mcc trivial classifier 1 is 1", mcc(), new long[] {1, 1, 8},
                    new float[8], new float[] {1, 1, 0, 0, 1, 1, 0, 0}, 1.0, 1e-5),
            peer(SMP + "test_binary_mcc_loss", "smp mcc trivial classifier 2 is 1.5", mcc(), new long[] {1, 1, 8},
                    new float[8], new float[] {1, 1, 1, 1, 1, 1, 1, 1}, 1.5, 1e-5),
            peer(SMP + "test_binary_mcc_loss", "smp mcc trivial classifier 3 is 0.5", mcc(), new long[] {1, 1, 8},
                    new float[] {1, 1, 1, 1, 1, 1, 1, 1}, new float[] {1, 1, 1, 1, 1, 1, 1, 1}, 0.5, 1e-5),
            // smooth_factor 0.1 = our label_smoothing 0.1 (multiclass); they average over the 4 pixels with the
            // ignored one, we over the 3 counted ones: ours = 1.0125 x 4 / 3 (their abs 1e-4 scaled alike)
            peer(SMP + "test_soft_ce_loss", "smp soft cross-entropy smooth_factor 0.1 ignore -100 (ours x 4/3)",
                    spec(Loss.CE, Mode.MULTICLASS).fromLogits(true).labelSmoothing(0.1).ignoreIndex(-100).build(),
                    new long[] {4, 4}, new float[] {9, -9, -9, -9, -9, 9, -9, -9, -9, -9, 9, -9, -9, -9, -9, 9},
                    new int[] {0, 1, -100, 3}, 1.0125 * 4 / 3, 1e-4 * 4 / 3),
            // smooth_factor 0.1 = our label_smoothing 0.2 (binary); 5 elements, 1 ignored: ours = 0.7201 x 5 / 4
            peer(SMP + "test_soft_bce_loss", "smp soft bce smooth_factor 0.1 ignore -100 (ours x 5/4)",
                    spec(Loss.BCE, Mode.BINARY).fromLogits(true).labelSmoothing(0.2).ignoreIndex(-100).build(),
                    new long[] {1, 1, 5}, new float[] {-9, 9, 1, 9, -9}, new float[] {0, 1, -100, 1, 0},
                    0.7201 * 5 / 4, 1e-4 * 5 / 4));
    }

    /** smp MCCLoss(eps=1e-5) on a flattened (1, 2, 4) input: our mcc, C = 1, batch, smooth 1e-5. */
    private static LossSpec mcc() {
        return spec(Loss.MCC, Mode.BINARY).batch(true).smooth(1e-5).build();
    }
}
