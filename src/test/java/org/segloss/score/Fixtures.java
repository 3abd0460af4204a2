package org.segloss.score;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import javax.imageio.ImageIO;

/** Writes test inputs (PNG with ImageIO, .npy by hand) and computes expected counts with plain loops. */
final class Fixtures {
    private Fixtures() {
    }

    static void gray8(Path file, int[] labels, int h, int w) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setPixels(0, 0, w, h, labels);
        write(img, file);
    }

    static void gray16(Path file, int[] labels, int h, int w) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_USHORT_GRAY);
        img.getRaster().setPixels(0, 0, w, h, labels);
        write(img, file);
    }

    /** A palette PNG with {@code bits} bits per index (8 or 4) and colours unlike the indices. */
    static void palette(Path file, int[] labels, int h, int w, int bits) throws IOException {
        int size = 1 << bits;
        byte[] r = new byte[size];
        byte[] g = new byte[size];
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            r[i] = (byte) (255 - i * 7);
            g[i] = (byte) (i * 31);
            b[i] = (byte) (i * 13 + 5);
        }
        IndexColorModel cm = new IndexColorModel(bits, size, r, g, b);
        BufferedImage img = bits == 8 ? new BufferedImage(w, h, BufferedImage.TYPE_BYTE_INDEXED, cm)
                : new BufferedImage(w, h, BufferedImage.TYPE_BYTE_BINARY, cm);
        WritableRaster raster = img.getRaster();
        raster.setPixels(0, 0, w, h, labels);
        write(img, file);
    }

    static void rgb(Path file, int h, int w) throws IOException {
        write(new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB), file);
    }

    private static void write(BufferedImage img, Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        if (!ImageIO.write(img, "png", file.toFile())) {
            throw new IOException("no PNG writer for " + img);
        }
    }

    /** A version-1 .npy with the given dtype descr ('<i4', '|u1', '<f4', '>f8', ...). */
    static void npy(Path file, String descr, long[] shape, Number[] values) throws IOException {
        StringBuilder s = new StringBuilder();
        for (long d : shape) {
            s.append(d).append(", ");
        }
        String shapeText = shape.length == 1 ? "(" + shape[0] + ",)" : "(" + s.substring(0, s.length() - 2) + ")";
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shapeText + ", }";
        int pad = 64 - (10 + dict.length() + 1) % 64;
        String header = dict + " ".repeat(pad % 64) + "\n";
        int item = Integer.parseInt(descr.substring(2));
        ByteBuffer buf = ByteBuffer.allocate(10 + header.length() + values.length * item)
                .order(descr.charAt(0) == '>' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        buf.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        buf.order(ByteOrder.LITTLE_ENDIAN).putShort((short) header.length());
        buf.order(descr.charAt(0) == '>' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        buf.put(header.getBytes(StandardCharsets.ISO_8859_1));
        char kind = descr.charAt(1);
        for (Number v : values) {
            if (kind == 'f') {
                if (item == 4) {
                    buf.putFloat(v.floatValue());
                } else {
                    buf.putDouble(v.doubleValue());
                }
            } else if (item == 1) {
                buf.put((byte) v.intValue());
            } else if (item == 2) {
                buf.putShort((short) v.intValue());
            } else if (item == 4) {
                buf.putInt(v.intValue());
            } else {
                buf.putLong(v.longValue());
            }
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, buf.array());
    }

    static Number[] boxed(int[] v) {
        Number[] out = new Number[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }

    static Number[] boxed(float[] v) {
        Number[] out = new Number[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }

    static int[] randomLabels(Random rnd, int n, int classes) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = rnd.nextInt(classes);
        }
        return out;
    }

    /** A prediction that agrees with the target with probability {@code agree}, else a random class. */
    static int[] noisy(Random rnd, int[] target, int classes, double agree) {
        int[] out = target.clone();
        for (int i = 0; i < out.length; i++) {
            if (rnd.nextDouble() >= agree) {
                out[i] = rnd.nextInt(classes);
            }
        }
        return out;
    }

    /** Expected counts [k][c] (k = 0 TP, 1 FP, 2 FN), one class at a time, by the definition. */
    static long[][] expected(int classes, int[] pred, int[] target, Integer ignore) {
        long[][] k = new long[3][classes];
        for (int c = 0; c < classes; c++) {
            for (int i = 0; i < target.length; i++) {
                if (ignore != null && target[i] == ignore) {
                    continue;
                }
                boolean p = pred[i] == c;
                boolean t = target[i] == c;
                if (p && t) {
                    k[0][c]++;
                } else if (p) {
                    k[1][c]++;
                } else if (t) {
                    k[2][c]++;
                }
            }
        }
        return k;
    }

    static void add(long[][] into, long[][] more) {
        for (int j = 0; j < into.length; j++) {
            for (int c = 0; c < into[j].length; c++) {
                into[j][c] += more[j][c];
            }
        }
    }
}
