package org.segloss;

import org.segloss.backend.cpu.CpuBackend;

/** The contract on the scalar CPU kernels (the fallback when the Vector API is not enabled). */
class CpuScalarLossContractTest extends LossContractTest {
    @Override
    protected LossEngine createEngine() {
        return LossEngine.of(CpuBackend.scalar());
    }
}
