package org.segloss;

import java.util.Locale;

/** The class weights of {@link Loss#GENERALIZED_DICE} (MONAI's {@code w_type}), from each class's target sum T_c. */
public enum GdWeight {
    /** w_c = 1 / T_c^2 (the default, as MONAI). */
    SQUARE("square"),
    /** w_c = 1 / T_c. */
    SIMPLE("simple"),
    /** w_c = 1. */
    UNIFORM("uniform");

    private final String id;

    GdWeight(String id) {
        this.id = id;
    }

    /**
     * The name used by the command line, e.g. {@code square}.
     *
     * @return {@code square}, {@code simple} or {@code uniform}
     */
    public String id() {
        return id;
    }

    /**
     * Parses {@code square}, {@code simple} or {@code uniform}.
     *
     * @param name a weighting name, any case, surrounding blanks ignored; null is refused
     * @return the weighting
     * @throws InvalidInputException when name is null or not one of these, naming the value
     */
    public static GdWeight parse(String name) {
        if (name != null) {
            String key = name.trim().toLowerCase(Locale.ROOT);
            for (GdWeight w : values()) {
                if (w.id.equals(key)) {
                    return w;
                }
            }
        }
        throw new InvalidInputException("gd_weight must be one of square, simple, uniform, was " + name);
    }

    @Override
    public String toString() {
        return id;
    }
}
