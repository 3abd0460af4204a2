package org.segloss;

import java.util.Locale;

/** How predictions and targets are read. */
public enum Mode {
    /** One or more independent channels, sigmoid probabilities; target has pred's shape (or no class axis when C == 1). */
    BINARY("binary"),
    /** Several independent channels, sigmoid probabilities; target has pred's shape. */
    MULTILABEL("multilabel"),
    /** Softmax over C classes; target is an integer class map of shape (N, *S). */
    MULTICLASS("multiclass");

    private final String id;

    Mode(String id) {
        this.id = id;
    }

    /**
     * The name in options and output: {@code binary}, {@code multilabel} or {@code multiclass}.
     *
     * @return {@code binary}, {@code multilabel} or {@code multiclass}
     */
    public String id() {
        return id;
    }

    /**
     * The mode of a name (any case); others are refused.
     *
     * @param name {@code binary}, {@code multilabel} or {@code multiclass}, any case, surrounding blanks
     *     ignored; null is refused
     * @return the mode
     * @throws InvalidInputException when name is null or not one of these, naming the value
     */
    public static Mode parse(String name) {
        if (name != null) {
            String key = name.trim().toLowerCase(Locale.ROOT);
            for (Mode m : values()) {
                if (m.id.equals(key)) {
                    return m;
                }
            }
        }
        throw new InvalidInputException("mode must be one of binary, multilabel, multiclass, was " + name);
    }

    @Override
    public String toString() {
        return id;
    }
}
