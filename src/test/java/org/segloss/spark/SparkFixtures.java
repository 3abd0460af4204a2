package org.segloss.spark;

import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import javax.imageio.ImageIO;

/** Synthetic label maps and score arrays written as PNG and .npy files. */
final class SparkFixtures {
    private SparkFixtures() {
    }

    /** Blocky random labels in [0, classes), with some pixels set to {@code ignore} when it is >= 0. */
    static int[] target(Random rnd, int h, int w, int classes, int ignore) {
        int[] t = new int[h * w];
        int block = 8;
        int[] blocks = new int[((h + block - 1) / block) * ((w + block - 1) / block)];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = rnd.nextInt(classes);
        }
        int bw = (w + block - 1) / block;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                t[y * w + x] = ignore >= 0 && rnd.nextInt(50) == 0 ? ignore : blocks[(y / block) * bw + x / block];
            }
        }
        return t;
    }

    /** The target with a fraction {@code 1 - agree} of the pixels changed to a random class. */
    static int[] prediction(Random rnd, int[] target, int classes, double agree) {
        int[] p = new int[target.length];
        for (int i = 0; i < p.length; i++) {
            int t = target[i] >= classes ? rnd.nextInt(classes) : target[i];
            p[i] = rnd.nextDouble() < agree ? t : rnd.nextInt(classes);
        }
        return p;
    }

    /** An 8-bit grayscale PNG whose values are the labels. */
    static void gray8(Path file, int[] labels, int h, int w) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        WritableRaster r = img.getRaster();
        r.setSamples(0, 0, w, h, 0, labels);
        Files.createDirectories(file.getParent());
        if (!ImageIO.write(img, "png", file.toFile())) {
            throw new IOException("no PNG writer");
        }
    }

    /** Per-class scores (C, H, W) as float32 .npy: high on the predicted class, low elsewhere. */
    static void scores(Path file, Random rnd, int[] pred, int classes, int h, int w) throws IOException {
        int pixels = h * w;
        float[] v = new float[classes * pixels];
        for (int c = 0; c < classes; c++) {
            for (int s = 0; s < pixels; s++) {
                v[c * pixels + s] = pred[s] == c ? 0.6f + 0.3f * rnd.nextFloat() : 0.1f * rnd.nextFloat();
            }
        }
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + classes + ", " + h + ", " + w + "), }";
        String header = dict + " ".repeat(64 - (10 + dict.length() + 1) % 64) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + 4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length());
        b.put(header.getBytes(StandardCharsets.ISO_8859_1));
        b.asFloatBuffer().put(v);
        Files.createDirectories(file.getParent());
        Files.write(file, b.array());
    }

    /** {@code n} PNG pairs {@code dir/pred/<name>.png}, {@code dir/target/<name>.png}. */
    static void pngPairs(Path dir, String prefix, int n, int size, int classes, int ignore, long seed) throws IOException {
        Random rnd = new Random(seed);
        for (int i = 0; i < n; i++) {
            int[] t = target(rnd, size, size, classes, ignore);
            int[] p = prediction(rnd, t, classes, 0.5 + 0.5 * rnd.nextDouble());
            String name = String.format("%s%03d.png", prefix, i);
            gray8(dir.resolve("pred").resolve(name), p, size, size);
            gray8(dir.resolve("target").resolve(name), t, size, size);
        }
    }
}
