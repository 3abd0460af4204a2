package org.segloss.djl;

import org.segloss.ConfusionCounts;
import org.segloss.LossSpec;

/**
 * Hard Dice per class, {@code 2 TP / (2 TP + FP + FN)}, and its mean over the classes where it is defined, on
 * 64-bit counts accumulated across batches. The spec gives the mode, from_logits, layout and ignore index.
 */
public final class DiceEvaluator extends CountingEvaluator {
    /** Named {@code "dice"}, threshold 0.5. */
    public DiceEvaluator(LossSpec spec) {
        this("dice", spec, 0.5);
    }

    public DiceEvaluator(String name, LossSpec spec, double threshold) {
        super(name, spec, threshold);
    }

    @Override
    double mean(ConfusionCounts counts) {
        return counts.meanDice();
    }

    @Override
    double ofClass(ConfusionCounts counts, int c) {
        return counts.dice(c);
    }
}
