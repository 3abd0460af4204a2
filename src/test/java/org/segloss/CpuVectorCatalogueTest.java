package org.segloss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.segloss.cpu.VectorAgreement.assertClose;
import static org.segloss.cpu.VectorAgreement.assertGradClose;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.segloss.backend.Backend;
import org.segloss.backend.Problem;
import org.segloss.backend.cpu.CpuBackend;
import org.segloss.backend.cpu.VectorLanes;

/**
 * The MONAI / smp catalogue ({@link CatalogueCases}) on the Vector API kernels: every row runs on the lanes (none
 * falls back to the scalar kernels whole, except a focal gamma that is not an integer), and the lanes give the
 * scalar kernels' values and gradients, on the table's shapes, on tensors larger than one work unit (lane tails and
 * several units), in both layouts, and from direct buffers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CpuVectorCatalogueTest {

    /** The problems the vector backend was handed by the engine (stats passes), in call order. */
    private final List<Problem> seen = new ArrayList<>();
    private LossEngine vector;
    private LossEngine scalar;

    @BeforeAll
    void open() {
        CpuBackend real = CpuBackend.vector();
        assertEquals("vector", real.kernelKind(), "surefire enables jdk.incubator.vector");
        InvocationHandler recorder = (proxy, method, args) -> {
            if (method.getName().equals("stats") && args != null && args[0] instanceof Problem) {
                synchronized (seen) {
                    seen.add((Problem) args[0]);
                }
            }
            try {
                return method.invoke(real, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        Backend recording = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(),
                new Class<?>[] {Backend.class}, recorder);
        vector = LossEngine.of(recording);
        scalar = LossEngine.of(CpuBackend.scalar());
    }

    @AfterAll
    void close() {
        vector.close();
        scalar.close();
    }

    static Stream<LossCase> cases() {
        List<LossCase> all = new ArrayList<>(CatalogueCases.all());
        all.addAll(CatalogueCases.larger());
        // each row once more from logits in nchw and from probabilities in nhwc, on a tensor of two units with tails
        List<CatalogueCases.Row> rows = CatalogueCases.rows();
        for (int k = 0; k < rows.size(); k++) {
            CatalogueCases.Row r = rows.get(k);
            long[] logical = r.mode() == Mode.BINARY ? new long[] {1, 1, 173, 101}
                    : r.mode() == Mode.MULTILABEL ? new long[] {1, 3, 131, 127} : new long[] {1, 3, 131, 127};
            boolean logits = k % 2 == 0;
            all.add(CatalogueCases.make(r, logits, logits ? Layout.NCHW : Layout.NHWC, logical, 7000 + k));
        }
        return all.stream();
    }

    /** Focal with a gamma that is not an integer: the one catalogue case the lanes leave to the scalar kernels. */
    private static boolean realFocalGamma(LossSpec spec) {
        boolean focal = spec.loss() == Loss.FOCAL || spec.loss() == Loss.DICE_FOCAL;
        return focal && spec.gamma() != Math.rint(spec.gamma());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void catalogueRowsRunOnTheVectorLanesAndGiveTheScalarKernelsResults(LossCase c) {
        float[] gv = new float[c.pred.length];
        float[] gs = new float[c.pred.length];
        List<Problem> problems;
        LossResult v;
        synchronized (seen) {
            seen.clear();
            v = run(vector, c, gv);
            problems = new ArrayList<>(seen);
        }
        assertFalse(problems.isEmpty(), c.name + ": the engine ran a stats pass");
        for (Problem p : problems) {
            assertEquals(!realFocalGamma(c.spec), VectorLanes.covered(p),
                    c.name + ": the lanes cover " + p + " unless its focal gamma is not an integer");
        }
        LossResult s = run(scalar, c, gs);
        assertClose(s.value(), v.value(), c.name + ": value");
        assertGradClose(gs, gv, c.name);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void directBuffersGiveTheSameResultsAsArrays(LossCase c) {
        float[] gHeap = new float[c.pred.length];
        LossResult heap = run(vector, c, gHeap);
        FloatBuffer pred = direct(c.pred);
        FloatBuffer grad = ByteBuffer.allocateDirect(c.pred.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        java.nio.Buffer target;
        if (c.target instanceof float[]) {
            target = direct((float[]) c.target);
        } else if (c.target instanceof byte[]) {
            byte[] a = (byte[]) c.target;
            target = ByteBuffer.allocateDirect(a.length).put(a).flip();
        } else {
            int[] a = (int[]) c.target;
            target = ByteBuffer.allocateDirect(a.length * 4).order(ByteOrder.nativeOrder()).asIntBuffer().put(a).flip();
        }
        LossResult dir = vector.forwardBackward(c.spec, pred, c.shape, target, grad);
        assertClose(heap.value(), dir.value(), c.name + ": value");
        float[] gDirect = new float[c.pred.length];
        grad.get(0, gDirect);
        assertGradClose(gHeap, gDirect, c.name);
    }

    private static FloatBuffer direct(float[] a) {
        FloatBuffer b = ByteBuffer.allocateDirect(a.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        b.put(a).flip();
        return b;
    }

    private static LossResult run(LossEngine engine, LossCase c, float[] grad) {
        Object t = c.target;
        if (t instanceof byte[]) {
            return engine.forwardBackward(c.spec, c.pred, c.shape, (byte[]) t, grad);
        } else if (t instanceof int[]) {
            return engine.forwardBackward(c.spec, c.pred, c.shape, (int[]) t, grad);
        }
        return engine.forwardBackward(c.spec, c.pred, c.shape, (float[]) t, grad);
    }


}
