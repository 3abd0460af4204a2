package org.segloss.io;

/** The element types segloss reads from {@code .npy} files (little-endian, or byte-sized). */
public enum NpyDtype {
    FLOAT32("<f4", 4, false),
    FLOAT64("<f8", 8, false),
    INT8("|i1", 1, true),
    UINT8("|u1", 1, true),
    INT16("<i2", 2, true),
    INT32("<i4", 4, true),
    INT64("<i8", 8, true);

    private final String descr;
    private final int bytes;
    private final boolean integer;

    NpyDtype(String descr, int bytes, boolean integer) {
        this.descr = descr;
        this.bytes = bytes;
        this.integer = integer;
    }

    /** The numpy type string as numpy writes it, e.g. {@code <f4} or {@code |u1}. */
    public String descr() {
        return descr;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    public boolean isInteger() {
        return integer;
    }

    /** Short numpy name, e.g. {@code float32}. */
    public String numpyName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The list of accepted type strings, for messages. */
    static String accepted() {
        StringBuilder b = new StringBuilder();
        for (NpyDtype d : values()) {
            if (b.length() > 0) {
                b.append(", ");
            }
            b.append(d.descr).append(" (").append(d.numpyName()).append(')');
        }
        return b.toString();
    }

    /**
     * The dtype of a numpy type string. Byte-sized types may carry {@code |} or {@code <}; wider ones
     * must be little-endian {@code <}. Returns null for anything else (the caller explains why).
     */
    static NpyDtype ofDescr(String descr) {
        if (descr.length() < 3) {
            return null;
        }
        char order = descr.charAt(0);
        String kind = descr.substring(1);
        for (NpyDtype d : values()) {
            if (d.descr.substring(1).equals(kind)) {
                boolean ok = d.bytes == 1 ? (order == '|' || order == '<') : order == '<';
                return ok ? d : null;
            }
        }
        return null;
    }
}
