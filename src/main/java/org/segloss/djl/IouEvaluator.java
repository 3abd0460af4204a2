package org.segloss.djl;

import org.segloss.ConfusionCounts;
import org.segloss.LossSpec;

/**
 * Hard IoU (Jaccard) per class, {@code TP / (TP + FP + FN)}, and its mean over the classes where it is
 * defined, on 64-bit counts accumulated across batches. The spec gives the mode, from_logits, layout and
 * ignore index.
 */
public final class IouEvaluator extends CountingEvaluator {
    /** Named {@code "iou"}, threshold 0.5. */
    public IouEvaluator(LossSpec spec) {
        this("iou", spec, 0.5);
    }

    public IouEvaluator(String name, LossSpec spec, double threshold) {
        super(name, spec, threshold);
    }

    @Override
    double mean(ConfusionCounts counts) {
        return counts.meanIou();
    }

    @Override
    double ofClass(ConfusionCounts counts, int c) {
        return counts.iou(c);
    }
}
