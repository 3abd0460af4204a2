package org.segloss.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import org.segloss.Loss;

/**
 * A small 2-D segmentation net (three convolutions) trained with a segloss loss in DJL's EasyTrain.fit on the
 * demo's synthetic shapes reaches a validation mean Dice of at least 0.9, as DiceEvaluator reports it to DJL.
 */
class DjlTrainingTest {
    /** MONAI's DiceCELoss: ce + (1 - mean Dice). */
    static final Loss LOSS = Loss.DICE_CE;

    @Test
    void aSmallSegmentationNetTrainedAFewHundredStepsReachesValidationMeanDiceOf0point9() {
        StringWriter log = new StringWriter();
        DjlDemo.Outcome o = DjlDemo.train(LOSS, 200, 32, 0.01, 7, new PrintWriter(log, true));
        assertEquals(200, o.steps());
        assertTrue(o.validationDice() >= 0.9f, LOSS + ": validation mean Dice " + o.validationDice() + "\n" + log);
        // the per-class table's counts (one more pass over the validation set) give the same mean
        assertEquals(o.validationDice(), (float) o.meanDice(), 1e-6f, "final pass vs the last epoch's validation");
        assertTrue(o.counts().tp(1) > 0 && o.counts().tp(2) > 0, "both shapes are found: " + o.counts());
        assertTrue(log.toString().contains("epoch  25/25"), log.toString());
    }

    @Test
    void theCommandLineDemoWithDjlTrainsAndPrintsThePerClassTable() {
        java.io.PrintWriter none = new java.io.PrintWriter(java.io.Writer.nullWriter());
        org.segloss.CommandRun r = org.segloss.CommandRun.run(org.segloss.cli.Main.commandLine(none, none),
                "demo", "--djl", "--steps", "8", "--size", "16");
        assertEquals(0, r.code, r.err);
        for (String row : new String[] {"epoch   1/1", "background", "disk", "square", "mean", "validation mean Dice"}) {
            assertTrue(r.out.contains(row), "demo output has " + row + ":\n" + r.out);
        }
    }
}
