package org.segloss;

/**
 * The outcome of a forward pass: the mean-reduced loss and its parts. Arrays are copies.
 */
public final class LossResult {
    private final LossSpec spec;
    private final String backend;
    private final String device;
    private final long n;
    private final int c;
    private final double value;
    private final double pixelLoss;
    private final double regionLoss;
    private final double meanCoefficient;
    private final double[] coefficients;
    private final double[] pixelTermSums;
    private final double[] perClassCoefficient;
    private final double[] perClassPixelLoss;

    LossResult(LossSpec spec, String backend, String device, long n, int c, double value, double pixelLoss,
               double regionLoss, double meanCoefficient, double[] coefficients, double[] pixelTermSums,
               double[] perClassCoefficient, double[] perClassPixelLoss) {
        this.spec = spec;
        this.backend = backend;
        this.device = device;
        this.n = n;
        this.c = c;
        this.value = value;
        this.pixelLoss = pixelLoss;
        this.regionLoss = regionLoss;
        this.meanCoefficient = meanCoefficient;
        this.coefficients = coefficients;
        this.pixelTermSums = pixelTermSums;
        this.perClassCoefficient = perClassCoefficient;
        this.perClassPixelLoss = perClassPixelLoss;
    }

    /**
     * The mean-reduced loss.
     *
     * @return the loss over the whole batch (finite for accepted inputs), the value a training loop minimises
     */
    public double value() {
        return value;
    }

    /**
     * The spec it ran with, defaults included.
     *
     * @return the spec as built, with every default filled in
     */
    public LossSpec spec() {
        return spec;
    }

    /**
     * The loss computed.
     *
     * @return the spec's loss
     */
    public Loss loss() {
        return spec.loss();
    }

    /**
     * The mode it ran in.
     *
     * @return the spec's mode: binary, multilabel or multiclass
     */
    public Mode mode() {
        return spec.mode();
    }

    /**
     * Backend that computed it ({@code cpu}, {@code opencl}, {@code cuda}).
     *
     * @return {@code cpu}, {@code opencl} or {@code cuda}
     */
    public String backend() {
        return backend;
    }

    /**
     * The device that computed it.
     *
     * @return a one-line description of the device, as {@link LossEngine#device()}
     */
    public String device() {
        return device;
    }

    /**
     * Batch size N.
     *
     * @return N, the first dimension of pred's shape, >= 1
     */
    public long batchSize() {
        return n;
    }

    /**
     * Number of classes C.
     *
     * @return C, pred's class (channel) dimension, >= 1
     */
    public int classes() {
        return c;
    }

    /**
     * The pixel part (bce, focal, ce; 0 when the loss has none).
     *
     * @return the mean pixel term, >= 0 (before its weight in a combined loss)
     */
    public double pixelLoss() {
        return pixelLoss;
    }

    /**
     * The region part (1 - mean coefficient, or -log(max(mean Dice, eps)) for the log-Dice losses; 0 when
     * none).
     *
     * @return the region term, >= 0 (before its weight in a combined loss)
     */
    public double regionLoss() {
        return regionLoss;
    }

    /**
     * Weighted mean region coefficient (Dice, IoU or Tversky index); NaN when the loss has no region term.
     *
     * @return a value in [0, 1], or NaN
     */
    public double meanCoefficient() {
        return meanCoefficient;
    }

    /**
     * Region coefficient per (sample, class), index {@code n * C + c}; per class with {@code batch}. Empty
     * when the loss has no region term.
     *
     * @return a new array of N * C values in [0, 1] (C values when the spec sums over the batch), or of length 0
     */
    public double[] coefficients() {
        return coefficients == null ? new double[0] : coefficients.clone();
    }

    /**
     * Summed pixel term per (sample, class), index {@code n * C + c}; empty when the loss has no pixel term.
     *
     * @return a new array of N * C sums, each >= 0, or of length 0
     */
    public double[] pixelTermSums() {
        return pixelTermSums == null ? new double[0] : pixelTermSums.clone();
    }

    /**
     * Mean region coefficient of each class over the batch; empty when the loss has no region term.
     *
     * @return a new array of C values in [0, 1], or of length 0
     */
    public double[] perClassCoefficient() {
        return perClassCoefficient == null ? new double[0] : perClassCoefficient.clone();
    }

    /**
     * Mean pixel term of each class (NaN where the class has no element); empty when the loss has no pixel
     * term.
     *
     * @return a new array of C values, each >= 0 or NaN, or of length 0
     */
    public double[] perClassPixelLoss() {
        return perClassPixelLoss == null ? new double[0] : perClassPixelLoss.clone();
    }

    @Override
    public String toString() {
        return spec.loss() + "=" + value + " (" + backend + ")";
    }
}
