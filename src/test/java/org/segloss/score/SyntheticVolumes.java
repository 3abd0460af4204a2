package org.segloss.score;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Random;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * Synthetic 3-D label volumes for the surface-distance benchmark: targets hold a few ellipsoids
 * ("organs", classes 1..K-1) on background; predictions the same ellipsoids moved by a voxel or
 * three and resized a little, plus a small false blob. Written as uint8 NIfTI-1 {@code .nii.gz}
 * with spacing 0.8 x 0.8 x 2.0 into {@code pred/} and {@code target/}.
 * {@code main(dir, count, nx, ny, nz, classes)} for scripts (ci/bench-volumes.sh).
 */
final class SyntheticVolumes {
    private SyntheticVolumes() {
    }

    static void ellipsoid(byte[] v, int nx, int ny, int nz, double cx, double cy, double cz, double rx, double ry, double rz,
                          int label) {
        int x0 = Math.max(0, (int) (cx - rx)), x1 = Math.min(nx - 1, (int) (cx + rx) + 1);
        int y0 = Math.max(0, (int) (cy - ry)), y1 = Math.min(ny - 1, (int) (cy + ry) + 1);
        int z0 = Math.max(0, (int) (cz - rz)), z1 = Math.min(nz - 1, (int) (cz + rz) + 1);
        for (int z = z0; z <= z1; z++) {
            for (int y = y0; y <= y1; y++) {
                for (int x = x0; x <= x1; x++) {
                    double dx = (x - cx) / rx;
                    double dy = (y - cy) / ry;
                    double dz = (z - cz) / rz;
                    if (dx * dx + dy * dy + dz * dz <= 1) {
                        v[(z * ny + y) * nx + x] = (byte) label;
                    }
                }
            }
        }
    }

    static void write(Path file, byte[] v, int nx, int ny, int nz) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(352).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(0, 348);
        short[] dim = {3, (short) nx, (short) ny, (short) nz, 1, 1, 1, 1};
        float[] pixdim = {1, 0.8f, 0.8f, 2.0f, 1, 1, 1, 1};
        for (int i = 0; i < 8; i++) {
            h.putShort(40 + 2 * i, dim[i]);
            h.putFloat(76 + 4 * i, pixdim[i]);
        }
        h.putShort(70, (short) 2);
        h.putShort(72, (short) 8);
        h.putFloat(108, 352);
        h.put(344, (byte) 'n').put(345, (byte) '+').put(346, (byte) '1');
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file), 1 << 16) {
            {
                def.setLevel(Deflater.BEST_SPEED);
            }
        }) {
            out.write(h.array());
            out.write(v);
        }
    }

    public static void main(String[] args) throws IOException {
        Path dir = Paths.get(args[0]);
        int count = Integer.parseInt(args[1]);
        int nx = Integer.parseInt(args[2]);
        int ny = Integer.parseInt(args[3]);
        int nz = Integer.parseInt(args[4]);
        int classes = Integer.parseInt(args[5]);
        Files.createDirectories(dir.resolve("pred"));
        Files.createDirectories(dir.resolve("target"));
        Random rnd = new Random(42);
        for (int i = 0; i < count; i++) {
            byte[] t = new byte[nx * ny * nz];
            byte[] p = new byte[nx * ny * nz];
            for (int c = 1; c < classes; c++) {
                double cx = nx * (0.25 + 0.5 * rnd.nextDouble());
                double cy = ny * (0.25 + 0.5 * rnd.nextDouble());
                double cz = nz * (0.25 + 0.5 * rnd.nextDouble());
                double rx = nx * (0.06 + 0.1 * rnd.nextDouble());
                double ry = ny * (0.06 + 0.1 * rnd.nextDouble());
                double rz = nz * (0.06 + 0.1 * rnd.nextDouble());
                ellipsoid(t, nx, ny, nz, cx, cy, cz, rx, ry, rz, c);
                double s = 0.9 + 0.2 * rnd.nextDouble();
                ellipsoid(p, nx, ny, nz, cx + rnd.nextGaussian() * 2, cy + rnd.nextGaussian() * 2, cz + rnd.nextGaussian(),
                        rx * s, ry * s, rz * s, c);
            }
            ellipsoid(p, nx, ny, nz, nx * rnd.nextDouble(), ny * rnd.nextDouble(), nz * rnd.nextDouble(), 4, 4, 2,
                    1 + rnd.nextInt(classes - 1));
            String name = String.format("case_%03d.nii.gz", i);
            write(dir.resolve("target").resolve(name), t, nx, ny, nz);
            write(dir.resolve("pred").resolve(name), p, nx, ny, nz);
        }
    }
}
