package org.segloss.internal;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import org.segloss.DeviceBuffer;
import org.segloss.InvalidInputException;
import org.segloss.LossSpec;
import org.segloss.backend.Backend;
import org.segloss.backend.LovaszProblem;
import org.segloss.backend.Problem;

/**
 * The host side of the Lovasz losses (spec "Lovasz losses"): the refusals from the pass's counts, the
 * gradient weight of each segment and the mean of the terms, in double.
 * <ul>
 * <li>binary/multilabel: every segment is a term; loss = mean of the terms, weight = 1 / segments;</li>
 * <li>multiclass: a sample's (the batch's with {@code batch}) value is the mean of the terms of the classes present
 *     in its target (G > 0), 0 when none is present; loss = mean over samples; weight =
 *     1 / (present classes of the sample * samples) for a present class, 0 for an absent one.</li>
 * </ul>
 */
public final class LovaszPass {
    private LovaszPass() {
    }

    /** The loss value and the term of each segment. */
    public static final class Outcome {
        public final double value;
        public final double[] terms;

        Outcome(double value, double[] terms) {
            this.value = value;
            this.terms = terms;
        }
    }

    /** Runs the pass; host buffers (or null) only name the first refused value in a message. */
    public static Outcome run(Backend backend, LossSpec spec, Problem problem, DeviceBuffer pred, DeviceBuffer target,
                              DeviceBuffer grad, FloatBuffer hostPred, Buffer hostTarget) {
        LovaszProblem q = new LovaszProblem(problem, spec.batch());
        double[][] weights = new double[1][];
        double[] terms = backend.lovasz(q, pred, target, counts -> {
            refuse(spec, problem, counts, hostPred, hostTarget);
            weights[0] = weights(q, counts);
            float[] w = new float[weights[0].length];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) weights[0][i];
            }
            return w;
        }, grad);
        double value = 0;
        for (int seg = 0; seg < terms.length; seg++) {
            value += weights[0][seg] * terms[seg];
        }
        return new Outcome(value, terms);
    }

    static double[] weights(LovaszProblem q, long[] counts) {
        int segments = q.segments();
        double[] w = new double[segments];
        if (!q.problem.multiclass) {
            java.util.Arrays.fill(w, 1.0 / segments);
            return w;
        }
        int c = (int) q.problem.c;
        int samples = segments / c;
        for (int nb = 0; nb < samples; nb++) {
            int present = 0;
            for (int ci = 0; ci < c; ci++) {
                present += counts[(nb * c + ci) * LovaszProblem.COUNTS + LovaszProblem.COUNT_POSITIVE] > 0 ? 1 : 0;
            }
            for (int ci = 0; ci < c; ci++) {
                boolean here = counts[(nb * c + ci) * LovaszProblem.COUNTS + LovaszProblem.COUNT_POSITIVE] > 0;
                w[nb * c + ci] = here ? 1.0 / ((double) present * samples) : 0.0;
            }
        }
        return w;
    }

    private static void refuse(LossSpec spec, Problem problem, long[] counts, FloatBuffer hostPred, Buffer hostTarget) {
        long badPred = 0;
        long badTarget = 0;
        for (int i = 0; i < counts.length; i += LovaszProblem.COUNTS) {
            badPred += counts[i + LovaszProblem.COUNT_BAD_PRED];
            badTarget += counts[i + LovaszProblem.COUNT_BAD_TARGET];
        }
        if (badPred > 0) {
            String allowed = spec.fromLogits() ? "finite" : "finite probabilities in [0, 1] (set from_logits for logits)";
            throw new InvalidInputException("pred must hold " + allowed + "; " + badPred + " value"
                    + (badPred == 1 ? " is" : "s are") + " not"
                    + (hostPred == null ? "" : ", first " + HostValues.firstBadPred(hostPred, spec.fromLogits())));
        }
        if (badTarget > 0) {
            String ignore = problem.hasIgnoreIndex ? " or ignore_index " + problem.ignoreIndex : "";
            if (problem.multiclass) {
                throw new InvalidInputException("target must hold class indices in [0, " + problem.c + ")" + ignore + "; "
                        + badTarget + " value" + (badTarget == 1 ? " is" : "s are") + " not"
                        + (hostTarget == null ? "" : ", first " + HostValues.firstBadTarget(hostTarget, problem)));
            }
            throw new InvalidInputException("target must hold hard labels, exactly 0 or 1" + ignore
                    + ", for lovasz (soft targets are refused); " + badTarget + " value"
                    + (badTarget == 1 ? " is" : "s are") + " not" + (hostTarget == null ? "" : ", first " + firstSoft(hostTarget, problem)));
        }
    }

    /** "at index i: v" for the first binary target value that is neither 0, 1 nor the ignore value. */
    private static String firstSoft(Buffer target, Problem p) {
        for (int i = 0; i < target.remaining(); i++) {
            double v = target instanceof FloatBuffer ? ((FloatBuffer) target).get(target.position() + i)
                    : target instanceof ByteBuffer ? ((ByteBuffer) target).get(target.position() + i) & 0xFF
                    : target instanceof LongBuffer ? ((LongBuffer) target).get(target.position() + i)
                    : ((IntBuffer) target).get(target.position() + i);
            if (!(v == 0 || v == 1 || (p.hasIgnoreIndex && v == p.ignoreIndex))) {
                return "at index " + i + ": " + (target instanceof FloatBuffer ? Float.toString((float) v) : Long.toString((long) v));
            }
        }
        return "not found on the host copy";
    }
}
