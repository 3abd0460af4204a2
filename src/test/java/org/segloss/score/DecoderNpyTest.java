package org.segloss.score;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** score's .npy reading (io.Npy with Accept.LENIENT) as the decoder sees it. */
class DecoderNpyTest {
    @TempDir
    Path dir;

    @Test
    void readsEveryIntegerWidthAndBothByteOrders() throws Exception {
        int[] values = {0, 1, 2, 127, 5, 3};
        for (String d : new String[] {"|u1", "|i1", "<i2", ">i2", "<u2", "<i4", ">i4", "<u4", "<i8", ">i8"}) {
            Path f = dir.resolve("a" + d.replace('<', 'l').replace('>', 'b').replace('|', 'n') + ".npy");
            Fixtures.npy(f, d, new long[] {2, 3}, Fixtures.boxed(values));
            Decoder.LabelMap a = Decoder.readTarget(f);
            assertArrayEquals(new long[] {2, 3}, a.dims, d);
            assertArrayEquals(values, a.labels, d);
        }
    }

    @Test
    void readsFloatsAndThreeDimensionalShapes() throws Exception {
        float[] v = {0.5f, -1.25f, 3f, 1e-8f};
        for (String d : new String[] {"<f4", ">f4", "<f8", ">f8"}) {
            Path f = dir.resolve("f" + d.substring(0, 1).replace('<', 'l').replace('>', 'b') + d.substring(2) + ".npy");
            Fixtures.npy(f, d, new long[] {1, 2, 2}, Fixtures.boxed(v));
            Decoder.Scores a = (Decoder.Scores) Decoder.read(f);
            assertArrayEquals(new long[] {1, 2, 2}, a.shape);
            assertArrayEquals(v, a.values, d);
        }
    }

    @Test
    void readsVersion2Headers() throws Exception {
        String dict = "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }";
        String header = dict + " ".repeat(64 - (12 + dict.length() + 1) % 64) + "\n";
        ByteBuffer b = ByteBuffer.allocate(12 + header.length() + 12).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0}).putInt(header.length());
        b.put(header.getBytes(StandardCharsets.ISO_8859_1)).putInt(7).putInt(8).putInt(9);
        Path f = dir.resolve("v2.npy");
        Files.write(f, b.array());
        assertArrayEquals(new int[] {7, 8, 9}, Decoder.readTarget(f).labels);
        assertArrayEquals(new int[] {7, 8, 9}, Decoder.readTarget("v2.npy", Files.readAllBytes(f)).labels);
    }

    @Test
    void refusesWhatItCannotRead() throws Exception {
        Path f = dir.resolve("x.npy");
        Files.write(f, "not numpy at all".getBytes(StandardCharsets.US_ASCII));
        String magic = assertThrows(BadFileException.class, () -> Decoder.read(f)).getMessage();
        assertTrue(magic.contains("magic"), magic);
        assertFalse(magic.contains(dir.toString()), "the skip reason is the problem only: " + magic);
        Fixtures.npy(f, "<c8", new long[] {1}, new Number[] {1L});
        assertTrue(assertThrows(BadFileException.class, () -> Decoder.read(f)).getMessage().contains("<c8"));
        Fixtures.npy(f, "<i4", new long[] {4}, Fixtures.boxed(new int[] {1, 2, 3, 4}));
        Files.writeString(f, Files.readString(f, StandardCharsets.ISO_8859_1).replace("False", "True "), StandardCharsets.ISO_8859_1);
        assertTrue(assertThrows(BadFileException.class, () -> Decoder.read(f)).getMessage().contains("fortran_order True"));
        Fixtures.npy(f, "<u4", new long[] {1}, new Number[] {-1});
        assertTrue(assertThrows(BadFileException.class, () -> Decoder.read(f)).getMessage().contains("4294967295"));
        Fixtures.npy(f, "<i4", new long[] {4}, Fixtures.boxed(new int[] {1, 2, 3, 4}));
        byte[] all = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(all, all.length - 1));
        assertTrue(assertThrows(BadFileException.class, () -> Decoder.read(f)).getMessage().endsWith("(truncated file)"));
    }
}
