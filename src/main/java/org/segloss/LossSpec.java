package org.segloss;

import java.util.Arrays;
import java.util.Locale;
import org.segloss.internal.Constants;

/**
 * A loss and every option of the contract. Immutable; build with {@link #builder(Loss, Mode)}.
 * Every option is checked when the spec is built, and refused with a message that names the
 * option, the value given and what is allowed.
 */
public final class LossSpec {
    private final Loss loss;
    private final Mode mode;
    private final boolean fromLogits;
    private final Layout layout;
    private final double smooth;
    private final boolean batch;
    private final double alpha;
    private final boolean alphaNone;
    private final double beta;
    private final double gamma;
    private final Integer ignoreIndex;
    private final double[] classWeights;
    private final boolean includeBackground;
    private final double smoothNr;
    private final double smoothDr;
    private final boolean squaredPred;
    private final boolean logLoss;
    private final GdWeight gdWeight;
    private final double lambdaPixel;
    private final double lambdaRegion;
    private final double labelSmoothing;
    private final double[] posWeight;
    /** The builder's options as given (null or false where not given), for {@link #toBuilder()}. */
    private final Double givenSmooth;
    private final Double givenSmoothNr;
    private final Double givenSmoothDr;
    private final Double givenGamma;
    private final GdWeight givenGdWeight;
    private final Double givenLambdaPixel;
    private final Double givenLambdaRegion;
    private final Double givenLabelSmoothing;

    /** Default smoothing (numerator and denominator) of generalized_dice, as MONAI's GeneralizedDiceLoss. */
    public static final double DEFAULT_GENERALIZED_DICE_SMOOTH = 1e-5;
    /** Default smoothing of mcc, as smp's MCCLoss. */
    public static final double DEFAULT_MCC_SMOOTH = 1e-5;
    /** Default gamma of tversky (1: plain Tversky; other values give the focal Tversky loss). */
    public static final double DEFAULT_TVERSKY_GAMMA = 1.0;

    private LossSpec(Builder b) {
        this.loss = b.loss;
        this.mode = b.mode;
        this.fromLogits = b.fromLogits;
        this.layout = b.layout;
        double defaultSmooth = b.loss == Loss.GENERALIZED_DICE ? DEFAULT_GENERALIZED_DICE_SMOOTH
                : b.loss == Loss.MCC ? DEFAULT_MCC_SMOOTH : Constants.DEFAULT_SMOOTH;
        double s = b.smooth != null ? b.smooth : defaultSmooth;
        this.smoothNr = b.smoothNr != null ? b.smoothNr : s;
        this.smoothDr = b.smoothDr != null ? b.smoothDr : s;
        this.smooth = smoothNr == smoothDr ? smoothNr : Double.NaN;
        this.batch = b.batch;
        boolean tversky = b.loss == Loss.TVERSKY;
        this.alphaNone = b.alphaNone;
        this.alpha = b.alpha != null ? b.alpha
                : tversky ? Constants.DEFAULT_TVERSKY_ALPHA : Constants.DEFAULT_FOCAL_ALPHA;
        this.beta = b.beta != null ? b.beta : Constants.DEFAULT_TVERSKY_BETA;
        this.gamma = b.gamma != null ? b.gamma : tversky ? DEFAULT_TVERSKY_GAMMA : Constants.DEFAULT_FOCAL_GAMMA;
        this.ignoreIndex = b.ignoreIndex;
        this.classWeights = b.classWeights == null ? null : b.classWeights.clone();
        this.includeBackground = b.includeBackground;
        this.squaredPred = b.squaredPred;
        this.logLoss = b.logLoss;
        this.gdWeight = b.gdWeight != null ? b.gdWeight : GdWeight.SQUARE;
        this.lambdaPixel = b.lambdaPixel != null ? b.lambdaPixel : 1.0;
        this.lambdaRegion = b.lambdaRegion != null ? b.lambdaRegion : 1.0;
        this.labelSmoothing = b.labelSmoothing != null ? b.labelSmoothing : 0.0;
        this.posWeight = b.posWeight == null ? null : b.posWeight.clone();
        this.givenSmooth = b.smooth;
        this.givenSmoothNr = b.smoothNr;
        this.givenSmoothDr = b.smoothDr;
        this.givenGamma = b.gamma;
        this.givenGdWeight = b.gdWeight;
        this.givenLambdaPixel = b.lambdaPixel;
        this.givenLambdaRegion = b.lambdaRegion;
        this.givenLabelSmoothing = b.labelSmoothing;
    }

