package org.segloss.opencl;

import org.segloss.LossContractTest;
import org.segloss.LossEngine;
import org.segloss.TestBackends;

/** The whole contract suite on the OpenCL backend (PoCL in CI); fails instead of skipping when OpenCL is required. */
class OpenClLossContractTest extends LossContractTest {
    @Override
    protected LossEngine createEngine() {
        return TestBackends.openOrSkip("opencl");
    }
}
