package org.segloss.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The block decomposition covers every element once, leaves no block empty and stays bounded. */
class GridTest {
    @ParameterizedTest(name = "a unit of {0} elements")
    @ValueSource(longs = {1, 31, 256, 8191, 8192, 8193, 1_000_000, 268_435_456L, 3L << 31, 1L << 40})
    void blocksCoverTheUnitExactlyWithNoEmptyBlock(long length) {
        Grid g = Grid.of(3, length);
        long perBlock = (long) CudaBackend.THREADS * g.items;
        assertTrue((long) g.blocksPerUnit * perBlock >= length, "elements past the last block");
        assertTrue((long) (g.blocksPerUnit - 1) * perBlock < length, "the last block is empty");
        assertTrue(g.blocksPerUnit <= CudaBackend.MAX_BLOCKS_PER_UNIT, "blocks per unit " + g.blocksPerUnit);
        assertEquals(3L * g.blocksPerUnit, g.blocks());
    }

    @ParameterizedTest(name = "a unit of {0} elements")
    @ValueSource(longs = {8192, 1_000_000, 268_435_456L})
    void threadsGetAtLeastOneFlushOfElementsWhenTheUnitIsLong(long length) {
        Grid g = Grid.of(1, length);
        assertTrue(g.items >= CudaBackend.FLUSH || g.blocksPerUnit == 1, "items " + g.items);
    }
}
