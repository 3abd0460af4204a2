package org.segloss.cuda;

import org.segloss.Loss;
import org.segloss.LossEngine;
import org.segloss.LossResult;
import org.segloss.LossSpec;
import org.segloss.Mode;
import org.segloss.backend.Dispatcher;
import org.segloss.backend.Probe;

/**
 * Run in a child JVM by {@link CudaProbeTest} (with LD_LIBRARY_PATH pointing at a stub
 * {@code libcuda.so.1}): prints the CUDA probe, the backend auto picks, and a loss computed on it,
 * one {@code key=value} per line.
 */
public final class ProbeChild {
    private ProbeChild() {
    }

    public static void main(String[] args) {
        Probe cuda = Dispatcher.probe("cuda", true);
        System.out.println("cuda.usable=" + cuda.usable());
        System.out.println("cuda.reason=" + cuda.reason().replace('\n', ' '));
        try (LossEngine engine = LossEngine.create("auto")) {
            System.out.println("auto=" + engine.backendName());
            // I = 1.5, P = 1.8, T = 2: dice loss 1 - 4 / 4.8
            LossResult r = engine.forward(LossSpec.of(Loss.DICE, Mode.BINARY),
                    new float[] {0.9f, 0.2f, 0.6f, 0.1f}, new long[] {1, 1, 4}, new float[] {1, 0, 1, 0});
            System.out.println("auto.loss=" + r.value());
        }
        try (LossEngine engine = LossEngine.create("cuda")) {
            System.out.println("explicit=" + engine.backendName());
        } catch (RuntimeException e) {
            System.out.println("explicit.error=" + e.getClass().getSimpleName() + ": " + e.getMessage().replace('\n', ' '));
        }
    }
}
