package org.segloss.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.jocl.cl_mem;
import org.junit.jupiter.api.Test;
import org.segloss.ApiMisuseContractTest;
import org.segloss.ElementType;
import org.segloss.InvalidInputException;
import org.segloss.LossEngine;
import org.segloss.TestBackends;
import org.segloss.backend.opencl.OpenClBackend;

/** API misuse on the OpenCL backend (PoCL in CI): the same messages as on the CPU. */
class OpenClApiMisuseTest extends ApiMisuseContractTest {
    @Override
    protected LossEngine open() {
        return TestBackends.openOrSkip("opencl");
    }

    @Test
    void wrappingALengthWhoseByteSizeOverflowsIsRefusedNamingTheLength() {
        try (LossEngine e = open()) {
            OpenClBackend b = (OpenClBackend) e.backend();
            long length = Long.MAX_VALUE / 2;
            InvalidInputException x = assertThrows(InvalidInputException.class, () -> b.wrap(new cl_mem(), ElementType.FLOAT32, length));
            assertEquals("length in bytes (" + length + " FLOAT32 values) is too large: " + length + " x 4 overflows 64 bits",
                    x.getMessage());
        }
    }
}
