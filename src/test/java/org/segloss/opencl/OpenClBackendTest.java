package org.segloss.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_mem;
import org.jocl.cl_platform_id;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.segloss.BackendException;
import org.segloss.DeviceBuffer;
import org.segloss.ElementType;
import org.segloss.InvalidInputException;
import org.segloss.Layout;
import org.segloss.Loss;
import org.segloss.LossEngine;
import org.segloss.LossResult;
import org.segloss.LossSpec;
import org.segloss.Mode;
import org.segloss.TestBackends;
import org.segloss.backend.Probe;
import org.segloss.backend.opencl.OpenClBackend;
import org.segloss.backend.opencl.OpenClProvider;

/** Behaviour of the OpenCL backend beyond the loss contract: determinism, wrapping, caching, errors, resources. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenClBackendTest {
    private LossEngine engine;
    private OpenClBackend backend;

    @BeforeAll
    void open() {
        engine = TestBackends.openOrSkip("opencl");
        backend = (OpenClBackend) engine.backend();
    }

    @AfterAll
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    static float[] logits(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rnd.nextGaussian() * 4);
        }
        return x;
    }

    static byte[] classes(Random rnd, int n, int c) {
        byte[] y = new byte[n];
        for (int i = 0; i < n; i++) {
            y[i] = (byte) rnd.nextInt(c);
        }
        return y;
    }

    @Test
    void repeatedPassesGiveIdenticalBits() {
        Random rnd = new Random(1);
        long[] shape = {3, 7, 129, 65};
        float[] x = logits(rnd, 3 * 7 * 129 * 65);
        byte[] y = classes(rnd, 3 * 129 * 65, 7);
        LossSpec spec = LossSpec.builder(Loss.CE_LOGDICE, Mode.MULTICLASS).fromLogits(true).build();
        float[] g1 = new float[x.length];
        float[] g2 = new float[x.length];
        LossResult r1 = engine.forwardBackward(spec, x, shape, y, g1);
        LossResult r2 = engine.forwardBackward(spec, x, shape, y, g2);
        assertEquals(Double.doubleToRawLongBits(r1.value()), Double.doubleToRawLongBits(r2.value()),
                r1.value() + " then " + r2.value());
        assertArrayEquals(g1, g2);
        assertArrayEquals(r1.coefficients(), r2.coefficients());

        float[] t = new float[x.length];
        for (int i = 0; i < t.length; i++) {
            t[i] = rnd.nextInt(2);
        }
        LossSpec bin = LossSpec.builder(Loss.BCE_LOGDICE, Mode.MULTILABEL).fromLogits(true).layout(Layout.NHWC).build();
        long[] nhwc = {3, 129, 65, 7};
        assertEquals(Double.doubleToRawLongBits(engine.forward(bin, x, nhwc, t).value()),
                Double.doubleToRawLongBits(engine.forward(bin, x, nhwc, t).value()));
    }

    @Test
    void programsAreBuiltOncePerKernelAndDefines() {
        Random rnd = new Random(2);
        LossSpec spec = LossSpec.builder(Loss.TVERSKY, Mode.MULTILABEL).fromLogits(true).alpha(0.3).beta(0.7).build();
        float[] x = logits(rnd, 2 * 3 * 50);
        float[] t = new float[x.length];
        engine.forward(spec, x, new long[] {2, 3, 50}, t);
        int built = backend.programBuilds();
        float[] x2 = logits(rnd, 4 * 3 * 77);
        engine.forward(spec, x2, new long[] {4, 3, 77}, new float[x2.length]);
        assertEquals(built, backend.programBuilds(), "same kernel and defines, another shape: the cached program");
        engine.forward(LossSpec.builder(Loss.FOCAL, Mode.MULTILABEL).fromLogits(false).gamma(3.25).build(),
                new float[x.length], new long[] {2, 3, 50}, t);
        assertTrue(backend.programBuilds() > built, "other defines (focal, probabilities, any gamma): a new program");
    }

    @Test
    void aBuildFailureCarriesTheBuildLog() {
        BackendException e = assertThrows(BackendException.class, () -> backend.compile("broken.cl",
                "__kernel void broken(__global float *x) { x[0] = no_such_variable_here; }", "-DWG_SIZE=1"));
        assertTrue(e.getMessage().contains("clBuildProgram(broken.cl)"), e.getMessage());
        assertTrue(e.getMessage().contains("CL_BUILD_PROGRAM_FAILURE"), e.getMessage());
        assertTrue(e.getMessage().contains("no_such_variable_here"), "build log expected in: " + e.getMessage());
        assertEquals(0.0, engine.forward(LossSpec.of(Loss.DICE, Mode.BINARY), new float[] {1, 0}, new long[] {1, 1, 2},
                new float[] {1, 0}).value(), 1e-12, "engine still usable");
    }

    @Test
    void aRuntimeFailureNamesTheOperationAndStatusAndTheEngineStaysUsable() {
        BackendException e = assertThrows(BackendException.class, () -> backend.allocateFloats(1L << 42));
        assertTrue(e.getMessage().contains("clCreateBuffer"), e.getMessage());
        assertTrue(e.getMessage().contains("CL_"), e.getMessage());
        assertEquals(0.0, engine.forward(LossSpec.of(Loss.DICE, Mode.BINARY), new float[] {1, 0}, new long[] {1, 1, 2},
                new float[] {1, 0}).value(), 1e-12);
    }

    @Test
    void engineIsUsableAfterARefusedInput() {
        LossSpec spec = LossSpec.builder(Loss.CE, Mode.MULTICLASS).fromLogits(true).build();
        float[] x = {0.5f, -1f, 2f, 0.25f, 1f, 3f};
        long[] shape = {1, 2, 3};
        byte[] y = {0, 1, 1};
        double before = engine.forward(spec, x, shape, y).value();
        float[] nan = x.clone();
        nan[2] = Float.NaN;
        assertThrows(InvalidInputException.class, () -> engine.forward(spec, nan, shape, y));
        assertThrows(InvalidInputException.class, () -> engine.forward(spec, x, shape, new byte[] {0, 2, 1}));
        assertEquals(before, engine.forward(spec, x, shape, y).value());
        assertEquals(0, backend.memObjects(), "refused passes leave no buffer behind");
    }

    @Test
    void tenThousandForwardCallsAfterAWarmUpKeepMemoryFlat() throws IOException {
        Random rnd = new Random(3);
        LossSpec spec = LossSpec.builder(Loss.BCE_LOGDICE, Mode.MULTILABEL).fromLogits(true).build();
        long[] shape = {2, 3, 16, 16};
        float[] x = logits(rnd, 2 * 3 * 16 * 16);
        float[] t = new float[x.length];
        long objects = backend.memObjects();
        // The warm-up: RSS rises over the first several thousand calls (compiled code, PoCL's and malloc's own
        // pools) and then stays flat (measured: +28 MB from call 1,000 to 6,000, +3 MB from 6,000 to 36,000).
        for (int i = 0; i < WARM_UP_CALLS; i++) {
            engine.forward(spec, x, shape, t);
        }
        // A full GC before each reading takes the Java heap's own growth out of the comparison (each call
        // leaves ~12 KB of garbage); what remains is native memory: OpenCL objects, JOCL, PoCL. A leak of one
        // 6 KB buffer per call would add 60 MB.
        System.gc();
        long rssWarm = rssKiB();
        for (int i = 0; i < 10_000; i++) {
            engine.forward(spec, x, shape, t);
        }
        System.gc();
        long rssEnd = rssKiB();
        assertEquals(objects, backend.memObjects(), "cl_mem objects held before and after the calls");
        assertTrue(rssEnd - rssWarm < 16 * 1024, "RSS grew by " + (rssEnd - rssWarm) + " KiB over 10,000 calls ("
                + rssWarm + " -> " + rssEnd + " KiB)");
    }

    /** Calls before the RSS is first read in {@link #tenThousandForwardCallsAfterAWarmUpKeepMemoryFlat}. */
    private static final int WARM_UP_CALLS = 8_000;

    static long rssKiB() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    @Test
    void closedEngineAndBackendThrow() {
        LossEngine e = TestBackends.openOrSkip("opencl");
        OpenClBackend b = (OpenClBackend) e.backend();
        DeviceBuffer buffer = e.upload(new float[] {0.5f, 0.5f});
        e.close();
        assertEquals(0, b.memObjects(), "close released the buffer still open");
        buffer.close(); // releasing after the backend closed is harmless
        LossSpec spec = LossSpec.of(Loss.DICE, Mode.BINARY);
        assertThrows(IllegalStateException.class, () -> e.forward(spec, new float[] {1}, new long[] {1, 1, 1}, new float[] {1}));
        assertThrows(IllegalStateException.class, () -> b.upload(new float[] {1}));
        assertThrows(IllegalStateException.class, () -> b.stats(null, buffer, buffer));
        e.close(); // idempotent
    }

    @Test
    void probeListsDevicesAndAutoTakesOnlyGpusOrAccelerators() {
        OpenClProvider provider = new OpenClProvider();
        Probe explicit = provider.probe(false);
        assertTrue(explicit.usable(), explicit.reason());
        assertTrue(explicit.details().stream().anyMatch(l -> l.contains("compute units") && l.contains("fp64")
                && l.contains("GiB global memory") && l.contains("OpenCL")), String.join("\n", explicit.details()));
        Probe auto = provider.probe(true);
        boolean anyGpu = explicit.details().stream().anyMatch(l -> l.contains("(GPU,") || l.contains("(ACCELERATOR,"));
        assertEquals(anyGpu, auto.usable(), auto.reason());
        if (!anyGpu) {
            assertTrue(auto.reason().contains("auto skips CPU devices"), auto.reason());
        }
        String saved = System.getProperty(OpenClProvider.DEVICE_PROPERTY);
        try {
            System.setProperty(OpenClProvider.DEVICE_PROPERTY, "no-such-device-name");
            Probe none = provider.probe(false);
            assertFalse(none.usable());
            assertTrue(none.reason().contains("no-such-device-name"), none.reason());
            System.setProperty(OpenClProvider.DEVICE_PROPERTY, "0");
            assertTrue(provider.probe(false).usable(), "device 0 by index");
            System.setProperty(OpenClProvider.DEVICE_PROPERTY, "99");
            assertFalse(provider.probe(false).usable(), "no device 99");
        } finally {
            if (saved == null) {
                System.clearProperty(OpenClProvider.DEVICE_PROPERTY);
            } else {
                System.setProperty(OpenClProvider.DEVICE_PROPERTY, saved);
            }
        }
    }

    @Test
    void anOutOfOrderCallerQueueIsRefused() {
        cl_platform_id[] platforms = new cl_platform_id[1];
        CL.clGetPlatformIDs(1, platforms, null);
        cl_device_id[] devices = new cl_device_id[1];
        CL.clGetDeviceIDs(platforms[0], CL.CL_DEVICE_TYPE_ALL, 1, devices, null);
        cl_context_properties props = new cl_context_properties();
        props.addProperty(CL.CL_CONTEXT_PLATFORM, platforms[0]);
        int[] err = new int[1];
        cl_context context = CL.clCreateContext(props, 1, devices, null, null, err);
        try {
            @SuppressWarnings("deprecation")
            cl_command_queue queue = CL.clCreateCommandQueue(context, devices[0], CL.CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, err);
            org.junit.jupiter.api.Assumptions.assumeTrue(err[0] == CL.CL_SUCCESS,
                    "the device has no out-of-order queues: " + CL.stringFor_errorCode(err[0]));
            try {
                InvalidInputException e = assertThrows(InvalidInputException.class, () -> OpenClBackend.wrap(context, queue));
                assertTrue(e.getMessage().contains("in-order"), e.getMessage());
            } finally {
                CL.clReleaseCommandQueue(queue);
            }
        } finally {
            CL.clReleaseContext(context);
        }
    }

    @Test
    void wrappedCallerMemoryInTheCallersContextGivesTheSameAsUpload() {
        Random rnd = new Random(4);
        int n = 2, c = 5, s = 31 * 17;
        long[] shape = {n, c, 31, 17};
        float[] x = logits(rnd, n * c * s);
        byte[] y = classes(rnd, n * s, c);
        LossSpec spec = LossSpec.builder(Loss.CE_LOGDICE, Mode.MULTICLASS).fromLogits(true).build();
        float[] expectedGrad = new float[x.length];
        LossResult expected = engine.forwardBackward(spec, x, shape, y, expectedGrad);

        // The caller's own OpenCL objects, as a training loop would hold them.
        cl_platform_id[] platforms = new cl_platform_id[1];
        CL.clGetPlatformIDs(1, platforms, null);
        cl_device_id[] devices = new cl_device_id[1];
        CL.clGetDeviceIDs(platforms[0], CL.CL_DEVICE_TYPE_ALL, 1, devices, null);
        cl_context_properties props = new cl_context_properties();
        props.addProperty(CL.CL_CONTEXT_PLATFORM, platforms[0]);
        int[] err = new int[1];
        cl_context context = CL.clCreateContext(props, 1, devices, null, null, err);
        assertEquals(CL.CL_SUCCESS, err[0]);
        @SuppressWarnings("deprecation")
        cl_command_queue queue = CL.clCreateCommandQueue(context, devices[0], 0, err);
        cl_mem predMem = CL.clCreateBuffer(context, CL.CL_MEM_READ_WRITE | CL.CL_MEM_COPY_HOST_PTR,
                (long) x.length * Sizeof.cl_float, Pointer.to(x), err);
        cl_mem targetMem = CL.clCreateBuffer(context, CL.CL_MEM_READ_WRITE | CL.CL_MEM_COPY_HOST_PTR, y.length,
                Pointer.to(y), err);
        cl_mem gradMem = CL.clCreateBuffer(context, CL.CL_MEM_READ_WRITE, (long) x.length * Sizeof.cl_float, null, err);
        try {
            OpenClBackend wrapped = OpenClBackend.wrap(context, queue);
            try (LossEngine callers = LossEngine.of(wrapped)) {
                DeviceBuffer pred = wrapped.wrap(predMem, ElementType.FLOAT32, x.length);
                DeviceBuffer target = wrapped.wrap(targetMem, ElementType.UINT8, y.length);
                DeviceBuffer grad = wrapped.wrap(gradMem, ElementType.FLOAT32, x.length);
                LossResult r = callers.forwardBackward(spec, pred, shape, target, grad);
                assertEquals(expected.value(), r.value(), 0.0, "same device, same kernels: same bits");
                assertEquals(0, wrapped.memObjects(), "no copy of the caller's buffers was made");
                assertThrows(InvalidInputException.class, () -> backend.wrap(predMem, ElementType.FLOAT32, x.length),
                        "a cl_mem of another context is refused");
                assertThrows(InvalidInputException.class, () -> wrapped.wrap(targetMem, ElementType.FLOAT32, y.length),
                        "a cl_mem too small for the length is refused");
                pred.close();
            }
            // After close the caller's objects are still the caller's: read the gradient on the caller's queue.
            float[] grad = new float[x.length];
            assertEquals(CL.CL_SUCCESS, CL.clEnqueueReadBuffer(queue, gradMem, true, 0, (long) x.length * Sizeof.cl_float,
                    Pointer.to(grad), 0, null, null));
            assertArrayEquals(expectedGrad, grad);
            float[] back = new float[x.length];
            assertEquals(CL.CL_SUCCESS, CL.clEnqueueReadBuffer(queue, predMem, true, 0, (long) x.length * Sizeof.cl_float,
                    Pointer.to(back), 0, null, null));
            assertArrayEquals(x, back);
        } finally {
            CL.clReleaseMemObject(predMem);
            CL.clReleaseMemObject(targetMem);
            CL.clReleaseMemObject(gradMem);
            CL.clReleaseCommandQueue(queue);
            CL.clReleaseContext(context);
        }
    }
}
