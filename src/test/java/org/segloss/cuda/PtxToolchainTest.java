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
        Path ptx = dir.resolve("segloss.ptx");
        Files.write(ptx, PtxResourceTest.resource("/ptx/segloss.ptx"));
        run(List.of("ptxas", "-arch=" + arch, "-o", dir.resolve("segloss-" + arch + ".cubin").toString(), ptx.toString()));
    }

    @Test
    void shippedPtxIsWhatNvccBuildsFromKernelsCu() throws Exception {
        Path cu = dir.resolve("segloss.cu");
        Files.write(cu, PtxResourceTest.resource("/kernels-cu/segloss.cu"));
        for (String header : new String[] {"segloss_gen.h", "segloss_terms.h"}) {
            Files.write(dir.resolve(header), PtxResourceTest.resource("/kernels-cl/" + header));
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
        assertEquals(new String(PtxResourceTest.resource("/ptx/segloss.ptx"), StandardCharsets.US_ASCII), restamped,
                "shipped PTX differs from nvcc's output, restamped: run ci/build-ptx.sh");
    }
}
