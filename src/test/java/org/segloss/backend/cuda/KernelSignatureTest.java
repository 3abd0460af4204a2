package org.segloss.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.Test;
import org.segloss.ElementType;
import org.segloss.Layout;
import org.segloss.backend.PixelTerm;
import org.segloss.backend.Problem;

/**
 * The argument lists the backend builds match the {@code .entry} parameters of the shipped PTX, in
 * number, order and width: a mismatch would make the kernels read garbage, and only a GPU would show
 * it otherwise.
 */
class KernelSignatureTest {
    private static final CUdeviceptr P = new CUdeviceptr();
    private static final Problem PROBLEM = new Problem(true, true, Layout.NCHW, 2, 3, 5, ElementType.UINT8, true, 255,
            PixelTerm.CE, true, 1, 1, 2);
    private static final Grid GRID = Grid.of(2, 5);

    private static List<String> ptxParameters(String kernel) throws IOException {
        String ptx;
        try (InputStream in = KernelSignatureTest.class.getResourceAsStream(CudaDriver.PTX_RESOURCE)) {
            ptx = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
        Matcher entry = Pattern.compile("\\.entry " + kernel + "\\(([^)]*)\\)").matcher(ptx);
        assertTrue(entry.find(), "no .entry " + kernel + " in the PTX");
        List<String> types = new ArrayList<>();
        Matcher param = Pattern.compile("\\.param \\.(\\w+) ").matcher(entry.group(1));
        while (param.find()) {
            types.add(param.group(1).replace("b64", "u64").replace("s64", "u64").replace("b32", "u32").replace("s32", "u32"));
        }
        return types;
    }

    @Test
    void statsArguments() throws IOException {
        assertEquals(ptxParameters("stats"), CudaBackend.statsArgs(PROBLEM, GRID, P, P, P, P).signature());
    }

    @Test
    void gradArguments() throws IOException {
        assertEquals(ptxParameters("grad"), CudaBackend.gradArgs(PROBLEM, GRID, P, P, P, P).signature());
    }

    @Test
    void confusionArguments() throws IOException {
        assertEquals(ptxParameters("confusion"), CudaBackend.confusionArgs(PROBLEM, GRID, P, P, P, 0.5, true).signature());
    }

    @Test
    void combineArguments() throws IOException {
        assertEquals(ptxParameters("combine"), CudaBackend.combineArgs(P, P, 1, 4, Problem.STATS).signature());
    }

    @Test
    void streamReadArguments() throws IOException {
        assertEquals(ptxParameters("stream_read"), CudaBackend.streamReadArgs(P, P, 10, GRID).signature());
    }
}
