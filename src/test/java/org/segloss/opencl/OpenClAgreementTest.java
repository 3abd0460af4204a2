package org.segloss.opencl;

import org.segloss.BackendAgreementTest;
import org.segloss.Mode;
import org.segloss.backend.opencl.OpenClBackend;

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

    /** Multiclass cases with more classes than the kernels hold are refused with the backend's limit. */
    @Override
    protected String documentedLimit(Case k) {
        if (k.mode() == Mode.MULTICLASS && k.channels() > OpenClBackend.MAX_MULTICLASS_CLASSES) {
            return OpenClBackend.tooManyClasses(k.channels());
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
