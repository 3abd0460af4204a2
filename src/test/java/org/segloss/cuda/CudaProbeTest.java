package org.segloss.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.segloss.backend.Dispatcher;
import org.segloss.backend.Probe;

/**
 * The probe's failure paths, without a GPU: a child JVM runs {@link ProbeChild} with
 * {@code LD_LIBRARY_PATH} pointing at a stub {@code libcuda.so.1} compiled here with gcc. JCuda
 * extracts {@code libJCudaDriver} from its jar and loads it with {@code System.load}; the dynamic
 * linker then resolves its {@code NEEDED libcuda.so.1} through {@code LD_LIBRARY_PATH}, and its
 * {@code cu*} symbols bind lazily, so a stub that defines only the functions the probe reaches
 * stands in for the driver and really answers {@code cuInit}.
 */
class CudaProbeTest {
    /** Dice loss of ProbeChild's case: 1 - (2 * 1.5 + 1) / (1.8 + 2 + 1). */
    private static final double CHILD_LOSS = 1 - 4.0 / 4.8;

    @TempDir
    Path dir;

    @Test
    void probeNeverThrowsAndExplainsAnUnusableDevice() {
        Dispatcher.resetForTests();
        Probe p = Dispatcher.probe("cuda", true);
        assertEquals("cuda", p.backend());
        if (p.usable()) {
            assertFalse(p.device().isBlank(), "a usable probe names its device");
        } else {
            assertFalse(p.reason().isBlank(), "an unusable probe says why");
        }
    }

    @Test
    void cuInitReturningNoDeviceMakesCudaUnusableAndAutoFallsBack() throws Exception {
        Map<String, String> out = runWithStub("int cuInit(unsigned int flags) { return 100; /* CUDA_ERROR_NO_DEVICE */ }\n");
        assertEquals("false", out.get("cuda.usable"), out.toString());
        assertTrue(out.get("cuda.reason").contains("cuInit failed: CUDA_ERROR_NO_DEVICE"), out.toString());
        assertFallback(out);
        assertTrue(out.get("explicit.error").contains("CUDA_ERROR_NO_DEVICE"), out.toString());
    }

    @Test
    void aDriverWithoutDevicesMakesCudaUnusableAndAutoFallsBack() throws Exception {
        Map<String, String> out = runWithStub("int cuInit(unsigned int flags) { return 0; }\n"
                + "int cuDeviceGetCount(int *count) { *count = 0; return 0; }\n");
        assertEquals("false", out.get("cuda.usable"), out.toString());
        assertTrue(out.get("cuda.reason").contains("no CUDA device (cuDeviceGetCount returned 0)"), out.toString());
        assertFallback(out);
    }

    /**
     * A driver as far as the probe reaches it: one device, its primary context, and cuModuleLoadData
     * that reads the image's {@code .version} line and refuses an ISA newer than {@code maxIsa} with
     * CUDA_ERROR_UNSUPPORTED_PTX_VERSION (222), as a real driver of that CUDA version does. It prints
     * {@code stub.ptx=accepted|refused .version X} to stdout; cuStreamCreate then fails with
     * CUDA_ERROR_OUT_OF_MEMORY (2), which ends the probe after the module load.
     */
    private static String driverStub(int driverVersion, String maxIsa) {
        return "#include <stdio.h>\n#include <string.h>\n#include <unistd.h>\n"
                + "int cuInit(unsigned int flags) { return 0; }\n"
                + "int cuDeviceGetCount(int *count) { *count = 1; return 0; }\n"
                + "int cuDeviceGet(int *device, int ordinal) { *device = ordinal; return 0; }\n"
                + "int cuDriverGetVersion(int *version) { *version = " + driverVersion + "; return 0; }\n"
                + "int cuDevicePrimaryCtxRetain(void **context, int device) { *context = (void *) 0x1000; return 0; }\n"
                + "int cuDevicePrimaryCtxRelease_v2(int device) { return 0; }\n"
                + "int cuCtxSetCurrent(void *context) { return 0; }\n"
                + "int cuModuleUnload(void *module) { return 0; }\n"
                + "int cuStreamCreate(void **stream, unsigned flags) { return 2; }\n"
                + "static int load(void **module, const char *image) {\n"
                + "  const char *v = strstr(image, \"\\n.version \");\n"
                + "  int major = 0, minor = 0; char line[64];\n"
                + "  if (v == NULL || sscanf(v + 10, \"%d.%d\", &major, &minor) != 2) return 218; /* INVALID_PTX */\n"
                + "  int ok = major * 10 + minor <= " + maxIsa.replace(".", "") + ";\n"
                + "  int n = snprintf(line, sizeof line, \"stub.ptx=%s .version %d.%d\\n\", ok ? \"accepted\" : \"refused\", major, minor);\n"
                + "  if (write(1, line, n) != n) return 999;\n"
                + "  if (!ok) return 222;\n"
                + "  *module = (void *) 0x2000; return 0;\n"
                + "}\n"
                + "int cuModuleLoadData(void **module, const void *image) { return load(module, image); }\n"
                + "int cuModuleLoadDataEx(void **module, const void *image, unsigned n, void *o, void **v) {"
                + " return load(module, image); }\n";
    }

