package org.segloss;

import org.segloss.backend.cpu.CpuBackend;

/**
 * The contract on the scalar CPU kernels (the fallback when the Vector API is not enabled). They
 * compute in double, so they are held to tighter tolerances than the float kernels.
 */
class CpuScalarLossContractTest extends LossContractTest {
    @Override
    protected LossEngine createEngine() {
        return LossEngine.of(CpuBackend.scalar());
    }

    @Override
    protected double valueTolerance() {
        return 1e-6;
    }

    @Override
    protected double gradTolerance() {
        return 1e-5;
    }
}
