package org.segloss.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Random;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.segloss.DeviceBuffer;
import org.segloss.ElementType;
import org.segloss.Layout;
import org.segloss.Loss;
import org.segloss.LossEngine;
import org.segloss.LossResult;
import org.segloss.LossSpec;
import org.segloss.Mode;
import org.segloss.TestBackends;
import org.segloss.backend.PixelTerm;
import org.segloss.backend.Problem;
import org.segloss.backend.cpu.CpuBackend;
import org.segloss.backend.cuda.CublasSums;
import org.segloss.backend.cuda.CudaBackend;

/**
 * What only a GPU can show besides the agreement table ({@link CudaAgreementTest}): sums are
 * bit-identical from run to run; caller device memory and a caller stream work without a host copy;
 * 64-bit indexing past 2^31 elements; cuBLAS agrees with the kernel sums. Skips with the probe's
 * reason without a usable CUDA device (fails under {@code SEGLOSS_REQUIRE_CUDA=1}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CudaDeviceTest {
    private LossEngine cuda;
    private LossEngine cpu;

    /** Opens once; where CUDA is absent every test is reported skipped with the probe's reason. */
    @BeforeEach
    void open() {
        if (cuda == null) {
            cuda = TestBackends.openOrSkip("cuda");
            cpu = LossEngine.of(CpuBackend.scalar());
        }
    }

    @AfterAll
    void close() {
        if (cuda != null) {
            cuda.close();
        }
        if (cpu != null) {
            cpu.close();
        }
    }

    private CudaBackend backend() {
        return (CudaBackend) cuda.backend();
    }

    @Test
    void statsAreBitIdenticalFromRunToRun() {
        Random rnd = new Random(7);
        int n = 2;
        int c = 21;
        int s = 100_003;
        float[] logits = new float[n * c * s];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) rnd.nextGaussian() * 4;
        }
        byte[] y = new byte[n * s];
        for (int i = 0; i < y.length; i++) {
            y[i] = (byte) rnd.nextInt(c);
        }
        Problem p = new Problem(true, true, Layout.NCHW, n, c, s, ElementType.UINT8, false, 0, PixelTerm.CE, true, 1, 1, 2);
        try (DeviceBuffer x = cuda.upload(logits); DeviceBuffer t = cuda.upload(y)) {
            double[] first = backend().stats(p, x, t);
            for (int run = 0; run < 5; run++) {
                assertArrayEquals(first, backend().stats(p, x, t), "run " + run);
            }
        }
    }

    @Test
    void streamReadIsTheSumOfTheBuffer() {
        Random rnd = new Random(3);
        float[] v = new float[3_000_017];
        double sum = 0;
        for (int i = 0; i < v.length; i++) {
            v[i] = rnd.nextFloat();
            sum += v[i];
        }
        try (DeviceBuffer b = cuda.upload(v)) {
            assertEquals(sum, backend().streamRead(b), 1e-9 * sum);
        }
    }

    @Test
    void callerDeviceMemoryIsUsedInPlaceAndNeverFreed() {
        float[] p = {0.9f, 0.2f, 0.6f, 0.1f};
        float[] t = {1, 0, 1, 0};
        backend().stream(); // the primary context is current after any call
        CUdeviceptr dp = new CUdeviceptr();
        CUdeviceptr dt = new CUdeviceptr();
        CUdeviceptr dg = new CUdeviceptr();
        JCudaDriver.cuCtxSetCurrent(backend().context());
        assertEquals(0, JCudaDriver.cuMemAlloc(dp, 16));
        assertEquals(0, JCudaDriver.cuMemAlloc(dt, 16));
        assertEquals(0, JCudaDriver.cuMemAlloc(dg, 16));
        try {
            JCudaDriver.cuMemcpyHtoD(dp, Pointer.to(p), 16);
            JCudaDriver.cuMemcpyHtoD(dt, Pointer.to(t), 16);
            LossSpec spec = LossSpec.of(Loss.DICE, Mode.BINARY);
            float[] expectedGrad = new float[4];
            LossResult expected = cpu.forwardBackward(spec, p, new long[] {1, 1, 4}, t, expectedGrad);
            try (DeviceBuffer bp = backend().wrap(dp, ElementType.FLOAT32, 4);
                 DeviceBuffer bt = backend().wrap(dt, ElementType.FLOAT32, 4);
                 DeviceBuffer bg = backend().wrap(dg, ElementType.FLOAT32, 4)) {
                LossResult r = cuda.forwardBackward(spec, bp, new long[] {1, 1, 4}, bt, bg);
                assertEquals(expected.value(), r.value(), 1e-6);
            }
            float[] grad = new float[4];
            JCudaDriver.cuCtxSetCurrent(backend().context());
            assertEquals(0, JCudaDriver.cuMemcpyDtoH(Pointer.to(grad), dg, 16), "caller memory still valid after close");
            assertArrayEquals(expectedGrad, grad, 1e-6f);
        } finally {
            JCudaDriver.cuMemFree(dp);
            JCudaDriver.cuMemFree(dt);
            JCudaDriver.cuMemFree(dg);
        }
    }

    @Test
    void aCallerStreamCarriesThePasses() {
        CUstream stream = new CUstream();
        JCudaDriver.cuCtxSetCurrent(backend().context());
        assertEquals(0, JCudaDriver.cuStreamCreate(stream, 0));
        try (CudaBackend own = CudaBackend.open(0, stream); LossEngine e = LossEngine.of(own)) {
            assertEquals(stream, own.stream());
            LossResult r = e.forward(LossSpec.of(Loss.DICE, Mode.BINARY), new float[] {0.9f, 0.2f, 0.6f, 0.1f},
                    new long[] {1, 1, 4}, new float[] {1, 0, 1, 0});
            assertEquals(1 - 4.0 / 4.8, r.value(), 1e-6);
        } finally {
            JCudaDriver.cuCtxSetCurrent(backend().context());
            assertEquals(0, JCudaDriver.cuStreamDestroy(stream), "the caller's stream is still the caller's to destroy");
        }
    }

    @Test
    void buffersOfAnotherBackendAreRefused() {
        try (DeviceBuffer host = cpu.upload(new float[] {0.5f})) {
            assertThrows(org.segloss.InvalidInputException.class, () -> backend().streamRead(host));
        }
    }

    @Test
    void indicesPastTwoToThe31stAreReached() {
        long s = (1L << 31) + 4099;
        long[] free = {0};
        long[] total = {0};
        JCudaDriver.cuCtxSetCurrent(backend().context());
        JCudaDriver.cuMemGetInfo(free, total);
        assumeTrue(free[0] > s * 5 + (1L << 30), "needs " + (s * 5 >> 30) + " GiB of free device memory, has " + (free[0] >> 30));
        try (DeviceBuffer x = backend().allocateFloats(s)) {
            CUdeviceptr tp = new CUdeviceptr();
            assertEquals(0, JCudaDriver.cuMemAlloc(tp, s));
            try (DeviceBuffer t = backend().wrap(tp, ElementType.UINT8, s)) {
                CUdeviceptr xp = backend().pointer(x);
                assertEquals(0, JCudaDriver.cuMemsetD32(xp, Float.floatToIntBits(0.5f), s));
                assertEquals(0, JCudaDriver.cuMemsetD8(tp, (byte) 1, s));
                // the last element differs, so a wrapped-around index would miss it
                JCudaDriver.cuMemcpyHtoD(xp.withByteOffset((s - 1) * 4), Pointer.to(new float[] {0.25f}), 4);
                Problem p = new Problem(false, false, Layout.NCHW, 1, 1, s, ElementType.UINT8, false, 0, PixelTerm.NONE,
                        true, 1, 1, 2);
                double[] stats = backend().stats(p, x, t);
                double expectedP = 0.5 * (s - 1) + 0.25;
                assertEquals(expectedP, stats[Problem.STAT_I]);
                assertEquals(expectedP, stats[Problem.STAT_P]);
                assertEquals((double) s, stats[Problem.STAT_T]);
                assertEquals(expectedP, backend().streamRead(x));
            } finally {
                JCudaDriver.cuMemFree(tp);
            }
        }
    }

    @Test
    void cublasAgreesWithTheKernelSums() {
        assumeTrue(CublasSums.available(), CublasSums.unavailableReason());
        Random rnd = new Random(11);
        int len = 5_000_003;
        float[] p = new float[len];
        float[] t = new float[len];
        for (int i = 0; i < len; i++) {
            p[i] = rnd.nextFloat();
            t[i] = rnd.nextInt(2);
        }
        Problem problem = new Problem(false, false, Layout.NCHW, 1, 1, len, ElementType.FLOAT32, false, 0, PixelTerm.NONE,
                true, 1, 1, 2);
        try (DeviceBuffer bp = cuda.upload(p); DeviceBuffer bt = cuda.upload(t);
             CublasSums blas = CublasSums.open(backend())) {
            double[] kernel = backend().stats(problem, bp, bt);
            double[] vendor = blas.diceSums(bp, bt);
            assertEquals(kernel[Problem.STAT_I], vendor[0], 1e-4 * kernel[Problem.STAT_I]);
            assertEquals(kernel[Problem.STAT_P], vendor[1], 1e-4 * kernel[Problem.STAT_P]);
            assertEquals(kernel[Problem.STAT_T], vendor[2], 1e-4 * kernel[Problem.STAT_T]);
            assertEquals(backend().streamRead(bp), blas.sum(bp), 1e-4 * kernel[Problem.STAT_P]);
        }
    }
}
