package org.segloss.internal;

/**
 * Every clamp and epsilon of the contract, defined once. Kernels receive them as {@code -D}
 * defines (see {@link org.segloss.backend.Problem#defines()}), so no literal is repeated in a kernel.
 */
public final class Constants {
    private Constants() {
    }

    /** Probability clamp for log in bce, focal and ce: p is clamped to [EPS, 1 - EPS]. */
    public static final double PROB_CLAMP_EPS = 1e-7;

    /** Floor of mean Dice inside the log of bce_logdice / ce_logdice: -log(max(mean D, eps)). */
    public static final double LOG_DICE_FLOOR = 1e-7;

    /** Default smoothing of Dice, IoU and Tversky. */
    public static final double DEFAULT_SMOOTH = 1.0;

    /** Default focal alpha (binary/multilabel). */
    public static final double DEFAULT_FOCAL_ALPHA = 0.25;

    /** Default focal gamma. */
    public static final double DEFAULT_FOCAL_GAMMA = 2.0;

    /** Default Tversky alpha and beta. */
    public static final double DEFAULT_TVERSKY_ALPHA = 0.5;
    public static final double DEFAULT_TVERSKY_BETA = 0.5;

    /** Default threshold of hard binary metrics. */
    public static final double DEFAULT_THRESHOLD = 0.5;
}
