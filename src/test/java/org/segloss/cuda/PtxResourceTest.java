package org.segloss.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The PTX travels in the jar and was built from the kernel source that travels with it. */
class PtxResourceTest {
    /** The CUDA source and the shared headers it includes, in the order ci/build-ptx.sh hashes them. */
    static final String[] KERNEL_SOURCES = {"/kernels-cu/segloss.cu", "/kernels-cl/segloss_gen.h", "/kernels-cl/segloss_terms.h",
        "/kernels-cl/segloss_lovasz.h", "/kernels-cl/segloss_edt.h"};

    static byte[] resource(String name) throws IOException {
        try (InputStream in = PtxResourceTest.class.getResourceAsStream(name)) {
            assertNotNull(in, name + " must be on the class path");
            return in.readAllBytes();
        }
    }

    /** Every CUDA module the backend loads: kernels-cu/NAME.cu built into /ptx/NAME.ptx. */
    static final String[] MODULES = {"segloss", "lovasz", "edt"};

    @ParameterizedTest(name = "{0}.ptx was built from the current kernels-cu/{0}.cu and the shared headers")
    @ValueSource(strings = {"segloss", "lovasz", "edt"})
    void shippedPtxWasBuiltFromTheCurrentKernelSource(String module) throws IOException, NoSuchAlgorithmException {
        // ci/build-ptx.sh hashes the .cu followed by the shared headers (for every module)
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        sha.update(resource("/kernels-cu/" + module + ".cu"));
        for (int i = 1; i < KERNEL_SOURCES.length; i++) {
            sha.update(resource(KERNEL_SOURCES[i]));
        }
        String sourceHash = HexFormat.of().formatHex(sha.digest());
        String recorded = new String(resource("/ptx/" + module + ".ptx.sha256"), StandardCharsets.US_ASCII).trim();
        assertEquals(recorded, sourceHash,
                "kernels-cu/" + module + ".cu or a kernels-cl header changed since the PTX was built: run ci/build-ptx.sh");
    }

    @Test
    void theLovaszPtxTargetsCompute75WithIsa80() throws IOException {
        String ptx = new String(resource("/ptx/lovasz.ptx"), StandardCharsets.US_ASCII);
        assertTrue(ptx.contains("\n.version 8.0\n"), "PTX ISA 8.0, as segloss.ptx");
        assertTrue(ptx.contains("\n.target sm_75\n"), "compute_75, as segloss.ptx");
    }

    @Test
    void shippedPtxTargetsCompute75WithIsa80AndHasEveryKernel() throws IOException {
        String ptx = new String(resource("/ptx/segloss.ptx"), StandardCharsets.US_ASCII);
        assertTrue(ptx.contains("\n.version 8.0\n"), "PTX ISA 8.0 (CUDA 12.0 drivers load it), documented in docs/cuda.md");
        assertTrue(ptx.contains("\n.target sm_75\n"), "compute_75, the oldest architecture nvcc 13 accepts");
        // a sample of the specialised entries (KernelSignatureTest checks the whole list against CudaEntryPoints)
        for (String kernel : new String[] {"stats_binary_logits_bce_float32", "grad_multiclass_logits_ce_hard_region",
                "confusion_multiclass_probs_shared", "stream_read", "combine"}) {
            assertTrue(ptx.contains(".visible .entry " + kernel + "("), "kernel " + kernel + " missing from the PTX");
        }
    }

    @ParameterizedTest(name = "{0}.ptx is built without fast math")
    @ValueSource(strings = {"segloss", "lovasz"})
    void kernelsAreBuiltWithoutFastMath(String module) throws IOException {
        String ptx = new String(resource("/ptx/" + module + ".ptx"), StandardCharsets.US_ASCII);
        // --use_fast_math flushes denormals in plain arithmetic (add/mul .ftz), computes logf with lg2.approx and
        // divides with div.approx; the accurate libdevice expf uses ex2.approx.ftz internally, so that one is allowed
        for (String fast : new String[] {"add.ftz.f32", "mul.ftz.f32", "lg2.approx", "div.approx"}) {
            assertTrue(!ptx.contains(fast), "PTX shows the fast-math instruction " + fast);
        }
    }
}
