package org.segloss.opencl;

import org.segloss.ApiMisuseContractTest;
import org.segloss.LossEngine;
import org.segloss.TestBackends;

/** API misuse on the OpenCL backend (PoCL in CI): the same messages as on the CPU. */
class OpenClApiMisuseTest extends ApiMisuseContractTest {
    @Override
    protected LossEngine open() {
        return TestBackends.openOrSkip("opencl");
    }
}
