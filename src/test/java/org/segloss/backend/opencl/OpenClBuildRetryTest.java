package org.segloss.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Which failed builds are built again: only the kernel cache losing the compiler's temporary file. */
class OpenClBuildRetryTest {
    @Test
    void aVanishedTemporaryInPoclsKernelCacheIsBuiltAgain() {
        // the build log of the failure seen on a cold PoCL cache (segloss score --backend opencl --surface)
        String log = "error: <invalid loc>: unable to rename temporary "
                + "'/root/.cache/pocl/kcache/tempfile_Qx1Dxq.preproc-3d7f566d.cl.tmp' to output file "
                + "'/root/.cache/pocl/kcache/tempfile_Qx1Dxq.preproc.cl': 'No such file or directory'\n"
                + "Device pthread-skylake-avx512-AMD EPYC failed to build the program";
        assertTrue(OpenClBackend.transientBuildFailure(log));
    }

    @Test
    void anErrorInTheSourceIsNotBuiltAgain() {
        String log = "<source>:3:5: error: use of undeclared identifier 'y'\n    y = 1;\n    ^\n1 error generated.";
        assertFalse(OpenClBackend.transientBuildFailure(log));
        assertFalse(OpenClBackend.transientBuildFailure(""));
        assertFalse(OpenClBackend.transientBuildFailure(null));
    }

    @Test
    void aFewBuildsAreTriedAtMost() {
        assertTrue(OpenClBackend.BUILD_ATTEMPTS >= 2 && OpenClBackend.BUILD_ATTEMPTS <= 5);
    }
}
