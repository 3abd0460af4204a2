package org.segloss.cli;

import java.util.Random;

/**
 * The demo's synthetic batch: images of shapes on a background, with per-pixel colour features,
 * a class map, and noisy logits that roughly agree with the class map.
 */
final class DemoData {
    static final String[] CLASS_NAMES = {"background", "circle", "square", "triangle"};
    static final int CLASSES = CLASS_NAMES.length;
    /** Colour features per pixel (an RGB-like image). */
    static final int FEATURES = 3;
    /** Mean colour of each class; the image is this plus noise. */
    private static final double[][] CLASS_COLOURS = {
            {0.25, 0.25, 0.30}, {0.80, 0.30, 0.30}, {0.35, 0.75, 0.35}, {0.55, 0.45, 0.80}};
    /** Standard deviation of the pixel noise added to the colours. */
    private static final double COLOUR_NOISE = 0.22;
    /** Height of the correct class's logit above the others in the noisy predictions. */
    private static final double LOGIT_MARGIN = 2.5;
    /** Standard deviation of the noise on every logit. */
    private static final double LOGIT_NOISE = 1.5;

    final int images;
    final int size;
    /** Class map (N, H, W), values 0..3. */
    final byte[] labels;
    /** Colour features (N, F, H, W). */
    final float[] features;
    /** Noisy logits (N, C, H, W). */
    final float[] logits;
    /** One-hot target (N, C, H, W), for the multilabel losses. */
    final float[] oneHot;

    DemoData(int images, int size, long seed) {
        this.images = images;
        this.size = size;
        int pixels = size * size;
        Random rnd = new Random(seed);
        labels = new byte[images * pixels];
        for (int n = 0; n < images; n++) {
            drawShapes(rnd, n * pixels);
        }
        features = new float[images * FEATURES * pixels];
        logits = new float[images * CLASSES * pixels];
        oneHot = new float[images * CLASSES * pixels];
        for (int n = 0; n < images; n++) {
            double brightness = rnd.nextGaussian() * 0.05;
            for (int s = 0; s < pixels; s++) {
                int y = labels[n * pixels + s];
                for (int f = 0; f < FEATURES; f++) {
                    features[(n * FEATURES + f) * pixels + s] =
                            (float) (CLASS_COLOURS[y][f] + brightness + rnd.nextGaussian() * COLOUR_NOISE);
                }
                for (int c = 0; c < CLASSES; c++) {
                    int i = (n * CLASSES + c) * pixels + s;
                    logits[i] = (float) ((c == y ? LOGIT_MARGIN : 0) + rnd.nextGaussian() * LOGIT_NOISE);
                    oneHot[i] = c == y ? 1f : 0f;
                }
            }
        }
    }

    long[] predShape() {
        return new long[] {images, CLASSES, size, size};
    }

    /** A square, a triangle and a circle at random places; later shapes cover earlier ones. */
    private void drawShapes(Random rnd, int offset) {
        int minSize = Math.max(2, size / 8);
        int maxSize = Math.max(minSize + 1, size / 4);
        int half = minSize + rnd.nextInt(maxSize - minSize);
        int cx = half + rnd.nextInt(Math.max(1, size - 2 * half));
        int cy = half + rnd.nextInt(Math.max(1, size - 2 * half));
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                if (Math.abs(x - cx) <= half && Math.abs(y - cy) <= half) {
                    labels[offset + y * size + x] = 2;
                }
            }
        }
        // upright triangle: apex (tx, ty - h), base from (tx - h, ty + h) to (tx + h, ty + h)
        int h = minSize + rnd.nextInt(maxSize - minSize);
        int tx = h + rnd.nextInt(Math.max(1, size - 2 * h));
        int ty = h + rnd.nextInt(Math.max(1, size - 2 * h));
        for (int y = ty - h; y <= ty + h; y++) {
            int halfWidth = (y - (ty - h)) / 2;
            for (int x = tx - halfWidth; x <= tx + halfWidth; x++) {
                if (y >= 0 && y < size && x >= 0 && x < size) {
                    labels[offset + y * size + x] = 3;
                }
            }
        }
        int r = minSize + rnd.nextInt(maxSize - minSize);
        int ox = r + rnd.nextInt(Math.max(1, size - 2 * r));
        int oy = r + rnd.nextInt(Math.max(1, size - 2 * r));
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                if ((x - ox) * (x - ox) + (y - oy) * (y - oy) <= r * r) {
                    labels[offset + y * size + x] = 1;
                }
            }
        }
    }
}
