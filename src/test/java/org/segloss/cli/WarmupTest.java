package org.segloss.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The bench's warm-up stops when the median of the last 5 runs moved less than 2% from the 5 before. */
class WarmupTest {
    @Test
    void timingsThatSettleAreStableAndTimingsThatStillFallAreNot() {
        // medians by hand: last five 10.0, five before 10.1 (1% apart): stable
        assertTrue(Warmup.stable(List.of(10.1, 10.1, 10.1, 50.0, 9.0, 10.0, 10.0, 10.0, 1.0, 99.0)));
        // last five 10.0, five before 11.0 (9% apart): not stable
        assertFalse(Warmup.stable(List.of(11.0, 11.0, 11.0, 11.0, 11.0, 10.0, 10.0, 10.0, 10.0, 10.0)));
        assertEquals(3.0, Warmup.median(List.of(5.0, 1.0, 3.0)));
    }

    @Test
    void warmUpRunsUntilStableAndAtLeastTheMinimum() {
        int[] calls = {0};
        Warmup.Result r = Warmup.untilStable(() -> calls[0]++, 3, 5);
        assertTrue(r.runs >= 2 * Warmup.WINDOW && r.runs == calls[0], "at least two windows: " + r.runs);
        Warmup.Result none = Warmup.untilStable(() -> { }, 4, 0);
        assertEquals(4, none.runs, "a budget of 0 runs the minimum only");
        assertFalse(none.stable);
    }
}
