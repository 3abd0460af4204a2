package org.segloss.bench;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.segloss.DeviceBuffer;
import org.segloss.Loss;
import org.segloss.LossEngine;
import org.segloss.LossSpec;
import org.segloss.backend.Backend;
import org.segloss.backend.cpu.CpuBackend;

/**
 * CPU loss passes against the floor (the vector stream read of the same pred and target bytes), on
 * the two workloads of the performance target: 8x4x512x512 float32 binary from logits with float
 * targets, and 8x19x256x256 float32 multiclass logits with a uint8 class map. Inputs are uploaded
 * once (CPU buffers are views), so each operation is exactly one stats pass (forward) or one stats
 * and one grad pass (forward+backward). Run through {@link BenchMain}, which prints the ratio table.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 6, time = 2)
@Measurement(iterations = 4, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx4g", "-Dsegloss.quiet=true"})
public class CpuLossBenchmark {
    /** {@code binary:LOSS} or {@code multiclass:LOSS}. */
    @Param({"binary:bce", "binary:dice", "binary:iou", "binary:tversky", "binary:focal", "binary:bce_logdice",
            "multiclass:ce", "multiclass:ce_logdice", "multiclass:dice", "multiclass:iou", "multiclass:tversky",
            "multiclass:focal"})
    public String workload;

    /** {@code vector} (the default CPU kernels) or {@code scalar}. */
    @Param({"vector", "scalar"})
    public String kernels;

    private LossEngine engine;
    private Backend floorBackend;
    private LossSpec spec;
    private long[] shape;
    private DeviceBuffer pred;
    private DeviceBuffer target;
    private DeviceBuffer grad;

    @Setup(Level.Trial)
    public void setUp() {
        String[] parts = workload.split(":");
        boolean multiclass = parts[0].equals("multiclass");
        Loss loss = Loss.parse(parts[1]);
        CpuBackend backend = kernels.equals("scalar") ? CpuBackend.scalar() : CpuBackend.vector();
        if (!backend.kernelKind().equals(kernels)) {
            throw new IllegalStateException("wanted " + kernels + " kernels, got " + backend.kernelKind()
                    + " (is --add-modules jdk.incubator.vector set?)");
        }
        engine = LossEngine.of(backend);
        floorBackend = CpuBackend.vector();
        Random r = new Random(42);
        if (multiclass) {
            shape = new long[] {8, 19, 256, 256};
            spec = LossSpec.builder(loss, org.segloss.Mode.MULTICLASS).fromLogits(true).build();
            int pixels = 8 * 256 * 256;
            float[] x = new float[pixels * 19];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (r.nextGaussian() * 3);
            }
            byte[] y = new byte[pixels];
            for (int i = 0; i < pixels; i++) {
                y[i] = (byte) r.nextInt(19);
            }
            pred = engine.upload(x);
            target = engine.upload(y);
            grad = engine.allocateFloats(x.length);
        } else {
            shape = new long[] {8, 4, 512, 512};
            spec = LossSpec.builder(loss, org.segloss.Mode.MULTILABEL).fromLogits(true).build();
            int n = 8 * 4 * 512 * 512;
            float[] x = new float[n];
            float[] t = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = (float) (r.nextGaussian() * 3);
                t[i] = r.nextInt(2);
            }
            pred = engine.upload(x);
            target = engine.upload(t);
            grad = engine.allocateFloats(n);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        engine.close();
        floorBackend.close();
    }

    @Benchmark
    public double forward() {
        return engine.forward(spec, pred, shape, target).value();
    }

    @Benchmark
    public double forwardBackward() {
        return engine.forwardBackward(spec, pred, shape, target, grad).value();
    }

    /** The floor: the vector stream read of pred and target (the same bytes a forward pass reads). */
    @Benchmark
    public double floor() {
        return floorBackend.streamRead(pred) + floorBackend.streamRead(target);
    }
}
