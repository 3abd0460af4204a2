package org.segloss.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.segloss.Loss;
import org.segloss.Mode;
import org.segloss.backend.cpu.CpuBackend;

/**
 * The table of {@code ci/cpu-table.sh} compares figures timed next to each other: the ratio to the floor is the
 * median of each round's own ratio (not the ratio of medians taken at different moments), "/ before" pairs the
 * requests of the two builds. Expected cells are worked out by hand from the rounds below.
 */
class CpuFloorTableTest {
    /** A RUN line: row, label, request, round, then fwd, fb, read(pred), read(target), compute (wall, then CPU). */
    private static String run(String row, String label, int request, int round, double... v) {
        StringBuilder s = new StringBuilder("RUN\t" + row + "\t" + label + "\t" + request + "\t" + round);
        for (int pass = 0; pass < 2; pass++) {
            for (int i = 0; i < 5; i++) {
                s.append('\t').append(i < v.length ? v[i] : 0);
            }
        }
        return s.toString();
    }

    @Test
    void ratiosAreMediansOfPairedRoundsAndRequests(@TempDir Path dir) throws Exception {
        Path now = dir.resolve("now-1.tsv");
        Path before = dir.resolve("before-1.tsv");
        Files.write(now, List.of(
                // bce: the second round ran under 3x the load (loss and floors alike)
                run("bce", "now-1", 0, 0, 10, 20, 2, 1, 5),
                run("bce", "now-1", 0, 1, 30, 60, 6, 3, 15),
                run("bce", "now-1", 0, 2, 12, 22, 2, 1, 8),
                // dice: faster than its compute floor in every round
                run("dice", "now-1", 0, 0, 4, 9, 1, 1, 5),
                run("dice", "now-1", 0, 1, 4, 9, 1, 1, 5),
                run("dice", "now-1", 0, 2, 4, 9, 1, 1, 5)), StandardCharsets.UTF_8);
        Files.write(before, List.of(
                run("bce", "before-1", 0, 0, 20, 30),
                run("bce", "before-1", 0, 1, 24, 40),
                run("bce", "before-1", 0, 2, 60, 50)), StandardCharsets.UTF_8);
        String out = table(now.toString(), "--before", before.toString());
        String bce = line(out, "| bce | binary |");
        // medians: read floors 3 / 8 ms, compute 8, forward 12, fwd+bwd 22
        // fwd / floor: rounds 10/max(3,5) = 2, 30/max(9,15) = 2, 12/max(3,8) = 1.5 -> 2.00 (the medians' ratio is 1.5)
        // fwd+bwd / floor: 20/max(8,5) = 2.5, 60/max(24,15) = 2.5, 22/max(8,8) = 2.75 -> 2.50
        // / before: now's request medians 12 and 22 over before's 24 and 40 -> 0.50 and 0.55
        assertEquals("| bce | binary | nchw | float | float[] | 8x4x512x512 | 1 | 3.00 / 8.00 | 8.00 | 12.00 | 2.00x | 0.50x"
                + " | 22.00 | 2.50x | 0.55x |", bce);
        assertTrue(out.contains("dice forward (1 threads): 0.80x its compute floor"), out);
        assertTrue(!out.contains("bce forward (1 threads)"), out);
    }

    @Test
    void theFamiliesOfTheComputeFloorFollowTheLossTerms() {
        // the spec's unavoidable work from logits: softmax for multiclass, exp + log1p with a bce/focal pixel term,
        // a sigmoid for region losses alone, nothing for the binary Lovasz hinge
        for (Loss loss : Arrays.asList(Loss.BCE, Loss.FOCAL, Loss.BCE_LOGDICE, Loss.DICE_CE, Loss.DICE_FOCAL)) {
            assertEquals(CpuBackend.Work.BCE, CpuBackend.Work.of(loss, Mode.BINARY), loss.id());
            assertEquals(CpuBackend.Work.BCE, CpuBackend.Work.of(loss, Mode.MULTILABEL), loss.id());
        }
        for (Loss loss : Arrays.asList(Loss.DICE, Loss.IOU, Loss.TVERSKY, Loss.MCC, Loss.GENERALIZED_DICE)) {
            assertEquals(CpuBackend.Work.SIGMOID, CpuBackend.Work.of(loss, Mode.BINARY), loss.id());
        }
        for (Loss loss : Loss.values()) {
            assertEquals(CpuBackend.Work.SOFTMAX, CpuBackend.Work.of(loss, Mode.MULTICLASS), loss.id());
        }
        assertEquals(null, CpuBackend.Work.of(Loss.LOVASZ, Mode.BINARY));
        assertEquals(CpuBackend.Work.SIGMOID, CpuFloorTable.work(CpuFloorTable.row("dice")));
        assertEquals(CpuBackend.Work.BCE, CpuFloorTable.work(CpuFloorTable.row("bce_logdice")));
        assertEquals(CpuBackend.Work.SOFTMAX, CpuFloorTable.work(CpuFloorTable.row("ce-19-nhwc-int32")));
    }

    private static String table(String... args) throws Exception {
        PrintStream old = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            String[] all = new String[args.length + 1];
            all[0] = "table";
            System.arraycopy(args, 0, all, 1, args.length);
            CpuFloorTable.main(all);
        } finally {
            System.setOut(old);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static String line(String out, String start) {
        return Arrays.stream(out.split("\n")).filter(l -> l.startsWith(start)).findFirst().orElse("missing: " + out);
    }
}
