package org.segloss.backend.cuda;

import org.segloss.InvalidInputException;

/**
 * How a pass is cut into blocks: {@code units} independent units (rows (n, c) in binary mode,
 * samples n in multiclass mode, the whole buffer for stream_read) of {@code length} elements each;
 * every unit gets {@link #blocksPerUnit} blocks of {@link CudaBackend#THREADS} threads and every
 * thread {@link #items} elements. Depends only on the problem's size, never on the device, so sums
 * come out the same on every GPU and every run.
 *
 * <p>blocksPerUnit = min(ceil(length / (THREADS * FLUSH)), MAX_BLOCKS_PER_UNIT), then
 * items = ceil(length / (THREADS * blocksPerUnit)) and blocksPerUnit = ceil(length / (THREADS * items))
 * so no block is empty.
 */
final class Grid {
    final long units;
    final int blocksPerUnit;
    final int items;

    private Grid(long units, int blocksPerUnit, int items) {
        this.units = units;
        this.blocksPerUnit = blocksPerUnit;
        this.items = items;
    }

    static Grid of(long units, long length) {
        if (units < 1 || length < 1) {
            throw new InvalidInputException("a pass needs at least one element, had " + units + " units of " + length);
        }
        long perBlockMin = (long) CudaBackend.THREADS * CudaBackend.FLUSH;
        long blocks = Math.min(ceilDiv(length, perBlockMin), CudaBackend.MAX_BLOCKS_PER_UNIT);
        long items = ceilDiv(length, CudaBackend.THREADS * blocks);
        if (items > Integer.MAX_VALUE) {
            throw new InvalidInputException("unit of " + length + " elements is too long for one pass");
        }
        blocks = ceilDiv(length, CudaBackend.THREADS * items);
        return new Grid(units, (int) blocks, (int) items);
    }

    /** Total number of blocks of the launch. */
    long blocks() {
        return units * blocksPerUnit;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
