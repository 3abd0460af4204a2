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

    /** The mean-reduced loss. */
    public double value() {
        return value;
    }

    /** The spec it ran with, defaults included. */
    public LossSpec spec() {
        return spec;
    }

    /** The loss computed. */
    public Loss loss() {
        return spec.loss();
    }

    /** The mode it ran in. */
    public Mode mode() {
        return spec.mode();
    }

    /** Backend that computed it ({@code cpu}, {@code opencl}, {@code cuda}). */
    public String backend() {
        return backend;
    }

    /** The device that computed it. */
    public String device() {
        return device;
    }

    /** Batch size N. */
    public long batchSize() {
        return n;
    }

    /** Number of classes C. */
    public int classes() {
        return c;
    }

    /** The pixel part (bce, focal, ce; 0 when the loss has none). */
    public double pixelLoss() {
        return pixelLoss;
    }

    /** The region part (1 - mean coefficient, or -log(max(mean Dice, eps)) for the log-Dice losses; 0 when none). */
    public double regionLoss() {
        return regionLoss;
    }

    /** Weighted mean region coefficient (Dice, IoU or Tversky index); NaN when the loss has no region term. */
    public double meanCoefficient() {
        return meanCoefficient;
    }

    /**
     * Region coefficient per (sample, class), index {@code n * C + c}; per class with {@code batch}.
     * Empty when the loss has no region term.
     */
    public double[] coefficients() {
        return coefficients == null ? new double[0] : coefficients.clone();
    }

    /** Summed pixel term per (sample, class), index {@code n * C + c}; empty when the loss has no pixel term. */
    public double[] pixelTermSums() {
        return pixelTermSums == null ? new double[0] : pixelTermSums.clone();
    }

    /** Mean region coefficient of each class over the batch; empty when the loss has no region term. */
    public double[] perClassCoefficient() {
        return perClassCoefficient == null ? new double[0] : perClassCoefficient.clone();
    }

    /** Mean pixel term of each class (NaN where the class has no element); empty when the loss has no pixel term. */
    public double[] perClassPixelLoss() {
        return perClassPixelLoss == null ? new double[0] : perClassPixelLoss.clone();
    }

    @Override
    public String toString() {
        return spec.loss() + "=" + value + " (" + backend + ")";
    }
}
