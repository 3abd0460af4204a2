package org.segloss.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.segloss.InvalidInputException;

class NpyTest {
    @TempDir
    Path dir;

    // ---- writing ------------------------------------------------------------------------------

    @Test
    void float32RoundTripKeepsShapeAndBits() throws IOException {
        Random rnd = new Random(3);
        float[] v = new float[2 * 3 * 5 * 7];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        v[0] = Float.MIN_VALUE;
        v[1] = -0.0f;
        long[] shape = {2, 3, 5, 7};
        Path f = dir.resolve("a.npy");
        Npy.writeFloat32(f, shape, v);
        NpyArray a = Npy.open(f);
        assertEquals(NpyDtype.FLOAT32, a.dtype());
        assertArrayEquals(shape, a.shape());
        assertEquals(v.length, a.size());
        float[] back = a.readFloats();
        for (int i = 0; i < v.length; i++) {
            assertEquals(Float.floatToRawIntBits(v[i]), Float.floatToRawIntBits(back[i]), "element " + i);
        }
    }

    @Test
    void writtenHeaderIsWhatNumpyWritesAlignedTo64Bytes() throws IOException {
        Path f = dir.resolve("h.npy");
        Npy.writeFloat32(f, new long[] {4}, new float[] {1, 2, 3, 4});
        byte[] bytes = Files.readAllBytes(f);
        assertEquals((byte) 0x93, bytes[0]);
        assertEquals("NUMPY", new String(bytes, 1, 5, StandardCharsets.US_ASCII));
        assertEquals(1, bytes[6]);
        int headerLength = ByteBuffer.wrap(bytes, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xFFFF;
        assertEquals(0, (10 + headerLength) % 64);
        String header = new String(bytes, 10, headerLength, StandardCharsets.ISO_8859_1);
        assertTrue(header.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }"), header);
        assertTrue(header.endsWith("\n"));
        assertEquals(10 + headerLength + 16, bytes.length);
        assertEquals(3f, ByteBuffer.wrap(bytes, 10 + headerLength + 8, 4).order(ByteOrder.LITTLE_ENDIAN).getFloat());
    }

    @Test
    void largeRoundTripCrossesTheChunkBoundary() throws IOException {
        float[] v = new float[(1 << 18) + 13];
        for (int i = 0; i < v.length; i++) {
            v[i] = i * 0.5f;
        }
        Path f = dir.resolve("big.npy");
        Npy.writeFloat32(f, new long[] {1, v.length}, v);
        assertArrayEquals(v, Npy.open(f).readFloats());
    }

    @Test
    void writerRefusesDataOfTheWrongLength() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Npy.writeFloat32(dir.resolve("x.npy"), new long[] {2, 2}, new float[3]));
        assertTrue(e.getMessage().contains("4 values"), e.getMessage());
    }

    // ---- reading every dtype --------------------------------------------------------------------

    @Test
    void readsFloat64AsFloats() throws IOException {
        Path f = NpyFixtures.write(dir.resolve("f8.npy"), "<f8", new long[] {2, 2}, NpyFixtures.f8(0.25, -1.5, 1e-3, 7));
        NpyArray a = Npy.open(f);
        assertEquals(NpyDtype.FLOAT64, a.dtype());
        assertArrayEquals(new float[] {0.25f, -1.5f, 1e-3f, 7f}, a.readFloats());
    }

    @Test
    void readsEveryIntegerDtypeAsIntsAndFloats() throws IOException {
        int[] expected = {0, 1, -1, 2, 127, -128};
        Object[][] cases = {
                {"|i1", NpyDtype.INT8, NpyFixtures.i1(expected)},
                {"<i2", NpyDtype.INT16, NpyFixtures.i2(expected)},
                {"<i4", NpyDtype.INT32, NpyFixtures.i4(expected)},
                {"<i8", NpyDtype.INT64, NpyFixtures.i8(Arrays.stream(expected).asLongStream().toArray())},
        };
        for (Object[] c : cases) {
            Path f = NpyFixtures.write(dir.resolve(c[1] + ".npy"), (String) c[0], new long[] {2, 3}, (byte[]) c[2]);
            NpyArray a = Npy.open(f);
            assertEquals(c[1], a.dtype());
            assertArrayEquals(new long[] {2, 3}, a.shape());
            assertArrayEquals(expected, a.readInts(), String.valueOf(c[1]));
            float[] asFloats = a.readFloats();
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], asFloats[i], 0.0, c[1] + " element " + i);
            }
        }
    }

    @Test
    void readsUint8UnsignedWithEitherByteOrderMark() throws IOException {
        for (String descr : new String[] {"|u1", "<u1"}) {
            Path f = NpyFixtures.write(dir.resolve("u1.npy"), descr, new long[] {4}, NpyFixtures.i1(0, 3, 200, 255));
            NpyArray a = Npy.open(f);
            assertEquals(NpyDtype.UINT8, a.dtype());
            assertArrayEquals(NpyFixtures.i1(0, 3, 200, 255), a.readUint8());
            assertArrayEquals(new int[] {0, 3, 200, 255}, a.readInts());
            assertArrayEquals(new float[] {0, 3, 200, 255}, a.readFloats());
        }
    }

    @Test
    void readsFormatVersions2And3() throws IOException {
        for (int major : new int[] {2, 3}) {
            Path f = NpyFixtures.write(dir.resolve("v" + major + ".npy"), major,
                    NpyFixtures.dict("<f4", false, 3), NpyFixtures.f4(1, 2, 3));
            assertArrayEquals(new float[] {1, 2, 3}, Npy.open(f).readFloats(), "version " + major);
        }
    }

    @Test
    void acceptsHeaderVariantsNumpyCanWrite() throws IOException {
        String[] dicts = {
                "{\"descr\": \"<f4\", \"shape\": (2,), \"fortran_order\": False}",
                "{'shape': (2L,), 'fortran_order': False, 'descr': '<f4'}",
                "{'descr':'<f4','fortran_order':False,'shape':(2,),}",
        };
        for (String d : dicts) {
            Path f = NpyFixtures.write(dir.resolve("var.npy"), 1, d, NpyFixtures.f4(5, 6));
            assertArrayEquals(new float[] {5, 6}, Npy.open(f).readFloats(), d);
        }
    }

    @Test
    void scalarAndEmptyShapes() throws IOException {
        Path scalar = NpyFixtures.write(dir.resolve("s.npy"), 1, NpyFixtures.dict("<f4", false), NpyFixtures.f4(9));
        NpyArray s = Npy.open(scalar);
        assertEquals(0, s.shape().length);
        assertArrayEquals(new float[] {9}, s.readFloats());
        Path empty = NpyFixtures.write(dir.resolve("e.npy"), "<f4", new long[] {0, 3}, new byte[0]);
        assertEquals(0, Npy.open(empty).readFloats().length);
    }

    // ---- class maps --------------------------------------------------------------------------------

    @Test
    void int64OutsideTheIntRangeIsRefusedWithValueAndIndex() throws IOException {
        Path f = NpyFixtures.write(dir.resolve("i8.npy"), "<i8", new long[] {3}, NpyFixtures.i8(1, 3_000_000_000L, 2));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Npy.open(f).readInts());
        assertTrue(e.getMessage().contains("3000000000") && e.getMessage().contains("index 1")
                && e.getMessage().contains("i8.npy"), e.getMessage());
    }

    @Test
    void floatClassMapsMustHoldWholeNumbers() throws IOException {
        Path good = NpyFixtures.write(dir.resolve("g.npy"), "<f4", new long[] {3}, NpyFixtures.f4(0, 2, 1));
        assertArrayEquals(new int[] {0, 2, 1}, Npy.open(good).readInts());
        Path bad = NpyFixtures.write(dir.resolve("b.npy"), "<f8", new long[] {3}, NpyFixtures.f8(0, 1.5, 1));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Npy.open(bad).readInts());
        assertTrue(e.getMessage().contains("1.5") && e.getMessage().contains("index 1"), e.getMessage());
        Path nan = NpyFixtures.write(dir.resolve("n.npy"), "<f4", new long[] {1}, NpyFixtures.f4(Float.NaN));
        assertThrows(InvalidInputException.class, () -> Npy.open(nan).readInts());
    }

    @Test
    void readUint8NeedsUint8() throws IOException {
        Path f = NpyFixtures.write(dir.resolve("i4.npy"), "<i4", new long[] {1}, NpyFixtures.i4(1));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Npy.open(f).readUint8());
        assertTrue(e.getMessage().contains("int32"), e.getMessage());
    }

    // ---- refused files ---------------------------------------------------------------------------

    private String refused(byte[] content) throws IOException {
        Path f = dir.resolve("bad.npy");
        Files.write(f, content);
        NpyFormatException e = assertThrows(NpyFormatException.class, () -> Npy.open(f).readFloats());
        assertTrue(e.getMessage().startsWith(f.toString() + ": "), "message names the file: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void refusesATruncatedDataSection() throws IOException {
        byte[] whole = NpyFixtures.file(1, NpyFixtures.dict("<f4", false, 2, 3), NpyFixtures.f4(1, 2, 3, 4, 5, 6));
        String m = refused(Arrays.copyOf(whole, whole.length - 5));
        assertTrue(m.contains("truncated") && m.contains("24"), m);
    }

    @Test
    void refusesAHeaderClaimingMoreDataThanTheFileHolds() throws IOException {
        String m = refused(NpyFixtures.file(1, NpyFixtures.dict("<f4", false, 1000, 1000), NpyFixtures.f4(1, 2)));
        assertTrue(m.contains("4000000") && m.contains("holds 8"), m);
    }

    @Test
    void refusesTrailingBytes() throws IOException {
        String m = refused(NpyFixtures.file(1, NpyFixtures.dict("<f4", false, 1), NpyFixtures.f4(1, 2)));
        assertTrue(m.contains("trailing"), m);
    }

    @Test
    void refusesATruncatedHeader() throws IOException {
        byte[] whole = NpyFixtures.file(1, NpyFixtures.dict("<f4", false, 2), NpyFixtures.f4(1, 2));
        String m = refused(Arrays.copyOf(whole, 30));
        assertTrue(m.contains("truncated"), m);
        assertTrue(refused(Arrays.copyOf(whole, 7)).contains("magic"));
    }

    @Test
    void refusesBigEndian() throws IOException {
        String m = refused(NpyFixtures.file(1, NpyFixtures.dict(">f4", false, 1), NpyFixtures.f4(1)));
        assertTrue(m.contains("big-endian") && m.contains(">f4"), m);
    }

    @Test
    void refusesFortranOrder() throws IOException {
        String m = refused(NpyFixtures.file(1, NpyFixtures.dict("<f4", true, 2, 2), NpyFixtures.f4(1, 2, 3, 4)));
        assertTrue(m.contains("fortran_order"), m);
    }

    @Test
    void refusesBadMagic() throws IOException {
        byte[] content = NpyFixtures.file(1, NpyFixtures.dict("<f4", false, 1), NpyFixtures.f4(1));
        content[1] = 'X';
        assertTrue(refused(content).contains("magic"));
        assertTrue(refused("just some text, not numpy".getBytes(StandardCharsets.US_ASCII)).contains("magic"));
        assertTrue(refused(new byte[0]).contains("magic"));
    }

    @Test
    void refusesUnsupportedDtypesNamingThem() throws IOException {
        for (String descr : new String[] {"<u2", "<f2", "<c8", "|b1", "<U3", "|f4", "<i1x"}) {
            String m = refused(NpyFixtures.file(1, NpyFixtures.dict(descr, false, 1), new byte[8]));
            assertTrue(m.contains(descr) && m.contains("not supported"), m);
        }
        String structured = refused(NpyFixtures.file(1,
                "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", new byte[4]));
        assertTrue(structured.contains("structured"), structured);
    }

    @Test
    void refusesUnknownVersionsAndMalformedHeaders() throws IOException {
        byte[] content = NpyFixtures.file(1, NpyFixtures.dict("<f4", false, 1), NpyFixtures.f4(1));
        content[6] = 9;
        assertTrue(refused(content).contains("version 9.0"));
        String[] broken = {
                "{'descr': '<f4', 'fortran_order': False}",
                "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}",
                "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,)}",
                "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} junk",
                "{'descr': '<f4', 'fortran_order': False, 'shape': (1, -2)}",
                "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",
                "['descr', '<f4']",
        };
        for (String d : broken) {
            String m = refused(NpyFixtures.file(1, d, NpyFixtures.f4(1)));
            assertTrue(m.contains("header") || m.contains("shape") || m.contains("fortran_order")
                    || m.contains("key"), d + " -> " + m);
        }
    }
}
