package org.segloss.cuda;

import jcuda.Pointer;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasOperation;
import jcuda.jcublas.cublasPointerMode;

/**
 * Run in a child JVM by {@link CublasShimTest}, with the cuBLAS 12 shim on LD_LIBRARY_PATH and a
 * stand-in cuBLAS 13 in SEGLOSS_CUBLAS13: loads JCublas2 and makes the calls CublasSums makes,
 * printing each status and the dot result, one {@code key=value} per line.
 */
public final class CublasShimChild {
    private CublasShimChild() {
    }

    public static void main(String[] args) {
        JCublas2.initialize();
        cublasHandle handle = new cublasHandle();
        System.out.println("create=" + JCublas2.cublasCreate(handle));
        System.out.println("pointerMode=" + JCublas2.cublasSetPointerMode(handle, cublasPointerMode.CUBLAS_POINTER_MODE_HOST));
        float[] dot = {0};
        System.out.println("sdot=" + JCublas2.cublasSdot(handle, 6, new Pointer(), 1, new Pointer(), 1, Pointer.to(dot)));
        System.out.println("dot=" + dot[0]);
        System.out.println("sgemv=" + JCublas2.cublasSgemv(handle, cublasOperation.CUBLAS_OP_T, 4096, 3,
                Pointer.to(new float[] {1f}), new Pointer(), 4096, new Pointer(), 1, Pointer.to(new float[] {0f}),
                new Pointer(), 1));
        System.out.println("destroy=" + JCublas2.cublasDestroy(handle));
    }
}
