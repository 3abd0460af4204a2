package org.segloss.opencl;

import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import org.segloss.DeviceBuffer;
import org.segloss.Loss;
import org.segloss.LossEngine;
import org.segloss.LossSpec;
import org.segloss.Mode;

/**
 * Timing of the OpenCL backend against its streaming-read floor (and the Java CPU backend on host
 * arrays), for docs/opencl.md. Not a test: run with
 * {@code java -cp target/classes:target/test-classes:<jocl.jar> org.segloss.opencl.OpenClBench [first|all]}.
 * {@code first} times only the first forward of a fresh process (program build + PoCL's kernel compile).
 */
public final class OpenClBench {
    private OpenClBench() {
    }

    public static void main(String[] args) {
        String what = args.length > 0 ? args[0] : "all";
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        Random rnd = new Random(7);
        if (what.equals("first")) {
            long t0 = System.nanoTime();
            try (LossEngine e = LossEngine.create("opencl")) {
                long t1 = System.nanoTime();
                float[] x = new float[8 * 4 * 64 * 64];
                float[] t = new float[x.length];
                e.forward(LossSpec.builder(Loss.DICE, Mode.BINARY).fromLogits(true).build(), x, new long[] {8, 4, 64, 64}, t);
                long t2 = System.nanoTime();
                e.forward(LossSpec.builder(Loss.DICE, Mode.BINARY).fromLogits(true).build(), x, new long[] {8, 4, 64, 64}, t);
                long t3 = System.nanoTime();
                System.out.printf(Locale.ROOT, "open %.0f ms, first dice forward %.0f ms, second %.1f ms%n",
                        (t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6);
            }
            return;
        }
        try (LossEngine cl = LossEngine.create("opencl"); LossEngine cpu = LossEngine.create("cpu")) {
            System.out.println("device: " + cl.device() + " | cpu: " + cpu.device());
            long[] bin = {8, 4, 512, 512};
            float[] x = gaussian(rnd, 8 * 4 * 512 * 512);
            float[] t = new float[x.length];
            for (int i = 0; i < t.length; i++) {
                t[i] = rnd.nextInt(2);
            }
            DeviceBuffer dx = cl.upload(x);
            DeviceBuffer dt = cl.upload(t);
            DeviceBuffer dg = cl.allocateFloats(x.length);
            double floorBin = time(reps, () -> cl.backend().streamRead(dx) + cl.backend().streamRead(dt));
            row("binary 8x4x512x512 float target", "stream_read pred+target", floorBin, floorBin, Double.NaN);
            for (Loss loss : new Loss[] {Loss.DICE, Loss.BCE}) {
                LossSpec spec = LossSpec.builder(loss, Mode.BINARY).fromLogits(true).build();
                float[] g = new float[x.length];
                double f = time(reps, () -> cl.forward(spec, dx, bin, dt).value());
                double fb = time(reps, () -> cl.forwardBackward(spec, dx, bin, dt, dg).value());
                double cf = time(reps, () -> cpu.forward(spec, x, bin, t).value());
                double cfb = time(reps, () -> cpu.forwardBackward(spec, x, bin, t, g).value());
                row("binary 8x4x512x512 float target", loss + " forward", f, floorBin, cf);
                row("binary 8x4x512x512 float target", loss + " forward+backward", fb, floorBin, cfb);
            }
            dx.close();
            dt.close();
            dg.close();

            long[] mc = {8, 19, 256, 256};
            float[] xm = gaussian(rnd, 8 * 19 * 256 * 256);
            byte[] ym = new byte[8 * 256 * 256];
            for (int i = 0; i < ym.length; i++) {
                ym[i] = (byte) rnd.nextInt(19);
            }
            DeviceBuffer mx = cl.upload(xm);
            DeviceBuffer my = cl.upload(ym);
            DeviceBuffer mg = cl.allocateFloats(xm.length);
            double floorMc = time(reps, () -> cl.backend().streamRead(mx) + cl.backend().streamRead(my));
            row("multiclass 8x19x256x256 uint8", "stream_read pred+target", floorMc, floorMc, Double.NaN);
            for (Loss loss : new Loss[] {Loss.DICE, Loss.CE}) {
                LossSpec spec = LossSpec.builder(loss, Mode.MULTICLASS).fromLogits(true).build();
                float[] g = new float[xm.length];
                double f = time(reps, () -> cl.forward(spec, mx, mc, my).value());
                double fb = time(reps, () -> cl.forwardBackward(spec, mx, mc, my, mg).value());
                double cf = time(reps, () -> cpu.forward(spec, xm, mc, ym).value());
                double cfb = time(reps, () -> cpu.forwardBackward(spec, xm, mc, ym, g).value());
                row("multiclass 8x19x256x256 uint8", loss + " forward", f, floorMc, cf);
                row("multiclass 8x19x256x256 uint8", loss + " forward+backward", fb, floorMc, cfb);
            }
        }
    }

    interface Run {
        double run();
    }

    /** Median milliseconds of {@code reps} runs after one warm-up. */
    static double time(int reps, Run r) {
        double sink = r.run();
        double[] ms = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            sink += r.run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        if (Double.isNaN(sink)) {
            System.out.println("(NaN sink)");
        }
        Arrays.sort(ms);
        return ms[reps / 2];
    }

    static void row(String shape, String what, double ms, double floor, double cpuMs) {
        System.out.printf(Locale.ROOT, "| %s | %s | %.1f | %.2fx | %s |%n", shape, what, ms, ms / floor,
                Double.isNaN(cpuMs) ? "" : String.format(Locale.ROOT, "%.1f", cpuMs));
    }

    static float[] gaussian(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rnd.nextGaussian() * 3);
        }
        return x;
    }
}
