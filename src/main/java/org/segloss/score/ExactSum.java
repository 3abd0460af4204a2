package org.segloss.score;

import java.io.Serializable;
import java.math.BigDecimal;
import java.math.MathContext;

/**
 * A sum of doubles kept exactly (every double is a finite decimal), so that sums added in any order
 * or split across shards and merged are identical; the mean is rounded once, from the exact sum.
 */
final class ExactSum implements Serializable {
    private static final long serialVersionUID = 1L;
    private BigDecimal sum = BigDecimal.ZERO;

    ExactSum() {
    }

    /** From the text {@link #toString()} wrote; a malformed one throws {@link NumberFormatException}. */
    static ExactSum parse(String text) {
        ExactSum s = new ExactSum();
        s.sum = new BigDecimal(text);
        return s;
    }

    void add(double v) {
        sum = sum.add(new BigDecimal(v));
    }

    void add(ExactSum other) {
        sum = sum.add(other.sum);
    }

    /** sum / n rounded to a double; NaN when n is 0. */
    double mean(long n) {
        return n == 0 ? Double.NaN : sum.divide(BigDecimal.valueOf(n), MathContext.DECIMAL128).doubleValue();
    }

    ExactSum copy() {
        ExactSum s = new ExactSum();
        s.sum = sum;
        return s;
    }

    /** The exact decimal, as {@link #parse} reads it. */
    @Override
    public String toString() {
        return sum.toPlainString();
    }
}