    /**
     * A builder for {@code loss} in {@code mode}, every option at its default.
     *
     * @param loss the loss; not null
     * @param mode binary, multilabel or multiclass; the loss must support it (checked by {@link
     *     Builder#build()}); not null
     * @return a new builder
     * @throws InvalidInputException when loss or mode is null
     */
    public static Builder builder(Loss loss, Mode mode) {
        return new Builder(loss, mode);
    }

    /**
     * A spec with every default.
     *
     * @param loss the loss; not null
     * @param mode binary, multilabel or multiclass, one the loss supports; not null
     * @return the spec, from probabilities, nchw
     * @throws InvalidInputException when loss or mode is null, or the loss does not support the mode (lovasz
     *     in binary or multilabel mode also needs logits)
     */
    public static LossSpec of(Loss loss, Mode mode) {
        return builder(loss, mode).build();
    }

    /**
     * The loss.
     *
     * @return the loss, never null
     */
    public Loss loss() {
        return loss;
    }

    /**
     * The mode.
     *
     * @return binary, multilabel or multiclass, never null
     */
    public Mode mode() {
        return mode;
    }

    /**
     * Whether pred holds logits (sigmoid or softmax applied).
     *
     * @return true for logits, false for probabilities in [0, 1] (the default)
     */
    public boolean fromLogits() {
        return fromLogits;
    }

    /**
     * Where the class axis is.
     *
     * @return nchw (class axis second, the default) or nhwc (class axis last), never null
     */
    public Layout layout() {
        return layout;
    }

    /**
     * The region smoothing when the numerator's and the denominator's are equal (always, unless smooth_nr and
     * smooth_dr were given different values); NaN when they differ: read {@link #smoothNr()} and {@link
     * #smoothDr()}. Defaults: 1; generalized_dice 1e-5; mcc 1e-5 (mcc's s).
     *
     * @return the smoothing, >= 0, or NaN
     */
    public double smooth() {
        return smooth;
    }

    /**
     * Smoothing added to the numerator of every region coefficient (= smooth unless smooth_nr was given).
     *
     * @return the numerator's smoothing, >= 0
     */
    public double smoothNr() {
        return smoothNr;
    }

    /**
     * Smoothing added to the denominator of every region coefficient (= smooth unless smooth_dr was given).
     *
     * @return the denominator's smoothing, >= 0
     */
    public double smoothDr() {
        return smoothDr;
    }

    /**
     * True when region denominators use sum p^2 and sum t^2 (V-Net, MONAI squared_pred).
     *
     * @return whether the denominators are squared sums (default false)
     */
    public boolean squaredPred() {
        return squaredPred;
    }

    /**
     * True when each averaged region term is -log(max(coef, eps)) instead of 1 - coef (smp log_loss).
     *
     * @return whether the region term is logarithmic (default false)
     */
    public boolean logLoss() {
        return logLoss;
    }

    /**
     * The class weights of generalized_dice; default {@link GdWeight#SQUARE}.
     *
     * @return the weighting, never null (also for losses other than generalized_dice, where it is not used)
     */
    public GdWeight gdWeight() {
        return gdWeight;
    }

    /**
     * Weight of the pixel part of a combined loss (bce_logdice, ce_logdice, dice_ce, dice_focal); default 1.
     *
     * @return the weight, >= 0
     */
    public double lambdaPixel() {
        return lambdaPixel;
    }

    /**
     * Weight of the region part of a combined loss; default 1.
     *
     * @return the weight, >= 0
     */
    public double lambdaRegion() {
        return lambdaRegion;
    }

