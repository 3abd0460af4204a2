package org.segloss;

import org.segloss.internal.Constants;

/**
 * What {@link LossEngine#confusion(ConfusionSpec, DeviceBuffer, long[], DeviceBuffer)} counts: the
 * mode, whether pred holds logits, the layout, the ignored class and the threshold. Immutable;
 * build with {@link #builder(Mode)}. Every option is checked when the spec is built.
 *
 * <pre>{@code
 * ConfusionSpec spec = ConfusionSpec.builder(Mode.MULTICLASS).fromLogits(true).ignoreIndex(255).build();
 * ConfusionCounts k = engine.confusion(spec, logits, new long[] {n, c, h, w}, labels);
 * }</pre>
 */
public final class ConfusionSpec {
    private final Mode mode;
    private final boolean fromLogits;
    private final Layout layout;
    private final Integer ignoreIndex;
    private final double threshold;

    private ConfusionSpec(Builder b) {
        this.mode = b.mode;
        this.fromLogits = b.fromLogits;
        this.layout = b.layout;
        this.ignoreIndex = b.ignoreIndex;
        this.threshold = b.threshold;
    }

    /**
     * A builder with the defaults: probabilities, layout nchw, no ignored class, threshold 0.5.
     *
     * @param mode binary, multilabel or multiclass
     * @return a new builder
     */
    public static Builder builder(Mode mode) {
        return new Builder(mode);
    }

    /**
     * A spec with every default.
     *
     * @param mode binary, multilabel or multiclass
     * @return the spec
     */
    public static ConfusionSpec of(Mode mode) {
        return builder(mode).build();
    }

    /** @return the mode */
    public Mode mode() {
        return mode;
    }

    /** @return whether pred holds logits (sigmoid or softmax applied before counting) */
    public boolean fromLogits() {
        return fromLogits;
    }

    /** @return where the class axis is */
    public Layout layout() {
        return layout;
    }

    /** @return the class whose pixels are left out (multiclass), or null */
    public Integer ignoreIndex() {
        return ignoreIndex;
    }

    /** @return the probability at and above which a binary/multilabel pixel is positive */
    public double threshold() {
        return threshold;
    }

    /** The options the counts take; {@link #build()} checks them. */
    public static final class Builder {
        private final Mode mode;
        private boolean fromLogits;
        private Layout layout = Layout.NCHW;
        private Integer ignoreIndex;
        private double threshold = Constants.DEFAULT_THRESHOLD;

        private Builder(Mode mode) {
            this.mode = mode;
        }

        /**
         * @param v true when pred holds logits
         * @return this builder
         */
        public Builder fromLogits(boolean v) {
            this.fromLogits = v;
            return this;
        }

        /**
         * @param v where the class axis is
         * @return this builder
         */
        public Builder layout(Layout v) {
            this.layout = v;
            return this;
        }

        /**
         * @param v the class whose pixels are left out (multiclass only), or null for none
         * @return this builder
         */
        public Builder ignoreIndex(Integer v) {
            this.ignoreIndex = v;
            return this;
        }

        /**
         * @param v positive where p &gt;= v (from logits: x &gt;= logit(v)); in [0, 1]
         * @return this builder
         */
        public Builder threshold(double v) {
            this.threshold = v;
            return this;
        }

        /**
         * Checks the options and builds the spec.
         *
         * @return the spec
         * @throws InvalidInputException naming the option, the value and what is allowed
         */
        public ConfusionSpec build() {
            if (mode == null) {
                throw new InvalidInputException("mode must not be null");
            }
            if (layout == null) {
                throw new InvalidInputException("layout must be one of nchw, nhwc, was null");
            }
            if (!(threshold >= 0 && threshold <= 1)) {
                throw new InvalidInputException("threshold must be in [0, 1], was " + threshold);
            }
            if (ignoreIndex != null && mode != Mode.MULTICLASS) {
                throw new InvalidInputException("ignore_index applies to multiclass mode only, was " + ignoreIndex
                        + " in " + mode + " mode");
            }
            return new ConfusionSpec(this);
        }
    }
}
