package org.segloss.cpu;

import org.segloss.DistanceTransformContractTest;
import org.segloss.LossEngine;

/** The distance transform contract on the CPU backend. */
class CpuDistanceTransformTest extends DistanceTransformContractTest {
    @Override
    protected LossEngine createEngine() {
        return LossEngine.create("cpu");
    }
}
