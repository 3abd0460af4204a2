package org.segloss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.segloss.backend.cpu.CpuBackend;

/**
 * The CPU backend gives bit-identical values and gradients whatever the number of threads: the
 * engine runs inside fork-join pools of parallelism 1, 2 and 5 (parallel streams run in the pool
 * that submits them), in the caller's thread, and on backends of their own 1, 2 and 3 worker threads
 * ({@link CpuBackend#threads(int)}, what {@code segloss.cpu.threads} and {@code bench --threads} set), on
 * tensors of several work units per sample.
 */
class CpuDeterminismTest {
    /** A result reduced to its bits. */
    private static final class Bits {
        final long value;
        final long[] coefficients;
        final float[] grad;

        Bits(LossResult r, float[] grad) {
            this.value = Double.doubleToRawLongBits(r.value());
            double[] k = r.coefficients();
            this.coefficients = new long[k.length];
            for (int i = 0; i < k.length; i++) {
                coefficients[i] = Double.doubleToRawLongBits(k[i]);
            }
            this.grad = grad;
        }
    }

    static Stream<Arguments> cases() {
        Random rnd = new Random(7);
        long[] shape = {2, 3, 130, 131}; // S = 17030 pixels: two work units per sample
        int len = 2 * 3 * 130 * 131;
        float[] logits = new float[len];
        float[] probs = new float[len];
        float[] mask = new float[len];
        for (int i = 0; i < len; i++) {
            logits[i] = (float) (2 * rnd.nextGaussian());
            probs[i] = (float) rnd.nextDouble();
            mask[i] = rnd.nextInt(4) == 0 ? 1 : 0;
        }
        byte[] classes = new byte[2 * 130 * 131];
        for (int i = 0; i < classes.length; i++) {
            classes[i] = (byte) (rnd.nextInt(12) == 0 ? 255 : rnd.nextInt(3));
        }
        List<LossCase> cases = new ArrayList<>();
        cases.add(new LossCase("bce_logdice multilabel from logits", LossSpec.builder(Loss.BCE_LOGDICE, Mode.MULTILABEL)
                .fromLogits(true).build(), shape, logits, mask));
        cases.add(new LossCase("focal binary of probabilities", LossSpec.of(Loss.FOCAL, Mode.BINARY), shape, probs, mask));
        cases.add(new LossCase("ce_logdice multiclass from logits, uint8 with ignore 255",
                LossSpec.builder(Loss.CE_LOGDICE, Mode.MULTICLASS).fromLogits(true).ignoreIndex(255).build(), shape,
                logits, classes));
        cases.add(new LossCase("tversky multiclass nhwc from logits with batch",
                LossSpec.builder(Loss.TVERSKY, Mode.MULTICLASS).fromLogits(true).layout(Layout.NHWC).batch(true)
                        .ignoreIndex(255).build(), new long[] {2, 130, 131, 3}, logits, classes));
        List<Arguments> args = new ArrayList<>();
        for (String kernels : new String[] {"default", "vector", "scalar"}) {
            for (LossCase c : cases) {
                args.add(Arguments.of(kernels, c));
            }
        }
        return args.stream();
    }

    private static LossEngine engine(String kernels) {
        return LossEngine.of(backend(kernels));
    }

    private static CpuBackend backend(String kernels) {
        return kernels.equals("scalar") ? CpuBackend.scalar() : kernels.equals("vector") ? CpuBackend.vector() : new CpuBackend();
    }

    private static Bits run(LossEngine engine, LossCase c) {
        float[] grad = new float[c.pred.length];
        LossResult r = c.forwardBackward(engine, grad);
        return new Bits(r, grad);
    }

    private static Bits inPool(int parallelism, Supplier<Bits> task) throws Exception {
        ForkJoinPool pool = new ForkJoinPool(parallelism);
        try {
            return pool.submit(task::get).get();
        } finally {
            pool.shutdown();
        }
    }

    @ParameterizedTest(name = "{0} kernels: {1}")
    @MethodSource("cases")
    void resultsAreBitIdenticalWhateverTheThreadCount(String kernels, LossCase c) throws Exception {
        try (LossEngine engine = engine(kernels)) {
            Bits one = inPool(1, () -> run(engine, c));
            Bits two = inPool(2, () -> run(engine, c));
            Bits five = inPool(5, () -> run(engine, c));
            Bits caller = run(engine, c);
            List<Bits> others = new ArrayList<>(List.of(two, five, caller));
            for (int threads = 1; threads <= 3; threads++) { // a fresh engine: its call 0, as one's above
                try (LossEngine own = LossEngine.of(backend(kernels).threads(threads))) {
                    others.add(run(own, c));
                }
            }
            for (Bits other : others) {
                assertEquals(one.value, other.value, c.name + ": value bits");
                assertEquals(one.coefficients.length, other.coefficients.length);
                for (int i = 0; i < one.coefficients.length; i++) {
                    assertEquals(one.coefficients[i], other.coefficients[i], c.name + ": coefficient " + i);
                }
                for (int i = 0; i < one.grad.length; i++) {
                    if (Float.floatToRawIntBits(one.grad[i]) != Float.floatToRawIntBits(other.grad[i])) {
                        fail(c.name + ": gradient element " + i + " differs: " + one.grad[i] + " vs " + other.grad[i]);
                    }
                }
            }
        }
    }
}
