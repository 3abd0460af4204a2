package org.segloss.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.segloss.InvalidInputException;

/** The shared size checks: products that overflow, heap needs, pixel limits, each refusal naming the field. */
class InputLimitsTest {
    @Test
    void productsAreExactOrRefusedNamingTheField() {
        assertEquals(6L * 7 * 8, InputLimits.elementCount("shape", 6, 7, 8));
        assertEquals(-12, InputLimits.multiply("x", -3, 4));
        assertEquals(Long.MAX_VALUE, InputLimits.multiply("x", Long.MAX_VALUE, 1));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> InputLimits.elementCount("--shape", 1L << 32, 1L << 31));
        assertEquals("--shape is too large: 4294967296 x 2147483648 overflows 64 bits", e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> InputLimits.elementCount("shape", 2, -1));
        assertTrue(e.getMessage().contains("shape must not have a negative dimension, was [2, -1]"), e.getMessage());
    }

    @Test
    void aNeedBeyondTheHeapIsRefusedWithTheAmountAndHowToRaiseIt() {
        long max = Runtime.getRuntime().maxMemory();
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> InputLimits.requireHeap("the inputs", 2 * max));
        assertTrue(e.getMessage().startsWith("the inputs needs ") && e.getMessage().contains("raise -Xmx with SEGLOSS_JAVA_OPTS"),
                e.getMessage());
        InputLimits.requireHeap("a little", 1024);
    }

    @Test
    void pixelsAboveTheLimitAreRefusedNamingSizeAndLimit() {
        InputLimits.requirePixels("a.png", 16, 16, 256);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> InputLimits.requirePixels("a.png", 16, 17, 256));
        assertEquals("a.png declares 16 x 17 = 272 pixels, more than the limit of 256 (--max-pixels)", e.getMessage());
    }
}
