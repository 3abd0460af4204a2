package org.segloss.opencl;

import org.segloss.DistanceTransformContractTest;
import org.segloss.LossEngine;
import org.segloss.TestBackends;

/** The distance transform contract on OpenCL (PoCL in CI: mandatory there). */
class OpenClDistanceTransformTest extends DistanceTransformContractTest {
    @Override
    protected LossEngine createEngine() {
        return TestBackends.openOrSkip("opencl");
    }
}
