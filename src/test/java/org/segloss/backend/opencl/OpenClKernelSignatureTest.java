package org.segloss.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.segloss.ElementType;
import org.segloss.Layout;
import org.segloss.backend.PixelTerm;
import org.segloss.backend.Problem;

/**
 * The argument lists the OpenCL backend sets match the parameter lists of the kernels in kernels-cl, in number,
 * order and kind (buffer, ulong, int, float), for the binary and the multiclass variant of each kernel: a
 * mismatch makes a kernel read the wrong argument, which PoCL only notices when the sizes differ.
 */
class OpenClKernelSignatureTest {
    private static final String MEM = "buffer";
    private static final Problem BINARY = new Problem(false, true, Layout.NCHW, 2, 3, 5, ElementType.FLOAT32, true, 255,
            PixelTerm.BCE, true, 1, 1, 2, true, new float[] {1, 2, 3}, 0.1, false);
    private static final Problem MULTICLASS = new Problem(true, true, Layout.NCHW, 2, 3, 5, ElementType.UINT8, true, 255,
            PixelTerm.CE, true, 1, 1, 2);

    private static String read(String file) throws IOException {
        return new String(Files.readAllBytes(Path.of("kernels-cl", file)), StandardCharsets.UTF_8);
    }

    /** Kinds of the parameters of the {@code index}-th definition of kernel {@code name} in {@code file} (0 binary, 1 multiclass). */
    private static List<String> kernelParameters(String file, String name, int index) throws IOException {
        String source = read(file);
        Matcher geometry = Pattern.compile("#define BINARY_GEOMETRY_ARGS ([^\\n]*\\\\\\n[^\\n]*)").matcher(read("common.cl"));
        assertTrue(geometry.find(), "BINARY_GEOMETRY_ARGS in common.cl");
        Matcher m = Pattern.compile("void " + name + "\\(([^)]*)\\)").matcher(source);
        for (int i = 0; i <= index; i++) {
            assertTrue(m.find(), "definition " + i + " of kernel " + name + " in " + file);
        }
        String params = m.group(1).replace("BINARY_GEOMETRY_ARGS", geometry.group(1).replace("\\\n", " "));
        List<String> kinds = new ArrayList<>();
        for (String p : params.split(",")) {
            String t = p.trim();
            kinds.add(t.contains("*") ? MEM : t.startsWith("ulong") || t.startsWith("long") ? "ulong"
                    : t.startsWith("uint") || t.startsWith("int") ? "int" : t.startsWith("float") ? "float" : "unknown " + t);
        }
        return kinds;
    }

    private static List<String> javaKinds(Object[] args) {
        List<String> kinds = new ArrayList<>();
        for (Object a : args) {
            kinds.add(a == MEM ? MEM : a instanceof Long ? "ulong" : a instanceof Integer ? "int"
                    : a instanceof Float ? "float" : "unknown " + a);
        }
        return kinds;
    }

    private static OpenClBackend.Geometry geometry() {
        return new OpenClBackend.Geometry(BINARY, 64, 4);
    }

    @Test
    void binaryStatsArgumentsMatchTheKernel() throws IOException {
        assertEquals(kernelParameters("stats.cl", "stats", 0),
                javaKinds(OpenClBackend.statsArgs(BINARY, geometry(), MEM, MEM, MEM, MEM, MEM)));
    }

    @Test
    void multiclassStatsArgumentsMatchTheKernels() throws IOException {
        for (int general = 1; general <= 2; general++) {
            assertEquals(kernelParameters("stats.cl", "stats", general),
                    javaKinds(OpenClBackend.statsArgs(MULTICLASS, null, MEM, MEM, MEM, MEM, null)));
        }
    }

    @Test
    void binaryGradArgumentsMatchTheKernel() throws IOException {
        assertEquals(kernelParameters("grad.cl", "grad", 0),
                javaKinds(OpenClBackend.gradArgs(BINARY, geometry(), MEM, MEM, MEM, MEM, MEM, MEM, MEM)));
    }

    @Test
    void multiclassGradArgumentsMatchTheKernels() throws IOException {
        for (int general = 1; general <= 2; general++) {
            assertEquals(kernelParameters("grad.cl", "grad", general),
                    javaKinds(OpenClBackend.gradArgs(MULTICLASS, null, MEM, MEM, MEM, MEM, MEM, MEM, null)));
        }
    }

    @Test
    void confusionArgumentsMatchTheKernels() throws IOException {
        assertEquals(kernelParameters("confusion.cl", "confusion", 0),
                javaKinds(OpenClBackend.confusionArgs(BINARY, geometry(), MEM, MEM, MEM, MEM, 0.5f)));
        assertEquals(kernelParameters("confusion.cl", "confusion", 1),
                javaKinds(OpenClBackend.confusionArgs(MULTICLASS, null, MEM, MEM, MEM, MEM, 0.5f)));
    }

    @Test
    void lovaszApplyArguments() throws IOException {
        assertEquals(kernelParameters("lovasz.cl", "lovasz_apply", 0),
                javaKinds(OpenClBackend.lovaszApplyArgs(BINARY, MEM, MEM, MEM, MEM, MEM, MEM, MEM, 10L)));
    }
}
