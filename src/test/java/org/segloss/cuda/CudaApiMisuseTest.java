package org.segloss.cuda;

import org.segloss.ApiMisuseContractTest;
import org.segloss.LossEngine;
import org.segloss.TestBackends;

/** API misuse on the CUDA backend (skips with the probe's reason without a device): the same messages. */
class CudaApiMisuseTest extends ApiMisuseContractTest {
    @Override
    protected LossEngine open() {
        return TestBackends.openOrSkip("cuda");
    }
}
