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
    public static final long[] SHAPE = {2, 3, 40, 37};

    private ColdStartProbe() {
    }

    /** Logits of {@link #SHAPE}, seeded. */
    public static float[] pred() {
        Random rnd = new Random(3);
        float[] pred = new float[2 * 3 * 40 * 37];
        for (int i = 0; i < pred.length; i++) {
            pred[i] = (float) (3 * rnd.nextGaussian());
        }
        return pred;
    }

    /** Class indices (0-2) of {@link #SHAPE}'s pixels, seeded. */
    public static byte[] target() {
        Random rnd = new Random(4);
        byte[] target = new byte[2 * 40 * 37];
        for (int i = 0; i < target.length; i++) {
            target[i] = (byte) rnd.nextInt(3);
        }
        return target;
    }

    /** The probe's loss: multiclass CE + log-Dice from logits. */
    public static LossSpec spec() {
        return LossSpec.builder(Loss.CE_LOGDICE, Mode.MULTICLASS).fromLogits(true).build();
    }

    public static void main(String[] args) {
        float[] pred = pred();
        byte[] target = target();
        LossSpec spec = spec();
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
            System.out.println("warmupThreadAfterNextCall=" + Thread.getAllStackTraces().keySet().stream()
                    .anyMatch(t -> t.getName().equals("segloss-vector-warmup")));
            // the warm-up thread loads the vector kernels, not the caller: wait for it (at most 30 s)
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (!CpuKernels.vectorKernelsLoaded && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(10);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            System.out.println("loadedByTheWarmUp=" + CpuKernels.vectorKernelsLoaded);
        }
    }

    /** Value and gradient bits of one call of {@link #SHAPE}. */
    public static long[] bits(LossEngine engine, LossSpec spec, float[] pred, byte[] target) {
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
