package org.segloss.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Warms a timed piece of work up until its timings are stable, so that {@code bench} and the demo
 * do not time code the JIT has not compiled yet: untimed runs continue until the median of the last
 * {@link #WINDOW} runs differs by less than {@link #TOLERANCE} from the median of the
 * {@link #WINDOW} runs before them, or until the time budget is spent.
 */
final class Warmup {
    /** Runs per median. */
    static final int WINDOW = 5;

    /** Largest relative move of the median that counts as stable. */
    static final double TOLERANCE = 0.02;

    private Warmup() {
    }

    /** How a warm-up ended. */
    static final class Result {
        final int runs;
        final boolean stable;

        Result(int runs, boolean stable) {
            this.runs = runs;
            this.stable = stable;
        }
    }

    /**
     * Runs {@code work} at least {@code minRuns} times, then until stable or {@code budgetSeconds}
     * have passed since the start (a budget of 0 stops after {@code minRuns}: no stability asked).
     */
    static Result untilStable(Runnable work, int minRuns, double budgetSeconds) {
        long start = System.nanoTime();
        long budget = (long) (budgetSeconds * 1e9);
        List<Double> ms = new ArrayList<>();
        while (true) {
            long t0 = System.nanoTime();
            work.run();
            long t1 = System.nanoTime();
            ms.add((t1 - t0) / 1e6);
            int n = ms.size();
            if (n < minRuns) {
                continue;
            }
            if (n >= 2 * WINDOW && stable(ms)) {
                return new Result(n, true);
            }
            if (t1 - start >= budget) {
                return new Result(n, false);
            }
        }
    }

    /** Whether the median of the last window moved less than the tolerance from the window before. */
    static boolean stable(List<Double> ms) {
        int n = ms.size();
        double now = median(ms.subList(n - WINDOW, n));
        double before = median(ms.subList(n - 2 * WINDOW, n - WINDOW));
        return Math.abs(now - before) <= TOLERANCE * before;
    }

    static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
}
