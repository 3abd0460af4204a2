package org.segloss;

/** The Lovasz contract on the Java CPU backend (Vector API kernels when the module is enabled). */
class CpuLovaszContractTest extends LovaszContractTest {
    @Override
    protected LossEngine createEngine() {
        return LossEngine.create("cpu");
    }
}
