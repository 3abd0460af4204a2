package org.segloss.opencl;

import org.segloss.BackendAgreementTest;
import org.segloss.Mode;

/** The OpenCL kernels (PoCL in CI) agree with the scalar CPU reference over the table of {@link BackendAgreementTest}. */
class OpenClAgreementTest extends BackendAgreementTest {
    /**
     * Value: relative 1e-5 of the reference (no floor). Gradient, element-wise: 1e-5 (|cpu| + max|cpu| / 10). The
     * floor (1e-6 of the largest entry) is for entries where the region terms nearly cancel: their coefficients
     * come from float partial sums whose ~1e-7 relative rounding is then all that is left. These are the bounds the
     * OpenCL comparison has always been held to; they are tighter than the CUDA ones, which were set for a real GPU
     * this project cannot run here, so the two backends keep their own.
     */
    private static final Tolerances OPENCL = new Tolerances(1e-5, 1e-30, 1e-5, 1e-6, 0);

    /**
     * The multiclass kernels keep NUM_CLASSES per-work-item arrays (stats.cl, confusion.cl); 70000 classes overflow
     * PoCL's work-item stack and the JVM dies with a segmentation fault, where the backend should refuse or take
     * another path. The largest class count the table runs on OpenCL is 1000, which passes.
     */
    private static final int MOST_CLASSES_RUN = 1000;

    @Override
    protected String knownGap(Case k) {
        if (k.mode() == Mode.MULTICLASS && k.channels() > MOST_CLASSES_RUN) {
            return "known gap: the OpenCL multiclass kernels crash (segmentation fault on PoCL) with " + k.channels()
                    + " classes; the table runs them with at most " + MOST_CLASSES_RUN;
        }
        return null;
    }

    @Override
    protected String backendName() {
        return "opencl";
    }

    @Override
    protected Tolerances tolerances() {
        return OPENCL;
    }
}
