package org.segloss.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** With the CUDA toolkit present: the shipped PTX is what nvcc builds, and ptxas accepts it. Skips without nvcc/ptxas. */
class PtxToolchainTest {
    @TempDir
    Path dir;

    private static String run(List<String> cmd) throws IOException, InterruptedException {
        return ToolRun.run(cmd, Map.of(), "is not on PATH (CUDA toolkit absent)");
    }

    @ParameterizedTest(name = "ptxas -arch={0} accepts the shipped PTX")
    @ValueSource(strings = {"sm_75", "sm_90"})
    void ptxasAcceptsTheShippedPtx(String arch) throws Exception {
        for (String module : PtxResourceTest.MODULES) {
            Path ptx = dir.resolve(module + ".ptx");
            Files.write(ptx, PtxResourceTest.resource("/ptx/" + module + ".ptx"));
            run(List.of("ptxas", "-arch=" + arch, "-o", dir.resolve(module + "-" + arch + ".cubin").toString(), ptx.toString()));
        }
    }

    @ParameterizedTest(name = "the shipped {0}.ptx is what nvcc builds from kernels-cu/{0}.cu")
    @ValueSource(strings = {"segloss", "lovasz", "edt"})
    void shippedPtxIsWhatNvccBuildsFromKernelsCu(String module) throws Exception {
        Path cu = dir.resolve(module + ".cu");
        Files.write(cu, PtxResourceTest.resource("/kernels-cu/" + module + ".cu"));
        // the shared kernels-cl headers (every one build-ptx.sh hashes)
        for (int i = 1; i < PtxResourceTest.KERNEL_SOURCES.length; i++) {
            String header = PtxResourceTest.KERNEL_SOURCES[i];
            Files.write(dir.resolve(header.substring(header.lastIndexOf('/') + 1)), PtxResourceTest.resource(header));
        }
        Path ptx = dir.resolve("rebuilt.ptx");
        // the flags of ci/build-ptx.sh
        List<String> cmd = new ArrayList<>(List.of("nvcc", "-ptx", "-arch=compute_75", "-std=c++17", "-I", dir.toString(), "-o", ptx.toString(),
                cu.toString()));
        run(cmd);
        // ci/build-ptx.sh then restamps nvcc 13's ISA 9.0 to 8.0 (see docs/cuda.md), with a comment line above
        String nvcc = new String(Files.readAllBytes(ptx), StandardCharsets.US_ASCII);
        assertTrue(nvcc.contains("\n.version 9.0\n"), "nvcc 13 stamps ISA 9.0");
        String restamped = nvcc.replace("\n.version 9.0\n",
                "\n// .version 9.0 of nvcc restamped to 8.0 (CUDA 12.0) by ci/build-ptx.sh\n.version 8.0\n");
        assertEquals(new String(PtxResourceTest.resource("/ptx/" + module + ".ptx"), StandardCharsets.US_ASCII), restamped,
                "shipped PTX differs from nvcc's output, restamped: run ci/build-ptx.sh");
    }
}