    @Test
    void aCuda12DriverLoadsTheShippedPtx() throws Exception {
        // CUDA 12.0 (r525) loads PTX up to ISA 8.0
        Map<String, String> out = runWithStub(driverStub(12000, "8.0"));
        assertEquals("accepted .version 8.0", out.get("stub.ptx"), out.toString());
        assertEquals("false", out.get("cuda.usable"), out.toString());
        assertTrue(out.get("cuda.reason").contains("cuStreamCreate failed: CUDA_ERROR_OUT_OF_MEMORY"), out.toString());
        assertFallback(out);
    }

    @Test
    void aDriverThatRefusesThePtxIsReportedWithTheDriverRequirement() throws Exception {
        // CUDA 11.8 loads PTX up to ISA 7.8
        Map<String, String> out = runWithStub(driverStub(11080, "7.8"));
        assertEquals("refused .version 8.0", out.get("stub.ptx"), out.toString());
        assertEquals("false", out.get("cuda.usable"), out.toString());
        String reason = out.get("cuda.reason");
        assertTrue(reason.contains("refused the shipped PTX") && reason.contains("CUDA_ERROR_UNSUPPORTED_PTX_VERSION"),
                out.toString());
        assertTrue(reason.contains("this driver supports CUDA 11.8, the PTX needs CUDA 12.0 (driver r525 or newer)"),
                out.toString());
        assertFallback(out);
    }

    @Test
    void withoutLibcudaTheProbeNamesTheMissingLibrary() throws Exception {
        assumeTrue(!systemHasLibcuda(), "this machine has a libcuda.so.1 the dynamic linker finds anyway");
        Map<String, String> out = runChild(dir.resolve("empty"));
        assertEquals("false", out.get("cuda.usable"), out.toString());
        assertTrue(out.get("cuda.reason").contains("libcuda.so.1"), out.toString());
        assertFallback(out);
    }

    private static void assertFallback(Map<String, String> out) {
        assertNotEquals("cuda", out.get("auto"), out.toString());
        assertEquals(Dispatcher.BACKENDS.contains(out.get("auto")), true, out.toString());
        assertEquals(CHILD_LOSS, Double.parseDouble(out.get("auto.loss")), 1e-6, out.toString());
        assertTrue(out.containsKey("explicit.error"), "asking for cuda explicitly must fail: " + out);
    }

    private static boolean systemHasLibcuda() throws IOException, InterruptedException {
        for (String d : List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib/x86_64-linux-gnu")) {
            if (Files.exists(Path.of(d, "libcuda.so.1"))) {
                return true;
            }
        }
        Process p = new ProcessBuilder("/sbin/ldconfig", "-p").redirectErrorStream(true).start();
        String cache = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return cache.contains("libcuda.so.1 ");
    }

    private Map<String, String> runWithStub(String source) throws Exception {
        Path lib = dir.resolve("stub");
        Files.createDirectories(lib);
        Path c = lib.resolve("stub.c");
        Files.writeString(c, "/* stand-in for the NVIDIA driver, written by CudaProbeTest */\n" + source);
        ToolRun.run(List.of("gcc", "-shared", "-fPIC", "-o", lib.resolve("libcuda.so.1").toString(), c.toString()),
                Map.of(), "is not available to build the stub libcuda.so.1");
        return runChild(lib);
    }

    /**
     * The class path of the child JVM: {@code segloss.test.classpath} when set (the JUnit console
     * launcher of ci/gpu-check.sh loads tests from its own class loader), else this JVM's.
     */
    static String childClassPath() {
        String cp = System.getProperty("segloss.test.classpath");
        return cp == null || cp.isBlank() ? System.getProperty("java.class.path") : cp;
    }

    private Map<String, String> runChild(Path libraryPath) throws Exception {
        Files.createDirectories(libraryPath);
        Path tmp = Files.createDirectories(dir.resolve("jvm-tmp"));
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector",
                "-Djava.io.tmpdir=" + tmp, // JCuda extracts libJCudaDriver here: a fresh copy per child
                "-cp", childClassPath(),
                ProbeChild.class.getName()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("LD_LIBRARY_PATH", libraryPath.toString());
        pb.environment().remove("SEGLOSS_BACKEND");
        Process p = pb.start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM did not finish: " + text);
        assertEquals(0, p.exitValue(), "child JVM failed:\n" + text);
        Map<String, String> out = new HashMap<>();
        for (String line : text.split("\\R")) {
            int eq = line.indexOf('=');
            if (eq > 0 && !line.startsWith(" ")) {
                out.putIfAbsent(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        assertTrue(out.containsKey("cuda.usable"), "child printed no probe:\n" + text);
        return out;
    }
}
