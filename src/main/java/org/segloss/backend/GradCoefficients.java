package org.segloss.backend;

/**
 * Per-class and per-row coefficients that the grad pass applies; computed by the shared host
 * finalize code so that backends cannot drift apart.
 *
 * <p>With {@code g = dL/dp} per element and row = {@code n * C + c}:
 * <ul>
 * <li>binary/multilabel: {@code g = pixelScale[c] * dterm/dp + t * regionA[row] + regionB[row]};
 *     from logits the kernel returns {@code dL/dx = pixelScale[c] * dterm/dx + (t * regionA + regionB) * p (1 - p)}
 *     (the pixel part differentiated w.r.t. x directly, e.g. {@code p - t} for bce);</li>
 * <li>multiclass: {@code r_c = t_c * regionA[row] + regionB[row]}; from logits
 *     {@code dL/dx_c = pixelScale[y] * dterm/dx_c + p_c (r_c - sum_k p_k r_k)}; from probabilities
 *     {@code dL/dp_c = pixelScale[y] * dterm/dp_c + r_c}; ignored pixels get 0.</li>
 * </ul>
 * Arrays are float because kernels compute in float; they are never null (zeros when unused).
 */
public final class GradCoefficients {
    /** Per-row factor of the pixel term's derivative. */
    public final float[] pixelScale;
    /** Per-row coefficient A of the region term's derivative (see the class comment). */
    public final float[] regionA;
    /** Per-row coefficient B of the region term's derivative (see the class comment). */
    public final float[] regionB;

    /** The per-row coefficients the grad pass reads. */
    public GradCoefficients(float[] pixelScale, float[] regionA, float[] regionB) {
        this.pixelScale = pixelScale;
        this.regionA = regionA;
        this.regionB = regionB;
    }
}
