package org.segloss.internal;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import org.segloss.backend.Problem;

/** Finds the first refused value of host data, for error messages only (never on the fast path). */
public final class HostValues {
    private HostValues() {
    }

    /** "at index i: v" for the first pred value that is not finite (or not in [0, 1] for probabilities). */
    public static String firstBadPred(FloatBuffer pred, boolean fromLogits) {
        for (int i = 0; i < pred.remaining(); i++) {
            float v = pred.get(pred.position() + i);
            if (!Float.isFinite(v) || (!fromLogits && (v < 0 || v > 1))) {
                return "at index " + i + ": " + v;
            }
        }
        return "not found on the host copy";
    }

    /** "at index i: v" for the first refused target value. */
    public static String firstBadTarget(Buffer target, Problem p) {
        if (p.softTargets) {
            return firstBadSoftPixel((java.nio.FloatBuffer) target, p);
        }
        for (int i = 0; i < target.remaining(); i++) {
            double v;
            if (target instanceof FloatBuffer) {
                v = ((FloatBuffer) target).get(target.position() + i);
            } else if (target instanceof ByteBuffer) {
                v = ((ByteBuffer) target).get(target.position() + i) & 0xFF;
            } else if (target instanceof LongBuffer) {
                long y = ((LongBuffer) target).get(target.position() + i);
                boolean ok = p.multiclass ? (p.hasIgnoreIndex && y == p.ignoreIndex) || (y >= 0 && y < p.c) : y == 0 || y == 1;
                if (!ok) {
                    return "at index " + i + ": " + y; // exact: a long need not fit a double
                }
                continue;
            } else {
                v = ((IntBuffer) target).get(target.position() + i);
            }
            boolean bad;
            if (p.multiclass) {
                bad = !(v == Math.rint(v) && ((p.hasIgnoreIndex && v == p.ignoreIndex) || (v >= 0 && v < p.c)));
            } else {
                bad = !(v >= 0 && v <= 1) && !(p.hasIgnoreIndex && v == p.ignoreIndex);
            }
            if (bad) {
                return "at index " + i + ": " + (v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v));
            }
        }
        return "not found on the host copy";
    }

    /** The first pixel of soft multiclass targets with a value below 0 (or not finite) or a sum off 1. */
    private static String firstBadSoftPixel(java.nio.FloatBuffer target, Problem p) {
        int c = (int) p.c;
        for (long n = 0; n < p.n; n++) {
            for (long s = 0; s < p.s; s++) {
                double sum = 0;
                boolean ok = true;
                StringBuilder values = new StringBuilder();
                for (int ci = 0; ci < c; ci++) {
                    long i = p.layout == org.segloss.Layout.NHWC ? (n * p.s + s) * c + ci : (n * c + ci) * p.s + s;
                    float v = target.get(target.position() + (int) i);
                    ok &= v >= 0 && Float.isFinite(v);
                    sum += v;
                    values.append(ci == 0 ? "" : ", ").append(v);
                }
                if (!ok || Math.abs(sum - 1) > Problem.SOFT_TARGET_SUM_TOLERANCE) {
                    return "at sample " + n + ", pixel " + s + ": " + values + " (sum " + (float) sum + ")";
                }
            }
        }
        return "not found on the host copy";
    }
}
