package org.segloss.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cuBLAS 12 shim of ci/cublas-shim (used by ci/gpu-check.sh on machines with only cuBLAS 13):
 * JCublas 12.6 loads through it and its calls reach the library named by SEGLOSS_CUBLAS13. Here that
 * library is a stand-in compiled by the test whose functions record their arguments, so the test
 * shows the loading (soname, symbol version) and the forwarding, not cuBLAS itself. Needs gcc and the
 * repository's ci/ folder (Maven runs from the repository root); skips with the reason otherwise.
 */
class CublasShimTest {
    @TempDir
    Path dir;

    /** cuBLAS 13 as far as the shim reaches it: sdot returns n + incx / 10 + incy / 100, sgemv checks m and lda. */
    private static final String CUBLAS13_STAND_IN = String.join("\n",
            "int cublasCreate_v2(void **h) { *h = (void *) 0x10; return 0; }",
            "int cublasDestroy_v2(void *h) { return h == (void *) 0x10 ? 0 : 7; }",
            "int cublasSetStream_v2(void *h, void *s) { return 0; }",
            "int cublasSetPointerMode_v2(void *h, int mode) { return mode == 0 ? 0 : 7; }",
            "int cublasSdot_v2(void *h, int n, const float *x, int incx, const float *y, int incy, float *r) {",
            "  *r = n + incx / 10.0f + incy / 100.0f; return 0; }",
            "int cublasSgemv_v2(void *h, int t, int m, int n, const float *a, const float *A, int lda, const float *x,",
            "  int incx, const float *b, float *y, int incy) { return t == 1 && m == 4096 && lda == 4096 && n == 3 ? 0 : 7; }",
            "");

    @Test
    void jcublasLoadsThroughTheShimAndReachesCublas13() throws Exception {
        Path build = Path.of("ci", "cublas-shim", "build.sh").toAbsolutePath();
        assumeTrue(Files.isRegularFile(build), "ci/cublas-shim/build.sh not found from " + Path.of("").toAbsolutePath()
                + " (the test runs from the repository root)");
        Path shim = dir.resolve("shim");
        ToolRun.run(List.of("bash", build.toString(), shim.toString()), Map.of(), "is not available");
        Path source = dir.resolve("cublas13.c");
        Files.writeString(source, CUBLAS13_STAND_IN);
        Path cublas13 = dir.resolve("libcublas.so.13");
        ToolRun.run(List.of("gcc", "-shared", "-fPIC", "-o", cublas13.toString(), source.toString()), Map.of(),
                "is not available to build the stand-in cuBLAS 13");

        String out = ToolRun.run(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.io.tmpdir=" + Files.createDirectories(dir.resolve("jvm-tmp")),
                "-cp", CudaProbeTest.childClassPath(), CublasShimChild.class.getName()),
                Map.of("LD_LIBRARY_PATH", shim.toString(), "SEGLOSS_CUBLAS13", cublas13.toString()), "is not available");
        Map<String, String> values = new HashMap<>();
        for (String line : out.split("\\R")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                values.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        for (String call : new String[] {"create", "pointerMode", "sdot", "sgemv", "destroy"}) {
            assertEquals("0", values.get(call), call + " status; child printed:\n" + out);
        }
        assertEquals(6.11f, Float.parseFloat(values.get("dot")), 1e-6f, "the stand-in's sdot result: " + out);
    }
}
