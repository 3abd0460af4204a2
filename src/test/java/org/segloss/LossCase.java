package org.segloss;

import java.util.Arrays;

/**
 * One input of the contract tests: a spec, a shape, predictions and a target (a {@code float[]},
 * {@code byte[]} read as uint8, {@code int[]} or {@code long[]}), with a readable name for the test report.
 */
final class LossCase {
    final String name;
    final LossSpec spec;
    final long[] shape;
    final float[] pred;
    final Object target;

    LossCase(String name, LossSpec spec, long[] shape, float[] pred, Object target) {
        this.name = name;
        this.spec = spec;
        this.shape = shape;
        this.pred = pred;
        this.target = target;
    }

    double[] predValues() {
        double[] d = new double[pred.length];
        for (int i = 0; i < pred.length; i++) {
            d[i] = pred[i];
        }
        return d;
    }

    double[] targetValues() {
        return targetValues(target);
    }

    static double[] targetValues(Object target) {
        if (target instanceof float[]) {
            float[] f = (float[]) target;
            double[] d = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                d[i] = f[i];
            }
            return d;
        } else if (target instanceof byte[]) {
            byte[] b = (byte[]) target;
            double[] d = new double[b.length];
            for (int i = 0; i < b.length; i++) {
                d[i] = b[i] & 0xFF;
            }
            return d;
        } else if (target instanceof long[]) {
            return Arrays.stream((long[]) target).asDoubleStream().toArray();
        }
        return Arrays.stream((int[]) target).asDoubleStream().toArray();
    }

    /** The reference loss value. */
    double referenceValue() {
        return Reference.value(spec, predValues(), shape, targetValues());
    }

    /** The reference gradient (finite differences). */
    double[] referenceGradient() {
        return Reference.gradient(spec, predValues(), shape, targetValues());
    }

    LossResult forward(LossEngine engine) {
        return forward(engine, spec);
    }

    LossResult forward(LossEngine engine, LossSpec s) {
        if (target instanceof float[]) {
            return engine.forward(s, pred, shape, (float[]) target);
        } else if (target instanceof byte[]) {
            return engine.forward(s, pred, shape, (byte[]) target);
        } else if (target instanceof long[]) {
            return engine.forward(s, pred, shape, (long[]) target);
        }
        return engine.forward(s, pred, shape, (int[]) target);
    }

    LossResult forwardBackward(LossEngine engine, float[] grad) {
        if (target instanceof float[]) {
            return engine.forwardBackward(spec, pred, shape, (float[]) target, grad);
        } else if (target instanceof byte[]) {
            return engine.forwardBackward(spec, pred, shape, (byte[]) target, grad);
        } else if (target instanceof long[]) {
            return engine.forwardBackward(spec, pred, shape, (long[]) target, grad);
        }
        return engine.forwardBackward(spec, pred, shape, (int[]) target, grad);
    }

    DeviceBuffer uploadTarget(LossEngine engine) {
        if (target instanceof float[]) {
            return engine.upload((float[]) target);
        } else if (target instanceof byte[]) {
            return engine.upload((byte[]) target);
        } else if (target instanceof long[]) {
            return engine.upload((long[]) target);
        }
        return engine.upload((int[]) target);
    }

    String targetType() {
        return target instanceof float[] ? "float" : target instanceof byte[] ? "uint8"
                : target instanceof long[] ? "int64" : "int32";
    }

    @Override
    public String toString() {
        return name;
    }
}
