package org.segloss.backend.cuda;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;
import org.segloss.BackendUnavailableException;
import org.segloss.DeviceBuffer;
import org.segloss.ElementType;
import org.segloss.InvalidInputException;

/**
 * The vendor-library comparison for {@code segloss bench} and a cross-check of the kernel sums:
 * the region statistics of Dice composed from cuBLAS calls, {@code I = sdot(p, t)},
 * {@code P = sum p}, {@code T = sum t}, where {@code sum x} is {@code sgemv(x viewed as a ROWS x k
 * matrix, transposed, ones)} followed by {@code sdot(column sums, ones)} plus the tail.
 *
 * <p>JCublas needs {@code libcublas.so.12} (a CUDA 12 toolkit or the cuBLAS wheel), which many
 * machines lack: it is loaded lazily on the first call of {@link #available()} or {@link #open},
 * never by the backend itself, and its absence is reported by {@link #unavailableReason()}.
 * Results are float sums (cuBLAS computes in float), added in double across pieces.
 */
public final class CublasSums implements AutoCloseable {
    /** Rows of the matrix view in {@link #sum}: each column sum adds this many floats. */
    static final int ROWS = 4096;
    /** Longest vector one cuBLAS call takes (its lengths are int). */
    static final long MAX_PIECE = 1L << 30;

    private static volatile String unavailable;
    private static volatile boolean probed;

    private final CudaBackend backend;
    private final Library library;

    private CublasSums(CudaBackend backend, Library library) {
        this.backend = backend;
        this.library = library;
    }

    /** Whether JCublas and {@code libcublas.so.12} load here (tried once). */
    public static boolean available() {
        return unavailableReason().isEmpty();
    }

    /** Empty when cuBLAS is usable, else why not (e.g. {@code libcublas.so.12: cannot open shared object file}). */
    public static synchronized String unavailableReason() {
        if (!probed) {
            try {
                Library.load();
                unavailable = "";
            } catch (LinkageError e) {
                unavailable = "cuBLAS not loadable (JCublas needs libcublas.so.12): " + firstCause(e);
            } catch (RuntimeException e) {
                unavailable = "cuBLAS not usable: " + e.getMessage();
            }
            probed = true;
        }
        return unavailable;
    }

    private static String firstCause(LinkageError e) {
        for (String line : String.valueOf(e.getMessage()).split("\\R")) {
            if (line.contains("cannot open shared object") || line.contains("undefined symbol")) {
                return line.trim();
            }
        }
        return String.valueOf(e.getMessage()).split("\\R")[0];
    }

    /** A cuBLAS handle on the backend's context and stream; throws {@link BackendUnavailableException} with the reason. */
    public static CublasSums open(CudaBackend backend) {
        if (!available()) {
            throw new BackendUnavailableException(unavailableReason());
        }
        backend.makeCurrent();
        return new CublasSums(backend, new Library(backend));
    }

    /** sum of a float buffer: sgemv with ones, then sdot of the column sums with ones. */
    public double sum(DeviceBuffer buffer) {
        CudaBuffer b = floats(buffer, "buffer");
        return library.sum(b.pointer, b.length());
    }

    /** sum a b of two float buffers of the same length (sdot, in pieces). */
    public double dot(DeviceBuffer a, DeviceBuffer b) {
        CudaBuffer x = floats(a, "a");
        CudaBuffer y = floats(b, "b");
        if (x.length() != y.length()) {
            throw new InvalidInputException("a and b must have the same length, were " + x.length() + " and " + y.length());
        }
        return library.dot(x.pointer, y.pointer, x.length());
    }

    /** {I, P, T} of Dice over whole buffers (all rows together): the cuBLAS composition of the stats pass. */
    public double[] diceSums(DeviceBuffer pred, DeviceBuffer target) {
        return new double[] {dot(pred, target), sum(pred), sum(target)};
    }

    private CudaBuffer floats(DeviceBuffer buffer, String what) {
        CudaBuffer b = backend.own(buffer, what);
        if (b.type != ElementType.FLOAT32) {
            throw new InvalidInputException(what + " must be float32 for cuBLAS, was " + b.type);
        }
        return b;
    }

    @Override
    public void close() {
        library.close();
    }

    /** Everything that touches JCublas classes: loaded only through {@link #load()} or an instance. */
    private static final class Library {
        private final CudaBackend backend;
        private final jcuda.jcublas.cublasHandle handle = new jcuda.jcublas.cublasHandle();
        private CUdeviceptr ones;
        private long onesLength;
        private CUdeviceptr columnSums;
        private long columnSumsLength;

