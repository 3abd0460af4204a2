package org.segloss;

/** Element type of a buffer. Integer class maps are read as they are stored, never expanded. */
public enum ElementType {
    /** 32-bit IEEE float (predictions, gradients, float targets). */
    FLOAT32(4),
    /** Read as unsigned 0..255. */
    UINT8(1),
    /** Signed 32-bit integer class map. */
    INT32(4),
    /** 64-bit class maps, as DJL and PyTorch make them (read as stored, never narrowed). */
    INT64(8);

    private final int bytes;

    ElementType(int bytes) {
        this.bytes = bytes;
    }

    /**
     * Bytes per element.
     *
     * @return 1, 4 or 8
     */
    public int bytes() {
        return bytes;
    }
}
