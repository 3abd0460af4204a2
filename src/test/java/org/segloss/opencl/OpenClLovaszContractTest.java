package org.segloss.opencl;

import org.segloss.LossEngine;
import org.segloss.LovaszContractTest;
import org.segloss.TestBackends;

/** The Lovasz contract on the OpenCL backend (PoCL in CI, mandatory there). */
class OpenClLovaszContractTest extends LovaszContractTest {
    @Override
    protected LossEngine createEngine() {
        return TestBackends.openOrSkip("opencl");
    }
}
