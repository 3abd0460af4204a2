package org.segloss.backend.cpu;

import org.segloss.backend.Problem;

/** Test access to the package-private coverage rule of the Vector API kernels ({@link VectorKernels#covered}). */
public final class VectorLanes {
    private VectorLanes() {
    }

    /** Whether the vector backend runs this problem on its lanes (else the scalar kernels run it whole). */
    public static boolean covered(Problem p) {
        return VectorKernels.covered(p);
    }

    /** Adds the compiler directive that keeps each lane loop in its own compile unit; whether the JVM took it. */
    public static boolean addCompilerDirectives() {
        return VectorKernels.addCompilerDirectives();
    }
}
