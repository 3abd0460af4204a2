package org.segloss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.segloss.backend.cpu.CpuBackend;

/**
 * The thread count of the CPU backend: {@link CpuBackend#threads(int)} (and the system property
 * {@code segloss.cpu.threads}, read when a backend is made) runs the passes on exactly that many worker
 * threads of the library; bad counts are refused with their value. Bit identity across thread counts is
 * {@link CpuDeterminismTest}'s.
 */
class CpuThreadsTest {
    @Test
    void aBackendOfTwoThreadsReportsThemAndRunsItsPassesOnThem() {
        CpuBackend b = CpuBackend.vector().threads(2);
        assertEquals(2, b.threads());
        assertTrue(b.device().contains(", 2 threads, "), b.device());
        float[] pred = new float[2 * 3 * 200 * 200]; // 3 units per sample: every unit a task of the pool
        Random rnd = new Random(5);
        for (int i = 0; i < pred.length; i++) {
            pred[i] = (float) rnd.nextGaussian();
        }
        float[] mask = new float[pred.length];
        Set<String> seen = ConcurrentHashMap.newKeySet();
        try (LossEngine e = LossEngine.of(b)) {
            e.forward(LossSpec.builder(Loss.DICE, Mode.MULTILABEL).fromLogits(true).build(), pred,
                    new long[] {2, 3, 200, 200}, mask);
        }
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("segloss-cpu-2-")) {
                seen.add(t.getName());
            }
        }
        assertTrue(!seen.isEmpty() && seen.size() <= 2, "worker threads of the 2-thread pool: " + seen);
    }

    @Test
    void aThreadCountBelowOneIsRefusedWithItsValue() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> CpuBackend.vector().threads(0));
        assertTrue(e.getMessage().contains("threads must be >= 1, was 0"), e.getMessage());
    }

    @Test
    void theThreadsPropertyIsReadWhenABackendIsMadeAndABadOneIsRefused() {
        String old = System.getProperty("segloss.cpu.threads");
        try {
            System.setProperty("segloss.cpu.threads", "3");
            assertEquals(3, new CpuBackend().threads());
            assertEquals(3, CpuBackend.vector().threads());
            System.setProperty("segloss.cpu.threads", "two");
            InvalidInputException e = assertThrows(InvalidInputException.class, CpuBackend::new);
            assertTrue(e.getMessage().contains("segloss.cpu.threads must be an integer >= 1, was two"), e.getMessage());
        } finally {
            if (old == null) {
                System.clearProperty("segloss.cpu.threads");
            } else {
                System.setProperty("segloss.cpu.threads", old);
            }
        }
    }
}
