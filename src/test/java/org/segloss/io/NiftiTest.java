package org.segloss.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The NIfTI reader: every accepted variant read back exactly, every refused one with its reason. */
class NiftiTest {
    /** (x + 3y + 7z) % 5 over x < 5, y < 4, z < 3, slowest first (z, y, x) as the reader returns it. */
    static final int[] LABELS = new int[60];

    static {
        for (int z = 0; z < 3; z++) {
            for (int y = 0; y < 4; y++) {
                for (int x = 0; x < 5; x++) {
                    LABELS[(z * 4 + y) * 5 + x] = (x + 3 * y + 7 * z) % 5;
                }
            }
        }
    }

    static Stream<Arguments> nibabelFiles() {
        return Stream.of("nibabel_int16.nii.gz", "nibabel2_float32.nii", "nibabel_uint8.nii", "nibabel_int32_be.nii.gz")
                .map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("nibabelFiles")
    void filesWrittenByNibabelReadBackWithTheirLabelsAndSpacing(String name) throws IOException {
        byte[] bytes;
        try (InputStream in = NiftiTest.class.getResourceAsStream("/nifti/" + name)) {
            bytes = in.readAllBytes();
        }
        Nifti.Volume v = Nifti.read(name, bytes);
        assertArrayEquals(new long[] {3, 4, 5}, v.dims);
        assertArrayEquals(new double[] {0.8, 0.9, 2.5}, v.spacing, 1e-6);
        assertArrayEquals(LABELS, v.labels);
    }

    /** A case: a datatype and how its values are written; labels chosen to use the type's range. */
    static Stream<Arguments> datatypes() {
        List<Arguments> c = new ArrayList<>();
        int[] small = {0, 1, 2, 3, 4, 200, 17, 255, 9, 5, 6, 7};
        int[] signed = {0, -1, 2, -300, 4, 32000, -32000, 255, 9, 5, 6, 7};
        int[] wide = {0, 1, 70000, 3, 2_000_000_000, 5, -7, 255, 9, 5, 6, -2_000_000_000};
        c.add(Arguments.of("uint8", 2, 8, small, ByteOrder.LITTLE_ENDIAN, 1));
        c.add(Arguments.of("int8", 256, 8, new int[] {0, -1, 2, -128, 4, 127, 17, 5, 9, 5, 6, 7}, ByteOrder.LITTLE_ENDIAN, 1));
        c.add(Arguments.of("int16 little-endian", 4, 16, signed, ByteOrder.LITTLE_ENDIAN, 1));
        c.add(Arguments.of("int16 big-endian", 4, 16, signed, ByteOrder.BIG_ENDIAN, 1));
        c.add(Arguments.of("uint16 big-endian", 512, 16, new int[] {0, 65535, 2, 40000, 4, 5, 6, 7, 8, 9, 10, 11}, ByteOrder.BIG_ENDIAN, 1));
        c.add(Arguments.of("int32", 8, 32, wide, ByteOrder.LITTLE_ENDIAN, 1));
        c.add(Arguments.of("int64 big-endian NIfTI-2", 1024, 64, wide, ByteOrder.BIG_ENDIAN, 2));
        c.add(Arguments.of("float32 holding integers", 16, 32, wide.clone(), ByteOrder.LITTLE_ENDIAN, 1));
        c.add(Arguments.of("float64 holding integers, NIfTI-2", 64, 64, wide, ByteOrder.LITTLE_ENDIAN, 2));
        c.add(Arguments.of("uint32", 768, 32, small, ByteOrder.LITTLE_ENDIAN, 1));
        return c.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("datatypes")
    void everyLabelDatatypeReadsBackExactlyPlainAndGzipped(String name, int datatype, int bitpix, int[] labels, ByteOrder order,
                                                           int version, @TempDir Path dir) throws IOException {
        int[] want = labels.clone();
        if (datatype == 16) {
            want[4] = 2_000_000_000; // exactly representable in float32 (a multiple of 128)
        }
        NiftiFixtures.Spec s = new NiftiFixtures.Spec(3, 2, 2).type(datatype, bitpix);
        s.order = order;
        s.version = version;
        s.pixdim = new double[] {1, 0.5, 0.75, 3, 1, 1, 1, 1};
        for (String ext : new String[] {".nii", ".nii.gz"}) {
            Path f = NiftiFixtures.write(dir.resolve("v" + ext), s, NiftiFixtures.of(want));
            Nifti.Volume v = Nifti.read(f);
            assertArrayEquals(new long[] {2, 2, 3}, v.dims, name);
            assertArrayEquals(new double[] {0.5, 0.75, 3}, v.spacing, 1e-9, name);
            assertArrayEquals(want, v.labels, name + ext);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("datatypes")
    void aVolumeOfSeveralDataChunksReadsBackExactlyAndReportsAFaultInALaterChunkAtItsVoxel(String name, int datatype, int bitpix,
            int[] values, ByteOrder order, int version, @TempDir Path dir) throws IOException {
        // 2.5 chunks of the reader's stream: x = 101, y = 81, z = 5 (40,905 voxels), labels cycling through the case's values
        int nx = 101;
        int ny = 81;
        int nz = 5;
        int n = nx * ny * nz;
        assertTrue(n > 4 * Nifti.CHUNK_VOXELS, "the volume spans several chunks");
        int[] want = new int[n];
        for (int i = 0; i < n; i++) {
            want[i] = values[(int) ((i * 7L + i / 13) % values.length)];
        }
        NiftiFixtures.Spec s = new NiftiFixtures.Spec(nx, ny, nz).type(datatype, bitpix);
        s.order = order;
        s.version = version;
        for (String ext : new String[] {".nii", ".nii.gz"}) {
            Path f = NiftiFixtures.write(dir.resolve("v" + ext), s, NiftiFixtures.of(want));
            assertArrayEquals(want, Nifti.read(f).labels, name + ext);
            // into a caller's array of the voxel count: that array, overwritten; of another length: a new one
            int[] reuse = new int[n];
            Arrays.fill(reuse, -5);
            Nifti.Volume v = Nifti.read(f, reuse);
            assertTrue(v.labels == reuse, "the caller's array is used");
            assertArrayEquals(want, reuse, name + ext);
            int[] other = new int[n - 1];
            Nifti.Volume w = Nifti.read(f, other);
            assertTrue(w.labels != other, "an array of another length is not used");
            assertArrayEquals(want, w.labels, name + ext);
        }
        if (datatype == 16 || datatype == 64) {
            // a fraction in the third chunk: its own voxel, not the chunk's
            double[] frac = NiftiFixtures.of(want);
            int at = 2 * Nifti.CHUNK_VOXELS + 1234;
            frac[at] = 2.5;
            String where = "(x=" + at % nx + ", y=" + at / nx % ny + ", z=" + at / (nx * ny) + ")";
            refused(NiftiFixtures.write(dir.resolve("frac.nii.gz"), s, frac), "non-integral label 2.5 at " + where);
        }
        // a stream that ends inside the third chunk
        NiftiFixtures.Spec cut = new NiftiFixtures.Spec(nx, ny, nz).type(datatype, bitpix);
        cut.order = order;
        cut.version = version;
        cut.truncate = (n - 2 * Nifti.CHUNK_VOXELS - 100) * (bitpix / 8);
        long held = (long) (2 * Nifti.CHUNK_VOXELS + 100) * (bitpix / 8);
        refused(NiftiFixtures.write(dir.resolve("cut.nii.gz"), cut, NiftiFixtures.of(want)), "truncated",
                "declare " + (long) n * (bitpix / 8) + " data bytes", "holds " + held);
    }

    @Test
    void twoDimensionalImagesAndTrailingUnitDimsAreAccepted(@TempDir Path dir) throws IOException {
        int[] labels = {0, 1, 2, 3, 4, 5};
        Nifti.Volume v = Nifti.read(NiftiFixtures.write(dir.resolve("a.nii"), new NiftiFixtures.Spec(3, 2), NiftiFixtures.of(labels)));
        assertArrayEquals(new long[] {2, 3}, v.dims);
        assertArrayEquals(labels, v.labels);
        Nifti.Volume w = Nifti.read(NiftiFixtures.write(dir.resolve("b.nii"), new NiftiFixtures.Spec(3, 2, 1, 1), NiftiFixtures.of(labels)));
        assertArrayEquals(new long[] {1, 2, 3}, w.dims);
    }

    @Test
    void sclSlopeAndInterAreAppliedAndMustGiveIntegers(@TempDir Path dir) throws IOException {
        NiftiFixtures.Spec s = new NiftiFixtures.Spec(4);
        s.slope = 2;
        s.inter = 1;
        assertArrayEquals(new int[] {1, 3, 5, 7}, Nifti.read(NiftiFixtures.write(dir.resolve("s.nii"), s, new double[] {0, 1, 2, 3})).labels);
        s.slope = 0.5;
        s.inter = 0;
        Path f = NiftiFixtures.write(dir.resolve("h.nii"), s, new double[] {0, 1, 2, 3});
        refused(f, "non-integral label 0.5 at (x=1)", "scl_slope 0.5");
    }

    static void refused(Path f, String... fragments) {
        NiftiFormatException e = assertThrows(NiftiFormatException.class, () -> Nifti.read(f));
        for (String fr : fragments) {
            assertTrue(e.getMessage().contains(fr), "'" + fr + "' in: " + e.getMessage());
        }
    }

    @Test
    void aVolumeThatFitsAJavaArrayButNotTheHeapIsRefusedFromItsHeaderAsNpyAndPngAre(@TempDir Path dir) throws IOException {
        // 1290^3 uint8 voxels: 2,146,689,000 (under 2^31 - 8), needing the int labels (the bytes stream through a
        // small chunk): 4 * 2,146,689,000 bytes = 8.0 GiB
        long voxels = 1290L * 1290 * 1290;
        long need = 4 * voxels;
        assumeTrue(Runtime.getRuntime().maxMemory() < need, "this JVM's -Xmx holds " + need + " bytes");
        NiftiFixtures.Spec big = new NiftiFixtures.Spec(1290, 1290, 1290);
        Path f = dir.resolve("big.nii.gz");
        // the header alone: reading the data would fail as truncated after allocating it
        Files.write(f, NiftiFixtures.bytes(big, new double[0], true));
        refused(f, "too large: NIfTI volume of dims [1290, 1290, 1290] (uint8) needs 8.00 GiB of Java heap",
                "; raise -Xmx with SEGLOSS_JAVA_OPTS");
    }

    @Test
    void refusedFilesSayWhy(@TempDir Path dir) throws IOException {
        double[] v12 = new double[12];
        NiftiFixtures.Spec ok = new NiftiFixtures.Spec(3, 2, 2);
        // a truncated gzip stream
        byte[] gz = NiftiFixtures.bytes(ok, v12, true);
        Path tg = dir.resolve("trunc.nii.gz");
        Files.write(tg, Arrays.copyOf(gz, gz.length - 12));
        refused(tg, "truncated");
        // header dims that disagree with the data length, shorter and longer, plain and gzipped
        NiftiFixtures.Spec shortData = new NiftiFixtures.Spec(3, 2, 2);
        shortData.truncate = 5;
        refused(NiftiFixtures.write(dir.resolve("short.nii"), shortData, v12), "declare 12 data bytes", "holds 7");
        refused(NiftiFixtures.write(dir.resolve("short.nii.gz"), shortData, v12), "truncated", "declare 12 data bytes", "holds 7");
        NiftiFixtures.Spec longData = new NiftiFixtures.Spec(3, 2, 2);
        longData.truncate = -3;
        refused(NiftiFixtures.write(dir.resolve("long.nii"), longData, v12), "declare 12 data bytes", "holds 15");
        refused(NiftiFixtures.write(dir.resolve("long.nii.gz"), longData, v12), "gzip stream holds more");
        // non-integral float labels
        NiftiFixtures.Spec f32 = new NiftiFixtures.Spec(3, 2, 2).type(16, 32);
        double[] frac = new double[12];
        frac[7] = 1.5;
        refused(NiftiFixtures.write(dir.resolve("frac.nii"), f32, frac), "non-integral label 1.5 at (x=1, y=0, z=1)");
        // 10^12 voxels: refused from the header alone (the file holds no data at all)
        NiftiFixtures.Spec huge = new NiftiFixtures.Spec(1);
        huge.version = 2;
        huge.dim = new long[] {3, 10_000, 10_000, 10_000, 1, 1, 1, 1};
        Path h = dir.resolve("huge.nii.gz");
        Files.write(h, NiftiFixtures.bytes(huge, new double[0], true));
        refused(h, "too large", "declare 1000000000000 voxels", "do not fit in a Java array");
        // unsupported things are skipped with the reason
        NiftiFixtures.Spec pair = new NiftiFixtures.Spec(3, 2, 2);
        pair.magic = "ni1";
        refused(NiftiFixtures.write(dir.resolve("pair.nii"), pair, v12), "header/image pair", "not supported");
        NiftiFixtures.Spec series = new NiftiFixtures.Spec(3, 2, 2, 4);
        refused(NiftiFixtures.write(dir.resolve("t.nii"), series, new double[48]), "up to 3 dimensions", "dim[4] is 4");
        NiftiFixtures.Spec rgb = new NiftiFixtures.Spec(3, 2, 2).type(128, 24);
        refused(NiftiFixtures.write(dir.resolve("rgb.nii"), rgb, new double[0]), "datatype 128 (rgb24) is not supported");
        NiftiFixtures.Spec badBits = new NiftiFixtures.Spec(3, 2, 2).type(4, 8);
        refused(NiftiFixtures.write(dir.resolve("bits.nii"), badBits, v12), "bitpix 8 does not match datatype int16");
        Path notNifti = dir.resolve("x.nii");
        Files.writeString(notNifti, "hello, I am not a NIfTI file at all, but long enough to have a header? no.");
        refused(notNifti, "not NIfTI: sizeof_hdr");
        Path notGzip = dir.resolve("y.nii.gz");
        Files.writeString(notGzip, "plain text");
        refused(notGzip, "gzip");
        NiftiFixtures.Spec int64 = new NiftiFixtures.Spec(2).type(1024, 64);
        refused(NiftiFixtures.write(dir.resolve("big.nii"), int64, new double[] {1, 1L << 40}), "does not fit a 32-bit class index");
    }

    @Test
    void namesAreRecognisedByExtension() {
        assertTrue(Nifti.isNifti("case_01.nii.gz") && Nifti.isNifti("A.NII") && !Nifti.isNifti("a.nii.zip") && !Nifti.isNifti("a.npy"));
        assertEquals(true, Nifti.isNifti("x.Nii.Gz"));
    }
}
