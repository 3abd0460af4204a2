package org.segloss;

import java.util.Locale;

/** Where the class axis of {@code pred} is. */
public enum Layout {
    /** Channels first: (N, C, *S). */
    NCHW("nchw"),
    /** Channels last: (N, *S, C). */
    NHWC("nhwc");

    private final String id;

    Layout(String id) {
        this.id = id;
    }

    /**
     * The name in options and output: {@code nchw} or {@code nhwc}.
     *
     * @return {@code nchw} or {@code nhwc}
     */
    public String id() {
        return id;
    }

    /**
     * The layout of a name ({@code nchw}, {@code nhwc}, any case); others are refused.
     *
     * @param name {@code nchw} or {@code nhwc}, any case, surrounding blanks ignored; null is refused
     * @return the layout
     * @throws InvalidInputException when name is null or not one of these, naming the value
     */
    public static Layout parse(String name) {
        if (name != null) {
            String key = name.trim().toLowerCase(Locale.ROOT);
            for (Layout l : values()) {
                if (l.id.equals(key)) {
                    return l;
                }
            }
        }
        throw new InvalidInputException("layout must be one of nchw, nhwc, was " + name);
    }

    @Override
    public String toString() {
        return id;
    }
}
