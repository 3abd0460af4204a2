package org.segloss;

import org.segloss.backend.cpu.CpuBackend;

/**
 * The contract on the Java CPU backend's Vector API kernels from the first call (a default engine runs
 * its first calls on the scalar kernels, whose contract {@link CpuScalarLossContractTest} checks).
 */
class CpuLossContractTest extends LossContractTest {
    @Override
    protected LossEngine createEngine() {
        return LossEngine.of(CpuBackend.vector());
    }
}
