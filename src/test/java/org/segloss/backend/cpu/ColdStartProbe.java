package org.segloss.backend.cpu;

import java.util.Arrays;
import java.util.Random;
import org.segloss.Loss;
import org.segloss.LossEngine;
import org.segloss.LossResult;
import org.segloss.LossSpec;
import org.segloss.Mode;

/**
 * Run in a fresh JVM by {@link CpuColdStartTest}: a default CPU engine's first calls, against a scalar
 * engine's, printing one {@code key=value} line per fact the test checks.
 */
public final class ColdStartProbe {
    static final long[] SHAPE = {2, 3, 40, 37};

    private ColdStartProbe() {
    }

    public static void main(String[] args) {
        Random rnd = new Random(5);
        float[] pred = new float[2 * 3 * 40 * 37];
        for (int i = 0; i < pred.length; i++) {
            pred[i] = (float) (3 * rnd.nextGaussian());
        }
        byte[] target = new byte[2 * 40 * 37];
        for (int i = 0; i < target.length; i++) {
            target[i] = (byte) rnd.nextInt(3);
        }
        LossSpec spec = LossSpec.builder(Loss.CE_LOGDICE, Mode.MULTICLASS).fromLogits(true).build();
        try (LossEngine scalar = LossEngine.of(CpuBackend.scalar()); LossEngine e = LossEngine.create("cpu")) {
            System.out.println("device=" + e.device());
            System.out.println("loadedAfterCreate=" + CpuKernels.vectorKernelsLoaded);
            int calls = ((CpuBackend) e.backend()).warmupCall();
            System.out.println("aloneCalls=" + calls);
            boolean same = true;
            for (int i = 0; i < calls; i++) {
                same &= Arrays.equals(bits(scalar, spec, pred, target), bits(e, spec, pred, target));
            }
            System.out.println("sameBitsAsScalar=" + same);
            System.out.println("loadedAfterAloneCalls=" + CpuKernels.vectorKernelsLoaded);
            System.out.println("directivesThreadAfterAloneCalls=" + Thread.getAllStackTraces().keySet().stream()
                    .anyMatch(t -> t.getName().equals("segloss-compiler-directives")));
            System.out.println("warmupThreadAfterAloneCalls=" + Thread.getAllStackTraces().keySet().stream()
                    .anyMatch(t -> t.getName().equals("segloss-vector-warmup")));
            boolean next = Arrays.equals(bits(scalar, spec, pred, target), bits(e, spec, pred, target));
            System.out.println("nextCallSameBitsAsScalar=" + next);
            System.out.println("loadedAfterNextCall=" + CpuKernels.vectorKernelsLoaded);
        }
    }

    /** Value and gradient bits of one call. */
    static long[] bits(LossEngine engine, LossSpec spec, float[] pred, byte[] target) {
        float[] grad = new float[pred.length];
        LossResult r = engine.forwardBackward(spec, pred, SHAPE, target, grad);
        long[] out = new long[grad.length + 1];
        out[0] = Double.doubleToRawLongBits(r.value());
        for (int i = 0; i < grad.length; i++) {
            out[i + 1] = Float.floatToRawIntBits(grad[i]);
        }
        return out;
    }
}