    /**
     * Label smoothing e in [0, 1) of the bce / ce terms; default 0.
     *
     * @return e, in [0, 1)
     */
    public double labelSmoothing() {
        return labelSmoothing;
    }

    /**
     * Weight of the positive bce term per class (a copy), or null when every class weighs 1.
     *
     * @return a new array of one weight >= 0 per class, or null
     */
    public double[] posWeight() {
        return posWeight == null ? null : posWeight.clone();
    }

    /**
     * Whether region statistics are summed over the batch before the coefficient.
     *
     * @return true: one coefficient per class over the whole batch; false (the default): one per (sample,
     *     class), then averaged
     */
    public boolean batch() {
        return batch;
    }

    /**
     * Focal alpha (binary/multilabel) or Tversky alpha; NaN when focal balancing is off.
     *
     * @return alpha in [0, 1] (defaults: focal 0.25, tversky 0.5), or NaN
     */
    public double alpha() {
        return alphaNone ? Double.NaN : alpha;
    }

    /**
     * True when focal class balancing is off ({@code alpha = none}).
     *
     * @return whether alpha is none
     */
    public boolean alphaNone() {
        return alphaNone;
    }

    /**
     * Tversky beta (weight of false negatives).
     *
     * @return beta in [0, 1] (default 0.5)
     */
    public double beta() {
        return beta;
    }

    /**
     * Focal gamma (focal, dice_focal; default 2) or Tversky gamma (focal Tversky exponent; default 1).
     *
     * @return gamma: >= 0 for focal and dice_focal, > 0 for tversky
     */
    public double gamma() {
        return gamma;
    }

    /**
     * The ignored class index (multiclass), or null when none.
     *
     * @return the ignored target value, or null when nothing is ignored
     */
    public Integer ignoreIndex() {
        return ignoreIndex;
    }

    /**
     * Class weights (a copy), or null when every class weighs 1.
     *
     * @return a new array of one weight >= 0 per class, or null
     */
    public double[] classWeights() {
        return classWeights == null ? null : classWeights.clone();
    }

    /**
     * Whether class 0 counts in the region terms.
     *
     * @return true (the default) when class 0 is part of the region terms
     */
    public boolean includeBackground() {
        return includeBackground;
    }

