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
import org.segloss.backend.LovaszProblem;
import org.segloss.backend.PixelTerm;
import org.segloss.backend.Problem;

/**
 * The argument lists the backend builds match the {@code .entry} parameters of the shipped PTX, in
 * number, order and width: a mismatch would make the kernels read garbage, and only a GPU would show
 * it otherwise. The specialised entries ({@link CudaEntryPoints}): every listed one is in the PTX, every one the
 * backend can choose is listed, and each takes the argument list Java builds for it.
 */
class KernelSignatureTest {
    private static final CUdeviceptr P = new CUdeviceptr();
    private static final Problem PROBLEM = new Problem(true, true, Layout.NCHW, 2, 3, 5, ElementType.UINT8, true, 255,
            PixelTerm.CE, true, 1, 1, 2);
    private static final Grid GRID = Grid.of(2, 5);

    private static List<String> ptxParameters(String kernel) throws IOException {
        return ptxParameters(CudaDriver.PTX_RESOURCE, kernel);
    }

    private static List<String> ptxParameters(String resource, String kernel) throws IOException {
        String ptx;
        try (InputStream in = KernelSignatureTest.class.getResourceAsStream(resource)) {
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

    private static String ptx(String resource) throws IOException {
        try (InputStream in = KernelSignatureTest.class.getResourceAsStream(resource)) {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    private static List<String> entries(String resource) throws IOException {
        List<String> entries = new ArrayList<>();
        Matcher m = Pattern.compile("\\.entry (\\w+)\\(").matcher(ptx(resource));
        while (m.find()) {
            entries.add(m.group(1));
        }
        return entries;
    }

    /** Problems that reach every kind of entry (binary terms and targets, multiclass modes, region or not). */
    private static List<Problem> problems() {
        List<Problem> out = new ArrayList<>();
        for (boolean logits : new boolean[] {false, true}) {
            for (ElementType t : ElementType.values()) {
                for (PixelTerm term : new PixelTerm[] {PixelTerm.NONE, PixelTerm.BCE, PixelTerm.FOCAL}) {
                    boolean region = term == PixelTerm.NONE;
                    out.add(new Problem(false, logits, Layout.NHWC, 2, 3, 5, t, true, 255, term, region, 1, 1, 2, false,
                            null, 0.0, false));
                }
                out.add(new Problem(false, logits, Layout.NCHW, 2, 3, 5, t, false, 0, PixelTerm.BCE, true, 1, 1, 0, true,
                        new float[] {1, 2, 3}, 0.1, false));
            }
            for (PixelTerm term : new PixelTerm[] {PixelTerm.NONE, PixelTerm.CE, PixelTerm.FOCAL}) {
                for (boolean region : new boolean[] {false, true}) {
                    out.add(new Problem(true, logits, Layout.NCHW, 2, 3, 5, ElementType.INT64, true, 255, term, region,
                            1, 1, 2, region, null, 0.0, false));
                    out.add(new Problem(true, logits, Layout.NHWC, 2, 3, 5, ElementType.UINT8, false, 0, term, region,
                            1, 1, 2, false, null, 0.1, false));
                    out.add(new Problem(true, logits, Layout.NCHW, 2, 3, 5, ElementType.FLOAT32, false, 0, term, region,
                            1, 1, 2, false, null, 0.0, true));
                }
            }
        }
        return out;
    }

    @Test
    void everySpecialisedEntryOfTheListIsInThePtxAndNoOtherOne() throws IOException {
        List<String> expected = new ArrayList<>(CudaEntryPoints.names());
        expected.addAll(List.of("combine", "stream_read"));
        assertEquals(new java.util.TreeSet<>(expected), new java.util.TreeSet<>(entries(CudaDriver.PTX_RESOURCE)));
        assertEquals(120, CudaEntryPoints.names().size(), "stats, grad and confusion variants (see CudaEntryPoints)");
    }

    @Test
    void everyEntryTheBackendChoosesIsListedAndTakesTheArgumentsJavaBuilds() throws IOException {
        java.util.Set<String> listed = new java.util.HashSet<>(CudaEntryPoints.names());
        java.util.Set<String> chosen = new java.util.TreeSet<>();
        for (Problem p : problems()) {
            for (String name : List.of(CudaEntryPoints.stats(p), CudaEntryPoints.grad(p), CudaEntryPoints.confusion(p, true),
                    CudaEntryPoints.confusion(p, false))) {
                assertTrue(listed.contains(name), name + " (chosen for " + p + ") is not a listed entry");
                chosen.add(name);
            }
            assertEquals(ptxParameters(CudaEntryPoints.stats(p)), CudaBackend.statsArgs(p, GRID, P, P, P, P).signature(), p.toString());
            assertEquals(ptxParameters(CudaEntryPoints.grad(p)), CudaBackend.gradArgs(p, GRID, P, P, P, P).signature(), p.toString());
            assertEquals(ptxParameters(CudaEntryPoints.confusion(p, true)), CudaBackend.confusionArgs(p, GRID, P, P, P, 0.5).signature(),
                    p.toString());
        }
        assertEquals(new java.util.TreeSet<>(CudaEntryPoints.names()), chosen, "every listed entry is reachable from some problem");
    }

    @Test
    void entriesAreChosenByTheProblemsFlags() {
        Problem binary = new Problem(false, true, Layout.NCHW, 2, 3, 5, ElementType.UINT8, false, 0, PixelTerm.BCE, true,
                1, 1, 0, false, new float[] {1, 2, 3}, 0.0, false);
        assertEquals("stats_binary_logits_bce_pw_uint8", CudaEntryPoints.stats(binary));
        assertEquals("grad_binary_logits_bce_pw_uint8", CudaEntryPoints.grad(binary));
        assertEquals("confusion_binary_logits_uint8", CudaEntryPoints.confusion(binary, false));
        Problem smoothed = new Problem(true, false, Layout.NHWC, 2, 3, 5, ElementType.INT32, false, 0, PixelTerm.FOCAL,
                false, 1, 1, 2, false, null, 0.1, false);
        assertEquals("stats_multiclass_probs_focal_smooth", CudaEntryPoints.stats(smoothed));
        assertEquals("grad_multiclass_probs_focal_smooth", CudaEntryPoints.grad(smoothed));
        assertEquals("confusion_multiclass_probs_shared", CudaEntryPoints.confusion(smoothed, true));
        Problem dice = new Problem(true, true, Layout.NCHW, 2, 3, 5, ElementType.FLOAT32, false, 0, PixelTerm.NONE, true,
                1, 1, 0, true, null, 0.0, true);
        assertEquals("stats_multiclass_logits_none_soft", CudaEntryPoints.stats(dice));
        assertEquals("grad_multiclass_logits_none_soft_region", CudaEntryPoints.grad(dice));
    }

    @Test
    void combineArguments() throws IOException {
        assertEquals(ptxParameters("combine"), CudaBackend.combineArgs(P, P, 1, 4, Problem.STATS).signature());
    }

    @Test
    void streamReadArguments() throws IOException {
        assertEquals(ptxParameters("stream_read"), CudaBackend.streamReadArgs(P, P, 10, GRID).signature());
    }

    // ---- the Lovasz module (lovasz.ptx) ----------------------------------------------------------

    private static final LovaszProblem LOVASZ = new LovaszProblem(PROBLEM, true);

    private static List<String> lovaszParameters(String kernel) throws IOException {
        return ptxParameters(CudaDriver.LOVASZ_PTX_RESOURCE, kernel);
    }

    @Test
    void lovaszKeysArguments() throws IOException {
        assertEquals(lovaszParameters("lovasz_keys"), CudaBackend.lovaszKeysArgs(LOVASZ, P, P, P, P, 3).signature());
    }

    @Test
    void lovaszSortLocalAndMergeLocalArguments() throws IOException {
        assertEquals(lovaszParameters("lovasz_sort_local"), CudaBackend.lovaszChunkArgs(P, 10, 1).signature());
        assertEquals(lovaszParameters("lovasz_merge_local"), CudaBackend.lovaszChunkArgs(P, 10, 1).signature());
    }

    @Test
    void lovaszSortStepArguments() throws IOException {
        assertEquals(lovaszParameters("lovasz_sort_step"), CudaBackend.lovaszStepArgs(P, 10, 8, 4, true, 1).signature());
    }

    @Test
    void lovaszCountArguments() throws IOException {
        assertEquals(lovaszParameters("lovasz_count"), CudaBackend.lovaszCountArgs(LOVASZ, P, P, P, 3).signature());
    }

    @Test
    void lovaszApplyArguments() throws IOException {
        assertEquals(lovaszParameters("lovasz_apply"),
                CudaBackend.lovaszApplyArgs(LOVASZ, P, P, P, P, P, P, P, true, 3).signature());
    }

    @Test
    void lovaszSoftmaxChainArguments() throws IOException {
        assertEquals(lovaszParameters("lovasz_softmax_chain"), CudaBackend.lovaszChainArgs(PROBLEM, P, P, 2).signature());
    }

    @Test
    void everyLovaszKernelOfThePtxIsLoaded() throws IOException {
        assertEquals(new java.util.TreeSet<>(entries(CudaDriver.LOVASZ_PTX_RESOURCE)),
                new java.util.TreeSet<>(CudaBackend.LOVASZ_KERNELS));
    }
}
