package org.segloss.backend;

/**
 * The named per-row sums of the stats pass. A {@link Problem} declares which of them its loss needs
 * ({@link Problem#needs}); every backend writes each row as {@link #COUNT_OF_SLOTS} doubles in the
 * order of this enum (the slot of a stat is its ordinal), and finalize reads them by name. The order,
 * the slot numbers and the kernels' {@code STAT_*} defines come from this one list: the kernels include
 * {@code kernels-cl/segloss_gen.h}, which {@link KernelHeader} generates from it (a test keeps the
 * checked-in file equal to the generated text).
 *
 * <p>Sums run over the valid elements of the row (not refused, not ignored). In multiclass mode
 * {@code t = one-hot(y)} and the pixel term of pixel s goes to row (n, y[s]).
 */
public enum Stat {
    /** I = sum p t (region). */
    I("sum p t"),
    /** P = sum p (region). */
    P("sum p"),
    /** T = sum t (region; multiclass always: the valid pixels of each class). */
    T("sum t"),
    /** The summed pixel term (bce, focal, ce). */
    TERM("sum of the pixel term"),
    /** Refused pred values: NaN/inf, or outside [0, 1] when not from logits (multiclass: row (n, c) of the value). */
    BAD_PRED("refused pred values"),
    /** Refused targets: binary outside [0, 1] (and not the ignore value), class index outside [0, C) (row (n, 0)). */
    BAD_TARGET("refused target values"),
    /** sum p^2 (squared_pred). */
    P2("sum p^2"),
    /** sum t^2 (squared_pred). */
    T2("sum t^2"),
    /** Valid (not ignored) elements of the row (binary / multilabel with ignore_index). */
    COUNT("valid elements");

    /** Doubles per row in the stats a backend returns. */
    public static final int COUNT_OF_SLOTS = values().length;

    private final String meaning;

    Stat(String meaning) {
        this.meaning = meaning;
    }

    /** Index of this stat inside a row. */
    public int slot() {
        return ordinal();
    }

    public String meaning() {
        return meaning;
    }
}