    /**
     * A builder holding this spec's options.
     *
     * @return a new builder; options that were not given stay not given, so their defaults follow a change of
     *     loss
     */
    public Builder toBuilder() {
        Builder b = new Builder(loss, mode).fromLogits(fromLogits).layout(layout).batch(batch)
                .beta(beta).includeBackground(includeBackground).squaredPred(squaredPred).logLoss(logLoss);
        b.smooth = givenSmooth;
        b.smoothNr = givenSmoothNr;
        b.smoothDr = givenSmoothDr;
        b.gamma = givenGamma;
        b.gdWeight = givenGdWeight;
        b.lambdaPixel = givenLambdaPixel;
        b.lambdaRegion = givenLambdaRegion;
        b.labelSmoothing = givenLabelSmoothing;
        if (posWeight != null) {
            b.posWeight(posWeight);
        }
        if (alphaNone) {
            b.alphaNone();
        } else {
            b.alpha(alpha);
        }
        if (ignoreIndex != null) {
            b.ignoreIndex(ignoreIndex);
        }
        if (classWeights != null) {
            b.classWeights(classWeights);
        }
        return b;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT,
                "LossSpec{loss=%s, mode=%s, fromLogits=%s, layout=%s, smooth=%s, batch=%s, alpha=%s, beta=%s, gamma=%s, ignoreIndex=%s, classWeights=%s, includeBackground=%s"
                        + ", smoothNr=%s, smoothDr=%s, squaredPred=%s, logLoss=%s, gdWeight=%s, lambdaPixel=%s, lambdaRegion=%s, labelSmoothing=%s, posWeight=%s}",
                loss, mode, fromLogits, layout, smooth, batch, alphaNone ? "none" : alpha, beta, gamma, ignoreIndex,
                Arrays.toString(classWeights), includeBackground, smoothNr, smoothDr, squaredPred, logLoss, gdWeight,
                lambdaPixel, lambdaRegion, labelSmoothing, Arrays.toString(posWeight));
    }

    /** Builder of {@link LossSpec}; {@link #build()} checks every option. */
    public static final class Builder {
        private final Loss loss;
        private final Mode mode;
        private boolean fromLogits;
        private Layout layout = Layout.NCHW;
        private Double smooth;
        private boolean batch;
        private Double alpha;
        private boolean alphaNone;
        private Double beta;
        private Double gamma;
        private Integer ignoreIndex;
        private double[] classWeights;
        private boolean includeBackground = true;
        private Double smoothNr;
        private Double smoothDr;
        private boolean squaredPred;
        private boolean logLoss;
        private GdWeight gdWeight;
        private Double lambdaPixel;
        private Double lambdaRegion;
        private Double labelSmoothing;
        private double[] posWeight;

        private Builder(Loss loss, Mode mode) {
            if (loss == null) {
                throw new InvalidInputException("loss must not be null");
            }
            if (mode == null) {
                throw new InvalidInputException("mode must not be null");
            }
            this.loss = loss;
            this.mode = mode;
        }

        /**
         * Predictions are logits (sigmoid or softmax is applied), not probabilities.
         *
         * @param v true: pred holds logits; false (the default): probabilities in [0, 1]
         * @return this builder
         */
        public Builder fromLogits(boolean v) {
            this.fromLogits = v;
            return this;
        }

        /**
         * Where the class axis is (default nchw).
         *
         * @param v nchw (class axis second) or nhwc (class axis last); not null
         * @return this builder
         * @throws InvalidInputException when v is null
         */
        public Builder layout(Layout v) {
            if (v == null) {
                throw new InvalidInputException("layout must be one of nchw, nhwc, was null");
            }
            this.layout = v;
            return this;
        }

        /**
         * Smoothing of the region coefficients (numerator and denominator), >= 0; default 1 (generalized_dice
         * and mcc: 1e-5). Refused together with {@link #smoothNr} or {@link #smoothDr}.
         *
         * @param v the smoothing, >= 0 and finite (checked by {@link #build()})
         * @return this builder
         */
        public Builder smooth(double v) {
            this.smooth = v;
            return this;
        }

        /**
         * Sum region statistics over the batch before the coefficient (as smp).
         *
         * @param v true: one coefficient per class over the whole batch; false (the default): one per
         *     (sample, class)
         * @return this builder
         */
        public Builder batch(boolean v) {
            this.batch = v;
            return this;
        }

        /**
         * Focal alpha (default 0.25) or Tversky alpha (default 0.5), in [0, 1].
         *
         * @param v alpha in [0, 1] (checked by {@link #build()}); for focal the weight of the positive term
         * @return this builder
         */
        public Builder alpha(double v) {
            this.alpha = v;
            this.alphaNone = false;
            return this;
        }

        /**
         * Focal without class balancing: both terms weigh 1.
         *
         * @return this builder
         */
        public Builder alphaNone() {
            this.alpha = null;
            this.alphaNone = true;
            return this;
        }

        /**
         * Tversky beta in [0, 1], default 0.5.
         *
         * @param v beta in [0, 1] (checked by {@link #build()})
         * @return this builder
         */
        public Builder beta(double v) {
            this.beta = v;
            return this;
        }

        /**
         * Focal gamma >= 0 (focal, dice_focal; default 2), or the Tversky exponent > 0 (tversky; default 1:
         * the loss is (1 - mean TI)^gamma, smp's focal Tversky).
         *
         * @param v gamma, finite: >= 0 for focal and dice_focal, > 0 for tversky; refused for other losses
         *     (checked by {@link #build()})
         * @return this builder
         */
        public Builder gamma(double v) {
            this.gamma = v;
            return this;
        }

        /**
         * Pixels (multiclass) or target elements (binary, multilabel) with this value are left out of every
         * sum and count.
         *
         * @param v the ignored target value, any int (e.g. 255 or -100)
         * @return this builder
         */
        public Builder ignoreIndex(int v) {
            this.ignoreIndex = v;
            return this;
        }

        /**
         * One weight per class, >= 0, not all 0.
         *
         * @param v one finite weight >= 0 per class, not all 0 (checked by {@link #build()} and against C
         *     when the loss runs); null: every class weighs 1
         * @return this builder
         */
        public Builder classWeights(double... v) {
            this.classWeights = v == null ? null : v.clone();
            return this;
        }

        /**
         * With false, class 0 gets weight 0 in region terms (pixel terms keep it).
         *
         * @param v false to leave class 0 out of the region terms (default true)
         * @return this builder
         */
        public Builder includeBackground(boolean v) {
            this.includeBackground = v;
            return this;
        }

        /**
         * Smoothing of every region numerator, >= 0 (MONAI smooth_nr); not for mcc, not with {@link #smooth}.
         *
         * @param v the numerator's smoothing, >= 0 and finite (checked by {@link #build()})
         * @return this builder
         */
        public Builder smoothNr(double v) {
            this.smoothNr = v;
            return this;
        }

        /**
         * Smoothing of every region denominator, >= 0 (MONAI smooth_dr); not for mcc, not with {@link
         * #smooth}.
         *
         * @param v the denominator's smoothing, >= 0 and finite (checked by {@link #build()})
         * @return this builder
         */
        public Builder smoothDr(double v) {
            this.smoothDr = v;
            return this;
        }

        /**
         * Region denominators use sum p^2 and sum t^2 (dice, iou, generalized_dice and the Dice
         * combinations).
         *
         * @param v true for squared sums (default false); refused by {@link #build()} for other losses
         * @return this builder
         */
        public Builder squaredPred(boolean v) {
            this.squaredPred = v;
            return this;
        }

        /**
         * Each averaged region term is -log(max(coef, eps)) instead of 1 - coef (dice, iou, tversky).
         *
         * @param v true for the logarithmic region term (default false); refused by {@link #build()} for
         *     other losses
         * @return this builder
         */
        public Builder logLoss(boolean v) {
            this.logLoss = v;
            return this;
        }

        /**
         * Class weights of generalized_dice from the target sums: square (default), simple or uniform.
         *
         * @param v the weighting; not null; refused by {@link #build()} for losses other than
         *     generalized_dice
         * @return this builder
         * @throws InvalidInputException when v is null
         */
        public Builder gdWeight(GdWeight v) {
            if (v == null) {
                throw new InvalidInputException("gd_weight must be one of square, simple, uniform, was null");
            }
            this.gdWeight = v;
            return this;
        }

        /**
         * Weight of the pixel part of bce_logdice, ce_logdice, dice_ce, dice_focal; >= 0, default 1.
         *
         * @param v the weight, >= 0 and finite; not 0 together with lambdaRegion (checked by {@link
         *     #build()})
         * @return this builder
         */
        public Builder lambdaPixel(double v) {
            this.lambdaPixel = v;
            return this;
        }

        /**
         * Weight of the region part of bce_logdice, ce_logdice, dice_ce, dice_focal; >= 0, default 1.
         *
         * @param v the weight, >= 0 and finite; not 0 together with lambdaPixel (checked by {@link #build()})
         * @return this builder
         */
        public Builder lambdaRegion(double v) {
            this.lambdaRegion = v;
            return this;
        }

        /**
         * Label smoothing e in [0, 1) of bce and ce (and their parts of the combined losses); default 0.
         *
         * @param v e in [0, 1) (checked by {@link #build()}): targets become t (1 - e) + e / 2 (bce) or
         *     (1 - e) onehot + e / C (ce)
         * @return this builder
         */
        public Builder labelSmoothing(double v) {
            this.labelSmoothing = v;
            return this;
        }

        /**
         * Weight of the positive bce term, one per class, >= 0 (PyTorch BCEWithLogitsLoss pos_weight).
         *
         * @param v one finite weight >= 0 per class (checked by {@link #build()} and against C when the loss
         *     runs); null: every class weighs 1
         * @return this builder
         */
        public Builder posWeight(double... v) {
            this.posWeight = v == null ? null : v.clone();
            return this;
        }

        /**
         * Checks every option and builds the spec; a bad option is an {@link InvalidInputException}.
         *
         * @return the immutable spec, defaults filled in
         * @throws InvalidInputException when an option is out of range, does not apply to the loss, or the
         *     loss does not support the mode; the message names the option and the value
         */
        public LossSpec build() {
            if (!loss.supports(mode)) {
                String allowed = mode == Mode.MULTICLASS ? "binary or multilabel" : "multiclass";
                throw new InvalidInputException("loss " + loss + " needs mode " + allowed + ", was " + mode);
            }
            if (smooth != null && (!(smooth >= 0) || Double.isInfinite(smooth))) {
                throw new InvalidInputException("smooth must be >= 0 and finite, was " + smooth);
            }
            if (gamma != null) {
                appliesTo("gamma", gamma, Loss.FOCAL, Loss.DICE_FOCAL, Loss.TVERSKY);
                if (loss == Loss.TVERSKY && (!(gamma > 0) || Double.isInfinite(gamma))) {
                    throw new InvalidInputException("gamma must be > 0 and finite for tversky, was " + gamma);
                }
                if (!(gamma >= 0) || Double.isInfinite(gamma)) {
                    throw new InvalidInputException("gamma must be >= 0 and finite, was " + gamma);
                }
            }
            checkCatalogueOptions();
            if (alphaNone && loss == Loss.TVERSKY) {
                throw new InvalidInputException("alpha none applies to focal only; tversky needs alpha in [0, 1], was none");
            }
            if (alpha != null && !(alpha >= 0 && alpha <= 1)) {
                throw new InvalidInputException("alpha must be in [0, 1], was " + alpha);
            }
            if (beta != null && !(beta >= 0 && beta <= 1)) {
                throw new InvalidInputException("beta must be in [0, 1], was " + beta);
            }
            if (classWeights != null) {
                if (classWeights.length == 0) {
                    throw new InvalidInputException("class_weights must have one weight per class, was empty");
                }
                double sum = 0;
                for (int i = 0; i < classWeights.length; i++) {
                    double w = classWeights[i];
                    if (!(w >= 0) || Double.isInfinite(w)) {
                        throw new InvalidInputException("class_weights[" + i + "] must be >= 0 and finite, was " + w);
                    }
                    sum += w;
                }
                if (sum == 0) {
                    throw new InvalidInputException("class_weights must not be all 0, was " + Arrays.toString(classWeights));
                }
            }
            if (loss == Loss.LOVASZ) {
                refuseForLovasz();
            }
            return new LossSpec(this);
        }

        /** Lovasz: the hinge form needs logits; options of the other losses do not apply. */
        private void refuseForLovasz() {
            if (mode != Mode.MULTICLASS && !fromLogits) {
                throw new InvalidInputException("lovasz in " + mode + " mode is the Lovasz hinge of logits: from_logits must"
                        + " be true, was false");
            }
            if (classWeights != null) {
                throw new InvalidInputException("class_weights do not apply to lovasz, were " + Arrays.toString(classWeights));
            }
            if (!includeBackground) {
                throw new InvalidInputException("include_background = false does not apply to lovasz");
            }
        }

        /** The checks of the options added with the MONAI / smp catalogue (spec: "More region losses and options"). */
        private void checkCatalogueOptions() {
            checkSmoothing("smooth_nr", smoothNr);
            checkSmoothing("smooth_dr", smoothDr);
            if (squaredPred) {
                appliesTo("squared_pred", true, Loss.DICE, Loss.IOU, Loss.GENERALIZED_DICE, Loss.BCE_LOGDICE,
                        Loss.CE_LOGDICE, Loss.DICE_CE, Loss.DICE_FOCAL);
            }
            if (logLoss) {
                appliesTo("log_loss", true, Loss.DICE, Loss.IOU, Loss.TVERSKY);
            }
            if (gdWeight != null) {
                appliesTo("gd_weight", gdWeight, Loss.GENERALIZED_DICE);
            }
            if (classWeights != null && loss == Loss.GENERALIZED_DICE) {
                throw new InvalidInputException("class_weights do not apply to generalized_dice (its class weights come"
                        + " from gd_weight), was " + Arrays.toString(classWeights));
            }
            checkLambda("lambda_pixel", lambdaPixel);
            checkLambda("lambda_region", lambdaRegion);
            double lp = lambdaPixel != null ? lambdaPixel : 1.0;
            double lr = lambdaRegion != null ? lambdaRegion : 1.0;
            if (lp == 0 && lr == 0) {
                throw new InvalidInputException("lambda_pixel and lambda_region must not both be 0, was " + lp + " and " + lr);
            }
            if (labelSmoothing != null) {
                if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
                    throw new InvalidInputException("label_smoothing must be in [0, 1), was " + labelSmoothing);
                }
                appliesTo("label_smoothing", labelSmoothing, Loss.BCE, Loss.CE, Loss.BCE_LOGDICE, Loss.CE_LOGDICE,
                        Loss.DICE_CE);
            }
            if (posWeight != null) {
                if (posWeight.length == 0) {
                    throw new InvalidInputException("pos_weight must have one weight per class, was empty");
                }
                for (int i = 0; i < posWeight.length; i++) {
                    double w = posWeight[i];
                    if (!(w >= 0) || Double.isInfinite(w)) {
                        throw new InvalidInputException("pos_weight[" + i + "] must be >= 0 and finite, was " + w);
                    }
                }
                appliesTo("pos_weight", Arrays.toString(posWeight), Loss.BCE, Loss.BCE_LOGDICE, Loss.DICE_CE);
                if (mode == Mode.MULTICLASS) {
                    throw new InvalidInputException("pos_weight applies to the bce term of binary and multilabel mode, was "
                            + Arrays.toString(posWeight) + " in multiclass mode");
                }
            }
        }

        /** smooth_nr or smooth_dr, when given: not with smooth, >= 0 and finite, not for mcc, for region losses only. */
        private void checkSmoothing(String name, Double v) {
            if (v == null) {
                return;
            }
            if (smooth != null) {
                throw new InvalidInputException("smooth and " + name + " must not be given together (smooth sets both"
                        + " smooth_nr and smooth_dr), was smooth " + smooth + " and " + name + " " + v);
            }
            if (!(v >= 0) || Double.isInfinite(v)) {
                throw new InvalidInputException(name + " must be >= 0 and finite, was " + v);
            }
            if (loss == Loss.MCC) {
                throw new InvalidInputException(name + " does not apply to mcc (its smoothing is smooth), was " + v);
            }
            appliesTo(name, v, Loss.DICE, Loss.IOU, Loss.TVERSKY, Loss.GENERALIZED_DICE, Loss.BCE_LOGDICE,
                    Loss.CE_LOGDICE, Loss.DICE_CE, Loss.DICE_FOCAL);
        }

        /** lambda_pixel or lambda_region, when given: >= 0 and finite, for the combined losses only. */
        private void checkLambda(String name, Double v) {
            if (v == null) {
                return;
            }
            if (!(v >= 0) || Double.isInfinite(v)) {
                throw new InvalidInputException(name + " must be >= 0 and finite, was " + v);
            }
            appliesTo(name, v, Loss.BCE_LOGDICE, Loss.CE_LOGDICE, Loss.DICE_CE, Loss.DICE_FOCAL);
        }

        /** Refuses option {@code name} (given as {@code value}) unless this spec's loss is one of {@code losses}. */
        private void appliesTo(String name, Object value, Loss... losses) {
            for (Loss l : losses) {
                if (l == loss) {
                    return;
                }
            }
            StringBuilder allowed = new StringBuilder();
            for (Loss l : losses) {
                allowed.append(allowed.length() == 0 ? "" : ", ").append(l.id());
            }
            throw new InvalidInputException(name + " applies to " + allowed + " only, was " + value + " for " + loss);
        }
    }
}
