package org.segloss;

/** API misuse on the CPU backend. */
class CpuApiMisuseTest extends ApiMisuseContractTest {
    @Override
    protected LossEngine open() {
        return LossEngine.create("cpu");
    }
}
