package org.segloss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.segloss.backend.cpu.ColdStartProbe;
import org.segloss.backend.cpu.CpuBackend;

/**
 * A default CPU engine runs its first {@link CpuBackend#DEFAULT_SCALAR_CALLS} calls on the scalar kernels
 * (while the vector ones compile in the background) and the later ones on the vector kernels: which
 * kernels a call uses depends on its index only, so two runs give the same bits whatever the warm-up's
 * timing.
 */
class CpuFirstCallsTest {
    @Test
    void theFirstCallsAreScalarTheLaterOnesVectorAndEveryRunGivesTheSameBits() {
        float[] pred = ColdStartProbe.pred();
        byte[] target = ColdStartProbe.target();
        LossSpec spec = ColdStartProbe.spec();
        long[] scalar;
        long[] vector;
        try (LossEngine s = LossEngine.of(CpuBackend.scalar()); LossEngine v = LossEngine.of(CpuBackend.vector())) {
            scalar = ColdStartProbe.bits(s, spec, pred, target);
            vector = ColdStartProbe.bits(v, spec, pred, target);
        }
        assertNotEquals(scalar[0], vector[0], "the two kernels round differently, so the switch is visible");
        int calls = CpuBackend.DEFAULT_SCALAR_CALLS + 3;
        long[][] first = new long[calls][];
        try (LossEngine e = LossEngine.create("cpu")) {
            assertEquals(CpuBackend.DEFAULT_SCALAR_CALLS, ((CpuBackend) e.backend()).scalarCalls());
            for (int i = 0; i < calls; i++) {
                first[i] = ColdStartProbe.bits(e, spec, pred, target);
                assertArrayEquals(i < CpuBackend.DEFAULT_SCALAR_CALLS ? scalar : vector, first[i], "call " + (i + 1));
            }
        }
        try (LossEngine again = LossEngine.create("cpu")) {
            for (int i = 0; i < calls; i++) {
                assertArrayEquals(first[i], ColdStartProbe.bits(again, spec, pred, target), "second engine, call " + (i + 1));
            }
        }
    }

    @Test
    void aVectorBackendUsesTheVectorKernelsFromTheFirstCall() {
        CpuBackend b = CpuBackend.vector();
        assertEquals(0, b.scalarCalls());
        assertEquals("vector", b.kernelKind());
    }

    @Test
    void aBadScalarCallsPropertyIsRefusedWithItsValue() {
        String old = System.getProperty("segloss.cpu.scalarCalls");
        System.setProperty("segloss.cpu.scalarCalls", "-2");
        try {
            InvalidInputException e = assertThrows(InvalidInputException.class, CpuBackend::new);
            assertTrue(e.getMessage().contains("segloss.cpu.scalarCalls must be an integer >= 0, was -2"), e.getMessage());
        } finally {
            if (old == null) {
                System.clearProperty("segloss.cpu.scalarCalls");
            } else {
                System.setProperty("segloss.cpu.scalarCalls", old);
            }
        }
    }
}
