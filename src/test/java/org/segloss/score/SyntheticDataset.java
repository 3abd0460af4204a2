package org.segloss.score;

import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Random;

/**
 * Synthetic segmentation data: targets are Voronoi maps (random seeds, each a class), predictions
 * the same map with the seeds moved by a per-image amount plus a few wrong-class discs, so per-image
 * Dice spreads over a range like a real model's. Writes {@code pred/} and {@code target/} PNGs (or
 * float32 score .npy predictions). {@code main(dir, n, size, classes)} for scripts.
 */
final class SyntheticDataset {
    private SyntheticDataset() {
    }

    static int[][] pair(Random rnd, int h, int w, int classes) {
        int seeds = 24 + rnd.nextInt(16);
        double[] sx = new double[seeds];
        double[] sy = new double[seeds];
        int[] sc = new int[seeds];
        for (int i = 0; i < seeds; i++) {
            sx[i] = rnd.nextDouble() * w;
            sy[i] = rnd.nextDouble() * h;
            sc[i] = rnd.nextInt(classes);
        }
        double jitter = Math.pow(rnd.nextDouble(), 2) * 0.12 * w;
        double[] px = new double[seeds];
        double[] py = new double[seeds];
        int[] pc = sc.clone();
        for (int i = 0; i < seeds; i++) {
            px[i] = sx[i] + rnd.nextGaussian() * jitter;
            py[i] = sy[i] + rnd.nextGaussian() * jitter;
            if (rnd.nextDouble() < 0.08) {
                pc[i] = rnd.nextInt(classes);
            }
        }
        int[] target = voronoi(h, w, sx, sy, sc);
        int[] pred = voronoi(h, w, px, py, pc);
        int discs = rnd.nextInt(4);
        for (int d = 0; d < discs; d++) {
            int cx = rnd.nextInt(w);
            int cy = rnd.nextInt(h);
            int r = 5 + rnd.nextInt(Math.max(6, w / 12));
            int c = rnd.nextInt(classes);
            for (int y = Math.max(0, cy - r); y < Math.min(h, cy + r); y++) {
                for (int x = Math.max(0, cx - r); x < Math.min(w, cx + r); x++) {
                    if ((x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r) {
                        pred[y * w + x] = c;
                    }
                }
            }
        }
        return new int[][] {pred, target};
    }

    private static int[] voronoi(int h, int w, double[] sx, double[] sy, int[] sc) {
        int[] out = new int[h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double best = Double.MAX_VALUE;
                int c = 0;
                for (int i = 0; i < sx.length; i++) {
                    double dx = x - sx[i];
                    double dy = y - sy[i];
                    double d = dx * dx + dy * dy;
                    if (d < best) {
                        best = d;
                        c = sc[i];
                    }
                }
                out[y * w + x] = c;
            }
        }
        return out;
    }

    /** Writes {@code n} PNG pairs (8-bit gray) into {@code dir/pred} and {@code dir/target}. */
    static void writePng(Path dir, int n, int size, int classes, long seed) throws IOException {
        Random rnd = new Random(seed);
        for (int i = 0; i < n; i++) {
            int[][] p = pair(rnd, size, size, classes);
            String name = String.format("img%04d.png", i);
            Fixtures.gray8(dir.resolve("pred").resolve(name), p[0], size, size);
            Fixtures.gray8(dir.resolve("target").resolve(name), p[1], size, size);
        }
    }

    /** Writes {@code n} pairs with float32 (C, H, W) score predictions (one-hot-ish softmax-like values). */
    static void writeScores(Path dir, int n, int size, int classes, long seed) throws IOException {
        Random rnd = new Random(seed);
        for (int i = 0; i < n; i++) {
            int[][] p = pair(rnd, size, size, classes);
            int pixels = size * size;
            float[] v = new float[classes * pixels];
            for (int c = 0; c < classes; c++) {
                for (int s = 0; s < pixels; s++) {
                    v[c * pixels + s] = p[0][s] == c ? 0.6f + 0.3f * rnd.nextFloat() : 0.02f * rnd.nextFloat();
                }
            }
            String name = String.format("img%04d", i);
            writeFloatNpy(dir.resolve("pred").resolve(name + ".npy"), new long[] {classes, size, size}, v);
            Fixtures.gray8(dir.resolve("target").resolve(name + ".png"), p[1], size, size);
        }
    }

    /** A float32 .npy written in one go (Fixtures.npy boxes every value, too slow for millions). */
    static void writeFloatNpy(Path file, long[] shape, float[] v) throws IOException {
        StringBuilder s = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            s.append(i > 0 ? ", " : "").append(shape[i]);
        }
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + s.append(")") + ", }";
        String header = dict + " ".repeat(64 - (10 + dict.length() + 1) % 64) + "\n";
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(10 + header.length() + 4 * v.length)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length());
        b.put(header.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        b.asFloatBuffer().put(v);
        java.nio.file.Files.createDirectories(file.getParent());
        java.nio.file.Files.write(file, b.array());
    }

    public static void main(String[] args) throws IOException {
        Path dir = Paths.get(args[0]);
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 40;
        int size = args.length > 2 ? Integer.parseInt(args[2]) : 256;
        int classes = args.length > 3 ? Integer.parseInt(args[3]) : 19;
        writePng(dir, n, size, classes, 42);
    }
}
