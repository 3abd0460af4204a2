package org.segloss.score;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.segloss.CommandRun;
import org.segloss.io.NpyFixtures;

/** score checks a pair's two headers against each other before reading either file's data. */
class PairHeaderTest {
    @TempDir
    Path dir;

    @Test
    void aWrongShapedTargetNextToAHugePredIsSkippedFromTheHeaders() throws Exception {
        Path preds = Files.createDirectories(dir.resolve("p"));
        Path targets = Files.createDirectories(dir.resolve("t"));
        // 4 GiB of float32 scores on paper (a sparse file) and a 2 x 2 target
        Path pred = NpyFixtures.write(preds.resolve("a.npy"), "<f4", new long[] {4, 16384, 16384}, new byte[0]);
        long header = Files.size(pred);
        try (RandomAccessFile raf = new RandomAccessFile(pred.toFile(), "rw")) {
            raf.setLength(header + 4L * 4 * 16384 * 16384);
        }
        Files.write(targets.resolve("a.png"), PngCheckTest.small(0, 0));
        long t0 = System.nanoTime();
        CommandRun r = CommandRunner.score("--pred", preds.toString(), "--target", targets.toString(), "--format", "json");
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10), "decided from the headers");
        assertEquals(CommandSupport.EXIT_SKIPPED, r.code, r.toString());
        JsonNode skipped = r.json().get("skipped").get(0);
        assertTrue(skipped.get("reason").asText().startsWith("size mismatch: prediction [4, 16384, 16384] does not fit target [2, 2]"),
                skipped.toString());
    }
}
