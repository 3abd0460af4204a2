package org.segloss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.segloss.backend.cpu.CpuBackend;

/**
 * A default CPU engine runs its first {@link CpuBackend#DEFAULT_SCALAR_CALLS} calls on the scalar kernels
 * (while the vector ones compile in the background) and the later ones on the vector kernels: which
 * kernels a call uses depends on its index only, so two runs give the same bits whatever the warm-up's
 * timing.
 */
class CpuFirstCallsTest {
    private static final long[] SHAPE = {2, 3, 40, 37};

    /** Value and gradient bits of one call. */
    private static long[] bits(LossEngine engine, LossSpec spec, float[] pred, byte[] target) {
        float[] grad = new float[pred.length];
        LossResult r = engine.forwardBackward(spec, pred, SHAPE, target, grad);
        long[] out = new long[grad.length + 1];
        out[0] = Double.doubleToRawLongBits(r.value());
        for (int i = 0; i < grad.length; i++) {
            out[i + 1] = Float.floatToRawIntBits(grad[i]);
        }
        return out;
    }

    @Test
    void theFirstCallsAreScalarTheLaterOnesVectorAndEveryRunGivesTheSameBits() {
        Random rnd = new Random(3);
        float[] pred = new float[2 * 3 * 40 * 37];
        for (int i = 0; i < pred.length; i++) {
            pred[i] = (float) (3 * rnd.nextGaussian());
        }
        byte[] target = new byte[2 * 40 * 37];
        for (int i = 0; i < target.length; i++) {
            target[i] = (byte) rnd.nextInt(3);
        }
        LossSpec spec = LossSpec.builder(Loss.CE_LOGDICE, Mode.MULTICLASS).fromLogits(true).build();
        long[] scalar;
        long[] vector;
        try (LossEngine s = LossEngine.of(CpuBackend.scalar()); LossEngine v = LossEngine.of(CpuBackend.vector())) {
            scalar = bits(s, spec, pred, target);
            vector = bits(v, spec, pred, target);
        }
        assertNotEquals(scalar[0], vector[0], "the two kernels round differently, so the switch is visible");
        int calls = CpuBackend.DEFAULT_SCALAR_CALLS + 3;
        long[][] first = new long[calls][];
        try (LossEngine e = LossEngine.create("cpu")) {
            assertEquals(CpuBackend.DEFAULT_SCALAR_CALLS, ((CpuBackend) e.backend()).scalarCalls());
            for (int i = 0; i < calls; i++) {
                first[i] = bits(e, spec, pred, target);
                assertArrayEquals(i < CpuBackend.DEFAULT_SCALAR_CALLS ? scalar : vector, first[i], "call " + (i + 1));
            }
        }
        try (LossEngine again = LossEngine.create("cpu")) {
            for (int i = 0; i < calls; i++) {
                assertArrayEquals(first[i], bits(again, spec, pred, target), "second engine, call " + (i + 1));
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
