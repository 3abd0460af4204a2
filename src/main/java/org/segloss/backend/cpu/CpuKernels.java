package org.segloss.backend.cpu;

import org.segloss.backend.GradCoefficients;
import org.segloss.backend.Problem;

/** The CPU passes over one unit (sample {@code n}, pixels {@code [s0, s1)}). */
abstract class CpuKernels {
    /** Adds the unit's stats to {@code acc[c * STATS + stat]}. */
    abstract void stats(Problem p, CpuBuffer pred, CpuBuffer target, int n, int s0, int s1, double[] acc);

    /** Writes the gradient of the unit's elements. */
    abstract void grad(Problem p, CpuBuffer pred, CpuBuffer target, GradCoefficients k, CpuBuffer grad,
                       int n, int s0, int s1);

    /**
     * Whether {@link #stats(Problem, CpuBuffer, CpuBuffer, int, int, int, double[], CpuBuffer)} keeps values for
     * {@link #grad(Problem, CpuBuffer, CpuBuffer, GradCoefficients, CpuBuffer, int, int, int, boolean)} in the
     * gradient buffer for this problem; none by default.
     */
    boolean keeps(Problem p) {
        return false;
    }

    /**
     * The stats of a forward+backward unit: as {@link #stats(Problem, CpuBuffer, CpuBuffer, int, int, int, double[])},
     * and when {@link #keeps} says so, writes into the unit's elements of {@code keep} (the gradient buffer of the
     * grad pass that follows) what that grad pass reads back instead of computing it again (the activations).
     * Must give exactly the stats of the plain pass.
     */
    void stats(Problem p, CpuBuffer pred, CpuBuffer target, int n, int s0, int s1, double[] acc, CpuBuffer keep) {
        stats(p, pred, target, n, s0, s1, acc);
    }

    /**
     * The grad of a unit whose elements of {@code grad} hold what the stats pass kept when {@code kept}
     * (only ever true when {@link #keeps} is); must write the same gradient as without.
     */
    void grad(Problem p, CpuBuffer pred, CpuBuffer target, GradCoefficients k, CpuBuffer grad, int n, int s0, int s1,
              boolean kept) {
        grad(p, pred, target, k, grad, n, s0, s1);
    }

    /** Sum of every float of the buffer, read as fast as this flavour can. */
    abstract double streamRead(CpuBuffer buffer);

    /**
     * The bench's compute floor (see {@link CpuBackend#computeFloor}): here plain scalar loops, as the
     * scalar kernels would do that work.
     */
    double computeFloor(CpuBackend.Work work, CpuBuffer pred, int samples, int classes) {
        int length = Math.toIntExact(pred.length());
        double sum = 0;
        if (work != CpuBackend.Work.SOFTMAX) {
            for (int i = 0; i < length; i++) {
                double x = pred.floats.get(i);
                sum += work == CpuBackend.Work.SIGMOID ? 1 / (1 + Math.exp(-x)) : Math.log1p(Math.exp(-Math.abs(x)));
            }
            return sum;
        }
        int s = length / samples / classes;
        for (int n = 0; n < samples; n++) {
            for (int j = 0; j < s; j++) {
                double e = 0;
                for (int c = 0; c < classes; c++) {
                    e += Math.exp(pred.floats.get((n * classes + c) * s + j));
                }
                sum += Math.log(e);
            }
        }
        return sum;
    }

    abstract String kind();

    abstract String description();

    private static volatile boolean noticeShown;

    /** Whether {@link VectorKernels} has been initialised in this JVM (set by its static initialiser; for tests). */
    static volatile boolean vectorKernelsLoaded;

    /**
     * The Vector API kernels when {@code jdk.incubator.vector} is in the boot layer, else the scalar
     * ones with a one-time notice on stderr (as Apache Lucene does).
     */
    static CpuKernels best() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
            try {
                return (CpuKernels) Class.forName("org.segloss.backend.cpu.VectorKernels")
                        .getDeclaredConstructor().newInstance();
            } catch (ReflectiveOperationException | LinkageError e) {
                notice("segloss: Vector API kernels failed to load (" + e + "); using scalar CPU kernels");
            }
        } else {
            notice("segloss: jdk.incubator.vector is not enabled; using scalar CPU kernels "
                    + "(pass --add-modules jdk.incubator.vector for the fast ones)");
        }
        return new ScalarKernels();
    }

    private static void notice(String message) {
        if (!noticeShown && !Boolean.getBoolean("segloss.quiet")) {
            noticeShown = true;
            System.err.println(message);
        }
    }
}
