package org.segloss.cuda;

import org.segloss.LossEngine;
import org.segloss.LovaszContractTest;
import org.segloss.TestBackends;

/**
 * The Lovasz contract on the CUDA backend. Skips with the probe's reason where there is no usable CUDA
 * device; fails instead when {@code SEGLOSS_REQUIRE_CUDA=1} (ci/gpu-check.sh sets it).
 */
class CudaLovaszContractTest extends LovaszContractTest {
    @Override
    protected LossEngine createEngine() {
        return TestBackends.openOrSkip("cuda");
    }
}
