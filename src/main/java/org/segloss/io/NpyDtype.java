package org.segloss.io;

/**
 * The element types segloss reads from {@code .npy} files. {@link Npy.Accept#STRICT} reads the
 * first seven (little-endian, or byte-sized); {@link Npy.Accept#LENIENT} also the unsigned and bool
 * ones, in either byte order.
 */
public enum NpyDtype {
    /** numpy float32. */
    FLOAT32("<f4", 4, false, true),
    /** numpy float64 (read as float32). */
    FLOAT64("<f8", 8, false, true),
    /** numpy int8. */
    INT8("|i1", 1, true, true),
    /** numpy uint8. */
    UINT8("|u1", 1, true, true),
    /** numpy int16. */
    INT16("<i2", 2, true, true),
    /** numpy int32. */
    INT32("<i4", 4, true, true),
    /** numpy int64 (values must fit int32). */
    INT64("<i8", 8, true, true),
    /** numpy bool, one byte (score only). */
    BOOL("|b1", 1, true, false),
    /** numpy uint16 (score only). */
    UINT16("<u2", 2, true, false),
    /** numpy uint32 (score only). */
    UINT32("<u4", 4, true, false),
    /** numpy uint64 (score only). */
    UINT64("<u8", 8, true, false);

    private final String descr;
    private final int bytes;
    private final boolean integer;
    private final boolean strict;

    NpyDtype(String descr, int bytes, boolean integer, boolean strict) {
        this.descr = descr;
        this.bytes = bytes;
        this.integer = integer;
        this.strict = strict;
    }

    /**
     * The numpy type string as numpy writes it, e.g. {@code <f4} or {@code |u1}.
     *
     * @return the little-endian or byte-sized form, e.g. {@code <f4}
     */
    public String descr() {
        return descr;
    }

    /**
     * Bytes per element.
     *
     * @return 1, 2, 4 or 8
     */
    public int bytes() {
        return bytes;
    }

    /**
     * Whether values are integers (bool counts as an integer).
     *
     * @return true for bool and the int and uint types, false for float32 and float64
     */
    public boolean isInteger() {
        return integer;
    }

    /**
     * Short numpy name, e.g. {@code float32}.
     *
     * @return the lower-case enum name, as numpy's dtype.name
     */
    public String numpyName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The list of type strings {@code accept} reads, for messages. */
    static String accepted(Npy.Accept accept) {
        StringBuilder b = new StringBuilder();
        for (NpyDtype d : values()) {
            if (!d.readBy(accept)) {
                continue;
            }
            if (b.length() > 0) {
                b.append(", ");
            }
            b.append(d.descr).append(" (").append(d.numpyName()).append(')');
        }
        return b.toString();
    }

    private boolean readBy(Npy.Accept accept) {
        return strict || accept == Npy.Accept.LENIENT;
    }

    /**
     * The dtype of a numpy type string as {@code accept} reads it. STRICT: byte-sized types may carry
     * {@code |} or {@code <}, wider ones must be little-endian {@code <}; LENIENT: any of
     * {@code < > | =}. Returns null for anything else (the caller explains why).
     */
    static NpyDtype ofDescr(String descr, Npy.Accept accept) {
        if (descr.length() < 3) {
            return null;
        }
        char order = descr.charAt(0);
        String kind = descr.substring(1);
        for (NpyDtype d : values()) {
            if (d.descr.substring(1).equals(kind) && d.readBy(accept)) {
                boolean ok = accept == Npy.Accept.LENIENT
                        ? order == '<' || order == '>' || order == '|' || order == '='
                        : d.bytes == 1 ? (order == '|' || order == '<') : order == '<';
                return ok ? d : null;
            }
        }
        return null;
    }
}
