package org.segloss.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/**
 * The parameter list of one kernel launch, with its signature in PTX terms ({@code u64} pointer or
 * 64-bit integer, {@code u32} int, {@code f32} float, {@code f64} double) so a test can compare it
 * with the {@code .entry} parameters of the shipped PTX without a GPU.
 */
final class KernelArgs {
    private final List<NativePointerObject> values = new ArrayList<>();
    private final List<String> signature = new ArrayList<>();

    KernelArgs pointer(CUdeviceptr p) {
        values.add(Pointer.to(p));
        signature.add("u64");
        return this;
    }

    KernelArgs i64(long v) {
        values.add(Pointer.to(new long[] {v}));
        signature.add("u64");
        return this;
    }

    KernelArgs i32(int v) {
        values.add(Pointer.to(new int[] {v}));
        signature.add("u32");
        return this;
    }

    KernelArgs i32(boolean v) {
        return i32(v ? 1 : 0);
    }

    KernelArgs f32(double v) {
        values.add(Pointer.to(new float[] {(float) v}));
        signature.add("f32");
        return this;
    }

    KernelArgs f64(double v) {
        values.add(Pointer.to(new double[] {v}));
        signature.add("f64");
        return this;
    }

    /** The {@code void**} that cuLaunchKernel takes. */
    Pointer kernelParams() {
        return Pointer.to(values.toArray(new NativePointerObject[0]));
    }

    /** e.g. {@code [u64, u64, u32, f32]}. */
    List<String> signature() {
        return List.copyOf(signature);
    }
}
