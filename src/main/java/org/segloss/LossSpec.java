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

    private LossSpec(Builder b) {
        this.loss = b.loss;
        this.mode = b.mode;
        this.fromLogits = b.fromLogits;
        this.layout = b.layout;
        this.smooth = b.smooth;
        this.batch = b.batch;
        boolean tversky = b.loss == Loss.TVERSKY;
        this.alphaNone = b.alphaNone;
        this.alpha = b.alpha != null ? b.alpha
                : tversky ? Constants.DEFAULT_TVERSKY_ALPHA : Constants.DEFAULT_FOCAL_ALPHA;
        this.beta = b.beta != null ? b.beta : Constants.DEFAULT_TVERSKY_BETA;
        this.gamma = b.gamma;
        this.ignoreIndex = b.ignoreIndex;
        this.classWeights = b.classWeights == null ? null : b.classWeights.clone();
        this.includeBackground = b.includeBackground;
    }

    /** A builder for {@code loss} in {@code mode}, every option at its default. */
    public static Builder builder(Loss loss, Mode mode) {
        return new Builder(loss, mode);
    }

    /** A spec with every default. */
    public static LossSpec of(Loss loss, Mode mode) {
        return builder(loss, mode).build();
    }

    /** The loss. */
    public Loss loss() {
        return loss;
    }

    /** The mode. */
    public Mode mode() {
        return mode;
    }

    /** Whether pred holds logits (sigmoid or softmax applied). */
    public boolean fromLogits() {
        return fromLogits;
    }

    /** Where the class axis is. */
    public Layout layout() {
        return layout;
    }

    /** Smoothing of dice, iou and tversky. */
    public double smooth() {
        return smooth;
    }

    /** Whether region statistics are summed over the batch before the coefficient. */
    public boolean batch() {
        return batch;
    }

    /** Focal alpha (binary/multilabel) or Tversky alpha; NaN when focal balancing is off. */
    public double alpha() {
        return alphaNone ? Double.NaN : alpha;
    }

    /** True when focal class balancing is off ({@code alpha = none}). */
    public boolean alphaNone() {
        return alphaNone;
    }

    /** Tversky beta (weight of false negatives). */
    public double beta() {
        return beta;
    }

    /** Focal gamma. */
    public double gamma() {
        return gamma;
    }

    /** The ignored class index (multiclass), or null when none. */
    public Integer ignoreIndex() {
        return ignoreIndex;
    }

    /** Class weights (a copy), or null when every class weighs 1. */
    public double[] classWeights() {
        return classWeights == null ? null : classWeights.clone();
    }

    /** Whether class 0 counts in the region terms. */
    public boolean includeBackground() {
        return includeBackground;
    }

    /** A builder holding this spec's options. */
    public Builder toBuilder() {
        Builder b = new Builder(loss, mode).fromLogits(fromLogits).layout(layout).smooth(smooth).batch(batch)
                .beta(beta).gamma(gamma).includeBackground(includeBackground);
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
                "LossSpec{loss=%s, mode=%s, fromLogits=%s, layout=%s, smooth=%s, batch=%s, alpha=%s, beta=%s, gamma=%s, ignoreIndex=%s, classWeights=%s, includeBackground=%s}",
                loss, mode, fromLogits, layout, smooth, batch, alphaNone ? "none" : alpha, beta, gamma, ignoreIndex,
                Arrays.toString(classWeights), includeBackground);
    }

    /** Builder of {@link LossSpec}; {@link #build()} checks every option. */
    public static final class Builder {
        private final Loss loss;
        private final Mode mode;
        private boolean fromLogits;
        private Layout layout = Layout.NCHW;
        private double smooth = Constants.DEFAULT_SMOOTH;
        private boolean batch;
        private Double alpha;
        private boolean alphaNone;
        private Double beta;
        private double gamma = Constants.DEFAULT_FOCAL_GAMMA;
        private Integer ignoreIndex;
        private double[] classWeights;
        private boolean includeBackground = true;

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

        /** Predictions are logits (sigmoid or softmax is applied), not probabilities. */
        public Builder fromLogits(boolean v) {
            this.fromLogits = v;
            return this;
        }

        /** Where the class axis is (default nchw). */
        public Builder layout(Layout v) {
            if (v == null) {
                throw new InvalidInputException("layout must be one of nchw, nhwc, was null");
            }
            this.layout = v;
            return this;
        }

        /** Smoothing of Dice, IoU and Tversky (numerator and denominator), >= 0; default 1. */
        public Builder smooth(double v) {
            this.smooth = v;
            return this;
        }

        /** Sum region statistics over the batch before the coefficient (as smp). */
        public Builder batch(boolean v) {
            this.batch = v;
            return this;
        }

        /** Focal alpha (default 0.25) or Tversky alpha (default 0.5), in [0, 1]. */
        public Builder alpha(double v) {
            this.alpha = v;
            this.alphaNone = false;
            return this;
        }

        /** Focal without class balancing: both terms weigh 1. */
        public Builder alphaNone() {
            this.alpha = null;
            this.alphaNone = true;
            return this;
        }

        /** Tversky beta in [0, 1], default 0.5. */
        public Builder beta(double v) {
            this.beta = v;
            return this;
        }

        /** Focal gamma >= 0, default 2. */
        public Builder gamma(double v) {
            this.gamma = v;
            return this;
        }

        /** Multiclass pixels with this target value are left out of every sum and count. */
        public Builder ignoreIndex(int v) {
            this.ignoreIndex = v;
            return this;
        }

        /** One weight per class, >= 0, not all 0. */
        public Builder classWeights(double... v) {
            this.classWeights = v == null ? null : v.clone();
            return this;
        }

        /** With false, class 0 gets weight 0 in region terms (pixel terms keep it). */
        public Builder includeBackground(boolean v) {
            this.includeBackground = v;
            return this;
        }

        /** Checks every option and builds the spec; a bad option is an {@link InvalidInputException}. */
        public LossSpec build() {
            if (!loss.supports(mode)) {
                String allowed = mode == Mode.MULTICLASS ? "binary or multilabel" : "multiclass";
                throw new InvalidInputException("loss " + loss + " needs mode " + allowed + ", was " + mode);
            }
            if (!(smooth >= 0) || Double.isInfinite(smooth)) {
                throw new InvalidInputException("smooth must be >= 0 and finite, was " + smooth);
            }
            if (!(gamma >= 0) || Double.isInfinite(gamma)) {
                throw new InvalidInputException("gamma must be >= 0 and finite, was " + gamma);
            }
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
            return new LossSpec(this);
        }
    }
}