        static void load() {
            jcuda.jcublas.JCublas2.initialize();
        }

        Library(CudaBackend backend) {
            this.backend = backend;
            check(jcuda.jcublas.JCublas2.cublasCreate(handle), "cublasCreate");
            check(jcuda.jcublas.JCublas2.cublasSetStream(handle, new jcuda.runtime.cudaStream_t(backend.stream())),
                    "cublasSetStream");
            check(jcuda.jcublas.JCublas2.cublasSetPointerMode(handle, jcuda.jcublas.cublasPointerMode.CUBLAS_POINTER_MODE_HOST),
                    "cublasSetPointerMode");
        }

        private static void check(int status, String operation) {
            if (status != jcuda.jcublas.cublasStatus.CUBLAS_STATUS_SUCCESS) {
                throw new org.segloss.BackendException("cuBLAS " + operation + " failed: "
                        + jcuda.jcublas.cublasStatus.stringFor(status));
            }
        }

        /** A device vector of at least {@code length} ones (float 1.0f = 0x3f800000). */
        private CUdeviceptr ones(long length) {
            if (ones == null || onesLength < length) {
                if (ones != null) {
                    JCudaDriver.cuMemFree(ones);
                }
                ones = new CUdeviceptr();
                CudaDriver.check(JCudaDriver.cuMemAlloc(ones, length * 4), "cuMemAlloc(ones)");
                CudaDriver.check(JCudaDriver.cuMemsetD32Async(ones, Float.floatToIntBits(1f), length, backend.stream()),
                        "cuMemsetD32Async(ones)");
                onesLength = length;
            }
            return ones;
        }

        double dot(CUdeviceptr a, CUdeviceptr b, long length) {
            backend.makeCurrent();
            double total = 0;
            float[] r = {0};
            for (long done = 0; done < length; done += MAX_PIECE) {
                int n = (int) Math.min(MAX_PIECE, length - done);
                check(jcuda.jcublas.JCublas2.cublasSdot(handle, n, a.withByteOffset(done * 4), 1,
                        b.withByteOffset(done * 4), 1, Pointer.to(r)), "cublasSdot");
                total += r[0];
            }
            return total;
        }

        double sum(CUdeviceptr x, long length) {
            backend.makeCurrent();
            long columns = length / ROWS;
            long tail = length % ROWS;
            double total = 0;
            float[] r = {0};
            if (columns > 0) {
                CUdeviceptr one = ones(Math.max(ROWS, columns));
                if (columnSums == null || columnSumsLength < columns) {
                    if (columnSums != null) {
                        JCudaDriver.cuMemFree(columnSums);
                    }
                    columnSums = new CUdeviceptr();
                    CudaDriver.check(JCudaDriver.cuMemAlloc(columnSums, columns * 4), "cuMemAlloc(column sums)");
                    columnSumsLength = columns;
                }
                // y = A^T ones, A = x viewed column-major as ROWS x columns (lda = ROWS): y[j] = sum of column j
                check(jcuda.jcublas.JCublas2.cublasSgemv(handle, jcuda.jcublas.cublasOperation.CUBLAS_OP_T, ROWS,
                        (int) columns, Pointer.to(new float[] {1f}), x, ROWS, one, 1, Pointer.to(new float[] {0f}),
                        columnSums, 1), "cublasSgemv");
                check(jcuda.jcublas.JCublas2.cublasSdot(handle, (int) columns, columnSums, 1, one, 1, Pointer.to(r)),
                        "cublasSdot");
                total += r[0];
            }
            if (tail > 0) {
                CUdeviceptr one = ones(Math.max(ROWS, tail));
                check(jcuda.jcublas.JCublas2.cublasSdot(handle, (int) tail, x.withByteOffset(columns * ROWS * 4), 1,
                        one, 1, Pointer.to(r)), "cublasSdot");
                total += r[0];
            }
            return total;
        }

        void close() {
            if (!backend.isClosed()) {
                backend.makeCurrent();
                backend.synchronize();
                if (ones != null) {
                    JCudaDriver.cuMemFree(ones);
                }
                if (columnSums != null) {
                    JCudaDriver.cuMemFree(columnSums);
                }
            }
            jcuda.jcublas.JCublas2.cublasDestroy(handle);
        }
    }
}
