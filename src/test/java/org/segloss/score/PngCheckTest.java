package org.segloss.score;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.segloss.CommandRun;

/**
 * PNGs are checked before they are decoded: a declared size above {@code --max-pixels} (a
 * decompression bomb) and a chunk with a bad CRC make the file skipped, not counted. The PNGs here
 * are written byte by byte, so their sizes and CRCs are exactly what each case needs.
 */
class PngCheckTest {
    @TempDir
    Path dir;

    /** A chunk: length, type, data, CRC-32 of type and data ({@code crcXor} flips CRC bits). */
    static byte[] chunk(String type, byte[] data, int crcXor) {
        ByteBuffer b = ByteBuffer.allocate(12 + data.length);
        b.putInt(data.length);
        byte[] t = type.getBytes(StandardCharsets.ISO_8859_1);
        b.put(t).put(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        b.putInt((int) crc.getValue() ^ crcXor);
        return b.array();
    }

    /** An 8-bit grayscale PNG declaring {@code w x h} with {@code rows} as its (filter byte + pixels) data. */
    static byte[] gray8(long w, long h, byte[] rows, int ihdrCrcXor, int idatCrcXor) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
        ByteBuffer ihdr = ByteBuffer.allocate(13);
        ihdr.putInt((int) w).putInt((int) h).put((byte) 8).put((byte) 0).put((byte) 0).put((byte) 0).put((byte) 0);
        out.writeBytes(chunk("IHDR", ihdr.array(), ihdrCrcXor));
        Deflater d = new Deflater();
        d.setInput(rows);
        d.finish();
        byte[] z = new byte[rows.length + 64];
        int n = d.deflate(z);
        d.end();
        out.writeBytes(chunk("IDAT", java.util.Arrays.copyOf(z, n), idatCrcXor));
        out.writeBytes(chunk("IEND", new byte[0], 0));
        return out.toByteArray();
    }

    /** A 2 x 2 label map [[1, 2], [3, 0]]. */
    static byte[] small(int ihdrCrcXor, int idatCrcXor) {
        return gray8(2, 2, new byte[] {0, 1, 2, 0, 3, 0}, ihdrCrcXor, idatCrcXor);
    }

    /** A bomb: 46000 x 46000 declared in about 70 bytes (a few compressed rows of zeros). */
    static byte[] bomb() {
        return gray8(46000, 46000, new byte[46001], 0, 0);
    }

    @Test
    void aWellFormedPngDecodesToItsLabels() throws Exception {
        Path f = Files.write(dir.resolve("ok.png"), small(0, 0));
        Decoder.LabelMap m = Decoder.readTarget(f);
        assertArrayEquals(new long[] {2, 2}, m.dims);
        assertArrayEquals(new int[] {1, 2, 3, 0}, m.labels);
    }

    @Test
    void aBombIsRefusedFromItsHeaderWithTheDeclaredSizeAndTheLimit() throws Exception {
        byte[] b = bomb();
        assertTrue(b.length < 200, "a bomb is tiny: " + b.length + " bytes");
        Path f = Files.write(dir.resolve("bomb.png"), b);
        long used = usedHeap();
        String why = assertThrows(BadFileException.class, () -> Decoder.readTarget(f)).getMessage();
        assertTrue(why.contains("46000 x 46000") && why.contains(String.valueOf(1L << 28)) && why.contains("--max-pixels"), why);
        assertTrue(usedHeap() - used < 64L << 20, "nothing near the decoded size (2 GB) was allocated");
        String fromBytes = assertThrows(BadFileException.class, () -> Decoder.read("bomb.png", b)).getMessage();
        assertEquals(why, fromBytes);
    }

    @Test
    void theLimitIsTheCallersAndAnImageAtTheLimitIsRead() throws Exception {
        Path f = Files.write(dir.resolve("ok.png"), small(0, 0));
        assertEquals(4, Decoder.readTarget(f, 4).labels.length, "2 x 2 = 4 pixels at a limit of 4");
        String why = assertThrows(BadFileException.class, () -> Decoder.readTarget(f, 3)).getMessage();
        assertTrue(why.contains("2 x 2 = 4 pixels") && why.contains("limit of 3"), why);
    }

    @Test
    void aBadCrcInAnyChunkMakesTheFileCorrupt() throws Exception {
        for (int which = 0; which < 2; which++) {
            byte[] png = which == 0 ? small(1, 0) : small(0, 0x100);
            Path f = Files.write(dir.resolve("crc" + which + ".png"), png);
            String why = assertThrows(BadFileException.class, () -> Decoder.read(f)).getMessage();
            assertTrue(why.startsWith("corrupt PNG: chunk " + which + " (" + (which == 0 ? "IHDR" : "IDAT") + ") has CRC"), why);
        }
    }

    @Test
    void truncatedFilesAndAMissingIhdrAreCorrupt() throws Exception {
        byte[] ok = small(0, 0);
        Path cut = Files.write(dir.resolve("cut.png"), java.util.Arrays.copyOf(ok, ok.length - 12));
        assertTrue(assertThrows(BadFileException.class, () -> Decoder.read(cut)).getMessage().contains("truncated"));
        byte[] noHeader = new byte[8 + 12];
        System.arraycopy(ok, 0, noHeader, 0, 8);
        System.arraycopy(chunk("IEND", new byte[0], 0), 0, noHeader, 8, 12);
        Path f = Files.write(dir.resolve("noihdr.png"), noHeader);
        assertTrue(assertThrows(BadFileException.class, () -> Decoder.read(f)).getMessage().contains("13-byte IHDR"));
    }

    @Test
    void scoreSkipsBombsAndBadCrcsAndCountsTheRest() throws Exception {
        Path preds = Files.createDirectories(dir.resolve("pred"));
        Path targets = Files.createDirectories(dir.resolve("target"));
        for (int i = 0; i < 8; i++) {
            Files.write(preds.resolve("bomb" + i + ".png"), bomb());
            Files.write(targets.resolve("bomb" + i + ".png"), small(0, 0));
        }
        Files.write(preds.resolve("crc.png"), small(0, 0));
        Files.write(targets.resolve("crc.png"), small(0, 7));
        Files.write(preds.resolve("good.png"), small(0, 0));
        Files.write(targets.resolve("good.png"), small(0, 0));
        CommandRun r = CommandRunner.score("--pred", preds.toString(), "--target", targets.toString(), "--format", "json",
                "--classes", "4", "--threads", "2");
        assertEquals(CommandSupport.EXIT_SKIPPED, r.code, r.toString());
        JsonNode o = r.json();
        assertEquals(1, o.get("images").asInt(), "only the good pair is counted: " + r.out);
        assertEquals(9, o.get("skipped").size(), r.out);
        for (JsonNode s : o.get("skipped")) {
            String reason = s.get("reason").asText();
            assertTrue(s.get("file").asText().contains("crc") ? reason.contains("has CRC") : reason.contains("46000 x 46000"),
                    s.toString());
        }
        CommandRun small = CommandRunner.score("--pred", preds.toString(), "--target", targets.toString(), "--format", "json",
                "--classes", "4", "--max-pixels", "3");
        assertEquals(0, small.json().get("images").asInt(), "a limit of 3 pixels skips the 2 x 2 pair too: " + small.out);
        CommandRunner.score("--pred", preds.toString(), "--target", targets.toString(), "--max-pixels", "0")
                .assertUsageError("--max-pixels", "0");
    }

    private static long usedHeap() {
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }
}
