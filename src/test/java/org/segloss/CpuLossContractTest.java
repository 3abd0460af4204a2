package org.segloss;

/** The contract on the Java CPU backend (Vector API kernels when the module is enabled). */
class CpuLossContractTest extends LossContractTest {
    @Override
    protected LossEngine createEngine() {
        return LossEngine.create("cpu");
    }
}
