package org.segloss.cuda;

import org.segloss.BackendAgreementTest;

/**
 * The CUDA kernels agree with the scalar CPU reference over the table of {@link BackendAgreementTest}. Skips
 * with the probe's reason without a usable CUDA device (fails under {@code SEGLOSS_REQUIRE_CUDA=1}).
 */
class CudaAgreementTest extends BackendAgreementTest {
    /**
     * Value: 2e-5 of max(|cpu|, 1), relative for values above 1 and absolute below. Gradient, element-wise:
     * 1e-4 of the largest |cpu| entry of the case plus 1e-9, one bound for every element because the GPU's
     * float partial sums are combined in a different order than the reference's. These are the bounds the CUDA
     * comparison has always been held to; they are looser than the OpenCL ones, and whether a real GPU passes the
     * tighter OpenCL bounds cannot be checked here (the emulated driver runs the kernels on the host CPU), so the
     * two backends keep their own.
     */
    private static final Tolerances CUDA = new Tolerances(2e-5, 1, 0, 1e-4, 1e-9);

    @Override
    protected String backendName() {
        return "cuda";
    }

    @Override
    protected Tolerances tolerances() {
        return CUDA;
    }
}
