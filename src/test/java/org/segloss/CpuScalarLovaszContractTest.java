package org.segloss;

import org.segloss.backend.cpu.CpuBackend;

/** The Lovasz contract on the scalar CPU backend (the fallback without the Vector API). */
class CpuScalarLovaszContractTest extends LovaszContractTest {
    @Override
    protected LossEngine createEngine() {
        return LossEngine.of(CpuBackend.scalar());
    }
}
