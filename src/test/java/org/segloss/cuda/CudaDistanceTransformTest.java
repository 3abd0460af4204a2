package org.segloss.cuda;

import org.segloss.DistanceTransformContractTest;
import org.segloss.LossEngine;
import org.segloss.TestBackends;

/** The distance transform contract on CUDA (skips with the probe's reason without a GPU; runs in the emulated GPU check). */
class CudaDistanceTransformTest extends DistanceTransformContractTest {
    @Override
    protected LossEngine createEngine() {
        return TestBackends.openOrSkip("cuda");
    }
}
